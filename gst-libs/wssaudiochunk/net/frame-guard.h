/* wssaudiochunk receiver: a watch on the bytes a client sends, between the
 * socket and libsoup.
 *
 * libsoup 3.2 checks each WebSocket frame against its payload limit, but
 * reassembles a fragmented message without any bound (256 MB in 256 KB
 * fragments were buffered before a refusal), and answers every ping. The
 * guard parses the client's frame headers as the bytes pass (it never
 * buffers or changes them): when the fragments of one message add up to
 * more than max_message_bytes, or pings arrive faster than the ping rate,
 * it sends a close frame (1009 or 1008) and fails the read, so libsoup drops
 * the connection at once. Before the upgrade it passes the HTTP request
 * through untouched. */
#pragma once

#include "frame-watch.h"
#include "socket-readiness.h"

#include <gio/gio.h>

#include <atomic>
#include <cstdint>
#include <memory>

namespace wssac
{

struct FrameGuardStats
{
  std::atomic<uint64_t> closed_too_big{ 0 };
  std::atomic<uint64_t> closed_ping_flood{ 0 };
};

/* A stream to hand to libsoup in place of @base (it takes a reference):
 * same bytes, with the guard on the input side. Closing it closes @base.
 * With @readiness and a plain TCP @base, the socket's readiness comes from
 * that epoll set (socket-readiness.h); TLS streams poll as before, since
 * their decrypted data can wait in a buffer the socket knows nothing of. */
GIOStream *frame_guard_stream_new (GIOStream *base, const FrameGuardConfig &config,
                                   std::shared_ptr<FrameGuardStats> stats,
                                   std::shared_ptr<SocketReadiness> readiness = nullptr);

/* A guard stream's plain TCP socket, when the worker's epoll set watches
 * it: what our own WebSocket code (ws-server-connection.h) needs to read
 * and write the socket itself after the upgrade. False for TLS, for a
 * socket epoll refused, and for any other stream. */
struct WatchedSocket
{
  int fd = -1;
  std::shared_ptr<ReadyCell> cell;
  std::shared_ptr<SocketReadiness> readiness;
};
bool frame_guard_watched_socket (GIOStream *guard_stream, WatchedSocket &out);

/* Moving a connection to another worker's epoll set: released on the first
 * worker's thread (no more edges there), watched again on the second's.
 * watch returns false (the stream is then read through GIO) when the
 * socket was not watched or epoll refused it. */
void frame_guard_release_socket (GIOStream *guard_stream);
bool frame_guard_watch_socket (GIOStream *guard_stream, std::shared_ptr<SocketReadiness> readiness,
                               WatchedSocket &out);

} // namespace wssac
