/* Unit tests of wssac::RetryPolicy: reconnect backoff with jitter. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "retry-policy.h"

#include <optional>
#include <vector>

using wssac::RetryConfig;
using wssac::RetryPolicy;

static RetryConfig
no_jitter (void)
{
  RetryConfig cfg;
  cfg.jitter = 0.0;
  return cfg;
}

/* Draws one delay, failing if there is none. */
static int64_t
draw (RetryPolicy &p)
{
  std::optional<int64_t> d = p.next_delay ();
  fail_unless (d.has_value (), "no delay after %d attempts", p.attempts ());
  return *d;
}

GST_START_TEST (test_growth)
{
  RetryPolicy p (no_jitter (), 1);
  const int64_t expected[] = { 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000 };

  fail_unless_equals_int (p.attempts (), 0);
  for (size_t i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      fail_unless_equals_int64 (draw (p), expected[i]);
      fail_unless_equals_int (p.attempts (), static_cast<int> (i) + 1);
    }

  /* Another factor. */
  RetryConfig cfg = no_jitter ();
  cfg.initial_delay_ms = 100;
  cfg.factor = 3.0;
  cfg.max_delay_ms = 5000;
  RetryPolicy q (cfg, 1);
  fail_unless_equals_int64 (draw (q), 100);
  fail_unless_equals_int64 (draw (q), 300);
  fail_unless_equals_int64 (draw (q), 900);
  fail_unless_equals_int64 (draw (q), 2700);
  fail_unless_equals_int64 (draw (q), 5000);
}
GST_END_TEST;

GST_START_TEST (test_cap)
{
  /* Far past the point where factor^n overflows a double. */
  RetryConfig cfg = no_jitter ();
  cfg.initial_delay_ms = 1000;
  cfg.factor = 10.0;
  cfg.max_delay_ms = 60000;
  RetryPolicy p (cfg, 7);
  for (int i = 0; i < 5000; i++)
    {
      int64_t d = draw (p);
      if (i >= 2)
        fail_unless_equals_int64 (d, 60000);
    }

  /* Extreme values stay within int64_t and non-negative. */
  cfg.initial_delay_ms = G_MAXINT64;
  cfg.max_delay_ms = G_MAXINT64;
  cfg.factor = 1e300;
  cfg.jitter = 1.0;
  RetryPolicy x (cfg, 7);
  for (int i = 0; i < 2000; i++)
    fail_unless (draw (x) >= 0);

  /* initial 0 times an infinite factor^n is not NaN but 0. */
  cfg.initial_delay_ms = 0;
  cfg.max_delay_ms = 1000;
  cfg.factor = 1e300;
  cfg.jitter = 0.2;
  RetryPolicy z (cfg, 7);
  for (int i = 0; i < 100; i++)
    fail_unless_equals_int64 (draw (z), 0);

  /* A factor below 1 would shrink the delays: taken as 1. */
  cfg = no_jitter ();
  cfg.factor = 0.5;
  RetryPolicy c (cfg, 7);
  for (int i = 0; i < 10; i++)
    fail_unless_equals_int64 (draw (c), 500);
}
GST_END_TEST;

GST_START_TEST (test_jitter_bounds)
{
  RetryConfig cfg; /* jitter 0.2, initial 500, max 30000 */
  RetryPolicy p (cfg, 42);
  const int draws = 20000;

  /* First attempt each time: 500 +- 20 %, and actually spread over it. */
  int64_t lo = G_MAXINT64, hi = 0;
  double sum = 0;
  for (int i = 0; i < draws; i++)
    {
      p.reset ();
      int64_t d = draw (p);
      fail_unless (d >= 400 && d <= 600, "delay %" G_GINT64_FORMAT " outside 500 +- 20 %%", d);
      lo = MIN (lo, d);
      hi = MAX (hi, d);
      sum += d;
    }
  fail_unless (lo <= 410, "jitter never went low (min %" G_GINT64_FORMAT ")", lo);
  fail_unless (hi >= 590, "jitter never went high (max %" G_GINT64_FORMAT ")", hi);
  double mean = sum / draws;
  fail_unless (mean > 495 && mean < 505, "jitter is biased (mean %f)", mean);

  /* At the cap: max +- 20 %, spread on both sides of max (the jitter
   * applies to the capped delay, not before capping). */
  bool above = false, below = false;
  for (int i = 0; i < draws; i++)
    {
      int64_t d = draw (p);
      if (p.attempts () <= 7)
        continue; /* still growing */
      fail_unless (d >= 24000 && d <= 36000, "capped delay %" G_GINT64_FORMAT, d);
      above |= d > 30000;
      below |= d < 30000;
    }
  fail_unless (above && below);

  /* Out-of-range jitter is clamped to 100 %. */
  cfg.jitter = 5.0;
  RetryPolicy w (cfg, 42);
  for (int i = 0; i < 1000; i++)
    {
      w.reset ();
      int64_t d = draw (w);
      fail_unless (d >= 0 && d <= 1000, "delay %" G_GINT64_FORMAT, d);
    }
}
GST_END_TEST;

GST_START_TEST (test_determinism)
{
  RetryConfig cfg;
  cfg.max_delay_ms = 1000000;
  RetryPolicy a (cfg, 12345), b (cfg, 12345), c (cfg, 54321);
  std::vector<int64_t> da, db, dc;

  for (int i = 0; i < 50; i++)
    {
      da.push_back (draw (a));
      db.push_back (draw (b));
      dc.push_back (draw (c));
    }
  fail_unless (da == db, "same seed, different delays");
  fail_unless (da != dc, "different seeds, same delays");

  /* Unseeded policies differ from each other (64 draws alike is no
   * coincidence). */
  RetryPolicy r1 (cfg), r2 (cfg);
  bool differ = false;
  for (int i = 0; i < 64; i++)
    {
      r1.reset ();
      r2.reset ();
      differ |= draw (r1) != draw (r2);
    }
  fail_unless (differ);
}
GST_END_TEST;

GST_START_TEST (test_max_retries)
{
  RetryConfig cfg;
  cfg.max_retries = 0;
  RetryPolicy never (cfg, 1);
  fail_unless (!never.next_delay ().has_value ());
  fail_unless (!never.next_delay ().has_value ());
  fail_unless_equals_int (never.attempts (), 0);

  cfg.max_retries = 3;
  RetryPolicy three (cfg, 1);
  for (int i = 0; i < 3; i++)
    draw (three);
  fail_unless_equals_int (three.attempts (), 3);
  fail_unless (!three.next_delay ().has_value ());
  fail_unless (!three.next_delay ().has_value ());
  fail_unless_equals_int (three.attempts (), 3);

  /* A success gives the full budget back. */
  three.reset ();
  for (int i = 0; i < 3; i++)
    draw (three);
  fail_unless (!three.next_delay ().has_value ());

  /* -1: forever. */
  cfg.max_retries = -1;
  RetryPolicy forever (cfg, 1);
  for (int i = 0; i < 10000; i++)
    draw (forever);
  fail_unless_equals_int (forever.attempts (), 10000);
}
GST_END_TEST;

GST_START_TEST (test_reset)
{
  RetryPolicy p (no_jitter (), 1);

  for (int i = 0; i < 5; i++)
    draw (p);
  fail_unless_equals_int (p.attempts (), 5);
  fail_unless_equals_int64 (draw (p), 16000);

  p.reset ();
  fail_unless_equals_int (p.attempts (), 0);
  fail_unless_equals_int64 (draw (p), 500);
  fail_unless_equals_int64 (draw (p), 1000);
  fail_unless_equals_int (p.attempts (), 2);
}
GST_END_TEST;

WSS_CHECK_MAIN (retry_policy, "wssac-retry-policy",
                { "general", 0,
                  WSS_TESTS (test_growth, test_cap, test_jitter_bounds, test_determinism,
                             test_max_retries, test_reset) });
