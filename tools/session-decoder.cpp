#include "session-decoder.h"

#include <gst/app/gstappsink.h>

namespace wssac_ingest
{

SessionDecoder::~SessionDecoder ()
{
  stop ();
}

bool
SessionDecoder::start (const std::string &format, PcmHandler on_pcm, std::string &error)
{
  error_.clear ();
  failed_ = false;
  const char *caps_name, *demux;
  if (format == "webm-opus")
    {
      caps_name = "audio/webm";
      demux = "matroskademux";
    }
  else if (format == "ogg-opus")
    {
      caps_name = "audio/ogg";
      demux = "oggdemux";
    }
  else
    {
      error = "unsupported format \"" + format + "\": its audio is not decoded";
      return false;
    }
  gchar *desc = g_strdup_printf ("%s name=demux ! opusdec ! audioconvert ! audioresample "
                                 "! audio/x-raw,format=S16LE,rate=16000,channels=1 "
                                 "! appsink name=out sync=false async=false emit-signals=true",
                                 demux);
  GError *err = nullptr;
  GstElement *bin = gst_parse_bin_from_description (desc, FALSE, &err);
  g_free (desc);
  if (!bin || err)
    {
      error = std::string ("cannot build the decoder: ") + (err ? err->message : "unknown error");
      g_clear_error (&err);
      if (bin)
        gst_object_unref (bin);
      return false;
    }
  bin_ = GST_ELEMENT (gst_object_ref_sink (bin));
  on_pcm_ = std::move (on_pcm);
  /* A bus without the asynchronous part: no wakeup descriptor. Errors come
   * through the sync handler, on the thread that pushes. */
  bus_ = GST_BUS (g_object_new (GST_TYPE_BUS, "enable-async", FALSE, nullptr));
  gst_object_ref_sink (bus_);
  gst_bus_set_sync_handler (bus_, on_bus, this, nullptr);
  gst_element_set_bus (bin_, bus_);

  GstElement *out = gst_bin_get_by_name (GST_BIN (bin_), "out");
  g_signal_connect (out, "new-sample", G_CALLBACK (on_sample), this);
  gst_object_unref (out);

  GstElement *d = gst_bin_get_by_name (GST_BIN (bin_), "demux");
  GstPad *sink = gst_element_get_static_pad (d, "sink");
  gst_object_unref (d);
  src_ = gst_pad_new ("src", GST_PAD_SRC);
  gst_object_ref_sink (src_);
  gst_pad_link (src_, sink);
  gst_object_unref (sink);

  if (gst_element_set_state (bin_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE || failed_)
    {
      error = "cannot start the decoder" + (error_.empty () ? std::string () : ": " + error_);
      stop ();
      return false;
    }
  gst_pad_set_active (src_, TRUE);
  gchar *stream_id = g_strdup_printf ("wssac-ingest/%p", static_cast<void *> (this));
  gst_pad_push_event (src_, gst_event_new_stream_start (stream_id));
  g_free (stream_id);
  GstCaps *caps = gst_caps_new_empty_simple (caps_name);
  gst_pad_push_event (src_, gst_event_new_caps (caps));
  gst_caps_unref (caps);
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_BYTES);
  gst_pad_push_event (src_, gst_event_new_segment (&segment));
  return true;
}

bool
SessionDecoder::push (const uint8_t *data, size_t size, bool discont)
{
  if (!bin_ || failed_)
    return false;
  GstBuffer *buf = gst_buffer_new_memdup (data, size);
  if (discont)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  GstFlowReturn ret = gst_pad_push (src_, buf);
  if (ret != GST_FLOW_OK && ret != GST_FLOW_EOS && error_.empty ())
    error_ = std::string ("decoding stopped: ") + gst_flow_get_name (ret);
  if (ret != GST_FLOW_OK)
    failed_ = true;
  return !failed_;
}

void
SessionDecoder::finish ()
{
  if (bin_ && !failed_)
    gst_pad_push_event (src_, gst_event_new_eos ());
  stop ();
}

void
SessionDecoder::stop ()
{
  if (!bin_)
    return;
  gst_pad_set_active (src_, FALSE);
  gst_element_set_state (bin_, GST_STATE_NULL);
  gst_bus_set_flushing (bus_, TRUE);
  gst_element_set_bus (bin_, nullptr);
  gst_clear_object (&src_);
  gst_clear_object (&bin_);
  gst_clear_object (&bus_);
}

GstBusSyncReply
SessionDecoder::on_bus (GstBus *, GstMessage *msg, gpointer data)
{
  auto *self = static_cast<SessionDecoder *> (data);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    {
      GError *err = nullptr;
      gst_message_parse_error (msg, &err, nullptr);
      if (self->error_.empty ())
        self->error_ = std::string (GST_OBJECT_NAME (GST_MESSAGE_SRC (msg))) + ": "
                       + (err ? err->message : "unknown error");
      g_clear_error (&err);
      self->failed_ = true;
    }
  /* Nobody reads this bus: dropped here, and a dropping handler owns it. */
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

GstFlowReturn
SessionDecoder::on_sample (GstElement *sink, gpointer data)
{
  auto *self = static_cast<SessionDecoder *> (data);
  GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
  if (!sample)
    return GST_FLOW_OK;
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstMapInfo map;
  if (buf && gst_buffer_map (buf, &map, GST_MAP_READ))
    {
      if (self->on_pcm_)
        self->on_pcm_ (map.data, map.size);
      gst_buffer_unmap (buf, &map);
    }
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

} // namespace wssac_ingest
