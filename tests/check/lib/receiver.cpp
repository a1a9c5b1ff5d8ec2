#include "receiver.h"

#include <gst/app/gstappsink.h>
#include <gst/check/gstcheck.h>

#include "bus-messages.h"
#include "test-util.h"

static const char *kPcmTail
    = " ! matroskademux ! opusdec ! audioconvert ! audioresample "
      "! audio/x-raw,format=S16LE,rate=16000,channels=1 ! appsink name=out sync=false";

Receiver::Receiver (const std::string &src_props, Output output)
{
  std::string desc = "wssaudiochunksrc name=src port=0 " + src_props
                     + (output == Output::kPcm ? kPcmTail : " ! fakesink");
  pipeline = gst_parse_launch (desc.c_str (), NULL);
  fail_unless (pipeline != NULL, "cannot build %s", desc.c_str ());
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  if (output == Output::kPcm)
    out = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  GstBus *bus = gst_element_get_bus (pipeline);
  gst_bus_set_sync_handler (bus, on_message, this, NULL);
  gst_object_unref (bus);
  port = play_and_get_port (pipeline, src);
}

Receiver::~Receiver ()
{
  gst_element_set_state (pipeline, GST_STATE_NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  if (out)
    gst_object_unref (out);
  gst_object_unref (pipeline);
}

GstBusSyncReply
Receiver::on_message (GstBus *, GstMessage *m, gpointer data)
{
  auto *self = static_cast<Receiver *> (data);
  const GstStructure *s = gst_message_get_structure (m);
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT && s)
    {
      std::lock_guard<std::mutex> g (self->lock_);
      if (gst_structure_has_name (s, wssac::bus::kControl))
        self->controls_.push_back (gst_structure_get_string (s, "action"));
      else if (gst_structure_has_name (s, wssac::bus::kSession)
               && g_strcmp0 (gst_structure_get_string (s, "event"), "ended") == 0)
        self->end_reason_ = gst_structure_get_string (s, "reason");
    }
  return GST_BUS_PASS;
}

std::string
Receiver::url (const char *scheme) const
{
  return std::string (scheme) + "://127.0.0.1:" + std::to_string (port) + "/ws";
}

bool
Receiver::pull_all (std::vector<int16_t> &pcm, int timeout_s, int *disconts)
{
  fail_unless (out != NULL, "a Receiver with Output::kDiscard has no PCM");
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_s * G_USEC_PER_SEC;
  bool first = true;
  while (g_get_monotonic_time () < deadline)
    {
      GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (out), 200 * GST_MSECOND);
      if (!s)
        {
          if (gst_app_sink_is_eos (GST_APP_SINK (out)))
            return true;
          continue;
        }
      GstBuffer *b = gst_sample_get_buffer (s);
      if (!first && disconts && GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DISCONT))
        (*disconts)++;
      first = false;
      append_pcm (s, pcm);
      gst_sample_unref (s);
    }
  return false;
}

std::vector<int16_t>
Receiver::pcm (int timeout_s)
{
  std::vector<int16_t> pcm;
  fail_unless (pull_all (pcm, timeout_s), "the receiver did not reach EOS");
  return pcm;
}

GstStructure *
Receiver::stats ()
{
  GstStructure *st = NULL;
  g_object_get (src, "stats", &st, NULL);
  fail_unless (st != NULL);
  return st;
}

guint64
Receiver::stat (const char *name)
{
  GstStructure *st = stats ();
  guint64 v = 0;
  /* A counter the element has not started yet is absent: 0. */
  gst_structure_get_uint64 (st, name, &v);
  gst_structure_free (st);
  return v;
}

std::vector<std::string>
Receiver::control_actions ()
{
  std::lock_guard<std::mutex> g (lock_);
  return controls_;
}

std::string
Receiver::end_reason ()
{
  std::lock_guard<std::mutex> g (lock_);
  return end_reason_;
}
