/* libFuzzer target: the wire format (gst-libs/wssaudiochunk/protocol/message-codec.cpp).
 *
 * The input is one frame exactly as a peer could send it. It goes through
 * every decoder (decode_message: text frames receivers accept;
 * decode_binary_message: binary frames in the WSAC framing; decode_reply:
 * what the sink reads back), and what decodes is checked:
 *   - the documented limits hold (chunkIndex <= max_chunk_index, audioData
 *     not empty, originalSize equals the decoded size, ...);
 *   - a tighter DecodeLimits never accepts what the default refuses, and
 *     decodes the same fields when both accept;
 *   - round trip: a decoded audioChunk re-encoded with encode_audio_chunk
 *     and decoded again gives the same fields (and likewise controls with
 *     encode_control, binary frames with encode_binary_audio_chunk, acks
 *     with encode_ack, error replies with IngestCore::error_reply); a
 *     binary frame's message re-encoded as JSON text decodes the same;
 *   - the input's text used as a sessionId / error message survives the
 *     encoders' JSON escaping;
 *   - the input's text read as an ack promise header (parse_ack_promise)
 *     that is taken survives encode_ack_promise.
 * Seeds: tests/fuzz/corpus/fuzz_message_codec (real messages of the sink
 * and messages from encode_*); dictionary: tests/fuzz/json.dict. */
#include "fuzz-message.h"
#include "fuzz-util.h"

#include "ingest-core.h"
#include "message-codec.h"
#include "session-id.h"

#include <glib.h>

#include <cstring>
#include <string>

using namespace wssac;

namespace
{

/* encode_audio_chunk leaves captureTimestamp out when it is < 0, and the
 * decoder answers -1 for "absent": a negative value on the wire comes back
 * as -1. That is the encoder's documented convention, not a mismatch. */
int64_t
normal_capture (int64_t v)
{
  return v < 0 ? -1 : v;
}

void
check_same_message (const Message &a, const Message &b, const char *what)
{
  FUZZ_CHECK (a.action == b.action, "%s: action %d vs %d", what, (int) a.action, (int) b.action);
  FUZZ_CHECK (a.session_id == b.session_id, "%s: sessionId \"%s\" vs \"%s\"", what, a.session_id.c_str (),
              b.session_id.c_str ());
  FUZZ_CHECK (a.timestamp_ms == b.timestamp_ms, "%s: timestamp %lld vs %lld", what, (long long) a.timestamp_ms,
              (long long) b.timestamp_ms);
  FUZZ_CHECK (a.format == b.format, "%s: format \"%s\" vs \"%s\"", what, a.format.c_str (), b.format.c_str ());
  FUZZ_CHECK (a.chunk_index == b.chunk_index, "%s: chunkIndex %llu vs %llu", what,
              (unsigned long long) a.chunk_index, (unsigned long long) b.chunk_index);
  FUZZ_CHECK (a.original_size == b.original_size, "%s: originalSize", what);
  FUZZ_CHECK (a.audio == b.audio, "%s: audio bytes differ (%zu vs %zu bytes)", what, a.audio.size (),
              b.audio.size ());
  FUZZ_CHECK (normal_capture (a.capture_timestamp_ms) == normal_capture (b.capture_timestamp_ms),
              "%s: captureTimestamp %lld vs %lld", what, (long long) a.capture_timestamp_ms,
              (long long) b.capture_timestamp_ms);
  FUZZ_CHECK (a.stream_header == b.stream_header, "%s: streamHeader differs", what);
  FUZZ_CHECK (a.stream_id == b.stream_id, "%s: streamId differs", what);
  FUZZ_CHECK (a.reason == b.reason, "%s: reason \"%s\" vs \"%s\"", what, a.reason.c_str (), b.reason.c_str ());
}

void
check_decoded (const DecodeResult &r, const DecodeLimits &limits, bool binary = false)
{
  if (!r.ok ())
    {
      FUZZ_CHECK (!r.detail.empty (), "a refusal without a detail (%s)", decode_error_code (r.error));
      /* The detail goes into the error reply: UTF-8 (but for KI-3, fuzz-util.h). */
      FUZZ_CHECK (g_utf8_validate (r.detail.data (), static_cast<gssize> (r.detail.size ()), nullptr)
                      || (r.error == DecodeError::NotJson && !fuzz::strict ()),
                  "%s detail is not UTF-8: %s", decode_error_code (r.error), r.detail.c_str ());
      FUZZ_CHECK (std::strcmp (decode_error_code (r.error), "unknown") != 0, "unnamed error code");
      return;
    }
  const Message &m = r.message;
  FUZZ_CHECK (std::strcmp (action_name (m.action), "unknown") != 0, "decoded an unnamed action");
  /* Strings go on into replies, file names and GStreamer messages: UTF-8
   * only (libsoup refuses to send a text frame that is not). */
  for (const std::string *f : { &m.session_id, &m.format, &m.reason })
    FUZZ_CHECK (g_utf8_validate (f->data (), static_cast<gssize> (f->size ()), nullptr),
                "decoded a string that is not UTF-8 (json-glib, KI-2?): %zu bytes", f->size ());
  if (m.action == Action::AudioChunk || m.action == Action::EndSession)
    FUZZ_CHECK (!m.session_id.empty (), "audioChunk/endSession accepted without a sessionId");
  /* The one sessionId rule (no NUL, no control characters, <= 256 bytes),
   * and a streamId is 32 lowercase hex digits or absent. */
  FUZZ_CHECK (m.session_id.empty () || session_id_problem (m.session_id).empty (), "accepted sessionId: %s",
              session_id_problem (m.session_id).c_str ());
  FUZZ_CHECK (m.stream_id.empty () || stream_id_problem (m.stream_id).empty (), "accepted streamId: %s",
              stream_id_problem (m.stream_id).c_str ());
  if (m.action != Action::AudioChunk)
    return;
  FUZZ_CHECK (!m.audio.empty (), "audioChunk accepted with no audio");
  FUZZ_CHECK (m.chunk_index <= limits.max_chunk_index, "chunkIndex %llu over the limit %llu",
              (unsigned long long) m.chunk_index, (unsigned long long) limits.max_chunk_index);
  FUZZ_CHECK (m.original_size == m.audio.size (), "originalSize %llu, audio %zu bytes",
              (unsigned long long) m.original_size, m.audio.size ());
  /* The size check works on the base64 length (len / 4 * 3 <= max + 2), so a
   * limit that is not a multiple of 3 lets up to 2 bytes more through; the
   * default (96 KiB, a multiple of 3) is exact. See docs/security-testing.md. */
  FUZZ_CHECK (m.audio.size () <= limits.max_audio_bytes + 2, "audio %zu bytes over the limit %zu",
              m.audio.size (), limits.max_audio_bytes);
  /* Binary frames bound the stream header by the message size only
   * (max_message_size, checked before decoding), not by max_audio_bytes. */
  if (!binary)
    FUZZ_CHECK (m.stream_header.size () <= limits.max_audio_bytes + 2, "streamHeader %zu bytes over the limit",
                m.stream_header.size ());
}

/* The JSON header of a binary frame, for the known-issue filter. */
bool
binary_header (const uint8_t *data, size_t size, const char *&header, size_t &len)
{
  if (size < 6 || std::memcmp (data, kBinaryMagic, 4) != 0)
    return false;
  len = (static_cast<size_t> (data[4]) << 8) | data[5];
  if (6 + len > size)
    return false;
  header = reinterpret_cast<const char *> (data + 6);
  return true;
}

void
binary_round_trip (const Message &m)
{
  std::string frame = encode_binary_audio_chunk (fuzz::fields_of (m));
  DecodeResult again = decode_binary_message (reinterpret_cast<const uint8_t *> (frame.data ()), frame.size ());
  FUZZ_CHECK (again.ok (), "re-encoded binary frame refused (%s: %s)", decode_error_code (again.error),
              again.detail.c_str ());
  check_same_message (m, again.message, "binary round trip");
  /* The same chunk as JSON text, when the text limits allow it. */
  if (m.stream_header.size () <= DecodeLimits ().max_audio_bytes)
    {
      std::string text = encode_audio_chunk (fuzz::fields_of (m));
      DecodeResult t = decode_message (text.data (), text.size ());
      FUZZ_CHECK (t.ok (), "binary frame's chunk refused as JSON text (%s: %s)", decode_error_code (t.error),
                  t.detail.c_str ());
      check_same_message (m, t.message, "binary vs text");
    }
}

void
round_trip (const Message &m)
{
  if (m.action == Action::AudioChunk)
    {
      std::string text = encode_audio_chunk (fuzz::fields_of (m));
      DecodeResult again = decode_message (text.data (), text.size ());
      FUZZ_CHECK (again.ok (), "re-encoded audioChunk refused (%s: %s): %s", decode_error_code (again.error),
                  again.detail.c_str (), text.c_str ());
      check_same_message (m, again.message, "audioChunk round trip");
    }
  else
    {
      /* The sink's controls carry the run's streamId too. */
      std::string text = encode_control (m.action, m.session_id, m.timestamp_ms, m.reason, m.stream_id);
      DecodeResult again = decode_message (text.data (), text.size ());
      FUZZ_CHECK (again.ok (), "re-encoded %s refused (%s: %s): %s", action_name (m.action),
                  decode_error_code (again.error), again.detail.c_str (), text.c_str ());
      check_same_message (m, again.message, "control round trip");
    }
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = reinterpret_cast<const char *> (data);
  /* json-glib's own bugs (fuzz-util.h): left out with FUZZ_LENIENT. */
  const char *header = nullptr;
  size_t header_len = 0;
  const bool framed = binary_header (data, size, header, header_len);
  if (!fuzz::strict ()
      && (fuzz::json_known_issue (text, size) != fuzz::KnownIssue::None
          || (framed && fuzz::json_known_issue (header, header_len) != fuzz::KnownIssue::None)))
    return 0;

  /* 1. What a receiver accepts, with the default limits and tight ones. */
  DecodeLimits defaults;
  DecodeResult r = decode_message (text, size, defaults);
  check_decoded (r, defaults);

  DecodeLimits tight;
  tight.max_chunk_index = 1000;
  tight.max_audio_bytes = 64;
  DecodeResult t = decode_message (text, size, tight);
  check_decoded (t, tight);
  if (t.ok ())
    {
      FUZZ_CHECK (r.ok (), "accepted with tight limits, refused with the defaults (%s)", r.detail.c_str ());
      check_same_message (t.message, r.message, "tight vs default limits");
    }

  if (r.ok ())
    round_trip (r.message);

  /* 2. The binary framing, with the same limits. */
  DecodeResult b = decode_binary_message (data, size, defaults);
  check_decoded (b, defaults, true);
  if (b.ok ())
    {
      FUZZ_CHECK (framed, "a binary frame without the WSAC framing accepted");
      FUZZ_CHECK (b.message.action == Action::AudioChunk, "binary %s accepted", action_name (b.message.action));
    }
  DecodeResult bt = decode_binary_message (data, size, tight);
  check_decoded (bt, tight, true);
  if (bt.ok ())
    {
      FUZZ_CHECK (b.ok (), "binary: accepted with tight limits, refused with the defaults (%s)", b.detail.c_str ());
      check_same_message (bt.message, b.message, "binary: tight vs default limits");
    }
  if (b.ok ())
    binary_round_trip (b.message);

  /* 3. What the sink reads back from a server. */
  Reply reply = decode_reply (text, size);
  if (reply.kind == Reply::Ack)
    {
      FUZZ_CHECK (reply.has_index, "an ack without chunkIndex");
      std::string ack = encode_ack ("s", reply.chunk_index);
      Reply back = decode_reply (ack.data (), ack.size ());
      FUZZ_CHECK (back.kind == Reply::Ack && back.chunk_index == reply.chunk_index, "ack round trip: %s",
                  ack.c_str ());
    }
  if (reply.kind == Reply::Error)
    {
      std::string code = reply.code.empty () ? "x" : reply.code;
      std::string e = IngestCore::error_reply (code.c_str (), reply.message,
                                                reply.has_index && reply.chunk_index <= (1ULL << 53)
                                                    ? static_cast<int64_t> (reply.chunk_index)
                                                    : -1);
      Reply back = decode_reply (e.data (), e.size ());
      FUZZ_CHECK (back.kind == Reply::Error && back.code == code && back.message == reply.message,
                  "error reply round trip: %s", e.c_str ());
    }

  /* 4. The raw input as a string value: the encoders must escape whatever
   * they are given (up to the first NUL: they take C strings). */
  std::string s (text, strnlen (text, size));

  /* 5. The same as a server's ack promise header (the sink reads it from
   * the upgrade response): a promise it takes survives its encoding. */
  const AckPromise promise = parse_ack_promise (s.c_str ());
  if (promise.made ())
    {
      FUZZ_CHECK (promise.within_ms > 0 && promise.within_ms <= G_MAXINT32, "within-ms %lld",
                  (long long) promise.within_ms);
      const AckPromise again = parse_ack_promise (encode_ack_promise (promise).c_str ());
      FUZZ_CHECK (again.made () && again.every == promise.every && again.within_ms == promise.within_ms,
                  "ack promise round trip: \"%s\"", s.c_str ());
    }
  std::string e = IngestCore::error_reply ("fuzz", s);
  Reply back = decode_reply (e.data (), e.size ());
  /* json-glib refuses to parse text that is not UTF-8, and its generator
   * copies such strings as they are, so only valid UTF-8 must survive. */
  if (g_utf8_validate (s.data (), static_cast<gssize> (s.size ()), nullptr))
    {
      FUZZ_CHECK (back.kind == Reply::Error && back.message == s, "message escaping lost the text: %s", e.c_str ());
      if (!s.empty ())
        {
          std::string ctl = encode_control (Action::EndSession, s, 1, s);
          DecodeResult c = decode_message (ctl.data (), ctl.size ());
          /* Any text survives the escaping; only the sessionId rule may
           * refuse it (too long, control characters). */
          if (session_id_problem (s).empty ())
            FUZZ_CHECK (c.ok () && c.message.session_id == s && c.message.reason == s, "sessionId escaping: %s",
                        ctl.c_str ());
          else
            FUZZ_CHECK (c.error == DecodeError::InvalidSessionId, "sessionId rule not applied (%s): %s",
                        decode_error_code (c.error), ctl.c_str ());
        }
    }
  return 0;
}
