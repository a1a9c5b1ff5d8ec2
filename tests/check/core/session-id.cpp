/* Unit tests of wssac::session_id_problem: what a sessionId may be. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "session-id.h"

#include <string>

using wssac::session_id_problem;

static void
expect_refused (const std::string &id, const char *why)
{
  const std::string problem = session_id_problem (id);
  fail_if (problem.empty (), "accepted %s", why);
  fail_unless (problem.find (why) != std::string::npos, "%s: got '%s'", why, problem.c_str ());
}

GST_START_TEST (test_accepted)
{
  const char *good[] = { "a", "speaker-1", "room:42/talk?x", "Grüße-日本-🎤",
    "550e8400-e29b-41d4-a716-446655440000" };
  for (const char *id : good)
    fail_unless (session_id_problem (id).empty (), "refused '%s': %s", id,
        session_id_problem (id).c_str ());
  fail_unless (session_id_problem (std::string (wssac::kMaxSessionIdBytes, 'x')).empty ());
}
GST_END_TEST;

GST_START_TEST (test_refused)
{
  expect_refused ("", "empty");
  expect_refused (std::string (wssac::kMaxSessionIdBytes + 1, 'x'), "at most 256 bytes");
  expect_refused (std::string (40000, 'x'), "40000 bytes");
  expect_refused (std::string ("ab\0cd", 5), "control character");
  expect_refused ("ab\ncd", "control character");
  expect_refused ("ab\x7f", "control character");
  expect_refused ("ab\xc2\x85", "control character");   /* U+0085 NEL */
  expect_refused ("ab\xff", "not valid UTF-8");
  expect_refused ("ab\xc3", "not valid UTF-8");          /* truncated */
  expect_refused ("\xc0\xaf", "not valid UTF-8");        /* overlong */
  expect_refused ("\xed\xa0\x80", "not valid UTF-8");    /* surrogate */
  expect_refused ("\xf4\x90\x80\x80", "not valid UTF-8"); /* above U+10FFFF */
}
GST_END_TEST;

WSS_CHECK_MAIN (session_id, "session-id",
                { "general", 0, WSS_TESTS (test_accepted, test_refused) });
