/* Unit tests of wssac::uri_with_session: the session id in the URI. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "session-uri.h"

#include <string>

using wssac::SessionInUri;
using wssac::uri_with_session;

/* uri_with_session (uri, id, mode) must be want. */
struct UriCase
{
  SessionInUri mode;
  const char *uri;
  const char *id;
  const char *want;
};

static const UriCase kCases[] = {
  { SessionInUri::Query, "wss://lb.example/ws", "abc", "wss://lb.example/ws?sessionId=abc" },
  { SessionInUri::Query, "wss://lb.example/ws?stage=prod", "abc",
    "wss://lb.example/ws?stage=prod&sessionId=abc" },
  { SessionInUri::Query, "wss://lb.example/ws?", "abc", "wss://lb.example/ws?sessionId=abc" },
  { SessionInUri::Query, "ws://h:8080/ws#frag", "abc", "ws://h:8080/ws?sessionId=abc#frag" },
  { SessionInUri::Query, "ws://h/ws", "room 1/α&x=y",
    "ws://h/ws?sessionId=room%201%2F%CE%B1%26x%3Dy" },
  /* The user's own sessionId parameter wins; a longer name is not it. */
  { SessionInUri::Query, "ws://h/ws?sessionId=mine", "abc", "ws://h/ws?sessionId=mine" },
  { SessionInUri::Query, "ws://h/ws?xsessionId=1", "abc", "ws://h/ws?xsessionId=1&sessionId=abc" },
  { SessionInUri::Path, "wss://lb.example/ws?token=t#f", "a/b",
    "wss://lb.example/ws/a%2Fb?token=t#f" },
  { SessionInUri::Path, "wss://lb.example/ws", "abc", "wss://lb.example/ws/abc" },
  { SessionInUri::Path, "wss://lb.example/ws/", "abc", "wss://lb.example/ws/abc" },
  { SessionInUri::Path, "wss://lb.example", "abc", "wss://lb.example/abc" },
  { SessionInUri::None, "wss://lb.example/ws?x=1", "abc", "wss://lb.example/ws?x=1" },
  /* No id: the URI as it is, whatever the mode. */
  { SessionInUri::Query, "wss://lb.example/ws", "", "wss://lb.example/ws" },
};

/* Every case of @mode (and with @empty_id, only those with an empty id);
 * returns how many ran. */
static int
check_cases (SessionInUri mode, bool empty_id)
{
  int ran = 0;
  for (const UriCase &c : kCases)
    {
      if (c.mode != mode || (c.id[0] == '\0') != empty_id)
        continue;
      const std::string got = uri_with_session (c.uri, c.id, c.mode);
      fail_unless (got == c.want, "\"%s\" with \"%s\": \"%s\", not \"%s\"", c.uri, c.id,
                   got.c_str (), c.want);
      ran++;
    }
  return ran;
}

GST_START_TEST (test_query)
{
  fail_unless_equals_int (check_cases (SessionInUri::Query, false), 7);
}
GST_END_TEST;

GST_START_TEST (test_path)
{
  fail_unless_equals_int (check_cases (SessionInUri::Path, false), 4);
}
GST_END_TEST;

GST_START_TEST (test_none_and_empty)
{
  fail_unless_equals_int (check_cases (SessionInUri::None, false), 1);
  fail_unless_equals_int (check_cases (SessionInUri::Query, true), 1);
  /* Kept in a variable: the check macro holds the pointer past the statement. */
  const std::string unreserved = wssac::percent_encode ("AZaz09-._~");
  fail_unless_equals_string (unreserved.c_str (), "AZaz09-._~");
}
GST_END_TEST;

WSS_CHECK_MAIN (session_uri, "session-uri",
                { "general", 0, WSS_TESTS (test_query, test_path, test_none_and_empty) });
