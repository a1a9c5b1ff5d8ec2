/* Unit tests for the sink's reply fast path: decode_reply_fast () decodes
 * every ack and error exactly as decode_reply_json_glib () does, or leaves
 * the text to it, and decode_reply () answers as json-glib does on all of
 * them. tests/fuzz/fuzz_audio_chunk_differential.cpp checks the same on
 * arbitrary input. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "message-codec.h"
#include "reply-parser.h"

#include <string>
#include <vector>

using namespace wssac;

namespace
{

struct ReplyCase
{
  std::string text;
  /* Whether the fast path takes it (false: json-glib answers). */
  bool fast;
  /* What decode_reply () answers. */
  Reply expected;
};

/* The expected replies. @index < 0: none. */
Reply
with_index (Reply::Kind kind, int64_t index)
{
  Reply r;
  r.kind = kind;
  r.has_index = index >= 0;
  r.chunk_index = index >= 0 ? static_cast<uint64_t> (index) : 0;
  return r;
}

Reply
ack (int64_t index, const std::string &stream_id = std::string ())
{
  Reply r = with_index (Reply::Ack, index);
  r.stream_id = stream_id;
  return r;
}

Reply
error (const std::string &code, const std::string &message, int64_t index = -1)
{
  Reply r = with_index (Reply::Error, index);
  r.code = code;
  r.message = message;
  return r;
}

/* What error_saying () answers when json-glib decodes it. */
Reply
said (const std::string &message)
{
  return error ("c", message);
}

Reply
other (int64_t index = -1)
{
  return with_index (Reply::Other, index);
}

/* @what ("fast vs json-glib", ...): @got against @ref, every field. */
void
assert_same_reply (const Reply &got, const Reply &ref, const char *what, const std::string &text)
{
  std::string difference = reply_difference (got, ref);
  fail_unless (difference.empty (), "%s: %s: %s", what, difference.c_str (), text.c_str ());
}

/* json-glib answers @c's expectation, the fast path takes it or not as
 * @c says and then answers the same, and so does decode_reply (). */
void
check_reply (const ReplyCase &c)
{
  const std::string &text = c.text;
  Reply ref = decode_reply_json_glib (text.data (), text.size ());
  assert_same_reply (ref, c.expected, "json-glib vs expected", text);
  Reply fast;
  bool took = decode_reply_fast (text.data (), text.size (), fast);
  fail_unless (took == c.fast, "fast path %s: %s", took ? "taken" : "not taken", text.c_str ());
  if (took)
    assert_same_reply (fast, ref, "fast vs json-glib", text);
  assert_same_reply (decode_reply (text.data (), text.size ()), ref, "decode_reply vs json-glib",
                     text);
}

void
check_replies (const std::vector<ReplyCase> &cases)
{
  for (const ReplyCase &c : cases)
    check_reply (c);
}

const std::string kStream = "0123456789abcdef0123456789abcdef";

/* {"action":"ack",...,"chunkIndex":@index} */
std::string
ack_with_index (const std::string &index)
{
  return "{\"action\":\"ack\",\"sessionId\":\"s1\",\"chunkIndex\":" + index + "}";
}

/* {"action":"error","code":"c","message":"@escaped"} */
std::string
error_saying (const std::string &escaped)
{
  return "{\"action\":\"error\",\"code\":\"c\",\"message\":\"" + escaped + "\"}";
}

} // namespace

/* What our receiver sends (encode_ack (), encode_error ()) takes the fast
 * path. */
GST_START_TEST (test_acks)
{
  check_replies ({
      { encode_ack ("speaker-7f3a", 57, kStream), true, ack (57, kStream) },
      { encode_ack ("speaker-7f3a", 0), true, ack (0) },
      { encode_ack ("s", (1ULL << 53) - 1, kStream), true, ack ((1ULL << 53) - 1, kStream) },
      /* The stream id is taken as it is: checking it is the sink's. */
      { encode_ack ("s", 3, "not-hex"), true, ack (3, "not-hex") },
      { "{\"chunkIndex\":4,\"streamId\":\"x\",\"action\":\"ack\"}", true, ack (4, "x") },
      /* An ack without an index is no ack. */
      { "{\"action\":\"ack\",\"sessionId\":\"s\"}", true, other () },
      { ack_with_index ("-1"), true, other () },
  });
}
GST_END_TEST;

GST_START_TEST (test_errors)
{
  check_replies ({
      { encode_error ("bad-value", "field \"chunkIndex\" must be an integer", 12), true,
        error ("bad-value", "field \"chunkIndex\" must be an integer", 12) },
      { encode_error ("not-json", "not valid JSON: empty message"), true,
        error ("not-json", "not valid JSON: empty message") },
      { encode_error ("x", "back\\slash / tab\t newline\n"), true,
        error ("x", "back\\slash / tab\t newline\n") },
      /* A negative index is no index. */
      { "{\"action\":\"error\",\"chunkIndex\":-5}", true, error ("", "") },
      /* No code or message: empty ones. */
      { "{\"action\":\"error\"}", true, error ("", "") },
      /* The streamId of an error is not kept, nor code/message of an ack. */
      { "{\"action\":\"error\",\"streamId\":\"x\",\"code\":\"c\"}", true, error ("c", "") },
      { "{\"action\":\"ack\",\"chunkIndex\":1,\"code\":\"c\",\"message\":\"m\"}", true, ack (1) },
  });
}
GST_END_TEST;

GST_START_TEST (test_escapes)
{
  check_replies ({
      { error_saying ("\\\"\\\\\\/\\b\\f\\n\\r\\t"), true, said ("\"\\/\b\f\n\r\t") },
      { error_saying ("caf\\u00e9 \\u20AC \\u0041"), true, said ("caf\xc3\xa9 \xe2\x82\xac A") },
      /* A surrogate pair is one code point (U+1F600), upper or lower case. */
      { error_saying ("\\ud83d\\ude00"), true, said ("\xf0\x9f\x98\x80") },
      { error_saying ("\\uD83D\\uDE00!"), true, said ("\xf0\x9f\x98\x80!") },
      { error_saying ("\\uDBFF\\uDFFF"), true, said ("\xf4\x8f\xbf\xbf") },
      { error_saying ("\\u07ff\\u0800\\uffff"), true, said ("\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf") },
      /* Noncharacters are characters to json-glib too. */
      { error_saying ("\\uFFFE\\uFDD0"), true, said ("\xef\xbf\xbe\xef\xb7\x90") },
      /* Escapes in the action and the stream id are decoded too. */
      { "{\"action\":\"\\u0061ck\",\"chunkIndex\":2,\"streamId\":\"a\\/b\"}", true,
        ack (2, "a/b") },
      { "{\"action\":\"ack\\u0000\",\"chunkIndex\":2}", false, ack (2) },
      /* json-glib's quirks are its own: lone surrogates and short \u are
       * refused before it parses; raw UTF-8 and control characters, \u0000
       * (which cuts its string) and unknown escapes are left to it. */
      { error_saying ("\\ud83d"), false, other () },
      { error_saying ("\\ude00"), false, other () },
      { error_saying ("\\ud83d\\u0041"), false, other () },
      { error_saying ("\\u12"), false, other () },
      { error_saying ("\\u12g4"), false, other () },
      { error_saying ("a\\u0000b"), false, said ("a") },
      { error_saying ("caf\xc3\xa9"), false, said ("caf\xc3\xa9") },
      { error_saying ("\xc3"), false, other () },
      { error_saying ("tab\there"), false, said ("tab\there") },
      /* json-glib takes an unknown escape as the character escaped. */
      { error_saying ("\\x41\\q"), false, said ("x41q") },
      /* A bad string anywhere spoils the whole reply, kept or not. */
      { "{\"action\":\"ack\",\"chunkIndex\":1,\"sessionId\":\"\\ud800\"}", false, other () },
      { "{\"action\":\"ack\",\"chunkIndex\":1,\"message\":\"\\u12\"}", false, other () },
  });
}
GST_END_TEST;

GST_START_TEST (test_numbers)
{
  check_replies ({
      { ack_with_index ("999999999999999999"), true, ack (999999999999999999ULL) },
      { ack_with_index ("-999999999999999999"), true, other () },
      /* Integral doubles count, as JavaScript senders may write them. */
      { ack_with_index ("5.0"), false, ack (5) },
      { ack_with_index ("5e1"), false, ack (50) },
      { ack_with_index ("5.5"), false, other () },
      { ack_with_index ("-0"), false, ack (0) },
      { ack_with_index ("007"), false, ack (7) },
      { ack_with_index ("1000000000000000000"), false, ack (1000000000000000000ULL) },
      { ack_with_index ("99999999999999999999"), false, other () },
      { ack_with_index ("1e300"), false, other () },
      { ack_with_index ("\"7\""), false, other () },
      { ack_with_index ("null"), false, other () },
      { ack_with_index ("true"), false, other () },
  });
}
GST_END_TEST;

GST_START_TEST (test_odd_inputs)
{
  std::string ours = encode_ack ("s", 9);
  check_replies ({
      /* Whitespace where JSON allows it. */
      { " \r\n\t{ \"action\" :\t\"ack\" ,\n\"chunkIndex\" : 9 } \n", true, ack (9) },
      { ours + std::string (1, '\f'), false, other () },
      /* Not one object. */
      { "", false, other () },
      { "   ", false, other () },
      { "{}", false, other () },
      { "[]", false, other () },
      { "\"ack\"", false, other () },
      { "17", false, other () },
      { ours + ours, false, other () },
      { ours + " x", false, other () },
      { ours + std::string (1, '\0'), false, other () },
      { ours.substr (0, ours.size () - 1), false, other () },
      { "{\"action\":\"ack\",\"chunkIndex\":9,}", false, other () },
      { "{\"action\":\"ack\" \"chunkIndex\":9}", false, other () },
      { "{\"action\":\"ack\",\"chunkIndex\":9", false, other () },
      { "{\"action\":\"ack\",\"chunkIndex\":9,\"message\":\"open}", false, other () },
      /* Other actions and no action. */
      { "{\"action\":\"audioChunk\",\"chunkIndex\":3}", true, other (3) },
      { "{\"action\":\"\",\"chunkIndex\":3}", true, other (3) },
      { "{\"action\":\"ACK\",\"chunkIndex\":3}", true, other (3) },
      { "{\"chunkIndex\":3,\"code\":\"c\"}", true, other () },
      { "{\"action\":7,\"chunkIndex\":3}", false, other () },
      { "{\"action\":null,\"chunkIndex\":3}", false, other () },
      /* Values of other types and other members: json-glib's. */
      { "{\"action\":\"error\",\"code\":5,\"message\":\"m\"}", false, error ("", "m") },
      { "{\"action\":\"ack\",\"chunkIndex\":1,\"streamId\":[]}", false, ack (1) },
      { "{\"action\":\"ack\",\"chunkIndex\":1,\"extra\":{\"a\":[1,2]}}", false, ack (1) },
      { "{\"action\":\"ack\",\"chunkIndex\":1,\"\":1}", false, ack (1) },
      { "{\"act\\u0069on\":\"ack\",\"chunkIndex\":1}", false, ack (1) },
  });
}
GST_END_TEST;

/* Repeated members: json-glib keeps the last one; the fast path leaves
 * them to it. */
GST_START_TEST (test_duplicates)
{
  check_replies ({
      { "{\"action\":\"ack\",\"chunkIndex\":1,\"chunkIndex\":2}", false, ack (2) },
      { "{\"action\":\"error\",\"action\":\"ack\",\"chunkIndex\":1}", false, ack (1) },
      { "{\"action\":\"ack\",\"chunkIndex\":1,\"streamId\":\"a\",\"streamId\":\"b\"}", false,
        ack (1, "b") },
      { "{\"action\":\"ack\",\"chunkIndex\":1,\"chunkIndex\":-1}", false, other () },
  });
}
GST_END_TEST;

WSS_CHECK_MAIN (reply_codec, "core-reply-codec",
                { "general", 0,
                  WSS_TESTS (test_acks, test_errors, test_escapes, test_numbers, test_odd_inputs,
                             test_duplicates) });
