#include "test-util.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/check/gstcheck.h>

BusLog::~BusLog ()
{
  for (auto *s : element_messages)
    gst_structure_free (s);
  for (auto *s : warning_details)
    gst_structure_free (s);
  if (error_details)
    gst_structure_free (error_details);
}

std::vector<const GstStructure *>
BusLog::named (const char *name) const
{
  std::vector<const GstStructure *> out;
  for (auto *s : element_messages)
    if (gst_structure_has_name (s, name))
      out.push_back (s);
  return out;
}

/* What an error or a warning message carries. */
struct Problem
{
  std::string message;
  std::string debug;
  GQuark domain = 0;
  int code = 0;
  GstStructure *details = nullptr; /* a copy, or null; the caller's */
};

static Problem
parse_problem (GstMessage *msg)
{
  GError *err = nullptr;
  gchar *dbg = nullptr;
  const GstStructure *details = nullptr;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    {
      gst_message_parse_error (msg, &err, &dbg);
      gst_message_parse_error_details (msg, &details);
    }
  else
    {
      gst_message_parse_warning (msg, &err, &dbg);
      gst_message_parse_warning_details (msg, &details);
    }
  Problem p;
  p.message = err ? err->message : "";
  p.debug = dbg ? dbg : "";
  p.domain = err ? err->domain : 0;
  p.code = err ? err->code : 0;
  p.details = details ? gst_structure_copy (details) : nullptr;
  g_clear_error (&err);
  g_free (dbg);
  return p;
}

void
run_pipeline (GstElement *pipeline, int timeout_s, BusLog &log)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  while (true)
    {
      gint64 left = deadline - g_get_monotonic_time ();
      if (left <= 0)
        {
          log.timed_out = true;
          break;
        }
      GstMessage *msg = gst_bus_timed_pop (bus, left * GST_USECOND);
      if (!msg)
        continue;
      bool done = false;
      switch (GST_MESSAGE_TYPE (msg))
        {
        case GST_MESSAGE_EOS:
          log.eos = true;
          done = true;
          break;
        case GST_MESSAGE_ERROR:
          {
            Problem p = parse_problem (msg);
            log.error = true;
            log.error_message = p.message;
            log.error_debug = p.debug;
            log.error_domain = p.domain;
            log.error_code = p.code;
            /* The first error's details are kept. */
            if (!log.error_details)
              log.error_details = p.details;
            else if (p.details)
              gst_structure_free (p.details);
            done = true;
            break;
          }
        case GST_MESSAGE_WARNING:
          {
            Problem p = parse_problem (msg);
            log.warnings.push_back (p.message);
            log.warning_debugs.push_back (p.debug);
            if (p.details)
              log.warning_details.push_back (p.details);
            break;
          }
        case GST_MESSAGE_ELEMENT:
          {
            const GstStructure *s = gst_message_get_structure (msg);
            if (s)
              log.element_messages.push_back (gst_structure_copy (s));
            break;
          }
        default:
          break;
        }
      gst_message_unref (msg);
      if (done)
        break;
    }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  /* Element messages posted during shutdown (stream-stop) */
  GstMessage *msg;
  while ((msg = gst_bus_pop (bus)))
    {
      if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && gst_message_get_structure (msg))
        log.element_messages.push_back (gst_structure_copy (gst_message_get_structure (msg)));
      gst_message_unref (msg);
    }
  gst_object_unref (bus);
}

bool
decode_opus_container (const std::vector<uint8_t> &bytes, bool ogg, std::vector<int16_t> &pcm, int &rate,
                       int &channels, std::string &error)
{
  std::string desc = std::string ("appsrc name=src ! ") + (ogg ? "oggdemux" : "matroskademux")
                     + " ! opusdec ! audioconvert ! audio/x-raw,format=S16LE ! appsink name=sink sync=false";
  GError *err = nullptr;
  GstElement *p = gst_parse_launch (desc.c_str (), &err);
  if (!p)
    {
      error = err->message;
      g_error_free (err);
      return false;
    }
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstBuffer *buf = gst_buffer_new_memdup (bytes.data (), bytes.size ());
  gst_app_src_push_buffer (GST_APP_SRC (src), buf);
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  bool ok = true;
  rate = channels = 0;
  while (true)
    {
      GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
      if (!s)
        break;
      GstStructure *st = gst_caps_get_structure (gst_sample_get_caps (s), 0);
      gst_structure_get_int (st, "rate", &rate);
      gst_structure_get_int (st, "channels", &channels);
      append_pcm (s, pcm);
      gst_sample_unref (s);
    }
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (m)
    {
      GError *e = nullptr;
      gst_message_parse_error (m, &e, nullptr);
      error = e ? e->message : "error";
      g_clear_error (&e);
      gst_message_unref (m);
      ok = false;
    }
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (p);
  return ok && rate > 0;
}

void
append_pcm (GstSample *sample, std::vector<int16_t> &pcm)
{
  GstMapInfo map;
  GstBuffer *b = gst_sample_get_buffer (sample);
  gst_buffer_map (b, &map, GST_MAP_READ);
  const int16_t *d = reinterpret_cast<const int16_t *> (map.data);
  pcm.insert (pcm.end (), d, d + map.size / 2);
  gst_buffer_unmap (b, &map);
}

std::vector<uint8_t>
base64_decode (const std::string &s)
{
  gsize len = 0;
  guchar *d = g_base64_decode (s.c_str (), &len);
  std::vector<uint8_t> out (d, d + len);
  g_free (d);
  return out;
}

guint
play_and_get_port (GstElement *pipeline, GstElement *src)
{
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  guint port = 0;
  g_object_get (src, "port", &port, NULL);
  fail_unless (port > 0, "%s listens on no port", GST_OBJECT_NAME (src));
  return port;
}
