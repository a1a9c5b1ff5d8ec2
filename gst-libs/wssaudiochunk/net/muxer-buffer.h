/* wssaudiochunk: a mapped GstBuffer as the Chunker (core, GStreamer-free)
 * sees it. One conversion for the sink and the bench programs that model
 * it, so that they cut the same chunks. */
#pragma once

#include "chunker.h"

#include <gst/gst.h>

namespace wssac
{

/* @map: @buffer mapped for reading, until the Chunker has it. @pts_shift
 * moves a valid PTS (the bench loops one recording). */
inline MuxerBuffer
muxer_buffer (GstBuffer *buffer, const GstMapInfo &map, int64_t pts_shift = 0)
{
  MuxerBuffer mb;
  mb.data = map.data;
  mb.size = map.size;
  mb.pts = GST_BUFFER_PTS_IS_VALID (buffer)
               ? static_cast<int64_t> (GST_BUFFER_PTS (buffer)) + pts_shift
               : kNoTime;
  mb.duration = GST_BUFFER_DURATION_IS_VALID (buffer)
                    ? static_cast<int64_t> (GST_BUFFER_DURATION (buffer))
                    : kNoTime;
  mb.header = GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_HEADER);
  mb.delta = GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  return mb;
}

} // namespace wssac
