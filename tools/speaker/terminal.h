/* wssaudiochunk-speaker: the keyboard. Standard input in "cbreak" mode
 * (no line buffering, no echo; Ctrl-C still raises SIGINT), restored on
 * every way out: normal exit, exit(), the fatal signals (SIGQUIT, SIGABRT,
 * SIGSEGV, SIGBUS, SIGFPE, SIGILL: restored, then the signal goes on), and
 * Ctrl-Z (restored while stopped, set again on SIGCONT). SIGINT, SIGTERM
 * and SIGHUP are the application's (they end the session cleanly), which
 * restores the terminal on its way out. */
#pragma once

#include "non-copyable.h"

#include <termios.h>

namespace wssac_speaker
{

class RawTerminal : private wssac::NonCopyable
{
public:
  /* Does nothing unless @fd is a terminal. */
  explicit RawTerminal (int fd);
  ~RawTerminal ();

  bool
  active () const
  {
    return active_;
  }
  /* Back to the saved settings now (idempotent). */
  void restore ();

private:
  static void on_fatal_signal (int signum);
  static void on_stop_signal (int signum);
  static void on_continue_signal (int signum);
  static void restore_at_exit ();
  static void apply_raw ();

  bool active_ = false;
};

} // namespace wssac_speaker
