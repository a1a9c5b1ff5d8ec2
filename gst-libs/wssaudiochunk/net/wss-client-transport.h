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
#include "delivery-ledger.h"
#include "drop-episodes.h"
#include "message-codec.h"
#include "redact-uri.h"
#include "retry-policy.h"
#include "session-uri.h"

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
  /* The session id in the upgrade request's URI, for load balancers. */
  SessionInUri session_in_uri = SessionInUri::None;
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
  /* The first connection may fail and be retried instead of being fatal. */
  bool async_connect = false;
  /* Bytes written but not yet acknowledged by the peer's TCP stack (Linux
   * SIOCOUTQ) above which sending pauses: a slow server then grows our
   * bounded backlog instead of libsoup's unbounded output queue. 0: off. */
  size_t max_in_flight = 64 * 1024;
  RetryConfig retry;
  BacklogLimits backlog;
  /* Delivery (delivery-ledger.h): a chunk is written at most
   * max_attempts times; the in-flight window; TCP evidence's minimum hold. */
  LedgerConfig ledger;
  /* Backlog and replays drain at most this many times real time until the
   * receiver is known to ack. <= 0: no bound. */
  double max_send_rate = 3.0;
  /* Refusals (that may pass) for this long with nothing accepted: fatal.
   * 0: never. */
  int64_t refusal_timeout_ms = 5000;
  /* Make-before-break once the current connection is this old (API
   * Gateway cuts at 2 h): the next one is opened while it keeps sending,
   * sending moves over at a chunk boundary, the old one closes with 1000
   * once what it wrote is confirmed (connection-handover.h). 0: never. */
  int64_t max_connection_age_ms = 0;
  /* The streamId of this run (message-codec.h); empty: not sent. */
  std::string stream_id;
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
  uint64_t chunks_replayed = 0; /* writes after the first: duplicates on the wire at worst */
  uint64_t chunks_likely_duplicated = 0; /* replays of chunks the peer's TCP had */
  uint64_t chunks_confirmed = 0;
  uint64_t chunks_dropped = 0; /* every chunk that will not arrive, all reasons */
  uint64_t dropped_backlog = 0, dropped_paused = 0, dropped_oversize = 0, given_up = 0, refused = 0,
           unconfirmed = 0; /* by reason */
  uint64_t window = 0;      /* chunks allowed in flight on the connection */
  uint64_t bytes_sent = 0; /* text frame bytes */
  uint64_t audio_bytes_sent = 0;
  uint64_t controls_sent = 0;
  uint64_t reconnects = 0; /* new connections after a failure or a server's close */
  /* max-connection-age: moves to a new connection opened before the old
   * one closed (not reconnects). */
  uint64_t handovers = 0;
  uint64_t acked_index = 0; /* highest chunk the peer acknowledged */
  bool peer_acks = false;
  /* The current connection's receiver promised acks (kAckPromiseHeader):
   * only they confirm. */
  bool acks_promised = false;
  uint64_t server_errors = 0; /* error replies from the peer */
  uint64_t unacked_chunks = 0; /* written, not confirmed */
  int64_t latency_p50_us = 0, latency_p95_us = 0, latency_p99_us = 0; /* queue to socket */
  uint64_t backlog_chunks = 0;
  uint64_t backlog_bytes = 0;
  int64_t backlog_time_ns = 0;
  std::string last_error;
};

/* Why a connection attempt failed, for the element to map onto a GStreamer
 * error (souphttpsrc style: 401/403 not authorized, 404 not found). */
enum class ConnectErrorKind
{
  InvalidUri,
  Timeout,        /* no answer within connect-timeout */
  HttpStatus,     /* the server answered the upgrade with an HTTP status */
  TlsCertificate, /* the server's certificate did not validate */
  TlsNotSpoken,   /* wss:// to a server that does not speak TLS */
  TlsExpected,    /* ws:// to a server that (likely) wants TLS */
  Tls,            /* any other TLS failure */
  Network,        /* resolving, refused, reset, ... */
};

const char *connect_error_kind_name (ConnectErrorKind kind);

struct ConnectError
{
  ConnectErrorKind kind = ConnectErrorKind::Network;
  unsigned http_status = 0; /* HttpStatus only */
  std::string message;      /* "Could not connect to <redacted uri>: <cause>" */
  std::string hint;         /* what to change, for the error's debug text */
};

/* Called on the transport thread. */
struct TransportCallbacks
{
  std::function<void (const SentInfo &)> chunk_sent;
  std::function<void (ConnectionState, const std::string &detail)> state_changed;
  /* Chunks that will not arrive, per episode (drop-episodes.h). */
  std::function<void (const DropEpisode &)> dropped;
  /* The receiver refused a message (code, text): rate-limited. */
  std::function<void (const std::string &code, const std::string &message)> refused;
  /* The connection is lost for good (max-retries reached, the first
   * connection failed, a final refusal): the message says why, with the
   * URI; @fix what to change. */
  std::function<void (const std::string &message, const std::string &fix)> fatal;
  /* The first connection failed and async-connect is off: nothing will be
   * sent. Called before the state becomes Failed. */
  std::function<void (const ConnectError &error)> connect_failed;
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

  /* Starts the thread, which connects; never waits for the network. False
   * (with a message naming the cause) only when the transport cannot start
   * at all: an unreadable CA file, a thread that cannot be created. A failed
   * first connection is reported through callbacks.connect_failed (or
   * retried, with async_connect). */
  bool start (const TransportConfig &config, TransportCallbacks callbacks, std::string &error);

  /* Queues a message (any thread; never blocks on the network). Returns the
   * loss episodes due for announcement (the backlog bound dropped chunks). */
  std::vector<DropEpisode> enqueue (Outgoing item);
  /* Counts chunks lost before they reached the transport (held while
   * paused); returns the episodes due for announcement. */
  std::vector<DropEpisode> count_drop (DropReason reason, const DropRange &range);
  /* Blocks until the backlog has room for more (a non-live upstream is
   * slowed down instead of dropped). False when interrupted (flushing). */
  bool wait_for_room ();

  /* Sends what is queued, waits until every chunk is confirmed (or given
   * up), sends endSession if queued, then closes with 1000. Waits up to
   * @timeout_ms; false when that did not happen in time (or was
   * interrupted): then what is unconfirmed is counted and announced as lost
   * and the connection is closed. */
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

  /* Stops the thread; whatever is still queued or unconfirmed is counted
   * and announced as lost. */
  void stop ();

  TransportStats stats () const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace wssac
