#include "ws-frame-writer.h"

#include <algorithm>

namespace wssac
{

void
ws_append_frame (std::string &out, WsOpcode opcode, const uint8_t *data, size_t length)
{
  char header[10];
  size_t hl = 2;
  header[0] = static_cast<char> (0x80 | static_cast<uint8_t> (opcode));
  if (length < 126)
    header[1] = static_cast<char> (length);
  else if (length <= 0xffff)
    {
      header[1] = 126;
      header[2] = static_cast<char> (length >> 8);
      header[3] = static_cast<char> (length);
      hl = 4;
    }
  else
    {
      header[1] = 127;
      for (int k = 0; k < 8; k++)
        header[2 + k] = static_cast<char> ((uint64_t)length >> (56 - 8 * k));
      hl = 10;
    }
  out.reserve (out.size () + hl + length);
  out.append (header, hl);
  out.append (reinterpret_cast<const char *> (data), length);
}

void
ws_append_close (std::string &out, unsigned short code, const std::string &reason)
{
  if (code == 1005)
    {
      ws_append_frame (out, WsOpcode::Close, nullptr, 0);
      return;
    }
  size_t cut = std::min<size_t> (reason.size (), 123);
  /* never between a character's bytes: back to the start of the one cut */
  while (cut < reason.size () && cut > 0 && (static_cast<uint8_t> (reason[cut]) & 0xc0) == 0x80)
    cut--;
  uint8_t body[125];
  body[0] = static_cast<uint8_t> (code >> 8);
  body[1] = static_cast<uint8_t> (code);
  reason.copy (reinterpret_cast<char *> (body) + 2, cut);
  ws_append_frame (out, WsOpcode::Close, body, 2 + cut);
}

} // namespace wssac
