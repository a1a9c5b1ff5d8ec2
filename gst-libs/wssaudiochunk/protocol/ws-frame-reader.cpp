#include "ws-frame-reader.h"

#include <algorithm>
#include <cstring>

namespace wssac
{

namespace
{

enum : uint8_t
{
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xa,
};

/* A message buffer grown past this is given back once the message is
 * delivered: a connection that once got a big message does not hold it. */
constexpr size_t kKeptCapacity = 64 * 1024;
/* Without a message limit, what a header may make us reserve at once. */
constexpr size_t kMaxReserve = 1024 * 1024;

/* Header length once its second byte is known (the mask key included: an
 * unmasked frame is refused before this matters). */
size_t
header_length (uint8_t second)
{
  const uint8_t l7 = second & 0x7f;
  return 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + 4;
}

/* RFC 3629's table of multi-byte sequences: the second byte's range
 * depends on the first (no overlong forms, surrogates or code points over
 * U+10FFFF); the others are 80..BF. */
struct Utf8Lead
{
  uint8_t first, last; /* lead bytes */
  uint8_t follow;      /* bytes after the lead */
  uint8_t second_lo, second_hi;
};
const Utf8Lead kUtf8Leads[] = {
  { 0xc2, 0xdf, 1, 0x80, 0xbf }, /* U+0080..U+07FF */
  { 0xe0, 0xe0, 2, 0xa0, 0xbf }, /* U+0800..U+0FFF */
  { 0xe1, 0xec, 2, 0x80, 0xbf }, /* U+1000..U+CFFF */
  { 0xed, 0xed, 2, 0x80, 0x9f }, /* U+D000..U+D7FF: not the surrogates */
  { 0xee, 0xef, 2, 0x80, 0xbf }, /* U+E000..U+FFFF */
  { 0xf0, 0xf0, 3, 0x90, 0xbf }, /* U+10000..U+3FFFF */
  { 0xf1, 0xf3, 3, 0x80, 0xbf }, /* U+40000..U+FFFFF */
  { 0xf4, 0xf4, 3, 0x80, 0x8f }, /* U+100000..U+10FFFF */
};

bool
valid_close_code (unsigned code)
{
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
         || (code >= 3000 && code <= 4999);
}

} // namespace

bool
ws_valid_utf8 (const uint8_t *p, size_t n)
{
  size_t i = 0;
  while (i < n)
    {
      /* ASCII (most text messages are JSON) eight bytes at a time */
      while (i + 8 <= n)
        {
          uint64_t w;
          memcpy (&w, p + i, 8);
          if (w & 0x8080808080808080ull)
            break;
          i += 8;
        }
      if (i >= n)
        break;
      const uint8_t c = p[i];
      if (c < 0x80)
        {
          i++;
          continue;
        }
      const Utf8Lead *lead = nullptr;
      for (const Utf8Lead &l : kUtf8Leads)
        if (c >= l.first && c <= l.last)
          lead = &l;
      if (!lead)
        return false;
      const size_t follow = lead->follow;
      if (n - i - 1 < follow || p[i + 1] < lead->second_lo || p[i + 1] > lead->second_hi)
        return false;
      for (size_t k = 2; k <= follow; k++)
        if ((p[i + k] & 0xc0) != 0x80)
          return false;
      i += follow + 1;
    }
  return true;
}

void
ws_unmask (uint8_t *p, size_t n, const uint8_t mask[4], uint64_t phase)
{
  uint8_t m[4];
  for (unsigned k = 0; k < 4; k++)
    m[k] = mask[(phase + k) & 3];
  uint32_t m32;
  memcpy (&m32, m, 4);
  const uint64_t m64 = (uint64_t)m32 << 32 | m32;
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    {
      uint64_t w;
      memcpy (&w, p + i, 8);
      w ^= m64;
      memcpy (p + i, &w, 8);
    }
  for (; i < n; i++)
    p[i] ^= m[i & 3];
}

WsFrameReader::WsFrameReader (const WsReaderConfig &config) : config_ (config) {}

bool
WsFrameReader::refuse (unsigned short code, std::string reason)
{
  error_ = code;
  error_reason_ = std::move (reason);
  finish ();
  return false;
}

void
WsFrameReader::finish ()
{
  finished_ = true;
  header_have_ = 0;
  control_have_ = 0;
  in_payload_ = false;
  std::vector<uint8_t> ().swap (message_);
}

void
WsFrameReader::clear_message ()
{
  if (message_.capacity () > kKeptCapacity)
    std::vector<uint8_t> ().swap (message_);
  else
    message_.clear ();
}

bool
WsFrameReader::take_ping_token (int64_t now_us)
{
  if (config_.pings_per_second <= 0)
    return true;
  const int64_t elapsed = std::max<int64_t> (0, now_us - ping_us_);
  ping_tokens_ = ping_tokens_ < 0
                     ? config_.ping_burst
                     : std::min (config_.ping_burst,
                                 ping_tokens_ + elapsed * config_.pings_per_second / 1e6);
  ping_us_ = now_us;
  if (ping_tokens_ < 1)
    return false;
  ping_tokens_ -= 1;
  return true;
}

/* What the whole header allows us to decide, before any payload. */
bool
WsFrameReader::check_frame (const Frame &f, int64_t now_us)
{
  switch (f.opcode)
    {
    case kContinuation:
    case kText:
    case kBinary:
      {
        if (f.opcode == kContinuation && !fragmented_)
          return refuse (1002, "continuation frame without a message");
        if (f.opcode != kContinuation && fragmented_)
          return refuse (1002, "new message inside a fragmented message");
        const uint64_t so_far = f.opcode == kContinuation ? message_.size () : 0;
        if (config_.max_message_bytes > 0 && f.length > config_.max_message_bytes - so_far)
          return refuse (1009,
                         "message over " + std::to_string (config_.max_message_bytes) + " bytes");
        if (f.opcode != kContinuation)
          message_binary_ = f.opcode == kBinary;
        fragmented_ = !f.fin;
        return true;
      }
    case kClose:
      if (f.length == 1)
        return refuse (1002, "close frame with a 1-byte body");
      return true;
    case kPing:
      if (!take_ping_token (now_us))
        return refuse (1008, "ping flood");
      return true;
    default:
      return true;
    }
}

int
WsFrameReader::parse_header (const uint8_t *h, size_t avail, Frame &f, int64_t now_us)
{
  if (avail == 0)
    return 0;
  /* Checked as soon as their byte is there, always in this order: the same
   * verdict however the reads cut the header. */
  const uint8_t opcode = h[0] & 0x0f;
  if (h[0] & 0x70)
    return refuse (1002, "reserved bits set"), -1;
  if ((opcode > kBinary && opcode < kClose) || opcode > kPong)
    return refuse (1002, "reserved opcode " + std::to_string (opcode)), -1;
  const bool fin = (h[0] & 0x80) != 0;
  if (opcode >= kClose && !fin)
    return refuse (1002, "fragmented control frame"), -1;
  if (avail < 2)
    return 0;
  if (!(h[1] & 0x80))
    return refuse (1002, "unmasked frame"), -1;
  const uint8_t l7 = h[1] & 0x7f;
  if (opcode >= kClose && l7 > 125)
    return refuse (1002, "control frame over 125 bytes"), -1;
  const size_t hl = header_length (h[1]);
  if (avail < hl)
    return 0;
  uint64_t length = l7;
  if (l7 == 126)
    length = (uint64_t)h[2] << 8 | h[3];
  else if (l7 == 127)
    {
      if (h[2] & 0x80)
        return refuse (1002, "64-bit length with its top bit set"), -1;
      length = 0;
      for (int k = 0; k < 8; k++)
        length = length << 8 | h[2 + k];
    }
  f.fin = fin;
  f.opcode = opcode;
  f.length = length;
  memcpy (f.mask, h + hl - 4, 4);
  if (!check_frame (f, now_us))
    return -1;
  return static_cast<int> (hl);
}

bool
WsFrameReader::deliver (bool binary, const uint8_t *p, size_t n, WsFrameHandler &handler)
{
  if (!binary && !ws_valid_utf8 (p, n))
    return refuse (1007, "text message not UTF-8");
  if (!handler.on_message (binary, p, n))
    {
      finish ();
      return false;
    }
  return true;
}

bool
WsFrameReader::control_frame (uint8_t opcode, const uint8_t *p, size_t n, WsFrameHandler &handler)
{
  bool go_on;
  if (opcode == kPing)
    go_on = handler.on_ping (p, n);
  else if (opcode == kPong)
    go_on = handler.on_pong (p, n);
  else
    {
      unsigned short code = 1005;
      if (n >= 2)
        {
          code = static_cast<unsigned short> (p[0] << 8 | p[1]);
          if (!valid_close_code (code))
            return refuse (1002, "invalid close code " + std::to_string (code));
          if (!ws_valid_utf8 (p + 2, n - 2))
            return refuse (1007, "close reason not UTF-8");
        }
      const std::string reason (reinterpret_cast<const char *> (p) + (n >= 2 ? 2 : 0),
                                n >= 2 ? n - 2 : 0);
      /* finished before the call: the handler may ask */
      finish ();
      handler.on_close (code, reason);
      return false;
    }
  if (!go_on)
    finish ();
  return go_on;
}

bool
WsFrameReader::complete_frame (const Frame &f, const uint8_t *p, size_t n, WsFrameHandler &handler)
{
  if (f.opcode >= kClose)
    return control_frame (f.opcode, p, n, handler);
  /* The common case: a whole message in one frame, delivered where it lies. */
  if (f.opcode != kContinuation && f.fin)
    return deliver (f.opcode == kBinary, p, n, handler);
  message_.insert (message_.end (), p, p + n);
  if (!f.fin)
    return true;
  const bool go_on = deliver (message_binary_, message_.data (), message_.size (), handler);
  if (go_on)
    clear_message ();
  return go_on;
}

void
WsFrameReader::stream_payload (uint8_t *p, size_t n)
{
  ws_unmask (p, n, frame_.mask, payload_done_);
  if (frame_.opcode >= kClose)
    {
      memcpy (control_ + control_have_, p, n);
      control_have_ += n;
    }
  else
    message_.insert (message_.end (), p, p + n);
  payload_done_ += n;
  payload_left_ -= n;
}

unsigned short
WsFrameReader::feed (uint8_t *data, size_t n, WsFrameHandler &handler, int64_t now_us)
{
  size_t i = 0;
  while (i < n && !finished_)
    {
      if (in_payload_)
        {
          const size_t take = static_cast<size_t> (std::min<uint64_t> (payload_left_, n - i));
          stream_payload (data + i, take);
          i += take;
          if (payload_left_ > 0)
            break;
          in_payload_ = false;
          if (frame_.opcode >= kClose)
            {
              const size_t have = control_have_;
              control_have_ = 0;
              if (!control_frame (frame_.opcode, control_, have, handler))
                break;
            }
          else if (frame_.fin)
            {
              if (!deliver (message_binary_, message_.data (), message_.size (), handler))
                break;
              clear_message ();
            }
          continue;
        }

      Frame f;
      int hl;
      if (header_have_ > 0)
        {
          /* A header cut by the previous read: completed from this one. */
          for (;;)
            {
              const size_t need = header_have_ < 2 ? 2 : header_length (header_[1]);
              if (header_have_ >= need || i >= n)
                break;
              const size_t take = std::min (need - header_have_, n - i);
              memcpy (header_ + header_have_, data + i, take);
              header_have_ += take;
              i += take;
            }
          hl = parse_header (header_, header_have_, f, now_us);
          if (hl <= 0)
            break;
          header_have_ = 0;
        }
      else
        {
          hl = parse_header (data + i, n - i, f, now_us);
          if (hl < 0)
            break;
          if (hl == 0)
            {
              memcpy (header_, data + i, n - i);
              header_have_ = n - i;
              break;
            }
          i += hl;
        }

      if (f.length <= n - i)
        {
          uint8_t *p = data + i;
          const size_t len = static_cast<size_t> (f.length);
          ws_unmask (p, len, f.mask, 0);
          i += len;
          if (!complete_frame (f, p, len, handler))
            break;
          continue;
        }
      /* Cut by the end of this read: collected as it comes. */
      frame_ = f;
      in_payload_ = true;
      payload_left_ = f.length;
      payload_done_ = 0;
      if (f.opcode < kClose)
        {
          const uint64_t want = message_.size () + f.length;
          message_.reserve (static_cast<size_t> (
              config_.max_message_bytes > 0 ? want : std::min<uint64_t> (want, kMaxReserve)));
        }
    }
  return error_;
}

} // namespace wssac
