#include "sink-cluster-rule.h"

#include "chunker.h"

#include <algorithm>

namespace wssac::sink
{

namespace
{

/* Elements between the muxer and the sink that change no buffer. */
bool
passes_buffers_unchanged (GstElement *element)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  if (!factory)
    return false;
  const gchar *name = gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (factory));
  for (const char *n : { "queue", "queue2", "identity", "capsfilter", "tee" })
    if (g_strcmp0 (name, n) == 0)
      return true;
  return false;
}

/* The rule of @mux (a GstMatroskaMux) when it muxes one audio track. */
int64_t
rule_of_muxer (GstElement *mux)
{
  GST_OBJECT_LOCK (mux);
  bool one_audio = mux->numsinkpads == 1
                   && g_str_has_prefix (GST_OBJECT_NAME (GST_PAD (mux->sinkpads->data)), "audio_");
  GST_OBJECT_UNLOCK (mux);
  if (!one_audio)
    return kNoTime;
  gint64 min_ns = 0, max_ns = 0, scale = 0;
  g_object_get (mux, "min-cluster-duration", &min_ns, "max-cluster-duration", &max_ns,
                "timecodescale", &scale, NULL);
  if (min_ns <= 0)
    return 0; /* a cluster per block */
  /* The muxer also starts a cluster before a block's 16-bit relative
   * timestamp would overflow. */
  if (max_ns > 0)
    min_ns = std::min<gint64> (min_ns, std::min<gint64> (max_ns, G_MAXINT16 * scale));
  return min_ns;
}

} // namespace

int64_t
upstream_cluster_rule (GstPad *sinkpad)
{
  const GType mux_type = g_type_from_name ("GstMatroskaMux");
  GstPad *pad = gst_pad_get_peer (sinkpad); /* a source pad upstream */
  int64_t rule = kNoTime;
  for (int hops = 0; pad && hops < 16; hops++)
    {
      GstPad *next = nullptr;
      if (GST_IS_GHOST_PAD (pad))
        next = gst_ghost_pad_get_target (GST_GHOST_PAD (pad)); /* into a bin */
      else if (GST_IS_PROXY_PAD (pad))
        {
          /* Out of a bin: the inside of its sink ghost pad. */
          GstProxyPad *ghost = gst_proxy_pad_get_internal (GST_PROXY_PAD (pad));
          if (ghost)
            {
              next = gst_pad_get_peer (GST_PAD (ghost));
              gst_object_unref (ghost);
            }
        }
      else if (GstElement *element = gst_pad_get_parent_element (pad))
        {
          if (mux_type && g_type_is_a (G_OBJECT_TYPE (element), mux_type))
            rule = rule_of_muxer (element);
          else if (passes_buffers_unchanged (element))
            {
              GST_OBJECT_LOCK (element);
              GstPad *in = element->numsinkpads == 1
                               ? GST_PAD (gst_object_ref (element->sinkpads->data))
                               : nullptr;
              GST_OBJECT_UNLOCK (element);
              if (in)
                {
                  next = gst_pad_get_peer (in);
                  gst_object_unref (in);
                }
            }
          gst_object_unref (element);
        }
      gst_object_unref (pad);
      pad = next;
    }
  if (pad)
    gst_object_unref (pad);
  return rule;
}

} // namespace wssac::sink
