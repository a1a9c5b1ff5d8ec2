#include "fault-rig.h"

#include "message-codec.h"

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>

#include <cmath>
#include <thread>

void
Timeline::at (double seconds)
{
  std::this_thread::sleep_until (t0 + std::chrono::milliseconds ((int)(seconds * 1000)));
}

unsigned
Outcome::max_copies () const
{
  unsigned m = 0;
  for (const auto &kv : copies)
    m = std::max (m, kv.second);
  return m;
}

template <typename Server>
std::unique_ptr<FaultRig>
FaultRig::around (std::unique_ptr<Server> FaultRig::*slot, std::unique_ptr<Server> server)
{
  auto rig = std::make_unique<FaultRig> ();
  server->start ();
  (*rig).*slot = std::move (server);
  return rig;
}

std::unique_ptr<FaultRig>
FaultRig::with_ingest (unsigned ack_every, unsigned peer_timeout_s)
{
  return around (&FaultRig::ingest_, std::make_unique<TestIngest> (ack_every, peer_timeout_s));
}

std::unique_ptr<FaultRig>
FaultRig::without_acks ()
{
  return around (&FaultRig::plain_, std::make_unique<WsTestServer> ());
}

std::unique_ptr<FaultRig>
FaultRig::behind_gateway (int64_t hard_age_ms, bool acks)
{
  return around (&FaultRig::gateway_, std::make_unique<GatewayServer> (hard_age_ms, acks));
}

#define FAULT_RIG_SERVER(type, name)                                                               \
  type *FaultRig::name () const                                                                    \
  {                                                                                                \
    return name##_.get ();                                                                         \
  }
FAULT_RIG_SERVER (TestIngest, ingest)
FAULT_RIG_SERVER (WsTestServer, plain)
FAULT_RIG_SERVER (GatewayServer, gateway)
FAULT_RIG_SERVER (FaultProxy, proxy)
#undef FAULT_RIG_SERVER

FaultProxy &
FaultRig::add_proxy (int rcvbuf)
{
  proxy_ = std::make_unique<FaultProxy> (ingest_ ? ingest_->port () : plain_->port (), rcvbuf);
  return *proxy_;
}

std::string
FaultRig::url () const
{
  if (proxy_)
    return "ws://127.0.0.1:" + std::to_string (proxy_->port ()) + "/ws";
  if (gateway_)
    return gateway_->url ();
  return ingest_ ? ingest_->url () : plain_->url ();
}

Outcome
FaultRig::stream (int seconds, const std::string &extra, FaultScript faults)
{
  gchar *desc = g_strdup_printf (
      "audiotestsrc is-live=true num-buffers=%d samplesperbuffer=320 wave=sine freq=440 "
      "! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000 "
      "! webmmux streamable=true min-cluster-duration=250000000 "
      "! wssaudiochunksink name=sink location=@URL@ session-id=faults retry-delay=100 "
      "max-retry-delay=500 drain-timeout=60000 post-messages=false %s",
      seconds * 50, extra.c_str ());
  std::string launch = desc;
  g_free (desc);
  return run (launch, seconds + 90, faults);
}

Outcome
FaultRig::run (const std::string &launch, int timeout_s, FaultScript faults)
{
  std::string desc = launch;
  size_t at = desc.find ("@URL@");
  if (at != std::string::npos)
    desc.replace (at, 5, url ());
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc.c_str (), &err);
  fail_unless (p != NULL, "%s", err ? err->message : "");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");

  Outcome out;
  Timeline tl;
  std::thread fault_thread ([&] {
    if (faults)
      faults (tl, sink);
  });
  BusLog log;
  run_pipeline (p, timeout_s, log);
  fault_thread.join ();
  out.eos = log.eos;
  out.error = log.error;
  out.error_message = log.error_message + " " + log.error_debug;
  fail_unless (!log.timed_out, "the pipeline did not finish within %d s", timeout_s);
  if (ingest_ && ingest_->deliveries () > 0)
    ingest_->wait_for_end (10000);
  if (plain_)
    plain_->wait_for_closed (10000);
  if (gateway_)
    gateway_->wait_for_closed (10000);

  GstStructure *st = NULL;
  g_object_get (sink, "stats", &st, NULL);
  gst_structure_get_uint64 (st, "chunks-queued", &out.queued);
  gst_structure_get_uint64 (st, "chunks-sent", &out.sent);
  gst_structure_get_uint64 (st, "chunks-dropped-paused", &out.dropped_paused);
  gst_structure_get_uint64 (st, "chunks-dropped", &out.dropped);
  gst_structure_get_uint64 (st, "chunks-replayed", &out.replayed);
  gst_structure_get_uint64 (st, "chunks-confirmed", &out.confirmed);
  gst_structure_get_uint64 (st, "chunks-given-up", &out.given_up);
  gst_structure_get_uint64 (st, "chunks-likely-duplicated", &out.likely_duplicates);
  gst_structure_get_uint64 (st, "reconnects", &out.reconnects);
  fail_unless (gst_structure_get_boolean (st, "acks-promised", &out.acks_promised));
  gst_structure_free (st);
  for (auto *d : log.warning_details)
    {
      ReportedLoss r;
      if (!gst_structure_get_uint64 (d, "count", &r.count))
        continue;
      gst_structure_get_uint64 (d, "first-index", &r.first);
      gst_structure_get_uint64 (d, "last-index", &r.last);
      const char *reason = gst_structure_get_string (d, "reason");
      r.reason = reason ? reason : "";
      out.reported_on_bus += r.count;
      out.reported.push_back (r);
    }
  collect (out);
  gst_object_unref (sink);
  gst_object_unref (p);
  return out;
}

void
FaultRig::collect (Outcome &o)
{
  o.acks = ingest_ != nullptr || (gateway_ && gateway_->acks ());
  /* Our receiver promises its acks in the upgrade; the others do not. */
  if (o.sent > 0)
    fail_unless_equals_int (o.acks_promised, ingest_ != nullptr);
  if (ingest_)
    {
      o.received = ingest_->chunks ();
      o.deliveries = ingest_->deliveries ();
      for (const auto &kv : o.received)
        o.copies[kv.first] = 1;
      return;
    }
  for (const auto &text : gateway_ ? gateway_->messages () : plain_->messages ())
    {
      wssac::DecodeResult r = wssac::decode_message (text.data (), text.size ());
      if (!r.ok ())
        continue; /* a frame cut by an abort */
      if (r.message.action != wssac::Action::AudioChunk)
        continue;
      o.deliveries++;
      o.copies[r.message.chunk_index]++;
      o.received.emplace (r.message.chunk_index, r.message.audio);
    }
}

void
check_complete (const Outcome &o, size_t max_duplicates)
{
  fail_unless (o.eos, "no EOS: %s", o.error_message.c_str ());
  fail_unless (o.queued > 0);
  fail_unless_equals_uint64 (o.dropped, 0);
  fail_unless_equals_uint64 (o.reported_on_bus, 0);
  fail_unless_equals_uint64 (o.received.size (), o.queued);
  uint64_t expect = 0;
  for (const auto &kv : o.received)
    fail_unless_equals_uint64 (kv.first, expect++);
  if (max_duplicates != SIZE_MAX)
    fail_unless (o.duplicates () <= max_duplicates, "%zu duplicates (at most %zu)", o.duplicates (),
                 max_duplicates);
}

void
check_accounted (const Outcome &o, unsigned max_attempts)
{
  fail_unless (o.eos, "no EOS: %s", o.error_message.c_str ());
  fail_unless (o.queued > 0);
  /* What the sink counted is what it announced. */
  fail_unless_equals_uint64 (o.reported_on_bus, o.dropped);
  const uint64_t n = o.queued + o.dropped_paused;
  for (const auto &kv : o.received)
    fail_unless (kv.first < n, "chunk %" G_GUINT64_FORMAT " was never queued", kv.first);
  for (uint64_t i = 0; i < n; i++)
    {
      if (o.received.count (i))
        continue;
      bool reported = false;
      for (const auto &r : o.reported)
        reported |= i >= r.first && i <= r.last;
      fail_unless (reported, "chunk %" G_GUINT64_FORMAT " neither arrived nor was reported lost",
                   i);
    }
  fail_unless (o.max_copies () <= max_attempts, "a chunk arrived %u times (at most %u attempts)",
               o.max_copies (), max_attempts);
}

static double
ffmpeg_seconds (const std::vector<uint8_t> &webm)
{
  gchar *dir = g_dir_make_tmp ("wssac-faults-XXXXXX", NULL);
  gchar *in = g_build_filename (dir, "chunks.webm", NULL);
  gchar *pcm = g_build_filename (dir, "out.pcm", NULL);
  fail_unless (g_file_set_contents (in, (const gchar *)webm.data (), webm.size (), NULL));
  const gchar *argv[] = { "ffmpeg", "-nostdin", "-v",    "error", "-y", "-i", in,  "-f",
                          "s16le",  "-ar",      "16000", "-ac",   "1",  pcm,  NULL };
  gchar *err = NULL;
  gint status = 0;
  fail_unless (g_spawn_sync (NULL, (gchar **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                             &err, &status, NULL));
  fail_unless (g_spawn_check_wait_status (status, NULL), "ffmpeg failed: %s", err);
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

void
check_and_report (const char *fault, const char *outage, Outcome &o, double expected_seconds,
                  double tolerance)
{
  std::vector<uint8_t> stream;
  for (const auto &kv : o.received)
    stream.insert (stream.end (), kv.second.begin (), kv.second.end ());
  std::vector<int16_t> pcm;
  int rate = 0, channels = 0;
  std::string error;
  fail_unless (decode_opus_container (stream, false, pcm, rate, channels, error), "GStreamer: %s",
               error.c_str ());
  o.gst_seconds = (double)pcm.size () / channels / rate;
  o.ffmpeg_seconds = ffmpeg_seconds (stream);
  fail_unless (std::fabs (o.gst_seconds - expected_seconds) <= tolerance,
               "GStreamer decoded %.3f s of %.3f", o.gst_seconds, expected_seconds);
  fail_unless (std::fabs (o.ffmpeg_seconds - expected_seconds) <= tolerance,
               "ffmpeg decoded %.3f s of %.3f", o.ffmpeg_seconds, expected_seconds);

  gchar *line = g_strdup_printf (
      "| %s | %s | %s | %" G_GUINT64_FORMAT " | %zu | %" G_GUINT64_FORMAT " | %" G_GUINT64_FORMAT
      " | %" G_GUINT64_FORMAT " | %zu | %.3f / %.3f |\n",
      fault, outage, o.acks ? "yes" : "no", o.queued, o.received.size (), o.dropped, o.reconnects,
      o.replayed, o.duplicates (), o.gst_seconds, o.ffmpeg_seconds);
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
