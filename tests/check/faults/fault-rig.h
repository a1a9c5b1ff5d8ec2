/* The fault suite's fixture: a live 16 kbps speaker (or a non-live
 * upload) streams into a receiver, our IngestServer (acks) or a plain
 * WebSocket server that never acks, optionally through a FaultProxy, while
 * a fault script runs on a thread. Collects what arrived and what the sink
 * counted and announced, and checks the delivery guarantee. */
#pragma once

#include "fault-proxy.h"
#include "gateway-server.h"
#include "test-ingest.h"
#include "test-util.h"
#include "ws-test-server.h"

#include <gst/gst.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct Timeline
{
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now ();
  void at (double seconds);
};

struct ReportedLoss
{
  uint64_t first = 0, last = 0, count = 0;
  std::string reason;
};

struct Outcome
{
  /* The sink's stats at the end. */
  guint64 queued = 0, dropped_paused = 0, sent = 0, dropped = 0, replayed = 0, reconnects = 0, confirmed = 0,
          given_up = 0, likely_duplicates = 0;
  /* Warnings with an index range, summed. */
  guint64 reported_on_bus = 0;
  std::vector<ReportedLoss> reported;
  bool eos = false, error = false;
  bool acks = false; /* the receiver acked */
  gboolean acks_promised = FALSE; /* stats: the last connection's receiver promised acks */
  std::string error_message;
  /* What the receiver got: the first copy of each chunk, and copies. */
  std::map<uint64_t, std::vector<uint8_t>> received;
  std::map<uint64_t, unsigned> copies;
  size_t deliveries = 0;
  double gst_seconds = 0, ffmpeg_seconds = 0;
  size_t
  duplicates () const
  {
    return deliveries - received.size ();
  }
  unsigned max_copies () const;
};

using FaultScript = std::function<void (Timeline &, GstElement *sink)>;

class FaultRig
{
public:
  /* Our receiver, acking every @ack_every chunks. */
  static std::unique_ptr<FaultRig> with_ingest (unsigned ack_every = 4,
                                                unsigned peer_timeout_s = 30);
  /* A plain server that never acks (the original protocol's backend). */
  static std::unique_ptr<FaultRig> without_acks ();
  /* A gateway that cuts every connection at @hard_age_ms (gateway-server.h),
   * with a backend that acks or not. */
  static std::unique_ptr<FaultRig> behind_gateway (int64_t hard_age_ms, bool acks);
  /* Puts a FaultProxy in front of the receiver (@rcvbuf as FaultProxy). */
  FaultProxy &add_proxy (int rcvbuf = 0);

  /* The rig's servers; null when it has none of that kind. */
  TestIngest *ingest () const;
  WsTestServer *plain () const;
  GatewayServer *gateway () const;
  FaultProxy *proxy () const;
  std::string url () const;

  /* Streams @seconds of live audio through the faults; @extra: more sink
   * properties. */
  Outcome stream (int seconds, const std::string &extra, FaultScript faults);
  /* Runs @launch (a pipeline with a wssaudiochunksink named "sink", where
   * "@URL@" is replaced) to its end, with @timeout_s. */
  Outcome run (const std::string &launch, int timeout_s, FaultScript faults = nullptr);

private:
  /* A rig around @server, started and kept in @slot (the factories above). */
  template <typename Server>
  static std::unique_ptr<FaultRig> around (std::unique_ptr<Server> FaultRig::*slot,
                                           std::unique_ptr<Server> server);
  void collect (Outcome &o);

  std::unique_ptr<TestIngest> ingest_;
  std::unique_ptr<WsTestServer> plain_;
  std::unique_ptr<GatewayServer> gateway_;
  std::unique_ptr<FaultProxy> proxy_;
};

/* Every index 0..N-1 arrived, nothing reported lost, nothing duplicated
 * beyond @max_duplicates. */
void check_complete (const Outcome &o, size_t max_duplicates = SIZE_MAX);
/* The guarantee without acks: every index 0..N-1 (N: queued plus dropped
 * while paused, which never reached the queue) arrived or lies in a
 * reported loss; the reported count equals chunks-dropped; no chunk came
 * more than @max_attempts times. */
void check_accounted (const Outcome &o, unsigned max_attempts);
/* Decodes the received stream (GStreamer and ffmpeg) and checks its length
 * against @expected_seconds; writes the report line. */
void check_and_report (const char *fault, const char *outage, Outcome &o, double expected_seconds,
                       double tolerance = 0.04);
