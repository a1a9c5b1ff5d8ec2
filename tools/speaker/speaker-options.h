/* wssaudiochunk-speaker: the command line (GOptionContext) and its checks. */
#pragma once

#include <glib.h>

#include <string>

namespace wssac_speaker
{

/* Exit statuses of the program. */
enum ExitStatus
{
  kExitOk = 0,
  kExitFailure = 1,       /* microphone, file or server trouble */
  kExitUsage = 2,         /* a wrong command line */
  kExitInterrupted = 130, /* a second Ctrl-C before the session ended */
};

enum class Mode
{
  ListDevices,
  CheckMic,
  Stream,
};

struct SpeakerOptions
{
  bool list_devices = false;
  bool check_mic = false;
  std::string device;     /* --device: index or name; empty = default */
  std::string file;       /* --file: stream this instead of a device */
  std::string url;        /* --url: ws:// or wss:// */
  std::string session_id; /* --session-id; generated when empty */
  std::string token;      /* --token, --token-file or $WSSAC_TOKEN: never printed */
  std::string token_file; /* --token-file: read by validate_options() */
  std::string ca_file;    /* --ca-file: PEM CA certificates to trust for wss:// */
  bool insecure = false;  /* --insecure: no TLS certificate check */
  bool no_dsp = false;
  bool verbose = false;

  Mode
  mode () const
  {
    return list_devices ? Mode::ListDevices : check_mic ? Mode::CheckMic : Mode::Stream;
  }
};

/* Parses @argv (GStreamer's options too, when @gst_group is given: the
 * context takes it). --help prints and exits, as GOptionContext does.
 * Returns false with @error set on a wrong command line. The token comes
 * from $WSSAC_TOKEN when --token is not given. */
bool parse_options (int argc, char **argv, SpeakerOptions &opt, std::string &error,
                    GOptionGroup *gst_group = nullptr);

/* Checks what goes together and fills in defaults (a generated session
 * id, the token of --token-file). Returns false with @error set. */
bool validate_options (SpeakerOptions &opt, std::string &error);

/* "speaker-20250101-120000-1a2b" */
std::string generate_session_id ();

/* @url for the terminal: without user info, query or fragment (where
 * credentials tend to hide). */
std::string display_url (const std::string &url);

} // namespace wssac_speaker
