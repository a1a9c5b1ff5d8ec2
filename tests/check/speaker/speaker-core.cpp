/* The plain parts of wssaudiochunk-speaker: the level scale, the wording of
 * errors, the status line and summary, option checks, device picking. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "devices.h"
#include "friendly-error.h"
#include "level-meter.h"
#include "speaker-options.h"
#include "status-line.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <vector>

using namespace wssac_speaker;

/* fail_unless_equals_string() keeps only the pointer: a temporary
 * std::string would be gone by the time it compares. */
#define EQ_STR(a, b)                                                                               \
  do                                                                                               \
    {                                                                                              \
      const std::string a_ = (a), b_ = (b);                                                        \
      fail_unless (a_ == b_, "\"%s\" != \"%s\"", a_, b_);                                          \
    }                                                                                              \
  while (0)

static bool
contains (const std::string &s, const std::string &part)
{
  return s.find (part) != std::string::npos;
}

static bool
starts_with (const std::string &s, const std::string &prefix)
{
  return s.compare (0, prefix.size (), prefix) == 0;
}

GST_START_TEST (test_level_scale)
{
  fail_unless_equals_int (LevelMeter::db_to_level (-INFINITY), 0);
  fail_unless_equals_int (LevelMeter::db_to_level (NAN), 0);
  fail_unless_equals_int (LevelMeter::db_to_level (-700.0), 0);
  fail_unless_equals_int (LevelMeter::db_to_level (-60.0), 0);
  fail_unless_equals_int (LevelMeter::db_to_level (-30.0), 50);
  fail_unless_equals_int (LevelMeter::db_to_level (-15.0), 75);
  fail_unless_equals_int (LevelMeter::db_to_level (-0.6), 99);
  fail_unless_equals_int (LevelMeter::db_to_level (0.0), 100);
  fail_unless_equals_int (LevelMeter::db_to_level (3.0), 100);
  /* monotonic */
  int last = -1;
  for (double db = -80; db <= 5; db += 0.25)
    {
      int l = LevelMeter::db_to_level (db);
      fail_unless (l >= last && l >= 0 && l <= 100);
      last = l;
    }
}
GST_END_TEST;

GST_START_TEST (test_level_meter_release)
{
  LevelMeter m;
  fail_unless_equals_int (m.level (), 0);
  m.update (-12.0, -3.0, 0); /* 80 */
  fail_unless_equals_int (m.level (), 80);
  fail_if (m.clipping ());
  /* silence 100 ms later: falls by 6 points, not to 0 */
  m.update (-INFINITY, -INFINITY, 100000);
  fail_unless_equals_int (m.level (), 74);
  /* and reaches 0 after 80/60 s */
  m.update (-INFINITY, -INFINITY, 1500000);
  fail_unless_equals_int (m.level (), 0);
  /* louder input shows at once */
  m.update (-6.0, -0.05, 1600000);
  fail_unless_equals_int (m.level (), 90);
  fail_unless (m.clipping ());
  fail_unless_equals_int (m.max_level (), 90);
  fail_unless (std::fabs (m.max_rms_db () - -6.0) < 1e-9);
  fail_unless_equals_int (m.updates (), 4);
}
GST_END_TEST;

/* An error of @origin (GError @domain, @code) while playing talk.wav. */
static ErrorInfo
error_of (ErrorOrigin origin, GQuark domain, int code)
{
  ErrorInfo e;
  e.origin = origin;
  e.domain = domain;
  e.code = code;
  e.file = "talk.wav";
  return e;
}

static std::string
friendly (ErrorOrigin origin, GQuark domain, int code, const std::string &message,
          const std::string &debug = "", const std::string &url = "ws://127.0.0.1:1/ws")
{
  ErrorInfo e = error_of (origin, domain, code);
  e.message = message;
  e.debug = debug;
  e.url = url;
  return friendly_error (e);
}

GST_START_TEST (test_friendly_errors)
{
  const GQuark R = GST_RESOURCE_ERROR;
  /* the seed's three, from the codes */
  EQ_STR (friendly (ErrorOrigin::Microphone, R, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "x"),
          kMicrophoneDenied);
  EQ_STR (friendly (ErrorOrigin::Microphone, R, GST_RESOURCE_ERROR_NOT_FOUND, "x"), kNoMicrophone);
  EQ_STR (friendly (ErrorOrigin::Microphone, R, GST_RESOURCE_ERROR_BUSY, "x"), kMicrophoneBusy);
  fail_unless (starts_with (kMicrophoneDenied, "Microphone access denied."));
  EQ_STR (kNoMicrophone, "No microphone found. Please connect a microphone.");
  EQ_STR (kMicrophoneBusy, "Microphone is already in use by another application.");
  /* alsasrc's OPEN_READ texts */
  EQ_STR (friendly (ErrorOrigin::Microphone, R, GST_RESOURCE_ERROR_OPEN_READ,
                    "Could not open audio device for recording. Device is being used by another "
                    "application."),
          kMicrophoneBusy);
  EQ_STR (friendly (ErrorOrigin::Microphone, R, GST_RESOURCE_ERROR_OPEN_READ,
                    "Could not open audio device for recording. You don't have permission to "
                    "open the device."),
          kMicrophoneDenied);
  EQ_STR (friendly (ErrorOrigin::Microphone, R, GST_RESOURCE_ERROR_OPEN_READ,
                    "Could not open audio device for recording.", "No such file or directory"),
          kNoMicrophone);
  fail_unless (contains (friendly (ErrorOrigin::Microphone, R, GST_RESOURCE_ERROR_OPEN_READ, "odd"),
                         "Could not open the microphone: odd"));
  /* pulsesrc: FAILED with PulseAudio's words */
  EQ_STR (friendly (ErrorOrigin::Microphone, R, GST_RESOURCE_ERROR_FAILED,
                    "Failed to connect stream: No such entity"),
          kNoMicrophone);
  fail_unless (contains (friendly (ErrorOrigin::Microphone, R, GST_RESOURCE_ERROR_FAILED,
                                   "Failed to connect: Connection refused"),
                         "Could not reach the audio server"));
  /* the sink */
  EQ_STR (friendly (ErrorOrigin::Server, R, GST_RESOURCE_ERROR_OPEN_WRITE,
                    "Could not connect to ws://127.0.0.1:1/ws: Could not connect to 127.0.0.1: "
                    "Connection refused"),
          "Server unreachable: ws://127.0.0.1:1/ws: Could not connect to 127.0.0.1: Connection "
          "refused");
  fail_unless (
      starts_with (friendly (ErrorOrigin::Server, R, GST_RESOURCE_ERROR_OPEN_WRITE,
                             "Could not connect to ws://h/ws: the server refused the WebSocket "
                             "upgrade (HTTP 401 Unauthorized)"),
                   "Server rejected the connection: ws://h/ws"));
  fail_unless (starts_with (friendly (ErrorOrigin::Server, R, GST_RESOURCE_ERROR_WRITE, "gone"),
                            "Connection to the server lost: gone"));
  /* the ws:// / wss:// mix-ups (the sink's words, measured against the
   * ingest server), and a private CA */
  const std::string tls_to_plain
      = friendly (ErrorOrigin::Server, R, GST_RESOURCE_ERROR_OPEN_WRITE,
                  "Could not connect to wss://127.0.0.1:9/ws: no answer within 10 s", "",
                  "wss://127.0.0.1:9/ws");
  fail_unless (contains (tls_to_plain, "use ws:// instead of wss://"), "%s", tls_to_plain.c_str ());
  const std::string plain_to_tls
      = friendly (ErrorOrigin::Server, R, GST_RESOURCE_ERROR_OPEN_WRITE,
                  "Could not connect to ws://127.0.0.1:9/ws: Error receiving data: Connection "
                  "reset by peer");
  fail_unless (contains (plain_to_tls, "use wss:// instead of ws://"), "%s", plain_to_tls.c_str ());
  const std::string refused
      = friendly (ErrorOrigin::Server, R, GST_RESOURCE_ERROR_OPEN_WRITE,
                  "Could not connect to wss://h:1/ws: Connection refused", "", "wss://h:1/ws");
  fail_if (contains (refused, "Hint"), "a hint where nothing listens: %s", refused.c_str ());
  const std::string untrusted = friendly (
      ErrorOrigin::Server, R, GST_RESOURCE_ERROR_OPEN_WRITE,
      "Could not connect to wss://h/ws: TLS: Unacceptable TLS certificate", "", "wss://h/ws");
  fail_unless (contains (untrusted, "--ca-file") && !contains (untrusted, "use ws://"), "%s",
               untrusted.c_str ());
  fail_unless (starts_with (friendly (ErrorOrigin::Server, R, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
                                      "Could not connect to ws://h/ws: HTTP 403"),
                            "Server rejected the connection"));
  /* a file */
  fail_unless (
      starts_with (friendly (ErrorOrigin::File, GST_STREAM_ERROR, GST_STREAM_ERROR_TYPE_NOT_FOUND,
                             "Could not determine type of stream."),
                   "Cannot decode \"talk.wav\""));
  fail_unless (
      starts_with (friendly (ErrorOrigin::File, R, GST_RESOURCE_ERROR_NOT_FOUND, "No such file"),
                   "Cannot read \"talk.wav\""));
  EQ_STR (friendly (ErrorOrigin::Other, GST_CORE_ERROR, 1, "boom"), "Error: boom");
}
GST_END_TEST;

GST_START_TEST (test_redact)
{
  EQ_STR (redact ("a SECRET b SECRET", "SECRET"), "a ******** b ********");
  EQ_STR (redact ("nothing", ""), "nothing");
  EQ_STR (redact ("xx", "x"), "****************");
}
GST_END_TEST;

GST_START_TEST (test_status_line)
{
  SpeakerStatus s;
  EQ_STR (broadcast_word (s), "starting");
  s.started = true;
  s.elapsed_s = 72.9;
  s.level = 58;
  s.chunks_sent = 48;
  s.connection = "connected";
  EQ_STR (format_status (s, true),
          "01:12 [######....]  58 | transmitting | sent 48 | backlog 0 | connected | reconnects 0");
  EQ_STR (format_status (s, false),
          "01:12 level  58 | transmitting | sent 48 | backlog 0 | connected | reconnects 0");
  s.paused = true;
  fail_unless (contains (format_status (s, true), "| paused |"));
  s.muted = true;
  fail_unless (contains (format_status (s, true), "| paused+muted |"));
  s.paused = false;
  fail_unless (contains (format_status (s, true), "| muted |"));
  s.ending = true;
  fail_unless (contains (format_status (s, true), "| ending |"));
  s.chunks_dropped = 3;
  s.backlog_chunks = 7;
  s.reconnects = 2;
  s.clipping = true;
  s.connection = "reconnecting";
  EQ_STR (format_status (s, false), "01:12 level  58 CLIP | ending | sent 48 | dropped 3 | backlog "
                                    "7 | reconnecting | reconnects 2");
  fail_unless_equals_int (format_status (s, true, 40).size (), 40);
  EQ_STR (clock_text (3725), "1:02:05");
  EQ_STR (clock_text (-1), "00:00");
}
GST_END_TEST;

GST_START_TEST (test_summary)
{
  SessionSummary s;
  s.session_id = "demo";
  s.end_reason = "Speaker ended session";
  s.duration_s = 8.44;
  s.chunks_sent = 33;
  s.chunks_dropped = 1;
  s.reconnects = 2;
  EQ_STR (format_summary (s), "Session summary (demo)\n"
                              "  ended:          Speaker ended session\n"
                              "  duration:       00:08 (8.4 s)\n"
                              "  chunks sent:    33\n"
                              "  chunks dropped: 1\n"
                              "  reconnects:     2\n");
}
GST_END_TEST;

static bool
parse (std::vector<const char *> args, SpeakerOptions &o, std::string &error)
{
  args.insert (args.begin (), "wssaudiochunk-speaker");
  std::vector<char *> argv;
  for (const char *a : args)
    argv.push_back (const_cast<char *> (a));
  argv.push_back (nullptr);
  o = SpeakerOptions ();
  return parse_options (static_cast<int> (args.size ()), argv.data (), o, error)
         && validate_options (o, error);
}

GST_START_TEST (test_options)
{
  SpeakerOptions o;
  std::string e;
  g_unsetenv ("WSSAC_TOKEN");
  fail_unless (
      parse ({ "--url=ws://127.0.0.1:8080/ws", "--device", "2", "--token", "abc", "--no-dsp" }, o,
             e),
      "%s", e);
  fail_unless (o.mode () == Mode::Stream);
  EQ_STR (o.device, "2");
  EQ_STR (o.token, "abc");
  fail_unless (o.no_dsp);
  fail_unless (starts_with (o.session_id, "speaker-"), "generated id %s", o.session_id.c_str ());

  g_setenv ("WSSAC_TOKEN", "from-env", TRUE);
  fail_unless (parse ({ "-u", "wss://example.org/ws", "-s", "me" }, o, e), "%s", e);
  EQ_STR (o.token, "from-env");
  EQ_STR (o.session_id, "me");
  g_unsetenv ("WSSAC_TOKEN");

  fail_unless (parse ({ "--list-devices" }, o, e));
  fail_unless (o.mode () == Mode::ListDevices);
  fail_unless (parse ({ "--check-mic", "--device", "USB" }, o, e));
  fail_unless (o.mode () == Mode::CheckMic);

  fail_if (parse ({ "--device", "0" }, o, e));
  fail_unless (contains (e, "no --url"), "%s", e);
  fail_if (parse ({ "--url", "http://h/ws" }, o, e));
  fail_unless (contains (e, "ws:// or wss://"));
  fail_if (parse ({ "--url", "ws:///nohost" }, o, e));
  fail_if (parse ({ "--url", "ws://h/ws", "--file", "/nonexistent/x.wav" }, o, e));
  fail_unless (contains (e, "no such file"));
  fail_if (parse ({ "--url", "ws://h/ws", "--file", "/etc/hostname", "--device", "0" }, o, e));
  fail_if (parse ({ "--list-devices", "--check-mic" }, o, e));
  fail_if (parse ({ "--url", "ws://h/ws", "--token", "a\nb" }, o, e));
  fail_if (parse ({ "--url", "ws://h/ws", "extra" }, o, e));
  fail_unless (contains (e, "unexpected argument"));
  fail_if (parse ({ "--tokn=hidden" }, o, e));
  fail_unless (!contains (e, "hidden"), "%s", e);

  /* TLS and the token file */
  fail_if (parse ({ "--url", "ws://h/ws", "--insecure" }, o, e));
  fail_unless (contains (e, "is for wss://"), "%s", e);
  fail_if (parse ({ "--url", "wss://h/ws", "--insecure", "--ca-file", "/etc/hostname" }, o, e));
  fail_unless (contains (e, "do not go together"), "%s", e);
  fail_unless (parse ({ "--url", "wss://h/ws", "--ca-file", "/etc/hostname" }, o, e), "%s", e);
  EQ_STR (o.ca_file, "/etc/hostname");
  fail_unless (parse ({ "--url", "wss://h/ws", "--insecure" }, o, e), "%s", e);
  fail_unless (o.insecure);
  gchar *token_path = NULL;
  gint fd = g_file_open_tmp ("wssac-token-XXXXXX", &token_path, NULL);
  fail_unless (fd >= 0);
  close (fd);
  fail_unless (g_file_set_contents (token_path, "s3cret\nsecond line\n", -1, NULL));
  fail_unless (parse ({ "--url", "wss://h/ws", "--token-file", token_path }, o, e), "%s", e);
  EQ_STR (o.token, "s3cret");
  fail_if (parse ({ "--url", "wss://h/ws", "--token-file", token_path, "--token", "x" }, o, e));
  fail_unless (contains (e, "do not go together"), "%s", e);
  fail_unless (g_file_set_contents (token_path, "\n", -1, NULL));
  fail_if (parse ({ "--url", "wss://h/ws", "--token-file", token_path }, o, e));
  fail_unless (contains (e, "empty"), "%s", e);
  g_unlink (token_path);
  g_free (token_path);
  fail_if (parse ({ "--url", "wss://h/ws", "--token-file", "/nonexistent/token" }, o, e));
}
GST_END_TEST;

GST_START_TEST (test_display_url)
{
  EQ_STR (display_url ("wss://user:pw@example.org:8443/ws?token=abc#x"),
          "wss://example.org:8443/ws?...");
  EQ_STR (display_url ("ws://127.0.0.1:8080/ws"), "ws://127.0.0.1:8080/ws");
}
GST_END_TEST;

GST_START_TEST (test_pick_device)
{
  std::vector<DeviceEntry> d (3);
  d[0].display_name = "Monitor of Speakers";
  d[0].id = "alsa_output.monitor";
  d[0].monitor = true;
  d[1].display_name = "USB Headset Microphone";
  d[1].id = "alsa_input.usb-headset";
  d[2].display_name = "Built-in Microphone";
  d[2].id = "alsa_input.pci-builtin";
  std::string e;
  /* no default flagged: the first that is not a monitor */
  fail_unless_equals_int (pick_device (d, "", e), 1);
  d[2].is_default = true;
  fail_unless_equals_int (pick_device (d, "", e), 2);
  fail_unless_equals_int (pick_device (d, "0", e), 0);
  fail_unless_equals_int (pick_device (d, "3", e), -1);
  fail_unless (contains (e, "are 3 devices"));
  fail_unless_equals_int (pick_device (d, "usb headset microphone", e), 1);
  fail_unless_equals_int (pick_device (d, "alsa_input.pci-builtin", e), 2);
  fail_unless_equals_int (pick_device (d, "headset", e), 1);
  fail_unless_equals_int (pick_device (d, "Microphone", e), -1);
  fail_unless (contains (e, "matches 2 devices"), "%s", e);
  fail_unless_equals_int (pick_device (d, "webcam", e), -1);
  fail_unless (contains (e, "No device matches"));
  fail_unless_equals_int (pick_device ({}, "", e), -1);
  EQ_STR (e, "No microphone found. Please connect a microphone.");

  fail_unless (contains (format_device_list ({}), "No audio input devices found"));
  d[1].element = "pulsesrc device=alsa_input.usb-headset";
  std::string list = format_device_list (d);
  fail_unless (contains (list, "  1: USB Headset Microphone\n"), "%s", list);
  fail_unless (contains (list, "     element: pulsesrc device=alsa_input.usb-headset\n"));
  fail_unless (contains (list, "--device=1  or  --device=alsa_input.usb-headset"));
  fail_unless (contains (list, "2: Built-in Microphone  [default]"));
  fail_unless (contains (list, "[monitor of an output]"));
}
GST_END_TEST;

WSS_CHECK_MAIN (speaker_core, "speaker-core",
                { "core", 0,
                  WSS_TESTS (test_level_scale, test_level_meter_release, test_friendly_errors,
                             test_redact, test_status_line, test_summary, test_options,
                             test_display_url, test_pick_device) });
