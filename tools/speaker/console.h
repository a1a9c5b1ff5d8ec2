/* wssaudiochunk-speaker: what goes to the terminal. On a terminal the
 * status line is redrawn in place (\r, erase to the end of the line) and
 * other lines are printed above it; otherwise every status is a line of
 * its own. Everything passes through redact(): the token never shows. */
#pragma once

#include <string>

namespace wssac_speaker
{

class Console
{
public:
  Console (bool stdout_is_tty, std::string secret);

  bool
  tty () const
  {
    return tty_;
  }
  /* Columns of the terminal (80 when unknown or not a terminal). */
  int width () const;

  /* The status line: redrawn on a terminal, a new line otherwise. */
  void status (const std::string &text);
  /* A line of its own on stdout (above the status line on a terminal).
   * With @redraw false the status line is not drawn again after it (the
   * caller draws a new one). */
  void line (const std::string &text, bool redraw = true);
  /* A line of its own on stderr. */
  void error (const std::string &text);
  /* Text as is (with its newlines) on stdout, after the status line. */
  void block (const std::string &text);
  /* Leaves the status line as it is and moves below it. */
  void finish_status ();

private:
  /* Ends a drawn status line with @ending ("\r\033[K" erases it, "\n"
   * keeps it); it counts as not drawn afterwards. */
  void end_status_line (const char *ending);
  void clear_status ();
  void redraw_status ();

  bool tty_;
  std::string secret_;
  std::string status_;
  bool status_drawn_ = false;
};

} // namespace wssac_speaker
