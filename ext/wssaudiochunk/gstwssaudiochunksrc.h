/* GStreamer
 * wssaudiochunksrc: a WebSocket server that receives audio chunk streams.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/base/gstpushsrc.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_WSS_AUDIO_CHUNK_SRC (gst_wss_audio_chunk_src_get_type ())
G_DECLARE_FINAL_TYPE (GstWssAudioChunkSrc, gst_wss_audio_chunk_src, GST, WSS_AUDIO_CHUNK_SRC, GstPushSrc)

typedef struct _GstWssAudioChunkSrcPrivate GstWssAudioChunkSrcPrivate;

struct _GstWssAudioChunkSrc
{
  GstPushSrc parent;
  GstWssAudioChunkSrcPrivate *priv;
};

G_END_DECLS
