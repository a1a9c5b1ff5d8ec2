#include "frame-watch.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace wssac
{

/* What the parser knows about the client's byte stream. */
struct FrameWatch::State
{
  FrameGuardConfig config;
  int64_t now_us = 0;     /* of the bytes being fed */
  bool upgraded = false;  /* past the HTTP request's blank line */
  uint32_t http_tail = 0; /* last 4 bytes of the request */
  uint8_t header[14];     /* the frame header being read */
  unsigned have = 0;      /* bytes of it so far */
  uint64_t skip = 0;      /* payload bytes left of the current frame */
  uint64_t message = 0;   /* bytes of the current data message so far */
  double ping_tokens = -1;
  int64_t ping_us = 0;
  unsigned short violation = 0; /* the close code, once violated */
  /* permessage-deflate (config.inflate): the current frame's mask and
   * position, whether the current message is compressed, and an inflater
   * that follows the client's (context takeover: one stream per connection). */
  uint8_t mask[4] = { 0, 0, 0, 0 };
  bool masked = false;
  uint64_t frame_pos = 0;
  bool data_frame = false, fin = false, compressed = false;
  z_stream zs;
  bool zs_ready = false;
  bool zs_failed = false; /* not inflatable: skipped to the next message */
  ~State ()
  {
    if (zs_ready)
      inflateEnd (&zs);
  }
};

namespace
{

/* Inflates @n compressed bytes of the current message, counting what comes
 * out; the output is thrown away. */
void
inflate_count (FrameWatch::State &g, const uint8_t *in, size_t n)
{
  if (!g.zs_ready)
    {
      memset (&g.zs, 0, sizeof g.zs);
      if (inflateInit2 (&g.zs, -15) != Z_OK)
        return;
      g.zs_ready = true;
    }
  uint8_t out[16384];
  g.zs.next_in = const_cast<Bytef *> (in);
  g.zs.avail_in = static_cast<uInt> (n);
  while (g.zs.avail_in > 0 && !g.violation)
    {
      g.zs.next_out = out;
      g.zs.avail_out = sizeof out;
      int r = inflate (&g.zs, Z_SYNC_FLUSH);
      g.message += sizeof out - g.zs.avail_out;
      if (g.config.max_message_bytes > 0 && g.message > g.config.max_message_bytes)
        g.violation = 1009;
      if (r == Z_BUF_ERROR && g.zs.avail_out > 0)
        break;
      if (r != Z_OK && r != Z_BUF_ERROR)
        {
          /* libsoup refuses it too; the rest of this message is not
           * followed, whatever the reads it comes in. */
          g.zs_failed = true;
          break;
        }
    }
}

/* Payload bytes of the current frame (still masked). */
void
payload (FrameWatch::State &g, const uint8_t *data, size_t n)
{
  if (g.config.inflate && g.data_frame && g.compressed && !g.violation && !g.zs_failed)
    {
      uint8_t clear[4096];
      size_t done = 0;
      while (done < n && !g.violation)
        {
          size_t k = std::min (sizeof clear, n - done);
          for (size_t i = 0; i < k; i++)
            clear[i] = data[done + i] ^ (g.masked ? g.mask[(g.frame_pos + i) & 3] : 0);
          g.frame_pos += k;
          done += k;
          inflate_count (g, clear, k);
        }
    }
  else
    g.frame_pos += n;
}

/* The end of a frame's payload: a compressed message ends with the
 * 00 00 ff ff the sender removed. */
void
frame_done (FrameWatch::State &g)
{
  static const uint8_t kTail[] = { 0x00, 0x00, 0xff, 0xff };
  if (g.config.inflate && g.data_frame && g.compressed && g.fin && !g.violation && !g.zs_failed)
    inflate_count (g, kTail, sizeof kTail);
}

unsigned
header_length (const uint8_t *h, unsigned have)
{
  if (have < 2)
    return 2;
  unsigned len = 2 + ((h[1] & 0x80) ? 4 : 0);
  unsigned l7 = h[1] & 0x7f;
  return len + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0);
}

void
on_frame (FrameWatch::State &g, const uint8_t *h)
{
  unsigned l7 = h[1] & 0x7f;
  uint64_t len = l7;
  if (l7 == 126)
    len = (uint64_t)h[2] << 8 | h[3];
  else if (l7 == 127)
    {
      len = 0;
      for (int i = 0; i < 8; i++)
        len = len << 8 | h[2 + i];
    }
  g.skip = len;
  const unsigned opcode = h[0] & 0x0f;
  const unsigned hl = header_length (h, 14);
  g.masked = (h[1] & 0x80) != 0;
  if (g.masked)
    memcpy (g.mask, h + hl - 4, 4);
  g.frame_pos = 0;
  g.data_frame = opcode <= 0x2;
  if (g.data_frame)
    g.fin = (h[0] & 0x80) != 0;
  if (opcode == 0x1 || opcode == 0x2)
    {
      g.compressed = (h[0] & 0x40) != 0;
      if (g.zs_failed && g.zs_ready)
        inflateReset (&g.zs);
      g.zs_failed = false;
    }
  /* A compressed message is counted as it inflates; others by their size. */
  const bool counted_inflated = g.config.inflate && g.compressed;
  if (opcode == 0x1 || opcode == 0x2)
    g.message = counted_inflated ? 0 : len;
  else if (opcode == 0x0 && !counted_inflated)
    g.message += len;
  else if (opcode == 0x9 && g.config.pings_per_second > 0)
    {
      int64_t now = g.now_us;
      g.ping_tokens
          = g.ping_tokens < 0
                ? g.config.ping_burst
                : std::min (g.config.ping_burst,
                            g.ping_tokens + (now - g.ping_us) * g.config.pings_per_second / 1e6);
      g.ping_us = now;
      if (g.ping_tokens < 1)
        g.violation = 1008;
      else
        g.ping_tokens -= 1;
    }
  if (opcode <= 0x2 && g.config.max_message_bytes > 0 && g.message > g.config.max_message_bytes)
    g.violation = 1009;
}

/* Feeds what the client sent; sets violation. */
void
feed_bytes (FrameWatch::State &g, const uint8_t *data, size_t n)
{
  size_t i = 0;
  while (i < n && !g.upgraded)
    {
      g.http_tail = g.http_tail << 8 | data[i++];
      if (g.http_tail == 0x0d0a0d0a)
        g.upgraded = true;
    }
  while (i < n && !g.violation)
    {
      if (g.skip > 0)
        {
          uint64_t take = std::min<uint64_t> (g.skip, n - i);
          payload (g, data + i, static_cast<size_t> (take));
          g.skip -= take;
          i += take;
          if (g.skip == 0)
            frame_done (g);
          continue;
        }
      g.header[g.have++] = data[i++];
      if (g.have >= 2 && g.have == header_length (g.header, g.have))
        {
          on_frame (g, g.header);
          g.have = 0;
          if (g.skip == 0 && !g.violation)
            frame_done (g);
        }
    }
}

} // namespace

FrameWatch::FrameWatch (const FrameGuardConfig &config) : s_ (new State ())
{
  s_->config = config;
}

FrameWatch::~FrameWatch () = default;

unsigned short
FrameWatch::feed (const uint8_t *data, size_t n, int64_t now_us)
{
  s_->now_us = now_us;
  if (!s_->violation)
    feed_bytes (*s_, data, n);
  return s_->violation;
}

unsigned short
FrameWatch::violation () const
{
  return s_->violation;
}

} // namespace wssac
