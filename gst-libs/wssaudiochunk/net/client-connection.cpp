/* wssaudiochunk: one connection of the sink's transport, from the upgrade
 * request to its close: connect with a timeout, classify a failure, retry
 * with backoff, the dead-peer watchdog, what a close means for delivery. */
#include "wss-client-transport-private.h"

#include "connect-errors.h"

#define GST_CAT_DEFAULT wss_transport_debug

namespace wssac
{

SoupMessage *
WssClientTransport::Impl::upgrade_message ()
{
  SoupMessage *msg = soup_message_new ("GET", connect_uri.c_str ());
  if (!msg)
    return nullptr;
  SoupMessageHeaders *headers = soup_message_get_request_headers (msg);
  for (const auto &h : config.headers)
    soup_message_headers_append (headers, h.first.c_str (), h.second.c_str ());
  if (!config.auth_token.empty () && !config.auth_token_in_query)
    soup_message_headers_replace (headers, "Authorization",
                                  ("Bearer " + config.auth_token).c_str ());
  if (!config.ssl_strict)
    g_signal_connect (msg, "accept-certificate",
                      G_CALLBACK (+[] (SoupMessage *, GTlsCertificate *, GTlsCertificateFlags,
                                       gpointer) -> gboolean {
                        return TRUE; /* ssl-strict=false: the element warned on the bus */
                      }),
                      nullptr);
  return msg;
}

void
WssClientTransport::Impl::connect ()
{
  set_state (ever_connected ? ConnectionState::Reconnecting : ConnectionState::Connecting);
  SoupMessage *msg = upgrade_message ();
  if (!msg)
    {
      ConnectError e;
      e.kind = ConnectErrorKind::InvalidUri;
      e.message = "Could not connect to " + shown_uri + ": not a valid URI";
      e.hint = "set the location property to a ws:// or wss:// URI";
      on_connect_failed (e, false);
      return;
    }
  got_network_event = false;
  g_signal_connect (msg, "network-event", G_CALLBACK (on_network_event), this);

  start_upgrade (current, msg, on_connect_done);
}

void
WssClientTransport::Impl::start_upgrade (UpgradeAttempt &attempt, SoupMessage *msg,
                                         GAsyncReadyCallback done)
{
  attempt.start (session, msg, context, static_cast<int64_t> (config.connect_timeout_s) * 1000,
                 done, this);
}

void
WssClientTransport::Impl::on_connect_done (GObject *source, GAsyncResult *res, gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  GError *error = nullptr;
  SoupMessage *msg;
  SoupWebsocketConnection *conn = self->current.finish (source, res, &error, &msg);

  if (!conn)
    {
      bool cancelled = self->current.cancelled (error);
      ConnectError e = self->classify (error, msg);
      g_clear_error (&error);
      g_object_unref (msg);
      if (!cancelled)
        self->on_connect_failed (e, true);
      return;
    }
  const AckPromise acks = promised_acks (msg);
  g_object_unref (msg);
  self->on_connected (conn, acks);
}

void
WssClientTransport::Impl::on_network_event (SoupMessage *, GSocketClientEvent event, GIOStream *,
                                            gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  self->last_network_event = event;
  self->got_network_event = true;
}

bool
WssClientTransport::Impl::tcp_connected () const
{
  return got_network_event && last_network_event >= G_SOCKET_CLIENT_CONNECTED;
}

/* What went wrong with an attempt, in words a person can act on. */
ConnectError
WssClientTransport::Impl::classify (const GError *error, SoupMessage *msg) const
{
  ConnectAttempt a;
  a.shown_uri = shown_uri;
  a.wss = g_str_has_prefix (connect_uri.c_str (), "wss:");
  a.timed_out = current.timed_out;
  a.connect_timeout_s = config.connect_timeout_s;
  a.tls_handshaking = got_network_event && last_network_event == G_SOCKET_CLIENT_TLS_HANDSHAKING;
  a.tcp_connected = tcp_connected ();
  return classify_connect_error (error, msg, a);
}

void
WssClientTransport::Impl::on_connect_failed (const ConnectError &e, bool retryable)
{
  const std::string &message = e.message;
  GST_WARNING_OBJECT (log_object, "%s (%s)", message.c_str (), connect_error_kind_name (e.kind));
  if (!ever_connected && !config.async_connect)
    {
      /* The first connection decides whether streaming can start: a
       * wrong URI or a server that is not there is a setup error the user
       * must see at once (unless async-connect asks to wait for it). */
      {
        std::lock_guard<std::mutex> g (lock);
        stats.last_error = message;
      }
      if (cb.connect_failed)
        cb.connect_failed (e);
      set_state (ConnectionState::Failed, message);
      return;
    }
  if (!retryable)
    {
      give_up (message);
      return;
    }
  schedule_retry (message);
}

void
WssClientTransport::Impl::give_up (const std::string &message, const std::string &fix)
{
  set_state (ConnectionState::Failed, message);
  if (cb.fatal)
    cb.fatal (message, fix);
}

void
WssClientTransport::Impl::schedule_retry (const std::string &why)
{
  auto delay = retry.next_delay ();
  if (!delay)
    {
      give_up (why + " (gave up after " + std::to_string (retry.attempts ()) + " attempts)");
      return;
    }
  {
    std::lock_guard<std::mutex> g (lock);
    stats.last_error = why;
  }
  GST_INFO_OBJECT (log_object, "reconnecting to %s in %" G_GINT64_FORMAT " ms", shown_uri.c_str (),
                   *delay);
  set_state (ConnectionState::Reconnecting, why);
  destroy_source (&retry_timer);
  retry_timer = attach_timeout (*delay, fire_once<Impl, &Impl::retry_timer, &Impl::connect>);
}

void
WssClientTransport::Impl::on_connected (SoupWebsocketConnection *c, const AckPromise &acks,
                                        bool handover_done)
{
  conn = c;
  soup_websocket_connection_set_keepalive_interval (conn, config.keepalive_interval_s);
  ping_interval_s = config.keepalive_interval_s;
  /* We only ever get small replies (errors, acks). */
  soup_websocket_connection_set_max_incoming_payload_size (conn, 64 * 1024);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), this);
  g_signal_connect (conn, "error", G_CALLBACK (on_error), this);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), this);
  g_signal_connect (conn, "pong", G_CALLBACK (on_pong), this);
  g_signal_connect (conn, "closing", G_CALLBACK (on_closing), this);
  /* The backoff starts over only once this connection confirms a chunk:
   * an upgrade followed by a refusal must not become a reconnect storm. */
  connected_ms = last_rx_ms = mono_ms ();
  pong_seen = false;
  destroy_source (&watchdog);
  if (config.keepalive_timeout_s > 0)
    watchdog = attach_timeout (1000, on_watchdog);
  if (!handover_done)
    handover.current_opened (connected_ms);
  bool reconnect = ever_connected && !handover_done;
  ever_connected = true;
  {
    std::lock_guard<std::mutex> g (lock);
    /* The first chunk on every connection that is not chunk 0 (which holds
     * it anyway) carries the stream header: a receiver that lost its state,
     * or never saw chunk 0, can still decode from there. */
    header_due = true;
    /* Replays of what a dead connection did not confirm go first. */
    delivery.opened (conn, acks);
    delivery.ledger ().set_tail (false);
    delivery.ledger ().require_liveness (false); /* until a pong shows pings are answered */
    if (reconnect)
      stats.reconnects++;
    if (handover_done)
      stats.handovers++;
  }
  cond.notify_all ();
  set_state (ConnectionState::Connected);
  flush ();
}

void
WssClientTransport::Impl::drop_connection ()
{
  destroy_source (&watchdog);
  destroy_source (&resume);
  if (!conn)
    return;
  /* A next connection under way would become the reconnect: whoever drops
   * this one decides what comes next. */
  if (handover.current_lost ())
    next.cancel ();
  connection_ended (false);
  g_signal_handlers_disconnect_by_data (conn, this);
  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "stopping");
  g_clear_object (&conn);
}

gboolean
WssClientTransport::Impl::on_watchdog (gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  /* Only a server that answers pings can be judged by its silence. */
  if (!self->conn || !self->pong_seen)
    return G_SOURCE_CONTINUE;
  int64_t silent = mono_ms () - self->last_rx_ms;
  if (silent > static_cast<int64_t> (self->config.keepalive_timeout_s) * 1000)
    {
      /* No pong, no message: the peer or the path is gone without a
       * word. Closing the stream makes libsoup report the close. */
      GST_WARNING_OBJECT (self->log_object,
                          "%s: nothing heard for %" G_GINT64_FORMAT " ms, replacing the connection",
                          self->shown_uri.c_str (), silent);
      {
        std::lock_guard<std::mutex> g (self->lock);
        self->stats.last_error = "peer silent for " + std::to_string (silent / 1000) + " s";
      }
      g_io_stream_close (soup_websocket_connection_get_io_stream (self->conn), nullptr, nullptr);
    }
  return G_SOURCE_CONTINUE;
}

void
WssClientTransport::Impl::on_pong (SoupWebsocketConnection *c, GBytes *, gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  const int64_t now = mono_ms ();
  if (c == self->conn)
    {
      self->last_rx_ms = now;
      self->pong_seen = true;
    }
  std::lock_guard<std::mutex> g (self->lock);
  self->delivery.ledger ().require_liveness (true);
  self->delivery.ledger ().peer_heard (now);
}

void
WssClientTransport::Impl::on_error (SoupWebsocketConnection *c, GError *error, gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  GST_WARNING_OBJECT (self->log_object, "%s: %s", self->shown_uri.c_str (), error->message);
  std::lock_guard<std::mutex> g (self->lock);
  self->stats.last_error = error->message;
}

/* The connection ended (@clean: with a close frame from the server). */
void
WssClientTransport::Impl::connection_ended (bool clean)
{
  std::vector<DropEpisode> due;
  {
    std::lock_guard<std::mutex> g (lock);
    DropRange lost = delivery.ledger ().connection_ended (clean);
    delivery.closed ();
    if (lost.count > 0)
      due = delivery.count_drop (DropReason::GivenUp, lost, mono_ms ());
  }
  announce (due);
}

void
WssClientTransport::Impl::on_closing (SoupWebsocketConnection *c, gpointer data)
{
  auto *self = static_cast<Impl *> (data); /* the last TCP evidence before the socket goes */
  if (c == self->retired)
    return; /* closed by us, once confirmed; or its evidence is sampled every tick */
  std::lock_guard<std::mutex> g (self->lock);
  if (self->delivery.sample (mono_ms ()) > 0)
    self->on_progress ();
}

void
WssClientTransport::Impl::on_closed (SoupWebsocketConnection *c, gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  if (c == self->retired)
    {
      self->retired_closed (c);
      return;
    }
  gushort code = soup_websocket_connection_get_close_code (c);
  const char *reason = soup_websocket_connection_get_close_data (c);
  std::string why = "connection closed (code " + std::to_string (code)
                    + (reason && *reason ? std::string (", \"") + reason + "\"" : std::string ())
                    + ")";
  /* A normal close by the server (not 1006, a reset; not 1008-1011, a
   * refusal or a crash) confirms what its TCP had acknowledged. */
  bool clean = code == SOUP_WEBSOCKET_CLOSE_NORMAL || code == SOUP_WEBSOCKET_CLOSE_GOING_AWAY;
  g_signal_handlers_disconnect_by_data (c, self);
  self->connection_ended (clean);
  g_clear_object (&self->conn);
  destroy_source (&self->watchdog);
  destroy_source (&self->resume);
  /* The next connection, if it is being opened, becomes the reconnect. */
  const bool next_under_way = self->handover.current_lost ();

  bool drained;
  {
    std::lock_guard<std::mutex> g (self->lock);
    drained = self->draining && self->backlog.empty () && self->delivery.ledger ().all_confirmed ();
  }
  if (drained)
    {
      /* Everything is delivered: a next connection is not wanted any more. */
      if (next_under_way)
        self->next.cancel ();
      self->set_state (ConnectionState::Closed);
      return;
    }
  GST_WARNING_OBJECT (self->log_object, "%s: %s", self->shown_uri.c_str (), why.c_str ());
  if (next_under_way)
    self->set_state (ConnectionState::Reconnecting, why);
  else
    self->schedule_retry (why);
}

gboolean
WssClientTransport::Impl::on_pending_action (gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  g_source_unref (self->pending_source);
  self->pending_source = nullptr;
  PendingAction action;
  std::string detail;
  {
    std::lock_guard<std::mutex> g (self->lock);
    action = self->pending_action;
    detail = self->pending_detail;
    self->pending_action = PendingAction::None;
  }
  if (!self->conn)
    return G_SOURCE_REMOVE;
  if (action == PendingAction::GiveUp)
    {
      std::string fix;
      {
        std::lock_guard<std::mutex> g (self->lock);
        fix = self->pending_fix;
      }
      self->drop_connection ();
      self->give_up (detail, fix);
    }
  else if (action == PendingAction::Reconnect)
    {
      self->drop_connection ();
      self->schedule_retry ("session claimed by another connection: " + detail);
    }
  return G_SOURCE_REMOVE;
}

bool
WssClientTransport::Impl::open () const
{
  return conn && soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN;
}

} // namespace wssac
