/* Broadcast controls, four ways in (action signals, properties, application
 * messages on the pipeline bus, custom downstream events), each against our
 * receiver (wssaudiochunksrc): the server hears pause/resume/mute/unmute in
 * order, paused audio arrives late but whole, muted audio never arrives, and
 * end-session ends both pipelines. Live, real-time streams. */
#include <gst/app/gstappsink.h>
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "receiver.h"
#include "test-util.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <mutex>
#include <thread>
#include "bus-messages.h"

using Clock = std::chrono::steady_clock;

/* Runs a live speaker into @rx for @seconds while @script runs on a thread. */
static void
speak (Receiver &rx, int seconds, std::function<void (GstElement *pipeline, GstElement *sink, GstElement *src,
                                       std::function<void (double)> at)> script,
    BusLog &log, const char *extra = "end-session-on-eos=true")
{
  gchar *desc = g_strdup_printf ("audiotestsrc name=tone is-live=true num-buffers=%d samplesperbuffer=320 wave=sine "
                                 "freq=440 volume=0.5 ! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000 "
                                 "! webmmux streamable=true min-cluster-duration=250000000 "
                                 "! wssaudiochunksink name=sink location=%s session-id=ctl %s",
      seconds * 50, rx.url ().c_str (), extra);
  GstElement *p = gst_parse_launch (desc, NULL);
  g_free (desc);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "tone");
  auto t0 = Clock::now ();
  auto at = [t0] (double s) { std::this_thread::sleep_until (t0 + std::chrono::milliseconds ((int) (s * 1000))); };
  std::thread th ([&] { script (p, sink, src, at); });
  run_pipeline (p, seconds + 30, log);
  th.join ();
  fail_unless (log.eos, "speaker: %s", log.error_message.c_str ());
  gst_object_unref (sink);
  gst_object_unref (src);
  gst_object_unref (p);
}

static std::vector<gboolean>
transmitting_changes (const BusLog &log)
{
  std::vector<gboolean> out;
  for (const GstStructure *s : log.named (wssac::bus::kTransmitting))
    {
      gboolean t;
      gst_structure_get_boolean (s, "transmitting", &t);
      out.push_back (t);
    }
  return out;
}

typedef std::vector<std::string> V;

/* Pause at 1.5 s, resume at 3 s, mute at 4 s, unmute at 5 s, in 7 s: the
 * receiver hears the four actions in order, gets every paused chunk, and
 * misses about the 1 s muted. */
static void
check_four_way (Receiver &rx, BusLog &log)
{
  std::vector<int16_t> pcm = rx.pcm (20);
  fail_unless (rx.control_actions () == V ({ "pauseBroadcast", "resumeBroadcast", "muteBroadcast", "unmuteBroadcast" }),
      "receiver heard %zu controls", rx.control_actions ().size ());
  double seconds = pcm.size () / 16000.0;
  /* 7 s minus the muted second, give or take a cluster at each edge. */
  fail_unless (seconds > 5.4 && seconds < 6.3, "received %.3f s", seconds);
  fail_unless (transmitting_changes (log) == std::vector<gboolean> ({ TRUE, FALSE, TRUE, FALSE, TRUE, FALSE }));
}

GST_START_TEST (test_action_signals)
{
  Receiver rx;
  BusLog log;
  speak (rx, 7,
      [] (GstElement *, GstElement *sink, GstElement *, std::function<void (double)> at) {
        at (1.5);
        g_signal_emit_by_name (sink, "pause");
        at (3);
        g_signal_emit_by_name (sink, "resume");
        at (4);
        g_signal_emit_by_name (sink, "mute");
        at (5);
        g_signal_emit_by_name (sink, "unmute");
      },
      log);
  check_four_way (rx, log);
}
GST_END_TEST;

GST_START_TEST (test_properties)
{
  Receiver rx;
  BusLog log;
  speak (rx, 7,
      [] (GstElement *, GstElement *sink, GstElement *, std::function<void (double)> at) {
        at (1.5);
        g_object_set (sink, "paused", TRUE, NULL);
        gboolean paused;
        g_object_get (sink, "paused", &paused, NULL);
        fail_unless (paused);
        at (3);
        g_object_set (sink, "paused", FALSE, NULL);
        at (4);
        g_object_set (sink, "muted", TRUE, NULL);
        at (5);
        g_object_set (sink, "muted", FALSE, NULL);
      },
      log);
  check_four_way (rx, log);
}
GST_END_TEST;

static void
post_control (GstElement *pipeline, const char *action)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gst_bus_post (bus, gst_message_new_application (NULL,
                         gst_structure_new (wssac::bus::kControl, "action", G_TYPE_STRING, action, NULL)));
  gst_object_unref (bus);
}

GST_START_TEST (test_bus_messages)
{
  Receiver rx;
  BusLog log;
  speak (rx, 7,
      [] (GstElement *p, GstElement *, GstElement *, std::function<void (double)> at) {
        at (1.5);
        post_control (p, "pause");
        at (3);
        post_control (p, "resume");
        at (4);
        post_control (p, "mute");
        at (5);
        post_control (p, "unmute");
      },
      log);
  check_four_way (rx, log);
}
GST_END_TEST;

static void
send_control_event (GstElement *src, const char *action)
{
  /* Into the source: it travels downstream in band, through the encoder and
   * the muxer, and takes effect between the buffers around it. */
  fail_unless (gst_element_send_event (src, gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
                                                gst_structure_new (wssac::bus::kControl, "action", G_TYPE_STRING,
                                                    action, NULL))));
}

GST_START_TEST (test_custom_events)
{
  Receiver rx;
  BusLog log;
  speak (rx, 7,
      [] (GstElement *, GstElement *, GstElement *src, std::function<void (double)> at) {
        at (1.5);
        send_control_event (src, "pause");
        at (3);
        send_control_event (src, "resume");
        at (4);
        send_control_event (src, "mute");
        at (5);
        send_control_event (src, "unmute");
      },
      log);
  check_four_way (rx, log);
}
GST_END_TEST;

/* Windows of 20 ms where a 1500 Hz tone dominates 440 Hz (Goertzel). */
static int
windows_with_high_tone (const std::vector<int16_t> &pcm)
{
  auto power = [] (const int16_t *x, int n, double f) {
    double w = 2 * M_PI * f / 16000.0, c = 2 * cos (w), s1 = 0, s2 = 0;
    for (int i = 0; i < n; i++)
      {
        double s0 = x[i] + c * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
    return s1 * s1 + s2 * s2 - c * s1 * s2;
  };
  int count = 0;
  for (size_t i = 0; i + 320 <= pcm.size (); i += 320)
    if (power (&pcm[i], 320, 1500) > power (&pcm[i], 320, 440))
      count++;
  return count;
}

/* A 1500 Hz tone plays from 2 s to 4 s. */
static void
tone_script (GstElement *src, std::function<void (double)> &at)
{
  at (2.0);
  g_object_set (src, "freq", 1500.0, NULL);
  at (4.0);
  g_object_set (src, "freq", 440.0, NULL);
}

GST_START_TEST (test_muted_audio_never_sent)
{
  /* Without mute the receiver hears the 1500 Hz tone: the detector works. */
  {
    Receiver rx;
    BusLog log;
    speak (rx, 6,
        [] (GstElement *, GstElement *, GstElement *src, std::function<void (double)> at) { tone_script (src, at); },
        log);
    int high = windows_with_high_tone (rx.pcm (20));
    fail_unless (high > 60, "the 2 s tone was detected in only %d windows", high);
  }
  /* Muted from 1.8 s to 4.2 s: not one window of it reaches the receiver,
   * not even after unmute (the seed's client sent it then). */
  Receiver rx;
  BusLog log;
  speak (rx, 6,
      [] (GstElement *, GstElement *sink, GstElement *src, std::function<void (double)> at) {
        at (1.8);
        g_signal_emit_by_name (sink, "mute");
        tone_script (src, at);
        at (4.2);
        g_signal_emit_by_name (sink, "unmute");
      },
      log);
  std::vector<int16_t> pcm = rx.pcm (20);
  fail_unless_equals_int (windows_with_high_tone (pcm), 0);
  double seconds = pcm.size () / 16000.0;
  fail_unless (seconds > 3.0 && seconds < 4.0, "received %.3f s", seconds);
}
GST_END_TEST;

GST_START_TEST (test_end_session_signal)
{
  Receiver rx;
  BusLog log;
  /* 10 s of audio, ended after 2: both pipelines end, with the reason. */
  speak (rx, 10,
      [] (GstElement *, GstElement *sink, GstElement *, std::function<void (double)> at) {
        at (2.0);
        g_signal_emit_by_name (sink, "end-session", "Speaker ended session");
      },
      log, "");
  std::vector<int16_t> pcm = rx.pcm (20);
  double seconds = pcm.size () / 16000.0;
  fail_unless (seconds > 1.7 && seconds < 2.6, "received %.3f s", seconds);
  std::string reason = rx.end_reason ();
  fail_unless_equals_string (reason.c_str (), "Speaker ended session");
}
GST_END_TEST;

GST_START_TEST (test_pause_bound_is_reported)
{
  Receiver rx;
  BusLog log;
  speak (rx, 6,
      [] (GstElement *, GstElement *sink, GstElement *, std::function<void (double)> at) {
        at (1.0);
        g_signal_emit_by_name (sink, "pause");
        at (4.5);
        g_signal_emit_by_name (sink, "resume");
      },
      log, "end-session-on-eos=true max-pause-time=1000");
  std::vector<int16_t> pcm = rx.pcm (20);
  /* 3.5 s paused, 1 s kept: about 2.5 s dropped, and said so. */
  guint64 reported = 0;
  for (auto *d : log.warning_details)
    {
      guint64 c = 0;
      gst_structure_get_uint64 (d, "count", &c);
      reported += c;
    }
  fail_unless (reported >= 8 && reported <= 11, "reported %" G_GUINT64_FORMAT " dropped", reported);
  double seconds = pcm.size () / 16000.0;
  fail_unless (std::fabs (seconds - (6.0 - reported * 0.26)) < 0.3, "received %.3f s", seconds);
}
GST_END_TEST;

WSS_CHECK_MAIN (controls, "controls",
                { "controls", 120,
                  WSS_TESTS (test_action_signals, test_properties, test_bus_messages,
                             test_custom_events, test_muted_audio_never_sent,
                             test_end_session_signal, test_pause_bound_is_reported) });
