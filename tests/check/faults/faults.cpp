/* The fault-injection suite: a live 16 kbps speaker streams through real
 * network faults into our receiver (IngestServer, in-process so it can be
 * killed and restarted, losing its state). For each fault: the receiver's
 * chunk set is exactly 0..N-1 (or, past the backlog bound, short by exactly
 * what the sink reported dropped), and the reassembled stream decodes with
 * GStreamer and with ffmpeg to the sent duration.
 *
 * Each case is its own meson test (GST_CHECKS selects it), so they run in
 * parallel. A line per case goes to $WSSAC_FAULT_REPORT for
 * docs/reliability.md. */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>

#include "fault-proxy.h"
#include "test-ingest.h"
#include "message-codec.h"
#include "test-util.h"
#include "ws-test-server.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <thread>

using Clock = std::chrono::steady_clock;

struct Timeline
{
  Clock::time_point t0 = Clock::now ();
  void at (double seconds) { std::this_thread::sleep_until (t0 + std::chrono::milliseconds ((int) (seconds * 1000))); }
};

struct Outcome
{
  guint64 queued = 0, sent = 0, dropped = 0, replayed = 0, reconnects = 0;
  guint64 reported_on_bus = 0;
  std::map<uint64_t, std::vector<uint8_t>> received;
  size_t deliveries = 0;
  double gst_seconds = 0, ffmpeg_seconds = 0;
  GstStructure *mid_stats = nullptr;
};

/* Streams @seconds of live audio to @url while @faults runs on a thread. */
static void
stream_through (const std::string &url, int seconds, const char *extra, TestIngest &ingest,
    std::function<void (Timeline &, GstElement *sink, Outcome &)> faults, Outcome &out)
{
  gchar *desc = g_strdup_printf ("audiotestsrc is-live=true num-buffers=%d samplesperbuffer=320 wave=sine freq=440 "
                                 "! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000 "
                                 "! webmmux streamable=true min-cluster-duration=250000000 "
                                 "! wssaudiochunksink name=sink location=%s session-id=faults retry-delay=100 "
                                 "max-retry-delay=500 end-session-on-eos=true drain-timeout=30 post-messages=false %s",
      seconds * 50, url.c_str (), extra);
  GstElement *p = gst_parse_launch (desc, NULL);
  g_free (desc);
  fail_unless (p != NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");

  Timeline tl;
  std::thread fault_thread ([&] { faults (tl, sink, out); });
  BusLog log;
  run_pipeline (p, seconds + 60, log);
  fault_thread.join ();
  fail_unless (log.eos, "speaker did not finish: %s %s", log.error_message.c_str (), log.error_debug.c_str ());
  if (ingest.deliveries () > 0)
    ingest.wait_for_end (10000);

  GstStructure *st = NULL;
  g_object_get (sink, "stats", &st, NULL);
  gst_structure_get_uint64 (st, "chunks-queued", &out.queued);
  gst_structure_get_uint64 (st, "chunks-sent", &out.sent);
  gst_structure_get_uint64 (st, "chunks-dropped", &out.dropped);
  gst_structure_get_uint64 (st, "chunks-replayed", &out.replayed);
  gst_structure_get_uint64 (st, "reconnects", &out.reconnects);
  gst_structure_free (st);
  for (auto *d : log.warning_details)
    {
      guint64 count = 0;
      if (gst_structure_get_uint64 (d, "count", &count))
        out.reported_on_bus += count;
    }
  out.received = ingest.chunks ();
  out.deliveries = ingest.deliveries ();
  gst_object_unref (sink);
  gst_object_unref (p);
}

static std::vector<uint8_t>
reassemble (const Outcome &o)
{
  std::vector<uint8_t> all;
  for (const auto &kv : o.received)
    all.insert (all.end (), kv.second.begin (), kv.second.end ());
  return all;
}

static double
ffmpeg_seconds (const std::vector<uint8_t> &webm)
{
  gchar *dir = g_dir_make_tmp ("wssac-faults-XXXXXX", NULL);
  gchar *in = g_build_filename (dir, "chunks.webm", NULL);
  gchar *pcm = g_build_filename (dir, "out.pcm", NULL);
  fail_unless (g_file_set_contents (in, (const gchar *) webm.data (), webm.size (), NULL));
  const gchar *argv[] = { "ffmpeg", "-nostdin", "-v", "error", "-y", "-i", in, "-f", "s16le", "-ar", "16000", "-ac", "1",
    pcm, NULL };
  gchar *err = NULL;
  gint status = 0;
  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &err, &status, NULL));
  fail_unless (g_spawn_check_wait_status (status, NULL), "ffmpeg failed: %s", err);
  fail_unless (err == NULL || *err == '\0', "ffmpeg reported: %s", err);
  GStatBuf sb;
  fail_unless (g_stat (pcm, &sb) == 0);
  g_unlink (in);
  g_unlink (pcm);
  g_rmdir (dir);
  g_free (err);
  g_free (in);
  g_free (pcm);
  g_free (dir);
  return sb.st_size / 32000.0;
}

/* Decodes the reassembled stream both ways and writes the report line. */
static void
check_and_report (const char *fault, const char *outage, Outcome &o, double expected_seconds)
{
  std::vector<uint8_t> stream = reassemble (o);
  std::vector<int16_t> pcm;
  int rate, channels;
  std::string error;
  fail_unless (decode_opus_container (stream, false, pcm, rate, channels, error), "GStreamer: %s", error.c_str ());
  o.gst_seconds = (double) pcm.size () / channels / rate;
  o.ffmpeg_seconds = ffmpeg_seconds (stream);
  fail_unless (std::fabs (o.gst_seconds - expected_seconds) <= 0.04, "GStreamer decoded %.3f s of %.3f",
      o.gst_seconds, expected_seconds);
  fail_unless (std::fabs (o.ffmpeg_seconds - expected_seconds) <= 0.04, "ffmpeg decoded %.3f s of %.3f",
      o.ffmpeg_seconds, expected_seconds);

  gchar *line = g_strdup_printf ("| %s | %s | %" G_GUINT64_FORMAT " | %zu | %" G_GUINT64_FORMAT " | %" G_GUINT64_FORMAT
                                 " | %" G_GUINT64_FORMAT " | %" G_GUINT64_FORMAT " | %zu | %.3f / %.3f |\n",
      fault, outage, o.queued, o.received.size (), o.queued - o.received.size (), o.dropped, o.reconnects, o.replayed,
      o.deliveries - o.received.size (), o.gst_seconds, o.ffmpeg_seconds);
  g_print ("%s", line);
  const char *report = g_getenv ("WSSAC_FAULT_REPORT");
  if (report)
    {
      FILE *f = fopen (report, "a");
      if (f)
        {
          fputs (line, f);
          fclose (f);
        }
    }
  g_free (line);
}

/* No loss: every index 0..N-1 arrived, nothing reported dropped. */
static void
check_complete (const Outcome &o)
{
  fail_unless (o.queued > 0);
  fail_unless_equals_uint64 (o.dropped, 0);
  fail_unless_equals_uint64 (o.reported_on_bus, 0);
  fail_unless_equals_uint64 (o.received.size (), o.queued);
  uint64_t expect = 0;
  for (const auto &kv : o.received)
    fail_unless_equals_uint64 (kv.first, expect++);
}

GST_START_TEST (test_server_killed_and_restarted)
{
  TestIngest ingest;
  ingest.start ();
  Outcome o;
  stream_through (ingest.url (), 12, "", ingest,
      [&] (Timeline &tl, GstElement *, Outcome &) {
        for (int i = 1; i <= 10; i++)
          {
            tl.at (i * 1.0);
            ingest.stop (); /* state lost, connection dropped */
            g_usleep (200 * 1000);
            ingest.start (ingest.port ());
          }
      },
      o);
  fail_unless_equals_int (ingest.incarnations (), 11);
  fail_unless (o.reconnects >= 10);
  check_complete (o);
  check_and_report ("server killed and restarted x10", "0.2 s each", o, 12.0);
}
GST_END_TEST;

GST_START_TEST (test_gateway_cuts)
{
  /* API Gateway closes every connection after 2 h with 1001: compressed to 2 s. */
  TestIngest ingest;
  ingest.start ();
  Outcome o;
  stream_through (ingest.url (), 10, "", ingest,
      [&] (Timeline &tl, GstElement *, Outcome &) {
        for (int i = 1; i <= 4; i++)
          {
            tl.at (i * 2.0);
            ingest.close_all (1001);
          }
      },
      o);
  fail_unless (o.reconnects >= 4);
  check_complete (o);
  check_and_report ("close 1001 every 2 s (gateway cut)", "reconnect", o, 10.0);
}
GST_END_TEST;

GST_START_TEST (test_network_drops)
{
  TestIngest ingest;
  ingest.start ();
  FaultProxy proxy (ingest.port ());
  Outcome o;
  stream_through ("ws://127.0.0.1:" + std::to_string (proxy.port ()) + "/ws", 10, "", ingest,
      [&] (Timeline &tl, GstElement *, Outcome &) {
        for (int i = 1; i <= 4; i++)
          {
            tl.at (i * 2.0);
            proxy.cut_all (); /* TCP reset, no close frame */
          }
      },
      o);
  fail_unless (o.reconnects >= 4);
  check_complete (o);
  check_and_report ("TCP reset every 2 s (no close frame)", "reconnect", o, 10.0);
}
GST_END_TEST;

GST_START_TEST (test_close_codes)
{
  TestIngest ingest;
  ingest.start ();
  FaultProxy proxy (ingest.port ());
  Outcome o;
  stream_through ("ws://127.0.0.1:" + std::to_string (proxy.port ()) + "/ws", 9, "", ingest,
      [&] (Timeline &tl, GstElement *, Outcome &) {
        tl.at (2);
        ingest.close_all (1001);
        tl.at (4);
        ingest.close_all (1011);
        tl.at (6);
        proxy.cut_all (); /* what the client reports as 1006 */
      },
      o);
  fail_unless (o.reconnects >= 3);
  check_complete (o);
  check_and_report ("close 1001, 1011, then 1006", "reconnect", o, 9.0);
}
GST_END_TEST;

GST_START_TEST (test_upgrade_refused_for_a_while)
{
  TestIngest ingest;
  ingest.start ();
  FaultProxy proxy (ingest.port ());
  Outcome o;
  stream_through ("ws://127.0.0.1:" + std::to_string (proxy.port ()) + "/ws", 9, "", ingest,
      [&] (Timeline &tl, GstElement *, Outcome &) {
        tl.at (2);
        proxy.set_refusing (true);
        proxy.cut_all ();
        tl.at (5);
        proxy.set_refusing (false);
      },
      o);
  check_complete (o);
  check_and_report ("upgrade refused (503)", "3 s", o, 9.0);
}
GST_END_TEST;

GST_START_TEST (test_stalled_reads)
{
  TestIngest ingest;
  ingest.start ();
  /* A small receive buffer: a server that stops reading pushes back at once. */
  FaultProxy proxy (ingest.port (), 4096);
  Outcome o;
  guint64 backlog_mid = 0;
  stream_through ("ws://127.0.0.1:" + std::to_string (proxy.port ()) + "/ws", 26, "max-in-flight=8192", ingest,
      [&] (Timeline &tl, GstElement *sink, Outcome &) {
        tl.at (3);
        proxy.set_stalled (true);
        tl.at (21);
        GstStructure *st = NULL;
        g_object_get (sink, "stats", &st, NULL);
        gst_structure_get_uint64 (st, "backlog-chunks", &backlog_mid);
        gst_structure_free (st);
        tl.at (23);
        proxy.set_stalled (false);
      },
      o);
  /* The stalled audio waited in our bounded backlog, not in libsoup. */
  fail_unless (backlog_mid >= 40, "backlog held only %" G_GUINT64_FORMAT " chunks during the stall", backlog_mid);
  check_complete (o);
  check_and_report ("server stops reading", "20 s", o, 26.0);
}
GST_END_TEST;

GST_START_TEST (test_backlog_overflow_is_counted)
{
  TestIngest ingest (1); /* ack every chunk: what the sink holds is exactly what is missing */
  ingest.start ();
  FaultProxy proxy (ingest.port ());
  Outcome o;
  stream_through ("ws://127.0.0.1:" + std::to_string (proxy.port ()) + "/ws", 10, "max-backlog-time=2000000000",
      ingest,
      [&] (Timeline &tl, GstElement *, Outcome &) {
        tl.at (2);
        proxy.set_refusing (true);
        proxy.cut_all ();
        tl.at (7);
        proxy.set_refusing (false);
      },
      o);
  fail_unless (o.dropped > 0);
  /* What never arrived is exactly what the sink said it dropped. */
  fail_unless_equals_uint64 (o.queued - o.received.size (), o.dropped);
  fail_unless_equals_uint64 (o.reported_on_bus, o.dropped);
  double lost = o.dropped * 0.26; /* one 260 ms cluster per chunk */
  check_and_report ("outage past max-backlog-time=2 s", "5 s", o, 10.0 - lost);
}
GST_END_TEST;

GST_START_TEST (test_network_drops_without_acks)
{
  /* A third-party server that never acks: the sink falls back on its replay
   * window (re-sends what it sent in the last 5 s) and the receiver drops
   * duplicates by chunkIndex. */
  WsTestServer server;
  server.start ();
  FaultProxy proxy (server.port ());
  TestIngest unused; /* stream_through wants one; nothing connects to it */
  unused.start ();
  Outcome o;
  stream_through ("ws://127.0.0.1:" + std::to_string (proxy.port ()) + "/ws", 10, "", unused,
      [&] (Timeline &tl, GstElement *, Outcome &) {
        for (int i = 1; i <= 4; i++)
          {
            tl.at (i * 2.0);
            proxy.cut_all ();
          }
      },
      o);
  for (const auto &text : server.messages ())
    {
      wssac::DecodeResult r = wssac::decode_message (text.data (), text.size ());
      fail_unless (r.ok (), "%s", r.detail.c_str ());
      if (r.message.action != wssac::Action::AudioChunk)
        continue;
      o.deliveries++;
      o.received.emplace (r.message.chunk_index, r.message.audio);
    }
  fail_unless (o.reconnects >= 4);
  fail_unless (o.replayed > 0);
  check_complete (o);
  check_and_report ("TCP reset every 2 s, server without acks", "reconnect", o, 10.0);
}
GST_END_TEST;

GST_START_TEST (test_half_open_connection)
{
  /* The path dies silently: neither side sees a close. The sink's watchdog
   * replaces its connection; the server still holds the old one and refuses
   * the session ("session-claimed") until its own watchdog drops it; the
   * sink keeps retrying and replays what was refused. */
  TestIngest ingest (4, 4);
  ingest.start ();
  FaultProxy proxy (ingest.port ());
  Outcome o;
  stream_through ("ws://127.0.0.1:" + std::to_string (proxy.port ()) + "/ws", 14,
      "keepalive-interval=1 keepalive-timeout=3", ingest,
      [&] (Timeline &tl, GstElement *, Outcome &) {
        tl.at (2);
        proxy.blackhole_existing ();
      },
      o);
  fail_unless (o.reconnects >= 1);
  check_complete (o);
  check_and_report ("path goes silent (half-open)", "3-4 s detection", o, 14.0);
}
GST_END_TEST;

static Suite *
faults_suite (void)
{
  Suite *s = suite_create ("faults");
  TCase *tc = tcase_create ("faults");
  tcase_set_timeout (tc, 150);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_server_killed_and_restarted);
  tcase_add_test (tc, test_gateway_cuts);
  tcase_add_test (tc, test_network_drops);
  tcase_add_test (tc, test_close_codes);
  tcase_add_test (tc, test_upgrade_refused_for_a_while);
  tcase_add_test (tc, test_stalled_reads);
  tcase_add_test (tc, test_backlog_overflow_is_counted);
  tcase_add_test (tc, test_network_drops_without_acks);
  tcase_add_test (tc, test_half_open_connection);
  return s;
}

GST_CHECK_MAIN (faults);
