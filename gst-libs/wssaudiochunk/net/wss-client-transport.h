/* wssaudiochunk: the sink's WebSocket client, on a libsoup 3 thread of its own.
 *
 * libsoup wants a session used from the thread whose main context created it,
 * and the streaming thread must never wait on the network: so this class owns
 * a thread running its own GMainContext, the SoupSession and the connection.
 * The element hands it finished messages through a bounded Backlog; the
 * thread encodes each one (an audio chunk's timestamp is when it is handed to
 * the socket, a control's when it was requested) and sends it while the
 * connection is open, reconnecting with backoff when it is not.
 */
#pragma once

#include "backlog.h"
#include "message-codec.h"
#include "redact-uri.h"
#include "retry-policy.h"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gio/gio.h>
#include <gst/gst.h>

namespace wssac
{

enum class ConnectionState
{
  Disconnected,
  Connecting,
  Connected,
  Reconnecting, /* waiting for the next attempt */
  Closing,
  Closed,
  Failed,
};

const char *connection_state_name (ConnectionState state);

/* redact_uri() (redact-uri.h) gives the form of a URI that logs and
 * messages may show. */

/* Empty when @uri can be connected to (a ws:// or wss:// URI with a host),
 * else a sentence saying what is wrong with it and what to set. Checked
 * before any network activity, so a typo gets an error that names it. */
std::string location_problem (const std::string &uri);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

/* The upgrade request's extra headers from a GstStructure, one field per
 * header (souphttpsrc's extra-headers): strings as they are, other values
 * serialized, arrays and lists add the header once per element. */
HeaderList headers_from_structure (const GstStructure *s);

struct TransportConfig
{
  std::string uri;
  std::string session_id;
  std::string format = "webm-opus";
  HeaderList headers;
  std::string user_agent;
  /* Authentication: a bearer token, sent as "Authorization: Bearer" or as
   * the "token" query parameter (API Gateway authorizers read either). It
   * never appears in logs, messages or errors. */
  std::string auth_token;
  bool auth_token_in_query = false;
  /* TLS (wss://): the server's certificate is validated against the system
   * store, or @tls_ca_file / @tls_database; ssl_strict=false accepts any. */
  bool ssl_strict = true;
  std::string tls_ca_file;
  GTlsDatabase *tls_database = nullptr; /* borrowed for the call to start() */
  unsigned connect_timeout_s = 10;
  unsigned keepalive_interval_s = 10;
  /* No pong nor message for this long: the peer is dead, reconnect. 0: off. */
  unsigned keepalive_timeout_s = 25;
  /* The first connection may fail and be retried instead of failing start. */
  bool async_connect = false;
  /* Bytes written but not yet acknowledged by the peer's TCP stack (Linux
   * SIOCOUTQ) above which sending pauses: a slow server then grows our
   * bounded backlog instead of libsoup's unbounded output queue. 0: off. */
  size_t max_in_flight = 64 * 1024;
  RetryConfig retry;
  BacklogLimits backlog;
  /* Chunks already handed to a socket that died are sent again after a
   * reconnect when they are this recent: data in the kernel's buffers of a
   * dead connection never arrives. The receiver drops duplicates. A peer
   * that sends acks ({"action":"ack"}) gets exactly the unacknowledged
   * chunks replayed instead, whatever their age. */
  int64_t replay_window_ms = 5000;
  size_t max_message_size = 32 * 1024;
  /* Audio chunks in the binary framing (message-codec.h) instead of JSON
   * text with base64: a third fewer bytes; our receivers understand it. */
  bool binary_framing = false;
};

struct SentInfo
{
  uint64_t chunk_index = 0;
  size_t size = 0;         /* audio bytes */
  size_t encoded_size = 0; /* bytes of the JSON text frame */
  int64_t timestamp_ms = 0;
  int64_t latency_us = 0; /* from queueing to hand-off */
  bool replay = false;
};

struct TransportStats
{
  ConnectionState state = ConnectionState::Disconnected;
  uint64_t chunks_queued = 0;
  uint64_t chunks_sent = 0;
  uint64_t chunks_replayed = 0;
  uint64_t chunks_dropped = 0;
  uint64_t bytes_sent = 0; /* text frame bytes */
  uint64_t audio_bytes_sent = 0;
  uint64_t controls_sent = 0;
  uint64_t reconnects = 0;
  uint64_t acked_index = 0; /* highest chunk the peer acknowledged */
  bool peer_acks = false;
  uint64_t server_errors = 0; /* error replies from the peer */
  uint64_t unacked_chunks = 0;
  int64_t latency_p50_us = 0, latency_p95_us = 0, latency_p99_us = 0; /* queue to socket */
  uint64_t backlog_chunks = 0;
  uint64_t backlog_bytes = 0;
  int64_t backlog_time_ns = 0;
  std::string last_error;
};

/* Called on the transport thread. */
struct TransportCallbacks
{
  std::function<void (const SentInfo &)> chunk_sent;
  std::function<void (ConnectionState, const std::string &detail)> state_changed;
  std::function<void (const DropRange &)> dropped;
  /* The connection is lost for good (max-retries reached, or the first
   * connection failed): the message says why, with the URI. */
  std::function<void (const std::string &message)> fatal;
};

class WssClientTransport
{
public:
  /* @log_object (borrowed; it outlives the transport) is the object the
   * transport logs with, so that two sinks can be told apart in a log. */
  explicit WssClientTransport (GstObject *log_object = nullptr);
  ~WssClientTransport ();
  WssClientTransport (const WssClientTransport &) = delete;
  WssClientTransport &operator= (const WssClientTransport &) = delete;

  /* Starts the thread and connects. Waits for the first outcome; on failure
   * (including a thread that cannot be created) returns false with a
   * message naming the URI and the cause. */
  bool start (const TransportConfig &config, TransportCallbacks callbacks, std::string &error);

  /* Queues a message (any thread; never blocks on the network). Returns what
   * the backlog bound dropped. */
  DropRange enqueue (Outgoing item);

  /* Sends what is queued, then closes with 1000. Waits up to @timeout_ms;
   * false when the backlog could not be delivered in time (or was
   * interrupted). */
  bool drain_and_close (int64_t timeout_ms);
  /* Like drain_and_close() without waiting: closes once the queue is empty. */
  void close_when_drained ();
  /* Makes a waiting drain_and_close() return at once (flushing). */
  void interrupt ();
  void clear_interrupt ();

  /* The messages' format field, once the caps are known. */
  void set_format (const std::string &format);
  /* The stream header, re-sent with the first chunk on every new connection. */
  void set_stream_header (const std::vector<uint8_t> &header);

  /* Stops the thread; whatever is still queued is discarded and counted. */
  void stop ();

  TransportStats stats () const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace wssac
