/* GStreamer
 * wssaudiochunksink: streams WebM/Opus in small JSON chunks over a WebSocket.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/base/gstbasesink.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_WSS_AUDIO_CHUNK_SINK (gst_wss_audio_chunk_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstWssAudioChunkSink, gst_wss_audio_chunk_sink, GST, WSS_AUDIO_CHUNK_SINK,
                      GstBaseSink)

typedef struct _GstWssAudioChunkSinkPrivate GstWssAudioChunkSinkPrivate;

struct _GstWssAudioChunkSink
{
  GstBaseSink parent;
  GstWssAudioChunkSinkPrivate *priv;
};

G_END_DECLS
