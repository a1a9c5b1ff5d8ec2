/* wssaudiochunk-speaker: the browser speaker app, for the terminal. Captures
 * a microphone (or plays a file in real time), encodes 16 kHz mono Opus in
 * WebM and streams it with wssaudiochunksink; keys pause, mute and end the
 * session. See docs/speaker.md; the work is in SpeakerApp. */
#include "speaker-app.h"

#include <gst/gst.h>

#include <clocale>
#include <cstdio>

int
main (int argc, char **argv)
{
  using namespace wssac_speaker;
  setlocale (LC_ALL, "");
  SpeakerOptions options;
  std::string error;
  if (!parse_options (argc, argv, options, error, gst_init_get_option_group ())
      || !validate_options (options, error))
    {
      fprintf (stderr,
               "wssaudiochunk-speaker: %s\nRun wssaudiochunk-speaker --help for the options.\n",
               redact (error, options.token).c_str ());
      return kExitUsage;
    }
  gst_init (nullptr, nullptr);
  int status;
  {
    SpeakerApp app (std::move (options));
    status = app.run ();
  }
  gst_deinit ();
  return status;
}
