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

/* An upper bound of the bytes in our send queue now (the kernel's plus
 * what the writer still buffers), without asking the kernel: @s was sampled
 * when our stream position (bytes handed to the writer since the stream
 * began) was @ours_then; it is @ours_now. The queue only grows by what is
 * written, and the peer's acknowledgements only shrink it; @slack covers
 * what the writer sends on its own meanwhile (pings, pongs). Plain TCP only:
 * with TLS the kernel holds records, larger than what was handed over. */
inline uint64_t
send_queue_bound (const TcpSample &s, uint64_t ours_then, uint64_t ours_now, uint64_t slack)
{
  const uint64_t in_kernel = tcp_stream_position (s);
  const uint64_t buffered_then = ours_then > in_kernel ? ours_then - in_kernel : 0;
  const uint64_t written_since = ours_now > ours_then ? ours_now - ours_then : 0;
  return s.queued + buffered_then + written_since + slack;
}

/* Where a frame ends in the TCP stream, from a sample @s taken later: the
 * frame ended at our stream position @ours_end, and @ours_now was ours when
 * @s was taken. What the writer sent on its own meanwhile (pings, pongs)
 * counts as if before the frame: never below the frame's true end while the
 * writer buffers nothing, never beyond what the kernel holds (so the peer's
 * acknowledgements reach it). Plain TCP only, as send_queue_bound (). */
inline uint64_t
frame_end_from_sample (const TcpSample &s, uint64_t ours_end, uint64_t ours_now)
{
  const uint64_t in_kernel = tcp_stream_position (s);
  return ours_end + (in_kernel > ours_now ? in_kernel - ours_now : 0);
}

/* The socket's send buffer (SO_SNDBUF), or 0 where unknown. */
uint64_t tcp_send_buffer (GSocket *socket);

/* Holds back partial segments while several messages are written in a row
 * (TCP_CORK) and sends what is held when turned off. */
void tcp_cork (GSocket *socket, bool on);

/* Dead-path detection by the kernel: written data unacknowledged for
 * @user_timeout_ms fails the connection (TCP_USER_TIMEOUT), and an idle
 * connection is probed every @keepalive_s (TCP keepalive). */
void tcp_harden (GSocket *socket, unsigned user_timeout_ms, unsigned keepalive_s);

} // namespace wssac
