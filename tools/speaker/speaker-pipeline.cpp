#include "speaker-pipeline.h"

#include "devices.h"

#include <algorithm>
#include <cmath>

namespace wssac_speaker
{

/* 10 ms Opus frames: a 250 ms chunk is exactly 25 frames and one cluster
 * (20 ms frames would make 260 ms clusters). end-session-on-eos: the end of
 * a file, q and Ctrl-C all end the session for the server. */
static const char *const kEncodeChain = "opusenc bitrate=16000 frame-size=10 "
                                        "! webmmux streamable=true min-cluster-duration=250000000 "
                                        "! wssaudiochunksink name=sink end-session-on-eos=true";

const char *const kCaptureChain
    = "audioconvert ! audioresample "
      "! audio/x-raw,format=S16LE,layout=interleaved,rate=16000,channels=1 "
      "! level name=level interval=100000000 post-messages=true";

static const char *const kDspElement
    = "webrtcdsp name=dsp echo-cancel=false noise-suppression=true gain-control=true";

static std::string
error_text (GError *err)
{
  return err && err->message ? err->message : "unknown error";
}

bool
require_elements (Console &console, std::initializer_list<const char *> factories)
{
  for (const char *f : factories)
    {
      GstElementFactory *factory = gst_element_factory_find (f);
      if (factory)
        {
          gst_object_unref (factory);
          continue;
        }
      if (g_str_equal (f, "wssaudiochunksink"))
        console.error (
            "The wssaudiochunksink element is not installed: install the wssaudiochunk plugin "
            "(the gstreamer1.0-wssaudiochunk package, or meson setup --prefix=/usr and ninja "
            "install), or point GST_PLUGIN_PATH at its build directory (build/ext/wssaudiochunk).");
      else
        console.error (std::string ("The GStreamer element \"") + f
                       + "\" is missing: install gstreamer1.0-plugins-base, -good and -bad "
                         "(scripts/install-deps.sh).");
      return false;
    }
  return true;
}

GstElement *
open_device (Console &console, const SpeakerOptions &opt, std::string &name)
{
  DeviceList devices;
  devices.probe ();
  std::string error;
  int index = pick_device (devices.entries (), opt.device, error);
  if (index < 0)
    {
      console.error (error);
      return nullptr;
    }
  const DeviceEntry &e = devices.entries ()[static_cast<size_t> (index)];
  name = e.display_name;
  GstElement *src = devices.create_element (index, "mic");
  if (!src)
    {
      console.error ("Could not open the microphone \"" + name
                     + "\": its provider made no element for it.");
      return nullptr;
    }
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (src), "client-name"))
    g_object_set (src, "client-name", "wssaudiochunk-speaker", nullptr);
  if (opt.verbose)
    console.line ("Device " + std::to_string (index) + ": " + e.element);
  return src;
}

static std::string
stream_description (bool dsp)
{
  std::string d = kCaptureChain;
  d += " ! ";
  if (dsp)
    d += std::string (kDspElement) + " ! ";
  return d + kEncodeChain;
}

static GstElement *
build_file_pipeline (Console &console, const SpeakerOptions &opt, StreamPipeline &out, GError **err)
{
  if (!require_elements (console, { "filesrc", "decodebin" }))
    return nullptr;
  /* Files are streamed as they are: no voice processing. */
  const std::string d = "filesrc name=file ! decodebin name=decoder caps=audio/x-raw "
                        "expose-all-streams=false ! "
                        + stream_description (false);
  GstElement *pipeline = gst_parse_launch (d.c_str (), err);
  if (!pipeline)
    return nullptr;
  /* Not kept: the pipeline holds them. */
  out.file_src = gst_bin_get_by_name (GST_BIN (pipeline), "file");
  out.decoder = gst_bin_get_by_name (GST_BIN (pipeline), "decoder");
  gst_object_unref (out.file_src);
  gst_object_unref (out.decoder);
  g_object_set (out.file_src, "location", opt.file.c_str (), nullptr);
  gchar *base = g_path_get_basename (opt.file.c_str ());
  out.input_name = std::string ("file \"") + base + "\"";
  g_free (base);
  if (opt.verbose)
    console.line ("Pipeline: " + d);
  return pipeline;
}

GstElement *
device_pipeline (Console &console, const char *pipeline_name, GstElement *src,
                 const std::string &device_name, const std::string &chain, GError **err)
{
  GstElement *rest = gst_parse_bin_from_description (chain.c_str (), TRUE, err);
  if (!rest)
    {
      gst_object_unref (gst_object_ref_sink (src));
      return nullptr;
    }
  GstElement *pipeline = gst_pipeline_new (pipeline_name);
  gst_bin_add_many (GST_BIN (pipeline), src, rest, nullptr);
  if (!gst_element_link (src, rest))
    {
      console.error ("The microphone \"" + device_name
                     + "\" gives no audio that can be converted to 16 kHz mono.");
      gst_object_unref (pipeline);
      return nullptr;
    }
  return pipeline;
}

static GstElement *
build_device_pipeline (Console &console, const SpeakerOptions &opt, StreamPipeline &out,
                       GError **err)
{
  std::string name;
  GstElement *src = open_device (console, opt, name);
  if (!src)
    return nullptr;
  bool dsp = false;
  if (opt.no_dsp)
    console.line ("Voice processing off (--no-dsp).");
  else if (GstElementFactory *f = gst_element_factory_find ("webrtcdsp"))
    {
      gst_object_unref (f);
      dsp = true;
      console.line ("Voice processing: webrtcdsp noise suppression and gain control "
                    "(no echo cancellation: it needs the playback signal; see docs/speaker.md).");
    }
  else
    console.line (
        "Note: webrtcdsp is not installed (gstreamer1.0-plugins-bad): streaming without noise "
        "suppression or gain control.");
  const std::string d = stream_description (dsp);
  GstElement *pipeline = device_pipeline (console, "speaker", src, name, d, err);
  if (!pipeline)
    return nullptr;
  out.capture = src;
  out.input_name = "microphone \"" + name + "\"";
  if (opt.verbose)
    console.line ("Pipeline: <device> ! " + d);
  return pipeline;
}

/* Set here, never in a description that could be printed: the token and
 * the URL's query stay out of every log. */
static void
configure_sink (GstElement *sink, const SpeakerOptions &opt)
{
  g_object_set (sink, "location", opt.url.c_str (), "session-id", opt.session_id.c_str (), nullptr);
  if (!opt.token.empty ())
    g_object_set (sink, "auth-token", opt.token.c_str (), nullptr); /* Authorization: Bearer */
  if (!opt.ca_file.empty ())
    g_object_set (sink, "ssl-ca-file", opt.ca_file.c_str (), nullptr);
  if (opt.insecure)
    g_object_set (sink, "ssl-strict", FALSE, nullptr);
}

bool
build_stream_pipeline (Console &console, const SpeakerOptions &opt, StreamPipeline &out)
{
  GError *err = nullptr;
  out.pipeline = opt.file.empty () ? build_device_pipeline (console, opt, out, &err)
                                   : build_file_pipeline (console, opt, out, &err);
  if (!out.pipeline)
    {
      if (err)
        console.error ("Cannot build the pipeline: " + error_text (err));
      g_clear_error (&err);
      return false;
    }
  g_clear_error (&err);
  out.sink = gst_bin_get_by_name (GST_BIN (out.pipeline), "sink");
  gst_object_unref (out.sink); /* the pipeline holds it */
  configure_sink (out.sink, opt);
  return true;
}

G_GNUC_BEGIN_IGNORE_DEPRECATIONS
/* The loudest channel of a `level` field (a GValueArray of doubles in
 * GStreamer 1.22). */
static double
loudest (const GstStructure *s, const char *field)
{
  double best = -INFINITY;
  const GValue *v = gst_structure_get_value (s, field);
  if (!v || !G_VALUE_HOLDS (v, g_value_array_get_type ()))
    return best;
  const GValueArray *arr = static_cast<const GValueArray *> (g_value_get_boxed (v));
  for (guint i = 0; arr && i < arr->n_values; i++)
    {
      const GValue *c = g_value_array_get_nth (const_cast<GValueArray *> (arr), i);
      if (G_VALUE_HOLDS_DOUBLE (c))
        best = std::max (best, g_value_get_double (c));
    }
  return best;
}
G_GNUC_END_IGNORE_DEPRECATIONS

void
feed_level (LevelMeter &meter, const GstStructure *level, gint64 now_us)
{
  meter.update (loudest (level, "rms"), loudest (level, "peak"), now_us);
}

} // namespace wssac_speaker
