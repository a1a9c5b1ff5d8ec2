#include "wss-client-transport.h"

#include "connect-errors.h"
#include "context-thread.h"
#include "delivery-tracker.h"
#include "latency-stats.h"
#include "transport-config.h"

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

GST_DEBUG_CATEGORY_STATIC (wss_transport_debug);
#define GST_CAT_DEFAULT wss_transport_debug

namespace wssac
{

namespace
{
int64_t
now_ms ()
{
  return g_get_real_time () / 1000;
}

int64_t
mono_ms ()
{
  return g_get_monotonic_time () / 1000;
}

} // namespace

struct WssClientTransport::Impl
{
  GstObject *log_object = nullptr; /* borrowed: what every log line names */
  TransportConfig config;
  std::string shown_uri;   /* redacted: the only form logs and messages use */
  std::string connect_uri; /* with the session id and the token, as configured */
  GTlsDatabase *tls_database = nullptr;
  TransportCallbacks cb;

  /* Owned by the transport thread once started. */
  std::unique_ptr<ContextThread> thread;
  GMainContext *context = nullptr; /* the thread's, while it runs */
  SoupSession *session = nullptr;
  SoupWebsocketConnection *conn = nullptr;
  SoupMessage *connecting_msg = nullptr;
  GCancellable *cancellable = nullptr;
  GSource *timer = nullptr;    /* connect timeout or retry delay */
  GSource *watchdog = nullptr; /* dead-peer check, once a second */
  GSource *resume = nullptr;   /* retry a flush paused by backpressure or pacing */
  GSource *ticker = nullptr;   /* TCP evidence, loss episodes, connection age */
  GSource *pending_source = nullptr;
  enum class PendingAction
  {
    None,
    Reconnect,
    GiveUp,
  } pending_action
      = PendingAction::None; /* decided by a server reply */
  std::string pending_detail;
  std::string pending_fix;
  bool connect_timed_out = false;
  /* How far the attempt got (SoupMessage::network-event): tells a TLS
   * handshake nobody answers from a server that is not there. */
  GSocketClientEvent last_network_event = G_SOCKET_CLIENT_RESOLVING;
  bool got_network_event = false;
  RetryPolicy retry{ RetryConfig () };
  bool ever_connected = false;
  bool header_due = false; /* the next chunk carries the stream header */
  int64_t last_rx_ms = 0;
  int64_t connected_ms = 0;
  bool pong_seen = false; /* the watchdog trusts pings once one was answered */
  unsigned ping_interval_s = 0;
  bool retiring = false;  /* max-connection-age: switch once nothing is in flight */

  /* Shared with the element's threads. */
  mutable std::mutex lock;
  std::condition_variable cond;
  Backlog backlog;
  DeliveryTracker delivery; /* written, not yet confirmed */
  std::vector<uint8_t> stream_header;
  TransportStats stats;
  LatencyStats latencies; /* queue to socket, us */
  bool draining = false;
  bool interrupted = false;
  std::atomic<bool> wake_pending{ false };

  void
  set_state (ConnectionState s, const std::string &detail = std::string ())
  {
    {
      std::lock_guard<std::mutex> g (lock);
      if (stats.state == s)
        return;
      stats.state = s;
      if (!detail.empty () && (s == ConnectionState::Reconnecting || s == ConnectionState::Failed))
        stats.last_error = detail;
    }
    cond.notify_all ();
    GST_INFO_OBJECT (log_object, "%s: %s%s%s", shown_uri.c_str (), connection_state_name (s),
                     detail.empty () ? "" : ": ", detail.c_str ());
    if (cb.state_changed)
      cb.state_changed (s, detail);
  }

  /* ---- transport thread ---- */

  /* On the transport thread, before its loop runs. */
  void
  thread_setup ()
  {
    session = soup_session_new_with_options ("user-agent", config.user_agent.c_str (), "timeout",
                                             config.connect_timeout_s, NULL);
    if (tls_database)
      soup_session_set_tls_database (session, tls_database);
    connect ();
  }

  /* On the transport thread, once its loop has quit. */
  void
  thread_teardown ()
  {
    destroy_source (&timer);
    destroy_source (&watchdog);
    destroy_source (&resume);
    destroy_source (&ticker);
    destroy_source (&pending_source);
    if (cancellable)
      g_cancellable_cancel (cancellable);
    /* Let a cancelled connect callback run before the session goes. */
    while (connecting_msg)
      g_main_context_iteration (context, TRUE);
    drop_connection ();
    g_clear_object (&session);
    g_clear_object (&tls_database);
  }

  static void
  destroy_source (GSource **source)
  {
    if (*source)
      {
        g_source_destroy (*source);
        g_source_unref (*source);
        *source = nullptr;
      }
  }

  GSource *
  attach_timeout (int64_t delay_ms, GSourceFunc func)
  {
    GSource *s = g_timeout_source_new (static_cast<guint> (std::max<int64_t> (delay_ms, 0)));
    g_source_set_callback (s, func, this, nullptr);
    g_source_attach (s, context);
    return s;
  }

  void
  connect ()
  {
    set_state (ever_connected ? ConnectionState::Reconnecting : ConnectionState::Connecting);
    SoupMessage *msg = soup_message_new ("GET", connect_uri.c_str ());
    if (!msg)
      {
        ConnectError e;
        e.kind = ConnectErrorKind::InvalidUri;
        e.message = "Could not connect to " + shown_uri + ": not a valid URI";
        e.hint = "set the location property to a ws:// or wss:// URI";
        on_connect_failed (e, false);
        return;
      }
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

    got_network_event = false;
    g_signal_connect (msg, "network-event", G_CALLBACK (on_network_event), this);

    g_clear_object (&cancellable);
    cancellable = g_cancellable_new ();
    connect_timed_out = false;
    connecting_msg = msg;
    destroy_source (&timer);
    timer = attach_timeout (static_cast<int64_t> (config.connect_timeout_s) * 1000,
                            on_connect_timeout);
    soup_session_websocket_connect_async (session, msg, nullptr, nullptr, G_PRIORITY_DEFAULT,
                                          cancellable, on_connect_done, this);
  }

  static gboolean
  on_connect_timeout (gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    self->connect_timed_out = true;
    g_cancellable_cancel (self->cancellable);
    g_source_unref (self->timer);
    self->timer = nullptr;
    return G_SOURCE_REMOVE;
  }

  static void
  on_connect_done (GObject *source, GAsyncResult *res, gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    GError *error = nullptr;
    SoupWebsocketConnection *conn
        = soup_session_websocket_connect_finish (SOUP_SESSION (source), res, &error);
    SoupMessage *msg = self->connecting_msg;
    self->connecting_msg = nullptr;
    destroy_source (&self->timer);

    if (!conn)
      {
        bool cancelled
            = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !self->connect_timed_out;
        ConnectError e = self->classify (error, msg);
        g_clear_error (&error);
        g_object_unref (msg);
        if (!cancelled)
          self->on_connect_failed (e, true);
        return;
      }
    g_object_unref (msg);
    self->on_connected (conn);
  }

  static void
  on_network_event (SoupMessage *, GSocketClientEvent event, GIOStream *, gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    self->last_network_event = event;
    self->got_network_event = true;
  }

  bool
  tls_handshake_started () const
  {
    return got_network_event
           && (last_network_event == G_SOCKET_CLIENT_TLS_HANDSHAKING
               || last_network_event == G_SOCKET_CLIENT_TLS_HANDSHAKED);
  }

  bool
  tcp_connected () const
  {
    return got_network_event && last_network_event >= G_SOCKET_CLIENT_CONNECTED;
  }

  /* What went wrong with an attempt, in words a person can act on. */
  ConnectError
  classify (const GError *error, SoupMessage *msg) const
  {
    ConnectAttempt a;
    a.shown_uri = shown_uri;
    a.wss = g_str_has_prefix (connect_uri.c_str (), "wss:");
    a.timed_out = connect_timed_out;
    a.connect_timeout_s = config.connect_timeout_s;
    a.tls_handshaking = got_network_event && last_network_event == G_SOCKET_CLIENT_TLS_HANDSHAKING;
    a.tcp_connected = tcp_connected ();
    return classify_connect_error (error, msg, a);
  }

  void
  on_connect_failed (const ConnectError &e, bool retryable)
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
  give_up (const std::string &message,
           const std::string &fix = "the connection was lost and could not be re-established; "
                                    "raise max-retries (-1 = forever) to keep trying")
  {
    set_state (ConnectionState::Failed, message);
    if (cb.fatal)
      cb.fatal (message, fix);
  }

  void
  schedule_retry (const std::string &why)
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
    GST_INFO_OBJECT (log_object, "reconnecting to %s in %" G_GINT64_FORMAT " ms",
                     shown_uri.c_str (), *delay);
    set_state (ConnectionState::Reconnecting, why);
    destroy_source (&timer);
    timer = attach_timeout (*delay, on_retry_timer);
  }

  static gboolean
  on_retry_timer (gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    g_source_unref (self->timer);
    self->timer = nullptr;
    self->connect ();
    return G_SOURCE_REMOVE;
  }

  void
  on_connected (SoupWebsocketConnection *c)
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
    pong_seen = retiring = false;
    destroy_source (&watchdog);
    if (config.keepalive_timeout_s > 0)
      watchdog = attach_timeout (1000, on_watchdog);
    destroy_source (&ticker);
    ticker = attach_timeout (100, on_tick);
    bool reconnect = ever_connected;
    ever_connected = true;
    {
      std::lock_guard<std::mutex> g (lock);
      /* The first chunk on every connection that is not chunk 0 (which holds
       * it anyway) carries the stream header: a receiver that lost its state,
       * or never saw chunk 0, can still decode from there. */
      header_due = true;
      /* Replays of what a dead connection did not confirm go first. */
      delivery.opened (conn);
      delivery.ledger ().set_tail (false);
      delivery.ledger ().require_liveness (false); /* until a pong shows pings are answered */
      if (reconnect)
        stats.reconnects++;
    }
    cond.notify_all ();
    set_state (ConnectionState::Connected);
    flush ();
  }

  void
  drop_connection ()
  {
    destroy_source (&watchdog);
    destroy_source (&resume);
    destroy_source (&ticker);
    if (!conn)
      return;
    connection_ended (false);
    g_signal_handlers_disconnect_by_data (conn, this);
    if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "stopping");
    g_clear_object (&conn);
  }

  static gboolean
  on_watchdog (gpointer data)
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
                            "%s: nothing heard for %" G_GINT64_FORMAT
                            " ms, replacing the connection",
                            self->shown_uri.c_str (), silent);
        {
          std::lock_guard<std::mutex> g (self->lock);
          self->stats.last_error = "peer silent for " + std::to_string (silent / 1000) + " s";
        }
        g_io_stream_close (soup_websocket_connection_get_io_stream (self->conn), nullptr, nullptr);
      }
    return G_SOURCE_CONTINUE;
  }

  static void
  on_pong (SoupWebsocketConnection *, GBytes *, gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    self->last_rx_ms = mono_ms ();
    self->pong_seen = true;
    std::lock_guard<std::mutex> g (self->lock);
    self->delivery.ledger ().require_liveness (true);
    self->delivery.ledger ().peer_heard (self->last_rx_ms);
  }

  static void
  on_error (SoupWebsocketConnection *c, GError *error, gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    GST_WARNING_OBJECT (self->log_object, "%s: %s", self->shown_uri.c_str (), error->message);
    std::lock_guard<std::mutex> g (self->lock);
    self->stats.last_error = error->message;
  }

  static void
  on_message (SoupWebsocketConnection *c, gint type, GBytes *message, gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
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
      self->delivery.ledger ().peer_heard (self->last_rx_ms);
      if (reply.kind == Reply::Ack)
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
          if (r.fatal || r.reconnect)
            {
              self->pending_action = r.fatal ? PendingAction::GiveUp : PendingAction::Reconnect;
              self->pending_detail = r.fatal ? r.fatal->cause + " (" + self->shown_uri + ")" : reply.message;
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
  on_progress ()
  {
    retry.reset ();
    delivery.progress ();
  }

  void
  announce (const std::vector<DropEpisode> &due)
  {
    if (cb.dropped)
      for (const auto &e : due)
        cb.dropped (e);
  }

  /* The connection ended (@clean: with a close frame from the server). */
  void
  connection_ended (bool clean)
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

  static void
  on_closing (SoupWebsocketConnection *, gpointer data)
  {
    auto *self = static_cast<Impl *> (data); /* the last TCP evidence before the socket goes */
    std::lock_guard<std::mutex> g (self->lock);
    if (self->delivery.sample (mono_ms ()) > 0)
      self->on_progress ();
  }

  static gboolean
  on_tick (gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    const int64_t now = mono_ms ();
    std::vector<DropEpisode> due;
    {
      std::lock_guard<std::mutex> g (self->lock);
      if (self->delivery.sample (now) > 0)
        self->on_progress ();
      due = self->delivery.due_drops (now);
      unsigned want = self->delivery.ping_interval (self->config.keepalive_interval_s, self->pong_seen);
      if (self->conn && want != self->ping_interval_s)
        {
          soup_websocket_connection_set_keepalive_interval (self->conn, want);
          self->ping_interval_s = want;
        }
      if (self->config.max_connection_age_ms > 0 && !self->draining
          && now - self->connected_ms >= self->config.max_connection_age_ms)
        self->retiring = true;
    }
    self->announce (due);
    self->flush ();
    return G_SOURCE_CONTINUE;
  }

  static gboolean
  on_pending_action (gpointer data)
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

  static void
  on_closed (SoupWebsocketConnection *c, gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
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
    destroy_source (&self->ticker);

    bool drained;
    {
      std::lock_guard<std::mutex> g (self->lock);
      drained = self->draining && self->backlog.empty () && self->delivery.ledger ().all_confirmed ();
    }
    if (drained)
      {
        self->set_state (ConnectionState::Closed);
        return;
      }
    if (self->retiring)
      {
        /* max-connection-age: everything was confirmed; straight on. */
        self->retiring = false;
        self->connect ();
        return;
      }
    GST_WARNING_OBJECT (self->log_object, "%s: %s", self->shown_uri.c_str (), why.c_str ());
    self->schedule_retry (why);
  }

  bool
  open () const
  {
    return conn && soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN;
  }

  static gboolean
  on_resume (gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    g_source_unref (self->resume);
    self->resume = nullptr;
    self->flush ();
    return G_SOURCE_REMOVE;
  }

  void
  flush ()
  {
    wake_pending = false;
    destroy_source (&resume);
    while (open () && !retiring)
      {
        if (delivery.kernel_full (config.max_in_flight))
          {
            /* The peer is not reading: keep the rest in our bounded
             * backlog and look again shortly. */
            resume = attach_timeout (20, on_resume);
            return;
          }
        Outgoing item;
        int64_t wait = 0;
        {
          std::lock_guard<std::mutex> g (lock);
          if (!delivery.next (backlog, mono_ms (), item, wait))
            {
              if (wait > 0)
                resume = attach_timeout (wait, on_resume);
              break; /* else a confirmation (or new audio) flushes again */
            }
        }
        cond.notify_all (); /* room in the backlog: wait_for_room () */
        send (std::move (item));
      }

    bool close_now, retire_now;
    {
      std::lock_guard<std::mutex> g (lock);
      DeliveryLedger &l = delivery.ledger ();
      /* No more chunks follow on this connection: its last ones cannot
       * wait for an ack that comes every few chunks. */
      l.set_tail ((draining && backlog.audio_chunks () == 0) || retiring);
      close_now = draining && backlog.empty () && l.all_confirmed () && open ();
      retire_now = retiring && l.all_confirmed () && open ();
    }
    if (close_now)
      {
        set_state (ConnectionState::Closing);
        soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
      }
    else if (retire_now)
      {
        GST_INFO_OBJECT (log_object, "%s: connection %" G_GINT64_FORMAT " s old, moving to a new one",
                         shown_uri.c_str (), (mono_ms () - connected_ms) / 1000);
        soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, "connection age");
      }
  }

  void
  send (Outgoing item)
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

  static gboolean
  on_wake (gpointer data)
  {
    static_cast<Impl *> (data)->flush ();
    return G_SOURCE_REMOVE;
  }

  void
  wake ()
  {
    if (!wake_pending.exchange (true))
      g_main_context_invoke (context, on_wake, this);
  }
};

WssClientTransport::WssClientTransport (GstObject *log_object) : impl_ (std::make_unique<Impl> ())
{
  impl_->log_object = log_object;
  static std::once_flag once;
  std::call_once (once, [] {
    GST_DEBUG_CATEGORY_INIT (wss_transport_debug, "wssaudiochunktransport", 0,
                             "wssaudiochunk WebSocket client transport");
  });
}

WssClientTransport::~WssClientTransport ()
{
  stop ();
}

bool
WssClientTransport::start (const TransportConfig &config, TransportCallbacks callbacks,
                           std::string &error)
{
  Impl *p = impl_.get ();
  p->config = config;
  p->config.tls_database = nullptr;
  p->cb = std::move (callbacks);
  p->shown_uri = redact_uri (config.uri);
  p->connect_uri = connect_uri_of (config);
  g_clear_object (&p->tls_database);
  if (!tls_database_of (config, &p->tls_database, error))
    return false;
  p->retry = RetryPolicy (config.retry);
  p->backlog.clear ();
  p->backlog.set_limits (config.backlog);
  p->delivery.reset (delivery_config_of (config));
  p->stats = TransportStats ();
  p->latencies.clear ();
  p->draining = p->interrupted = false;
  p->ever_connected = false;
  p->header_due = false;
  p->thread = std::make_unique<ContextThread> ();
  p->context = p->thread->context ();
  std::string thread_error;
  if (!p->thread->start ("wssac-transport", thread_error, [p] { p->thread_setup (); }))
    {
      p->thread.reset ();
      p->context = nullptr;
      g_clear_object (&p->tls_database);
      error = "Could not connect to " + p->shown_uri + ": " + thread_error;
      return false;
    }

  /* Audio waits in the backlog until the connection is up. */
  return true;
}

std::vector<DropEpisode>
WssClientTransport::enqueue (Outgoing item)
{
  std::vector<DropEpisode> due;
  item.queued_us = g_get_monotonic_time ();
  {
    std::lock_guard<std::mutex> g (impl_->lock);
    if (item.kind == OutgoingKind::AudioChunk)
      impl_->stats.chunks_queued++;
    DropRange dropped = impl_->backlog.push (std::move (item));
    if (dropped.count > 0)
      due = impl_->delivery.count_drop (DropReason::Backlog, dropped, mono_ms ());
  }
  if (impl_->context)
    impl_->wake ();
  return due;
}

std::vector<DropEpisode>
WssClientTransport::count_drop (DropReason reason, const DropRange &range)
{
  std::lock_guard<std::mutex> g (impl_->lock);
  return impl_->delivery.count_drop (reason, range, mono_ms ());
}

bool
WssClientTransport::wait_for_room ()
{
  Impl *p = impl_.get ();
  std::unique_lock<std::mutex> g (p->lock);
  p->cond.wait (g, [p] {
    return p->interrupted || p->stats.state == ConnectionState::Failed
           || DeliveryTracker::has_room (p->backlog);
  });
  return !p->interrupted;
}

bool
WssClientTransport::drain_and_close (int64_t timeout_ms)
{
  Impl *p = impl_.get ();
  if (!p->context)
    return true;
  close_when_drained ();
  auto finished = [p] {
    return p->interrupted || p->stats.state == ConnectionState::Closed
           || p->stats.state == ConnectionState::Failed;
  };
  std::vector<DropEpisode> due;
  bool delivered;
  {
    std::unique_lock<std::mutex> g (p->lock);
    p->cond.wait_for (g, std::chrono::milliseconds (timeout_ms), finished);
    delivered = p->stats.state == ConnectionState::Closed && p->backlog.empty ()
                && p->delivery.ledger ().all_confirmed ();
    /* At EOS what is not confirmed is lost: say so now, and let endSession
     * and the close go out. */
    due = p->delivery.abandon (p->backlog, mono_ms ());
  }
  p->announce (due);
  if (!delivered)
    {
      g_main_context_invoke (p->context, Impl::on_wake, p);
      std::unique_lock<std::mutex> g (p->lock);
      p->cond.wait_for (g, std::chrono::milliseconds (2000), finished);
    }
  return delivered;
}

void
WssClientTransport::close_when_drained ()
{
  Impl *p = impl_.get ();
  if (!p->context)
    return;
  {
    std::lock_guard<std::mutex> g (p->lock);
    p->draining = true;
  }
  g_main_context_invoke (p->context, Impl::on_wake, p);
}

void
WssClientTransport::interrupt ()
{
  {
    std::lock_guard<std::mutex> g (impl_->lock);
    impl_->interrupted = true;
  }
  impl_->cond.notify_all ();
}

void
WssClientTransport::clear_interrupt ()
{
  std::lock_guard<std::mutex> g (impl_->lock);
  impl_->interrupted = false;
}

void
WssClientTransport::set_format (const std::string &format)
{
  std::lock_guard<std::mutex> g (impl_->lock);
  impl_->config.format = format;
}

void
WssClientTransport::set_stream_header (const std::vector<uint8_t> &header)
{
  std::lock_guard<std::mutex> g (impl_->lock);
  impl_->stream_header = header;
}

void
WssClientTransport::stop ()
{
  Impl *p = impl_.get ();
  if (!p->context)
    return;
  p->thread->stop ([p] { p->thread_teardown (); });
  p->thread.reset ();
  p->context = nullptr;
  g_clear_object (&p->cancellable);

  std::vector<DropEpisode> due;
  {
    std::lock_guard<std::mutex> g (p->lock);
    due = p->delivery.abandon (p->backlog, mono_ms ());
    p->backlog.clear ();
    if (p->stats.state != ConnectionState::Failed)
      p->stats.state = ConnectionState::Closed;
  }
  p->announce (due);
}

TransportStats
WssClientTransport::stats () const
{
  std::lock_guard<std::mutex> g (impl_->lock);
  TransportStats s = impl_->stats;
  s.backlog_chunks = impl_->backlog.audio_chunks ();
  s.backlog_bytes = impl_->backlog.audio_bytes ();
  s.backlog_time_ns = impl_->backlog.audio_time ();
  impl_->delivery.fill (s);
  LatencyPercentiles p = impl_->latencies.percentiles ();
  s.latency_p50_us = p.p50;
  s.latency_p95_us = p.p95;
  s.latency_p99_us = p.p99;
  return s;
}

} // namespace wssac
