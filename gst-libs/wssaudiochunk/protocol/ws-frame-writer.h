/* wssaudiochunk receiver: RFC 6455 frames the server sends (never masked,
 * always FIN: the server does not fragment), appended to a string the
 * network side writes out. No I/O. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace wssac
{

enum class WsOpcode : uint8_t
{
  Continuation = 0,
  Text = 1,
  Binary = 2,
  Close = 8,
  Ping = 9,
  Pong = 10
};

void ws_append_frame (std::string &out, WsOpcode opcode, const uint8_t *data, size_t length);

/* 1005: an empty body; the reason is cut to fit 123 bytes on a UTF-8
 * boundary (a control frame's payload is at most 125 bytes). */
void ws_append_close (std::string &out, unsigned short code, const std::string &reason);

} // namespace wssac
