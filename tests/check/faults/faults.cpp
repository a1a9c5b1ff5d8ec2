/* The fault-injection suite: a live 16 kbps speaker streams through real
 * network faults into our receiver (IngestServer, in-process so it can be
 * killed and restarted, losing its state) or into a plain server that never
 * acks (the original protocol's backend). For each fault: every chunk
 * 0..N-1 arrived or was reported lost (with acks: arrived), no chunk came
 * more often than it was attempted, and the reassembled stream decodes with
 * GStreamer and with ffmpeg to the sent duration minus what was reported
 * lost.
 *
 * Each case is its own meson test (GST_CHECKS selects it), so they run in
 * parallel. A line per case goes to $WSSAC_FAULT_REPORT for
 * docs/reliability.md. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "fault-rig.h"

/* The sink's default max-attempts. */
static const unsigned kMaxAttempts = 8;
/* One 260 ms cluster per chunk (20 ms Opus frames, 250 ms clusters). */
static const double kChunkSeconds = 0.26;

/* ---- our receiver (acks) ---- */

/* At least @reconnects reconnects and every chunk arrived once
 * (check_complete); then the report line. */
static void
check_complete_after_reconnects (Outcome &o, guint64 reconnects, const char *fault,
                                 const char *outage, double expected_seconds)
{
  fail_unless (o.reconnects >= reconnects,
               "%" G_GUINT64_FORMAT " reconnects, expected %" G_GUINT64_FORMAT " or more",
               o.reconnects, reconnects);
  check_complete (o);
  check_and_report (fault, outage, o, expected_seconds);
}

GST_START_TEST (test_server_killed_and_restarted)
{
  auto rig = FaultRig::with_ingest ();
  TestIngest &ingest = *rig->ingest ();
  Outcome o = rig->stream (12, "", [&] (Timeline &tl, GstElement *) {
    for (int i = 1; i <= 10; i++)
      {
        tl.at (i * 1.0);
        ingest.stop (); /* state lost, connection dropped */
        g_usleep (200 * 1000);
        ingest.start (ingest.port ());
      }
  });
  fail_unless_equals_int (ingest.incarnations (), 11);
  check_complete_after_reconnects (o, 10, "server killed and restarted x10", "0.2 s each", 12.0);
}
GST_END_TEST;

/* What a hung server's TCP took and the server never read is not
 * delivered, even when the server then closes cleanly (1001): a receiver
 * that promises acks is believed by its acks alone (delivery-ledger.h). */
GST_START_TEST (test_server_hangs_then_restarted)
{
  auto rig = FaultRig::with_ingest ();
  TestIngest &ingest = *rig->ingest ();
  Outcome o = rig->stream (8, "", [&] (Timeline &tl, GstElement *) {
    for (int i = 1; i <= 3; i++)
      {
        tl.at (i * 2.0);
        ingest.hang_then_stop (1500);
        ingest.start (ingest.port ());
      }
  });
  fail_unless_equals_int (ingest.incarnations (), 4);
  check_complete_after_reconnects (o, 3, "server hung, then restarted x3", "1.5 s each", 8.0);
}
GST_END_TEST;

GST_START_TEST (test_gateway_cuts)
{
  /* API Gateway closes every connection after 2 h with 1001: compressed to
   * 2 s. A clean close with acks: nothing lost. */
  auto rig = FaultRig::with_ingest ();
  Outcome o = rig->stream (10, "", [&] (Timeline &tl, GstElement *) {
    for (int i = 1; i <= 4; i++)
      {
        tl.at (i * 2.0);
        rig->ingest ()->close_all (1001);
      }
  });
  check_complete_after_reconnects (o, 4, "close 1001 every 2 s (gateway cut)", "reconnect", 10.0);
}
GST_END_TEST;

GST_START_TEST (test_connection_age_make_before_break)
{
  /* max-connection-age against our receiver: the new connection carries the
   * same run (streamId), so the receiver hands the session over to it
   * instead of refusing it as a second speaker (session-claimed, which the
   * sink would answer with a reconnect). No loss, no duplicate, and a
   * handover is not a reconnect. */
  auto rig = FaultRig::with_ingest (1);
  Outcome o = rig->stream (10, "max-connection-age=2000", nullptr);
  fail_unless_equals_uint64 (o.reconnects, 0);
  check_complete (o, 0);
  check_and_report ("max-connection-age=2 s, our receiver", "none", o, 10.0);
}
GST_END_TEST;

/* A gateway that cuts every connection at 3 s while the sink moves at 2 s:
 * the server must see each new connection upgraded before the old one
 * closes, and the old one closed by the sink with 1000. */
static void
check_handovers (const GatewayServer &gw)
{
  std::vector<unsigned> codes = gw.overlapping_closes ();
  fail_unless (!codes.empty (), "no connection was upgraded before the previous one closed");
  for (unsigned code : codes)
    fail_unless_equals_int (code, 1000);
}

/* 10 s with max-connection-age=2000 behind a gateway that cuts at 3 s, its
 * backend acking or not: every chunk arrives once and every handover is
 * make-before-break. */
static Outcome
stream_with_age_before_the_cut (bool acks)
{
  auto rig = FaultRig::behind_gateway (3000, acks);
  Outcome o = rig->stream (10, "max-connection-age=2000", nullptr);
  check_complete (o, 0);
  check_handovers (*rig->gateway ());
  g_print ("gateway cuts: %u\n", rig->gateway ()->cuts ());
  return o;
}

GST_START_TEST (test_connection_age_before_the_gateway_cut)
{
  Outcome o = stream_with_age_before_the_cut (true);
  check_and_report ("max-connection-age=2 s, gateway cut at 3 s", "none", o, 10.0);
}
GST_END_TEST;

GST_START_TEST (test_connection_age_before_the_gateway_cut_no_acks)
{
  /* The original protocol's backend never acks: the old connection's
   * chunks are confirmed by TCP evidence and the hold time. */
  Outcome o = stream_with_age_before_the_cut (false);
  fail_unless_equals_uint64 (o.replayed, 0);
  check_and_report ("max-connection-age=2 s, gateway cut at 3 s", "none", o, 10.0);
}
GST_END_TEST;

GST_START_TEST (test_connection_age_next_refused_for_a_while)
{
  /* The first two attempts at a next connection are refused (503): the
   * sink keeps sending on the old one and tries again with backoff. */
  auto rig = FaultRig::behind_gateway (6000, true);
  rig->gateway ()->refuse_upgrades (2, 2);
  Outcome o = rig->stream (10, "max-connection-age=2000", nullptr);
  fail_unless_equals_int (rig->gateway ()->refused (), 2);
  check_complete (o, 0);
  check_handovers (*rig->gateway ());
  check_and_report ("max-connection-age=2 s, next refused twice", "none", o, 10.0);
}
GST_END_TEST;

GST_START_TEST (test_connection_age_old_dies_first)
{
  /* Without acks, a gateway that resets the old connection as soon as the
   * new one is upgraded: what the old one had not confirmed is replayed on
   * the new one. Nothing lost; copies only of replayed chunks. */
  auto rig = FaultRig::behind_gateway (60000, false);
  rig->gateway ()->reset_older_on_upgrade (true);
  Outcome o = rig->stream (10, "max-connection-age=2000", nullptr);
  check_complete (o);
  check_accounted (o, kMaxAttempts);
  fail_unless (o.duplicates () <= o.replayed, "%zu duplicates, %" G_GUINT64_FORMAT " replays",
               o.duplicates (), o.replayed);
  fail_unless_equals_uint64 (o.reconnects, 0);
  check_and_report ("max-connection-age=2 s, old one reset at the switch", "none", o, 10.0);
}
GST_END_TEST;

/* The proxy resets every connection (TCP reset, no close frame) at 2, 4, 6
 * and 8 s. */
static FaultScript
resets_every_2_s (FaultProxy &proxy)
{
  return [&proxy] (Timeline &tl, GstElement *) {
    for (int i = 1; i <= 4; i++)
      {
        tl.at (i * 2.0);
        proxy.cut_all ();
      }
  };
}

/* From @from s the proxy cuts every connection and refuses upgrades (503),
 * until @to s. */
static FaultScript
refused_between (FaultProxy &proxy, double from, double to)
{
  return [&proxy, from, to] (Timeline &tl, GstElement *) {
    tl.at (from);
    proxy.set_refusing (true);
    proxy.cut_all ();
    tl.at (to);
    proxy.set_refusing (false);
  };
}

GST_START_TEST (test_network_drops)
{
  auto rig = FaultRig::with_ingest ();
  FaultProxy &proxy = rig->add_proxy ();
  Outcome o = rig->stream (10, "", resets_every_2_s (proxy));
  check_complete_after_reconnects (o, 4, "TCP reset every 2 s (no close frame)", "reconnect", 10.0);
}
GST_END_TEST;

GST_START_TEST (test_close_codes)
{
  auto rig = FaultRig::with_ingest ();
  FaultProxy &proxy = rig->add_proxy ();
  Outcome o = rig->stream (9, "", [&] (Timeline &tl, GstElement *) {
    tl.at (2);
    rig->ingest ()->close_all (1001);
    tl.at (4);
    rig->ingest ()->close_all (1011);
    tl.at (6);
    proxy.cut_all (); /* what the client reports as 1006 */
  });
  check_complete_after_reconnects (o, 3, "close 1001, 1011, then 1006", "reconnect", 9.0);
}
GST_END_TEST;

GST_START_TEST (test_upgrade_refused_for_a_while)
{
  auto rig = FaultRig::with_ingest ();
  FaultProxy &proxy = rig->add_proxy ();
  Outcome o = rig->stream (9, "", refused_between (proxy, 2, 5));
  check_complete (o);
  check_and_report ("upgrade refused (503)", "3 s", o, 9.0);
}
GST_END_TEST;

GST_START_TEST (test_stalled_reads)
{
  auto rig = FaultRig::with_ingest ();
  /* A small receive buffer: a server that stops reading pushes back at once. */
  FaultProxy &proxy = rig->add_proxy (4096);
  guint64 backlog_mid = 0;
  Outcome o = rig->stream (26, "max-in-flight=8192", [&] (Timeline &tl, GstElement *sink) {
    tl.at (3);
    proxy.set_stalled (true);
    tl.at (21);
    GstStructure *st = NULL;
    g_object_get (sink, "stats", &st, NULL);
    gst_structure_get_uint64 (st, "backlog-chunks", &backlog_mid);
    gst_structure_free (st);
    tl.at (23);
    proxy.set_stalled (false);
  });
  /* The stalled audio waited in our bounded backlog, not in libsoup. */
  fail_unless (backlog_mid >= 40, "backlog held only %" G_GUINT64_FORMAT " chunks during the stall",
               backlog_mid);
  check_complete (o);
  check_and_report ("server stops reading", "20 s", o, 26.0);
}
GST_END_TEST;

GST_START_TEST (test_backlog_overflow_is_counted)
{
  auto rig = FaultRig::with_ingest (
      1); /* ack every chunk: what the sink holds is exactly what is missing */
  FaultProxy &proxy = rig->add_proxy ();
  Outcome o = rig->stream (10, "max-backlog-time=2000", refused_between (proxy, 2, 7));
  fail_unless (o.dropped > 0);
  /* What never arrived is exactly what the sink said it dropped. */
  fail_unless_equals_uint64 (o.queued - o.received.size (), o.dropped);
  check_accounted (o, kMaxAttempts);
  check_and_report ("outage past max-backlog-time=2 s", "5 s", o, 10.0 - o.dropped * kChunkSeconds);
}
GST_END_TEST;

GST_START_TEST (test_half_open_connection)
{
  /* The path dies silently: neither side sees a close. The sink's watchdog
   * replaces its connection; the server still holds the old one and refuses
   * the session ("session-claimed") until its own watchdog drops it; the
   * sink keeps retrying and replays what was refused. */
  auto rig = FaultRig::with_ingest (4, 4);
  FaultProxy &proxy = rig->add_proxy ();
  Outcome o = rig->stream (14, "keepalive-interval=1000 keepalive-timeout=3000",
                           [&] (Timeline &tl, GstElement *) {
                             tl.at (2);
                             proxy.blackhole_existing ();
                           });
  check_complete_after_reconnects (o, 1, "path goes silent (half-open)", "3-4 s detection", 14.0);
}
GST_END_TEST;

/* ---- a server that never acks ---- */

/* The server crashes (TCP reset) after every @n messages of a connection,
 * and the gateway in front answers 503 for 1.5 s after each crash. */
static void
abort_every (unsigned n, int seconds, const char *name, double max_duplicate_share)
{
  auto rig = FaultRig::without_acks ();
  FaultProxy &proxy = rig->add_proxy ();
  rig->plain ()->set_abort_every (n, [&proxy] { proxy.refuse_for (1500); });
  Outcome o = rig->stream (seconds, "", nullptr);
  fail_unless (rig->plain ()->aborts () >= 2, "only %u aborts", rig->plain ()->aborts ());
  fail_unless (proxy.refused () >= 1);
  check_accounted (o, kMaxAttempts);
  if (max_duplicate_share < 1.0)
    fail_unless (o.duplicates () < max_duplicate_share * o.queued,
                 "%zu duplicates for %" G_GUINT64_FORMAT " chunks", o.duplicates (), o.queued);
  /* Forward progress: the stream got through, not the same first chunks
   * over and over. */
  fail_unless (o.received.size () + o.dropped >= o.queued);
  size_t missing = o.queued - o.received.size ();
  check_and_report (name, "1.5 s of 503 each", o, seconds - missing * kChunkSeconds,
                    0.04 + missing * 0.02);
}

GST_START_TEST (test_no_acks_abort_every_5)
{
  abort_every (5, 8, "no acks: TCP abort every 5 messages", 1.0);
}
GST_END_TEST;

GST_START_TEST (test_no_acks_abort_every_15)
{
  abort_every (15, 12, "no acks: TCP abort every 15 messages", 1.0);
}
GST_END_TEST;

GST_START_TEST (test_no_acks_abort_every_40)
{
  abort_every (40, 24, "no acks: TCP abort every 40 messages", 0.10);
}
GST_END_TEST;

GST_START_TEST (test_no_acks_read_stall)
{
  auto rig = FaultRig::without_acks ();
  FaultProxy &proxy = rig->add_proxy (4096);
  Outcome o = rig->stream (10, "", [&] (Timeline &tl, GstElement *) {
    tl.at (2);
    proxy.set_stalled (true);
    tl.at (6);
    proxy.set_stalled (false);
  });
  check_accounted (o, kMaxAttempts);
  check_complete (o);
  check_and_report ("no acks: server stops reading", "4 s", o, 10.0);
}
GST_END_TEST;

GST_START_TEST (test_no_acks_network_drops)
{
  auto rig = FaultRig::without_acks ();
  FaultProxy &proxy = rig->add_proxy ();
  Outcome o = rig->stream (10, "", resets_every_2_s (proxy));
  fail_unless (o.reconnects >= 4);
  check_accounted (o, kMaxAttempts);
  size_t missing = o.queued - o.received.size ();
  check_and_report ("no acks: TCP reset every 2 s", "reconnect", o, 10.0 - missing * kChunkSeconds,
                    0.04 + missing * 0.02);
}
GST_END_TEST;

static void
blackhole (bool watchdog, const char *name)
{
  auto rig = FaultRig::without_acks ();
  FaultProxy &proxy = rig->add_proxy (4096);
  std::string extra = watchdog ? "keepalive-interval=1000 keepalive-timeout=3000 connect-timeout=3000"
                               : "keepalive-timeout=0";
  Outcome o = rig->stream (16, extra, [&] (Timeline &tl, GstElement *) {
    tl.at (2);
    proxy.blackhole_for (10000);
  });
  check_accounted (o, kMaxAttempts);
  size_t missing = o.queued - o.received.size ();
  check_and_report (name, "10 s", o, 16.0 - missing * kChunkSeconds, 0.04 + missing * 0.02);
}

GST_START_TEST (test_no_acks_blackhole)
{
  blackhole (false, "no acks: path blackholed, no pong watchdog");
}
GST_END_TEST;

GST_START_TEST (test_no_acks_blackhole_watchdog)
{
  blackhole (true, "no acks: path blackholed, pong watchdog 3 s");
}
GST_END_TEST;

WSS_CHECK_MAIN (
    faults, "faults",
    { "faults", 170,
      WSS_TESTS (test_server_killed_and_restarted, test_server_hangs_then_restarted, test_gateway_cuts,
                 test_connection_age_make_before_break, test_connection_age_before_the_gateway_cut,
                 test_connection_age_before_the_gateway_cut_no_acks,
                 test_connection_age_next_refused_for_a_while, test_connection_age_old_dies_first,
                 test_network_drops, test_close_codes, test_upgrade_refused_for_a_while,
                 test_stalled_reads, test_backlog_overflow_is_counted, test_half_open_connection,
                 test_no_acks_abort_every_5, test_no_acks_abort_every_15,
                 test_no_acks_abort_every_40, test_no_acks_read_stall, test_no_acks_network_drops,
                 test_no_acks_blackhole, test_no_acks_blackhole_watchdog) });
