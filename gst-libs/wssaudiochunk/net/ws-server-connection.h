/* wssaudiochunk receiver: a client's WebSocket served by our own frame code
 * (server-connection.h), after libsoup has done the HTTP upgrade.
 *
 * libsoup 3.2 reads a WebSocket 1 KB per system call until one would
 * block (three reads for a 1.1 KB audioChunk), moves its buffer after
 * every frame and re-creates its input source around every read; at 2,000
 * speakers that, not the messages, was most of the receiver's CPU
 * (docs/performance.md). Here a plain TCP socket is read 64 KB at a time
 * into the worker's buffer, its frames parsed where they lie
 * (ws-frame-reader.h), and edges come from the worker's epoll set
 * (socket-readiness.h); a TLS stream is read through GIO the same way from
 * one source kept for the connection's life.
 *
 * Close handshake (RFC 6455 7.1): a close from the client is echoed and the
 * socket closed; a close of ours waits up to kCloseWaitMs for the client's;
 * a protocol error sends its close code, shuts the sending side and reads
 * what is left until the client closes (up to kLingerMs), so that the
 * client reads the close frame rather than a reset. */
#pragma once

#include "server-connection.h"

#include "frame-guard.h"
#include "ws-frame-reader.h"

#include <gio/gio.h>

#include <memory>
#include <string>

namespace wssac
{

struct WsServerConnectionConfig
{
  WsReaderConfig reader;
  unsigned keepalive_interval_s = 10; /* 0: no pings */
  /* Unsent bytes beyond this: the client does not read, dropped. */
  size_t max_unsent_bytes = 1024 * 1024;
};

class WsServerConnection : public ServerConnection, private WsFrameHandler, private ReadyListener
{
public:
  static constexpr int64_t kCloseWaitMs = 5000;
  static constexpr int64_t kLingerMs = 2000;

  /* @stream: what libsoup gave up after the 101 (the reference is taken
   * over); its input may still hold bytes read with the request. @socket:
   * its plain TCP socket when the worker's epoll set watches it (else
   * fd -1: the stream is read through GIO). */
  WsServerConnection (Owner &owner, ConnectionId id, int64_t now_ms,
                      const WsServerConnectionConfig &config, GMainContext *context,
                      GIOStream *stream, WatchedSocket socket);
  ~WsServerConnection () override;

  /* Reads what came with the request, and starts watching the socket. */
  void start ();

  bool is_open () const override;
  void send_text (const std::string &text) override;
  void close (unsigned short code, const std::string &reason) override;
  void drop () override;
  void stop (unsigned short code, const char *reason) override;
  void tick (int64_t now_ms) override;
  unsigned short close_code () const override;

  /* Why the connection failed the protocol, when it did (logs, tests). */
  const std::string &
  error_reason () const
  {
    return reader_.error_reason ();
  }

private:
  enum class State
  {
    Open,
    AwaitClose, /* our close sent, the client's not yet */
    Linger,     /* the last frame queued: flush, shut down, wait for EOF */
    Gone        /* socket closed */
  };

  /* WsFrameHandler */
  bool on_message (bool binary, const uint8_t *data, size_t length) override;
  bool on_ping (const uint8_t *data, size_t length) override;
  bool on_pong (const uint8_t *data, size_t length) override;
  bool on_close (unsigned short code, const std::string &reason) override;
  /* ReadyListener */
  void socket_ready () override;

  static gboolean on_stream_readable (GObject *, gpointer data);
  static gboolean on_stream_writable (GObject *, gpointer data);
  static gboolean on_kick (gpointer data);

  /* The I/O step every callback runs: read, write, then tell the owner if
   * the connection is gone. */
  void pump ();
  void read_socket ();
  void read_stream ();
  void feed (uint8_t *data, size_t n);
  /* Feeds or, once nothing is parsed any more, throws away. */
  void consume (uint8_t *data, size_t n);
  bool plain () const;
  bool discarding () const;
  void flush ();
  void queue_close (unsigned short code, const std::string &reason, State next);
  void close_socket ();
  /* Runs pump () soon from the main loop (never inside the caller's call). */
  void kick ();

  WsServerConnectionConfig config_;
  GMainContext *context_;
  GIOStream *stream_;
  WatchedSocket socket_;
  GPollableInputStream *in_ = nullptr; /* the GIO path */
  GPollableOutputStream *out_ = nullptr;
  GSource *in_source_ = nullptr, *out_source_ = nullptr, *kick_source_ = nullptr;
  WsFrameReader reader_;
  std::string unsent_;
  size_t unsent_from_ = 0;
  State state_ = State::Open;
  unsigned short close_code_ = 0;
  bool done_ = false; /* close the socket now: EOF, an error, a deadline, drop () */
  bool drained_request_ = false;
  bool shut_down_ = false; /* shutdown (SHUT_WR) done */
  bool told_owner_ = false;
  int64_t deadline_ms_ = 0; /* AwaitClose and Linger */
  size_t discarded_ = 0;
  int64_t last_ping_ms_;
};

} // namespace wssac
