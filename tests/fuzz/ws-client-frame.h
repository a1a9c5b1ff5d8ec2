/* A WebSocket client's frame (masked, RFC 6455), for fuzz_ws_frame_reader
 * and its seeds: written here rather than taken from the library, so that
 * the reader is checked against an encoder of its own. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fuzz
{

/* @b0: FIN | RSV | opcode. @long_form: the 64-bit length whatever @n. */
inline void
ws_client_frame (std::vector<uint8_t> &out, uint8_t b0, const uint8_t *p, size_t n, uint32_t mask,
                 bool long_form = false)
{
  out.push_back (b0);
  if (n < 126 && !long_form)
    out.push_back (static_cast<uint8_t> (0x80 | n));
  else if (n <= 0xffff && !long_form)
    out.insert (out.end (),
                { 0x80 | 126, static_cast<uint8_t> (n >> 8), static_cast<uint8_t> (n) });
  else
    {
      out.push_back (0x80 | 127);
      for (int shift = 56; shift >= 0; shift -= 8)
        out.push_back (static_cast<uint8_t> ((uint64_t)n >> shift));
    }
  const uint8_t m[4] = { static_cast<uint8_t> (mask), static_cast<uint8_t> (mask >> 8),
                         static_cast<uint8_t> (mask >> 16), static_cast<uint8_t> (mask >> 24) };
  out.insert (out.end (), m, m + 4);
  for (size_t i = 0; i < n; i++)
    out.push_back (p[i] ^ m[i & 3]);
}

} // namespace fuzz
