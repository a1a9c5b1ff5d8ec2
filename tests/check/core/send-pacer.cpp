/* Unit tests for wssac::SendPacer: a token bucket in media time. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "send-pacer.h"

using wssac::SendPacer;

static const int64_t MS = 1000000;

GST_START_TEST (test_unlimited)
{
  SendPacer p (0.0);
  for (int i = 0; i < 1000; i++)
    {
      fail_unless_equals_int64 (p.delay_ms (0), 0);
      p.sent (250 * MS, 0);
    }
}
GST_END_TEST;

GST_START_TEST (test_rate_bounds_a_burst)
{
  /* 4 x real time, 1 s of burst: 40 chunks of 250 ms (10 s of audio) take
   * (10 - 1) / 4 = 2.25 s to go out. */
  SendPacer p (4.0, 1000 * MS);
  int64_t now = 0;
  for (int i = 0; i < 40; i++)
    {
      int64_t d = p.delay_ms (now);
      now += d;
      fail_unless_equals_int64 (p.delay_ms (now), 0);
      p.sent (250 * MS, now);
    }
  fail_unless (now >= 2250 - 63 && now <= 2250, "took %" G_GINT64_FORMAT " ms", now);
  /* Live rate (one chunk per 250 ms) never waits. */
  now += 5000;
  for (int i = 0; i < 20; i++)
    {
      fail_unless_equals_int64 (p.delay_ms (now), 0);
      p.sent (250 * MS, now);
      now += 250;
    }
}
GST_END_TEST;

WSS_CHECK_MAIN (send_pacer, "send-pacer",
                { "general", 0, WSS_TESTS (test_unlimited, test_rate_bounds_a_burst) });
