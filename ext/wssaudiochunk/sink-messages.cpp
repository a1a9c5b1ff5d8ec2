#include "sink-messages.h"

#include "sink-private.h"

#include "bus-messages.h"

namespace wssac::sink
{

namespace
{
void
post_element (GstWssAudioChunkSink *self, GstStructure *s)
{
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
}
} // namespace

GstStructure *
stats_structure (const TransportStats &t)
{
  return gst_structure_new (
      bus::kSinkStats, "state", G_TYPE_STRING, connection_state_name (t.state), "chunks-queued",
      G_TYPE_UINT64, (guint64)t.chunks_queued, "chunks-sent", G_TYPE_UINT64, (guint64)t.chunks_sent,
      "chunks-replayed", G_TYPE_UINT64, (guint64)t.chunks_replayed, "chunks-dropped", G_TYPE_UINT64,
      (guint64)t.chunks_dropped, "bytes-sent", G_TYPE_UINT64, (guint64)t.bytes_sent,
      "audio-bytes-sent", G_TYPE_UINT64, (guint64)t.audio_bytes_sent, "controls-sent",
      G_TYPE_UINT64, (guint64)t.controls_sent, "reconnects", G_TYPE_UINT64, (guint64)t.reconnects,
      "peer-acks", G_TYPE_BOOLEAN, (gboolean)t.peer_acks, "acked-index", G_TYPE_UINT64,
      (guint64)t.acked_index, "unacked-chunks", G_TYPE_UINT64, (guint64)t.unacked_chunks,
      "server-errors", G_TYPE_UINT64, (guint64)t.server_errors, "latency-p50", G_TYPE_INT64,
      (gint64)t.latency_p50_us, "latency-p95", G_TYPE_INT64, (gint64)t.latency_p95_us,
      "latency-p99", G_TYPE_INT64, (gint64)t.latency_p99_us, "backlog-chunks", G_TYPE_UINT64,
      (guint64)t.backlog_chunks, "backlog-bytes", G_TYPE_UINT64, (guint64)t.backlog_bytes,
      "backlog-time", G_TYPE_UINT64, (guint64)t.backlog_time_ns, "last-error", G_TYPE_STRING,
      t.last_error.c_str (), NULL);
}

void
post_sent (GstWssAudioChunkSink *self, const SentInfo &info)
{
  post_element (self,
                gst_structure_new (bus::kSent, "chunk-index", G_TYPE_UINT64,
                                   (guint64)info.chunk_index, "size", G_TYPE_UINT, (guint)info.size,
                                   "encoded-size", G_TYPE_UINT, (guint)info.encoded_size,
                                   "timestamp", G_TYPE_INT64, (gint64)info.timestamp_ms, NULL));
}

void
post_connection (GstWssAudioChunkSink *self, ConnectionState state, const std::string &detail)
{
  post_element (self, gst_structure_new (bus::kConnection, "state", G_TYPE_STRING,
                                         connection_state_name (state), "detail", G_TYPE_STRING,
                                         detail.c_str (), NULL));
}

void
post_stream_start (GstWssAudioChunkSink *self, const std::string &session_id,
                   const std::string &location)
{
  post_element (self, gst_structure_new (bus::kStreamStart, "session-id", G_TYPE_STRING,
                                         session_id.c_str (), "location", G_TYPE_STRING,
                                         location.c_str (), NULL));
}

void
post_stream_stop (GstWssAudioChunkSink *self, const std::string &session_id,
                  const TransportStats &t, const char *reason)
{
  post_element (self, gst_structure_new (bus::kStreamStop, "session-id", G_TYPE_STRING,
                                         session_id.c_str (), "chunks-sent", G_TYPE_UINT64,
                                         (guint64)t.chunks_sent, "chunks-dropped", G_TYPE_UINT64,
                                         (guint64)t.chunks_dropped, "reason", G_TYPE_STRING, reason,
                                         NULL));
}

void
post_transmitting (GstWssAudioChunkSink *self, bool transmitting, bool paused, bool muted)
{
  const int value = transmitting ? 1 : 0;
  if (self->priv->posted_transmitting.exchange (value) == value)
    return;
  post_element (self, gst_structure_new (bus::kTransmitting, "transmitting", G_TYPE_BOOLEAN,
                                         (gboolean)transmitting, "paused", G_TYPE_BOOLEAN,
                                         (gboolean)paused, "muted", G_TYPE_BOOLEAN, (gboolean)muted,
                                         NULL));
}

void
post_dropped (GstWssAudioChunkSink *self, const DropRange &r)
{
  GST_ELEMENT_WARNING_WITH_DETAILS (
      self, RESOURCE, WRITE,
      ("Dropped %" G_GUINT64_FORMAT " audio chunk(s), indices %" G_GUINT64_FORMAT
       "-%" G_GUINT64_FORMAT,
       (guint64)r.count, (guint64)r.first, (guint64)r.last),
      ("%" G_GUINT64_FORMAT " bytes, %" GST_TIME_FORMAT " of audio could not be delivered "
       "(backlog bound, oversize message or shutdown); see the stats property",
       (guint64)r.bytes, GST_TIME_ARGS (r.media_time)),
      ("first-index", G_TYPE_UINT64, (guint64)r.first, "last-index", G_TYPE_UINT64, (guint64)r.last,
       "count", G_TYPE_UINT64, (guint64)r.count, "bytes", G_TYPE_UINT64, (guint64)r.bytes, NULL));
}

} // namespace wssac::sink
