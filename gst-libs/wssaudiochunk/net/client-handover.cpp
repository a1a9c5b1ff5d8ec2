/* wssaudiochunk: make-before-break at max-connection-age.
 *
 * ConnectionHandover (core) decides when; this carries it out on the
 * transport thread: the next connection's upgrade goes out while the
 * current one keeps sending; once upgraded, the current one retires (the
 * ledger keeps its unconfirmed chunks apart, DeliveryLedger::retire_current)
 * and the next write goes to the new one, so the switch falls between two
 * chunks. The retiring connection carries nothing more; TCP evidence on its
 * socket, the receiver's acks (on either connection) or the server's clean
 * close confirm what it wrote, then it is closed with 1000. If it dies
 * first, the ledger replays its unconfirmed chunks on the new one.
 */
#include "wss-client-transport-private.h"

#include "tcp-evidence.h"

#define GST_CAT_DEFAULT wss_transport_debug

namespace wssac
{

namespace
{
/* A retiring connection that confirms nothing for this long (a receiver
 * without acks on a host without TCP_INFO) is closed anyway: its chunks are
 * then replayed on the current one, before the gateway's cut comes. */
constexpr int64_t kRetireTimeoutMs = 30000;
} // namespace

void
WssClientTransport::Impl::maybe_open_next ()
{
  bool draining_now;
  {
    std::lock_guard<std::mutex> g (lock);
    draining_now = draining;
  }
  if (!open () || next.under_way () || !handover.should_open_next (mono_ms (), draining_now))
    return;
  SoupMessage *msg = upgrade_message ();
  if (!msg)
    {
      handover.next_failed (mono_ms ()); /* cannot happen: the same URI connected */
      return;
    }
  GST_INFO_OBJECT (log_object, "%s: connection %" G_GINT64_FORMAT " s old, opening the next one",
                   shown_uri.c_str (), (mono_ms () - connected_ms) / 1000);
  start_upgrade (next, msg, on_next_connect_done);
}

void
WssClientTransport::Impl::on_next_connect_done (GObject *source, GAsyncResult *res, gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  GError *error = nullptr;
  SoupMessage *msg;
  SoupWebsocketConnection *c = self->next.finish (source, res, &error, &msg);
  const AckPromise acks = c ? promised_acks (msg) : AckPromise ();
  g_object_unref (msg);
  if (c)
    {
      if (self->handover.next_opened (mono_ms ()))
        self->take_over (c, acks);
      else
        self->on_connected (c, acks); /* the old one was lost meanwhile: a reconnect */
      return;
    }
  /* Cancelled by a teardown or by dropping the current connection: whoever
   * did that decides what comes next. */
  const bool cancelled = self->next.cancelled (error);
  std::string why = error ? error->message : "unknown error";
  g_clear_error (&error);
  const int64_t delay = self->handover.next_failed (mono_ms ());
  if (cancelled)
    return;
  if (delay >= 0)
    {
      /* The old connection still works: keep sending on it. */
      GST_WARNING_OBJECT (self->log_object,
                          "%s: could not open the next connection (%s); staying on the current "
                          "one, next attempt in %" G_GINT64_FORMAT " ms",
                          self->shown_uri.c_str (), why.c_str (), delay);
      return;
    }
  self->schedule_retry ("Could not connect to " + self->shown_uri + ": " + why);
}

void
WssClientTransport::Impl::take_over (SoupWebsocketConnection *c, const AckPromise &acks)
{
  GST_INFO_OBJECT (log_object, "%s: new connection upgraded, moving sending to it",
                   shown_uri.c_str ());
  {
    std::lock_guard<std::mutex> g (lock);
    if (delivery.sample (mono_ms ()) > 0) /* the current one's last evidence first */
      on_progress ();
    /* Its unconfirmed chunks stay its own: no replay while it lives. */
    delivery.ledger ().retire_current ();
    delivery.closed ();
  }
  destroy_source (&watchdog);
  destroy_source (&resume);
  retired = conn;
  retired_closing = false;
  retired_ms = mono_ms ();
  conn = nullptr;
  on_connected (c, acks, true);
  tend_retired (mono_ms ());
}

void
WssClientTransport::Impl::tend_retired (int64_t now)
{
  if (!retired || retired_closing)
    return;
  size_t left;
  {
    std::lock_guard<std::mutex> g (lock);
    DeliveryLedger &l = delivery.ledger ();
    TcpSample s;
    if (l.retiring () > 0
        && tcp_sample (socket_of_stream (soup_websocket_connection_get_io_stream (retired)), s)
        && l.retiring_tcp_progress (s.bytes_acked, s.rtt_ms, now) > 0)
      on_progress ();
    left = l.retiring ();
  }
  if (handover.may_close_retired (left))
    {
      retired_closing = true; /* libsoup emits "closing" from within close () */
      GST_INFO_OBJECT (log_object,
                       "%s: everything written on the old connection is confirmed, closing it",
                       shown_uri.c_str ());
      soup_websocket_connection_close (retired, SOUP_WEBSOCKET_CLOSE_NORMAL, "connection age");
    }
  else if (now - retired_ms >= kRetireTimeoutMs)
    {
      GST_WARNING_OBJECT (
          log_object,
          "%s: %zu chunks on the old connection still unconfirmed after %" G_GINT64_FORMAT
          " ms; closing it, they are sent again",
          shown_uri.c_str (), left, kRetireTimeoutMs);
      retired_closing = true;
      soup_websocket_connection_close (retired, SOUP_WEBSOCKET_CLOSE_NORMAL, "connection age");
    }
}

void
WssClientTransport::Impl::retired_closed (SoupWebsocketConnection *c)
{
  gushort code = soup_websocket_connection_get_close_code (c);
  /* As for the current connection: a normal close by the server confirms
   * what its TCP had acknowledged. Ours came after everything was confirmed. */
  bool clean = code == SOUP_WEBSOCKET_CLOSE_NORMAL || code == SOUP_WEBSOCKET_CLOSE_GOING_AWAY;
  g_signal_handlers_disconnect_by_data (c, this);
  std::vector<DropEpisode> due;
  size_t replays;
  {
    std::lock_guard<std::mutex> g (lock);
    DropRange lost = delivery.ledger ().retiring_ended (clean);
    if (lost.count > 0)
      due = delivery.count_drop (DropReason::GivenUp, lost, mono_ms ());
    replays = delivery.ledger ().replay_size ();
  }
  GST_INFO_OBJECT (log_object, "%s: old connection closed (code %u); %zu chunks to send again",
                   shown_uri.c_str (), code, replays);
  g_clear_object (&retired);
  handover.retired_gone ();
  announce (due);
  flush ();
}

void
WssClientTransport::Impl::drop_handover ()
{
  next.abandon (context);
  if (!retired)
    return;
  g_signal_handlers_disconnect_by_data (retired, this);
  std::vector<DropEpisode> due;
  {
    std::lock_guard<std::mutex> g (lock);
    DropRange lost = delivery.ledger ().retiring_ended (false); /* stop () counts the rest */
    if (lost.count > 0)
      due = delivery.count_drop (DropReason::GivenUp, lost, mono_ms ());
  }
  announce (due);
  if (soup_websocket_connection_get_state (retired) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (retired, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "stopping");
  g_clear_object (&retired);
  handover.retired_gone ();
}

} // namespace wssac
