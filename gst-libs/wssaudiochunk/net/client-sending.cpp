/* wssaudiochunk: what the sink's transport writes and what it hears back:
 * the backlog and replays in order within the delivery window and pacing,
 * one message at a time (so a switch of connection falls on a chunk
 * boundary), the receiver's acks and refusals, and the periodic tick (TCP
 * evidence, loss announcements, pings, connection age). */
#include "wss-client-transport-private.h"

#include "tcp-evidence.h"
#include "transport-config.h"

#define GST_CAT_DEFAULT wss_transport_debug

namespace wssac
{

namespace
{
/* TCP_CORK for the rest of a flush, whichever way it ends. */
class CorkGuard
{
public:
  CorkGuard () = default;
  CorkGuard (const CorkGuard &) = delete;
  CorkGuard &operator= (const CorkGuard &) = delete;
  ~CorkGuard ()
  {
    if (!socket_)
      return;
    tcp_cork (socket_, false);
    g_object_unref (socket_);
  }
  void
  engage (GSocket *socket)
  {
    if (socket_ || !socket)
      return;
    socket_ = G_SOCKET (g_object_ref (socket));
    tcp_cork (socket_, true);
  }

private:
  GSocket *socket_ = nullptr;
};
} // namespace

void
WssClientTransport::Impl::flush ()
{
  destroy_source (&resume);
  /* Several messages in a row (a backlog, a file's batch) leave in full
   * segments: the peer's kernel and the loopback path see one write
   * instead of one per message. */
  CorkGuard cork;
  int sent = 0;
  while (open ())
    {
      if (delivery.kernel_full (config.max_in_flight))
        {
          /* The peer is not reading: keep the rest in our bounded
           * backlog and look again shortly. */
          resume = attach_timeout (20, fire_once<Impl, &Impl::resume, &Impl::flush>);
          return;
        }
      Outgoing item;
      int64_t wait = 0;
      {
        std::lock_guard<std::mutex> g (lock);
        if (!delivery.next (backlog, mono_ms (), item, wait))
          {
            if (wait > 0)
              resume = attach_timeout (wait, fire_once<Impl, &Impl::resume, &Impl::flush>);
            break; /* else a confirmation (or new audio) flushes again */
          }
      }
      cond.notify_all (); /* room in the backlog: wait_for_room () */
      if (++sent == 2)
        cork.engage (delivery.socket ());
      send (std::move (item));
    }
  bool close_now;
  {
    std::lock_guard<std::mutex> g (lock);
    DeliveryLedger &l = delivery.ledger ();
    /* No more chunks follow on this connection: its last ones cannot
     * wait for an ack that comes every few chunks. */
    l.set_tail (draining && backlog.audio_chunks () == 0);
    close_now = draining && backlog.empty () && l.all_confirmed () && open ();
  }
  if (close_now)
    {
      set_state (ConnectionState::Closing);
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
    }
}

void
WssClientTransport::Impl::send (Outgoing item)
{
  int64_t ts = now_ms ();
  bool is_chunk = item.kind == OutgoingKind::AudioChunk;
  std::vector<uint8_t> header;
  std::string format;
  {
    std::lock_guard<std::mutex> g (lock);
    format = config.format;
    if (is_chunk && header_due && item.chunk_index > 0)
      header = stream_header;
  }
  if (is_chunk)
    header_due = false;
  std::string text = encode_outgoing (item, config, format, header, ts);

  if (text.size () > config.max_message_size)
    {
      /* One frame over the gateway's limit closes the connection (1009)
       * and would be retried forever: refuse it here, loudly. */
      std::vector<DropEpisode> due;
      std::string why;
      {
        std::lock_guard<std::mutex> g (lock);
        why = stats.last_error
            = delivery.oversize (item, text.size (), config.max_message_size, mono_ms (), due);
      }
      GST_WARNING_OBJECT (log_object, "%s", why.c_str ());
      announce (due);
      return;
    }

  if (is_chunk && config.binary_framing)
    soup_websocket_connection_send_binary (conn, text.data (), text.size ());
  else
    soup_websocket_connection_send_text (conn, text.c_str ());

  SentInfo info;
  info.chunk_index = item.chunk_index;
  info.size = item.audio.size ();
  info.encoded_size = text.size ();
  info.timestamp_ms = ts;
  info.replay = item.replay;
  info.latency_us = item.queued_us > 0 ? g_get_monotonic_time () - item.queued_us : 0;
  {
    std::lock_guard<std::mutex> g (lock);
    stats.bytes_sent += text.size ();
    if (is_chunk)
      {
        if (item.replay)
          stats.chunks_replayed++;
        else
          {
            stats.chunks_sent++;
            stats.audio_bytes_sent += item.audio.size ();
            latencies.record (info.latency_us);
          }
        delivery.wrote_chunk (std::move (item), text.size (), mono_ms ());
      }
    else
      {
        stats.controls_sent++;
        delivery.wrote_control (text.size ());
      }
  }
  if (is_chunk && cb.chunk_sent)
    cb.chunk_sent (info);
}

void
WssClientTransport::Impl::on_message (SoupWebsocketConnection *c, gint type, GBytes *message,
                                      gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  if (c == self->conn)
    self->last_rx_ms = mono_ms ();
  gsize size = 0;
  const char *text = static_cast<const char *> (g_bytes_get_data (message, &size));
  if (type != SOUP_WEBSOCKET_DATA_TEXT || !text)
    return;
  Reply reply = decode_reply (text, size);
  std::vector<DropEpisode> due;
  bool warn = false;
  {
    std::lock_guard<std::mutex> g (self->lock);
    self->delivery.ledger ().peer_heard (mono_ms ());
    /* An ack for another run of the session says nothing of ours. */
    if (reply.kind == Reply::Ack
        && (reply.stream_id.empty () || reply.stream_id == self->config.stream_id))
      {
        self->stats.peer_acks = true;
        if (reply.chunk_index > self->stats.acked_index)
          self->stats.acked_index = reply.chunk_index;
        if (self->delivery.ledger ().acked (reply.chunk_index) > 0)
          self->on_progress ();
      }
    else if (reply.kind == Reply::Error)
      {
        /* Counted; a final refusal, or refusals for refusal-timeout, stop
         * the element (delivery-tracker.h decides). */
        RefusalOutcome r = self->delivery.refused (reply, mono_ms ());
        self->stats.server_errors++;
        self->stats.last_error = "server: " + reply.code + ": " + reply.message;
        /* On the retiring connection a refusal only sends the chunk
         * again (on the current one): its connection goes anyway. */
        if ((r.fatal || r.reconnect) && c == self->conn)
          {
            self->pending_action = r.fatal ? PendingAction::GiveUp : PendingAction::Reconnect;
            self->pending_detail
                = r.fatal ? r.fatal->cause + " (" + self->shown_uri + ")" : reply.message;
            self->pending_fix = r.fatal ? r.fatal->fix : std::string ();
          }
        due = std::move (r.due);
        warn = r.warn;
      }
    if (self->pending_action != PendingAction::None && !self->pending_source)
      self->pending_source = self->attach_timeout (0, on_pending_action);
  }
  if (reply.kind == Reply::Error)
    GST_WARNING_OBJECT (self->log_object, "%s refused a message: %s (%s)", self->shown_uri.c_str (),
                        reply.code.c_str (), reply.message.c_str ());
  else if (reply.kind == Reply::Other)
    GST_DEBUG_OBJECT (self->log_object, "server says: %.*s", (int)MIN (size, 512), text);
  if (warn && self->cb.refused)
    self->cb.refused (reply.code, reply.message);
  self->announce (due);
  self->flush (); /* a confirmation opens the window */
}

/* Something was confirmed: the receiver takes our audio. */
void
WssClientTransport::Impl::on_progress ()
{
  retry.reset ();
  delivery.progress ();
}

gboolean
WssClientTransport::Impl::on_tick (gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  const int64_t now = mono_ms ();
  std::vector<DropEpisode> due;
  {
    std::lock_guard<std::mutex> g (self->lock);
    if (self->delivery.sample (now) > 0)
      self->on_progress ();
    due = self->delivery.due_drops (now);
    unsigned want
        = self->delivery.ping_interval (self->config.keepalive_interval_s, self->pong_seen);
    if (self->conn && want != self->ping_interval_s)
      {
        soup_websocket_connection_set_keepalive_interval (self->conn, want);
        self->ping_interval_s = want;
      }
  }
  self->announce (due);
  self->tend_retired (now);
  self->maybe_open_next ();
  self->flush ();
  return G_SOURCE_CONTINUE;
}

} // namespace wssac
