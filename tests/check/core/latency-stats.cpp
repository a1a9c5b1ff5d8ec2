/* Unit tests of wssac::LatencyStats: percentiles over the last N samples. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "latency-stats.h"

using wssac::LatencyPercentiles;
using wssac::LatencyStats;

GST_START_TEST (test_empty_is_zero)
{
  LatencyStats s;
  LatencyPercentiles p = s.percentiles ();
  fail_unless_equals_int64 (p.p50, 0);
  fail_unless_equals_int64 (p.p95, 0);
  fail_unless_equals_int64 (p.p99, 0);
  fail_unless_equals_int64 (s.percentile (0.5), 0);
}
GST_END_TEST;

GST_START_TEST (test_percentiles_of_1_to_100)
{
  LatencyStats s;
  /* Out of order: percentiles must not depend on arrival order. */
  for (int i = 0; i < 100; i++)
    s.record ((i * 37) % 100 + 1);
  fail_unless_equals_int (s.size (), 100);
  LatencyPercentiles p = s.percentiles ();
  /* Index q * (n - 1) of the sorted samples 1..100. */
  fail_unless_equals_int64 (p.p50, 50);
  fail_unless_equals_int64 (p.p95, 95);
  fail_unless_equals_int64 (p.p99, 99);
  fail_unless_equals_int64 (s.percentile (0.0), 1);
  fail_unless_equals_int64 (s.percentile (1.0), 100);
  fail_unless_equals_int64 (s.percentile (7.0), 100); /* clamped */
}
GST_END_TEST;

GST_START_TEST (test_one_sample)
{
  LatencyStats s;
  s.record (1234);
  LatencyPercentiles p = s.percentiles ();
  fail_unless_equals_int64 (p.p50, 1234);
  fail_unless_equals_int64 (p.p99, 1234);
}
GST_END_TEST;

GST_START_TEST (test_keeps_only_the_last_samples)
{
  LatencyStats s (10);
  for (int i = 0; i < 10; i++)
    s.record (1000000); /* an old outage */
  for (int i = 1; i <= 10; i++)
    s.record (i);
  fail_unless_equals_int (s.size (), 10);
  fail_unless_equals_int64 (s.percentile (1.0), 10);
  fail_unless_equals_int64 (s.percentile (0.0), 1);
  s.clear ();
  fail_unless_equals_int (s.size (), 0);
  fail_unless_equals_int64 (s.percentiles ().p99, 0);
}
GST_END_TEST;

WSS_CHECK_MAIN (latency_stats, "latency-stats",
                { "general", 0,
                  WSS_TESTS (test_empty_is_zero, test_percentiles_of_1_to_100, test_one_sample,
                             test_keeps_only_the_last_samples) });
