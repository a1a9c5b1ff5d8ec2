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
  bool replay = false; /* sent before, on a connection that died */
  int attempts = 0;    /* times written to a socket so far */
};

} // namespace wssac
