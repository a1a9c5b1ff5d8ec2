/* GStreamer
 * wssaudiochunksink: streams WebM/Opus in small JSON chunks over a WebSocket.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-wssaudiochunksink
 * @title: wssaudiochunksink
 *
 * Takes the output of `opusenc ! webmmux` (or `oggmux`), cuts it into chunks
 * of #GstWssAudioChunkSink:chunk-duration on WebM cluster boundaries, and
 * sends each as one JSON text message over a WebSocket, exactly as the
 * browser speaker client it replaces does:
 *
 *     {"action":"audioChunk","sessionId":"demo","audioData":"<base64>",
 *      "timestamp":<epoch ms>,"format":"webm-opus","chunkIndex":N,"originalSize":<bytes>}
 *
 * The first chunk begins with the stream header, and every later one with a
 * cluster (unless clusters come too rarely, or a chunk must be cut early to
 * fit #GstWssAudioChunkSink:max-message-size), so a receiver can decode the
 * concatenation. chunkIndex counts from 0 for the life of the element. Network I/O runs on a
 * libsoup thread of its own: the streaming thread never waits on the
 * network. A lost connection is re-established with backoff while chunks wait
 * in a bounded backlog; anything the bound drops is counted in
 * #GstWssAudioChunkSink:stats and announced with a warning naming the lost
 * chunk indices.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 pulsesrc ! audioconvert ! audioresample ! audio/x-raw,rate=16000,channels=1 \
 *   ! opusenc bitrate=16000 ! webmmux streamable=true min-cluster-duration=250000000 \
 *   ! wssaudiochunksink location=ws://127.0.0.1:8080/ws session-id=demo
 * ]|
 *
 * ## Broadcast controls
 * Pause, resume, mute, unmute and end the session four ways: the action
 * signals `pause`, `resume`, `mute`, `unmute`, `end-session` (reason); the
 * #GstWssAudioChunkSink:paused and #GstWssAudioChunkSink:muted properties
 * (while PLAYING); an application message posted on the pipeline's bus; or a
 * custom downstream event travelling in band through the pipeline. Messages
 * and events share one structure:
 * |[
 * wss-audio-chunk-control, action=(string)pause   (pause, resume, mute, unmute, end-session;
 *                                                 reason=(string)..., target=(string)<sink name>)
 * ]|
 * A pause holds chunks (up to #GstWssAudioChunkSink:max-pause-time) and sends
 * them after resume; a mute drops the audio for good (whole clusters, so the
 * stream stays decodable). The server hears `pauseBroadcast`,
 * `resumeBroadcast`, `muteBroadcast`, `unmuteBroadcast` and `endSession`, in
 * order with the chunks around them.
 *
 * ## Messages
 * * `wss-audio-chunk-transmitting`: transmitting, paused, muted (gboolean), on
 *   every change (the seed's setTransmitting).
 * * `wss-audio-chunk-sent`: chunk-index (guint64), size (guint, audio bytes),
 *   encoded-size (guint, bytes of the text frame), timestamp (gint64, epoch ms).
 * * `wss-audio-chunk-stream-start`: session-id, location. Posted once started
 *   (connected, unless #GstWssAudioChunkSink:async-connect is set).
 * * `wss-audio-chunk-stream-stop`: session-id, chunks-sent, chunks-dropped, reason
 *   ("eos", "stopped" or "error").
 * * `wss-audio-chunk-connection`: state ("connecting", "connected",
 *   "reconnecting", "closing", "closed", "failed"), detail.
 * * Dropped chunks post a warning whose details structure is
 *   `wss-audio-chunk-dropped` with first-index, last-index, count, bytes.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwssaudiochunksink.h"
#include "gstwssaudiochunkelements.h"

#include "broadcast-state.h"
#include "chunker.h"
#include "wss-client-transport.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include "bus-messages.h"

GST_DEBUG_CATEGORY_STATIC (gst_wss_audio_chunk_sink_debug);
#define GST_CAT_DEFAULT gst_wss_audio_chunk_sink_debug

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_SESSION_ID,
  PROP_CHUNK_DURATION,
  PROP_FORMAT,
  PROP_EXTRA_HEADERS,
  PROP_USER_AGENT,
  PROP_CONNECT_TIMEOUT,
  PROP_DRAIN_TIMEOUT,
  PROP_KEEPALIVE_INTERVAL,
  PROP_KEEPALIVE_TIMEOUT,
  PROP_ASYNC_CONNECT,
  PROP_MAX_IN_FLIGHT,
  PROP_BACKLOG_POLICY,
  PROP_RETRY_DELAY,
  PROP_MAX_RETRY_DELAY,
  PROP_MAX_RETRIES,
  PROP_MAX_BACKLOG_TIME,
  PROP_MAX_BACKLOG_BYTES,
  PROP_REPLAY_WINDOW,
  PROP_MAX_MESSAGE_SIZE,
  PROP_POST_MESSAGES,
  PROP_END_SESSION_ON_EOS,
  PROP_PAUSED,
  PROP_MUTED,
  PROP_AUTH_TOKEN,
  PROP_AUTH_TOKEN_MODE,
  PROP_SSL_STRICT,
  PROP_SSL_CA_FILE,
  PROP_TLS_DATABASE,
  PROP_FRAMING,
  PROP_MAX_PAUSE_TIME,
  PROP_STATS,
};

#define DEFAULT_LOCATION NULL
#define DEFAULT_SESSION_ID NULL
#define DEFAULT_CHUNK_DURATION (250 * GST_MSECOND)
#define DEFAULT_FORMAT NULL
#define DEFAULT_USER_AGENT "GStreamer wssaudiochunksink " VERSION
#define DEFAULT_CONNECT_TIMEOUT 10
#define DEFAULT_DRAIN_TIMEOUT 10
#define DEFAULT_KEEPALIVE_INTERVAL 10
#define DEFAULT_KEEPALIVE_TIMEOUT 25
#define DEFAULT_ASYNC_CONNECT FALSE
#define DEFAULT_MAX_IN_FLIGHT (64 * 1024)
#define DEFAULT_BACKLOG_POLICY GST_WSS_AUDIO_CHUNK_SINK_BACKLOG_DROP_OLDEST
#define DEFAULT_RETRY_DELAY 500
#define DEFAULT_MAX_RETRY_DELAY 30000
#define DEFAULT_MAX_RETRIES -1
#define DEFAULT_MAX_BACKLOG_TIME (30 * GST_SECOND)
#define DEFAULT_MAX_BACKLOG_BYTES 0
#define DEFAULT_REPLAY_WINDOW (5 * GST_SECOND)
#define DEFAULT_MAX_MESSAGE_SIZE (32 * 1024)
#define DEFAULT_POST_MESSAGES TRUE
#define DEFAULT_END_SESSION_ON_EOS FALSE
#define DEFAULT_MAX_PAUSE_TIME (5 * GST_SECOND)

/**
 * GstWssAudioChunkSinkBacklogPolicy:
 * @GST_WSS_AUDIO_CHUNK_SINK_BACKLOG_DROP_OLDEST: drop the oldest chunks (the
 *   receiver gets the most recent audio)
 * @GST_WSS_AUDIO_CHUNK_SINK_BACKLOG_DROP_NEWEST: drop new chunks (the receiver
 *   gets the audio from the start of the outage)
 *
 * What goes when the backlog is full.
 */
typedef enum
{
  GST_WSS_AUDIO_CHUNK_SINK_BACKLOG_DROP_OLDEST,
  GST_WSS_AUDIO_CHUNK_SINK_BACKLOG_DROP_NEWEST,
} GstWssAudioChunkSinkBacklogPolicy;

#define GST_TYPE_WSS_AUDIO_CHUNK_SINK_BACKLOG_POLICY (gst_wss_audio_chunk_sink_backlog_policy_get_type ())
static GType
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
 */
typedef enum
{
  GST_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_HEADER,
  GST_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_QUERY,
} GstWssAudioChunkSinkAuthTokenMode;

#define GST_TYPE_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_MODE (gst_wss_audio_chunk_sink_auth_token_mode_get_type ())
static GType
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
 * @GST_WSS_AUDIO_CHUNK_SINK_FRAMING_JSON: the seed's JSON text message with base64 audio
 * @GST_WSS_AUDIO_CHUNK_SINK_FRAMING_BINARY: one binary message: "WSAC", a JSON
 *   header, the raw audio (docs/protocol.md); a third fewer bytes
 */
typedef enum
{
  GST_WSS_AUDIO_CHUNK_SINK_FRAMING_JSON,
  GST_WSS_AUDIO_CHUNK_SINK_FRAMING_BINARY,
} GstWssAudioChunkSinkFraming;

#define GST_TYPE_WSS_AUDIO_CHUNK_SINK_FRAMING (gst_wss_audio_chunk_sink_framing_get_type ())
static GType
gst_wss_audio_chunk_sink_framing_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_WSS_AUDIO_CHUNK_SINK_FRAMING_JSON, "JSON text, base64 audio (the seed's)", "json" },
    { GST_WSS_AUDIO_CHUNK_SINK_FRAMING_BINARY, "Binary: JSON header and raw audio", "binary" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstWssAudioChunkSinkFraming", values));
  return type;
}

namespace
{

/* Property values, copied at start(). */
struct Settings
{
  std::string location;
  std::string session_id;
  GstClockTime chunk_duration = DEFAULT_CHUNK_DURATION;
  std::string format;
  GstStructure *extra_headers = nullptr;
  std::string user_agent = DEFAULT_USER_AGENT;
  guint connect_timeout = DEFAULT_CONNECT_TIMEOUT;
  guint drain_timeout = DEFAULT_DRAIN_TIMEOUT;
  guint keepalive_interval = DEFAULT_KEEPALIVE_INTERVAL;
  guint keepalive_timeout = DEFAULT_KEEPALIVE_TIMEOUT;
  gboolean async_connect = DEFAULT_ASYNC_CONNECT;
  guint max_in_flight = DEFAULT_MAX_IN_FLIGHT;
  gint backlog_policy = DEFAULT_BACKLOG_POLICY;
  guint retry_delay = DEFAULT_RETRY_DELAY;
  guint max_retry_delay = DEFAULT_MAX_RETRY_DELAY;
  gint max_retries = DEFAULT_MAX_RETRIES;
  GstClockTime max_backlog_time = DEFAULT_MAX_BACKLOG_TIME;
  guint64 max_backlog_bytes = DEFAULT_MAX_BACKLOG_BYTES;
  GstClockTime replay_window = DEFAULT_REPLAY_WINDOW;
  guint max_message_size = DEFAULT_MAX_MESSAGE_SIZE;
  gboolean post_messages = DEFAULT_POST_MESSAGES;
  gboolean end_session_on_eos = DEFAULT_END_SESSION_ON_EOS;
  gboolean paused = FALSE;
  gboolean muted = FALSE;
  GstClockTime max_pause_time = DEFAULT_MAX_PAUSE_TIME;
  std::string auth_token;
  gint auth_token_mode = GST_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_HEADER;
  gboolean ssl_strict = TRUE;
  std::string ssl_ca_file;
  GTlsDatabase *tls_database = nullptr;
  gint framing = GST_WSS_AUDIO_CHUNK_SINK_FRAMING_JSON;
};

enum class Control
{
  Pause,
  Resume,
  Mute,
  Unmute,
  End,
};

/* What a locked section decided, reported once the lock is released (bus
 * messages go out without holding it). */
struct Pending
{
  std::vector<wssac::DropRange> drops;
  bool transmitting_changed = false;
};

} // namespace

struct _GstWssAudioChunkSinkPrivate
{
  std::mutex settings_lock;
  Settings settings;

  /* Streaming state, touched by the streaming thread and start/stop. */
  std::unique_ptr<wssac::Chunker> chunker;
  std::unique_ptr<wssac::WssClientTransport> transport;
  std::string caps_format;
  std::string session_id; /* copied at start */
  std::string location;
  guint64 next_index = 0; /* for the life of the element, across restarts */
  gboolean post_messages = TRUE;
  gboolean warned_time_cuts = FALSE;
  gboolean stream_stopped = FALSE;
  gboolean header_passed = FALSE; /* the transport has the stream header */
  std::atomic<bool> fatal{ false };

  /* Chunker, broadcast state and the order of what enters the transport:
   * the streaming thread and the control paths (signals, properties, bus,
   * events) take it in turn. */
  std::mutex stream_lock;
  wssac::BroadcastState broadcast;
  GstBus *watched_bus = nullptr;
  gulong bus_handler = 0;
  std::atomic<int> posted_transmitting{ -1 }; /* last value posted, -1 none */
};

/* Action signals */
enum
{
  SIGNAL_PAUSE,
  SIGNAL_RESUME,
  SIGNAL_MUTE,
  SIGNAL_UNMUTE,
  SIGNAL_END_SESSION,
  LAST_SIGNAL
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/webm; video/webm; audio/ogg"));

static void gst_wss_audio_chunk_sink_uri_handler_init (gpointer g_iface, gpointer iface_data);
static void control (GstWssAudioChunkSink *self, Control c, const std::string &reason);
static void post_transmitting (GstWssAudioChunkSink *self, gboolean transmitting, gboolean paused, gboolean muted);
static void watch_pipeline_bus (GstWssAudioChunkSink *self);
static void unwatch_pipeline_bus (GstWssAudioChunkSink *self);

#define gst_wss_audio_chunk_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstWssAudioChunkSink, gst_wss_audio_chunk_sink, GST_TYPE_BASE_SINK,
    G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER, gst_wss_audio_chunk_sink_uri_handler_init));
GST_ELEMENT_REGISTER_DEFINE (wssaudiochunksink, "wssaudiochunksink", GST_RANK_NONE,
    GST_TYPE_WSS_AUDIO_CHUNK_SINK);

static void gst_wss_audio_chunk_sink_finalize (GObject *object);
static void gst_wss_audio_chunk_sink_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec);
static void gst_wss_audio_chunk_sink_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec);
static gboolean gst_wss_audio_chunk_sink_start (GstBaseSink *sink);
static gboolean gst_wss_audio_chunk_sink_stop (GstBaseSink *sink);
static gboolean gst_wss_audio_chunk_sink_set_caps (GstBaseSink *sink, GstCaps *caps);
static GstFlowReturn gst_wss_audio_chunk_sink_render (GstBaseSink *sink, GstBuffer *buffer);
static gboolean gst_wss_audio_chunk_sink_event (GstBaseSink *sink, GstEvent *event);
static gboolean gst_wss_audio_chunk_sink_unlock (GstBaseSink *sink);
static gboolean gst_wss_audio_chunk_sink_unlock_stop (GstBaseSink *sink);

static constexpr GParamFlags RW = static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
                                                           | GST_PARAM_MUTABLE_READY);

static void
gst_wss_audio_chunk_sink_class_init (GstWssAudioChunkSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_wss_audio_chunk_sink_finalize;
  gobject_class->set_property = gst_wss_audio_chunk_sink_set_property;
  gobject_class->get_property = gst_wss_audio_chunk_sink_get_property;

  /**
   * GstWssAudioChunkSink:location:
   *
   * The WebSocket server to stream to: a ws:// or wss:// URI.
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "WebSocket URI to stream to (ws:// or wss://)", DEFAULT_LOCATION, RW));
  /**
   * GstWssAudioChunkSink:session-id:
   *
   * The session every chunk belongs to (the message's sessionId). Required.
   */
  g_object_class_install_property (gobject_class, PROP_SESSION_ID,
      g_param_spec_string ("session-id", "Session ID",
          "Session identifier put in every message (required)", DEFAULT_SESSION_ID, RW));
  /**
   * GstWssAudioChunkSink:chunk-duration:
   *
   * Media time per chunk. A chunk closes at the first cluster start once it
   * holds this much; set webmmux min-cluster-duration to match.
   */
  g_object_class_install_property (gobject_class, PROP_CHUNK_DURATION,
      g_param_spec_uint64 ("chunk-duration", "Chunk duration",
          "Media time per chunk in nanoseconds; chunks close on the next cluster start",
          wssac::Chunker::kMinChunkDuration, wssac::Chunker::kMaxChunkDuration, DEFAULT_CHUNK_DURATION,
          RW));
  /**
   * GstWssAudioChunkSink:format:
   *
   * The message's format field. Empty: "webm-opus" for WebM caps, "ogg-opus"
   * for Ogg caps.
   */
  g_object_class_install_property (gobject_class, PROP_FORMAT,
      g_param_spec_string ("format", "Format",
          "Value of the messages' format field (empty: webm-opus or ogg-opus from the caps)",
          DEFAULT_FORMAT, RW));
  /**
   * GstWssAudioChunkSink:extra-headers:
   *
   * Extra HTTP headers for the WebSocket upgrade request, one field per
   * header (as souphttpsrc's extra-headers). Values that are not strings are
   * serialized; arrays and lists add the header once per element.
   */
  g_object_class_install_property (gobject_class, PROP_EXTRA_HEADERS,
      g_param_spec_boxed ("extra-headers", "Extra headers",
          "Extra HTTP headers for the upgrade request (GstStructure, one field per header)",
          GST_TYPE_STRUCTURE, RW));
  /**
   * GstWssAudioChunkSink:user-agent:
   *
   * The User-Agent header of the upgrade request.
   */
  g_object_class_install_property (gobject_class, PROP_USER_AGENT,
      g_param_spec_string ("user-agent", "User-Agent", "User-Agent of the upgrade request",
          DEFAULT_USER_AGENT, RW));
  /**
   * GstWssAudioChunkSink:connect-timeout:
   *
   * Seconds to wait for a connection (TCP, TLS and upgrade) before the
   * attempt counts as failed.
   */
  g_object_class_install_property (gobject_class, PROP_CONNECT_TIMEOUT,
      g_param_spec_uint ("connect-timeout", "Connect timeout",
          "Seconds to wait for a connection attempt", 1, 3600, DEFAULT_CONNECT_TIMEOUT, RW));
  /**
   * GstWssAudioChunkSink:drain-timeout:
   *
   * Seconds to wait at EOS for the backlog to go out and the close handshake
   * to finish. What is still queued after that is reported as dropped.
   */
  g_object_class_install_property (gobject_class, PROP_DRAIN_TIMEOUT,
      g_param_spec_uint ("drain-timeout", "Drain timeout",
          "Seconds to wait at EOS for queued chunks to be sent", 0, 3600, DEFAULT_DRAIN_TIMEOUT, RW));
  /**
   * GstWssAudioChunkSink:keepalive-interval:
   *
   * Seconds between WebSocket pings (0 disables them). Gateways close idle
   * connections (API Gateway after 10 minutes).
   */
  g_object_class_install_property (gobject_class, PROP_KEEPALIVE_INTERVAL,
      g_param_spec_uint ("keepalive-interval", "Keepalive interval",
          "Seconds between WebSocket pings (0 = none)", 0, 3600, DEFAULT_KEEPALIVE_INTERVAL, RW));
  /**
   * GstWssAudioChunkSink:keepalive-timeout:
   *
   * Seconds without a pong or any message from the server after which the
   * connection is taken for dead and replaced (0 disables the check). Keep
   * it above twice keepalive-interval.
   */
  g_object_class_install_property (gobject_class, PROP_KEEPALIVE_TIMEOUT,
      g_param_spec_uint ("keepalive-timeout", "Keepalive timeout",
          "Seconds of silence from the server before the connection is replaced (0 = never)", 0, 3600,
          DEFAULT_KEEPALIVE_TIMEOUT, RW));
  /**
   * GstWssAudioChunkSink:async-connect:
   *
   * When false (the default) the element does not start unless its first
   * connection succeeds, so a wrong location fails at once. When true it
   * starts at once, keeps audio in the backlog, and retries the connection
   * like a lost one.
   */
  g_object_class_install_property (gobject_class, PROP_ASYNC_CONNECT,
      g_param_spec_boolean ("async-connect", "Async connect",
          "Start without waiting for the first connection (retry it in the background)",
          DEFAULT_ASYNC_CONNECT, RW));
  /**
   * GstWssAudioChunkSink:max-in-flight:
   *
   * Bytes written to the socket but not yet taken by the server (the kernel's
   * send queue) above which sending pauses, so that a slow server grows the
   * bounded backlog and never libsoup's unbounded output queue. 0: no limit.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_IN_FLIGHT,
      g_param_spec_uint ("max-in-flight", "Max in flight",
          "Unsent socket bytes above which sending pauses (0 = no limit)", 0, G_MAXINT,
          DEFAULT_MAX_IN_FLIGHT, RW));
  /**
   * GstWssAudioChunkSink:backlog-policy:
   *
   * Which chunks are dropped when the backlog is full.
   */
  g_object_class_install_property (gobject_class, PROP_BACKLOG_POLICY,
      g_param_spec_enum ("backlog-policy", "Backlog policy", "What to drop when the backlog is full",
          GST_TYPE_WSS_AUDIO_CHUNK_SINK_BACKLOG_POLICY, DEFAULT_BACKLOG_POLICY, RW));
  /**
   * GstWssAudioChunkSink:retry-delay:
   *
   * Milliseconds before the first reconnection attempt; each further attempt
   * waits twice as long (with +-20 % jitter) up to max-retry-delay.
   */
  g_object_class_install_property (gobject_class, PROP_RETRY_DELAY,
      g_param_spec_uint ("retry-delay", "Retry delay",
          "Milliseconds before the first reconnection attempt", 0, 600000, DEFAULT_RETRY_DELAY, RW));
  /**
   * GstWssAudioChunkSink:max-retry-delay:
   *
   * Upper bound of the delay between reconnection attempts, in milliseconds.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_RETRY_DELAY,
      g_param_spec_uint ("max-retry-delay", "Max retry delay",
          "Longest wait between reconnection attempts in milliseconds", 0, 3600000,
          DEFAULT_MAX_RETRY_DELAY, RW));
  /**
   * GstWssAudioChunkSink:max-retries:
   *
   * Reconnection attempts after a lost connection before the element posts
   * an error: -1 retries forever, 0 never. (The very first connection is not
   * retried: a wrong location or a server that is not there fails start-up.)
   */
  g_object_class_install_property (gobject_class, PROP_MAX_RETRIES,
      g_param_spec_int ("max-retries", "Max retries",
          "Reconnection attempts before giving up (-1 = forever)", -1, G_MAXINT, DEFAULT_MAX_RETRIES,
          RW));
  /**
   * GstWssAudioChunkSink:max-backlog-time:
   *
   * Audio kept while the connection is down or slow, in nanoseconds of media
   * time (0: no time bound). Past it the oldest chunks are dropped, counted
   * and announced.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_BACKLOG_TIME,
      g_param_spec_uint64 ("max-backlog-time", "Max backlog time",
          "Nanoseconds of audio kept while disconnected (0 = unbounded by time)", 0, G_MAXUINT64,
          DEFAULT_MAX_BACKLOG_TIME, RW));
  /**
   * GstWssAudioChunkSink:max-backlog-bytes:
   *
   * Audio bytes kept while the connection is down or slow (0: no byte bound).
   */
  g_object_class_install_property (gobject_class, PROP_MAX_BACKLOG_BYTES,
      g_param_spec_uint64 ("max-backlog-bytes", "Max backlog bytes",
          "Audio bytes kept while disconnected (0 = unbounded by size)", 0, G_MAXUINT64,
          DEFAULT_MAX_BACKLOG_BYTES, RW));
  /**
   * GstWssAudioChunkSink:replay-window:
   *
   * After a reconnect, chunks handed to the previous connection within this
   * many nanoseconds before it died are sent again (the receiver drops
   * duplicates by chunkIndex): data in a dead socket's buffers never arrives.
   * 0 disables replay.
   */
  g_object_class_install_property (gobject_class, PROP_REPLAY_WINDOW,
      g_param_spec_uint64 ("replay-window", "Replay window",
          "Nanoseconds of recently sent chunks re-sent after a reconnect (0 = none)", 0,
          600 * GST_SECOND, DEFAULT_REPLAY_WINDOW, RW));
  /**
   * GstWssAudioChunkSink:max-message-size:
   *
   * Largest text frame ever sent, in bytes (API Gateway closes a connection
   * on a frame over 32 KB). A chunk that would encode larger is dropped with
   * a warning; lower chunk-duration if that happens.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_MESSAGE_SIZE,
      g_param_spec_uint ("max-message-size", "Max message size",
          "Largest text frame sent, in bytes", 1024, 16 * 1024 * 1024, DEFAULT_MAX_MESSAGE_SIZE, RW));
  /**
   * GstWssAudioChunkSink:post-messages:
   *
   * Whether to post a `wss-audio-chunk-sent` element message per chunk.
   */
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post a wss-audio-chunk-sent element message for every chunk sent", DEFAULT_POST_MESSAGES,
          static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
                                    | GST_PARAM_MUTABLE_PLAYING)));
  /**
   * GstWssAudioChunkSink:end-session-on-eos:
   *
   * Whether the end of the stream also ends the session: an `endSession`
   * message (reason "end of stream") goes out after the last chunk, so a
   * receiver finalizes at once instead of waiting for a reconnect.
   */
  g_object_class_install_property (gobject_class, PROP_END_SESSION_ON_EOS,
      g_param_spec_boolean ("end-session-on-eos", "End session on EOS",
          "Send endSession after the last chunk at end of stream", DEFAULT_END_SESSION_ON_EOS, RW));
  /**
   * GstWssAudioChunkSink:stats:
   *
   * Counters as a `wss-audio-chunk-sink-stats` structure: state,
   * chunks-queued, chunks-sent, chunks-replayed, chunks-dropped, bytes-sent,
   * audio-bytes-sent, controls-sent, reconnects, peer-acks (the server sends
   * acks), acked-index, unacked-chunks, server-errors (error replies),
   * latency-p50/p95/p99 (microseconds from a chunk's completion to its
   * hand-off to the socket, last 1024 chunks), backlog-chunks,
   * backlog-bytes, backlog-time (ns), last-error.
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics", "Counters of what was sent, queued and dropped",
          GST_TYPE_STRUCTURE, static_cast<GParamFlags> (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  /**
   * GstWssAudioChunkSink:paused:
   *
   * Pause the broadcast: chunks are kept (up to max-pause-time of audio)
   * and sent after resume; `pauseBroadcast` and `resumeBroadcast` tell the
   * server. Settable while PLAYING, like the `pause`/`resume` signals.
   */
  g_object_class_install_property (gobject_class, PROP_PAUSED,
      g_param_spec_boolean ("paused", "Paused", "Hold chunks and tell the server the broadcast is paused", FALSE,
          static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)));
  /**
   * GstWssAudioChunkSink:muted:
   *
   * Mute the broadcast: audio produced while muted is never sent, not even
   * after unmute (whole clusters are dropped, so the stream stays
   * decodable); `muteBroadcast` and `unmuteBroadcast` tell the server.
   * Settable while PLAYING, like the `mute`/`unmute` signals.
   */
  g_object_class_install_property (gobject_class, PROP_MUTED,
      g_param_spec_boolean ("muted", "Muted", "Send no audio at all, and tell the server", FALSE,
          static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)));
  /**
   * GstWssAudioChunkSink:max-pause-time:
   *
   * Audio kept while paused, in nanoseconds (the seed kept 5 s); older
   * chunks are dropped, counted and announced. 0: no bound.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_PAUSE_TIME,
      g_param_spec_uint64 ("max-pause-time", "Max pause time",
          "Nanoseconds of audio kept while paused (0 = unbounded)", 0, G_MAXUINT64, DEFAULT_MAX_PAUSE_TIME, RW));

  /**
   * GstWssAudioChunkSink:auth-token:
   *
   * A bearer token for the server (API Gateway authorizers, our receivers'
   * auth-tokens). Write-only, and never logged, posted or put in an error.
   */
  g_object_class_install_property (gobject_class, PROP_AUTH_TOKEN,
      g_param_spec_string ("auth-token", "Auth token", "Bearer token for the server (write-only, never logged)", NULL,
          static_cast<GParamFlags> (G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  /**
   * GstWssAudioChunkSink:auth-token-mode:
   *
   * How auth-token is sent: an Authorization header, or a `token` query
   * parameter (shown as `token=***` wherever the URI is printed).
   */
  g_object_class_install_property (gobject_class, PROP_AUTH_TOKEN_MODE,
      g_param_spec_enum ("auth-token-mode", "Auth token mode", "How the token is sent",
          GST_TYPE_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_MODE, GST_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_HEADER, RW));
  /**
   * GstWssAudioChunkSink:ssl-strict:
   *
   * Validate the server's TLS certificate (wss://). Turning it off accepts
   * any certificate and posts a warning: for tests only.
   */
  g_object_class_install_property (gobject_class, PROP_SSL_STRICT,
      g_param_spec_boolean ("ssl-strict", "SSL strict", "Refuse servers whose TLS certificate does not validate",
          TRUE, RW));
  /**
   * GstWssAudioChunkSink:ssl-ca-file:
   *
   * A PEM file of CA certificates to validate the server against instead of
   * the system's.
   */
  g_object_class_install_property (gobject_class, PROP_SSL_CA_FILE,
      g_param_spec_string ("ssl-ca-file", "SSL CA file", "PEM file of trusted CA certificates (instead of the system's)",
          NULL, RW));
  /**
   * GstWssAudioChunkSink:tls-database:
   *
   * A GTlsDatabase to validate the server against (overrides ssl-ca-file).
   */
  g_object_class_install_property (gobject_class, PROP_TLS_DATABASE,
      g_param_spec_object ("tls-database", "TLS database", "GTlsDatabase used to validate the server's certificate",
          G_TYPE_TLS_DATABASE, RW));

  /**
   * GstWssAudioChunkSink:framing:
   *
   * How audio chunks travel: the seed's JSON text with base64 audio (the
   * default, what every backend of the seed understands), or the binary
   * framing our receivers also accept (a third fewer bytes on the wire).
   * Control messages are JSON text either way.
   */
  g_object_class_install_property (gobject_class, PROP_FRAMING,
      g_param_spec_enum ("framing", "Framing", "JSON text (the seed's) or binary audio messages",
          GST_TYPE_WSS_AUDIO_CHUNK_SINK_FRAMING, GST_WSS_AUDIO_CHUNK_SINK_FRAMING_JSON, RW));

  /**
   * GstWssAudioChunkSink::pause:
   *
   * Action signal: pause the broadcast (see #GstWssAudioChunkSink:paused).
   */
  g_signal_new_class_handler ("pause", G_TYPE_FROM_CLASS (klass),
      static_cast<GSignalFlags> (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (+[] (GstWssAudioChunkSink *self) { control (self, Control::Pause, ""); }), NULL, NULL, NULL,
      G_TYPE_NONE, 0);
  /**
   * GstWssAudioChunkSink::resume:
   *
   * Action signal: resume a paused broadcast; the kept chunks go out first.
   */
  g_signal_new_class_handler ("resume", G_TYPE_FROM_CLASS (klass),
      static_cast<GSignalFlags> (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (+[] (GstWssAudioChunkSink *self) { control (self, Control::Resume, ""); }), NULL, NULL, NULL,
      G_TYPE_NONE, 0);
  /**
   * GstWssAudioChunkSink::mute:
   *
   * Action signal: mute (see #GstWssAudioChunkSink:muted).
   */
  g_signal_new_class_handler ("mute", G_TYPE_FROM_CLASS (klass),
      static_cast<GSignalFlags> (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (+[] (GstWssAudioChunkSink *self) { control (self, Control::Mute, ""); }), NULL, NULL, NULL,
      G_TYPE_NONE, 0);
  /**
   * GstWssAudioChunkSink::unmute:
   *
   * Action signal: unmute; audio resumes at the next cluster.
   */
  g_signal_new_class_handler ("unmute", G_TYPE_FROM_CLASS (klass),
      static_cast<GSignalFlags> (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (+[] (GstWssAudioChunkSink *self) { control (self, Control::Unmute, ""); }), NULL, NULL, NULL,
      G_TYPE_NONE, 0);
  /**
   * GstWssAudioChunkSink::end-session:
   * @reason: why, for the server (the seed sends "Speaker ended session")
   *
   * Action signal: send what is queued, then `endSession` with @reason, then
   * close the connection; the element accepts no more audio (render returns
   * EOS, so the pipeline ends).
   */
  g_signal_new_class_handler ("end-session", G_TYPE_FROM_CLASS (klass),
      static_cast<GSignalFlags> (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (+[] (GstWssAudioChunkSink *self, const gchar *reason) {
        control (self, Control::End, reason ? reason : "");
      }),
      NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "WebSocket audio chunk sink", "Sink/Network",
      "Streams WebM/Opus audio in JSON chunks over a WebSocket (libsoup)",
      "wssaudiochunk developers");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_sink_stop);
  basesink_class->set_caps = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_sink_set_caps);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_sink_render);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_sink_event);
  basesink_class->unlock = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_sink_unlock);
  basesink_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_sink_unlock_stop);

  GST_DEBUG_CATEGORY_INIT (gst_wss_audio_chunk_sink_debug, "wssaudiochunksink", 0,
      "WebSocket audio chunk sink");
}

static void
gst_wss_audio_chunk_sink_init (GstWssAudioChunkSink *self)
{
  self->priv = new GstWssAudioChunkSinkPrivate ();
  /* Clock sync paces a file source like a live one; a live source is
   * unaffected. Preroll is pointless for a network sink. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), TRUE);
}

static void
gst_wss_audio_chunk_sink_finalize (GObject *object)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (object);
  if (self->priv->settings.extra_headers)
    gst_structure_free (self->priv->settings.extra_headers);
  g_clear_object (&self->priv->settings.tls_database);
  delete self->priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static std::string
str_or_empty (const gchar *s)
{
  return s ? std::string (s) : std::string ();
}

static void
gst_wss_audio_chunk_sink_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (object);
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  if (prop_id == PROP_PAUSED || prop_id == PROP_MUTED)
    {
      /* control() takes the stream lock and records the state itself. */
      gboolean on = g_value_get_boolean (value);
      control (self,
          prop_id == PROP_PAUSED ? (on ? Control::Pause : Control::Resume) : (on ? Control::Mute : Control::Unmute),
          "");
      return;
    }
  std::lock_guard<std::mutex> g (priv->settings_lock);
  Settings &s = priv->settings;

  switch (prop_id)
    {
    case PROP_LOCATION:
      s.location = str_or_empty (g_value_get_string (value));
      break;
    case PROP_SESSION_ID:
      s.session_id = str_or_empty (g_value_get_string (value));
      break;
    case PROP_CHUNK_DURATION:
      s.chunk_duration = g_value_get_uint64 (value);
      break;
    case PROP_FORMAT:
      s.format = str_or_empty (g_value_get_string (value));
      break;
    case PROP_EXTRA_HEADERS:
      {
        const GstStructure *st = gst_value_get_structure (value);
        if (s.extra_headers)
          gst_structure_free (s.extra_headers);
        s.extra_headers = st ? gst_structure_copy (st) : nullptr;
        break;
      }
    case PROP_USER_AGENT:
      s.user_agent = str_or_empty (g_value_get_string (value));
      break;
    case PROP_CONNECT_TIMEOUT:
      s.connect_timeout = g_value_get_uint (value);
      break;
    case PROP_DRAIN_TIMEOUT:
      s.drain_timeout = g_value_get_uint (value);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      s.keepalive_interval = g_value_get_uint (value);
      break;
    case PROP_KEEPALIVE_TIMEOUT:
      s.keepalive_timeout = g_value_get_uint (value);
      break;
    case PROP_ASYNC_CONNECT:
      s.async_connect = g_value_get_boolean (value);
      break;
    case PROP_MAX_IN_FLIGHT:
      s.max_in_flight = g_value_get_uint (value);
      break;
    case PROP_BACKLOG_POLICY:
      s.backlog_policy = g_value_get_enum (value);
      break;
    case PROP_RETRY_DELAY:
      s.retry_delay = g_value_get_uint (value);
      break;
    case PROP_MAX_RETRY_DELAY:
      s.max_retry_delay = g_value_get_uint (value);
      break;
    case PROP_MAX_RETRIES:
      s.max_retries = g_value_get_int (value);
      break;
    case PROP_MAX_BACKLOG_TIME:
      s.max_backlog_time = g_value_get_uint64 (value);
      break;
    case PROP_MAX_BACKLOG_BYTES:
      s.max_backlog_bytes = g_value_get_uint64 (value);
      break;
    case PROP_REPLAY_WINDOW:
      s.replay_window = g_value_get_uint64 (value);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      s.max_message_size = g_value_get_uint (value);
      break;
    case PROP_POST_MESSAGES:
      s.post_messages = g_value_get_boolean (value);
      priv->post_messages = s.post_messages;
      break;
    case PROP_END_SESSION_ON_EOS:
      s.end_session_on_eos = g_value_get_boolean (value);
      break;
    case PROP_MAX_PAUSE_TIME:
      s.max_pause_time = g_value_get_uint64 (value);
      break;
    case PROP_AUTH_TOKEN:
      s.auth_token = str_or_empty (g_value_get_string (value));
      break;
    case PROP_AUTH_TOKEN_MODE:
      s.auth_token_mode = g_value_get_enum (value);
      break;
    case PROP_SSL_STRICT:
      s.ssl_strict = g_value_get_boolean (value);
      break;
    case PROP_SSL_CA_FILE:
      s.ssl_ca_file = str_or_empty (g_value_get_string (value));
      break;
    case PROP_FRAMING:
      s.framing = g_value_get_enum (value);
      break;
    case PROP_TLS_DATABASE:
      g_clear_object (&s.tls_database);
      s.tls_database = static_cast<GTlsDatabase *> (g_value_dup_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

static GstStructure *
make_stats (GstWssAudioChunkSink *self)
{
  wssac::TransportStats t;
  if (self->priv->transport)
    t = self->priv->transport->stats ();
  return gst_structure_new (wssac::bus::kSinkStats,
      "state", G_TYPE_STRING, wssac::connection_state_name (t.state),
      "chunks-queued", G_TYPE_UINT64, (guint64) t.chunks_queued,
      "chunks-sent", G_TYPE_UINT64, (guint64) t.chunks_sent,
      "chunks-replayed", G_TYPE_UINT64, (guint64) t.chunks_replayed,
      "chunks-dropped", G_TYPE_UINT64, (guint64) t.chunks_dropped,
      "bytes-sent", G_TYPE_UINT64, (guint64) t.bytes_sent,
      "audio-bytes-sent", G_TYPE_UINT64, (guint64) t.audio_bytes_sent,
      "controls-sent", G_TYPE_UINT64, (guint64) t.controls_sent,
      "reconnects", G_TYPE_UINT64, (guint64) t.reconnects,
      "peer-acks", G_TYPE_BOOLEAN, (gboolean) t.peer_acks,
      "acked-index", G_TYPE_UINT64, (guint64) t.acked_index,
      "unacked-chunks", G_TYPE_UINT64, (guint64) t.unacked_chunks,
      "server-errors", G_TYPE_UINT64, (guint64) t.server_errors,
      "latency-p50", G_TYPE_INT64, (gint64) t.latency_p50_us,
      "latency-p95", G_TYPE_INT64, (gint64) t.latency_p95_us,
      "latency-p99", G_TYPE_INT64, (gint64) t.latency_p99_us,
      "backlog-chunks", G_TYPE_UINT64, (guint64) t.backlog_chunks,
      "backlog-bytes", G_TYPE_UINT64, (guint64) t.backlog_bytes,
      "backlog-time", G_TYPE_UINT64, (guint64) t.backlog_time_ns,
      "last-error", G_TYPE_STRING, t.last_error.c_str (), NULL);
}

static void
gst_wss_audio_chunk_sink_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (object);
  GstWssAudioChunkSinkPrivate *priv = self->priv;

  if (prop_id == PROP_STATS)
    {
      g_value_take_boxed (value, make_stats (self));
      return;
    }

  std::lock_guard<std::mutex> g (priv->settings_lock);
  const Settings &s = priv->settings;
  auto set_str = [value] (const std::string &v) {
    g_value_set_string (value, v.empty () ? nullptr : v.c_str ());
  };
  switch (prop_id)
    {
    case PROP_LOCATION:
      set_str (s.location);
      break;
    case PROP_SESSION_ID:
      set_str (s.session_id);
      break;
    case PROP_CHUNK_DURATION:
      g_value_set_uint64 (value, s.chunk_duration);
      break;
    case PROP_FORMAT:
      set_str (s.format);
      break;
    case PROP_EXTRA_HEADERS:
      gst_value_set_structure (value, s.extra_headers);
      break;
    case PROP_USER_AGENT:
      set_str (s.user_agent);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, s.connect_timeout);
      break;
    case PROP_DRAIN_TIMEOUT:
      g_value_set_uint (value, s.drain_timeout);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      g_value_set_uint (value, s.keepalive_interval);
      break;
    case PROP_KEEPALIVE_TIMEOUT:
      g_value_set_uint (value, s.keepalive_timeout);
      break;
    case PROP_ASYNC_CONNECT:
      g_value_set_boolean (value, s.async_connect);
      break;
    case PROP_MAX_IN_FLIGHT:
      g_value_set_uint (value, s.max_in_flight);
      break;
    case PROP_BACKLOG_POLICY:
      g_value_set_enum (value, s.backlog_policy);
      break;
    case PROP_RETRY_DELAY:
      g_value_set_uint (value, s.retry_delay);
      break;
    case PROP_MAX_RETRY_DELAY:
      g_value_set_uint (value, s.max_retry_delay);
      break;
    case PROP_MAX_RETRIES:
      g_value_set_int (value, s.max_retries);
      break;
    case PROP_MAX_BACKLOG_TIME:
      g_value_set_uint64 (value, s.max_backlog_time);
      break;
    case PROP_MAX_BACKLOG_BYTES:
      g_value_set_uint64 (value, s.max_backlog_bytes);
      break;
    case PROP_REPLAY_WINDOW:
      g_value_set_uint64 (value, s.replay_window);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint (value, s.max_message_size);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, s.post_messages);
      break;
    case PROP_END_SESSION_ON_EOS:
      g_value_set_boolean (value, s.end_session_on_eos);
      break;
    case PROP_MAX_PAUSE_TIME:
      g_value_set_uint64 (value, s.max_pause_time);
      break;
    case PROP_AUTH_TOKEN_MODE:
      g_value_set_enum (value, s.auth_token_mode);
      break;
    case PROP_SSL_STRICT:
      g_value_set_boolean (value, s.ssl_strict);
      break;
    case PROP_SSL_CA_FILE:
      set_str (s.ssl_ca_file);
      break;
    case PROP_TLS_DATABASE:
      g_value_set_object (value, s.tls_database);
      break;
    case PROP_FRAMING:
      g_value_set_enum (value, s.framing);
      break;
    case PROP_PAUSED:
      g_value_set_boolean (value, s.paused);
      break;
    case PROP_MUTED:
      g_value_set_boolean (value, s.muted);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

/* ---- header helpers ---- */

static void
append_header_value (std::vector<std::pair<std::string, std::string>> &out, const char *name,
    const GValue *v)
{
  if (GST_VALUE_HOLDS_ARRAY (v) || GST_VALUE_HOLDS_LIST (v))
    {
      guint n = GST_VALUE_HOLDS_ARRAY (v) ? gst_value_array_get_size (v) : gst_value_list_get_size (v);
      for (guint i = 0; i < n; i++)
        append_header_value (out, name,
            GST_VALUE_HOLDS_ARRAY (v) ? gst_value_array_get_value (v, i) : gst_value_list_get_value (v, i));
      return;
    }
  if (G_VALUE_HOLDS_STRING (v))
    {
      out.emplace_back (name, str_or_empty (g_value_get_string (v)));
      return;
    }
  gchar *s = gst_value_serialize (v);
  out.emplace_back (name, str_or_empty (s));
  g_free (s);
}

static gboolean
collect_header (GQuark field, const GValue *value, gpointer data)
{
  auto *out = static_cast<std::vector<std::pair<std::string, std::string>> *> (data);
  append_header_value (*out, g_quark_to_string (field), value);
  return TRUE;
}

/* Checks the location before any network activity, so a typo gets an
 * error that says what is wrong with it. */
static gboolean
validate_location (const std::string &location, std::string &why)
{
  if (location.empty ())
    {
      why = "No location set: set the location property to a ws:// or wss:// URI";
      return FALSE;
    }
  GError *err = nullptr;
  GUri *uri = g_uri_parse (location.c_str (), G_URI_FLAGS_NONE, &err);
  if (!uri)
    {
      why = "Invalid location \"" + location + "\": " + err->message;
      g_error_free (err);
      return FALSE;
    }
  std::string scheme = str_or_empty (g_uri_get_scheme (uri));
  std::string host = str_or_empty (g_uri_get_host (uri));
  g_uri_unref (uri);
  if (g_ascii_strcasecmp (scheme.c_str (), "ws") != 0 && g_ascii_strcasecmp (scheme.c_str (), "wss") != 0)
    {
      why = "Invalid location \"" + location + "\": the scheme must be ws:// or wss://";
      return FALSE;
    }
  if (host.empty ())
    {
      why = "Invalid location \"" + location + "\": no host";
      return FALSE;
    }
  return TRUE;
}

/* ---- bus messages (any thread) ---- */

static void
post_element_message (GstWssAudioChunkSink *self, GstStructure *s)
{
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
}

static void
post_stream_stop (GstWssAudioChunkSink *self, const char *reason)
{
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  if (priv->stream_stopped || !priv->transport)
    return;
  priv->stream_stopped = TRUE;
  wssac::TransportStats t = priv->transport->stats ();
  post_element_message (self, gst_structure_new (wssac::bus::kStreamStop,
      "session-id", G_TYPE_STRING, priv->session_id.c_str (),
      "chunks-sent", G_TYPE_UINT64, (guint64) t.chunks_sent,
      "chunks-dropped", G_TYPE_UINT64, (guint64) t.chunks_dropped,
      "reason", G_TYPE_STRING, reason, NULL));
}

static void
on_chunk_sent (GstWssAudioChunkSink *self, const wssac::SentInfo &info)
{
  GST_LOG_OBJECT (self, "chunk %" G_GUINT64_FORMAT ": %zu bytes, %zu encoded", info.chunk_index,
      info.size, info.encoded_size);
  if (!self->priv->post_messages)
    return;
  post_element_message (self, gst_structure_new (wssac::bus::kSent,
      "chunk-index", G_TYPE_UINT64, (guint64) info.chunk_index,
      "size", G_TYPE_UINT, (guint) info.size,
      "encoded-size", G_TYPE_UINT, (guint) info.encoded_size,
      "timestamp", G_TYPE_INT64, (gint64) info.timestamp_ms, NULL));
}

static void
on_dropped (GstWssAudioChunkSink *self, const wssac::DropRange &r)
{
  GST_ELEMENT_WARNING_WITH_DETAILS (self, RESOURCE, WRITE,
      ("Dropped %" G_GUINT64_FORMAT " audio chunk(s), indices %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT,
          (guint64) r.count, (guint64) r.first, (guint64) r.last),
      ("%" G_GUINT64_FORMAT " bytes, %" GST_TIME_FORMAT " of audio could not be delivered "
       "(backlog bound, oversize message or shutdown); see the stats property",
          (guint64) r.bytes, GST_TIME_ARGS (r.media_time)),
      ("first-index", G_TYPE_UINT64, (guint64) r.first,
          "last-index", G_TYPE_UINT64, (guint64) r.last,
          "count", G_TYPE_UINT64, (guint64) r.count,
          "bytes", G_TYPE_UINT64, (guint64) r.bytes, NULL));
}

static void
on_state_changed (GstWssAudioChunkSink *self, wssac::ConnectionState state, const std::string &detail)
{
  post_element_message (self, gst_structure_new (wssac::bus::kConnection,
      "state", G_TYPE_STRING, wssac::connection_state_name (state),
      "detail", G_TYPE_STRING, detail.c_str (), NULL));
}

static void
on_fatal (GstWssAudioChunkSink *self, const std::string &message)
{
  self->priv->fatal = true;
  GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("%s", message.c_str ()),
      ("the connection was lost and could not be re-established; raise max-retries "
       "(-1 = forever) to keep trying"));
}

/* ---- GstBaseSink vfuncs ---- */

static gboolean
gst_wss_audio_chunk_sink_start (GstBaseSink *sink)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (sink);
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  wssac::TransportConfig config;
  GstClockTime chunk_duration, max_pause_time;
  gboolean start_paused, start_muted;
  {
    std::lock_guard<std::mutex> g (priv->settings_lock);
    const Settings &s = priv->settings;
    config.uri = s.location;
    config.session_id = s.session_id;
    config.format = s.format;
    if (s.extra_headers)
      gst_structure_foreach (s.extra_headers, collect_header, &config.headers);
    config.user_agent = s.user_agent;
    config.connect_timeout_s = s.connect_timeout;
    config.keepalive_interval_s = s.keepalive_interval;
    config.keepalive_timeout_s = s.keepalive_timeout;
    config.async_connect = s.async_connect;
    config.max_in_flight = s.max_in_flight;
    config.backlog.drop_newest = s.backlog_policy == GST_WSS_AUDIO_CHUNK_SINK_BACKLOG_DROP_NEWEST;
    config.retry.initial_delay_ms = s.retry_delay;
    config.retry.max_delay_ms = s.max_retry_delay;
    config.retry.max_retries = s.max_retries;
    config.backlog.max_time = static_cast<int64_t> (s.max_backlog_time);
    config.backlog.max_bytes = s.max_backlog_bytes;
    config.replay_window_ms = static_cast<int64_t> (s.replay_window / GST_MSECOND);
    config.max_message_size = s.max_message_size;
    chunk_duration = s.chunk_duration;
    priv->post_messages = s.post_messages;
    max_pause_time = s.max_pause_time;
    config.auth_token = s.auth_token;
    config.auth_token_in_query = s.auth_token_mode == GST_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_QUERY;
    config.ssl_strict = s.ssl_strict;
    config.binary_framing = s.framing == GST_WSS_AUDIO_CHUNK_SINK_FRAMING_BINARY;
    config.tls_ca_file = s.ssl_ca_file;
    config.tls_database = s.tls_database ? G_TLS_DATABASE (g_object_ref (s.tls_database)) : nullptr;
    start_paused = s.paused;
    start_muted = s.muted;
  }

  if (config.session_id.empty ())
    {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("No session-id set"),
          ("set the session-id property: every message names the session it belongs to"));
      return FALSE;
    }
  std::string why;
  if (!validate_location (config.uri, why))
    {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", why.c_str ()), (NULL));
      return FALSE;
    }

  priv->session_id = config.session_id;
  priv->location = wssac::redact_uri (config.uri); /* what bus messages show */
  priv->chunker = std::make_unique<wssac::Chunker> (static_cast<int64_t> (chunk_duration));
  /* Keep every message under max-message-size: base64 is 4/3 of the audio,
   * plus the other fields (an escaped session id, a re-sent stream header
   * of up to 4 KB). */
  int64_t room = static_cast<int64_t> (config.max_message_size) - 1024 - 6 * static_cast<int64_t> (config.session_id.size ())
                 - 4096 * 4 / 3;
  priv->chunker->set_max_bytes (room > 0 ? static_cast<size_t> (room) * 3 / 4 : 1);
  priv->header_passed = FALSE;
  priv->warned_time_cuts = FALSE;
  priv->stream_stopped = FALSE;
  priv->fatal = false;
  priv->caps_format.clear ();
  priv->transport = std::make_unique<wssac::WssClientTransport> ();

  wssac::TransportCallbacks cb;
  cb.chunk_sent = [self] (const wssac::SentInfo &info) { on_chunk_sent (self, info); };
  cb.dropped = [self] (const wssac::DropRange &r) { on_dropped (self, r); };
  cb.state_changed = [self] (wssac::ConnectionState st, const std::string &d) {
    on_state_changed (self, st, d);
  };
  cb.fatal = [self] (const std::string &m) { on_fatal (self, m); };

  /* The format may still come from the caps: patched in set_caps(). */
  if (config.format.empty ())
    config.format = "webm-opus";

  if (!config.ssl_strict && g_str_has_prefix (config.uri.c_str (), "wss"))
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("TLS certificate validation is disabled (ssl-strict=false)"),
        ("any server can pose as %s and read the audio; set ssl-ca-file instead",
            wssac::redact_uri (config.uri).c_str ()));

  std::string error;
  gboolean started = priv->transport->start (config, std::move (cb), error);
  g_clear_object (&config.tls_database);
  if (!started)
    {
      priv->transport->stop ();
      priv->transport.reset ();
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", error.c_str ()),
          ("check that a WebSocket server is listening at the location and accepts the upgrade"));
      return FALSE;
    }

  post_element_message (self, gst_structure_new (wssac::bus::kStreamStart,
      "session-id", G_TYPE_STRING, priv->session_id.c_str (),
      "location", G_TYPE_STRING, priv->location.c_str (), NULL));
  {
    std::lock_guard<std::mutex> g (priv->stream_lock);
    int64_t now = g_get_real_time () / 1000;
    priv->broadcast = wssac::BroadcastState (static_cast<int64_t> (max_pause_time));
    if (start_paused)
      priv->broadcast.pause (now); /* waits for the first chunk */
    if (start_muted)
      priv->broadcast.mute (now);
  }
  priv->posted_transmitting = -1;
  post_transmitting (self, !start_paused && !start_muted, start_paused, start_muted);
  watch_pipeline_bus (self);
  return TRUE;
}

static gboolean
gst_wss_audio_chunk_sink_stop (GstBaseSink *sink)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (sink);
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  unwatch_pipeline_bus (self);
  if (priv->transport)
    {
      priv->transport->stop ();
      post_stream_stop (self, priv->fatal ? "error" : "stopped");
    }
  std::lock_guard<std::mutex> g (priv->stream_lock);
  priv->chunker.reset ();
  return TRUE;
}

static std::vector<uint8_t>
stream_header_from_caps (const GstStructure *s)
{
  std::vector<uint8_t> out;
  const GValue *sh = gst_structure_get_value (s, "streamheader");
  if (!sh || !GST_VALUE_HOLDS_ARRAY (sh))
    return out;
  for (guint i = 0; i < gst_value_array_get_size (sh); i++)
    {
      const GValue *v = gst_value_array_get_value (sh, i);
      if (!GST_VALUE_HOLDS_BUFFER (v))
        continue;
      GstBuffer *buf = gst_value_get_buffer (v);
      GstMapInfo map;
      if (gst_buffer_map (buf, &map, GST_MAP_READ))
        {
          out.insert (out.end (), map.data, map.data + map.size);
          gst_buffer_unmap (buf, &map);
        }
    }
  return out;
}

static gboolean
gst_wss_audio_chunk_sink_set_caps (GstBaseSink *sink, GstCaps *caps)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (sink);
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  const char *name = gst_structure_get_name (s);

  priv->caps_format = g_str_has_suffix (name, "/ogg") ? "ogg-opus" : "webm-opus";
  gboolean format_set;
  {
    std::lock_guard<std::mutex> g (priv->settings_lock);
    format_set = !priv->settings.format.empty ();
  }
  if (!format_set && priv->transport)
    priv->transport->set_format (priv->caps_format);
  if (priv->chunker)
    priv->chunker->set_caps_stream_header (stream_header_from_caps (s));
  GST_DEBUG_OBJECT (self, "caps %" GST_PTR_FORMAT ", format %s", caps, priv->caps_format.c_str ());
  return TRUE;
}

/* ---- what enters the transport (stream lock held) ---- */

static void
submit (GstWssAudioChunkSink *self, wssac::BroadcastEffects &&fx, Pending &pending)
{
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  if (!fx.dropped.empty ())
    pending.drops.push_back (fx.dropped);
  pending.transmitting_changed |= fx.transmitting_changed;
  for (auto &item : fx.send)
    {
      wssac::DropRange dropped = priv->transport->enqueue (std::move (item));
      if (!dropped.empty ())
        pending.drops.push_back (dropped);
    }
}

static void
submit_chunk (GstWssAudioChunkSink *self, wssac::Chunk &&chunk, Pending &pending)
{
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  if (!priv->header_passed && !priv->chunker->stream_header ().empty ())
    {
      priv->transport->set_stream_header (priv->chunker->stream_header ());
      priv->header_passed = TRUE;
    }
  wssac::Outgoing item;
  item.kind = wssac::OutgoingKind::AudioChunk;
  item.chunk_index = priv->next_index++;
  item.media_duration = chunk.duration > 0 ? chunk.duration : 0;
  item.created_ms = g_get_real_time () / 1000;
  item.audio = std::move (chunk.bytes);
  GST_LOG_OBJECT (self, "chunk %" G_GUINT64_FORMAT ": %zu bytes, %" GST_TIME_FORMAT, item.chunk_index,
      item.audio.size (), GST_TIME_ARGS (item.media_duration));
  submit (self, priv->broadcast.chunk (std::move (item)), pending);
}

/* The partial chunk holds audio from before a mute or the end: send it. */
static void
submit_partial (GstWssAudioChunkSink *self, Pending &pending)
{
  wssac::Chunk last;
  if (self->priv->chunker && self->priv->chunker->finish (last))
    submit_chunk (self, std::move (last), pending);
}

static void
post_transmitting (GstWssAudioChunkSink *self, gboolean transmitting, gboolean paused, gboolean muted)
{
  /* Only changes: the seed's setTransmitting(). */
  if (self->priv->posted_transmitting.exchange (transmitting ? 1 : 0) == (transmitting ? 1 : 0))
    return;
  post_element_message (self, gst_structure_new (wssac::bus::kTransmitting,
      "transmitting", G_TYPE_BOOLEAN, transmitting,
      "paused", G_TYPE_BOOLEAN, paused,
      "muted", G_TYPE_BOOLEAN, muted, NULL));
}

/* Bus messages for what a locked section decided (lock released). */
static void
report (GstWssAudioChunkSink *self, const Pending &pending)
{
  for (const auto &d : pending.drops)
    on_dropped (self, d);
  if (pending.transmitting_changed)
    {
      gboolean t, p, m;
      {
        std::lock_guard<std::mutex> g (self->priv->stream_lock);
        t = self->priv->broadcast.transmitting ();
        p = self->priv->broadcast.paused ();
        m = self->priv->broadcast.muted ();
      }
      post_transmitting (self, t, p, m);
    }
}

/* Every control path (signals, properties, bus messages, events) ends here. */
static void
control (GstWssAudioChunkSink *self, Control c, const std::string &reason)
{
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  Pending pending;
  {
    std::lock_guard<std::mutex> g (priv->stream_lock);
    if (!priv->transport)
      {
        /* Not started: remember it; start() applies it. */
        std::lock_guard<std::mutex> sg (priv->settings_lock);
        if (c == Control::Pause || c == Control::Resume)
          priv->settings.paused = c == Control::Pause;
        else if (c == Control::Mute || c == Control::Unmute)
          priv->settings.muted = c == Control::Mute;
        else
          GST_WARNING_OBJECT (self, "end-session before the element started: ignored");
        return;
      }
    int64_t now = g_get_real_time () / 1000;
    wssac::BroadcastEffects fx;
    switch (c)
      {
      case Control::Pause:
        fx = priv->broadcast.pause (now);
        break;
      case Control::Resume:
        fx = priv->broadcast.resume (now);
        break;
      case Control::Mute:
        if (!priv->broadcast.muted () && !priv->broadcast.ended ())
          submit_partial (self, pending);
        fx = priv->broadcast.mute (now);
        break;
      case Control::Unmute:
        fx = priv->broadcast.unmute (now);
        if (fx.changed && priv->chunker)
          priv->chunker->drop_pending (); /* resume at the next cluster */
        break;
      case Control::End:
        if (!priv->broadcast.ended ())
          submit_partial (self, pending);
        fx = priv->broadcast.end (reason, now);
        break;
      }
    GST_INFO_OBJECT (self, "control %d: %s", (int) c, fx.changed ? "applied" : "no change");
    const bool ending = c == Control::End && fx.changed;
    submit (self, std::move (fx), pending);
    /* Only once endSession is queued: the transport closes as soon as its
     * queue is empty. */
    if (ending)
      priv->transport->close_when_drained ();
    std::lock_guard<std::mutex> sg (priv->settings_lock);
    priv->settings.paused = priv->broadcast.paused ();
    priv->settings.muted = priv->broadcast.muted ();
  }
  report (self, pending);
}

/* The structure of control bus messages and events:
 *   wss-audio-chunk-control, action=(string){pause,resume,mute,unmute,end-session}
 *   [, reason=(string)...] [, target=(string)<element name>] */
static gboolean
control_from_structure (GstWssAudioChunkSink *self, const GstStructure *s)
{
  if (!s || !gst_structure_has_name (s, wssac::bus::kControl))
    return FALSE;
  const gchar *target = gst_structure_get_string (s, "target");
  if (target)
    {
      gchar *name = gst_object_get_name (GST_OBJECT (self));
      gboolean mine = g_strcmp0 (name, target) == 0;
      g_free (name);
      if (!mine)
        return FALSE;
    }
  const gchar *action = gst_structure_get_string (s, "action");
  const gchar *reason = gst_structure_get_string (s, "reason");
  static const struct
  {
    const char *name, *seed_name;
    Control control;
  } actions[] = {
    { "pause", "pauseBroadcast", Control::Pause },
    { "resume", "resumeBroadcast", Control::Resume },
    { "mute", "muteBroadcast", Control::Mute },
    { "unmute", "unmuteBroadcast", Control::Unmute },
    { "end-session", "endSession", Control::End },
  };
  for (const auto &a : actions)
    if (g_strcmp0 (action, a.name) == 0 || g_strcmp0 (action, a.seed_name) == 0)
      {
        control (self, a.control, reason ? reason : "");
        return TRUE;
      }
  GST_WARNING_OBJECT (self, "unknown control action \"%s\" in %" GST_PTR_FORMAT, GST_STR_NULL (action), s);
  return FALSE;
}

/* Application messages on the pipeline's bus, seen as they are posted
 * (whatever thread posts them, whether or not the application runs a main
 * loop or has its own bus watch). */
static void
on_bus_sync_message (GstBus *bus, GstMessage *message, GstWssAudioChunkSink *self)
{
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_APPLICATION)
    control_from_structure (self, gst_message_get_structure (message));
}

static void
watch_pipeline_bus (GstWssAudioChunkSink *self)
{
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  GstObject *top = GST_OBJECT (gst_object_ref (self));
  GstObject *parent;
  while ((parent = gst_object_get_parent (top)))
    {
      gst_object_unref (top);
      top = parent;
    }
  if (GST_IS_ELEMENT (top))
    priv->watched_bus = gst_element_get_bus (GST_ELEMENT (top));
  gst_object_unref (top);
  if (!priv->watched_bus)
    return;
  gst_bus_enable_sync_message_emission (priv->watched_bus);
  priv->bus_handler = g_signal_connect (priv->watched_bus, "sync-message::application",
      G_CALLBACK (on_bus_sync_message), self);
}

static void
unwatch_pipeline_bus (GstWssAudioChunkSink *self)
{
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  if (!priv->watched_bus)
    return;
  g_signal_handler_disconnect (priv->watched_bus, priv->bus_handler);
  gst_bus_disable_sync_message_emission (priv->watched_bus);
  gst_object_unref (priv->watched_bus);
  priv->watched_bus = nullptr;
  priv->bus_handler = 0;
}

static GstFlowReturn
gst_wss_audio_chunk_sink_render (GstBaseSink *sink, GstBuffer *buffer)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (sink);
  GstWssAudioChunkSinkPrivate *priv = self->priv;

  if (priv->fatal)
    return GST_FLOW_ERROR;

  Pending pending;
  gboolean warn_time_cuts = FALSE;
  {
    std::lock_guard<std::mutex> g (priv->stream_lock);
    if (priv->broadcast.ended ())
      return GST_FLOW_EOS; /* end-session: no more audio */
    if (priv->broadcast.muted () && !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_HEADER))
      return GST_FLOW_OK; /* never sent, not even after unmute */

    GstMapInfo map;
    if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
      {
        GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Could not map a buffer"), (NULL));
        return GST_FLOW_ERROR;
      }
    wssac::MuxerBuffer mb;
    mb.data = map.data;
    mb.size = map.size;
    mb.pts = GST_BUFFER_PTS_IS_VALID (buffer) ? static_cast<int64_t> (GST_BUFFER_PTS (buffer)) : wssac::kNoTime;
    mb.duration = GST_BUFFER_DURATION_IS_VALID (buffer) ? static_cast<int64_t> (GST_BUFFER_DURATION (buffer))
                                                        : wssac::kNoTime;
    mb.header = GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_HEADER);
    mb.delta = GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);

    std::vector<wssac::Chunk> done;
    priv->chunker->push (mb, done);
    gst_buffer_unmap (buffer, &map);
    for (auto &c : done)
      submit_chunk (self, std::move (c), pending);
    if (priv->chunker->cutting_by_time () && !priv->warned_time_cuts)
      warn_time_cuts = priv->warned_time_cuts = TRUE;
  }
  report (self, pending);

  if (warn_time_cuts)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Clusters arrive less often than twice chunk-duration: cutting chunks between muxer "
         "buffers instead of on clusters"),
        ("set webmmux min-cluster-duration to chunk-duration (%" G_GUINT64_FORMAT
         " ns) so that every chunk starts on a cluster and can be decoded on its own",
            (guint64) priv->chunker->chunk_duration ()));
  return GST_FLOW_OK;
}

static gboolean
gst_wss_audio_chunk_sink_event (GstBaseSink *sink, GstEvent *event)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (sink);
  GstWssAudioChunkSinkPrivate *priv = self->priv;

  switch (GST_EVENT_TYPE (event))
    {
    case GST_EVENT_CUSTOM_DOWNSTREAM:
      /* In-band controls: applied exactly between the buffers around them. */
      if (control_from_structure (self, gst_event_get_structure (event)))
        {
          gst_event_unref (event);
          return TRUE;
        }
      break;
    case GST_EVENT_EOS:
      if (priv->chunker && priv->transport && !priv->fatal)
        {
          guint timeout;
          gboolean end_session;
          {
            std::lock_guard<std::mutex> g (priv->settings_lock);
            timeout = priv->settings.drain_timeout;
            end_session = priv->settings.end_session_on_eos;
          }
          Pending pending;
          {
            std::lock_guard<std::mutex> g (priv->stream_lock);
            if (!priv->broadcast.muted ())
              submit_partial (self, pending);
          }
          report (self, pending);
          if (end_session)
            control (self, Control::End, "end of stream");
          if (!priv->transport->drain_and_close (static_cast<int64_t> (timeout) * 1000))
            {
              wssac::TransportStats t = priv->transport->stats ();
              GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
                  ("Could not deliver every chunk before the end of the stream"),
                  ("%" G_GUINT64_FORMAT " chunk(s) still queued after %u s (state %s, last error: %s)",
                      (guint64) t.backlog_chunks, timeout, wssac::connection_state_name (t.state),
                      t.last_error.c_str ()));
            }
          post_transmitting (self, FALSE, priv->broadcast.paused (), priv->broadcast.muted ());
          post_stream_stop (self, "eos");
        }
      break;
    case GST_EVENT_FLUSH_STOP:
      {
        std::lock_guard<std::mutex> g (priv->stream_lock);
        if (priv->chunker)
          priv->chunker->drop_pending ();
        break;
      }
    default:
      break;
    }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

static gboolean
gst_wss_audio_chunk_sink_unlock (GstBaseSink *sink)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (sink);
  if (self->priv->transport)
    self->priv->transport->interrupt ();
  return TRUE;
}

static gboolean
gst_wss_audio_chunk_sink_unlock_stop (GstBaseSink *sink)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (sink);
  if (self->priv->transport)
    self->priv->transport->clear_interrupt ();
  return TRUE;
}

/* ---- GstURIHandler ---- */

static GstURIType
gst_wss_audio_chunk_sink_uri_get_type (GType type)
{
  return GST_URI_SINK;
}

static const gchar *const *
gst_wss_audio_chunk_sink_uri_get_protocols (GType type)
{
  static const gchar *protocols[] = { "ws", "wss", NULL };
  return protocols;
}

static gchar *
gst_wss_audio_chunk_sink_uri_get_uri (GstURIHandler *handler)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (handler);
  std::lock_guard<std::mutex> g (self->priv->settings_lock);
  const std::string &l = self->priv->settings.location;
  return l.empty () ? NULL : g_strdup (l.c_str ());
}

static gboolean
gst_wss_audio_chunk_sink_uri_set_uri (GstURIHandler *handler, const gchar *uri, GError **error)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (handler);
  std::string why;
  if (!validate_location (str_or_empty (uri), why))
    {
      g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI, "%s", why.c_str ());
      return FALSE;
    }
  g_object_set (self, "location", uri, NULL);
  return TRUE;
}

static void
gst_wss_audio_chunk_sink_uri_handler_init (gpointer g_iface, gpointer iface_data)
{
  GstURIHandlerInterface *iface = static_cast<GstURIHandlerInterface *> (g_iface);
  iface->get_type = gst_wss_audio_chunk_sink_uri_get_type;
  iface->get_protocols = gst_wss_audio_chunk_sink_uri_get_protocols;
  iface->get_uri = gst_wss_audio_chunk_sink_uri_get_uri;
  iface->set_uri = gst_wss_audio_chunk_sink_uri_set_uri;
}
