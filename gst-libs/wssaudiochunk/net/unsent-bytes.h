/* wssaudiochunk: how much a WebSocket connection has written that the peer
 * has not taken yet, for backpressure (libsoup's own output queue is
 * unbounded and invisible). */
#pragma once

#include <libsoup/soup.h>

#include <cstdint>

namespace wssac
{

/* Bytes the kernel still holds for the peer (Linux SIOCOUTQ on the socket
 * under libsoup's, and maybe TLS's, stream wrappers); -1 when unknown. */
int64_t unsent_bytes (SoupWebsocketConnection *conn);

} // namespace wssac
