#include "speaker-options.h"

#include <cstring>
#include <vector>

namespace wssac_speaker
{

namespace
{

const char *const kSummary
    = "Streams live speech from a microphone (or an audio file, in real time) to a wssaudiochunk\n"
      "WebSocket server: 16 kHz mono, Opus at 16 kbit/s in WebM, one JSON message per 250 ms "
      "chunk,\n"
      "as the browser speaker app does.";

const char *const kDescription
    = "Keys (when standard input is a terminal):\n"
      "  p  pause / resume (paused audio is kept, up to 5 s, and sent on resume)\n"
      "  m  mute / unmute (muted audio is never sent)\n"
      "  q  end the session cleanly and print a summary (Ctrl-C does the same; twice to force)\n"
      "\n"
      "Status line: elapsed time, input level 0-100, transmitting/paused/muted, chunks sent,\n"
      "backlog (chunks waiting for the connection), connection state, reconnects.\n"
      "\n"
      "Exit status: 0 the session ended cleanly (or the check passed), 1 microphone, file or\n"
      "server trouble, 2 a wrong command line, 130 forced to stop by a second Ctrl-C.\n"
      "\n"
      "Examples:\n"
      "  wssaudiochunk-speaker --list-devices\n"
      "  wssaudiochunk-speaker --check-mic --device=0\n"
      "  wssaudiochunk-speaker --url=wss://example.org/ws --session-id=demo --token=$TOKEN\n"
      "  wssaudiochunk-speaker --url=ws://127.0.0.1:8080/ws --file=talk.wav\n"
      "  wssaudiochunk-speaker --url=wss://speech.internal:8443/ws --ca-file=company-ca.pem "
      "--token-file=token.txt\n"
      "\n"
      "The token may also come from --token-file or the WSSAC_TOKEN environment variable (neither\n"
      "is visible in ps).\n"
      "See docs/speaker.md.";

std::string
take (gchar *&s)
{
  std::string out = s ? s : "";
  g_free (s);
  s = nullptr;
  return out;
}

/* --ca-file and --insecure: for wss:// only, one or the other. */
bool
check_tls_options (const SpeakerOptions &opt, std::string &error)
{
  if (!opt.ca_file.empty () && opt.insecure)
    {
      error = "--ca-file and --insecure do not go together: trust a CA, or check nothing";
      return false;
    }
  const bool tls = g_ascii_strncasecmp (opt.url.c_str (), "wss://", 6) == 0;
  if (!tls && (!opt.ca_file.empty () || opt.insecure))
    {
      error = std::string (opt.insecure ? "--insecure" : "--ca-file")
              + " is for wss:// URLs: a ws:// connection has no TLS certificate to check";
      return false;
    }
  if (!opt.ca_file.empty () && !g_file_test (opt.ca_file.c_str (), G_FILE_TEST_IS_REGULAR))
    {
      error = "--ca-file \"" + opt.ca_file + "\": no such file";
      return false;
    }
  return true;
}

/* The token is the file's first line, without the line end. */
bool
read_token_file (SpeakerOptions &opt, std::string &error)
{
  if (opt.token_file.empty ())
    return true;
  if (!opt.token.empty ())
    {
      error = "--token and --token-file do not go together: give the token once";
      return false;
    }
  gchar *contents = nullptr;
  GError *err = nullptr;
  if (!g_file_get_contents (opt.token_file.c_str (), &contents, nullptr, &err))
    {
      error = "--token-file: " + std::string (err->message);
      g_clear_error (&err);
      return false;
    }
  std::string text = contents;
  g_free (contents);
  text = text.substr (0, text.find_first_of ("\r\n"));
  if (text.empty ())
    {
      error = "--token-file \"" + opt.token_file + "\": the first line is empty";
      return false;
    }
  opt.token = text;
  return true;
}

} // namespace

bool
parse_options (int argc, char **argv, SpeakerOptions &opt, std::string &error,
               GOptionGroup *gst_group)
{
  gboolean list_devices = FALSE, check_mic = FALSE, no_dsp = FALSE, verbose = FALSE,
           insecure = FALSE;
  gchar *device = nullptr, *file = nullptr, *url = nullptr, *session_id = nullptr, *token = nullptr,
        *token_file = nullptr, *ca_file = nullptr;
  gchar **rest = nullptr;
  GOptionEntry entries[] = {
    { "list-devices", 'l', 0, G_OPTION_ARG_NONE, &list_devices,
      "List the audio input devices (index, name, how to pick one) and exit", nullptr },
    { "check-mic", 'c', 0, G_OPTION_ARG_NONE, &check_mic,
      "Open the microphone for about 1 s, report its input level and exit (0 = it works)",
      nullptr },
    { "device", 'd', 0, G_OPTION_ARG_STRING, &device,
      "Capture from this device: an index or a name from --list-devices (default: the system's "
      "default)",
      "N|NAME" },
    { "file", 'f', 0, G_OPTION_ARG_FILENAME, &file,
      "Stream an audio file instead, in real time as if live; the session ends at its end",
      "PATH" },
    { "url", 'u', 0, G_OPTION_ARG_STRING, &url, "WebSocket server to stream to (ws:// or wss://)",
      "URL" },
    { "session-id", 's', 0, G_OPTION_ARG_STRING, &session_id,
      "Session identifier sent with every chunk (default: speaker-DATE-TIME-RANDOM)", "ID" },
    { "token", 't', 0, G_OPTION_ARG_STRING, &token,
      "Sent as \"Authorization: Bearer TOKEN\" with the WebSocket upgrade; never printed "
      "(default: $WSSAC_TOKEN)",
      "TOKEN" },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file,
      "Read the token from the first line of FILE (keeps it out of ps and shell history)", "FILE" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
      "Trust the CA certificates in this PEM file for wss:// (a server with a private CA) "
      "instead of the system's",
      "FILE" },
    { "insecure", 0, 0, G_OPTION_ARG_NONE, &insecure,
      "Do not check the wss:// server's certificate (test servers only: the stream can be read "
      "and changed on the way)",
      nullptr },
    { "no-dsp", 0, 0, G_OPTION_ARG_NONE, &no_dsp,
      "No voice processing (webrtcdsp noise suppression and gain control)", nullptr },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      "Also print GStreamer's details of an error, and the pipeline", nullptr },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, nullptr, nullptr },
    { nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr },
  };

  GOptionContext *ctx = g_option_context_new (nullptr);
  g_option_context_set_summary (ctx, kSummary);
  g_option_context_set_description (ctx, kDescription);
  g_option_context_add_main_entries (ctx, entries, nullptr);
  if (gst_group)
    g_option_context_add_group (ctx, gst_group);

  /* g_option_context_parse() rearranges what it is given: a copy. */
  std::vector<char *> args (argv, argv + argc);
  args.push_back (nullptr);
  int n = argc;
  char **v = args.data ();
  GError *err = nullptr;
  bool ok = g_option_context_parse (ctx, &n, &v, &err);
  g_option_context_free (ctx);
  if (!ok)
    {
      error = err ? err->message : "cannot parse the command line";
      g_clear_error (&err);
      /* "Unknown option --tokn=VALUE": the value may be a secret. */
      const size_t eq = error.find ('=');
      if (eq != std::string::npos)
        error = error.substr (0, eq + 1) + "...";
    }
  else if (rest && rest[0])
    {
      error = std::string ("unexpected argument \"") + rest[0] + "\" (options start with --)";
      ok = false;
    }
  g_strfreev (rest);

  opt.list_devices = list_devices;
  opt.check_mic = check_mic;
  opt.no_dsp = no_dsp;
  opt.verbose = verbose;
  opt.device = take (device);
  opt.file = take (file);
  opt.url = take (url);
  opt.session_id = take (session_id);
  opt.token = take (token);
  opt.token_file = take (token_file);
  opt.ca_file = take (ca_file);
  opt.insecure = insecure;
  if (opt.token.empty () && opt.token_file.empty ())
    {
      const char *env = g_getenv ("WSSAC_TOKEN");
      if (env)
        opt.token = env;
    }
  return ok;
}

bool
validate_options (SpeakerOptions &opt, std::string &error)
{
  if (opt.list_devices && opt.check_mic)
    {
      error = "--list-devices and --check-mic do not go together";
      return false;
    }
  if (!opt.file.empty () && !opt.device.empty ())
    {
      error = "--file and --device do not go together: one input at a time";
      return false;
    }
  if (opt.check_mic && !opt.file.empty ())
    {
      error = "--check-mic checks a capture device, not a file";
      return false;
    }
  if (opt.mode () != Mode::Stream)
    return true;

  if (opt.url.empty ())
    {
      error = "no --url: give the WebSocket server to stream to (ws:// or wss://)";
      return false;
    }
  gchar *scheme = g_uri_parse_scheme (opt.url.c_str ());
  const bool ws
      = scheme
        && (g_ascii_strcasecmp (scheme, "ws") == 0 || g_ascii_strcasecmp (scheme, "wss") == 0);
  g_free (scheme);
  GUri *uri = ws ? g_uri_parse (opt.url.c_str (), G_URI_FLAGS_NONE, nullptr) : nullptr;
  const bool has_host = uri && g_uri_get_host (uri) && *g_uri_get_host (uri);
  if (uri)
    g_uri_unref (uri);
  if (!ws || !has_host)
    {
      error = "--url must be a ws:// or wss:// URL with a host, such as ws://127.0.0.1:8080/ws";
      return false;
    }
  if (!opt.file.empty () && !g_file_test (opt.file.c_str (), G_FILE_TEST_IS_REGULAR))
    {
      error = "--file \"" + opt.file + "\": no such file";
      return false;
    }
  if (!check_tls_options (opt, error) || !read_token_file (opt, error))
    return false;
  if (opt.token.find_first_of ("\r\n") != std::string::npos)
    {
      error = "--token must be one line";
      return false;
    }
  if (opt.session_id.empty ())
    opt.session_id = generate_session_id ();
  return true;
}

std::string
generate_session_id ()
{
  GDateTime *now = g_date_time_new_now_local ();
  gchar *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  g_date_time_unref (now);
  char suffix[8];
  g_snprintf (suffix, sizeof suffix, "%04x", g_random_int_range (0, 0x10000));
  std::string id = std::string ("speaker-") + stamp + "-" + suffix;
  g_free (stamp);
  return id;
}

std::string
display_url (const std::string &url)
{
  GUri *uri = g_uri_parse (url.c_str (), G_URI_FLAGS_NONE, nullptr);
  if (!uri)
    return "(invalid URL)";
  GUri *shown
      = g_uri_build (G_URI_FLAGS_NONE, g_uri_get_scheme (uri), nullptr, g_uri_get_host (uri),
                     g_uri_get_port (uri), g_uri_get_path (uri), nullptr, nullptr);
  gchar *text = g_uri_to_string (shown);
  std::string out = text;
  if (g_uri_get_query (uri))
    out += "?...";
  g_free (text);
  g_uri_unref (shown);
  g_uri_unref (uri);
  return out;
}

} // namespace wssac_speaker
