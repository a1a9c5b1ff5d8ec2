/* Unit tests for the audioChunk fast paths: write_audio_chunk () writes
 * exactly the json-glib encoder's bytes, and decode_audio_chunk_fast ()
 * decodes exactly what the json-glib decoder decodes, or leaves the message
 * to it. tests/fuzz/fuzz_audio_chunk_differential.cpp checks the same on
 * arbitrary input. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "audio-chunk-parser.h"
#include "audio-chunk-writer.h"
#include "message-codec.h"

#include <climits>
#include <cstring>
#include <string>
#include <vector>

using namespace wssac;

static std::vector<uint8_t>
test_bytes (size_t n)
{
  std::vector<uint8_t> v (n);
  for (size_t i = 0; i < n; i++)
    v[i] = static_cast<uint8_t> (i * 37 + 11);
  return v;
}

static void
assert_same_message (const Message &a, const Message &b, const std::string &text)
{
  fail_unless (a.action == b.action, "action: %s", text.c_str ());
  fail_unless (a.session_id == b.session_id, "sessionId \"%s\" vs \"%s\": %s",
               a.session_id.c_str (), b.session_id.c_str (), text.c_str ());
  fail_unless_equals_int64 (a.timestamp_ms, b.timestamp_ms);
  fail_unless (a.format == b.format, "format: %s", text.c_str ());
  fail_unless_equals_uint64 (a.chunk_index, b.chunk_index);
  fail_unless_equals_uint64 (a.original_size, b.original_size);
  fail_unless (a.audio == b.audio, "audio: %s", text.c_str ());
  fail_unless_equals_int64 (a.capture_timestamp_ms, b.capture_timestamp_ms);
  fail_unless (a.stream_header == b.stream_header, "streamHeader: %s", text.c_str ());
  fail_unless (a.stream_id == b.stream_id, "streamId: %s", text.c_str ());
  fail_unless (a.reason == b.reason, "reason: %s", text.c_str ());
}

/* decode_message () answers as the json-glib decoder does; @fast: whether
 * the fast path is expected to take @text. Returns the result. */
static DecodeResult
check_decode (const std::string &text, bool fast, const DecodeLimits &limits = DecodeLimits ())
{
  Message m;
  bool took = decode_audio_chunk_fast (text.data (), text.size (), limits, m);
  fail_unless (took == fast, "fast path %s: %s", took ? "taken" : "not taken", text.c_str ());
  DecodeResult ref = decode_message_json_glib (text.data (), text.size (), limits);
  DecodeResult got = decode_message (text.data (), text.size (), limits);
  fail_unless (got.error == ref.error, "%s vs json-glib %s: %s", decode_error_code (got.error),
               decode_error_code (ref.error), text.c_str ());
  fail_unless (got.detail == ref.detail, "detail \"%s\" vs \"%s\"", got.detail.c_str (),
               ref.detail.c_str ());
  if (took)
    {
      fail_unless (ref.ok (), "fast path accepted what json-glib refuses: %s", ref.detail.c_str ());
      assert_same_message (m, ref.message, text);
    }
  if (ref.ok ())
    assert_same_message (got.message, ref.message, text);
  return got;
}

static const char kAudio[] = "BwgJCgsMDQ4PEBES"; /* 12 bytes */

static std::string
chunk_text (const std::string &index, const std::string &extra = std::string ())
{
  return std::string ("{\"action\":\"audioChunk\",\"sessionId\":\"s1\",\"audioData\":\"") + kAudio
         + "\",\"timestamp\":1764640812345,\"format\":\"webm-opus\",\"chunkIndex\":" + index
         + ",\"originalSize\":12" + extra + "}";
}

GST_START_TEST (test_writer_matches_json_glib)
{
  std::vector<std::string> sessions = { "demo",         "",     "with \"quotes\" and \\",
                                        "caf\xc3\xa9",  "\xc3", std::string ("a\0b", 3),
                                        "\x7f\x1f\x1e/" };
  std::string every_byte;
  for (int c = 1; c < 256; c++)
    every_byte.push_back (static_cast<char> (c));
  sessions.push_back (every_byte);
  std::vector<int64_t> times = { 0, 1764640812345, -1, INT64_MAX, INT64_MIN };
  std::vector<uint64_t> indices = { 0, 57, (1ULL << 53) - 1, UINT64_MAX };
  std::vector<size_t> sizes = { 0, 1, 2, 3, 4, 522 };
  std::vector<uint8_t> audio = test_bytes (522), header = test_bytes (328);
  int checked = 0;
  for (const std::string &session : sessions)
    for (int combo = 0; combo < 16; combo++)
      for (size_t n : sizes)
        {
          AudioChunkFields f;
          f.session_id = session;
          f.audio = audio.data ();
          f.audio_size = n;
          f.timestamp_ms = times[(combo + n) % times.size ()];
          f.chunk_index = indices[(combo + n) % indices.size ()];
          if (combo & 1)
            {
              f.stream_header = header.data ();
              f.stream_header_size = 1 + (n * 7) % 328;
            }
          if (combo & 2)
            f.capture_timestamp_ms = (combo & 8) ? 0 : 1764640820470;
          if (combo & 4)
            f.stream_id = (combo & 8) ? session : new_stream_id ();
          if (combo & 8)
            f.format = session;
          std::string ours;
          write_audio_chunk (f, ours);
          std::string ref = encode_audio_chunk_json_glib (f);
          fail_unless (ours == ref, "writer:\n%s\njson-glib:\n%s", ours.c_str (), ref.c_str ());
          fail_unless (encode_audio_chunk (f) == ref);
          checked++;
        }
  fail_unless_equals_int (checked, 8 * 16 * 6);
}
GST_END_TEST;

/* What our sink and the browser speaker app send takes the fast path. */
GST_START_TEST (test_real_messages_take_fast_path)
{
  std::vector<uint8_t> audio = test_bytes (522), header = test_bytes (328);
  for (int combo = 0; combo < 8; combo++)
    {
      AudioChunkFields f;
      f.session_id = "speaker-7f3a";
      f.audio = audio.data ();
      f.audio_size = audio.size ();
      f.timestamp_ms = 1764640812345;
      f.chunk_index = 57;
      if (combo & 1)
        {
          f.stream_header = header.data ();
          f.stream_header_size = header.size ();
        }
      if (combo & 2)
        f.capture_timestamp_ms = 1764640820470;
      if (combo & 4)
        f.stream_id = new_stream_id ();
      DecodeResult r = check_decode (encode_audio_chunk (f), true);
      fail_unless (r.ok ());
      fail_unless (r.message.audio == audio);
      fail_unless_equals_int ((int)r.message.stream_header.size (), (combo & 1) ? 328 : 0);
    }
  /* The browser speaker app: JSON.stringify of its object. */
  DecodeResult r = check_decode (chunk_text ("3"), true);
  fail_unless (r.ok ());
  fail_unless_equals_uint64 (r.message.chunk_index, 3);
  fail_unless_equals_int ((int)r.message.audio.size (), 12);
  /* The required fields only: optional ones get the json-glib defaults. */
  r = check_decode (
      "{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"audioData\":\"AAAA\",\"chunkIndex\":0}",
      true);
  fail_unless_equals_int64 (r.message.timestamp_ms, -1);
  fail_unless_equals_int64 (r.message.capture_timestamp_ms, -1);
  fail_unless (r.message.format.empty ());
}
GST_END_TEST;

GST_START_TEST (test_whitespace)
{
  check_decode (
      " \r\n\t{ \"action\" : \"audioChunk\" ,\n \"sessionId\":\"s1\",\t\"audioData\" :\"AAAA\" , "
      "\"chunkIndex\" : 0 }\r\n ",
      true);
  /* Other bytes around the object are json-glib's to judge. */
  check_decode (chunk_text ("1") + "\f", false);
  check_decode (std::string ("\v") + chunk_text ("1"), false);
}
GST_END_TEST;

/* Escapes and \u sequences: json-glib's path, with the unescaped value. Each
 * case replaces @find in a chunk's text with @replace; every one must decode
 * as json-glib does (check_decode), some also to a given outcome. */
enum class Outcome
{
  AsJsonGlib, /* only that the two decoders agree */
  Ok,         /* decoded; with @session_id when it is set */
  Error,      /* refused with @error */
};

struct EscapeCase
{
  const char *find;
  const char *replace;
  Outcome outcome;
  const char *session_id;
  DecodeError error;
};

static const EscapeCase kEscapeCases[] = {
  { "\"s1\"", "\"s\\u0031\"", Outcome::Ok, "s1", DecodeError::None },
  { "\"s1\"", "\"s\\/1\"", Outcome::Ok, "s/1", DecodeError::None },
  { "\"s1\"", "\"s\\u00e9\"", Outcome::Ok, "s\xc3\xa9", DecodeError::None },
  { "\"s1\"", "\"\\ud83d\\ude00\"", Outcome::AsJsonGlib, nullptr, DecodeError::None },
  { "\"s1\"", "\"\\ud83d\"", Outcome::AsJsonGlib, nullptr, DecodeError::None },
  { "\"s1\"", "\"s\\u0000\"", Outcome::Error, nullptr, DecodeError::InvalidSessionId },
  { "\"s1\"", "\"s\\u00\"", Outcome::Error, nullptr, DecodeError::NotJson },
  /* An escape inside the base64 and in a member name. */
  { "BwgJ", "\\u0042wgJ", Outcome::AsJsonGlib, nullptr, DecodeError::None },
  { "\"chunkIndex\"", "\"chunk\\u0049ndex\"", Outcome::AsJsonGlib, nullptr, DecodeError::None },
  /* UTF-8 and control characters as they are. */
  { "\"s1\"", "\"caf\xc3\xa9\"", Outcome::Ok, nullptr, DecodeError::None },
  { "\"s1\"", "\"s\t1\"", Outcome::AsJsonGlib, nullptr, DecodeError::None },
};

GST_START_TEST (test_escapes)
{
  const std::string t = chunk_text ("1");
  for (const EscapeCase &c : kEscapeCases)
    {
      std::string u = t;
      size_t at = u.find (c.find);
      fail_unless (at != std::string::npos, "no %s in %s", c.find, t.c_str ());
      u.replace (at, strlen (c.find), c.replace);
      DecodeResult r = check_decode (u, false);
      switch (c.outcome)
        {
        case Outcome::AsJsonGlib:
          break;
        case Outcome::Ok:
          fail_unless (r.ok (), "%s: %s (%s)", u.c_str (), decode_error_code (r.error),
                       r.detail.c_str ());
          if (c.session_id)
            fail_unless (r.message.session_id == c.session_id,
                         "%s: sessionId \"%s\", expected \"%s\"", u.c_str (),
                         r.message.session_id.c_str (), c.session_id);
          break;
        case Outcome::Error:
          fail_unless (r.error == c.error, "%s: %s, expected %s", u.c_str (),
                       decode_error_code (r.error), decode_error_code (c.error));
          break;
        }
    }
}
GST_END_TEST;

GST_START_TEST (test_numbers)
{
  /* Plain integers: the fast path. */
  fail_unless_equals_uint64 (check_decode (chunk_text ("0"), true).message.chunk_index, 0);
  fail_unless_equals_uint64 (
      check_decode (chunk_text ("9007199254740991"), true).message.chunk_index,
      9007199254740991ULL);
  fail_unless_equals_uint64 (
      check_decode (chunk_text ("123456789012345"), true).message.chunk_index, 123456789012345ULL);
  std::string t = chunk_text ("1");
  std::string neg = t;
  neg.replace (neg.find ("1764640812345"), 13, "-17");
  fail_unless_equals_int64 (check_decode (neg, true).message.timestamp_ms, -17);
  /* Fractions, exponents, -0, leading zeros, huge values: json-glib's path. */
  fail_unless (check_decode (chunk_text ("1e3"), false).ok ());
  fail_unless (check_decode (chunk_text ("1.0"), false).ok ());
  check_decode (chunk_text ("-0"), false);
  check_decode (chunk_text ("01"), false);
  check_decode (chunk_text ("1.5"), false);
  check_decode (chunk_text ("1e300"), false);
  check_decode (chunk_text ("-1"), false);
  fail_unless (check_decode (chunk_text ("9007199254740992"), false).error
               == DecodeError::BadValue);
  check_decode (chunk_text ("123456789012345678"), false);
  check_decode (chunk_text ("1234567890123456789"), false);
  check_decode (chunk_text ("99999999999999999999"), false);
  check_decode (chunk_text ("\"1\""), false);
  check_decode (chunk_text ("null"), false);
  check_decode (chunk_text ("true"), false);
  std::string size = t;
  size.replace (size.find ("\"originalSize\":12"), 17, "\"originalSize\":13");
  fail_unless (check_decode (size, false).error == DecodeError::SizeMismatch);
  size.replace (size.find ("\"originalSize\":13"), 17, "\"originalSize\":12.0");
  check_decode (size, false);
}
GST_END_TEST;

GST_START_TEST (test_duplicates_and_other_members)
{
  check_decode (chunk_text ("2", ",\"chunkIndex\":3"), false);
  check_decode ("{\"sessionId\":\"x\"," + chunk_text ("2").substr (1), false);
  check_decode (chunk_text ("2", ",\"action\":\"audioChunk\""), false);
  check_decode (chunk_text ("2", ",\"extra\":[1,{\"a\":null}]"), false);
  check_decode (chunk_text ("2", ",\"reason\":\"x\""), false);
  check_decode (chunk_text ("2", ",\"streamId\":\"0123456789abcdef0123456789abcdef\""), true);
  check_decode (chunk_text ("2", ",\"streamId\":\"0123456789ABCDEF0123456789abcdef\""), false);
  check_decode (chunk_text ("2", ",\"streamId\":\"0123\""), false);
  check_decode (chunk_text ("2", ",\"streamHeader\":\"GkXfo59ChoEB\""), true);
  check_decode (chunk_text ("2", ",\"streamHeader\":\"\""), true);
  check_decode (chunk_text ("2", ",\"streamHeader\":\"GkX\""), false);
  check_decode (chunk_text ("2", ",\"captureTimestamp\":-5"), true);
  /* Other actions and missing fields. */
  check_decode ("{\"action\":\"pauseBroadcast\",\"sessionId\":\"s1\",\"timestamp\":1}", false);
  check_decode ("{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"audioData\":\"AAAA\"}", false);
  check_decode (
      "{\"action\":\"audioChunk\",\"sessionId\":\"\",\"audioData\":\"AAAA\",\"chunkIndex\":0}",
      false);
  check_decode (
      "{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"audioData\":\"\",\"chunkIndex\":0}", false);
  check_decode ("{}", false);
  check_decode ("", false);
  std::string long_session (257, 'x');
  check_decode ("{\"action\":\"audioChunk\",\"sessionId\":\"" + long_session
                    + "\",\"audioData\":\"AAAA\",\"chunkIndex\":0}",
                false);
}
GST_END_TEST;

GST_START_TEST (test_trailing_bytes)
{
  std::string t = chunk_text ("2");
  fail_unless (check_decode (t + " x", false).error == DecodeError::NotJson);
  fail_unless (check_decode (t + "{}", false).error == DecodeError::NotJson);
  check_decode (t + std::string (1, '\0'), false);
  check_decode (t.substr (0, t.size () - 1), false);
  check_decode (t.substr (0, t.size () / 2), false);
  check_decode (t + "\n", true);
}
GST_END_TEST;

GST_START_TEST (test_base64)
{
  /* Padding: 1 and 2 '=', the unused bits of the last group ignored as
   * g_base64_decode () does. */
  const char *valid[] = { "AAAA", "AA==", "AAA=", "AB==", "AAB=", "+/+/", "////" };
  for (const char *b : valid)
    {
      std::string t
          = std::string ("{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"audioData\":\"") + b
            + "\",\"chunkIndex\":0}";
      fail_unless (check_decode (t, true).ok (), "%s", b);
    }
  const char *invalid[] = { "A", "AA=", "AB=A", "A===", "====", "AA-A", "AA_A", "AA A", "AAAA=" };
  for (const char *b : invalid)
    {
      std::string t
          = std::string ("{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"audioData\":\"") + b
            + "\",\"chunkIndex\":0}";
      fail_unless (!check_decode (t, false).ok (), "%s", b);
    }
}
GST_END_TEST;

/* The limits: the fast path accepts up to them and leaves the rest. */
GST_START_TEST (test_limits)
{
  DecodeLimits limits;
  limits.max_audio_bytes = 12;
  limits.max_chunk_index = 10;
  check_decode (chunk_text ("10"), true, limits);
  fail_unless (check_decode (chunk_text ("11"), false, limits).error == DecodeError::BadValue);
  limits.max_audio_bytes = 9;
  fail_unless (check_decode (chunk_text ("1"), false, limits).error == DecodeError::BadValue);
  /* A huge audioData under the default limits. */
  std::string big (200 * 1024, 'A');
  check_decode ("{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"audioData\":\"" + big
                    + "\",\"chunkIndex\":0}",
                false);
}
GST_END_TEST;

WSS_CHECK_MAIN (audio_chunk_codec, "core-audio-chunk-codec",
                { "general", 0,
                  WSS_TESTS (test_writer_matches_json_glib, test_real_messages_take_fast_path,
                             test_whitespace, test_escapes, test_numbers,
                             test_duplicates_and_other_members, test_trailing_bytes, test_base64,
                             test_limits) });
