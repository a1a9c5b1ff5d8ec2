#include "sink-controls.h"

#include "sink-messages.h"
#include "sink-private.h"

#include "bus-messages.h"

namespace wssac::sink
{

namespace
{
int64_t
now_ms ()
{
  return g_get_real_time () / 1000;
}

/* Stream lock held. */
void
submit (GstWssAudioChunkSink *self, BroadcastEffects &&fx, Pending &pending)
{
  State &st = self->priv->state;
  auto keep = [&pending] (std::vector<DropEpisode> &&due) {
    pending.drops.insert (pending.drops.end (), due.begin (), due.end ());
  };
  if (!fx.dropped.empty ())
    keep (st.transport->count_drop (DropReason::Paused, fx.dropped));
  pending.transmitting_changed |= fx.transmitting_changed;
  for (auto &item : fx.send)
    keep (st.transport->enqueue (std::move (item)));
}
} // namespace

void
submit_chunk (GstWssAudioChunkSink *self, Chunk &&chunk, Pending &pending)
{
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  State &st = priv->state;
  if (!st.header_passed && !st.chunker->stream_header ().empty ())
    {
      st.transport->set_stream_header (st.chunker->stream_header ());
      st.header_passed = true;
    }
  Outgoing item;
  item.kind = OutgoingKind::AudioChunk;
  item.chunk_index = priv->next_index++;
  item.media_duration = chunk.duration > 0 ? chunk.duration : 0;
  item.created_ms = now_ms ();
  item.audio = std::move (chunk.bytes);
  const int64_t now_us = g_get_monotonic_time ();
  /* Unknown liveness counts as live: such a chunk never waits. */
  item.may_wait
      = chunk_may_wait (st.upstream_live != 0, gst_base_sink_get_sync (GST_BASE_SINK (self)),
                        st.last_chunk_us > 0 ? now_us - st.last_chunk_us : -1, item.media_duration);
  st.last_chunk_us = now_us;
  GST_LOG_OBJECT (self, "chunk %" G_GUINT64_FORMAT ": %zu bytes, %" GST_TIME_FORMAT,
                  item.chunk_index, item.audio.size (), GST_TIME_ARGS (item.media_duration));
  submit (self, st.broadcast.chunk (std::move (item)), pending);
}

void
submit_partial (GstWssAudioChunkSink *self, Pending &pending)
{
  Chunk last;
  if (self->priv->state.chunker && self->priv->state.chunker->finish (last))
    submit_chunk (self, std::move (last), pending);
}

void
report (GstWssAudioChunkSink *self, const Pending &pending)
{
  for (const auto &d : pending.drops)
    post_dropped (self, d);
  if (pending.transmitting_changed)
    {
      bool t, p, m;
      {
        std::lock_guard<std::mutex> g (self->priv->stream_lock);
        const BroadcastState &b = self->priv->state.broadcast;
        t = b.transmitting ();
        p = b.paused ();
        m = b.muted ();
      }
      post_transmitting (self, t, p, m);
    }
}

void
control (GstWssAudioChunkSink *self, Action action, const std::string &reason)
{
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  Pending pending;
  {
    std::lock_guard<std::mutex> g (priv->stream_lock);
    State &st = priv->state;
    if (!st.transport)
      {
        /* Not started: remember it; start() applies it. */
        GST_OBJECT_LOCK (self);
        if (action == Action::PauseBroadcast || action == Action::ResumeBroadcast)
          priv->settings.paused = action == Action::PauseBroadcast;
        else if (action == Action::MuteBroadcast || action == Action::UnmuteBroadcast)
          priv->settings.muted = action == Action::MuteBroadcast;
        GST_OBJECT_UNLOCK (self);
        if (action == Action::EndSession)
          GST_WARNING_OBJECT (self, "end-session before the element started: ignored");
        return;
      }
    int64_t now = now_ms ();
    BroadcastEffects fx;
    switch (action)
      {
      case Action::PauseBroadcast:
        fx = st.broadcast.pause (now);
        break;
      case Action::ResumeBroadcast:
        fx = st.broadcast.resume (now);
        break;
      case Action::MuteBroadcast:
        if (!st.broadcast.muted () && !st.broadcast.ended ())
          submit_partial (self, pending);
        fx = st.broadcast.mute (now);
        break;
      case Action::UnmuteBroadcast:
        fx = st.broadcast.unmute (now);
        if (fx.changed && st.chunker)
          st.chunker->drop_pending (); /* resume at the next cluster */
        break;
      case Action::EndSession:
        if (!st.broadcast.ended ())
          submit_partial (self, pending);
        fx = st.broadcast.end (reason, now);
        break;
      case Action::AudioChunk:
        g_return_if_reached ();
      }
    GST_INFO_OBJECT (self, "%s: %s", action_name (action), fx.changed ? "applied" : "no change");
    const bool ending = action == Action::EndSession && fx.changed;
    submit (self, std::move (fx), pending);
    /* Only once endSession is queued: the transport closes as soon as its
     * queue is empty. */
    if (ending)
      st.transport->close_when_drained ();
    GST_OBJECT_LOCK (self);
    priv->settings.paused = st.broadcast.paused ();
    priv->settings.muted = st.broadcast.muted ();
    GST_OBJECT_UNLOCK (self);
  }
  report (self, pending);
}

gboolean
control_from_structure (GstWssAudioChunkSink *self, const GstStructure *s)
{
  if (!s || !gst_structure_has_name (s, bus::kControl))
    return FALSE;
  const gchar *target = gst_structure_get_string (s, "target");
  if (target)
    {
      gchar *name = gst_object_get_name (GST_OBJECT (self));
      gboolean mine = g_strcmp0 (name, target) == 0;
      g_free (name);
      if (!mine)
        return FALSE;
    }
  const gchar *name = gst_structure_get_string (s, "action");
  std::optional<Action> action = name ? control_action_from_name (name) : std::nullopt;
  if (!action)
    {
      gchar *text = gst_structure_to_string (s);
      GST_ELEMENT_WARNING (self, STREAM, WRONG_TYPE,
                           ("Unknown control action \"%s\": not applied", GST_STR_NULL (name)),
                           ("%s: action must be pause, resume, mute, unmute or end-session", text));
      g_free (text);
      return FALSE;
    }
  const gchar *reason = gst_structure_get_string (s, "reason");
  control (self, *action, reason ? reason : "");
  return TRUE;
}

} // namespace wssac::sink
