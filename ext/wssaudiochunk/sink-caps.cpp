/* wssaudiochunksink: what the messages take from the caps (sink-caps.h). */
#include "sink-caps.h"

std::string
wssac::sink::format_from_caps (const GstStructure *s)
{
  return g_str_has_suffix (gst_structure_get_name (s), "/ogg") ? "ogg-opus" : "webm-opus";
}

std::vector<uint8_t>
wssac::sink::stream_header_from_caps (const GstStructure *s)
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
