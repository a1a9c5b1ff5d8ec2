/* Unit tests for wssac::Backlog: order, bounds, drop accounting. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "backlog.h"

using wssac::Action;
using wssac::Backlog;
using wssac::BacklogLimits;
using wssac::DropRange;
using wssac::Outgoing;
using wssac::OutgoingKind;

static const int64_t MS = 1000000;

static Outgoing
chunk (uint64_t index, size_t bytes = 500, int64_t dur_ms = 250)
{
  Outgoing o;
  o.kind = OutgoingKind::AudioChunk;
  o.chunk_index = index;
  o.audio.assign (bytes, static_cast<uint8_t> (index));
  o.media_duration = dur_ms * MS;
  return o;
}

static Outgoing
control (Action action)
{
  Outgoing o;
  o.kind = OutgoingKind::Control;
  o.action = action;
  return o;
}

GST_START_TEST (test_fifo_order)
{
  Backlog b;
  for (uint64_t i = 0; i < 10; i++)
    fail_unless (b.push (chunk (i)).empty ());
  fail_unless_equals_int (b.size (), 10);
  fail_unless_equals_int64 (b.audio_time (), 2500 * MS);
  fail_unless_equals_int64 (b.audio_bytes (), 5000);
  for (uint64_t i = 0; i < 10; i++)
    fail_unless_equals_uint64 (b.pop_front ().chunk_index, i);
  fail_unless (b.empty ());
  fail_unless_equals_int64 (b.audio_time (), 0);
}
GST_END_TEST;

/* The default limits but @max_time (ns of audio) and @max_bytes. */
static BacklogLimits
limits (int64_t max_time, uint64_t max_bytes = 0)
{
  BacklogLimits l;
  l.max_time = max_time;
  l.max_bytes = max_bytes;
  return l;
}

GST_START_TEST (test_time_bound_drops_oldest)
{
  Backlog b (limits (1000 * MS)); /* 4 chunks of 250 ms */
  uint64_t dropped = 0;
  uint64_t first_dropped = UINT64_MAX, last_dropped = 0;
  for (uint64_t i = 0; i < 10; i++)
    {
      DropRange r = b.push (chunk (i));
      dropped += r.count;
      if (!r.empty ())
        {
          first_dropped = MIN (first_dropped, r.first);
          last_dropped = MAX (last_dropped, r.last);
        }
    }
  fail_unless_equals_uint64 (dropped, 6);
  fail_unless_equals_uint64 (first_dropped, 0);
  fail_unless_equals_uint64 (last_dropped, 5);
  fail_unless_equals_int (b.audio_chunks (), 4);
  fail_unless_equals_uint64 (b.front ().chunk_index, 6);
}
GST_END_TEST;

GST_START_TEST (test_byte_bound_and_drop_newest)
{
  BacklogLimits l;
  l.max_time = 0;
  l.max_bytes = 1500;
  l.drop_newest = true;
  Backlog b (l);
  b.push (chunk (0));
  b.push (chunk (1));
  b.push (chunk (2));
  DropRange r = b.push (chunk (3));
  fail_unless_equals_uint64 (r.count, 1);
  fail_unless_equals_uint64 (r.first, 3);
  fail_unless_equals_uint64 (r.bytes, 500);
  fail_unless_equals_int (b.audio_chunks (), 3);
  fail_unless_equals_uint64 (b.pop_front ().chunk_index, 0);
}
GST_END_TEST;

GST_START_TEST (test_controls_never_dropped_and_keep_order)
{
  Backlog b (limits (500 * MS));
  b.push (chunk (0));
  b.push (control (Action::PauseBroadcast));
  b.push (chunk (1));
  b.push (chunk (2)); /* drops chunk 0 */
  b.push (control (Action::ResumeBroadcast));
  b.push (chunk (3)); /* drops chunk 1 */
  fail_unless_equals_int (b.size (), 4);
  fail_unless (b.pop_front ().action == Action::PauseBroadcast);
  fail_unless_equals_uint64 (b.pop_front ().chunk_index, 2);
  fail_unless (b.pop_front ().action == Action::ResumeBroadcast);
  fail_unless_equals_uint64 (b.pop_front ().chunk_index, 3);
}
GST_END_TEST;

GST_START_TEST (test_single_oversize_chunk_kept)
{
  /* One chunk over the bound stays: dropping it would lose audio for no gain. */
  Backlog b (limits (BacklogLimits ().max_time, 100));
  fail_unless (b.push (chunk (0, 400)).empty ());
  fail_unless_equals_int (b.audio_chunks (), 1);
}
GST_END_TEST;

GST_START_TEST (test_push_front_restores)
{
  Backlog b;
  b.push (chunk (5));
  Outgoing o = chunk (4);
  b.push_front (std::move (o));
  fail_unless_equals_int64 (b.audio_bytes (), 1000);
  fail_unless_equals_uint64 (b.pop_front ().chunk_index, 4);
  b.clear ();
  fail_unless (b.empty ());
  fail_unless_equals_int64 (b.audio_bytes (), 0);
}
GST_END_TEST;

GST_START_TEST (test_acknowledged_replays_removed)
{
  Backlog b;
  for (uint64_t i = 3; i < 6; i++)
    {
      Outgoing o = chunk (i);
      o.replay = true;
      b.push (std::move (o));
    }
  b.push (chunk (6));
  fail_unless_equals_int (b.drop_acknowledged_replays (4), 2);
  fail_unless_equals_int (b.audio_chunks (), 2);
  fail_unless_equals_int64 (b.audio_bytes (), 1000);
  fail_unless_equals_uint64 (b.pop_front ().chunk_index, 5);
  /* Fresh chunks are never removed by an ack. */
  fail_unless_equals_int (b.drop_acknowledged_replays (100), 0);
  fail_unless_equals_uint64 (b.pop_front ().chunk_index, 6);
}
GST_END_TEST;

/* Which chunks may wait for the next few (Outgoing::may_wait): only a
 * non-live, unsynced stream read faster than twice real time. */
GST_START_TEST (test_chunk_may_wait)
{
  const int64_t quarter_s = 250 * GST_MSECOND;
  struct Case
  {
    bool live, sync;
    int64_t since_previous_us;
    bool expected;
  } cases[] = {
    { false, false, 1000, true },    /* a file, 1 ms after the previous chunk */
    { false, false, 124999, true },  /* just under half the chunk's duration */
    { false, false, 125000, false }, /* half: as good as real time */
    { false, false, 250000, false }, /* paced in real time (identity sync=true) */
    { false, false, -1, false },     /* the first chunk */
    { true, false, 1000, false },    /* live: leaves at once */
    { false, true, 1000, false },    /* synced to the clock: paced */
  };
  for (const Case &c : cases)
    fail_unless (wssac::chunk_may_wait (c.live, c.sync, c.since_previous_us, quarter_s)
                     == c.expected,
                 "live %d sync %d after %" G_GINT64_FORMAT " us: may_wait should be %d", c.live,
                 c.sync, c.since_previous_us, c.expected);
}
GST_END_TEST;

/* When a queued chunk wakes the transport: at once unless it may wait;
 * then once enough have gathered, or as soon as the backlog is full. */
GST_START_TEST (test_wake_transport_now)
{
  const size_t batch = wssac::kChunksPerWake;
  struct Case
  {
    bool may_wait;
    size_t waiting;
    bool has_room;
    bool expected;
  } cases[] = {
    { false, 1, true, true },         /* live or paced: leaves at once */
    { true, 1, true, false },         /* a file's first of a batch */
    { true, batch - 1, true, false }, /* one short of a batch */
    { true, batch, true, true },      /* a whole batch */
    { true, 1, false, true },         /* backlog full: render () will wait */
    { false, batch, false, true },
  };
  fail_unless (batch > 1);
  for (const Case &c : cases)
    fail_unless (wssac::wake_transport_now (c.may_wait, c.waiting, c.has_room) == c.expected,
                 "may_wait %d, %zu waiting, room %d: wake should be %d", c.may_wait, c.waiting,
                 c.has_room, c.expected);
}
GST_END_TEST;

WSS_CHECK_MAIN (
    backlog, "core-backlog",
    { "general", 0,
      WSS_TESTS (test_fifo_order, test_time_bound_drops_oldest, test_byte_bound_and_drop_newest,
                 test_controls_never_dropped_and_keep_order, test_single_oversize_chunk_kept,
                 test_push_front_restores, test_acknowledged_replays_removed, test_chunk_may_wait,
                 test_wake_transport_now) });
