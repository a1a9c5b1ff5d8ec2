/* wssaudiochunksink's property specifications and their documentation (what
 * gst-inspect-1.0 shows), with the enum types they use. Every duration is
 * in milliseconds (the rule: duration-property.h). */
#include "sink-properties.h"

#include "sink-private.h"

using namespace wssac;
using namespace wssac::sink;

/**
 * GstWssAudioChunkSinkBacklogPolicy:
 * @GST_WSS_AUDIO_CHUNK_SINK_BACKLOG_DROP_OLDEST: drop the oldest chunks (the
 *   receiver gets the most recent audio)
 * @GST_WSS_AUDIO_CHUNK_SINK_BACKLOG_DROP_NEWEST: drop new chunks (the receiver
 *   gets the audio from the start of the outage)
 *
 * What goes when the backlog is full.
 *
 * Since: 0.1
 */
GType
gst_wss_audio_chunk_sink_backlog_policy_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_WSS_AUDIO_CHUNK_SINK_BACKLOG_DROP_OLDEST, "Drop the oldest chunks", "drop-oldest" },
    { GST_WSS_AUDIO_CHUNK_SINK_BACKLOG_DROP_NEWEST, "Drop the newest chunks", "drop-newest" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstWssAudioChunkSinkBacklogPolicy", values));
  return type;
}

/**
 * GstWssAudioChunkSinkAuthTokenMode:
 * @GST_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_HEADER: `Authorization: Bearer <token>`
 * @GST_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_QUERY: `?token=<token>` on the URI (for
 *   clients and gateways that cannot use headers on the upgrade)
 *
 * Since: 0.1
 */
GType
gst_wss_audio_chunk_sink_auth_token_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_HEADER, "Authorization: Bearer header", "header" },
    { GST_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_QUERY, "token query parameter", "query" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstWssAudioChunkSinkAuthTokenMode", values));
  return type;
}

/**
 * GstWssAudioChunkSinkFraming:
 * @GST_WSS_AUDIO_CHUNK_SINK_FRAMING_JSON: the original protocol's JSON text message with base64
 * audio
 * @GST_WSS_AUDIO_CHUNK_SINK_FRAMING_BINARY: one binary message: "WSAC", a JSON
 *   header, the raw audio (docs/protocol.md); a third fewer bytes
 *
 * Since: 0.1
 */
GType
gst_wss_audio_chunk_sink_framing_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_WSS_AUDIO_CHUNK_SINK_FRAMING_JSON, "JSON text, base64 audio (the original protocol)",
      "json" },
    { GST_WSS_AUDIO_CHUNK_SINK_FRAMING_BINARY, "Binary: JSON header and raw audio", "binary" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstWssAudioChunkSinkFraming", values));
  return type;
}

/**
 * GstWssAudioChunkSinkSessionInUri:
 * @GST_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI_QUERY: `sessionId=<id>` added to
 *   the query (unless the location has one)
 * @GST_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI_PATH: `/<id>` added to the path
 * @GST_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI_NONE: the location as it is
 *
 * Where the session id goes in the URI of the upgrade request.
 *
 * Since: 0.1
 */
GType
gst_wss_audio_chunk_sink_session_in_uri_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI_QUERY, "sessionId query parameter", "query" },
    { GST_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI_PATH, "Last path segment", "path" },
    { GST_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI_NONE, "Not in the URI", "none" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstWssAudioChunkSinkSessionInUri", values));
  return type;
}

static constexpr GParamFlags RW = static_cast<GParamFlags> (
    G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);

void
wssac::sink::install_properties (GObjectClass *gobject_class)
{
  /**
   * GstWssAudioChunkSink:location:
   *
   * The WebSocket server to stream to: a ws:// or wss:// URI.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location", "WebSocket URI to stream to (ws:// or wss://)",
                           DEFAULT_LOCATION, RW));
  /**
   * GstWssAudioChunkSink:session-id:
   *
   * The session every chunk belongs to (the message's sessionId): 1 to 256
   * bytes of UTF-8 without control characters. When none is set, start()
   * generates a random UUID, logs it, and puts it here, in the `stats`
   * structure and in the `wss-audio-chunk-stream-start` message, so that
   * `… ! ws://host:port/ws` streams as it is; read it back from any of
   * those.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_SESSION_ID,
      g_param_spec_string (
          "session-id", "Session ID",
          "Session identifier put in every message (empty: a random UUID at start)",
          DEFAULT_SESSION_ID, RW));
  /**
   * GstWssAudioChunkSink:chunk-duration:
   *
   * Media time per chunk, in milliseconds (20 to 10000). A chunk closes at
   * the first cluster start once it holds this much; set webmmux
   * min-cluster-duration (nanoseconds) to match.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_CHUNK_DURATION,
      g_param_spec_uint ("chunk-duration", "Chunk duration",
                         "Media time per chunk in milliseconds; chunks close on the next cluster "
                         "start",
                         wssac::Chunker::kMinChunkDuration / 1000000,
                         wssac::Chunker::kMaxChunkDuration / 1000000, DEFAULT_CHUNK_DURATION, RW));
  /**
   * GstWssAudioChunkSink:format:
   *
   * The message's format field. Empty: "webm-opus" for WebM caps, "ogg-opus"
   * for Ogg caps.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_FORMAT,
      g_param_spec_string (
          "format", "Format",
          "Value of the messages' format field (empty: webm-opus or ogg-opus from the caps)",
          DEFAULT_FORMAT, RW));
  /**
   * GstWssAudioChunkSink:extra-headers:
   *
   * Extra HTTP headers for the WebSocket upgrade request, one field per
   * header (as souphttpsrc's extra-headers). Values that are not strings are
   * serialized; arrays and lists add the header once per element.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_EXTRA_HEADERS,
      g_param_spec_boxed (
          "extra-headers", "Extra headers",
          "Extra HTTP headers for the upgrade request (GstStructure, one field per header)",
          GST_TYPE_STRUCTURE, RW));
  /**
   * GstWssAudioChunkSink:user-agent:
   *
   * The User-Agent header of the upgrade request.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_USER_AGENT,
                                   g_param_spec_string ("user-agent", "User-Agent",
                                                        "User-Agent of the upgrade request",
                                                        DEFAULT_USER_AGENT, RW));
  /**
   * GstWssAudioChunkSink:connect-timeout:
   *
   * Milliseconds to wait for a connection (TCP, TLS and upgrade) before the
   * attempt counts as failed; at least 1000 (libsoup counts whole seconds:
   * rounded up).
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_CONNECT_TIMEOUT,
      g_param_spec_uint ("connect-timeout", "Connect timeout",
                         "Milliseconds to wait for a connection attempt (at least 1000)", 1,
                         3600 * 1000, DEFAULT_CONNECT_TIMEOUT, RW));
  /**
   * GstWssAudioChunkSink:drain-timeout:
   *
   * Milliseconds to wait at EOS until every chunk is confirmed by the
   * receiver (its ack, or TCP evidence where it neither sends nor promises
   * acks), before
   * endSession and the close with 1000. What is still unconfirmed after that
   * is counted (chunks-unconfirmed) and announced as lost. 0: do not wait;
   * otherwise at least 1000.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_DRAIN_TIMEOUT,
      g_param_spec_uint ("drain-timeout", "Drain timeout",
                         "Milliseconds to wait at EOS for every chunk to be confirmed (0 = do "
                         "not wait, else at least 1000)",
                         0, 3600 * 1000, DEFAULT_DRAIN_TIMEOUT, RW));
  /**
   * GstWssAudioChunkSink:keepalive-interval:
   *
   * Milliseconds between WebSocket pings (0 disables them; otherwise at
   * least 1000, rounded up to whole seconds as libsoup pings). Gateways
   * close idle connections (API Gateway after 10 minutes).
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_KEEPALIVE_INTERVAL,
      g_param_spec_uint ("keepalive-interval", "Keepalive interval",
                         "Milliseconds between WebSocket pings (0 = none, else at least 1000)", 0,
                         3600 * 1000, DEFAULT_KEEPALIVE_INTERVAL, RW));
  /**
   * GstWssAudioChunkSink:keepalive-timeout:
   *
   * Milliseconds without a pong or any message from the server after which
   * the connection is taken for dead and replaced (0 disables the check;
   * otherwise at least 1000, rounded up to whole seconds). Keep it above
   * twice keepalive-interval.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_KEEPALIVE_TIMEOUT,
      g_param_spec_uint ("keepalive-timeout", "Keepalive timeout",
                         "Milliseconds of silence from the server before the connection is "
                         "replaced (0 = never, else at least 1000)",
                         0, 3600 * 1000, DEFAULT_KEEPALIVE_TIMEOUT, RW));
  /**
   * GstWssAudioChunkSink:async-connect:
   *
   * The element never waits for the network in its state changes: audio
   * waits in the backlog while the first connection is made. When false
   * (the default) a failed first connection is an error at once (a wrong
   * location, a server that is not there, a refused token: 401/403 give
   * GST_RESOURCE_ERROR_NOT_AUTHORIZED, 404 GST_RESOURCE_ERROR_NOT_FOUND,
   * with `http-status-code` in the error's details). When true the first
   * connection is retried like a lost one.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_ASYNC_CONNECT,
      g_param_spec_boolean (
          "async-connect", "Async connect",
          "Retry a failed first connection in the background instead of posting an error",
          DEFAULT_ASYNC_CONNECT, RW));
  /**
   * GstWssAudioChunkSink:max-in-flight:
   *
   * Bytes written to the socket but not yet taken by the server (the kernel's
   * send queue) above which sending pauses, so that a slow server grows the
   * bounded backlog and never libsoup's unbounded output queue. 0: no limit.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_MAX_IN_FLIGHT,
      g_param_spec_uint ("max-in-flight", "Max in flight",
                         "Unsent socket bytes above which sending pauses (0 = no limit)", 0,
                         G_MAXINT, DEFAULT_MAX_IN_FLIGHT, RW));
  /**
   * GstWssAudioChunkSink:backlog-policy:
   *
   * Which chunks are dropped when the backlog is full.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_BACKLOG_POLICY,
                                   g_param_spec_enum ("backlog-policy", "Backlog policy",
                                                      "What to drop when the backlog is full",
                                                      GST_TYPE_WSS_AUDIO_CHUNK_SINK_BACKLOG_POLICY,
                                                      DEFAULT_BACKLOG_POLICY, RW));
  /**
   * GstWssAudioChunkSink:retry-delay:
   *
   * Milliseconds before the first reconnection attempt; each further attempt
   * waits twice as long (with +-20 % jitter) up to max-retry-delay.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_RETRY_DELAY,
      g_param_spec_uint ("retry-delay", "Retry delay",
                         "Milliseconds before the first reconnection attempt", 1, 600000,
                         DEFAULT_RETRY_DELAY, RW));
  /**
   * GstWssAudioChunkSink:max-retry-delay:
   *
   * Upper bound of the delay between reconnection attempts, in milliseconds.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_MAX_RETRY_DELAY,
      g_param_spec_uint ("max-retry-delay", "Max retry delay",
                         "Longest wait between reconnection attempts in milliseconds", 1, 3600000,
                         DEFAULT_MAX_RETRY_DELAY, RW));
  /**
   * GstWssAudioChunkSink:max-retries:
   *
   * Reconnection attempts after a lost connection before the element posts
   * an error: -1 retries forever, 0 never. (The very first connection is not
   * retried unless async-connect is set: a wrong location or a server that is
   * not there is an error at once.)
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_MAX_RETRIES,
      g_param_spec_int ("max-retries", "Max retries",
                        "Reconnection attempts before giving up (-1 = forever)", -1, G_MAXINT,
                        DEFAULT_MAX_RETRIES, RW));
  /**
   * GstWssAudioChunkSink:max-backlog-time:
   *
   * Audio kept while the connection is down or slow, in milliseconds of
   * media time (0: no time bound; otherwise 100 to 24 h). Past it the oldest
   * chunks are dropped, counted and announced.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_MAX_BACKLOG_TIME,
      g_param_spec_uint ("max-backlog-time", "Max backlog time",
                         "Milliseconds of audio kept while disconnected (0 = unbounded by time, "
                         "else at least 100)",
                         0, MAX_LONG_DURATION, DEFAULT_MAX_BACKLOG_TIME, RW));
  /**
   * GstWssAudioChunkSink:max-backlog-bytes:
   *
   * Audio bytes kept while the connection is down or slow (0: no byte bound).
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_MAX_BACKLOG_BYTES,
      g_param_spec_uint64 ("max-backlog-bytes", "Max backlog bytes",
                           "Audio bytes kept while disconnected (0 = unbounded by size)", 0,
                           G_MAXUINT64, DEFAULT_MAX_BACKLOG_BYTES, RW));
  /**
   * GstWssAudioChunkSink:replay-window:
   *
   * Deprecated and ignored (milliseconds, as every duration): every chunk a
   * dead connection did not confirm is written again on the next one,
   * whatever its age (see max-attempts).
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_REPLAY_WINDOW,
      g_param_spec_uint ("replay-window", "Replay window",
                         "Deprecated and ignored (milliseconds): unconfirmed chunks are always "
                         "replayed, see max-attempts",
                         0, 600 * 1000, DEFAULT_REPLAY_WINDOW,
                         static_cast<GParamFlags> (RW | G_PARAM_DEPRECATED)));
  /**
   * GstWssAudioChunkSink:max-attempts:
   *
   * Writes of one chunk, on successive connections, before it is given up
   * (counted in stats as chunks-given-up and announced). A chunk is
   * confirmed by the receiver's ack, or where the receiver sends none, by
   * its TCP acknowledgement followed by the connection staying up for
   * max (2 x RTT, 500 ms). Each further write may be a duplicate at a
   * receiver that had it: at most max-attempts - 1 per chunk.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_MAX_ATTEMPTS,
      g_param_spec_uint ("max-attempts", "Max attempts",
                         "Writes of one chunk before it is given up and counted lost", 1, 1000,
                         DEFAULT_MAX_ATTEMPTS, RW));
  /**
   * GstWssAudioChunkSink:max-send-rate:
   *
   * How fast a backlog (after a pause or an outage) and replays drain, as a
   * multiple of real time, until the receiver is known to ack. API Gateway
   * runs one function per message, concurrently: a burst reaches the
   * backend out of order. Receivers that ack (ours) reorder by chunkIndex
   * and get no bound. 0: no bound.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_MAX_SEND_RATE,
      g_param_spec_double ("max-send-rate", "Max send rate",
                           "Backlog drain rate as a multiple of real time until the receiver "
                           "acks (0 = unbounded)",
                           0.0, 1000.0, DEFAULT_MAX_SEND_RATE, RW));
  /**
   * GstWssAudioChunkSink:refusal-timeout:
   *
   * Milliseconds during which the receiver may refuse every chunk (for a
   * reason that may pass, such as session-claimed or rate-limited) before
   * the element fails with an error naming the cause. Final refusals
   * (wrong-session, session-ended, invalid-session-id, unauthorized) fail
   * at once. 0: wait forever; otherwise at least 100.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_REFUSAL_TIMEOUT,
      g_param_spec_uint ("refusal-timeout", "Refusal timeout",
                         "Milliseconds of refused chunks before failing (0 = never, else at "
                         "least 100)",
                         0, MAX_LONG_DURATION, DEFAULT_REFUSAL_TIMEOUT, RW));
  /**
   * GstWssAudioChunkSink:max-connection-age:
   *
   * Milliseconds after which the sink moves to a new connection, make
   * before break: API Gateway cuts every connection at 2 h. The next
   * connection is opened while the old one keeps sending, the next chunk
   * goes on the new one, and the old one is closed with 1000 once what it
   * carried is confirmed (its unconfirmed chunks are replayed if it dies
   * first). Counted in stats as handovers. The default is 1 h 58 min
   * (7080000). 0: never; otherwise at least 1000.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_MAX_CONNECTION_AGE,
      g_param_spec_uint ("max-connection-age", "Max connection age",
                         "Milliseconds before moving to a new connection (0 = never, else at "
                         "least 1000)",
                         0, MAX_LONG_DURATION, DEFAULT_MAX_CONNECTION_AGE, RW));
  /**
   * GstWssAudioChunkSink:max-message-size:
   *
   * Largest text frame ever sent, in bytes (API Gateway closes a connection
   * on a frame over 32 KB). A chunk that would encode larger is dropped with
   * a warning; lower chunk-duration if that happens.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MAX_MESSAGE_SIZE,
                                   g_param_spec_uint ("max-message-size", "Max message size",
                                                      "Largest text frame sent, in bytes", 1024,
                                                      16 * 1024 * 1024, DEFAULT_MAX_MESSAGE_SIZE,
                                                      RW));
  /**
   * GstWssAudioChunkSink:post-messages:
   *
   * Whether to post a `wss-audio-chunk-sent` element message per chunk
   * (its index, sizes and send time). Off by default: each message wakes
   * the application's main loop, which costs a pipeline about as much CPU
   * as sending the chunk. Progress at a bounded rate is in #GstWssAudioChunkSink:stats
   * (`chunks-sent`, `bytes-sent`), and the stream, connection and loss
   * messages are posted either way.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
                            "Post a wss-audio-chunk-sent element message for every chunk sent "
                            "(off: each wakes the application; read stats instead)",
                            DEFAULT_POST_MESSAGES,
                            static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
                                                      | GST_PARAM_MUTABLE_PLAYING)));
  /**
   * GstWssAudioChunkSink:end-session-on-eos:
   *
   * Whether the end of the stream also ends the session: once every chunk
   * is confirmed, an `endSession` message (reason "end of stream") goes out,
   * so a receiver finalizes at once instead of waiting for a reconnect. On
   * by default: EOS is the end of the speaker's stream (use gst-launch-1.0
   * -e so that Ctrl-C sends EOS). Off for a stream continued by a later run
   * of the same session-id.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_END_SESSION_ON_EOS,
      g_param_spec_boolean ("end-session-on-eos", "End session on EOS",
                            "Send endSession after the last chunk at end of stream",
                            DEFAULT_END_SESSION_ON_EOS, RW));
  /**
   * GstWssAudioChunkSink:stats:
   *
   * Counters as a `wss-audio-chunk-sink-stats` structure:
   * * session-id (string): the session, generated when none was set
   * * state (string): the connection, as in wss-audio-chunk-connection
   * * chunks-queued, chunks-sent (first writes), chunks-replayed (further
   *   writes after a connection died), chunks-likely-duplicated (replays of
   *   chunks the peer's TCP had), chunks-confirmed (by ack or by TCP
   *   evidence) (guint64, chunks)
   * * chunks-dropped (guint64, every chunk that will not arrive) and by
   *   reason chunks-dropped-backlog, chunks-dropped-paused,
   *   chunks-dropped-oversize, chunks-given-up (max-attempts),
   *   chunks-refused, chunks-unconfirmed (at EOS or stop) (guint64, chunks)
   * * in-flight-window, unacked-chunks (written, not confirmed), held-chunks
   *   (kept while paused) (guint64, chunks); controls-sent, reconnects
   *   (after a lost connection), handovers (planned moves at
   *   max-connection-age) (guint64)
   * * bytes-sent (guint64, bytes of the frames on the wire), audio-bytes-sent
   *   (guint64, audio bytes)
   * * peer-acks (gboolean, the server sends acks), acks-promised (gboolean,
   *   the current connection's server promised acks in its upgrade
   *   response: only they confirm chunks), acked-index (guint64),
   *   server-errors (guint64, error replies)
   * * latency-p50, latency-p95, latency-p99 (gint64, microseconds from a
   *   chunk's completion to its hand-off to the socket, last 1024 chunks)
   * * backlog-chunks (guint64), backlog-bytes (guint64, audio bytes),
   *   backlog-time (guint64, nanoseconds of audio)
   * * last-error (string)
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
                          "Counters of what was sent, queued and dropped (fields and units: see "
                          "Factory Details, Stats)",
                          GST_TYPE_STRUCTURE,
                          static_cast<GParamFlags> (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  /**
   * GstWssAudioChunkSink:paused:
   *
   * Pause the broadcast: chunks are kept (up to max-pause-time of audio)
   * and sent after resume; `pauseBroadcast` and `resumeBroadcast` tell the
   * server. Settable while PLAYING, like the `pause`/`resume` signals.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_PAUSED,
      g_param_spec_boolean ("paused", "Paused",
                            "Hold chunks and tell the server the broadcast is paused", FALSE,
                            static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
                                                      | GST_PARAM_MUTABLE_PLAYING)));
  /**
   * GstWssAudioChunkSink:muted:
   *
   * Mute the broadcast: audio produced while muted is never sent, not even
   * after unmute (whole clusters are dropped, so the stream stays
   * decodable); `muteBroadcast` and `unmuteBroadcast` tell the server.
   * Settable while PLAYING, like the `mute`/`unmute` signals.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_MUTED,
      g_param_spec_boolean ("muted", "Muted", "Send no audio at all, and tell the server", FALSE,
                            static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
                                                      | GST_PARAM_MUTABLE_PLAYING)));
  /**
   * GstWssAudioChunkSink:max-pause-time:
   *
   * Audio kept while paused, in milliseconds (the browser speaker app kept
   * 5 s); older chunks are dropped, counted and announced. 0: no bound;
   * otherwise 100 to 24 h.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_MAX_PAUSE_TIME,
      g_param_spec_uint ("max-pause-time", "Max pause time",
                         "Milliseconds of audio kept while paused (0 = unbounded, else at least "
                         "100)",
                         0, MAX_LONG_DURATION, DEFAULT_MAX_PAUSE_TIME, RW));

  /**
   * GstWssAudioChunkSink:auth-token:
   *
   * A bearer token for the server (API Gateway authorizers, our receivers'
   * auth-tokens). Write-only, and never logged, posted or put in an error.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_AUTH_TOKEN,
      g_param_spec_string ("auth-token", "Auth token",
                           "Bearer token for the server (write-only, never logged)", NULL,
                           static_cast<GParamFlags> (G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS
                                                     | GST_PARAM_MUTABLE_READY)));
  /**
   * GstWssAudioChunkSink:auth-token-mode:
   *
   * How auth-token is sent: an Authorization header, or a `token` query
   * parameter (shown as `token=***` wherever the URI is printed).
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_AUTH_TOKEN_MODE,
      g_param_spec_enum ("auth-token-mode", "Auth token mode", "How the token is sent",
                         GST_TYPE_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_MODE,
                         GST_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_HEADER, RW));
  /**
   * GstWssAudioChunkSink:ssl-strict:
   *
   * Validate the server's TLS certificate (wss://). Turning it off accepts
   * any certificate and posts a warning: for tests only.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_SSL_STRICT,
      g_param_spec_boolean ("ssl-strict", "SSL strict",
                            "Refuse servers whose TLS certificate does not validate", TRUE, RW));
  /**
   * GstWssAudioChunkSink:ssl-ca-file:
   *
   * A PEM file of CA certificates to validate the server against instead of
   * the system's.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_SSL_CA_FILE,
      g_param_spec_string ("ssl-ca-file", "SSL CA file",
                           "PEM file of trusted CA certificates (instead of the system's)", NULL,
                           RW));
  /**
   * GstWssAudioChunkSink:tls-database:
   *
   * A GTlsDatabase to validate the server against (overrides ssl-ca-file).
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_TLS_DATABASE,
      g_param_spec_object ("tls-database", "TLS database",
                           "GTlsDatabase used to validate the server's certificate",
                           G_TYPE_TLS_DATABASE, RW));

  /**
   * GstWssAudioChunkSink:framing:
   *
   * How audio chunks travel: the original protocol's JSON text with base64
   * audio (the default, what every backend of the browser speaker app
   * understands), or the binary
   * framing our receivers also accept (a third fewer bytes on the wire).
   * Control messages are JSON text either way.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_FRAMING,
      g_param_spec_enum (
          "framing", "Framing", "JSON text (the original protocol) or binary audio messages",
          GST_TYPE_WSS_AUDIO_CHUNK_SINK_FRAMING, GST_WSS_AUDIO_CHUNK_SINK_FRAMING_JSON, RW));

  /**
   * GstWssAudioChunkSink:session-in-uri:
   *
   * Where the session id goes in the URI of the WebSocket upgrade request,
   * so that a load balancer in front of several receivers can send every
   * connection of a session (reconnects included) to the same one; it sees
   * the upgrade request, not the messages. The default, `query`, adds
   * `sessionId=<id>` (percent-encoded) unless the location already has a
   * sessionId parameter: what nginx's `hash $arg_sessionId consistent;`
   * reads. `path` appends `/<id>` to the path; `none` connects to the
   * location as it is. Our receivers ignore both.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_SESSION_IN_URI,
      g_param_spec_enum (
          "session-in-uri", "Session in URI",
          "Where the session id goes in the upgrade request's URI (for load balancers)",
          GST_TYPE_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI, DEFAULT_SESSION_IN_URI, RW));
}
