#include "terminal.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace wssac_speaker
{

namespace
{

/* One terminal per process: the signal handlers reach it through these
 * (plain data, async-signal-safe to read). */
int g_fd = -1;
struct termios g_saved;
struct termios g_raw;
volatile sig_atomic_t g_raw_on = 0;
bool g_atexit_registered = false;

const int kFatalSignals[] = { SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };

void
set_handler (int signum, void (*handler) (int), int flags = 0)
{
  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset (&sa.sa_mask);
  sa.sa_flags = flags;
  sigaction (signum, &sa, nullptr);
}

void
restore_now ()
{
  if (g_raw_on && g_fd >= 0)
    {
      tcsetattr (g_fd, TCSAFLUSH, &g_saved);
      g_raw_on = 0;
    }
}

} // namespace

void
RawTerminal::apply_raw ()
{
  if (g_fd >= 0 && tcsetattr (g_fd, TCSAFLUSH, &g_raw) == 0)
    g_raw_on = 1;
}

void
RawTerminal::on_fatal_signal (int signum)
{
  restore_now ();
  set_handler (signum, SIG_DFL);
  raise (signum);
}

void
RawTerminal::on_stop_signal (int)
{
  /* Ctrl-Z: the shell gets its terminal back as it was. */
  const int saved_errno = errno;
  const bool was_raw = g_raw_on;
  restore_now ();
  if (was_raw)
    g_raw_on = 2; /* to set again on SIGCONT */
  set_handler (SIGTSTP, SIG_DFL);
  /* Blocked while its handler runs: let it through, so that the process
   * stops here and not again once the handler is back. */
  sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, SIGTSTP);
  sigprocmask (SIG_UNBLOCK, &set, nullptr);
  raise (SIGTSTP);
  /* continued */
  set_handler (SIGTSTP, on_stop_signal, SA_RESTART);
  errno = saved_errno;
}

void
RawTerminal::on_continue_signal (int)
{
  const int saved_errno = errno;
  if (g_raw_on == 2)
    apply_raw ();
  errno = saved_errno;
}

void
RawTerminal::restore_at_exit ()
{
  restore_now ();
}

RawTerminal::RawTerminal (int fd)
{
  if (g_fd >= 0 || !isatty (fd) || tcgetattr (fd, &g_saved) != 0)
    return;
  g_fd = fd;
  g_raw = g_saved;
  g_raw.c_lflag &= ~static_cast<tcflag_t> (ICANON | ECHO);
  g_raw.c_cc[VMIN] = 1;
  g_raw.c_cc[VTIME] = 0;
  if (!g_atexit_registered)
    {
      atexit (restore_at_exit);
      g_atexit_registered = true;
    }
  for (int s : kFatalSignals)
    set_handler (s, on_fatal_signal, SA_RESETHAND);
  set_handler (SIGTSTP, on_stop_signal, SA_RESTART);
  set_handler (SIGCONT, on_continue_signal, SA_RESTART);
  apply_raw ();
  active_ = g_raw_on != 0;
}

void
RawTerminal::restore ()
{
  if (!active_)
    return;
  restore_now ();
  g_raw_on = 0;
  active_ = false;
}

RawTerminal::~RawTerminal ()
{
  if (g_fd < 0)
    return;
  restore ();
  for (int s : kFatalSignals)
    set_handler (s, SIG_DFL);
  set_handler (SIGTSTP, SIG_DFL);
  set_handler (SIGCONT, SIG_DFL);
  g_fd = -1;
}

} // namespace wssac_speaker
