/* GStreamer
 * wssaudiochunksrc: a WebSocket server that receives audio chunk streams.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-wssaudiochunksrc
 * @title: wssaudiochunksrc
 *
 * A live source that runs a WebSocket server (libsoup) and outputs the audio
 * of one speaker session: the original protocol's `audioChunk` messages,
 * validated and put back in chunkIndex order, as the WebM (or Ogg) byte
 * stream the speaker's muxer made. Any sender works: wssaudiochunksink, or the
 * browser speaker app's MediaRecorder client (whose chunks are not
 * cluster-aligned: the output is one byte stream, so that does not matter).
 *
 * The session is #GstWssAudioChunkSrc:session-id, or the first that speaks.
 * Its speaker is the first connection to send for it; others are refused
 * while it stays connected, and a reconnecting speaker continues the stream
 * (chunks already received are dropped). A missing chunk is waited for up to
 * #GstWssAudioChunkSrc:reorder-wait, then skipped: the next buffer is marked
 * DISCONT and the gap counted. Every refused message is answered on the
 * socket with `{"action":"error","code":..,"message":..}` and counted in
 * #GstWssAudioChunkSrc:stats; see docs/protocol.md.
 *
 * Control actions become element messages and custom downstream events
 * named `wss-audio-chunk-control` (action, session-id, timestamp);
 * `endSession` becomes EOS unless #GstWssAudioChunkSrc:eos-on-end-session
 * is off; then the element keeps listening and the next session to speak takes
 * over as a new stream (stream-start and caps again, its bytes starting with
 * its own stream header; an ended session id cannot start again). A later run
 * of the same session (a new `streamId`) is a new stream too.
 * One session at a time: a speaker of another session is refused
 * (`wrong-session`) and the element posts a warning, once per session id.
 *
 * ## Example launch line (WebM to 16 kHz mono PCM, as the browser speaker app's backend decodes it)
 * |[
 * gst-launch-1.0 wssaudiochunksrc port=8080 ! matroskademux ! opusdec ! audioconvert \
 *   ! audioresample ! audio/x-raw,format=S16LE,rate=16000,channels=1 ! wavenc \
 *   ! filesink location=speech.wav
 * ]|
 *
 * ## Messages
 * * `wss-audio-chunk-session`: session-id, event ("started" or "ended"),
 *   format, reason.
 * * `wss-audio-chunk-control`: session-id, action, timestamp.
 * * `wss-audio-chunk-gap`: session-id, next-index, missing (chunks given up).
 * * `wss-audio-chunk-listening`: port (the bound port, useful with port=0).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwssaudiochunksrc.h"
#include "gstwssaudiochunkelements.h"

#include "context-thread.h"
#include "duration-property.h"
#include "ingest-server.h"
#include "string-property.h"

#include <condition_variable>
#include <deque>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include "bus-messages.h"

GST_DEBUG_CATEGORY_STATIC (gst_wss_audio_chunk_src_debug);
#define GST_CAT_DEFAULT gst_wss_audio_chunk_src_debug

enum
{
  PROP_0,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_PATH,
  PROP_SESSION_ID,
  PROP_MAX_MESSAGE_SIZE,
  PROP_MAX_CHUNK_SIZE,
  PROP_REORDER_WAIT,
  PROP_MAX_BAD_MESSAGES,
  PROP_EOS_ON_END_SESSION,
  PROP_TLS_CERTIFICATE_FILE,
  PROP_TLS_KEY_FILE,
  PROP_AUTH_TOKENS,
  PROP_AUTH_TOKEN_FILE,
  PROP_ALLOWED_ORIGINS,
  PROP_MAX_CONNECTIONS_PER_ADDRESS,
  PROP_MAX_MESSAGES_PER_SECOND,
  PROP_FIRST_MESSAGE_TIMEOUT,
  PROP_STATS,
};

#define DEFAULT_ADDRESS "127.0.0.1"
#define DEFAULT_PORT 8080
#define DEFAULT_PATH "/ws"
#define DEFAULT_MAX_MESSAGE_SIZE (128 * 1024)
#define DEFAULT_MAX_CHUNK_SIZE (96 * 1024)
#define DEFAULT_REORDER_WAIT 1000
#define DEFAULT_MAX_BAD_MESSAGES 20
#define DEFAULT_EOS_ON_END_SESSION TRUE

namespace
{

struct Settings
{
  std::string address = DEFAULT_ADDRESS;
  guint port = DEFAULT_PORT;
  std::string path = DEFAULT_PATH;
  std::string session_id;
  guint max_message_size = DEFAULT_MAX_MESSAGE_SIZE;
  guint max_chunk_size = DEFAULT_MAX_CHUNK_SIZE;
  guint reorder_wait = DEFAULT_REORDER_WAIT;
  guint max_bad_messages = DEFAULT_MAX_BAD_MESSAGES;
  gboolean eos_on_end_session = DEFAULT_EOS_ON_END_SESSION;
  std::string tls_certificate_file;
  std::string tls_key_file;
  std::string auth_tokens;
  std::string auth_token_file;
  std::string allowed_origins;
  guint max_connections_per_address = 16;
  gdouble max_messages_per_second = 50;
  guint first_message_timeout = 30000; /* ms */
};

/* "a, b c" -> {"a", "b", "c"} */
std::vector<std::string>
split_list (const std::string &s)
{
  std::vector<std::string> out;
  gchar **parts = g_strsplit_set (s.c_str (), ", \t\n\r", -1);
  for (gchar **p = parts; *p; p++)
    if (**p)
      out.emplace_back (*p);
  g_strfreev (parts);
  return out;
}

struct QueuedEvent
{
  wssac::IngestEvent event;
  GstClockTime running_time = GST_CLOCK_TIME_NONE;
};

} // namespace

struct _GstWssAudioChunkSrcPrivate
{
  std::mutex settings_lock;
  Settings settings;

  /* The server thread, which owns the server. thread_lock keeps it alive
   * while get_property("stats") runs a call on it; the server thread never
   * takes thread_lock. */
  std::mutex thread_lock;
  std::unique_ptr<wssac::ContextThread> thread;
  std::unique_ptr<wssac::IngestServer> server;
  guint bound_port = 0;

  /* Events from the server thread to create(). */
  std::mutex lock;
  std::condition_variable cond;
  std::deque<QueuedEvent> queue;
  bool flushing = false;

  /* Streaming thread. */
  bool caps_set = false;
  /* The next buffer starts a new stream (a later session, or a later run of
   * the session): stream-start and caps go out again before it. */
  bool new_stream_pending = false;
  guint stream_count = 0;
  std::set<std::string> warned_sessions; /* refused sessions already announced */
  bool ended = false;
  std::string session;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/webm; audio/ogg"));

#define gst_wss_audio_chunk_src_parent_class parent_class
G_DEFINE_TYPE (GstWssAudioChunkSrc, gst_wss_audio_chunk_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (wssaudiochunksrc, "wssaudiochunksrc", GST_RANK_NONE, GST_TYPE_WSS_AUDIO_CHUNK_SRC);

static void gst_wss_audio_chunk_src_finalize (GObject *object);
static void gst_wss_audio_chunk_src_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec);
static void gst_wss_audio_chunk_src_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec);
static gboolean gst_wss_audio_chunk_src_start (GstBaseSrc *src);
static gboolean gst_wss_audio_chunk_src_stop (GstBaseSrc *src);
static gboolean gst_wss_audio_chunk_src_negotiate (GstBaseSrc *src);
static gboolean gst_wss_audio_chunk_src_unlock (GstBaseSrc *src);
static gboolean gst_wss_audio_chunk_src_unlock_stop (GstBaseSrc *src);
static GstFlowReturn gst_wss_audio_chunk_src_create (GstPushSrc *src, GstBuffer **buf);

static constexpr GParamFlags RW = static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
                                                           | GST_PARAM_MUTABLE_READY);

static void
gst_wss_audio_chunk_src_class_init (GstWssAudioChunkSrcClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->finalize = gst_wss_audio_chunk_src_finalize;
  gobject_class->set_property = gst_wss_audio_chunk_src_set_property;
  gobject_class->get_property = gst_wss_audio_chunk_src_get_property;

  /**
   * GstWssAudioChunkSrc:address:
   *
   * The IP address to listen on. 127.0.0.1 by default: exposing the server
   * to a network is a deliberate choice ("0.0.0.0" or "::").
   */
  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address", "IP address to listen on", DEFAULT_ADDRESS, RW));
  /**
   * GstWssAudioChunkSrc:port:
   *
   * The TCP port to listen on; 0 picks a free one, readable from this
   * property (and the `wss-audio-chunk-listening` message) once started.
   */
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_uint ("port", "Port", "TCP port to listen on (0 = any free port, read back once started)",
          0, 65535, DEFAULT_PORT, RW));
  /**
   * GstWssAudioChunkSrc:path:
   *
   * The HTTP path that accepts the WebSocket upgrade.
   */
  g_object_class_install_property (gobject_class, PROP_PATH,
      g_param_spec_string ("path", "Path", "HTTP path of the WebSocket endpoint", DEFAULT_PATH, RW));
  /**
   * GstWssAudioChunkSrc:session-id:
   *
   * Accept only this session; empty: the first session that speaks, and
   * refuse the others.
   */
  g_object_class_install_property (gobject_class, PROP_SESSION_ID,
      g_param_spec_string ("session-id", "Session ID",
          "Session to accept (empty = the first session that speaks)", NULL, RW));
  /**
   * GstWssAudioChunkSrc:max-message-size:
   *
   * Largest WebSocket message accepted, in bytes; a larger one closes that
   * connection with 1009 (message too big).
   */
  g_object_class_install_property (gobject_class, PROP_MAX_MESSAGE_SIZE,
      g_param_spec_uint ("max-message-size", "Max message size",
          "Largest message accepted in bytes (larger: connection closed with 1009)", 1024,
          64 * 1024 * 1024, DEFAULT_MAX_MESSAGE_SIZE, RW));
  /**
   * GstWssAudioChunkSrc:max-chunk-size:
   *
   * Largest decoded audioData accepted, in bytes; larger chunks are refused
   * with an error reply.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_CHUNK_SIZE,
      g_param_spec_uint ("max-chunk-size", "Max chunk size", "Largest decoded audioData in bytes", 16,
          64 * 1024 * 1024, DEFAULT_MAX_CHUNK_SIZE, RW));
  /**
   * GstWssAudioChunkSrc:reorder-wait:
   *
   * Milliseconds a missing chunkIndex is waited for before it is skipped
   * (0: skip at once, for a receiver that must not wait).
   */
  g_object_class_install_property (gobject_class, PROP_REORDER_WAIT,
      g_param_spec_uint ("reorder-wait", "Reorder wait",
          "Milliseconds to wait for a missing chunk before skipping it (0 = skip at once)", 0, 600000,
          DEFAULT_REORDER_WAIT, RW));
  /**
   * GstWssAudioChunkSrc:max-bad-messages:
   *
   * Refused messages a connection may send before it is closed with 1008
   * (policy violation); 0: never close.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_BAD_MESSAGES,
      g_param_spec_uint ("max-bad-messages", "Max bad messages",
          "Refused messages before a connection is closed with 1008 (0 = never)", 0, G_MAXUINT,
          DEFAULT_MAX_BAD_MESSAGES, RW));
  /**
   * GstWssAudioChunkSrc:eos-on-end-session:
   *
   * Whether the speaker's `endSession` ends the stream (EOS). When off, the
   * element posts the session message and keeps listening.
   */
  g_object_class_install_property (gobject_class, PROP_EOS_ON_END_SESSION,
      g_param_spec_boolean ("eos-on-end-session", "EOS on end session",
          "Send EOS when the speaker ends the session", DEFAULT_EOS_ON_END_SESSION, RW));
  /**
   * GstWssAudioChunkSrc:tls-certificate-file:
   *
   * Serve wss:// with this PEM certificate (chain); the key comes from
   * tls-key-file, or from this same file.
   */
  g_object_class_install_property (gobject_class, PROP_TLS_CERTIFICATE_FILE,
      g_param_spec_string ("tls-certificate-file", "TLS certificate file",
          "PEM certificate to serve wss:// with (empty: plain ws://)", NULL, RW));
  /**
   * GstWssAudioChunkSrc:tls-key-file:
   *
   * The PEM private key of tls-certificate-file.
   */
  g_object_class_install_property (gobject_class, PROP_TLS_KEY_FILE,
      g_param_spec_string ("tls-key-file", "TLS key file", "PEM private key for tls-certificate-file", NULL, RW));
  /**
   * GstWssAudioChunkSrc:auth-tokens:
   *
   * Accepted bearer tokens, separated by commas or spaces. When set (here or
   * in auth-token-file), an upgrade without one of them, as
   * `Authorization: Bearer` or `?token=`, gets HTTP 401. Write-only.
   */
  g_object_class_install_property (gobject_class, PROP_AUTH_TOKENS,
      g_param_spec_string ("auth-tokens", "Auth tokens", "Accepted bearer tokens, comma-separated (write-only)", NULL,
          static_cast<GParamFlags> (G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  /**
   * GstWssAudioChunkSrc:auth-token-file:
   *
   * A file of accepted tokens, one per line (read at start).
   */
  g_object_class_install_property (gobject_class, PROP_AUTH_TOKEN_FILE,
      g_param_spec_string ("auth-token-file", "Auth token file", "File of accepted tokens, one per line", NULL, RW));
  /**
   * GstWssAudioChunkSrc:allowed-origins:
   *
   * Browser origins allowed to connect (comma-separated, e.g.
   * "https://app.example.com"); others get HTTP 403. Clients that send no
   * Origin (not browsers) are not affected. Empty: any.
   */
  g_object_class_install_property (gobject_class, PROP_ALLOWED_ORIGINS,
      g_param_spec_string ("allowed-origins", "Allowed origins", "Comma-separated browser origins allowed (empty = any)",
          NULL, RW));
  /**
   * GstWssAudioChunkSrc:max-connections-per-address:
   *
   * Open connections one client IP may have; more get HTTP 429. 0: no limit.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_CONNECTIONS_PER_ADDRESS,
      g_param_spec_uint ("max-connections-per-address", "Max connections per address",
          "Open connections per client IP (0 = no limit)", 0, G_MAXUINT, 16, RW));
  /**
   * GstWssAudioChunkSrc:max-messages-per-second:
   *
   * Average messages per second a connection may send (bursts of 400
   * allowed, for a speaker flushing its backlog); over it the connection is
   * closed with 1008. 0: no limit.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_MESSAGES_PER_SECOND,
      g_param_spec_double ("max-messages-per-second", "Max messages per second",
          "Average messages per second per connection (0 = no limit)", 0, 1e6, 50, RW));
  /**
   * GstWssAudioChunkSrc:first-message-timeout:
   *
   * Milliseconds a new connection may stay without sending a message before
   * it is closed with 1008 (rounded up to whole seconds). 0: no limit;
   * otherwise at least 1000, like every duration of these elements.
   */
  g_object_class_install_property (gobject_class, PROP_FIRST_MESSAGE_TIMEOUT,
      g_param_spec_uint ("first-message-timeout", "First message timeout",
          "Milliseconds a connection may stay silent after connecting (0 = forever, else at least 1000)",
          0, 86400 * 1000, 30000, RW));
  /**
   * GstWssAudioChunkSrc:stats:
   *
   * Counters as a `wss-audio-chunk-src-stats` structure: connections,
   * open-connections, messages, rejected, closed-for-abuse, closed-for-rate,
   * auth-refused, origin-refused, address-refused, closed-silent,
   * closed-no-message, and for the
   * session chunks, bytes, duplicates, late, gaps, missing, controls,
   * takeovers, plus rejected-<code> per refusal reason.
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics", "Counters of what was received and refused",
          GST_TYPE_STRUCTURE, static_cast<GParamFlags> (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "WebSocket audio chunk source", "Source/Network",
      "Receives a speaker's WebM/Opus audio chunks over a WebSocket server (libsoup)",
      "wssaudiochunk developers");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_src_stop);
  basesrc_class->negotiate = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_src_negotiate);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_src_unlock_stop);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_src_create);

  GST_DEBUG_CATEGORY_INIT (gst_wss_audio_chunk_src_debug, "wssaudiochunksrc", 0,
      "WebSocket audio chunk source");
}

static void
gst_wss_audio_chunk_src_init (GstWssAudioChunkSrc *self)
{
  self->priv = new GstWssAudioChunkSrcPrivate ();
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}

static void
gst_wss_audio_chunk_src_finalize (GObject *object)
{
  GstWssAudioChunkSrc *self = GST_WSS_AUDIO_CHUNK_SRC (object);
  delete self->priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_wss_audio_chunk_src_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  GstWssAudioChunkSrc *self = GST_WSS_AUDIO_CHUNK_SRC (object);
  std::lock_guard<std::mutex> g (self->priv->settings_lock);
  Settings &s = self->priv->settings;
  switch (prop_id)
    {
    case PROP_ADDRESS:
      s.address = wssac::string_from_value (value);
      break;
    case PROP_PORT:
      s.port = g_value_get_uint (value);
      break;
    case PROP_PATH:
      s.path = wssac::string_from_value (value);
      break;
    case PROP_SESSION_ID:
      s.session_id = wssac::string_from_value (value);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      s.max_message_size = g_value_get_uint (value);
      break;
    case PROP_MAX_CHUNK_SIZE:
      s.max_chunk_size = g_value_get_uint (value);
      break;
    case PROP_REORDER_WAIT:
      s.reorder_wait = g_value_get_uint (value);
      break;
    case PROP_MAX_BAD_MESSAGES:
      s.max_bad_messages = g_value_get_uint (value);
      break;
    case PROP_EOS_ON_END_SESSION:
      s.eos_on_end_session = g_value_get_boolean (value);
      break;
    case PROP_TLS_CERTIFICATE_FILE:
      s.tls_certificate_file = wssac::string_from_value (value);
      break;
    case PROP_TLS_KEY_FILE:
      s.tls_key_file = wssac::string_from_value (value);
      break;
    case PROP_AUTH_TOKENS:
      s.auth_tokens = wssac::string_from_value (value);
      break;
    case PROP_AUTH_TOKEN_FILE:
      s.auth_token_file = wssac::string_from_value (value);
      break;
    case PROP_ALLOWED_ORIGINS:
      s.allowed_origins = wssac::string_from_value (value);
      break;
    case PROP_MAX_CONNECTIONS_PER_ADDRESS:
      s.max_connections_per_address = g_value_get_uint (value);
      break;
    case PROP_MAX_MESSAGES_PER_SECOND:
      s.max_messages_per_second = g_value_get_double (value);
      break;
    case PROP_FIRST_MESSAGE_TIMEOUT:
      wssac::set_duration_ms (object, pspec, value, s.first_message_timeout, 1000);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

/* Runs on the server thread (it owns the IngestServer). */
static GstStructure *
make_stats_on_server (GstWssAudioChunkSrc *self)
{
  GstWssAudioChunkSrcPrivate *priv = self->priv;
  GstStructure *st = gst_structure_new_empty (wssac::bus::kSrcStats);
  if (!priv->server)
    return st;
  wssac::IngestStats is = priv->server->stats ();
  gst_structure_set (st,
      "connections", G_TYPE_UINT64, (guint64) is.connections,
      "open-connections", G_TYPE_UINT64, (guint64) is.open_connections,
      "messages", G_TYPE_UINT64, (guint64) is.messages,
      "rejected", G_TYPE_UINT64, (guint64) is.rejected,
      "closed-for-abuse", G_TYPE_UINT64, (guint64) is.closed_for_abuse,
      "closed-for-rate", G_TYPE_UINT64, (guint64) is.closed_for_rate, NULL);
  wssac::IngestServerStats ss_ = priv->server->server_stats ();
  gst_structure_set (st,
      "auth-refused", G_TYPE_UINT64, (guint64) ss_.auth_refused,
      "origin-refused", G_TYPE_UINT64, (guint64) ss_.origin_refused,
      "address-refused", G_TYPE_UINT64, (guint64) ss_.address_refused,
      "closed-silent", G_TYPE_UINT64, (guint64) ss_.closed_silent,
      "closed-no-message", G_TYPE_UINT64, (guint64) ss_.closed_no_message, NULL);
  for (const auto &kv : is.rejected_by_code)
    gst_structure_set (st, ("rejected-" + kv.first).c_str (), G_TYPE_UINT64, (guint64) kv.second, NULL);
  wssac::SessionStats ss;
  const std::string last = priv->server->last_session ();
  if (!last.empty () && priv->server->session_stats (last, ss))
    gst_structure_set (st,
        "session-id", G_TYPE_STRING, ss.session_id.c_str (),
        "chunks", G_TYPE_UINT64, (guint64) ss.chunks,
        "bytes", G_TYPE_UINT64, (guint64) ss.bytes,
        "duplicates", G_TYPE_UINT64, (guint64) ss.duplicates,
        "late", G_TYPE_UINT64, (guint64) ss.late,
        "gaps", G_TYPE_UINT64, (guint64) ss.gaps,
        "missing", G_TYPE_UINT64, (guint64) ss.missing,
        "controls", G_TYPE_UINT64, (guint64) ss.controls,
        "takeovers", G_TYPE_UINT64, (guint64) ss.takeovers, NULL);
  return st;
}

static GstStructure *
make_stats (GstWssAudioChunkSrc *self)
{
  GstWssAudioChunkSrcPrivate *priv = self->priv;
  std::lock_guard<std::mutex> g (priv->thread_lock);
  if (!priv->thread)
    return gst_structure_new_empty (wssac::bus::kSrcStats);
  GstStructure *st = nullptr;
  priv->thread->invoke ([&] { st = make_stats_on_server (self); });
  return st;
}

static void
gst_wss_audio_chunk_src_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstWssAudioChunkSrc *self = GST_WSS_AUDIO_CHUNK_SRC (object);
  GstWssAudioChunkSrcPrivate *priv = self->priv;
  if (prop_id == PROP_STATS)
    {
      g_value_take_boxed (value, make_stats (self));
      return;
    }
  std::lock_guard<std::mutex> g (priv->settings_lock);
  const Settings &s = priv->settings;
  switch (prop_id)
    {
    case PROP_ADDRESS:
      g_value_set_string (value, s.address.c_str ());
      break;
    case PROP_PORT:
      g_value_set_uint (value, priv->bound_port ? priv->bound_port : s.port);
      break;
    case PROP_PATH:
      g_value_set_string (value, s.path.c_str ());
      break;
    case PROP_SESSION_ID:
      wssac::value_set_string_or_null (value, s.session_id);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint (value, s.max_message_size);
      break;
    case PROP_MAX_CHUNK_SIZE:
      g_value_set_uint (value, s.max_chunk_size);
      break;
    case PROP_REORDER_WAIT:
      g_value_set_uint (value, s.reorder_wait);
      break;
    case PROP_MAX_BAD_MESSAGES:
      g_value_set_uint (value, s.max_bad_messages);
      break;
    case PROP_EOS_ON_END_SESSION:
      g_value_set_boolean (value, s.eos_on_end_session);
      break;
    case PROP_TLS_CERTIFICATE_FILE:
      wssac::value_set_string_or_null (value, s.tls_certificate_file);
      break;
    case PROP_TLS_KEY_FILE:
      wssac::value_set_string_or_null (value, s.tls_key_file);
      break;
    case PROP_AUTH_TOKEN_FILE:
      wssac::value_set_string_or_null (value, s.auth_token_file);
      break;
    case PROP_ALLOWED_ORIGINS:
      wssac::value_set_string_or_null (value, s.allowed_origins);
      break;
    case PROP_MAX_CONNECTIONS_PER_ADDRESS:
      g_value_set_uint (value, s.max_connections_per_address);
      break;
    case PROP_MAX_MESSAGES_PER_SECOND:
      g_value_set_double (value, s.max_messages_per_second);
      break;
    case PROP_FIRST_MESSAGE_TIMEOUT:
      g_value_set_uint (value, s.first_message_timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

/* ---- server thread ---- */

static void
queue_event (GstWssAudioChunkSrc *self, wssac::IngestEvent &&ev)
{
  GstWssAudioChunkSrcPrivate *priv = self->priv;
  QueuedEvent q;
  /* Running time on arrival. */
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  if (clock)
    {
      GstClockTime now = gst_clock_get_time (clock);
      GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));
      q.running_time = now > base ? now - base : 0;
      gst_object_unref (clock);
    }
  q.event = std::move (ev);
  {
    std::lock_guard<std::mutex> g (priv->lock);
    priv->queue.push_back (std::move (q));
  }
  priv->cond.notify_all ();
}

/* ---- GstBaseSrc vfuncs ---- */

static gboolean
gst_wss_audio_chunk_src_start (GstBaseSrc *src)
{
  GstWssAudioChunkSrc *self = GST_WSS_AUDIO_CHUNK_SRC (src);
  GstWssAudioChunkSrcPrivate *priv = self->priv;
  wssac::IngestServerConfig config;
  std::string token_file;
  {
    std::lock_guard<std::mutex> g (priv->settings_lock);
    const Settings &s = priv->settings;
    config.address = s.address;
    config.port = s.port;
    config.path = s.path;
    config.max_message_size = s.max_message_size;
    config.core.only_session = s.session_id;
    config.core.single_session = true;
    config.core.max_bad_messages = s.max_bad_messages;
    config.core.limits.max_audio_bytes = s.max_chunk_size;
    config.core.reassembly.max_wait_ms = s.reorder_wait;
    config.core.max_messages_per_second = s.max_messages_per_second;
    config.tls_cert_file = s.tls_certificate_file;
    config.tls_key_file = s.tls_key_file;
    config.auth_tokens = split_list (s.auth_tokens);
    config.allowed_origins = split_list (s.allowed_origins);
    config.max_connections_per_address = s.max_connections_per_address;
    config.first_message_timeout_s = s.first_message_timeout / 1000 + (s.first_message_timeout % 1000 != 0);
    token_file = s.auth_token_file;
  }
  if (!token_file.empty ())
    {
      gchar *contents = nullptr;
      GError *err = nullptr;
      if (!g_file_get_contents (token_file.c_str (), &contents, nullptr, &err))
        {
          GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("Could not read auth-token-file: %s", err->message), (NULL));
          g_error_free (err);
          return FALSE;
        }
      for (auto &t : split_list (contents))
        config.auth_tokens.push_back (t);
      g_free (contents);
      if (config.auth_tokens.empty ())
        {
          GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("auth-token-file %s holds no token", token_file.c_str ()),
              ("an empty token list would let everyone in: put one token per line"));
          return FALSE;
        }
    }
  {
    std::lock_guard<std::mutex> g (priv->lock);
    priv->queue.clear ();
    priv->flushing = false;
  }
  priv->caps_set = false;
  priv->new_stream_pending = false;
  priv->stream_count = 0;
  priv->warned_sessions.clear ();
  priv->ended = false;
  priv->session.clear ();
  auto thread = std::make_unique<wssac::ContextThread> ();
  std::string error;
  if (!thread->start ("wssac-src", error))
    {
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not start the server thread: %s", error.c_str ()),
          ("the process is out of threads or memory"));
      return FALSE;
    }
  bool ok = false;
  guint port = 0;
  thread->invoke ([&] {
    auto server = std::make_unique<wssac::IngestServer> ();
    ok = server->start (thread->context (), config,
        [self] (wssac::IngestEvent &&ev) { queue_event (self, std::move (ev)); }, error);
    if (ok)
      {
        port = server->port ();
        priv->server = std::move (server);
      }
  });
  if (!ok)
    {
      thread->stop ();
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("Could not start the WebSocket server: %s", error.c_str ()),
          ("check the address and port properties; port 0 picks a free port"));
      return FALSE;
    }
  {
    std::lock_guard<std::mutex> g (priv->thread_lock);
    priv->thread = std::move (thread);
  }
  {
    std::lock_guard<std::mutex> g (priv->settings_lock);
    priv->bound_port = port;
  }
  GST_INFO_OBJECT (self, "listening on ws://%s:%u%s", config.address.c_str (), port, config.path.c_str ());
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self),
      gst_structure_new (wssac::bus::kListening, "port", G_TYPE_UINT, port, NULL)));
  g_object_notify (G_OBJECT (self), "port");
  return TRUE;
}

static gboolean
gst_wss_audio_chunk_src_stop (GstBaseSrc *src)
{
  GstWssAudioChunkSrc *self = GST_WSS_AUDIO_CHUNK_SRC (src);
  GstWssAudioChunkSrcPrivate *priv = self->priv;
  {
    std::lock_guard<std::mutex> g (priv->thread_lock);
    if (priv->thread)
      {
        /* The server stops on its own thread, before the thread ends. */
        priv->thread->stop ([priv] {
          priv->server->stop ();
          priv->server.reset ();
        });
        priv->thread.reset ();
      }
  }
  {
    std::lock_guard<std::mutex> g (priv->settings_lock);
    priv->bound_port = 0;
  }
  std::lock_guard<std::mutex> g (priv->lock);
  priv->queue.clear ();
  return TRUE;
}

/* The caps depend on the session's format: set when its first audio comes. */
static gboolean
gst_wss_audio_chunk_src_negotiate (GstBaseSrc *src)
{
  return TRUE;
}

static gboolean
gst_wss_audio_chunk_src_unlock (GstBaseSrc *src)
{
  GstWssAudioChunkSrcPrivate *priv = GST_WSS_AUDIO_CHUNK_SRC (src)->priv;
  {
    std::lock_guard<std::mutex> g (priv->lock);
    priv->flushing = true;
  }
  priv->cond.notify_all ();
  return TRUE;
}

static gboolean
gst_wss_audio_chunk_src_unlock_stop (GstBaseSrc *src)
{
  GstWssAudioChunkSrcPrivate *priv = GST_WSS_AUDIO_CHUNK_SRC (src)->priv;
  std::lock_guard<std::mutex> g (priv->lock);
  priv->flushing = false;
  return TRUE;
}

static GstStructure *
control_structure (const wssac::IngestEvent &ev)
{
  return gst_structure_new (wssac::bus::kControl,
      "session-id", G_TYPE_STRING, ev.session_id.c_str (),
      "action", G_TYPE_STRING, wssac::action_name (ev.action),
      "timestamp", G_TYPE_INT64, (gint64) ev.timestamp_ms, NULL);
}

static void
post (GstWssAudioChunkSrc *self, GstStructure *s)
{
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
}

static GstFlowReturn
gst_wss_audio_chunk_src_create (GstPushSrc *src, GstBuffer **buf)
{
  GstWssAudioChunkSrc *self = GST_WSS_AUDIO_CHUNK_SRC (src);
  GstWssAudioChunkSrcPrivate *priv = self->priv;
  gboolean eos_on_end;
  {
    std::lock_guard<std::mutex> g (priv->settings_lock);
    eos_on_end = priv->settings.eos_on_end_session;
  }

  while (true)
    {
      QueuedEvent q;
      {
        std::unique_lock<std::mutex> g (priv->lock);
        priv->cond.wait (g, [priv] { return priv->flushing || !priv->queue.empty (); });
        if (priv->flushing)
          return GST_FLOW_FLUSHING;
        q = std::move (priv->queue.front ());
        priv->queue.pop_front ();
      }
      wssac::IngestEvent &ev = q.event;

      switch (ev.kind)
        {
        case wssac::IngestEventKind::Refused:
          /* One speaker session per element: say so once per refused id, or
           * the application never learns that a speaker is turned away. */
          if (ev.reason == "wrong-session" && priv->warned_sessions.insert (ev.session_id).second)
            GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
                ("Refused session \"%s\": this element receives one session (\"%s\")", ev.session_id.c_str (),
                    priv->session.c_str ()),
                ("each wssaudiochunksrc receives one speaker session; use one element per session, or "
                 "wssaudiochunk-ingest for many"));
          break;

        case wssac::IngestEventKind::SessionStarted:
          /* A later session (eos-on-end-session=false) is a new stream, never
           * bytes appended to the previous one. */
          if (priv->caps_set)
            priv->new_stream_pending = true;
          priv->session = ev.session_id;
          GST_INFO_OBJECT (self, "session %s started", ev.session_id.c_str ());
          post (self, gst_structure_new (wssac::bus::kSession, "session-id", G_TYPE_STRING,
              ev.session_id.c_str (), "event", G_TYPE_STRING, "started", "format", G_TYPE_STRING,
              ev.format.c_str (), "reason", G_TYPE_STRING, "", NULL));
          break;

        case wssac::IngestEventKind::Control:
          post (self, control_structure (ev));
          gst_pad_push_event (GST_BASE_SRC_PAD (self),
              gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, control_structure (ev)));
          break;

        case wssac::IngestEventKind::SessionEnded:
          GST_INFO_OBJECT (self, "session %s ended: %s", ev.session_id.c_str (), ev.reason.c_str ());
          post (self, gst_structure_new (wssac::bus::kSession, "session-id", G_TYPE_STRING,
              ev.session_id.c_str (), "event", G_TYPE_STRING, "ended", "format", G_TYPE_STRING,
              ev.format.c_str (), "reason", G_TYPE_STRING, ev.reason.c_str (), NULL));
          if (eos_on_end)
            return GST_FLOW_EOS;
          break;

        case wssac::IngestEventKind::Audio:
          {
            if (ev.new_stream && priv->caps_set)
              priv->new_stream_pending = true; /* a later run of the session: its own header follows */
            if (priv->new_stream_pending)
              {
                priv->new_stream_pending = false;
                GstPad *pad = GST_BASE_SRC_PAD (self);
                gchar *id = gst_pad_create_stream_id_printf (pad, GST_ELEMENT (self), "%u", ++priv->stream_count);
                gst_pad_push_event (pad, gst_event_new_stream_start (id));
                g_free (id);
                GstCaps *caps = gst_caps_new_empty_simple (ev.format == "ogg-opus" ? "audio/ogg" : "audio/webm");
                gst_pad_push_event (pad, gst_event_new_caps (caps));
                gst_caps_unref (caps);
                gst_pad_push_event (pad, gst_event_new_segment (&GST_BASE_SRC (self)->segment));
                GST_INFO_OBJECT (self, "session %s: new stream %u", ev.session_id.c_str (), priv->stream_count);
              }
            if (!priv->caps_set)
              {
                GstCaps *caps = gst_caps_new_empty_simple (ev.format == "ogg-opus" ? "audio/ogg" : "audio/webm");
                gboolean ok = gst_base_src_set_caps (GST_BASE_SRC (self), caps);
                gst_caps_unref (caps);
                if (!ok)
                  {
                    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Downstream does not accept %s",
                        ev.format.c_str ()), ("link a demuxer for the session's format"));
                    return GST_FLOW_NOT_NEGOTIATED;
                  }
                priv->caps_set = true;
              }
            if (ev.discont && ev.skipped_before > 0)
              post (self, gst_structure_new (wssac::bus::kGap, "session-id", G_TYPE_STRING,
                  ev.session_id.c_str (), "next-index", G_TYPE_UINT64, (guint64) ev.chunk_index,
                  "missing", G_TYPE_UINT64, (guint64) ev.skipped_before, NULL));
            gsize size = ev.bytes.size ();
            auto *holder = new std::vector<uint8_t> (std::move (ev.bytes));
            GstBuffer *out = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY, holder->data (), size, 0,
                size, holder, [] (gpointer p) { delete static_cast<std::vector<uint8_t> *> (p); });
            GST_BUFFER_PTS (out) = q.running_time;
            GST_BUFFER_DTS (out) = q.running_time;
            GST_BUFFER_OFFSET (out) = ev.chunk_index;
            if (ev.discont)
              GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_DISCONT);
            *buf = out;
            return GST_FLOW_OK;
          }
        }
    }
}
