/* Unit tests for the wire format: exactly the original protocol's fields and
 * JSON types out, every refusal reason in. */
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>

#include "check-suite.h"
#include "message-codec.h"

#include <string>

using namespace wssac;

static JsonObject *
parse_object (const std::string &text, JsonParser **parser)
{
  *parser = json_parser_new ();
  fail_unless (json_parser_load_from_data (*parser, text.c_str (), -1, NULL));
  JsonNode *root = json_parser_get_root (*parser);
  fail_unless (JSON_NODE_HOLDS_OBJECT (root));
  return json_node_get_object (root);
}

GST_START_TEST (test_encode_audio_chunk_exact_fields)
{
  const uint8_t audio[] = { 0x1a, 0x45, 0xdf, 0xa3, 0x00, 0xff };
  AudioChunkFields f;
  f.session_id = "demo";
  f.audio = audio;
  f.audio_size = sizeof (audio);
  f.timestamp_ms = 1764633600123;
  f.chunk_index = 42;
  std::string text = encode_audio_chunk (f);

  JsonParser *parser;
  JsonObject *o = parse_object (text, &parser);
  fail_unless_equals_int (json_object_get_size (o), 7);
  fail_unless_equals_string (json_object_get_string_member (o, "action"), "audioChunk");
  fail_unless_equals_string (json_object_get_string_member (o, "sessionId"), "demo");
  fail_unless_equals_string (json_object_get_string_member (o, "audioData"), "GkXfowD/");
  fail_unless_equals_string (json_object_get_string_member (o, "format"), "webm-opus");
  JsonNode *ts = json_object_get_member (o, "timestamp");
  fail_unless (json_node_get_value_type (ts) == G_TYPE_INT64);
  fail_unless_equals_int64 (json_node_get_int (ts), 1764633600123);
  JsonNode *idx = json_object_get_member (o, "chunkIndex");
  fail_unless (json_node_get_value_type (idx) == G_TYPE_INT64);
  fail_unless_equals_int64 (json_node_get_int (idx), 42);
  fail_unless_equals_int64 (json_object_get_int_member (o, "originalSize"), 6);
  /* Field order as the browser speaker app's object literal. */
  fail_unless (text.find ("{\"action\":\"audioChunk\",\"sessionId\":\"demo\",\"audioData\"") == 0,
      "%s", text.c_str ());
  g_object_unref (parser);
}
GST_END_TEST;

/* A chunk of three bytes in session "s"; the test sets what it checks. */
static AudioChunkFields
three_byte_chunk ()
{
  static const uint8_t audio[] = { 1, 2, 3 };
  AudioChunkFields f;
  f.session_id = "s";
  f.audio = audio;
  f.audio_size = sizeof (audio);
  return f;
}

GST_START_TEST (test_capture_timestamp_optional)
{
  AudioChunkFields f = three_byte_chunk ();
  f.capture_timestamp_ms = 1000;
  std::string text = encode_audio_chunk (f);
  fail_unless (text.find ("\"captureTimestamp\":1000") != std::string::npos);
  DecodeResult r = decode_message (text.data (), text.size ());
  fail_unless (r.ok (), "%s", r.detail.c_str ());
  fail_unless_equals_int64 (r.message.capture_timestamp_ms, 1000);
}
GST_END_TEST;

GST_START_TEST (test_round_trip_audio)
{
  std::vector<uint8_t> audio (700);
  for (size_t i = 0; i < audio.size (); i++)
    audio[i] = static_cast<uint8_t> (i * 7);
  AudioChunkFields f;
  f.session_id = "room-1";
  f.audio = audio.data ();
  f.audio_size = audio.size ();
  f.timestamp_ms = 5;
  f.format = "ogg-opus";
  f.chunk_index = 9007199254740991ULL; /* 2^53 - 1 */
  std::string text = encode_audio_chunk (f);
  DecodeResult r = decode_message (text.data (), text.size ());
  fail_unless (r.ok (), "%s", r.detail.c_str ());
  fail_unless (r.message.action == Action::AudioChunk);
  fail_unless (r.message.audio == audio);
  fail_unless_equals_string (r.message.format.c_str (), "ogg-opus");
  fail_unless_equals_uint64 (r.message.chunk_index, 9007199254740991ULL);
  fail_unless_equals_int64 (r.message.timestamp_ms, 5);
}
GST_END_TEST;

GST_START_TEST (test_controls)
{
  const Action actions[] = { Action::PauseBroadcast, Action::ResumeBroadcast, Action::MuteBroadcast,
    Action::UnmuteBroadcast, Action::EndSession };
  for (Action a : actions)
    {
      std::string text = encode_control (a, "s1", 77, "Speaker ended session");
      DecodeResult r = decode_message (text.data (), text.size ());
      fail_unless (r.ok (), "%s: %s", text.c_str (), r.detail.c_str ());
      fail_unless (r.message.action == a);
      fail_unless_equals_string (r.message.session_id.c_str (), "s1");
      fail_unless_equals_int64 (r.message.timestamp_ms, 77);
      bool has_reason = text.find ("\"reason\"") != std::string::npos;
      fail_unless_equals_int (has_reason, a == Action::EndSession);
    }
  /* The browser speaker app's own pause message has no sessionId: accepted. */
  const char *original = "{\"action\":\"pauseBroadcast\",\"timestamp\":1}";
  DecodeResult r = decode_message (original, strlen (original));
  fail_unless (r.ok ());
  fail_unless (r.message.session_id.empty ());
}
GST_END_TEST;

/* An audioChunk message with @fields after its action. */
static std::string
chunk (const std::string &fields)
{
  return "{\"action\":\"audioChunk\"," + fields + "}";
}

struct DecodeCase
{
  const char *what;
  std::string text;
  DecodeError expected;
};

GST_START_TEST (test_refusals)
{
  const std::string ok_chunk = "\"sessionId\":\"s\",\"audioData\":\"AAAA\",\"chunkIndex\":0";
  const DecodeCase cases[] = {
    { "not JSON", "not json", DecodeError::NotJson },
    { "an array", "[1,2]", DecodeError::NotObject },
    { "no action", "{}", DecodeError::MissingField },
    { "a number as action", "{\"action\":5}", DecodeError::WrongType },
    { "an unknown action", "{\"action\":\"dance\"}", DecodeError::UnknownAction },
    { "no sessionId", chunk ("\"audioData\":\"AAAA\",\"chunkIndex\":0"), DecodeError::MissingField },
    { "an empty sessionId", chunk ("\"sessionId\":\"\",\"audioData\":\"AAAA\",\"chunkIndex\":0"),
        DecodeError::BadValue },
    { "a number as sessionId", chunk ("\"sessionId\":7,\"audioData\":\"AAAA\",\"chunkIndex\":0"),
        DecodeError::WrongType },
    { "no audioData", chunk ("\"sessionId\":\"s\",\"chunkIndex\":0"), DecodeError::MissingField },
    { "a string as chunkIndex", chunk ("\"sessionId\":\"s\",\"audioData\":\"AAAA\",\"chunkIndex\":\"3\""),
        DecodeError::WrongType },
    { "a fraction as chunkIndex", chunk ("\"sessionId\":\"s\",\"audioData\":\"AAAA\",\"chunkIndex\":1.5"),
        DecodeError::WrongType },
    { "a negative chunkIndex", chunk ("\"sessionId\":\"s\",\"audioData\":\"AAAA\",\"chunkIndex\":-1"),
        DecodeError::BadValue },
    { "a chunkIndex above 2^53",
        chunk ("\"sessionId\":\"s\",\"audioData\":\"AAAA\",\"chunkIndex\":9007199254740993"),
        DecodeError::BadValue },
    { "a base64 character out of the alphabet",
        chunk ("\"sessionId\":\"s\",\"audioData\":\"A*AA\",\"chunkIndex\":0"), DecodeError::BadBase64 },
    { "base64 cut short", chunk ("\"sessionId\":\"s\",\"audioData\":\"AAA\",\"chunkIndex\":0"),
        DecodeError::BadBase64 },
    { "empty audio", chunk ("\"sessionId\":\"s\",\"audioData\":\"\",\"chunkIndex\":0"), DecodeError::BadValue },
    { "originalSize unlike the audio", chunk (ok_chunk + ",\"originalSize\":4"), DecodeError::SizeMismatch },
    { "originalSize of the audio", chunk (ok_chunk + ",\"originalSize\":3"), DecodeError::None },
    /* What json-glib 1.6 mishandles (it keeps the first value and leaks the
     * rest; it leaks on a broken surrogate pair) is refused before it parses. */
    { "two objects", "{\"action\":\"pauseBroadcast\"}{\"pad\":\"AAAA\"}", DecodeError::NotJson },
    { "text after the object", "{\"action\":\"pauseBroadcast\"} x", DecodeError::NotJson },
    { "white space after the object", "{\"action\":\"pauseBroadcast\"} \n", DecodeError::None },
    { "braces inside a string", "{\"action\":\"pauseBroadcast\",\"x\":\"}{\"}", DecodeError::None },
    { "a high surrogate before a plain \\u escape",
        "{\"action\":\"pauseBroadcast\",\"x\":\"\\ud83d\\u0041\"}", DecodeError::NotJson },
    { "a lone low surrogate", "{\"action\":\"pauseBroadcast\",\"x\":\"\\udc00\"}", DecodeError::NotJson },
    { "a surrogate pair", "{\"action\":\"pauseBroadcast\",\"x\":\"\\ud83d\\ude00\"}", DecodeError::None },
    /* json-glib would decode a lone surrogate to invalid UTF-8. */
    { "a lone high surrogate in sessionId",
        chunk ("\"sessionId\":\"\\ud83dx\",\"audioData\":\"AAAA\",\"chunkIndex\":0"), DecodeError::NotJson },
  };
  for (const DecodeCase &c : cases)
    {
      DecodeResult r = decode_message (c.text.data (), c.text.size ());
      fail_unless (r.error == c.expected, "%s: %s gave %s (%s), expected %s", c.what, c.text.c_str (),
          decode_error_code (r.error), r.detail.c_str (), decode_error_code (c.expected));
    }
  /* Details are valid UTF-8 whatever was sent. */
  const char *cesu = "{\"^action\":\"audioChunk\",\"sessionId\":\"\\ud83d\":\"AAAA\"}";
  DecodeResult bad = decode_message (cesu, strlen (cesu));
  fail_if (bad.ok ());
  fail_unless (g_utf8_validate (bad.detail.c_str (), -1, NULL));
}
GST_END_TEST;

GST_START_TEST (test_audio_size_limit)
{
  std::vector<uint8_t> audio (2000, 1);
  AudioChunkFields f;
  f.session_id = "s";
  f.audio = audio.data ();
  f.audio_size = audio.size ();
  std::string text = encode_audio_chunk (f);
  DecodeLimits limits;
  limits.max_audio_bytes = 1000;
  DecodeResult r = decode_message (text.data (), text.size (), limits);
  fail_unless (r.error == DecodeError::BadValue);
  fail_unless (r.detail.find ("1000") != std::string::npos);
  limits.max_audio_bytes = 2000;
  fail_unless (decode_message (text.data (), text.size (), limits).ok ());
}
GST_END_TEST;

GST_START_TEST (test_error_codes_are_distinct)
{
  const DecodeError all[] = { DecodeError::None, DecodeError::NotJson, DecodeError::NotObject,
    DecodeError::MissingField, DecodeError::WrongType, DecodeError::BadBase64,
    DecodeError::UnknownAction, DecodeError::BadValue, DecodeError::SizeMismatch,
    DecodeError::InvalidSessionId };
  for (size_t i = 0; i < G_N_ELEMENTS (all); i++)
    for (size_t j = i + 1; j < G_N_ELEMENTS (all); j++)
      fail_if (g_str_equal (decode_error_code (all[i]), decode_error_code (all[j])));
}
GST_END_TEST;

GST_START_TEST (test_stream_id)
{
  AudioChunkFields f = three_byte_chunk ();
  /* Left out unless set: receivers that predate it see the seed's fields. */
  fail_unless (encode_audio_chunk (f).find ("streamId") == std::string::npos);
  std::string id = new_stream_id ();
  fail_unless_equals_int (id.size (), kStreamIdLength);
  fail_unless (stream_id_problem (id).empty (), "%s", id.c_str ());
  fail_if (new_stream_id () == id);
  f.stream_id = id;
  for (int binary = 0; binary < 2; binary++)
    {
      std::string wire = binary ? encode_binary_audio_chunk (f) : encode_audio_chunk (f);
      DecodeResult r = binary ? decode_binary_message (reinterpret_cast<const uint8_t *> (wire.data ()), wire.size ())
                              : decode_message (wire.data (), wire.size ());
      fail_unless (r.ok (), "%s", r.detail.c_str ());
      fail_unless_equals_string (r.message.stream_id.c_str (), id.c_str ());
    }
  for (Action a : { Action::PauseBroadcast, Action::EndSession })
    {
      std::string wire = encode_control (a, "s", 5, "done", id);
      DecodeResult r = decode_message (wire.data (), wire.size ());
      fail_unless (r.ok (), "%s", r.detail.c_str ());
      fail_unless_equals_string (r.message.stream_id.c_str (), id.c_str ());
      fail_unless (encode_control (a, "s", 5).find ("streamId") == std::string::npos);
    }
  /* Malformed: wrong length, upper case, not hex, not a string. */
  const char *bad[] = { "\"abc\"", "\"0123456789ABCDEF0123456789abcdef\"", "\"0123456789abcdeg0123456789abcdef\"",
    "\"0123456789abcdef0123456789abcdef0\"", "\"\"" };
  for (const char *v : bad)
    {
      std::string text = std::string ("{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"audioData\":\"AAAA\","
                                      "\"chunkIndex\":0,\"streamId\":")
                         + v + "}";
      DecodeResult r = decode_message (text.data (), text.size ());
      fail_unless (r.error == DecodeError::BadValue, "%s: %s", v, decode_error_code (r.error));
      fail_unless_equals_string (decode_error_code (r.error), "bad-value");
    }
  std::string text = "{\"action\":\"pauseBroadcast\",\"streamId\":7}";
  fail_unless (decode_message (text.data (), text.size ()).error == DecodeError::WrongType);
}
GST_END_TEST;

GST_START_TEST (test_invalid_session_id)
{
  const char *bad[] = {
    "a\\u0000b",  /* json-glib would cut it to "a": another session */
    "\\u0000",
    "a\\u0001",   /* control characters */
    "tab\\there",
    "x\\u007f",
    "\\u0085",    /* C1 control */
  };
  for (const char *id : bad)
    for (const char *action : { "audioChunk", "endSession", "pauseBroadcast" })
      {
        std::string text = std::string ("{\"action\":\"") + action + "\",\"sessionId\":\"" + id
                           + "\",\"audioData\":\"AAAA\",\"chunkIndex\":0}";
        DecodeResult r = decode_message (text.data (), text.size ());
        fail_unless (r.error == DecodeError::InvalidSessionId, "%s %s: %s", action, id, decode_error_code (r.error));
        fail_unless_equals_string (decode_error_code (r.error), "invalid-session-id");
        fail_if (r.detail.empty ());
      }
  std::string longest (256, 'x'), too_long (257, 'x');
  for (const std::string &id : { longest, too_long })
    {
      std::string text = "{\"action\":\"audioChunk\",\"sessionId\":\"" + id + "\",\"audioData\":\"AAAA\",\"chunkIndex\":0}";
      DecodeResult r = decode_message (text.data (), text.size ());
      fail_unless (r.ok () == (id.size () == 256), "%zu: %s", id.size (), r.detail.c_str ());
    }
  /* Printable UTF-8 is fine. */
  std::string text = "{\"action\":\"audioChunk\",\"sessionId\":\"caf\\u00e9 \\u4e2d\",\"audioData\":\"AAAA\",\"chunkIndex\":0}";
  fail_unless (decode_message (text.data (), text.size ()).ok ());
  /* A NUL in another string is refused too (it would be cut), as bad-value. */
  text = "{\"action\":\"endSession\",\"sessionId\":\"s\",\"reason\":\"a\\u0000b\"}";
  fail_unless (decode_message (text.data (), text.size ()).error == DecodeError::BadValue);
  /* A NUL in the binary framing's header. */
  AudioChunkFields f;
  const uint8_t audio[] = { 1 };
  f.session_id = "s";
  f.audio = audio;
  f.audio_size = 1;
  std::string wire = encode_binary_audio_chunk (f);
  size_t at = wire.find ("\"s\"");
  std::string header = wire.substr (6, wire.size () - 7);
  header.replace (header.find ("\"s\""), 3, "\"s\\u0000x\"");
  std::string framed ("WSAC", 4);
  framed.push_back (static_cast<char> (header.size () >> 8));
  framed.push_back (static_cast<char> (header.size () & 0xff));
  framed += header;
  framed.push_back (1);
  fail_unless (at != std::string::npos);
  DecodeResult r = decode_binary_message (reinterpret_cast<const uint8_t *> (framed.data ()), framed.size ());
  fail_unless (r.error == DecodeError::InvalidSessionId, "%s", r.detail.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_ack_promise)
{
  wssac::AckPromise p = wssac::parse_ack_promise (
      wssac::encode_ack_promise ({ 4, 1000 }).c_str ());
  fail_unless (p.made ());
  fail_unless_equals_int (p.every, 4);
  fail_unless_equals_int64 (p.within_ms, 1000);
  p = wssac::parse_ack_promise ("within-ms=250");
  fail_unless (p.made () && p.every == 0 && p.within_ms == 250);
  /* Unknown parts are skipped (a later version may say more). */
  p = wssac::parse_ack_promise (" every=2 ;within-ms=500; batch=yes");
  fail_unless (p.made () && p.every == 2 && p.within_ms == 500);
  for (const char *bad : { "", "every=4", "within-ms=0", "within-ms=-5", "within-ms=1s",
                           "within-ms", "within-ms=99999999999", "1000" })
    fail_unless (!wssac::parse_ack_promise (bad).made (), "\"%s\" taken for a promise", bad);
  fail_unless (!wssac::parse_ack_promise (nullptr).made ());
}
GST_END_TEST;

WSS_CHECK_MAIN (message_codec, "core-message-codec",
                { "general", 0,
                  WSS_TESTS (test_encode_audio_chunk_exact_fields, test_capture_timestamp_optional,
                             test_round_trip_audio, test_controls, test_refusals,
                             test_audio_size_limit, test_error_codes_are_distinct, test_stream_id,
                             test_invalid_session_id, test_ack_promise) });
