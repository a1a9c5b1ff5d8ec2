/* wssaudiochunk: what the kernel knows about the sink's TCP connection.
 *
 * A server that never acks leaves TCP as the only evidence that a chunk
 * left this host: the peer's TCP acknowledged its last byte (Linux
 * TCP_INFO tcpi_bytes_acked; with TLS the byte counts are those of the
 * records, which is why the sink samples the stream position right after a
 * write). And a path that stops acknowledging data must be noticed without
 * the peer's help: TCP_USER_TIMEOUT and TCP keepalive make the kernel fail
 * the connection.
 */
#pragma once

#include <gio/gio.h>

#include <cstdint>

namespace wssac
{

struct TcpSample
{
  uint64_t bytes_acked = 0; /* stream bytes the peer acknowledged */
  uint64_t queued = 0;      /* bytes in our send queue: unsent or unacknowledged */
  int64_t rtt_ms = 0;       /* smoothed round-trip time */
};

/* The GSocket under a (TLS, WebSocket) stream stack, or nullptr. Borrowed. */
GSocket *socket_of_stream (GIOStream *stream);

/* Samples @socket; false where the platform has no TCP_INFO. */
bool tcp_sample (GSocket *socket, TcpSample &out);

/* Bytes written to the TCP stream so far: acknowledged plus queued. */
inline uint64_t
tcp_stream_position (const TcpSample &s)
{
  return s.bytes_acked + s.queued;
}

/* Dead-path detection by the kernel: written data unacknowledged for
 * @user_timeout_ms fails the connection (TCP_USER_TIMEOUT), and an idle
 * connection is probed every @keepalive_s (TCP keepalive). */
void tcp_harden (GSocket *socket, unsigned user_timeout_ms, unsigned keepalive_s);

} // namespace wssac
