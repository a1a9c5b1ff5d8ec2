/* wssaudiochunk core: the bounded, ordered queue of messages not yet handed
 * to the socket.
 *
 * Audio past the bound is dropped from the oldest end by default and every
 * drop is reported back as an index range, so the element can count it and
 * say so on the bus. Control messages are never dropped: they are tiny and
 * their order relative to the audio matters to the receiver.
 */
#pragma once

#include "outgoing.h"

#include <cstdint>
#include <deque>

namespace wssac
{

struct BacklogLimits
{
  int64_t max_time = 30 * 1000000000LL; /* ns of audio; <= 0: no time bound */
  uint64_t max_bytes = 0;               /* audio bytes; 0: no byte bound */
  bool drop_newest = false;             /* keep the oldest instead */
};

/* A contiguous range of dropped chunk indices (inclusive). */
struct DropRange
{
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t count = 0;
  uint64_t bytes = 0;
  int64_t media_time = 0;
  bool empty () const { return count == 0; }
};

/* Adds chunk @item to @range (contiguous or not: first, last and count). */
void add_to_drop_range (DropRange &range, const Outgoing &item);

class Backlog
{
public:
  explicit Backlog (BacklogLimits limits = BacklogLimits ()) : limits_ (limits) {}

  void set_limits (const BacklogLimits &limits) { limits_ = limits; }
  const BacklogLimits &limits () const { return limits_; }

  /* Queues @item; returns what had to be dropped to respect the bound (with
   * drop_newest, possibly @item itself). Dropped chunks are contiguous
   * indices only when they are adjacent in the queue: the caller gets one
   * range per call, the oldest-to-newest span of what went. */
  DropRange push (Outgoing item);

  bool empty () const { return items_.empty (); }
  size_t size () const { return items_.size (); }
  size_t audio_chunks () const { return audio_chunks_; }
  uint64_t audio_bytes () const { return audio_bytes_; }
  int64_t audio_time () const { return audio_time_; }

  const Outgoing &front () const { return items_.front (); }
  Outgoing pop_front ();
  /* Removes replayed chunks the receiver has acknowledged (index <= @upto):
   * they arrived before the connection died. Returns how many went. */
  size_t drop_acknowledged_replays (uint64_t upto);
  /* Puts an item back at the head (a send that did not happen). */
  void push_front (Outgoing item);
  void clear ();

private:
  bool over_limit () const;
  void account (const Outgoing &item, int sign);

  BacklogLimits limits_;
  std::deque<Outgoing> items_;
  size_t audio_chunks_ = 0;
  uint64_t audio_bytes_ = 0;
  int64_t audio_time_ = 0;
};

} // namespace wssac
