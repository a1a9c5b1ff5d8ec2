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

/* One field a line, as the documentation lists them. */
// clang-format off

GstStructure *
stats_structure (const TransportStats &t, const std::string &session_id)
{
  GstStructure *s = gst_structure_new (bus::kSinkStats, "session-id", G_TYPE_STRING,
                                       session_id.c_str (), "state", G_TYPE_STRING,
                                       connection_state_name (t.state), "last-error", G_TYPE_STRING,
                                       t.last_error.c_str (), "peer-acks", G_TYPE_BOOLEAN,
                                       (gboolean)t.peer_acks, "acks-promised", G_TYPE_BOOLEAN,
                                       (gboolean)t.acks_promised, NULL);
  const struct
  {
    const char *name;
    uint64_t value;
  } counters[] = {
    { "chunks-queued", t.chunks_queued },
    { "chunks-sent", t.chunks_sent },
    { "chunks-replayed", t.chunks_replayed },
    { "chunks-likely-duplicated", t.chunks_likely_duplicated },
    { "chunks-confirmed", t.chunks_confirmed },
    { "chunks-dropped", t.chunks_dropped },
    { "chunks-dropped-backlog", t.dropped_backlog },
    { "chunks-dropped-paused", t.dropped_paused },
    { "chunks-dropped-oversize", t.dropped_oversize },
    { "chunks-given-up", t.given_up },
    { "chunks-refused", t.refused },
    { "chunks-unconfirmed", t.unconfirmed },
    { "in-flight-window", t.window },
    { "bytes-sent", t.bytes_sent },
    { "audio-bytes-sent", t.audio_bytes_sent },
    { "controls-sent", t.controls_sent },
    { "reconnects", t.reconnects },
    { "handovers", t.handovers },
    { "acked-index", t.acked_index },
    { "unacked-chunks", t.unacked_chunks },
    { "server-errors", t.server_errors },
    { "backlog-chunks", t.backlog_chunks },
    { "backlog-bytes", t.backlog_bytes },
    { "backlog-time", static_cast<uint64_t> (t.backlog_time_ns) },
  };
  for (const auto &c : counters)
    gst_structure_set (s, c.name, G_TYPE_UINT64, (guint64)c.value, NULL);
  gst_structure_set (s, "latency-p50", G_TYPE_INT64, (gint64)t.latency_p50_us, "latency-p95",
                     G_TYPE_INT64, (gint64)t.latency_p95_us, "latency-p99", G_TYPE_INT64,
                     (gint64)t.latency_p99_us, NULL);
  return s;
}

void
post_sent (GstWssAudioChunkSink *self, const SentInfo &info)
{
  post_element (self, gst_structure_new (bus::kSent,
      "chunk-index", G_TYPE_UINT64, (guint64) info.chunk_index,
      "size", G_TYPE_UINT, (guint) info.size,
      "encoded-size", G_TYPE_UINT, (guint) info.encoded_size,
      "timestamp", G_TYPE_INT64, (gint64) info.timestamp_ms, NULL));
}

void
post_connection (GstWssAudioChunkSink *self, ConnectionState state, const std::string &detail)
{
  post_element (self, gst_structure_new (bus::kConnection,
      "state", G_TYPE_STRING, connection_state_name (state),
      "detail", G_TYPE_STRING, detail.c_str (), NULL));
}

void
post_stream_start (GstWssAudioChunkSink *self, const std::string &session_id, const std::string &location)
{
  post_element (self, gst_structure_new (bus::kStreamStart,
      "session-id", G_TYPE_STRING, session_id.c_str (),
      "location", G_TYPE_STRING, location.c_str (), NULL));
}

void
post_stream_stop (GstWssAudioChunkSink *self, const std::string &session_id, const TransportStats &t,
    const char *reason)
{
  post_element (self, gst_structure_new (bus::kStreamStop,
      "session-id", G_TYPE_STRING, session_id.c_str (),
      "chunks-sent", G_TYPE_UINT64, (guint64) t.chunks_sent,
      "chunks-dropped", G_TYPE_UINT64, (guint64) t.chunks_dropped,
      "reason", G_TYPE_STRING, reason, NULL));
}

void
post_transmitting (GstWssAudioChunkSink *self, bool transmitting, bool paused, bool muted)
{
  const int value = transmitting ? 1 : 0;
  if (self->priv->posted_transmitting.exchange (value) == value)
    return;
  post_element (self, gst_structure_new (bus::kTransmitting,
      "transmitting", G_TYPE_BOOLEAN, (gboolean) transmitting,
      "paused", G_TYPE_BOOLEAN, (gboolean) paused,
      "muted", G_TYPE_BOOLEAN, (gboolean) muted, NULL));
}

void
post_dropped (GstWssAudioChunkSink *self, const DropEpisode &e)
{
  static const char *why[] = {
    "the backlog was full (max-backlog-time, max-backlog-bytes)",
    "held while paused longer than max-pause-time",
    "over max-message-size",
    "written max-attempts times without a confirmation",
    "refused by the receiver",
    "not confirmed by the receiver when the stream ended (drain-timeout)",
  };
  const DropRange &r = e.range;
  GST_ELEMENT_WARNING_WITH_DETAILS (
      self, RESOURCE, WRITE,
      ("Lost %" G_GUINT64_FORMAT " audio chunk(s), indices %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
       " (%s)",
       (guint64)r.count, (guint64)r.first, (guint64)r.last, drop_reason_name (e.reason)),
      ("%" G_GUINT64_FORMAT " bytes, %" GST_TIME_FORMAT " of audio: %s; see the stats property",
       (guint64)r.bytes, GST_TIME_ARGS (r.media_time), why[static_cast<int> (e.reason)]),
      ("first-index", G_TYPE_UINT64, (guint64)r.first, "last-index", G_TYPE_UINT64, (guint64)r.last,
       "count", G_TYPE_UINT64, (guint64)r.count, "bytes", G_TYPE_UINT64, (guint64)r.bytes,
       "duration", G_TYPE_UINT64, (guint64)r.media_time, "reason", G_TYPE_STRING,
       drop_reason_name (e.reason), NULL));
}

void
post_refused (GstWssAudioChunkSink *self, const std::string &code, const std::string &message)
{
  GST_ELEMENT_WARNING_WITH_DETAILS (
      self, RESOURCE, WRITE, ("The receiver refused a message: %s", code.c_str ()),
      ("%s (counted in stats as server-errors)", message.c_str ()),
      ("code", G_TYPE_STRING, code.c_str (), "message", G_TYPE_STRING, message.c_str (), NULL));
}

// clang-format on

} // namespace wssac::sink

void
wssac::sink::post_connect_error (GstWssAudioChunkSink *self, const ConnectError &e)
{
  gint code = GST_RESOURCE_ERROR_OPEN_WRITE;
  if (e.http_status == 401 || e.http_status == 403)
    code = GST_RESOURCE_ERROR_NOT_AUTHORIZED;
  else if (e.http_status == 404)
    code = GST_RESOURCE_ERROR_NOT_FOUND;
  GstStructure *details = gst_structure_new ("details", "connect-error", G_TYPE_STRING,
                                             connect_error_kind_name (e.kind), NULL);
  if (e.http_status > 0)
    gst_structure_set (details, "http-status-code", G_TYPE_UINT, e.http_status, NULL);
  gst_element_message_full_with_details (GST_ELEMENT (self), GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
                                         code, g_strdup (e.message.c_str ()),
                                         g_strdup (e.hint.c_str ()), __FILE__, GST_FUNCTION,
                                         __LINE__, details);
}
