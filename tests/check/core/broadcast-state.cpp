/* Unit tests for wssac::BroadcastState: what pause, resume, mute, unmute and
 * end send, in which order, and what a pause holds. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "broadcast-state.h"

#include <string>
#include <vector>

using namespace wssac;

static const int64_t MS = 1000000;

static Outgoing
chunk (uint64_t i)
{
  Outgoing o;
  o.kind = OutgoingKind::AudioChunk;
  o.chunk_index = i;
  o.audio.assign (100, 1);
  o.media_duration = 250 * MS;
  return o;
}

/* "c3" for chunk 3, the action name for a control. */
static std::vector<std::string>
names (const BroadcastEffects &fx)
{
  std::vector<std::string> out;
  for (const auto &o : fx.send)
    out.push_back (o.kind == OutgoingKind::AudioChunk ? "c" + std::to_string (o.chunk_index) : action_name (o.action));
  return out;
}

typedef std::vector<std::string> V;

GST_START_TEST (test_pause_holds_and_resume_releases)
{
  BroadcastState b;
  fail_unless (names (b.chunk (chunk (0))) == V ({ "c0" }));
  BroadcastEffects fx = b.pause (10);
  fail_unless (names (fx) == V ({ "pauseBroadcast" }));
  fail_unless (fx.transmitting_changed);
  fail_unless_equals_int64 (fx.send[0].created_ms, 10);
  fail_if (b.transmitting ());
  fail_unless (names (b.chunk (chunk (1))).empty ());
  fail_unless (names (b.chunk (chunk (2))).empty ());
  fail_unless_equals_int (b.held_chunks (), 2);
  /* A second pause changes nothing. */
  fail_if (b.pause (11).changed);
  fx = b.resume (20);
  fail_unless (names (fx) == V ({ "c1", "c2", "resumeBroadcast" }));
  fail_unless (fx.transmitting_changed);
  fail_unless (b.transmitting ());
  fail_unless (names (b.chunk (chunk (3))) == V ({ "c3" }));
}
GST_END_TEST;

GST_START_TEST (test_pause_bound_drops_oldest)
{
  BroadcastState b (1000 * MS); /* 4 chunks */
  b.chunk (chunk (0));
  b.pause (0);
  DropRange dropped;
  for (uint64_t i = 1; i <= 10; i++)
    {
      BroadcastEffects fx = b.chunk (chunk (i));
      if (fx.dropped.count)
        {
          if (dropped.count == 0)
            dropped.first = fx.dropped.first;
          dropped.last = fx.dropped.last;
          dropped.count += fx.dropped.count;
        }
    }
  fail_unless_equals_uint64 (dropped.count, 6);
  fail_unless_equals_uint64 (dropped.first, 1);
  fail_unless_equals_uint64 (dropped.last, 6);
  fail_unless (names (b.resume (1)) == V ({ "c7", "c8", "c9", "c10", "resumeBroadcast" }));
}
GST_END_TEST;

GST_START_TEST (test_mute_and_unmute)
{
  BroadcastState b;
  b.chunk (chunk (0));
  BroadcastEffects fx = b.mute (5);
  fail_unless (names (fx) == V ({ "muteBroadcast" }));
  fail_unless (b.muted ());
  fail_if (b.transmitting ());
  fail_if (b.mute (6).changed);
  fx = b.unmute (7);
  fail_unless (names (fx) == V ({ "unmuteBroadcast" }));
  fail_unless (b.transmitting ());
  /* Paused and muted: transmitting only when both are lifted. */
  b.pause (8);
  b.mute (9);
  fail_if (b.resume (10).transmitting_changed);
  fail_unless (b.unmute (11).transmitting_changed);
}
GST_END_TEST;

GST_START_TEST (test_end_releases_held_then_ends)
{
  BroadcastState b;
  b.chunk (chunk (0));
  b.pause (1);
  b.chunk (chunk (1));
  BroadcastEffects fx = b.end ("Speaker ended session", 2);
  fail_unless (names (fx) == V ({ "c1", "endSession" }));
  fail_unless_equals_string (fx.send.back ().reason.c_str (), "Speaker ended session");
  fail_unless (b.ended ());
  fail_unless (names (b.chunk (chunk (2))).empty ());
  fail_if (b.end ("again", 3).changed);
  fail_if (b.resume (4).changed);
}
GST_END_TEST;

GST_START_TEST (test_controls_before_first_chunk_wait)
{
  BroadcastState b;
  /* Muted from the start, unmuted before any audio: nothing to say. */
  fail_unless (names (b.mute (1)).empty ());
  fail_unless (names (b.unmute (2)).empty ());
  fail_unless (names (b.chunk (chunk (0))) == V ({ "c0" }));

  BroadcastState c;
  c.mute (1);
  c.unmute (2);
  c.pause (3); /* still in effect when audio comes */
  fail_unless (names (c.chunk (chunk (0))).empty ()); /* held */
  /* The pause could not precede the session's first chunk: it follows it. */
  fail_unless (names (c.resume (4)) == V ({ "c0", "pauseBroadcast", "resumeBroadcast" }));

  BroadcastState d;
  d.pause (1);
  d.chunk (chunk (0));
  d.mute (2); /* waits for the first chunk out, which is held */
  fail_unless (names (d.resume (3))
               == V ({ "c0", "pauseBroadcast", "muteBroadcast", "resumeBroadcast" }));
}
GST_END_TEST;

WSS_CHECK_MAIN (broadcast_state, "core-broadcast-state",
                { "general", 0,
                  WSS_TESTS (test_pause_holds_and_resume_releases, test_pause_bound_drops_oldest,
                             test_mute_and_unmute, test_end_releases_held_then_ends,
                             test_controls_before_first_chunk_wait) });
