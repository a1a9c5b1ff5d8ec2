/* speaker: runs a speaker pipeline (gst_parse_launch of the same text a
 * gst-launch-1.0 line takes) whose wssaudiochunksink is named "s", and times
 * every chunk on its way through the sink:
 *
 *   last_us[k]      the chunk's last muxer buffer entered the sink pad
 *   complete_us[k]  the buffer that completes chunk k entered the sink pad:
 *                   the sink's Chunker cuts the chunk on this buffer (its
 *                   last frame when the muxer's cluster rule is known, else
 *                   the next cluster's first buffer). A copy of the
 *                   Chunker, fed the same buffers in a pad probe and given
 *                   the same rule (the pipeline's webmmux
 *                   min-cluster-duration), says which buffer that is.
 *   sent_us[k]      the transport handed chunk k to libsoup: the sink's
 *                   "wss-audio-chunk-sent" element message, caught by a
 *                   synchronous bus handler on the transport thread right
 *                   after soup_websocket_connection_send_text().
 *
 * All times are CLOCK_MONOTONIC microseconds (g_get_monotonic_time()), the
 * clock the receiver (ingestbench --arrivals) stamps arrivals with.
 * At EOS it reads the sink's "stats" property and writes everything as JSON.
 *
 * usage: speaker --pipeline DESC --out FILE.json [--timeout S]
 */
#include "common.h"

#include "chunker.h"
#include "muxer-buffer.h"

#include <gst/gst.h>

#include <mutex>
#include <string>

using namespace bench;

namespace
{

struct State
{
  std::mutex lock;
  wssac::Chunker shadow{ 250 * 1000000LL };
  std::vector<wssac::Chunk> done;
  int64_t prev_media_us = -1;
  std::vector<int64_t> complete_us, last_us;
  std::vector<int64_t> sent_us, sent_size, sent_encoded;
  uint64_t buffers = 0;
};

GstPadProbeReturn
on_buffer (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *st = static_cast<State *> (data);
  int64_t now = g_get_monotonic_time ();
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  const wssac::MuxerBuffer mb = wssac::muxer_buffer (buf, map);
  std::lock_guard<std::mutex> g (st->lock);
  st->buffers++;
  uint64_t early = st->shadow.early_closes ();
  st->shadow.push (mb, st->done);
  gst_buffer_unmap (buf, &map);
  /* Closed early: this buffer was the chunk's last. */
  const bool own_last = st->shadow.early_closes () > early;
  for (size_t i = 0; i < st->done.size (); i++)
    {
      st->complete_us.push_back (now);
      st->last_us.push_back (own_last ? now : st->prev_media_us);
    }
  st->done.clear ();
  if (!mb.header)
    st->prev_media_us = now;
  return GST_PAD_PROBE_OK;
}

GstBusSyncReply
on_sync_message (GstBus *, GstMessage *msg, gpointer data)
{
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT)
    return GST_BUS_PASS;
  const GstStructure *s = gst_message_get_structure (msg);
  if (!s || !gst_structure_has_name (s, "wss-audio-chunk-sent"))
    return GST_BUS_PASS;
  int64_t now = g_get_monotonic_time ();
  auto *st = static_cast<State *> (data);
  guint64 index = 0;
  guint size = 0, encoded = 0;
  gst_structure_get_uint64 (s, "chunk-index", &index);
  gst_structure_get_uint (s, "size", &size);
  gst_structure_get_uint (s, "encoded-size", &encoded);
  std::lock_guard<std::mutex> g (st->lock);
  if (index >= st->sent_us.size ())
    {
      st->sent_us.resize (index + 1, -1);
      st->sent_size.resize (index + 1, -1);
      st->sent_encoded.resize (index + 1, -1);
    }
  if (st->sent_us[index] < 0)
    {
      st->sent_us[index] = now;
      st->sent_size[index] = size;
      st->sent_encoded[index] = encoded;
    }
  return GST_BUS_PASS;
}

void
json_array (FILE *f, const char *name, const std::vector<int64_t> &v)
{
  fprintf (f, ",\"%s\":[", name);
  for (size_t i = 0; i < v.size (); i++)
    fprintf (f, "%s%lld", i ? "," : "", (long long) v[i]);
  fprintf (f, "]");
}

} // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  Args args (argc, argv);
  std::string desc = args.get ("pipeline");
  std::string out = args.get ("out");
  long timeout_s = args.num ("timeout", 900);
  if (desc.empty () || out.empty ())
    {
      fprintf (stderr, "usage: speaker --pipeline DESC --out FILE.json [--timeout S]\n");
      return 2;
    }
  GError *err = nullptr;
  GstElement *pipe = gst_parse_launch (desc.c_str (), &err);
  if (!pipe)
    {
      fprintf (stderr, "speaker: %s\n", err ? err->message : "?");
      return 1;
    }
  State st;
  /* The sink reads the same from its upstream webmmux (sink-cluster-rule). */
  GType mux_type = g_type_from_name ("GstMatroskaMux");
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (pipe));
  GValue item = G_VALUE_INIT;
  while (mux_type && gst_iterator_next (it, &item) == GST_ITERATOR_OK)
    {
      GstElement *e = GST_ELEMENT (g_value_get_object (&item));
      if (g_type_is_a (G_OBJECT_TYPE (e), mux_type))
        {
          gint64 min_cluster = 0;
          g_object_get (e, "min-cluster-duration", &min_cluster, NULL);
          st.shadow.set_cluster_rule (min_cluster);
        }
      g_value_reset (&item);
    }
  g_value_unset (&item);
  gst_iterator_free (it);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "s");
  if (!sink)
    {
      fprintf (stderr, "speaker: the pipeline needs a sink named s\n");
      return 2;
    }
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &st, nullptr);
  gst_object_unref (pad);
  GstBus *bus = gst_element_get_bus (pipe);
  gst_bus_set_sync_handler (bus, on_sync_message, &st, nullptr);

  int64_t t0 = g_get_monotonic_time ();
  double cpu0 = cpu_seconds ();
  if (gst_element_set_state (pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      fprintf (stderr, "speaker: could not start the pipeline\n");
      return 1;
    }
  bool ok = false;
  std::string error;
  int64_t deadline = t0 + timeout_s * 1000000LL;
  while (g_get_monotonic_time () < deadline)
    {
      GstMessage *msg = gst_bus_timed_pop_filtered (bus, GST_SECOND,
                                                    (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
      if (!msg)
        continue;
      if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS)
        ok = true;
      else
        {
          GError *e = nullptr;
          gst_message_parse_error (msg, &e, nullptr);
          error = e ? e->message : "error";
          g_clear_error (&e);
        }
      gst_message_unref (msg);
      break;
    }
  int64_t t1 = g_get_monotonic_time ();
  GstStructure *stats = nullptr;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (sink), "stats"))
    g_object_get (sink, "stats", &stats, NULL);
  gst_element_set_state (pipe, GST_STATE_NULL);
  double cpu1 = cpu_seconds ();

  FILE *f = fopen (out.c_str (), "w");
  if (!f)
    return 1;
  fprintf (f, "{\"ok\":%s,\"error\":\"%s\",\"wall_s\":%.3f,\"cpu_s\":%.3f,\"max_rss_kib\":%ld,\"buffers\":%llu",
           ok ? "true" : "false", error.c_str (), (t1 - t0) / 1e6, cpu1 - cpu0, max_rss_kib (),
           (unsigned long long) st.buffers);
  if (stats)
    {
      fprintf (f, ",\"stats\":{");
      bool first = true;
      for (const char *name : { "chunks-sent", "chunks-dropped", "bytes-sent", "latency-p50", "latency-p95",
                                "latency-p99", "reconnects" })
        {
          const GValue *v = gst_structure_get_value (stats, name);
          if (!v)
            continue;
          GValue s = G_VALUE_INIT;
          g_value_init (&s, G_TYPE_INT64);
          if (g_value_transform (v, &s))
            {
              fprintf (f, "%s\"%s\":%lld", first ? "" : ",", name, (long long) g_value_get_int64 (&s));
              first = false;
            }
          g_value_unset (&s);
        }
      fprintf (f, "}");
      gchar *text = gst_structure_to_string (stats);
      fprintf (f, ",\"stats_text\":\"");
      for (const char *p = text; *p; p++)
        if (*p == '"' || *p == '\\')
          fprintf (f, "\\%c", *p);
        else if ((unsigned char) *p >= 0x20)
          fputc (*p, f);
      fprintf (f, "\"");
      g_free (text);
      gst_structure_free (stats);
    }
  std::lock_guard<std::mutex> g (st.lock);
  json_array (f, "complete_us", st.complete_us);
  json_array (f, "last_us", st.last_us);
  json_array (f, "sent_us", st.sent_us);
  json_array (f, "sent_size", st.sent_size);
  json_array (f, "sent_encoded", st.sent_encoded);
  fprintf (f, "}\n");
  fclose (f);
  gst_object_unref (sink);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  if (!ok)
    fprintf (stderr, "speaker: %s\n", error.empty () ? "timed out" : error.c_str ());
  return ok ? 0 : 1;
}
