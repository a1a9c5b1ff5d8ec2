/* GStreamer
 * wssaudiochunkbin: raw audio in, WebM/Opus chunks over a WebSocket out.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_WSS_AUDIO_CHUNK_BIN (gst_wss_audio_chunk_bin_get_type ())
G_DECLARE_FINAL_TYPE (GstWssAudioChunkBin, gst_wss_audio_chunk_bin, GST, WSS_AUDIO_CHUNK_BIN,
                      GstBin)

typedef struct _GstWssAudioChunkBinPrivate GstWssAudioChunkBinPrivate;

struct _GstWssAudioChunkBin
{
  GstBin parent;
  GstWssAudioChunkBinPrivate *priv;
};

G_END_DECLS
