#include "console.h"

#include "friendly-error.h"

#include <cstdio>
#include <sys/ioctl.h>
#include <unistd.h>

namespace wssac_speaker
{

Console::Console (bool stdout_is_tty, std::string secret)
    : tty_ (stdout_is_tty), secret_ (std::move (secret))
{
}

int
Console::width () const
{
  struct winsize ws;
  if (tty_ && ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
    return ws.ws_col;
  return 80;
}

void
Console::end_status_line (const char *ending)
{
  if (tty_ && status_drawn_)
    {
      fputs (ending, stdout);
      fflush (stdout);
    }
  status_drawn_ = false;
}

void
Console::clear_status ()
{
  end_status_line ("\r\033[K");
}

void
Console::redraw_status ()
{
  if (tty_ && !status_.empty ())
    {
      fprintf (stdout, "\r%s\033[K", status_.c_str ());
      fflush (stdout);
      status_drawn_ = true;
    }
}

void
Console::status (const std::string &text)
{
  status_ = redact (text, secret_);
  if (tty_)
    {
      /* One column short of the width: a line that fills it would wrap
       * on some terminals, and \r would then redraw only its last row. */
      if (status_.size () >= static_cast<size_t> (width ()))
        status_.resize (static_cast<size_t> (width () - 1));
      redraw_status ();
    }
  else
    {
      fprintf (stdout, "%s\n", status_.c_str ());
      fflush (stdout);
    }
}

void
Console::line (const std::string &text, bool redraw)
{
  clear_status ();
  fprintf (stdout, "%s\n", redact (text, secret_).c_str ());
  fflush (stdout);
  if (redraw)
    redraw_status ();
}

void
Console::error (const std::string &text)
{
  clear_status ();
  fprintf (stderr, "%s\n", redact (text, secret_).c_str ());
  fflush (stderr);
  redraw_status ();
}

void
Console::block (const std::string &text)
{
  finish_status ();
  fputs (redact (text, secret_).c_str (), stdout);
  fflush (stdout);
}

void
Console::finish_status ()
{
  end_status_line ("\n");
  status_.clear ();
}

} // namespace wssac_speaker
