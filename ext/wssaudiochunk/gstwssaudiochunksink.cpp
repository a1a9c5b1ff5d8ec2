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
 * of #GstWssAudioChunkSink:chunk-duration on WebM cluster (or Ogg page)
 * boundaries, and sends each as one JSON text message over a WebSocket,
 * exactly as the browser speaker app of the original protocol does:
 *
 *     {"action":"audioChunk","sessionId":"demo","audioData":"<base64>",
 *      "timestamp":<epoch ms>,"format":"webm-opus","chunkIndex":N,"originalSize":<bytes>}
 *
 * The first chunk begins with the stream header, and every later one with a
 * cluster (unless clusters come too rarely, or a chunk must be cut early to
 * fit #GstWssAudioChunkSink:max-message-size), so a receiver can decode the
 * concatenation. chunkIndex counts from 0 for the life of the element.
 * Network I/O runs on a libsoup thread of its own: neither the streaming
 * thread nor a state change ever waits on the network. A lost connection is
 * re-established with backoff while chunks wait in a bounded backlog;
 * anything the bound drops is counted in #GstWssAudioChunkSink:stats and
 * announced with one warning naming the lost chunk indices. With no
 * #GstWssAudioChunkSink:session-id the element makes up a random UUID (see
 * stream-start below), so the URI shorthand `… ! ws://host:port/ws` streams.
 *
 * Every duration property is in milliseconds (chunk-duration=250,
 * keepalive-interval=10000); a non-zero value below a property's minimum is
 * refused with a warning. The muxers' min-cluster-duration and
 * max-page-delay are in nanoseconds.
 *
 * ## Example launch lines
 * WebM/Opus, 250 ms chunks (the muxer's clusters must match chunk-duration):
 * |[
 * gst-launch-1.0 pulsesrc ! audioconvert ! audioresample ! audio/x-raw,rate=16000,channels=1 \
 *   ! opusenc bitrate=16000 frame-size=10 ! webmmux streamable=true min-cluster-duration=250000000 \
 *   ! wssaudiochunksink location=ws://127.0.0.1:8080/ws session-id=demo
 * ]|
 * Ogg/Opus (format "ogg-opus"): pages every 250 ms with max-page-delay:
 * |[
 * gst-launch-1.0 pulsesrc ! audioconvert ! audioresample ! audio/x-raw,rate=16000,channels=1 \
 *   ! opusenc bitrate=16000 frame-size=10 ! oggmux max-page-delay=250000000 \
 *   ! wssaudiochunksink location=ws://127.0.0.1:8080/ws session-id=demo
 * ]|
 * AWS API Gateway, the token in the query (logs and messages show token=***):
 * |[
 * gst-launch-1.0 pulsesrc ! audioconvert ! audioresample ! audio/x-raw,rate=16000,channels=1 \
 *   ! opusenc bitrate=16000 frame-size=10 ! webmmux streamable=true min-cluster-duration=250000000 \
 *   ! wssaudiochunksink location=wss://abc123.execute-api.eu-west-1.amazonaws.com/prod \
 *     auth-token="$TOKEN" auth-token-mode=query session-id=demo
 * ]|
 *
 * ## Broadcast controls
 * Pause, resume, mute, unmute and end the session four ways: the action
 * signals `pause`, `resume`, `mute`, `unmute`, `end-session` (reason); the
 * #GstWssAudioChunkSink:paused and #GstWssAudioChunkSink:muted properties
 * (while PLAYING); an application message posted on the pipeline's bus
 * (`gst_message_new_application()`; the element sees it as it is posted,
 * from any thread); or a custom downstream event travelling in band
 * (`gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, …)`), applied exactly
 * between the buffers around it. Messages and events share one structure:
 * |[
 * wss-audio-chunk-control, action=(string)pause
 * ]|
 * with action one of pause, resume, mute, unmute, end-session (or the wire
 * names pauseBroadcast, resumeBroadcast, muteBroadcast, unmuteBroadcast,
 * endSession), an optional reason=(string) for end-session, and an optional
 * target=(string)<element name> when several sinks share a pipeline. An
 * unknown action is not applied and posts a warning.
 * A pause holds chunks (up to #GstWssAudioChunkSink:max-pause-time) and sends
 * them after resume; a mute drops the audio for good (whole clusters, so the
 * stream stays decodable). The server hears `pauseBroadcast`,
 * `resumeBroadcast`, `muteBroadcast`, `unmuteBroadcast` and `endSession`, in
 * order with the chunks around them.
 *
 * ## Element messages
 * * `wss-audio-chunk-stream-start`: session-id (string; the generated UUID
 *   when none was set), location (string, credentials shown as ***). Once
 *   connected, or at start with #GstWssAudioChunkSink:async-connect.
 * * `wss-audio-chunk-stream-stop`: session-id (string), chunks-sent,
 *   chunks-dropped (guint64), reason (string: "eos", "stopped" or "error").
 * * `wss-audio-chunk-connection`: state (string: "connecting", "connected",
 *   "reconnecting", "closing", "closed", "failed"), detail (string).
 * * `wss-audio-chunk-transmitting`: transmitting, paused, muted (gboolean), on
 *   every change (the browser speaker app's setTransmitting).
 * * `wss-audio-chunk-sent`, one per chunk, only with
 *   #GstWssAudioChunkSink:post-messages=true: chunk-index (guint64), size
 *   (guint, audio bytes), encoded-size (guint, bytes of the frame), timestamp
 *   (gint64, ms since the epoch).
 *
 * ## Warnings and errors
 * * Lost chunks: a GST_RESOURCE_ERROR_WRITE warning per episode (at most
 *   one a second per reason), details `wss-audio-chunk-dropped` with
 *   first-index, last-index, count, bytes, duration (guint64; ns) and reason
 *   (string: "backlog", "paused", "oversize", "given-up", "refused",
 *   "unconfirmed").
 * * Error replies from the receiver: a GST_RESOURCE_ERROR_WRITE warning with
 *   details code and message (once a second per code). Final ones
 *   (wrong-session, session-ended, invalid-session-id, unauthorized,
 *   session-bound), or refusals for #GstWssAudioChunkSink:refusal-timeout:
 *   an error naming the cause and the fix.
 * * Chunks that miss chunk-duration by more than 20 % over the first seconds
 *   (default webmmux clusters, Ogg pages): one GST_STREAM_ERROR_FORMAT
 *   warning naming the muxer property to set.
 * * The first connection failed (without async-connect): an error,
 *   GST_RESOURCE_ERROR_NOT_AUTHORIZED for HTTP 401/403, _NOT_FOUND for 404,
 *   _OPEN_WRITE otherwise, details http-status-code (guint, when the server
 *   answered) and connect-error (string: "timeout", "http-status",
 *   "tls-certificate", "tls-not-spoken", "tls-expected", "tls", "network",
 *   "invalid-uri").
 * * The connection was lost for good (#GstWssAudioChunkSink:max-retries):
 *   a GST_RESOURCE_ERROR_WRITE error.
 * * At EOS, chunks still unconfirmed after
 *   #GstWssAudioChunkSink:drain-timeout: a warning, and they are counted
 *   and announced as lost ("unconfirmed").
 *
 * The fields of #GstWssAudioChunkSink:stats, with their units, are listed
 * with the property.
 *
 * Since: 0.1
 */

#include "sink-private.h"

#include "gstwssaudiochunkelements.h"
#include "sink-bus-listener.h"
#include "sink-caps.h"
#include "sink-cluster-rule.h"
#include "sink-controls.h"
#include "sink-manual.h"
#include "sink-messages.h"
#include "sink-properties.h"

#include "bus-messages.h"
#include "muxer-buffer.h"
#include "session-id.h"
#include "transport-config.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace wssac;

GST_DEBUG_CATEGORY (gst_wss_audio_chunk_sink_debug);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/webm; video/webm; audio/ogg"));

static void gst_wss_audio_chunk_sink_uri_handler_init (gpointer g_iface, gpointer iface_data);

#define gst_wss_audio_chunk_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstWssAudioChunkSink, gst_wss_audio_chunk_sink, GST_TYPE_BASE_SINK,
    G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER, gst_wss_audio_chunk_sink_uri_handler_init));
GST_ELEMENT_REGISTER_DEFINE (wssaudiochunksink, "wssaudiochunksink", GST_RANK_NONE,
    GST_TYPE_WSS_AUDIO_CHUNK_SINK);

static void gst_wss_audio_chunk_sink_finalize (GObject *object);
static gboolean gst_wss_audio_chunk_sink_start (GstBaseSink *sink);
static gboolean gst_wss_audio_chunk_sink_stop (GstBaseSink *sink);
static gboolean gst_wss_audio_chunk_sink_set_caps (GstBaseSink *sink, GstCaps *caps);
static GstFlowReturn gst_wss_audio_chunk_sink_render (GstBaseSink *sink, GstBuffer *buffer);
static gboolean gst_wss_audio_chunk_sink_event (GstBaseSink *sink, GstEvent *event);
static GstFlowReturn gst_wss_audio_chunk_sink_wait_event (GstBaseSink *sink, GstEvent *event);
static gboolean gst_wss_audio_chunk_sink_unlock (GstBaseSink *sink);
static gboolean gst_wss_audio_chunk_sink_unlock_stop (GstBaseSink *sink);

/* pause, resume, mute and unmute: action signals without arguments, each
 * one control. */
template <Action A>
static void
flag_signal (GstWssAudioChunkSink *self)
{
  sink::control (self, A, "");
}

static void
install_flag_signal (GstWssAudioChunkSinkClass *klass, const char *name, GCallback handler)
{
  g_signal_new_class_handler (name, G_TYPE_FROM_CLASS (klass),
      static_cast<GSignalFlags> (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION), handler, NULL, NULL, NULL,
      G_TYPE_NONE, 0);
}

static void
gst_wss_audio_chunk_sink_class_init (GstWssAudioChunkSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_wss_audio_chunk_sink_finalize;
  gobject_class->set_property = gst_wss_audio_chunk_sink_set_property;
  gobject_class->get_property = gst_wss_audio_chunk_sink_get_property;

  sink::install_properties (gobject_class);

  /**
   * GstWssAudioChunkSink::pause:
   *
   * Action signal: pause the broadcast (see #GstWssAudioChunkSink:paused).
   *
   * Since: 0.1
   */
  install_flag_signal (klass, "pause", G_CALLBACK (flag_signal<Action::PauseBroadcast>));
  /**
   * GstWssAudioChunkSink::resume:
   *
   * Action signal: resume a paused broadcast; the kept chunks go out first.
   *
   * Since: 0.1
   */
  install_flag_signal (klass, "resume", G_CALLBACK (flag_signal<Action::ResumeBroadcast>));
  /**
   * GstWssAudioChunkSink::mute:
   *
   * Action signal: mute (see #GstWssAudioChunkSink:muted).
   *
   * Since: 0.1
   */
  install_flag_signal (klass, "mute", G_CALLBACK (flag_signal<Action::MuteBroadcast>));
  /**
   * GstWssAudioChunkSink::unmute:
   *
   * Action signal: unmute; audio resumes at the next cluster.
   *
   * Since: 0.1
   */
  install_flag_signal (klass, "unmute", G_CALLBACK (flag_signal<Action::UnmuteBroadcast>));
  /**
   * GstWssAudioChunkSink::end-session:
   * @reason: why, for the server (the browser speaker app sends "Speaker ended session")
   *
   * Action signal: send what is queued, then `endSession` with @reason, then
   * close the connection; the element accepts no more audio (render returns
   * EOS, so the pipeline ends).
   *
   * Since: 0.1
   */
  g_signal_new_class_handler ("end-session", G_TYPE_FROM_CLASS (klass),
      static_cast<GSignalFlags> (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (+[] (GstWssAudioChunkSink *self, const gchar *reason) {
        sink::control (self, Action::EndSession, reason ? reason : "");
      }),
      NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "WebSocket audio chunk sink", "Sink/Network",
      "Streams WebM/Opus audio in JSON chunks over a WebSocket (libsoup)",
      "wssaudiochunk developers");
  gst_element_class_add_static_metadata (element_class, sink::manual::kExamplesKey, sink::manual::kExamples);
  gst_element_class_add_static_metadata (element_class, sink::manual::kMessagesKey, sink::manual::kMessages);
  gst_element_class_add_static_metadata (element_class, sink::manual::kControlsKey, sink::manual::kControls);
  gst_element_class_add_static_metadata (element_class, sink::manual::kStatsKey, sink::manual::kStats);

  gst_type_mark_as_plugin_api (GST_TYPE_WSS_AUDIO_CHUNK_SINK_BACKLOG_POLICY, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_MODE, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WSS_AUDIO_CHUNK_SINK_FRAMING, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI, (GstPluginAPIFlags) 0);

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_sink_stop);
  basesink_class->set_caps = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_sink_set_caps);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_sink_render);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_sink_event);
  basesink_class->wait_event = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_sink_wait_event);
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

std::shared_ptr<WssClientTransport>
sink::transport (GstWssAudioChunkSink *self)
{
  std::lock_guard<std::mutex> g (self->priv->stream_lock);
  return self->priv->state.transport;
}


/* ---- transport callbacks (transport thread) ---- */

static void
on_chunk_sent (GstWssAudioChunkSink *self, const SentInfo &info)
{
  GST_LOG_OBJECT (self, "chunk %" G_GUINT64_FORMAT ": %zu bytes, %zu encoded", info.chunk_index,
      info.size, info.encoded_size);
  if (self->priv->post_messages)
    sink::post_sent (self, info);
}

static void
on_fatal (GstWssAudioChunkSink *self, const std::string &message, const std::string &fix)
{
  GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("%s", message.c_str ()), ("%s", fix.c_str ()));
  self->priv->fatal = true; /* after the error that says why */
}

/* The first connection failed (async-connect off): an error the user acts
 * on, mapped as souphttpsrc maps HTTP statuses. */
static void
on_connect_failed (GstWssAudioChunkSink *self, const ConnectError &e)
{
  sink::post_connect_error (self, e);
  /* Only now: the upstream "Internal data stream error" a failing render
   * causes must come after the error that says why. */
  self->priv->fatal = true;
}

static void
on_state_changed (GstWssAudioChunkSink *self, ConnectionState state, const std::string &detail,
    const std::string &session_id, const std::string &location)
{
  sink::post_connection (self, state, detail);
  if (state == ConnectionState::Connected && !self->priv->stream_started.exchange (true))
    sink::post_stream_start (self, session_id, location);
}

static void
post_stream_stop (GstWssAudioChunkSink *self, const char *reason)
{
  std::string session_id;
  std::shared_ptr<WssClientTransport> transport;
  {
    std::lock_guard<std::mutex> g (self->priv->stream_lock);
    sink::State &st = self->priv->state;
    if (st.stream_stopped || !st.transport)
      return;
    st.stream_stopped = true;
    session_id = st.session_id;
    transport = st.transport;
  }
  sink::post_stream_stop (self, session_id, transport->stats (), reason);
}

/* ---- GstBaseSink vfuncs ---- */

static gboolean
gst_wss_audio_chunk_sink_start (GstBaseSink *sink)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (sink);
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  TransportConfig config;
  GstClockTime chunk_duration, max_pause_time;
  gboolean start_paused, start_muted;

  GST_OBJECT_LOCK (self);
  config = sink::transport_config (priv->settings);
  chunk_duration = priv->settings.chunk_duration * GST_MSECOND;
  max_pause_time = priv->settings.max_pause_time * GST_MSECOND;
  start_paused = priv->settings.paused;
  start_muted = priv->settings.muted;
  priv->post_messages = priv->settings.post_messages;
  GST_OBJECT_UNLOCK (self);

  if (config.session_id.empty ())
    {
      /* The URI shorthand (`… ! ws://host/ws`) cannot set properties. */
      gchar *uuid = g_uuid_string_random ();
      config.session_id = uuid;
      g_free (uuid);
      GST_OBJECT_LOCK (self);
      priv->settings.session_id = config.session_id;
      GST_OBJECT_UNLOCK (self);
      GST_INFO_OBJECT (self, "no session-id set: streaming as session %s", config.session_id.c_str ());
      g_object_notify (G_OBJECT (self), "session-id");
    }
  std::string problem = session_id_problem (config.session_id);
  if (!problem.empty ())
    {
      g_clear_object (&config.tls_database);
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Invalid session-id: %s", problem.c_str ()),
          ("set the session-id property to another value, or leave it empty for a random UUID"));
      return FALSE;
    }
  /* A new stream identity per run: a receiver tells a rerun of the same
   * session from a replay. */
  config.stream_id = new_stream_id ();
  std::string sid_problem = session_id_room_problem (config);
  if (!sid_problem.empty ())
    {
      g_clear_object (&config.tls_database);
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", sid_problem.c_str ()),
          ("set session-id to 1 to %zu bytes of UTF-8 without control characters",
              kMaxSessionIdBytes));
      return FALSE;
    }
  std::string why = location_problem (config.uri);
  if (!why.empty ())
    {
      g_clear_object (&config.tls_database);
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", why.c_str ()), (NULL));
      return FALSE;
    }

  sink::State st;
  st.session_id = config.session_id;
  st.location = redact_uri (config.uri);
  st.chunker = std::make_unique<Chunker> (static_cast<int64_t> (chunk_duration));
  /* Keep every message under max-message-size: base64 is 4/3 of the audio,
   * plus the other fields (an escaped session id, a re-sent stream header
   * of up to 4 KB). */
  int64_t room = static_cast<int64_t> (config.max_message_size) - 1024
                 - 6 * static_cast<int64_t> (config.session_id.size ()) - 4096 * 4 / 3;
  st.chunker->set_max_bytes (room > 0 ? static_cast<size_t> (room) * 3 / 4 : 1);
  st.broadcast = BroadcastState (static_cast<int64_t> (max_pause_time));
  st.cadence = CadenceCheck (static_cast<int64_t> (chunk_duration));
  st.transport = std::make_shared<WssClientTransport> (GST_OBJECT (self));
  priv->fatal = false;

  TransportCallbacks cb;
  cb.chunk_sent = [self] (const SentInfo &info) { on_chunk_sent (self, info); };
  cb.dropped = [self] (const DropEpisode &e) { sink::post_dropped (self, e); };
  cb.refused = [self] (const std::string &code, const std::string &message) {
    sink::post_refused (self, code, message);
  };
  cb.state_changed = [self, session_id = st.session_id, location = st.location] (ConnectionState s,
                         const std::string &d) { on_state_changed (self, s, d, session_id, location); };
  cb.connect_failed = [self] (const ConnectError &e) { on_connect_failed (self, e); };
  /* With async-connect the stream starts now; else once connected. */
  priv->stream_started = config.async_connect;
  cb.fatal = [self] (const std::string &m, const std::string &fix) { on_fatal (self, m, fix); };

  if (!config.ssl_strict && g_str_has_prefix (config.uri.c_str (), "wss"))
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("TLS certificate validation is disabled (ssl-strict=false)"),
        ("any server can pose as %s and read the audio; set ssl-ca-file instead", st.location.c_str ()));

  std::string error;
  gboolean started = st.transport->start (config, std::move (cb), error);
  g_clear_object (&config.tls_database);
  if (!started)
    {
      st.transport->stop ();
      {
        std::lock_guard<std::mutex> g (priv->stream_lock);
        priv->state = sink::State ();
      }
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", error.c_str ()), (NULL));
      return FALSE;
    }

  if (config.async_connect)
    sink::post_stream_start (self, st.session_id, st.location);
  {
    std::lock_guard<std::mutex> g (priv->stream_lock);
    priv->state = std::move (st);
    int64_t now = g_get_real_time () / 1000;
    if (start_paused)
      priv->state.broadcast.pause (now); /* waits for the first chunk */
    if (start_muted)
      priv->state.broadcast.mute (now);
  }
  priv->posted_transmitting = -1;
  sink::post_transmitting (self, !start_paused && !start_muted, start_paused, start_muted);
  priv->bus_listener = std::make_unique<sink::PipelineBusListener> (GST_ELEMENT (self),
      [self] (const GstStructure *s) { sink::control_from_structure (self, s); });
  return TRUE;
}

static gboolean
gst_wss_audio_chunk_sink_stop (GstBaseSink *sink)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (sink);
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  priv->bus_listener.reset ();
  /* Not under the stream lock: the transport's thread posts messages. */
  std::shared_ptr<WssClientTransport> transport = sink::transport (self);
  if (transport)
    {
      transport->stop ();
      post_stream_stop (self, priv->fatal ? "error" : "stopped");
    }
  std::lock_guard<std::mutex> g (priv->stream_lock);
  priv->state.chunker.reset ();
  return TRUE;
}

static gboolean
gst_wss_audio_chunk_sink_set_caps (GstBaseSink *sink, GstCaps *caps)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (sink);
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  const GstStructure *s = gst_caps_get_structure (caps, 0);

  GST_OBJECT_LOCK (self);
  gboolean format_set = !priv->settings.format.empty ();
  GST_OBJECT_UNLOCK (self);
  const bool ogg = g_str_has_suffix (gst_structure_get_name (s), "/ogg");
  /* Where webmmux starts its clusters: chunks then close after their last
   * frame (sink-cluster-rule.h). */
  const int64_t cluster_rule
      = ogg ? kNoTime : sink::upstream_cluster_rule (GST_BASE_SINK_PAD (sink));

  std::lock_guard<std::mutex> g (priv->stream_lock);
  sink::State &st = priv->state;
  st.caps_format = sink::format_from_caps (s);
  if (!format_set && st.transport)
    st.transport->set_format (st.caps_format);
  if (st.chunker)
    {
      st.chunker->set_caps_stream_header (sink::stream_header_from_caps (s));
      if (cluster_rule != st.chunker->cluster_rule ())
        GST_INFO_OBJECT (self, "muxer's cluster rule: %" G_GINT64_FORMAT " ns%s", cluster_rule,
                         cluster_rule >= 0 ? ", a chunk closes after its last frame" : " (unknown)");
      st.chunker->set_cluster_rule (cluster_rule);
    }
  GST_DEBUG_OBJECT (self, "caps %" GST_PTR_FORMAT ", format %s", caps, st.caps_format.c_str ());
  return TRUE;
}

static GstFlowReturn
gst_wss_audio_chunk_sink_render (GstBaseSink *sink, GstBuffer *buffer)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (sink);
  GstWssAudioChunkSinkPrivate *priv = self->priv;

  if (priv->fatal)
    return GST_FLOW_ERROR;

  /* A non-live upstream (a file, sync=false) goes as fast as the receiver
   * takes it: wait for room in the backlog instead of dropping. A live one
   * cannot wait: it keeps the bounded backlog. */
  std::shared_ptr<WssClientTransport> transport;
  bool live = true;
  sink::Pending pending;
  bool submitted = false;
  bool warn_time_cuts = false, warn_cadence = false, ogg = false;
  GstClockTime chunk_duration = 0, mean_duration = 0;
  {
    /* One lock per buffer. */
    std::lock_guard<std::mutex> g (priv->stream_lock);
    sink::State &st = priv->state;
    if (st.upstream_live < 0)
      {
        gboolean is_live = FALSE, upstream_live = FALSE;
        gst_base_sink_query_latency (sink, &is_live, &upstream_live, NULL, NULL);
        st.upstream_live = upstream_live ? 1 : 0;
        GST_DEBUG_OBJECT (self, "upstream is %slive", upstream_live ? "" : "not ");
      }
    live = st.upstream_live != 0;
    if (st.broadcast.ended ())
      return GST_FLOW_EOS; /* end-session: no more audio */
    if (st.broadcast.muted () && !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_HEADER))
      return GST_FLOW_OK; /* never sent, not even after unmute */

    GstMapInfo map;
    if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
      {
        GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Could not map a buffer"), (NULL));
        return GST_FLOW_ERROR;
      }
    std::vector<Chunk> done;
    st.chunker->push (muxer_buffer (buffer, map), done);
    gst_buffer_unmap (buffer, &map);
    for (auto &c : done)
      {
        /* A cut by time already got its own warning. */
        if (st.cadence.add_chunk (c.duration) && !st.warned_time_cuts && !st.chunker->cutting_by_time ())
          warn_cadence = true;
        sink::submit_chunk (self, std::move (c), pending);
        submitted = true;
      }
    if (st.chunker->cutting_by_time () && !st.warned_time_cuts)
      warn_time_cuts = st.warned_time_cuts = true;
    chunk_duration = static_cast<GstClockTime> (st.chunker->chunk_duration ());
    mean_duration = static_cast<GstClockTime> (st.cadence.mean_duration ());
    ogg = st.caps_format == "ogg-opus";
    if (submitted)
      transport = st.transport; /* only a chunk needs it: no reference count per buffer */
  }
  sink::report (self, pending);
  /* Only a chunk grows the backlog: wait for room after one, not before
   * every buffer (each wait takes the transport's lock). */
  if (submitted && !live && transport && !transport->wait_for_room ())
    return GST_FLOW_FLUSHING;

  if (warn_time_cuts)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Clusters arrive less often than twice chunk-duration: cutting chunks between muxer "
         "buffers instead of on clusters"),
        ("set webmmux min-cluster-duration to chunk-duration (%" G_GUINT64_FORMAT
         " ns) so that every chunk starts on a cluster and can be decoded on its own",
            (guint64) chunk_duration));
  if (warn_cadence)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Chunks last %" GST_TIME_FORMAT " on average instead of chunk-duration %" GST_TIME_FORMAT,
            GST_TIME_ARGS (mean_duration), GST_TIME_ARGS (chunk_duration)),
        ("a chunk can only end where the muxer starts a %s: set %s=%" G_GUINT64_FORMAT
         " on the muxer, or stream raw audio through wssaudiochunkbin, which does it for you",
            ogg ? "page" : "cluster", ogg ? "oggmux max-page-delay" : "webmmux min-cluster-duration",
            (guint64) chunk_duration));
  return GST_FLOW_OK;
}

/* EOS: the partial chunk, endSession if asked, then the backlog drains. */
static void
drain_at_eos (GstWssAudioChunkSink *self, const std::shared_ptr<WssClientTransport> &transport)
{
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  GST_OBJECT_LOCK (self);
  guint timeout = priv->settings.drain_timeout;
  gboolean end_session = priv->settings.end_session_on_eos;
  GST_OBJECT_UNLOCK (self);

  sink::Pending pending;
  {
    std::lock_guard<std::mutex> g (priv->stream_lock);
    if (!priv->state.broadcast.muted ())
      sink::submit_partial (self, pending);
  }
  sink::report (self, pending);
  if (end_session)
    sink::control (self, Action::EndSession, "end of stream");
  /* What is not confirmed by then is counted and announced as lost. */
  if (!transport->drain_and_close (timeout))
    {
      TransportStats t = transport->stats ();
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
          ("Could not confirm every chunk before the end of the stream"),
          ("%" G_GUINT64_FORMAT " chunk(s) unconfirmed after drain-timeout (%u ms; state %s, last "
           "error: %s)",
              (guint64) t.unconfirmed, timeout, connection_state_name (t.state), t.last_error.c_str ()));
    }
  bool paused, muted;
  {
    std::lock_guard<std::mutex> g (priv->stream_lock);
    paused = priv->state.broadcast.paused ();
    muted = priv->state.broadcast.muted ();
  }
  sink::post_transmitting (self, false, paused, muted);
  post_stream_stop (self, "eos");
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
      if (sink::control_from_structure (self, gst_event_get_structure (event)))
        {
          gst_event_unref (event);
          return TRUE;
        }
      break;
    case GST_EVENT_EOS:
      {
        std::shared_ptr<WssClientTransport> transport;
        {
          std::lock_guard<std::mutex> g (priv->stream_lock);
          if (priv->state.chunker)
            transport = priv->state.transport;
        }
        if (transport && !priv->fatal)
          drain_at_eos (self, transport);
        if (priv->fatal)
          {
            /* Nothing was delivered: the error stands, no EOS. */
            gst_event_unref (event);
            return FALSE;
          }
        break;
      }
    case GST_EVENT_FLUSH_STOP:
      {
        std::lock_guard<std::mutex> g (priv->stream_lock);
        if (priv->state.chunker)
          priv->state.chunker->drop_pending ();
        break;
      }
    default:
      break;
    }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

/* After a fatal connection error the stream cannot end well. */
static GstFlowReturn
gst_wss_audio_chunk_sink_wait_event (GstBaseSink *sink, GstEvent *event)
{
  GstFlowReturn ret = GST_BASE_SINK_CLASS (parent_class)->wait_event (sink, event);
  if (ret == GST_FLOW_OK && GST_EVENT_TYPE (event) == GST_EVENT_EOS && GST_WSS_AUDIO_CHUNK_SINK (sink)->priv->fatal)
    return GST_FLOW_ERROR;
  return ret;
}

static gboolean
gst_wss_audio_chunk_sink_unlock (GstBaseSink *sink)
{
  std::shared_ptr<WssClientTransport> t = sink::transport (GST_WSS_AUDIO_CHUNK_SINK (sink));
  if (t)
    t->interrupt ();
  return TRUE;
}

static gboolean
gst_wss_audio_chunk_sink_unlock_stop (GstBaseSink *sink)
{
  std::shared_ptr<WssClientTransport> t = sink::transport (GST_WSS_AUDIO_CHUNK_SINK (sink));
  if (t)
    t->clear_interrupt ();
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
  GST_OBJECT_LOCK (self);
  const std::string &l = self->priv->settings.location;
  gchar *uri = l.empty () ? NULL : g_strdup (l.c_str ());
  GST_OBJECT_UNLOCK (self);
  return uri;
}

static gboolean
gst_wss_audio_chunk_sink_uri_set_uri (GstURIHandler *handler, const gchar *uri, GError **error)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (handler);
  std::string why = location_problem (uri ? uri : "");
  if (!why.empty ())
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
