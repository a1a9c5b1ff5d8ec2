#include "audio-chunk-writer.h"

#include <cstdint>
#include <cstring>

namespace wssac
{

namespace
{

constexpr char kBase64Alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The two characters of every 12-bit value: two lookups per 3 bytes. */
struct Base64Pairs
{
  char v[4096][2];
  constexpr Base64Pairs () : v ()
  {
    for (int i = 0; i < 4096; i++)
      {
        v[i][0] = kBase64Alphabet[i >> 6];
        v[i][1] = kBase64Alphabet[i & 63];
      }
  }
};
constexpr Base64Pairs kBase64Pairs;

char *
put_base64 (char *o, const uint8_t *p, size_t n)
{
  size_t i = 0;
  for (; i + 3 <= n; i += 3)
    {
      uint32_t v = (uint32_t (p[i]) << 16) | (uint32_t (p[i + 1]) << 8) | p[i + 2];
      memcpy (o, kBase64Pairs.v[v >> 12], 2);
      memcpy (o + 2, kBase64Pairs.v[v & 0xfff], 2);
      o += 4;
    }
  if (i < n)
    {
      uint32_t v = uint32_t (p[i]) << 16;
      if (i + 1 < n)
        v |= uint32_t (p[i + 1]) << 8;
      *o++ = kBase64Alphabet[v >> 18];
      *o++ = kBase64Alphabet[(v >> 12) & 63];
      *o++ = i + 1 < n ? kBase64Alphabet[(v >> 6) & 63] : '=';
      *o++ = '=';
    }
  return o;
}

void
append_base64 (std::string &out, const uint8_t *p, size_t n)
{
  size_t at = out.size ();
  out.resize (at + (n + 2) / 3 * 4);
  put_base64 (&out[at], p, n);
}

/* json-glib 1.6's escaping, measured byte by byte: the short escapes, other
 * bytes below 0x1f and 0x7f as \u00xx, 0x1f and everything else (UTF-8 or
 * not) as is. The builder takes a C string: a NUL ends the value. */
inline bool
is_plain (unsigned char c)
{
  return c >= 0x20 && c != '"' && c != '\\' && c != 0x7f;
}

void
append_string (std::string &out, const std::string &s)
{
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  const char *p = s.c_str ();
  for (;;)
    {
      /* The run that needs no escape, appended at once. */
      const char *run = p;
      while (is_plain (static_cast<unsigned char> (*p)))
        p++;
      out.append (run, static_cast<size_t> (p - run));
      unsigned char c = static_cast<unsigned char> (*p++);
      if (c == 0)
        break;
      char short_escape = 0;
      switch (c)
        {
        case '"':
          short_escape = '"';
          break;
        case '\\':
          short_escape = '\\';
          break;
        case '\b':
          short_escape = 'b';
          break;
        case '\f':
          short_escape = 'f';
          break;
        case '\n':
          short_escape = 'n';
          break;
        case '\r':
          short_escape = 'r';
          break;
        case '\t':
          short_escape = 't';
          break;
        }
      if (short_escape)
        {
          out += '\\';
          out += short_escape;
        }
      else if (c == 0x1f)
        out += static_cast<char> (c);
      else
        {
          char esc[6] = { '\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15] };
          out.append (esc, sizeof esc);
        }
    }
  out += '"';
}

/* json-glib writes integers as gint64 ("%" G_GINT64_FORMAT). */
void
append_int (std::string &out, int64_t v)
{
  char digits[24];
  char *e = digits + sizeof digits, *d = e;
  uint64_t u = v < 0 ? 0 - static_cast<uint64_t> (v) : static_cast<uint64_t> (v);
  do
    *--d = static_cast<char> ('0' + u % 10);
  while ((u /= 10) != 0);
  if (v < 0)
    *--d = '-';
  out.append (d, static_cast<size_t> (e - d));
}

} // namespace

void
write_audio_chunk (const AudioChunkFields &f, std::string &out)
{
  out.clear ();
  out.reserve (200 + f.session_id.size () * 6 + f.format.size () * 6 + f.stream_id.size () * 6
               + (f.audio_size + 2) / 3 * 4 + (f.stream_header_size + 2) / 3 * 4);
  out += "{\"action\":\"audioChunk\",\"sessionId\":";
  append_string (out, f.session_id);
  out += ",\"audioData\":\"";
  append_base64 (out, f.audio, f.audio_size);
  out += "\",\"timestamp\":";
  append_int (out, f.timestamp_ms);
  out += ",\"format\":";
  append_string (out, f.format);
  out += ",\"chunkIndex\":";
  append_int (out, static_cast<int64_t> (f.chunk_index));
  out += ",\"originalSize\":";
  append_int (out, static_cast<int64_t> (f.audio_size));
  if (f.stream_header_size > 0)
    {
      out += ",\"streamHeader\":\"";
      append_base64 (out, f.stream_header, f.stream_header_size);
      out += '"';
    }
  if (f.capture_timestamp_ms >= 0)
    {
      out += ",\"captureTimestamp\":";
      append_int (out, f.capture_timestamp_ms);
    }
  if (!f.stream_id.empty ())
    {
      out += ",\"streamId\":";
      append_string (out, f.stream_id);
    }
  out += '}';
}

std::string
encode_audio_chunk (const AudioChunkFields &fields)
{
  std::string out;
  write_audio_chunk (fields, out);
  return out;
}

} // namespace wssac
