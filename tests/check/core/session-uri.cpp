/* Unit tests of wssac::uri_with_session: the session id in the URI. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "session-uri.h"

#include <string>

using wssac::SessionInUri;
using wssac::uri_with_session;

static void
expect (const char *uri, const char *id, SessionInUri mode, const char *want)
{
  const std::string got = uri_with_session (uri, id, mode);
  fail_unless_equals_string (got.c_str (), want);
}

GST_START_TEST (test_query)
{
  expect ("wss://lb.example/ws", "abc", SessionInUri::Query, "wss://lb.example/ws?sessionId=abc");
  expect ("wss://lb.example/ws?stage=prod", "abc", SessionInUri::Query,
          "wss://lb.example/ws?stage=prod&sessionId=abc");
  expect ("wss://lb.example/ws?", "abc", SessionInUri::Query, "wss://lb.example/ws?sessionId=abc");
  expect ("ws://h:8080/ws#frag", "abc", SessionInUri::Query, "ws://h:8080/ws?sessionId=abc#frag");
  expect ("ws://h/ws", "room 1/α&x=y", SessionInUri::Query,
          "ws://h/ws?sessionId=room%201%2F%CE%B1%26x%3Dy");
  /* The user's own sessionId parameter wins; a longer name is not it. */
  expect ("ws://h/ws?sessionId=mine", "abc", SessionInUri::Query, "ws://h/ws?sessionId=mine");
  expect ("ws://h/ws?xsessionId=1", "abc", SessionInUri::Query,
          "ws://h/ws?xsessionId=1&sessionId=abc");
}
GST_END_TEST;

GST_START_TEST (test_path)
{
  expect ("wss://lb.example/ws", "abc", SessionInUri::Path, "wss://lb.example/ws/abc");
  expect ("wss://lb.example/ws/", "abc", SessionInUri::Path, "wss://lb.example/ws/abc");
  expect ("wss://lb.example", "abc", SessionInUri::Path, "wss://lb.example/abc");
  expect ("wss://lb.example/ws?token=t#f", "a/b", SessionInUri::Path,
          "wss://lb.example/ws/a%2Fb?token=t#f");
}
GST_END_TEST;

GST_START_TEST (test_none_and_empty)
{
  expect ("wss://lb.example/ws?x=1", "abc", SessionInUri::None, "wss://lb.example/ws?x=1");
  expect ("wss://lb.example/ws", "", SessionInUri::Query, "wss://lb.example/ws");
  /* Kept in a variable: the check macro holds the pointer past the statement. */
  const std::string unreserved = wssac::percent_encode ("AZaz09-._~");
  fail_unless_equals_string (unreserved.c_str (), "AZaz09-._~");
}
GST_END_TEST;

WSS_CHECK_MAIN (session_uri, "session-uri",
                { "general", 0, WSS_TESTS (test_query, test_path, test_none_and_empty) });
