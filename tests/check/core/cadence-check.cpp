/* Unit tests of wssac::CadenceCheck: one verdict on the first seconds of
 * chunks, a warning at most once. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "cadence-check.h"

using wssac::CadenceCheck;
using wssac::CadenceVerdict;

static const int64_t MS = 1000000;

/* Feeds @n chunks of @dur_ms; returns how many calls said "off". */
static int
feed (CadenceCheck &c, int n, int64_t dur_ms)
{
  int off = 0;
  for (int i = 0; i < n; i++)
    off += c.add_chunk (dur_ms * MS) ? 1 : 0;
  return off;
}

GST_START_TEST (test_default_clusters_are_off)
{
  /* webmmux's default 500 ms clusters for 250 ms chunks. */
  CadenceCheck c (250 * MS);
  fail_unless_equals_int (feed (c, 5, 500), 0); /* 2.5 s: still watching */
  fail_unless (c.verdict () == CadenceVerdict::Watching);
  fail_unless_equals_int (feed (c, 1, 500), 1); /* 3 s: decided */
  fail_unless (c.verdict () == CadenceVerdict::Off);
  fail_unless_equals_int64 (c.mean_duration (), 500 * MS);
  fail_unless_equals_int (feed (c, 100, 500), 0); /* once only */
}
GST_END_TEST;

GST_START_TEST (test_on_target)
{
  CadenceCheck c (250 * MS);
  /* 260 ms clusters (20 ms frames, 250 ms min-cluster-duration): 4 % off. */
  fail_unless_equals_int (feed (c, 12, 260), 0);
  fail_unless (c.verdict () == CadenceVerdict::OnTarget);
  fail_unless_equals_int (feed (c, 50, 1000), 0); /* decided: later chunks do not count */
  fail_unless (c.verdict () == CadenceVerdict::OnTarget);
}
GST_END_TEST;

GST_START_TEST (test_tolerance_edges)
{
  CadenceCheck exact (1000 * MS);
  fail_unless_equals_int (feed (exact, 3, 1200), 0); /* 20 %: still on target */
  fail_unless (exact.verdict () == CadenceVerdict::OnTarget);
  CadenceCheck over (1000 * MS);
  fail_unless_equals_int (feed (over, 3, 1210), 1);
  CadenceCheck under (1000 * MS);
  fail_unless_equals_int (feed (under, 4, 790), 1); /* too short counts too */
}
GST_END_TEST;

GST_START_TEST (test_needs_enough_chunks_and_known_durations)
{
  CadenceCheck c (250 * MS);
  /* Two huge chunks cover the window, but two are not enough to judge. */
  fail_unless_equals_int (feed (c, 2, 5000), 0);
  fail_unless (c.verdict () == CadenceVerdict::Watching);
  fail_unless_equals_int (feed (c, 10, 0), 0); /* unknown durations are not counted */
  fail_unless (c.verdict () == CadenceVerdict::Watching);
  fail_unless_equals_int (feed (c, 1, 5000), 1);
  CadenceCheck off (0); /* no target: never judges */
  fail_unless_equals_int (feed (off, 100, 500), 0);
  fail_unless (off.verdict () == CadenceVerdict::Watching);
}
GST_END_TEST;

WSS_CHECK_MAIN (cadence_check, "cadence-check",
                { "general", 0,
                  WSS_TESTS (test_default_clusters_are_off, test_on_target, test_tolerance_edges,
                             test_needs_enough_chunks_and_known_durations) });
