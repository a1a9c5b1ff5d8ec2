/* Unit tests of wssac::redact_uri: credentials in a query never shown. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "redact-uri.h"

#include <string>

using wssac::redact_uri;

GST_START_TEST (test_redacts_credentials)
{
  struct
  {
    const char *in, *out;
  } cases[] = {
    { "wss://gw.example/prod?token=abc", "wss://gw.example/prod?token=***" },
    { "wss://gw.example/prod?sessionId=s1&token=abc&x=1",
      "wss://gw.example/prod?sessionId=s1&token=***&x=1" },
    { "ws://h:8080/ws?Access_Token=a&API_KEY=b&sig=c",
      "ws://h:8080/ws?Access_Token=***&API_KEY=***&sig=***" },
    { "wss://h/?X-Amz-Signature=d&X-Amz-Credential=e&X-Amz-Security-Token=f",
      "wss://h/?X-Amz-Signature=***&X-Amz-Credential=***&X-Amz-Security-Token=***" },
    { "wss://h/ws?password=p#frag", "wss://h/ws?password=***#frag" },
    { "wss://h/ws?auth=&key=k", "wss://h/ws?auth=***&key=***" },
  };
  for (const auto &c : cases)
    {
      const std::string got = redact_uri (c.in);
      fail_unless_equals_string (got.c_str (), c.out);
    }
}
GST_END_TEST;

GST_START_TEST (test_leaves_the_rest_alone)
{
  const char *same[] = { "ws://127.0.0.1:8080/ws", "wss://h/ws?sessionId=abc&tokens=1&mykey=2",
                         "wss://h/ws?token",       "wss://h/ws?",
                         "wss://h/ws?a=1&&b=2",    "wss://h/ws#token=x",
                         "not a uri ?sessionId=x", "" };
  for (const char *u : same)
    {
      const std::string got = redact_uri (u);
      fail_unless_equals_string (got.c_str (), u);
    }
}
GST_END_TEST;

GST_START_TEST (test_secret_names)
{
  fail_unless (wssac::is_secret_query_parameter ("TOKEN"));
  fail_unless (wssac::is_secret_query_parameter ("x-amz-signature"));
  fail_if (wssac::is_secret_query_parameter ("sessionId"));
  fail_if (wssac::is_secret_query_parameter ("tok"));
  fail_if (wssac::is_secret_query_parameter (""));
}
GST_END_TEST;

WSS_CHECK_MAIN (redact_uri, "redact-uri",
                { "general", 0,
                  WSS_TESTS (test_redacts_credentials, test_leaves_the_rest_alone,
                             test_secret_names) });
