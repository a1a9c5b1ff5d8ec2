#include "audio-chunk-parser.h"

#include "json-scan.h"
#include "session-id.h"

#include <cstdint>
#include <cstring>
#include <string_view>

namespace wssac
{

using namespace json_scan;

namespace
{

enum Member
{
  kAction,
  kSessionId,
  kAudioData,
  kTimestamp,
  kFormat,
  kChunkIndex,
  kOriginalSize,
  kCaptureTimestamp,
  kStreamHeader,
  kStreamId,
  kMemberCount,
};

enum Kind
{
  kString,
  kBase64,
  kInteger,
};

constexpr std::string_view kMemberNames[kMemberCount]
    = { "action",     "sessionId",    "audioData",        "timestamp",    "format",
        "chunkIndex", "originalSize", "captureTimestamp", "streamHeader", "streamId" };
constexpr Kind kMemberKinds[kMemberCount] = { kString,  kString,  kBase64,  kInteger, kString,
                                              kInteger, kInteger, kInteger, kBase64,  kString };

/* Per position in a group of 4 characters, each character's bits already
 * shifted into place; kBad for anything outside the alphabet, so that one
 * OR of the four tells a bad group and one of all groups a bad string. */
constexpr uint32_t kBad = 0x80000000u;
struct Base64Table
{
  uint32_t v[4][256];
  constexpr Base64Table () : v ()
  {
    const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int pos = 0; pos < 4; pos++)
      {
        for (int c = 0; c < 256; c++)
          v[pos][c] = kBad;
        for (uint32_t i = 0; i < 64; i++)
          v[pos][static_cast<unsigned char> (alphabet[i])] = i << (18 - 6 * pos);
      }
  }
};
constexpr Base64Table kBase64Values;

/* Standard base64 with '=' padding, length a multiple of 4, the alphabet
 * only (what message-codec's valid_base64 () admits), decoded into @out as
 * g_base64_decode () would (unused bits of the last group ignored). false
 * on anything else. */
bool
decode_base64 (const char *s, size_t len, std::vector<uint8_t> &out)
{
  if (len == 0 || len % 4 != 0)
    return false;
  size_t pad = s[len - 1] == '=' ? (s[len - 2] == '=' ? 2 : 1) : 0;
  out.resize (len / 4 * 3 - pad);
  uint8_t *o = out.data ();
  const unsigned char *u = reinterpret_cast<const unsigned char *> (s);
  const auto &t = kBase64Values.v;
  size_t full = pad ? len - 4 : len;
  uint32_t bad = 0;
  for (size_t i = 0; i < full; i += 4)
    {
      uint32_t w = t[0][u[i]] | t[1][u[i + 1]] | t[2][u[i + 2]] | t[3][u[i + 3]];
      bad |= w;
      *o++ = static_cast<uint8_t> (w >> 16);
      *o++ = static_cast<uint8_t> (w >> 8);
      *o++ = static_cast<uint8_t> (w);
    }
  if (pad)
    {
      const unsigned char *q = u + len - 4;
      uint32_t w = t[0][q[0]] | t[1][q[1]] | (pad == 1 ? t[2][q[2]] : 0);
      bad |= w;
      *o++ = static_cast<uint8_t> (w >> 16);
      if (pad == 1)
        *o++ = static_cast<uint8_t> (w >> 8);
    }
  return (bad & kBad) == 0;
}

bool
is_stream_id (std::string_view s)
{
  if (s.size () != kStreamIdLength)
    return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

} // namespace

bool
decode_audio_chunk_fast (const char *text, size_t length, const DecodeLimits &limits, Message &m)
{
  const char *end = text + length;
  std::string_view str[kMemberCount];
  int64_t num[kMemberCount] = {};
  unsigned seen = 0;

  auto read_member = [&] (std::string_view key, const char *p) -> const char * {
    int id = member_index (kMemberNames, key);
    /* Other members and repeated ones: json-glib decides. */
    if (id < 0 || (seen & (1u << id)))
      return nullptr;
    seen |= 1u << id;
    if (kMemberKinds[id] == kInteger)
      return parse_int (p, end, num[id]);
    if (p == end || *p++ != '"')
      return nullptr;
    /* Base64 values (nearly all the bytes): the first quote ends them
     * unless an escape precedes it, and decode_base64 () refuses any
     * backslash, so the plain check is left to it. */
    const char *value_end
        = kMemberKinds[id] == kBase64
              ? static_cast<const char *> (memchr (p, '"', static_cast<size_t> (end - p)))
              : plain_string_end (p, end);
    if (!value_end)
      return nullptr;
    str[id] = std::string_view (p, static_cast<size_t> (value_end - p));
    return value_end + 1;
  };
  if (!scan_flat_object (text, end, read_member))
    return false;

  /* The rules of decode_object () in message-codec.cpp, for the accepted
   * case only: every refusal is json-glib's to word. */
  const unsigned required
      = (1u << kAction) | (1u << kSessionId) | (1u << kAudioData) | (1u << kChunkIndex);
  if ((seen & required) != required || str[kAction] != "audioChunk")
    return false;
  std::string_view session = str[kSessionId];
  if (session.empty () || !session_id_problem (session).empty ())
    return false;
  if ((seen & (1u << kStreamId)) && !is_stream_id (str[kStreamId]))
    return false;
  int64_t index = num[kChunkIndex];
  if (index < 0 || static_cast<uint64_t> (index) > limits.max_chunk_index)
    return false;
  std::string_view data = str[kAudioData];
  if (data.size () / 4 * 3 > limits.max_audio_bytes + 2)
    return false;
  std::string_view header = str[kStreamHeader];
  if (header.size () / 4 * 3 > limits.max_audio_bytes + 2)
    return false;
  if (!decode_base64 (data.data (), data.size (), m.audio))
    return false;
  if ((seen & (1u << kOriginalSize))
      && (num[kOriginalSize] < 0 || static_cast<uint64_t> (num[kOriginalSize]) != m.audio.size ()))
    return false;
  if (header.empty ())
    m.stream_header.clear ();
  else if (!decode_base64 (header.data (), header.size (), m.stream_header))
    return false;

  m.action = Action::AudioChunk;
  m.session_id.assign (session.data (), session.size ());
  m.timestamp_ms = (seen & (1u << kTimestamp)) ? num[kTimestamp] : -1;
  m.format.assign (str[kFormat].data (), str[kFormat].size ());
  m.chunk_index = static_cast<uint64_t> (index);
  m.original_size = m.audio.size ();
  m.capture_timestamp_ms = (seen & (1u << kCaptureTimestamp)) ? num[kCaptureTimestamp] : -1;
  m.stream_id.assign (str[kStreamId].data (), str[kStreamId].size ());
  m.reason.clear ();
  return true;
}

DecodeResult
decode_message (const char *text, size_t length, const DecodeLimits &limits)
{
  DecodeResult r;
  if (decode_audio_chunk_fast (text, length, limits, r.message))
    return r;
  return decode_message_json_glib (text, length, limits);
}

} // namespace wssac
