/* wssaudiochunk wire format: the original protocol's JSON messages, both ways.
 *
 * Plain C++ interface over json-glib and GLib's base64 (no hand-written JSON
 * or base64). Encoding is what the sink sends; decoding is what the
 * receivers accept, with a reason for every refusal. docs/protocol.md is the
 * reference for every field.
 */
#pragma once

#include "action.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wssac
{

/* Action, action_name() and action_from_name() live in the core (action.h). */

struct AudioChunkFields
{
  std::string session_id;
  const uint8_t *audio = nullptr;
  size_t audio_size = 0;
  int64_t timestamp_ms = 0;
  std::string format = "webm-opus";
  uint64_t chunk_index = 0;
  /* Wall clock when the chunk was completed, if it differs from
   * timestamp_ms (sent after an outage); < 0: leave the field out. */
  int64_t capture_timestamp_ms = -1;
  /* The stream header, sent again on the first chunk of every new
   * connection so that a receiver that lost its state (restarted) can still
   * decode from this chunk on. Empty: the field is left out. */
  const uint8_t *stream_header = nullptr;
  size_t stream_header_size = 0;
  /* The run of the sending element (kStreamIdLength lowercase hex digits,
   * random per start): a receiver tells a restarted run of the same session
   * from a replay. Empty: the field is left out. */
  std::string stream_id;
};

/* "streamId": 32 lowercase hex digits (128 random bits). */
constexpr size_t kStreamIdLength = 32;
/* Empty when @id is a well-formed streamId, else what is wrong. */
std::string stream_id_problem (const std::string &id);
/* A fresh random streamId (GLib's random generator, seeded per process). */
std::string new_stream_id ();

/* {"action":"audioChunk","sessionId":..,"audioData":..,"timestamp":..,
 *  "format":..,"chunkIndex":..,"originalSize":..} */
std::string encode_audio_chunk (const AudioChunkFields &fields);

/* The receiver's acknowledgement: every chunk up to @chunk_index arrived, or
 * was given up as a gap (so the sender need not replay it).
 * {"action":"ack","sessionId":..,"chunkIndex":N} plus "streamId" (the run
 * the index counts in) when @stream_id is not empty */
std::string encode_ack (const std::string &session_id, uint64_t chunk_index,
                        const std::string &stream_id = std::string ());

/* The HTTP header of a receiver's upgrade response (101) that promises
 * acks: "every=N; within-ms=T": every chunk it stores is acked once N
 * chunks in a row were delivered, and at the latest T ms after its
 * delivery. A sender that sees it confirms chunks by acks alone (TCP
 * evidence, bytes the receiver's kernel took, would count chunks that the
 * receiver then refuses, or loses in a crash, as delivered), and keeps at
 * least N chunks in flight, so that an ack can come without waiting T. */
constexpr char kAckPromiseHeader[] = "X-Wssaudiochunk-Acks";
struct AckPromise
{
  uint32_t every = 0;     /* 0: not said */
  int64_t within_ms = 0;  /* 0: no promise */
  bool
  made () const
  {
    return within_ms > 0;
  }
};
std::string encode_ack_promise (const AckPromise &promise);
/* The promise in @value (nullptr: none); none when malformed. */
AckPromise parse_ack_promise (const char *value);

/* The receiver's refusal of a message (docs/protocol.md):
 * {"action":"error","code":..,"message":..} plus "chunkIndex" when
 * @chunk_index >= 0 */
std::string encode_error (const char *code, const std::string &message, int64_t chunk_index = -1);

/* What a receiver said back to the sender. */
struct Reply
{
  enum Kind
  {
    Ack,
    Error,
    Other,
  } kind = Other;
  uint64_t chunk_index = 0; /* Ack: cumulative; Error: if has_index */
  bool has_index = false;
  std::string code;    /* Error */
  std::string message; /* Error */
  std::string stream_id; /* Ack: the run it is for, when the receiver says */
};
Reply decode_reply (const char *text, size_t length);

/* {"action":..,"sessionId":..,"timestamp":..} plus "reason" for endSession
 * and "streamId" when @stream_id is not empty */
std::string encode_control (Action action, const std::string &session_id, int64_t timestamp_ms,
                            const std::string &reason = std::string (),
                            const std::string &stream_id = std::string ());

enum class DecodeError
{
  None,
  NotJson,       /* not parseable as JSON */
  NotObject,     /* valid JSON, but not an object */
  MissingField,  /* a required field is absent */
  WrongType,     /* a field has the wrong JSON type */
  BadBase64,     /* audioData is not valid base64 */
  UnknownAction, /* action is not one of the original protocol's */
  BadValue,      /* a value out of range: negative or huge chunkIndex, empty sessionId, ... */
  SizeMismatch,  /* originalSize differs from the decoded audioData */
  InvalidSessionId, /* sessionId fails session_id_problem(): too long, NUL, control characters */
};

/* Stable machine-readable code for error replies: "not-json", ... */
const char *decode_error_code (DecodeError error);

struct Message
{
  Action action = Action::AudioChunk;
  std::string session_id;
  int64_t timestamp_ms = -1;
  /* audioChunk */
  std::string format;
  uint64_t chunk_index = 0;
  uint64_t original_size = 0;
  std::vector<uint8_t> audio;
  int64_t capture_timestamp_ms = -1;
  std::vector<uint8_t> stream_header; /* optional "streamHeader" */
  std::string stream_id;              /* optional "streamId", any action */
  /* endSession */
  std::string reason;
};

struct DecodeLimits
{
  uint64_t max_chunk_index = (1ULL << 53) - 1; /* JSON numbers are exact up to 2^53 */
  size_t max_audio_bytes = 96 * 1024;           /* decoded audioData */
};

struct DecodeResult
{
  DecodeError error = DecodeError::None;
  std::string detail; /* human-readable: which field, what was wrong */
  Message message;
  bool ok () const { return error == DecodeError::None; }
};

DecodeResult decode_message (const char *text, size_t length,
                             const DecodeLimits &limits = DecodeLimits ());

/* The optional binary framing (sink framing=binary): one binary WebSocket
 * message per chunk, "WSAC", a 16-bit big-endian header length, the JSON
 * header (the audioChunk fields without audioData, plus streamHeaderSize
 * when a stream header precedes the audio), then the raw bytes. Saves the
 * base64 third. audioChunk only; controls stay JSON text. */
constexpr char kBinaryMagic[4] = { 'W', 'S', 'A', 'C' };
std::string encode_binary_audio_chunk (const AudioChunkFields &fields);
DecodeResult decode_binary_message (const uint8_t *data, size_t length,
                                    const DecodeLimits &limits = DecodeLimits ());

} // namespace wssac
