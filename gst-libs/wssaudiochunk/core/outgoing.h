/* wssaudiochunk core: one message waiting to go out on the socket. */
#pragma once

#include "action.h"

#include <cstdint>
#include <string>
#include <vector>

namespace wssac
{

enum class OutgoingKind
{
  AudioChunk,
  Control, /* pauseBroadcast, resumeBroadcast, muteBroadcast, unmuteBroadcast, endSession */
};

struct Outgoing
{
  OutgoingKind kind = OutgoingKind::AudioChunk;

  /* AudioChunk */
  uint64_t chunk_index = 0;
  std::vector<uint8_t> audio;
  int64_t media_duration = 0; /* ns; what the backlog bound counts */

  /* Control */
  Action action = Action::PauseBroadcast;
  std::string reason; /* endSession only */

  /* Wall clock (ms since the epoch) when the chunk was completed or the
   * control was requested: the capture time that survives an outage. */
  int64_t created_ms = 0;
  /* Monotonic time (us) when queued: what send latency is measured from. */
  int64_t queued_us = 0;
  /* A chunk of a stream read faster than real time (a file, not live, not
   * synced to the clock): it may wait for the next few chunks, the
   * transport's tick (100 ms) at most, so that one wake-up sends them all. */
  bool may_wait = false;
  bool replay = false; /* sent before, on a connection that died */
  int attempts = 0;    /* times written to a socket so far */
};

/* Outgoing::may_wait for a chunk submitted @since_previous_us after the
 * previous one (< 0: the first): only from a non-live upstream into a sink
 * not synced to the clock, read faster than twice real time. A live or
 * paced stream's chunk leaves at once. */
inline bool
chunk_may_wait (bool upstream_live, bool sync, int64_t since_previous_us, int64_t duration_ns)
{
  return !upstream_live && !sync && since_previous_us >= 0
         && since_previous_us * 2000 < duration_ns;
}

/* How many chunks that may wait gather before they wake the transport:
 * each wake-up costs the sending thread a poll and the queuing one an
 * eventfd write, and acks that arrive meanwhile are read together (4 per
 * wake-up: 32.5 us of CPU per chunk from outside, 16: 24.9, 64: 21.0). */
constexpr size_t kChunksPerWake = 64;

/* Whether queuing a chunk wakes the transport now, with @waiting chunks
 * gathered since its last wake-up (this one included). Never put off
 * while the backlog has no room: render () is about to wait for room, and
 * only the transport's flush makes it (else it would wait for the tick). */
inline bool
wake_transport_now (bool may_wait, size_t waiting, bool backlog_has_room)
{
  return !may_wait || waiting >= kChunksPerWake || !backlog_has_room;
}

} // namespace wssac
