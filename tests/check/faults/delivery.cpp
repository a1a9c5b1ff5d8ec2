/* The sink's delivery guarantee beyond network faults: a non-live upload
 * waits for the receiver instead of dropping; refusals end the pipeline
 * with an error naming the cause and the fix; a session-id that cannot be
 * sent fails at start; audio dropped while paused is counted and
 * announced. One meson test per case (GST_CHECKS). */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "fault-rig.h"

GST_START_TEST (test_non_live_upload_waits_for_a_slow_receiver)
{
  /* One hour of WebM, produced as fast as the encoder goes, to a receiver
   * that sleeps 2 ms per message: render () must wait for room, not drop. */
  auto rig = FaultRig::without_acks ();
  rig->plain ()->set_read_delay_us (2000);
  gint64 t0 = g_get_monotonic_time ();
  Outcome o = rig->run (
      "audiotestsrc is-live=false wave=silence samplesperbuffer=16000 num-buffers=3600 "
      "! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000 frame-size=60 complexity=0 "
      "! webmmux streamable=true min-cluster-duration=1000000000 "
      "! wssaudiochunksink name=sink location=@URL@ session-id=upload chunk-duration=1000 "
      "max-backlog-time=5000 post-messages=false sync=false drain-timeout=120000 "
      "max-send-rate=0",
      600);
  fail_unless (o.queued >= 3500, "only %" G_GUINT64_FORMAT " chunks", o.queued);
  check_complete (o);
  /* A figure, not an assertion: the receiver needs at least 2 ms a chunk. */
  g_print ("uploaded %" G_GUINT64_FORMAT
           " chunks (1 h of audio) in %.1f s; the receiver alone needs %.1f s\n",
           o.queued, (g_get_monotonic_time () - t0) / 1e6, o.queued * 0.002);
}
GST_END_TEST;

/* Runs gst-launch-1.0 (-e) on @pipeline; returns its exit status and
 * output. */
static int
gst_launch (const std::string &pipeline, std::string &output)
{
  gchar **argv = NULL;
  std::string cmd = "gst-launch-1.0 -e " + pipeline;
  fail_unless (g_shell_parse_argv (cmd.c_str (), NULL, &argv, NULL));
  gchar *out = NULL, *err = NULL;
  gint status = 0;
  fail_unless (
      g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, NULL));
  output = std::string (out ? out : "") + (err ? err : "");
  g_free (out);
  g_free (err);
  g_strfreev (argv);
  return g_spawn_check_wait_status (status, NULL) ? 0 : 1;
}

static std::string
speaker (const std::string &url, const std::string &session, const std::string &extra = "")
{
  return "audiotestsrc is-live=true num-buffers=150 samplesperbuffer=320 ! "
         "audio/x-raw,rate=16000,channels=1 "
         "! opusenc bitrate=16000 ! webmmux streamable=true min-cluster-duration=250000000 "
         "! wssaudiochunksink location="
         + url + " session-id=" + session + " " + extra;
}

GST_START_TEST (test_refused_wrong_session_exits_non_zero)
{
  TestIngest ingest;
  ingest.set_only_session ("A");
  ingest.start ();
  std::string output;
  int status = gst_launch (speaker (ingest.url (), "B"), output);
  fail_unless (status != 0, "gst-launch-1.0 exited 0:\n%s", output.c_str ());
  fail_unless (output.find ("wrong-session") != std::string::npos, "%s", output.c_str ());
  fail_unless (output.find ("set session-id") != std::string::npos, "%s", output.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_refused_session_ended)
{
  auto rig = FaultRig::with_ingest ();
  std::string launch = speaker ("@URL@", "ended-once", "name=sink");
  Outcome first = rig->run (launch, 60);
  fail_unless (first.eos, "%s", first.error_message.c_str ());
  fail_unless_equals_int (rig->ingest ()->session_ends (), 1);
  /* The same session again: the receiver says it has ended. */
  Outcome second = rig->run (launch, 60);
  fail_unless (second.error, "the rerun of an ended session did not fail");
  fail_unless (second.error_message.find ("session \"ended-once\" was ended by the server")
                   != std::string::npos,
               "%s", second.error_message.c_str ());
  fail_unless (second.error_message.find ("new session-id") != std::string::npos, "%s",
               second.error_message.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_session_id_too_long_fails_at_start)
{
  auto rig = FaultRig::with_ingest ();
  std::string id (40 * 1024, 'x');
  Outcome o = rig->run (speaker ("@URL@", id, "name=sink"), 30);
  fail_unless (o.error);
  fail_unless (o.error_message.find ("session-id") != std::string::npos, "%s",
               o.error_message.c_str ());
  fail_unless_equals_uint64 (o.queued, 0);
  fail_unless (o.received.empty ());
}
GST_END_TEST;

GST_START_TEST (test_pause_past_the_bound_is_counted)
{
  /* Paused for 4 s with max-pause-time 1 s: about 3 s of audio cannot be
   * kept. It is counted in stats and announced with its index range. */
  auto rig = FaultRig::with_ingest (1);
  Outcome o = rig->stream (8, "max-pause-time=1000", [&] (Timeline &tl, GstElement *sink) {
    tl.at (2);
    g_object_set (sink, "paused", TRUE, NULL);
    tl.at (6);
    g_object_set (sink, "paused", FALSE, NULL);
  });
  fail_unless (o.dropped >= 8, "%" G_GUINT64_FORMAT " dropped", o.dropped);
  bool paused_reason = false;
  for (const auto &r : o.reported)
    paused_reason |= r.reason == "paused";
  fail_unless (paused_reason);
  /* Warnings per episode, not per chunk. */
  fail_unless (o.reported.size () <= 5, "%zu warnings", o.reported.size ());
  check_accounted (o, 8);
}
GST_END_TEST;

WSS_CHECK_MAIN (delivery, "delivery",
                { "delivery", 600,
                  WSS_TESTS (test_non_live_upload_waits_for_a_slow_receiver,
                             test_refused_wrong_session_exits_non_zero, test_refused_session_ended,
                             test_session_id_too_long_fails_at_start,
                             test_pause_past_the_bound_is_counted) });
