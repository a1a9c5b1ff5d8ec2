/* libFuzzer target: the fast paths of the flat messages against json-glib
 * (gst-libs/wssaudiochunk/protocol/audio-chunk-{parser,writer}.cpp and
 * reply-parser.cpp).
 *
 * Decode: the input is one text frame. decode_audio_chunk_fast () and the
 * json-glib decoder both read it, under the default limits and under tight
 * ones; whenever the fast path accepts, json-glib must accept too and
 * decode every field to the same value; decode_message () (fast path first)
 * must answer exactly as json-glib does, error code and detail included.
 * A message the fast path accepted, written again by write_audio_chunk (),
 * must take the fast path again and decode the same.
 *
 * Encode: fields cut from the input (arbitrary bytes as sessionId, format
 * and streamId, every optional field on or off) must come out of
 * write_audio_chunk () byte for byte as from the json-glib encoder.
 *
 * Reply: the same text through decode_reply_fast () and
 * decode_reply_json_glib (): whenever the fast path takes it, every field
 * of the Reply must be the same; decode_reply () must always answer as
 * json-glib does.
 *
 * Any difference aborts. Seeds: tests/fuzz/corpus/fuzz_message_codec (the
 * real and generated messages) and tests/fuzz/corpus/fuzz_audio_chunk_differential
 * (the edge cases of the scanner, edge-reply-* those of the replies);
 * dictionary: tests/fuzz/json.dict. */
#include "fuzz-message.h"
#include "fuzz-util.h"

#include "audio-chunk-parser.h"
#include "audio-chunk-writer.h"
#include "message-codec.h"
#include "reply-parser.h"

#include <cstring>
#include <string>

using namespace wssac;

namespace
{

void
check_same (const Message &fast, const Message &ref, const std::string &input)
{
  const char *in = input.c_str ();
  FUZZ_CHECK (fast.action == ref.action, "action differs: %s", in);
  FUZZ_CHECK (fast.session_id == ref.session_id, "sessionId \"%s\" vs \"%s\": %s",
              fast.session_id.c_str (), ref.session_id.c_str (), in);
  FUZZ_CHECK (fast.timestamp_ms == ref.timestamp_ms, "timestamp %lld vs %lld: %s",
              (long long)fast.timestamp_ms, (long long)ref.timestamp_ms, in);
  FUZZ_CHECK (fast.format == ref.format, "format \"%s\" vs \"%s\": %s", fast.format.c_str (),
              ref.format.c_str (), in);
  FUZZ_CHECK (fast.chunk_index == ref.chunk_index, "chunkIndex %llu vs %llu: %s",
              (unsigned long long)fast.chunk_index, (unsigned long long)ref.chunk_index, in);
  FUZZ_CHECK (fast.original_size == ref.original_size, "originalSize differs: %s", in);
  FUZZ_CHECK (fast.audio == ref.audio, "audio differs (%zu vs %zu bytes): %s", fast.audio.size (),
              ref.audio.size (), in);
  FUZZ_CHECK (fast.capture_timestamp_ms == ref.capture_timestamp_ms,
              "captureTimestamp %lld vs %lld: %s", (long long)fast.capture_timestamp_ms,
              (long long)ref.capture_timestamp_ms, in);
  FUZZ_CHECK (fast.stream_header == ref.stream_header, "streamHeader differs: %s", in);
  FUZZ_CHECK (fast.stream_id == ref.stream_id, "streamId differs: %s", in);
  FUZZ_CHECK (fast.reason == ref.reason, "reason differs: %s", in);
}

void
check_decode (const std::string &input, const DecodeLimits &limits)
{
  Message fast;
  bool took_fast = decode_audio_chunk_fast (input.data (), input.size (), limits, fast);
  DecodeResult ref = decode_message_json_glib (input.data (), input.size (), limits);
  if (took_fast)
    {
      FUZZ_CHECK (ref.ok (), "fast path accepted what json-glib refuses (%s: %s): %s",
                  decode_error_code (ref.error), ref.detail.c_str (), input.c_str ());
      check_same (fast, ref.message, input);
    }
  DecodeResult both = decode_message (input.data (), input.size (), limits);
  FUZZ_CHECK (both.error == ref.error && both.detail == ref.detail,
              "decode_message: %s \"%s\" vs json-glib %s \"%s\"", decode_error_code (both.error),
              both.detail.c_str (), decode_error_code (ref.error), ref.detail.c_str ());
  if (ref.ok ())
    check_same (both.message, ref.message, input);

  if (took_fast)
    {
      std::string again;
      write_audio_chunk (fuzz::fields_of (fast), again);
      Message back;
      FUZZ_CHECK (decode_audio_chunk_fast (again.data (), again.size (), limits, back),
                  "our own message misses the fast path: %s", again.c_str ());
      /* The writer always sends originalSize, timestamp and format. */
      FUZZ_CHECK (back.audio == fast.audio && back.session_id == fast.session_id
                      && back.chunk_index == fast.chunk_index
                      && back.stream_header == fast.stream_header
                      && back.stream_id == fast.stream_id && back.format == fast.format,
                  "fast round trip differs: %s", again.c_str ());
    }
}

void
check_same_reply (const Reply &got, const Reply &ref, const char *what, const std::string &input)
{
  std::string difference = reply_difference (got, ref);
  FUZZ_CHECK (difference.empty (), "%s: %s: %s", what, difference.c_str (), input.c_str ());
}

void
check_reply (const std::string &input)
{
  Reply ref = decode_reply_json_glib (input.data (), input.size ());
  Reply fast;
  if (decode_reply_fast (input.data (), input.size (), fast))
    check_same_reply (fast, ref, "fast path", input);
  check_same_reply (decode_reply (input.data (), input.size ()), ref, "decode_reply", input);
}

uint64_t
u64 (fuzz::Reader &r)
{
  uint64_t hi = r.u32 ();
  return (hi << 32) | r.u32 ();
}

void
check_encode (const uint8_t *data, size_t size)
{
  fuzz::Reader r (data, size);
  uint8_t flags = r.u8 ();
  AudioChunkFields f;
  f.session_id = r.str (r.u8 ());
  f.format = (flags & 1) ? r.str (r.u8 () % 16) : std::string ("webm-opus");
  f.stream_id = (flags & 2) ? r.str (r.u8 () % 40) : std::string ();
  f.timestamp_ms = static_cast<int64_t> (u64 (r));
  f.chunk_index = u64 (r);
  f.capture_timestamp_ms = (flags & 4) ? static_cast<int64_t> (u64 (r)) : -1;
  std::string header = (flags & 8) ? r.str (r.u8 ()) : std::string ();
  std::string audio = r.str (r.remaining ());
  f.stream_header = reinterpret_cast<const uint8_t *> (header.data ());
  f.stream_header_size = header.size ();
  f.audio = reinterpret_cast<const uint8_t *> (audio.data ());
  f.audio_size = audio.size ();
  std::string ours;
  write_audio_chunk (f, ours);
  std::string ref = encode_audio_chunk_json_glib (f);
  FUZZ_CHECK (ours == ref, "writer differs from json-glib:\n  ours: %s\n  ref:  %s", ours.c_str (),
              ref.c_str ());
  FUZZ_CHECK (encode_audio_chunk (f) == ref, "encode_audio_chunk differs from json-glib");
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  std::string input (reinterpret_cast<const char *> (data), size);
  check_decode (input, DecodeLimits ());
  DecodeLimits tight;
  tight.max_chunk_index = 1000;
  tight.max_audio_bytes = 64;
  check_decode (input, tight);
  check_reply (input);
  check_encode (data, size);
  return 0;
}
