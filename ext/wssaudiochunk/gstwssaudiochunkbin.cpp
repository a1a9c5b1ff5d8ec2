/* GStreamer
 * wssaudiochunkbin: raw audio in, WebM/Opus chunks over a WebSocket out.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-wssaudiochunkbin
 * @title: wssaudiochunkbin
 *
 * The whole speaker in one element: takes raw audio at any rate and channel
 * count, converts it to 16 kHz mono, encodes Opus at the original protocol's
 * 16 kbit/s, muxes WebM whose clusters last exactly
 * #GstWssAudioChunkBin:chunk-duration, and streams it with
 * `wssaudiochunksink`:
 *
 *     audioconvert ! audioresample ! audio/x-raw,rate=16000,channels=1
 *       ! opusenc bitrate=16000 frame-size=10
 *       ! webmmux streamable=true min-cluster-duration=<chunk-duration>
 *       ! wssaudiochunksink
 *
 * Opus frames of 10 ms make every chunk a whole number of frames (250 ms =
 * 25 frames; 20 ms frames would give 260 ms clusters). The bin keeps the
 * muxer's cluster duration equal to the sink's chunk-duration, and warns when
 * chunk-duration is not a multiple of #GstWssAudioChunkBin:frame-size.
 *
 * Every property and action signal of `wssaudiochunksink` is a property and
 * action signal of the bin (location, session-id, chunk-duration, auth-token,
 * stats, pause, mute, end-session, ...), documented there; the bus messages
 * are the sink's, posted by the child named `sink`. Encoder settings that
 * matter for speech are the bin's own: bitrate, frame-size, complexity, dtx,
 * inband-fec, packet-loss-percentage. The children can also be reached as
 * `sink::…`, `encoder::…`, `mux::…` (GstChildProxy).
 *
 * Broadcast controls posted on the bus (`wss-audio-chunk-control`) reach the
 * inner sink; their optional `target` field names that sink, which is
 * called `sink` in every bin, so with several bins in one pipeline use the
 * bins' action signals instead.
 *
 * Already encoded Opus (`audio/x-opus`) is muxed as it is, without the
 * converters and the encoder (whose settings then do nothing): encode it in
 * frames that divide chunk-duration. The first caps choose the way in for
 * the run; going back to READY chooses again.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e pulsesrc ! wssaudiochunkbin location=ws://127.0.0.1:8080/ws session-id=demo
 * ]|
 * |[
 * gst-launch-1.0 -e filesrc location=talk.wav ! wavparse ! wssaudiochunkbin \
 *   location=wss://abc123.execute-api.eu-west-1.amazonaws.com/prod?token=SECRET \
 *   session-id=talk max-message-size=30000 keepalive-interval=300000
 * ]|
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwssaudiochunkbin.h"
#include "gstwssaudiochunkelements.h"
#include "gstwssaudiochunksink.h"

#include <vector>

GST_DEBUG_CATEGORY_STATIC (gst_wss_audio_chunk_bin_debug);
#define GST_CAT_DEFAULT gst_wss_audio_chunk_bin_debug

enum
{
  PROP_0,
  PROP_BITRATE,
  PROP_FRAME_SIZE,
  PROP_COMPLEXITY,
  PROP_DTX,
  PROP_INBAND_FEC,
  PROP_PACKET_LOSS_PERCENTAGE,
  PROP_SINK_FIRST, /* then every property of wssaudiochunksink, in its order */
};

#define DEFAULT_BITRATE 16000 /* the browser speaker app's audioBitsPerSecond */
#define DEFAULT_FRAME_SIZE 10 /* ms: 250 ms chunks hold 25 whole frames */
#define DEFAULT_COMPLEXITY 10
#define DEFAULT_DTX FALSE
#define DEFAULT_INBAND_FEC FALSE
#define DEFAULT_PACKET_LOSS_PERCENTAGE 0

#define PROTOCOL_CAPS "audio/x-raw,rate=16000,channels=1"

struct _GstWssAudioChunkBinPrivate
{
  GstElement *convert = nullptr;
  GstElement *resample = nullptr;
  GstElement *filter = nullptr;
  GstElement *encoder = nullptr;
  GstElement *mux = nullptr;
  GstElement *sink = nullptr;
  GstPad *ghost = nullptr;
  GstCaps *opus_caps = nullptr; /* what the muxer takes as Opus */

  /* Chosen by the first caps, on the streaming thread; reset in READY. */
  enum class Input
  {
    None,
    Raw,  /* ghost -> audioconvert ... opusenc -> mux */
    Opus, /* ghost -> mux */
  } input
      = Input::None;
  GstPad *mux_pad = nullptr; /* requested once the input is known */
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("audio/x-raw; audio/x-opus"));

/* The sink's own properties, by (prop_id - PROP_SINK_FIRST). */
static std::vector<const gchar *> sink_property_names;

G_DEFINE_TYPE (GstWssAudioChunkBin, gst_wss_audio_chunk_bin, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE (wssaudiochunkbin, "wssaudiochunkbin", GST_RANK_NONE,
                             GST_TYPE_WSS_AUDIO_CHUNK_BIN);

/* A pspec belongs to one class: the bin installs an equal one of its own.
 * Covers the value types wssaudiochunksink uses. */
static GParamSpec *
copy_pspec (GParamSpec *p)
{
  const gchar *name = g_param_spec_get_name (p);
  const gchar *nick = g_param_spec_get_nick (p);
  const gchar *blurb = g_param_spec_get_blurb (p);
  /* The strings are copied: the bin's pspec must not depend on the sink's. */
  auto flags = static_cast<GParamFlags> (p->flags & ~G_PARAM_STATIC_STRINGS);

  if (G_IS_PARAM_SPEC_STRING (p))
    return g_param_spec_string (name, nick, blurb, G_PARAM_SPEC_STRING (p)->default_value, flags);
  if (G_IS_PARAM_SPEC_BOOLEAN (p))
    return g_param_spec_boolean (name, nick, blurb, G_PARAM_SPEC_BOOLEAN (p)->default_value, flags);
  if (G_IS_PARAM_SPEC_INT (p))
    {
      auto *s = G_PARAM_SPEC_INT (p);
      return g_param_spec_int (name, nick, blurb, s->minimum, s->maximum, s->default_value, flags);
    }
  if (G_IS_PARAM_SPEC_UINT (p))
    {
      auto *s = G_PARAM_SPEC_UINT (p);
      return g_param_spec_uint (name, nick, blurb, s->minimum, s->maximum, s->default_value, flags);
    }
  if (G_IS_PARAM_SPEC_INT64 (p))
    {
      auto *s = G_PARAM_SPEC_INT64 (p);
      return g_param_spec_int64 (name, nick, blurb, s->minimum, s->maximum, s->default_value,
                                 flags);
    }
  if (G_IS_PARAM_SPEC_UINT64 (p))
    {
      auto *s = G_PARAM_SPEC_UINT64 (p);
      return g_param_spec_uint64 (name, nick, blurb, s->minimum, s->maximum, s->default_value,
                                  flags);
    }
  if (G_IS_PARAM_SPEC_DOUBLE (p))
    {
      auto *s = G_PARAM_SPEC_DOUBLE (p);
      return g_param_spec_double (name, nick, blurb, s->minimum, s->maximum, s->default_value,
                                  flags);
    }
  if (G_IS_PARAM_SPEC_ENUM (p))
    return g_param_spec_enum (name, nick, blurb, p->value_type,
                              G_PARAM_SPEC_ENUM (p)->default_value, flags);
  if (G_IS_PARAM_SPEC_BOXED (p))
    return g_param_spec_boxed (name, nick, blurb, p->value_type, flags);
  if (G_IS_PARAM_SPEC_OBJECT (p))
    return g_param_spec_object (name, nick, blurb, p->value_type, flags);
  return nullptr;
}

/* Class closure of a forwarded action signal: emits the same signal, with
 * the same arguments, on the inner sink. */
static void
forward_signal_marshal (GClosure *closure, GValue *return_value, guint n_params,
                        const GValue *params, gpointer hint, gpointer marshal_data)
{
  auto *self = GST_WSS_AUDIO_CHUNK_BIN (g_value_get_object (&params[0]));
  guint signal_id = GPOINTER_TO_UINT (closure->data);
  std::vector<GValue> args (n_params, G_VALUE_INIT);
  g_value_init (&args[0], G_TYPE_OBJECT);
  g_value_set_object (&args[0], self->priv->sink);
  for (guint i = 1; i < n_params; i++)
    {
      g_value_init (&args[i], G_VALUE_TYPE (&params[i]));
      g_value_copy (&params[i], &args[i]);
    }
  g_signal_emitv (args.data (), signal_id, 0, return_value);
  for (auto &v : args)
    g_value_unset (&v);
}

static void
install_sink_signals (GObjectClass *klass, GType sink_type)
{
  guint n_ids = 0;
  guint *ids = g_signal_list_ids (sink_type, &n_ids);
  for (guint i = 0; i < n_ids; i++)
    {
      GSignalQuery q;
      g_signal_query (ids[i], &q);
      if (!(q.signal_flags & G_SIGNAL_ACTION))
        continue;
      GClosure *closure = g_closure_new_simple (sizeof (GClosure), GUINT_TO_POINTER (ids[i]));
      g_closure_set_marshal (closure, forward_signal_marshal);
      g_signal_newv (q.signal_name, G_TYPE_FROM_CLASS (klass), q.signal_flags, closure, NULL, NULL,
                     NULL, q.return_type, q.n_params, const_cast<GType *> (q.param_types));
    }
  g_free (ids);
}

static void
install_sink_properties (GObjectClass *klass, GType sink_type)
{
  /* Kept for the life of the process: the copies point at its enum and
   * boxed types. */
  GObjectClass *sink_class = G_OBJECT_CLASS (g_type_class_ref (sink_type));
  guint n = 0;
  GParamSpec **specs = g_object_class_list_properties (sink_class, &n);
  for (guint i = 0; i < n; i++)
    {
      if (specs[i]->owner_type != sink_type)
        continue; /* GstBaseSink's sync, qos, ...: not part of the protocol */
      GParamSpec *copy = copy_pspec (specs[i]);
      if (!copy)
        {
          g_warning ("wssaudiochunkbin: cannot proxy property %s", specs[i]->name);
          continue;
        }
      g_object_class_install_property (klass, PROP_SINK_FIRST + sink_property_names.size (), copy);
      sink_property_names.push_back (g_param_spec_get_name (copy));
    }
  g_free (specs);
}

/* opusenc's frame-size choices, as its own enum lists them (values in ms,
 * 2 for 2.5 ms), so gst-inspect shows the same. Our own type rather than
 * opusenc's: that one exists only once the opus plugin is loaded, and
 * loading a plugin from class_init deadlocks when the registry is scanned
 * in-process (GST_REGISTRY_FORK=no: the class is made while the registry
 * is locked). The value goes to opusenc as the integer it is. */
static GType
frame_size_type ()
{
  static GType type = 0;
  if (g_once_init_enter (&type))
    {
      static const GEnumValue values[] = { { 2, "2.5", "2.5" }, { 5, "5", "5" },   { 10, "10", "10" },
                                           { 20, "20", "20" },  { 40, "40", "40" }, { 60, "60", "60" },
                                           { 0, nullptr, nullptr } };
      g_once_init_leave (&type, g_enum_register_static ("GstWssAudioChunkBinFrameSize", values));
    }
  return type;
}

static GstClockTime
frame_duration (gint frame_size)
{
  /* opusenc's values are milliseconds, except 2 for 2.5 ms. */
  return frame_size == 2 ? 2500 * GST_USECOND : frame_size * GST_MSECOND;
}

/* Clusters as long as the chunks: the sink then cuts every chunk exactly at
 * a cluster start. */
static GstClockTime
chunk_duration (GstWssAudioChunkBin *self)
{
  guint chunk_ms = 0; /* milliseconds, as every duration property */
  g_object_get (self->priv->sink, "chunk-duration", &chunk_ms, NULL);
  return chunk_ms * GST_MSECOND;
}

static void
sync_cluster_duration (GstWssAudioChunkBin *self)
{
  /* webmmux counts nanoseconds. */
  g_object_set (self->priv->mux, "min-cluster-duration", (gint64)chunk_duration (self), NULL);
}

static void
check_frame_fit (GstWssAudioChunkBin *self)
{
  GstClockTime chunk = chunk_duration (self);
  gint frame_size = 0;
  g_object_get (self->priv->encoder, "frame-size", &frame_size, NULL);
  GstClockTime frame = frame_duration (frame_size);
  if (chunk % frame != 0)
    GST_ELEMENT_WARNING (self, STREAM, ENCODE, ("Chunks will be longer than chunk-duration"),
                         ("chunk-duration %" GST_TIME_FORMAT
                          " is not a whole number of %" GST_TIME_FORMAT
                          " Opus frames, so every cluster runs one frame longer; set frame-size=10 "
                          "or a chunk-duration that is a multiple of the frame size",
                          GST_TIME_ARGS (chunk), GST_TIME_ARGS (frame)));
}

/* Which child holds property `prop_id` and under which name: the encoder's
 * settings, or one of the sink's properties copied onto the bin. An unknown
 * id is warned about here, for get and set alike. */
static bool
property_target (GObject *object, guint prop_id, GParamSpec *pspec, GObject **child,
                 const char **name)
{
  auto *priv = GST_WSS_AUDIO_CHUNK_BIN (object)->priv;
  switch (prop_id)
    {
    case PROP_BITRATE:
    case PROP_FRAME_SIZE:
    case PROP_COMPLEXITY:
    case PROP_DTX:
    case PROP_INBAND_FEC:
    case PROP_PACKET_LOSS_PERCENTAGE:
      *child = G_OBJECT (priv->encoder);
      *name = pspec->name;
      return true;
    default:
      if (prop_id >= PROP_SINK_FIRST && prop_id - PROP_SINK_FIRST < sink_property_names.size ())
        {
          *child = G_OBJECT (priv->sink);
          *name = sink_property_names[prop_id - PROP_SINK_FIRST];
          return true;
        }
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return false;
    }
}

static void
gst_wss_audio_chunk_bin_set_property (GObject *object, guint prop_id, const GValue *value,
                                      GParamSpec *pspec)
{
  auto *self = GST_WSS_AUDIO_CHUNK_BIN (object);
  auto *priv = self->priv;
  GObject *child;
  const char *name;

  if (!property_target (object, prop_id, pspec, &child, &name))
    return;
  if (prop_id == PROP_FRAME_SIZE)
    g_object_set (child, name, g_value_get_enum (value), NULL); /* opusenc's enum, same values */
  else
    g_object_set_property (child, name, value);
  /* Clusters as long as a chunk: each chunk leaves as one whole cluster.
   * Read back: the sink may have refused the value. */
  if (child == G_OBJECT (priv->sink) && g_str_equal (pspec->name, "chunk-duration"))
    sync_cluster_duration (self);
}

static void
gst_wss_audio_chunk_bin_get_property (GObject *object, guint prop_id, GValue *value,
                                      GParamSpec *pspec)
{
  GObject *child;
  const char *name;

  if (!property_target (object, prop_id, pspec, &child, &name))
    return;
  if (prop_id == PROP_FRAME_SIZE)
    {
      gint frame_size = DEFAULT_FRAME_SIZE;
      g_object_get (child, name, &frame_size, NULL);
      g_value_set_enum (value, frame_size);
    }
  else
    g_object_get_property (child, name, value);
}

/* The muxer gets its pad only once the input is known: a pad that never
 * receives data would hold it back. Raw audio is encoded first; Opus goes
 * straight in. */
static gboolean
choose_input (GstWssAudioChunkBin *self, bool opus)
{
  auto *priv = self->priv;
  using Input = GstWssAudioChunkBinPrivate::Input;
  const Input wanted = opus ? Input::Opus : Input::Raw;
  if (priv->input == wanted)
    return TRUE;
  if (priv->input != Input::None)
    {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("The input changed between raw audio and Opus"),
                         ("wssaudiochunkbin takes one kind of input per run; restart it from "
                          "READY to change"));
      return FALSE;
    }
  priv->mux_pad = gst_element_request_pad_simple (priv->mux, "audio_%u");
  if (!priv->mux_pad)
    return FALSE;
  gboolean ok;
  if (opus)
    ok = gst_ghost_pad_set_target (GST_GHOST_PAD (priv->ghost), priv->mux_pad);
  else
    {
      GstPad *enc = gst_element_get_static_pad (priv->encoder, "src");
      ok = gst_pad_link (enc, priv->mux_pad) == GST_PAD_LINK_OK;
      gst_object_unref (enc);
    }
  GST_DEBUG_OBJECT (self, "input %s", opus ? "Opus, muxed as is" : "raw audio, encoded");
  priv->input = wanted;
  return ok;
}

static void
reset_input (GstWssAudioChunkBin *self)
{
  auto *priv = self->priv;
  if (!priv->mux_pad)
    return;
  GstPad *peer = gst_pad_get_peer (priv->mux_pad);
  if (peer)
    {
      gst_pad_unlink (peer, priv->mux_pad);
      gst_object_unref (peer);
    }
  GstPad *convert = gst_element_get_static_pad (priv->convert, "sink");
  gst_ghost_pad_set_target (GST_GHOST_PAD (priv->ghost), convert);
  gst_object_unref (convert);
  gst_element_release_request_pad (priv->mux, priv->mux_pad);
  gst_object_unref (priv->mux_pad);
  priv->mux_pad = nullptr;
  priv->input = GstWssAudioChunkBinPrivate::Input::None;
}

static gboolean
ghost_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  auto *self = GST_WSS_AUDIO_CHUNK_BIN (parent);
  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS)
    {
      GstCaps *caps = nullptr;
      gst_event_parse_caps (event, &caps);
      const bool opus = gst_structure_has_name (gst_caps_get_structure (caps, 0), "audio/x-opus");
      if (!choose_input (self, opus))
        {
          gst_event_unref (event);
          return FALSE;
        }
    }
  return gst_pad_event_default (pad, parent, event);
}

/* Before the first caps the pad offers both ways in: what audioconvert
 * takes, and the Opus the muxer takes. */
static gboolean
ghost_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  auto *self = GST_WSS_AUDIO_CHUNK_BIN (parent);
  auto *priv = self->priv;
  if (priv->input != GstWssAudioChunkBinPrivate::Input::None)
    return gst_pad_query_default (pad, parent, query);

  GstPad *convert = gst_element_get_static_pad (priv->convert, "sink");
  gboolean handled = FALSE;
  if (GST_QUERY_TYPE (query) == GST_QUERY_CAPS)
    {
      GstCaps *filter = nullptr;
      gst_query_parse_caps (query, &filter);
      GstCaps *raw = gst_pad_query_caps (convert, filter);
      GstCaps *opus
          = filter ? gst_caps_intersect_full (filter, priv->opus_caps, GST_CAPS_INTERSECT_FIRST)
                   : gst_caps_ref (priv->opus_caps);
      GstCaps *both = gst_caps_merge (raw, opus);
      gst_query_set_caps_result (query, both);
      gst_caps_unref (both);
      handled = TRUE;
    }
  else if (GST_QUERY_TYPE (query) == GST_QUERY_ACCEPT_CAPS)
    {
      GstCaps *caps = nullptr;
      gst_query_parse_accept_caps (query, &caps);
      gboolean accepted = gst_caps_can_intersect (caps, priv->opus_caps)
                          || gst_pad_query_accept_caps (convert, caps);
      gst_query_set_accept_caps_result (query, accepted);
      handled = TRUE;
    }
  gst_object_unref (convert);
  return handled ? TRUE : gst_pad_query_default (pad, parent, query);
}

static GstStateChangeReturn
gst_wss_audio_chunk_bin_change_state (GstElement *element, GstStateChange transition)
{
  auto *self = GST_WSS_AUDIO_CHUNK_BIN (element);

  if (transition == GST_STATE_CHANGE_NULL_TO_READY)
    {
      if (!self->priv->encoder || !self->priv->mux)
        {
          GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN, ("Missing element: opusenc or webmmux"),
                             ("wssaudiochunkbin needs opusenc (gstreamer1.0-plugins-base) and "
                              "webmmux (gstreamer1.0-plugins-good); install them"));
          return GST_STATE_CHANGE_FAILURE;
        }
    }
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    {
      sync_cluster_duration (self); /* chunk-duration may have come via sink::chunk-duration */
      check_frame_fit (self);
    }

  GstStateChangeReturn ret = GST_ELEMENT_CLASS (gst_wss_audio_chunk_bin_parent_class)
                                 ->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    reset_input (self);
  return ret;
}

static void
gst_wss_audio_chunk_bin_finalize (GObject *object)
{
  auto *self = GST_WSS_AUDIO_CHUNK_BIN (object);
  if (self->priv->opus_caps)
    gst_caps_unref (self->priv->opus_caps);
  delete self->priv;
  G_OBJECT_CLASS (gst_wss_audio_chunk_bin_parent_class)->finalize (object);
}

static void
gst_wss_audio_chunk_bin_class_init (GstWssAudioChunkBinClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const auto RW = static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
                                            | GST_PARAM_MUTABLE_PLAYING);

  gobject_class->set_property = gst_wss_audio_chunk_bin_set_property;
  gobject_class->get_property = gst_wss_audio_chunk_bin_get_property;
  gobject_class->finalize = gst_wss_audio_chunk_bin_finalize;

  /**
   * GstWssAudioChunkBin:bitrate:
   *
   * Opus bit rate in bit/s. 16000 is what the browser speaker app sends;
   * speech stays intelligible down to about 8000.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_BITRATE,
                                   g_param_spec_int ("bitrate", "Bitrate",
                                                     "Opus bit rate in bit/s (opusenc bitrate)",
                                                     4000, 650000, DEFAULT_BITRATE, RW));
  /**
   * GstWssAudioChunkBin:frame-size:
   *
   * Opus frame duration in ms. chunk-duration should be a whole number of
   * frames: 10 fits every multiple of 10 ms; 20 saves a little overhead when
   * chunk-duration is a multiple of 20 ms.
   *
   * Since: 0.1
   */
  gst_type_mark_as_plugin_api (frame_size_type (), (GstPluginAPIFlags) 0);
  g_object_class_install_property (
      gobject_class, PROP_FRAME_SIZE,
      g_param_spec_enum ("frame-size", "Frame size",
                         "Opus frame duration in ms (opusenc frame-size); chunks hold whole frames",
                         frame_size_type (), DEFAULT_FRAME_SIZE, RW));
  /**
   * GstWssAudioChunkBin:complexity:
   *
   * Opus encoder complexity, 0 (cheapest) to 10 (best quality per bit).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_COMPLEXITY,
                                   g_param_spec_int ("complexity", "Complexity",
                                                     "Opus encoder complexity (0-10)", 0, 10,
                                                     DEFAULT_COMPLEXITY, RW));
  /**
   * GstWssAudioChunkBin:dtx:
   *
   * Discontinuous transmission: silence costs almost no bits.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_DTX,
      g_param_spec_boolean ("dtx", "DTX", "Send almost nothing during silence (Opus DTX)",
                            DEFAULT_DTX, RW));
  /**
   * GstWssAudioChunkBin:inband-fec:
   *
   * Opus in-band forward error correction; useful only together with
   * #GstWssAudioChunkBin:packet-loss-percentage.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_INBAND_FEC,
      g_param_spec_boolean ("inband-fec", "In-band FEC",
                            "Opus in-band forward error correction (with packet-loss-percentage)",
                            DEFAULT_INBAND_FEC, RW));
  /**
   * GstWssAudioChunkBin:packet-loss-percentage:
   *
   * Expected packet loss the encoder prepares for, in percent.
   *
   * Since: 0.1
   */
  g_object_class_install_property (
      gobject_class, PROP_PACKET_LOSS_PERCENTAGE,
      g_param_spec_int ("packet-loss-percentage", "Packet loss percentage",
                        "Expected packet loss in percent (for inband-fec)", 0, 100,
                        DEFAULT_PACKET_LOSS_PERCENTAGE, RW));

  install_sink_properties (gobject_class, GST_TYPE_WSS_AUDIO_CHUNK_SINK);
  install_sink_signals (gobject_class, GST_TYPE_WSS_AUDIO_CHUNK_SINK);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (
      element_class, "WebSocket audio chunk speaker", "Sink/Network/Audio",
      "Encodes raw audio to WebM/Opus and streams it in JSON chunks over a WebSocket",
      "wssaudiochunk developers");
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_wss_audio_chunk_bin_change_state);

  GST_DEBUG_CATEGORY_INIT (gst_wss_audio_chunk_bin_debug, "wssaudiochunkbin", 0,
                           "WebSocket audio chunk bin");
}

static GstElement *
add_child (GstWssAudioChunkBin *self, const gchar *factory, const gchar *name)
{
  GstElement *e = gst_element_factory_make (factory, name);
  if (!e)
    {
      GST_WARNING_OBJECT (self, "element %s is not installed", factory);
      return nullptr;
    }
  gst_bin_add (GST_BIN (self), e);
  return e;
}

static void
gst_wss_audio_chunk_bin_init (GstWssAudioChunkBin *self)
{
  auto *priv = self->priv = new GstWssAudioChunkBinPrivate ();

  priv->convert = add_child (self, "audioconvert", "convert");
  priv->resample = add_child (self, "audioresample", "resample");
  priv->filter = add_child (self, "capsfilter", "filter");
  priv->encoder = add_child (self, "opusenc", "encoder");
  priv->mux = add_child (self, "webmmux", "mux");
  priv->sink = GST_ELEMENT (g_object_new (GST_TYPE_WSS_AUDIO_CHUNK_SINK, "name", "sink", NULL));
  gst_bin_add (GST_BIN (self), priv->sink);

  if (priv->filter)
    {
      GstCaps *caps = gst_caps_from_string (PROTOCOL_CAPS);
      g_object_set (priv->filter, "caps", caps, NULL);
      gst_caps_unref (caps);
    }
  if (priv->encoder)
    g_object_set (priv->encoder, "bitrate", DEFAULT_BITRATE, "frame-size", DEFAULT_FRAME_SIZE,
                  NULL);
  if (priv->mux)
    g_object_set (priv->mux, "streamable", TRUE, NULL);
  if (!priv->convert || !priv->resample || !priv->filter || !priv->encoder || !priv->mux)
    return; /* NULL_TO_READY reports what is missing */

  gst_element_link_many (priv->convert, priv->resample, priv->filter, priv->encoder, NULL);
  gst_element_link (priv->mux, priv->sink);
  GstPadTemplate *mux_audio
      = gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (priv->mux), "audio_%u");
  GstCaps *opus = gst_caps_from_string ("audio/x-opus");
  GstCaps *mux_caps = gst_pad_template_get_caps (mux_audio);
  priv->opus_caps = gst_caps_intersect (mux_caps, opus);
  gst_caps_unref (mux_caps);
  gst_caps_unref (opus);

  GstPad *target = gst_element_get_static_pad (priv->convert, "sink");
  priv->ghost = gst_ghost_pad_new_from_template (
      "sink", target, gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self), "sink"));
  gst_object_unref (target);
  gst_pad_set_event_function (priv->ghost, GST_DEBUG_FUNCPTR (ghost_event));
  gst_pad_set_query_function (priv->ghost, GST_DEBUG_FUNCPTR (ghost_query));
  gst_element_add_pad (GST_ELEMENT (self), priv->ghost);
  sync_cluster_duration (self);
}
