/* Unit tests for wssac::DropEpisodes: one announcement per episode. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "drop-episodes.h"

using wssac::DropEpisode;
using wssac::DropEpisodes;
using wssac::DropRange;
using wssac::DropReason;

static DropRange
one (uint64_t index)
{
  DropRange r;
  r.first = r.last = index;
  r.count = 1;
  r.bytes = 10;
  return r;
}

GST_START_TEST (test_first_at_once_then_merged)
{
  DropEpisodes e (1000);
  std::vector<DropEpisode> out = e.add (DropReason::Paused, one (3), 0);
  fail_unless_equals_int (out.size (), 1);
  fail_unless_equals_uint64 (out[0].range.first, 3);
  /* Twelve more within the second: nothing announced... */
  for (uint64_t i = 4; i < 16; i++)
    fail_unless (e.add (DropReason::Paused, one (i), 50 * i).empty ());
  /* ...then one episode with the range and the count. */
  out = e.due (1000);
  fail_unless_equals_int (out.size (), 1);
  fail_unless (out[0].reason == DropReason::Paused);
  fail_unless_equals_uint64 (out[0].range.first, 4);
  fail_unless_equals_uint64 (out[0].range.last, 15);
  fail_unless_equals_uint64 (out[0].range.count, 12);
  fail_unless_equals_uint64 (out[0].range.bytes, 120);
  fail_unless_equals_uint64 (e.count (DropReason::Paused), 13);
  fail_unless (e.due (5000).empty ());
}
GST_END_TEST;

GST_START_TEST (test_reasons_are_separate_and_flush_takes_the_rest)
{
  DropEpisodes e (1000);
  e.add (DropReason::Backlog, one (1), 0);
  fail_unless_equals_int (e.add (DropReason::GivenUp, one (2), 10).size (), 1);
  e.add (DropReason::Backlog, one (5), 20);
  std::vector<DropEpisode> rest = e.flush ();
  fail_unless_equals_int (rest.size (), 1);
  fail_unless (rest[0].reason == DropReason::Backlog);
  fail_unless_equals_uint64 (rest[0].range.first, 5);
  fail_unless_equals_uint64 (e.total (), 3);
  fail_unless (e.flush ().empty ());
  fail_unless_equals_string (wssac::drop_reason_name (DropReason::GivenUp), "given-up");
}
GST_END_TEST;

WSS_CHECK_MAIN (drop_episodes, "drop-episodes",
                { "general", 0,
                  WSS_TESTS (test_first_at_once_then_merged,
                             test_reasons_are_separate_and_flush_takes_the_rest) });
