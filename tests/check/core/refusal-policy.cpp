/* Unit tests for wssac::RefusalPolicy: which refusals are final, and the
 * timeout for the others. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "refusal-policy.h"

using wssac::RefusalPolicy;

GST_START_TEST (test_permanent_refusals_are_fatal_at_once)
{
  RefusalPolicy p (5000, "talk-1");
  for (const char *code :
       { "wrong-session", "session-ended", "invalid-session-id", "unauthorized" })
    {
      auto v = p.refused (code, "no", 0);
      fail_unless (v.has_value (), "%s", code);
      fail_unless (v->cause.find (code) != std::string::npos, "%s", v->cause.c_str ());
      fail_unless (!v->fix.empty ());
    }
  auto ended = p.refused ("session-ended", "", 0);
  fail_unless (ended->cause.find ("session \"talk-1\" was ended by the server")
               != std::string::npos);
  fail_unless (ended->fix.find ("new session-id") != std::string::npos);
}
GST_END_TEST;

GST_START_TEST (test_transient_refusals_time_out)
{
  RefusalPolicy p (5000, "talk-1");
  fail_unless (!p.refused ("session-claimed", "", 1000).has_value ());
  fail_unless (!p.refused ("session-claimed", "", 5999).has_value ());
  /* Our own dead connection holds the session until the server notices. */
  fail_unless (!p.refused ("session-claimed", "", 60999).has_value ());
  fail_unless (p.refused ("session-claimed", "", 61000).has_value ());
  /* Something accepted in between: the clock starts over. */
  p.accepted ();
  fail_unless (!p.refused ("rate-limited", "", 6000).has_value ());
  fail_unless (!p.refused ("rate-limited", "", 10999).has_value ());
  auto v = p.refused ("rate-limited", "slow down", 11000);
  fail_unless (v.has_value ());
  fail_unless (v->cause.find ("rate-limited: slow down") != std::string::npos, "%s",
               v->cause.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_timeout_zero_waits_forever)
{
  RefusalPolicy p (0, "x");
  fail_unless (!p.refused ("session-claimed", "", 0).has_value ());
  fail_unless (!p.refused ("session-claimed", "", 1000000000).has_value ());
  fail_unless (p.refused ("wrong-session", "", 1).has_value ());
}
GST_END_TEST;

WSS_CHECK_MAIN (refusal_policy, "refusal-policy",
                { "general", 0,
                  WSS_TESTS (test_permanent_refusals_are_fatal_at_once,
                             test_transient_refusals_time_out, test_timeout_zero_waits_forever) });
