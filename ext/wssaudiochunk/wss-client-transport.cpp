#include "wss-client-transport.h"

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <atomic>
#include <chrono>
#include <deque>

GST_DEBUG_CATEGORY_STATIC (wss_transport_debug);
#define GST_CAT_DEFAULT wss_transport_debug

namespace wssac
{

const char *
connection_state_name (ConnectionState state)
{
  switch (state)
    {
    case ConnectionState::Disconnected:
      return "disconnected";
    case ConnectionState::Connecting:
      return "connecting";
    case ConnectionState::Connected:
      return "connected";
    case ConnectionState::Reconnecting:
      return "reconnecting";
    case ConnectionState::Closing:
      return "closing";
    case ConnectionState::Closed:
      return "closed";
    case ConnectionState::Failed:
      return "failed";
    }
  return "unknown";
}

namespace
{
int64_t
now_ms ()
{
  return g_get_real_time () / 1000;
}

struct SentRecord
{
  Outgoing item;
  int64_t sent_mono_ms;
};
} // namespace

struct WssClientTransport::Impl
{
  TransportConfig config;
  TransportCallbacks cb;

  /* Owned by the transport thread once started. */
  GMainContext *context = nullptr;
  GMainLoop *loop = nullptr;
  SoupSession *session = nullptr;
  SoupWebsocketConnection *conn = nullptr;
  SoupMessage *connecting_msg = nullptr;
  GCancellable *cancellable = nullptr;
  GSource *timer = nullptr; /* connect timeout or retry delay */
  bool connect_timed_out = false;
  std::thread thread;
  RetryPolicy retry{ RetryConfig () };
  std::deque<SentRecord> replay; /* recently sent, for after a reconnect */
  bool ever_connected = false;

  /* Shared with the element's threads. */
  mutable std::mutex lock;
  std::condition_variable cond;
  Backlog backlog;
  TransportStats stats;
  bool first_outcome = false;
  bool first_ok = false;
  std::string first_error;
  bool draining = false;
  bool interrupted = false;
  std::atomic<bool> wake_pending{ false };

  void set_state (ConnectionState s, const std::string &detail = std::string ())
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
    GST_INFO ("%s: %s%s%s", config.uri.c_str (), connection_state_name (s), detail.empty () ? "" : ": ",
              detail.c_str ());
    if (cb.state_changed)
      cb.state_changed (s, detail);
  }

  /* ---- transport thread ---- */

  void thread_main ()
  {
    g_main_context_push_thread_default (context);
    session = soup_session_new_with_options ("user-agent", config.user_agent.c_str (), "timeout",
                                             config.connect_timeout_s, NULL);
    connect ();
    g_main_loop_run (loop);

    clear_timer ();
    if (cancellable)
      g_cancellable_cancel (cancellable);
    /* Let a cancelled connect callback run before the session goes. */
    while (connecting_msg)
      g_main_context_iteration (context, TRUE);
    drop_connection ();
    g_clear_object (&session);
    while (g_main_context_pending (context))
      g_main_context_iteration (context, FALSE);
    g_main_context_pop_thread_default (context);
  }

  void clear_timer ()
  {
    if (timer)
      {
        g_source_destroy (timer);
        g_source_unref (timer);
        timer = nullptr;
      }
  }

  void arm_timer (int64_t delay_ms, GSourceFunc func)
  {
    clear_timer ();
    timer = g_timeout_source_new (static_cast<guint> (delay_ms));
    g_source_set_callback (timer, func, this, nullptr);
    g_source_attach (timer, context);
  }

  void connect ()
  {
    set_state (ever_connected ? ConnectionState::Reconnecting : ConnectionState::Connecting);
    SoupMessage *msg = soup_message_new ("GET", config.uri.c_str ());
    if (!msg)
      {
        on_connect_failed ("not a valid URI", false);
        return;
      }
    SoupMessageHeaders *headers = soup_message_get_request_headers (msg);
    for (const auto &h : config.headers)
      soup_message_headers_append (headers, h.first.c_str (), h.second.c_str ());

    g_clear_object (&cancellable);
    cancellable = g_cancellable_new ();
    connect_timed_out = false;
    connecting_msg = msg;
    arm_timer (static_cast<int64_t> (config.connect_timeout_s) * 1000, on_connect_timeout);
    soup_session_websocket_connect_async (session, msg, nullptr, nullptr, G_PRIORITY_DEFAULT, cancellable,
                                          on_connect_done, this);
  }

  static gboolean on_connect_timeout (gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    self->connect_timed_out = true;
    g_cancellable_cancel (self->cancellable);
    g_source_unref (self->timer);
    self->timer = nullptr;
    return G_SOURCE_REMOVE;
  }

  static void on_connect_done (GObject *source, GAsyncResult *res, gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    GError *error = nullptr;
    SoupWebsocketConnection *conn
        = soup_session_websocket_connect_finish (SOUP_SESSION (source), res, &error);
    SoupMessage *msg = self->connecting_msg;
    self->connecting_msg = nullptr;
    self->clear_timer ();

    if (!conn)
      {
        std::string cause;
        if (self->connect_timed_out)
          cause = "no answer within " + std::to_string (self->config.connect_timeout_s) + " s";
        else if (g_error_matches (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET)
                 || g_error_matches (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_BAD_HANDSHAKE))
          {
            guint status = soup_message_get_status (msg);
            const char *phrase = soup_message_get_reason_phrase (msg);
            cause = "the server refused the WebSocket upgrade (HTTP " + std::to_string (status)
                    + (phrase && *phrase ? std::string (" ") + phrase : std::string ()) + ")";
          }
        else
          cause = error ? error->message : "unknown error";
        bool cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !self->connect_timed_out;
        g_clear_error (&error);
        g_object_unref (msg);
        if (!cancelled)
          self->on_connect_failed (cause, true);
        return;
      }
    g_object_unref (msg);
    self->on_connected (conn);
  }

  void on_connect_failed (const std::string &cause, bool retryable)
  {
    std::string message = "Could not connect to " + config.uri + ": " + cause;
    GST_WARNING ("%s", message.c_str ());
    if (!ever_connected)
      {
        /* The first connection decides whether the pipeline starts: a
         * wrong URI or a server that is not there is a setup error the user
         * must see at once. */
        {
          std::lock_guard<std::mutex> g (lock);
          first_outcome = true;
          first_ok = false;
          first_error = message;
          stats.last_error = message;
        }
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

  void give_up (const std::string &message)
  {
    set_state (ConnectionState::Failed, message);
    if (cb.fatal)
      cb.fatal (message);
  }

  void schedule_retry (const std::string &why)
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
    GST_INFO ("reconnecting to %s in %" G_GINT64_FORMAT " ms", config.uri.c_str (), *delay);
    set_state (ConnectionState::Reconnecting, why);
    arm_timer (*delay, on_retry_timer);
  }

  static gboolean on_retry_timer (gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    g_source_unref (self->timer);
    self->timer = nullptr;
    self->connect ();
    return G_SOURCE_REMOVE;
  }

  void on_connected (SoupWebsocketConnection *c)
  {
    conn = c;
    soup_websocket_connection_set_keepalive_interval (conn, config.keepalive_interval_s);
    /* We only ever get small replies (errors, acks). */
    soup_websocket_connection_set_max_incoming_payload_size (conn, 64 * 1024);
    g_signal_connect (conn, "closed", G_CALLBACK (on_closed), this);
    g_signal_connect (conn, "error", G_CALLBACK (on_error), this);
    g_signal_connect (conn, "message", G_CALLBACK (on_message), this);
    retry.reset ();

    bool reconnect = ever_connected;
    ever_connected = true;
    if (reconnect)
      {
        std::lock_guard<std::mutex> g (lock);
        stats.reconnects++;
        requeue_replay_locked ();
      }
    else
      {
        std::lock_guard<std::mutex> g (lock);
        first_outcome = true;
        first_ok = true;
      }
    set_state (ConnectionState::Connected);
    flush ();
  }

  /* Chunks handed to the dead socket recently may not have arrived: queue
   * them again ahead of everything (the receiver drops duplicates). */
  void requeue_replay_locked ()
  {
    int64_t now = g_get_monotonic_time () / 1000;
    for (auto it = replay.rbegin (); it != replay.rend (); ++it)
      {
        if (now - it->sent_mono_ms > config.replay_window_ms)
          break;
        backlog.push_front (std::move (it->item));
        stats.chunks_replayed++;
      }
    replay.clear ();
  }

  void drop_connection ()
  {
    if (!conn)
      return;
    g_signal_handlers_disconnect_by_data (conn, this);
    if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "stopping");
    g_clear_object (&conn);
  }

  static void on_error (SoupWebsocketConnection *c, GError *error, gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    GST_WARNING ("%s: %s", self->config.uri.c_str (), error->message);
    std::lock_guard<std::mutex> g (self->lock);
    self->stats.last_error = error->message;
  }

  static void on_message (SoupWebsocketConnection *c, gint type, GBytes *message, gpointer data)
  {
    /* Receivers may answer with error reports; they are for diagnosis. */
    gsize size = 0;
    const char *text = static_cast<const char *> (g_bytes_get_data (message, &size));
    GST_DEBUG ("server says: %.*s", (int) MIN (size, 512), text ? text : "");
  }

  static void on_closed (SoupWebsocketConnection *c, gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    gushort code = soup_websocket_connection_get_close_code (c);
    const char *reason = soup_websocket_connection_get_close_data (c);
    std::string why = "connection closed (code " + std::to_string (code)
                      + (reason && *reason ? std::string (", \"") + reason + "\"" : std::string ()) + ")";
    g_signal_handlers_disconnect_by_data (c, self);
    g_clear_object (&self->conn);

    bool draining;
    {
      std::lock_guard<std::mutex> g (self->lock);
      draining = self->draining && self->backlog.empty ();
    }
    if (draining)
      {
        self->set_state (ConnectionState::Closed);
        return;
      }
    GST_WARNING ("%s: %s", self->config.uri.c_str (), why.c_str ());
    self->schedule_retry (why);
  }

  void flush ()
  {
    wake_pending = false;
    while (conn && soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
      {
        Outgoing item;
        {
          std::lock_guard<std::mutex> g (lock);
          if (backlog.empty ())
            break;
          item = backlog.pop_front ();
        }
        send (std::move (item));
      }

    bool close_now = false;
    {
      std::lock_guard<std::mutex> g (lock);
      close_now = draining && backlog.empty () && conn
                  && soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN;
    }
    if (close_now)
      {
        set_state (ConnectionState::Closing);
        soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
      }
  }

  void send (Outgoing item)
  {
    int64_t ts = now_ms ();
    std::string text;
    if (item.kind == OutgoingKind::AudioChunk)
      {
        AudioChunkFields f;
        f.session_id = config.session_id;
        f.audio = item.audio.data ();
        f.audio_size = item.audio.size ();
        f.timestamp_ms = ts;
        {
          std::lock_guard<std::mutex> g (lock);
          f.format = config.format;
        }
        f.chunk_index = item.chunk_index;
        /* After an outage the send time is not the capture time. */
        if (ts - item.created_ms > 1000)
          f.capture_timestamp_ms = item.created_ms;
        text = encode_audio_chunk (f);
      }
    else
      {
        Action action;
        if (!action_from_name (item.action, action))
          return;
        text = encode_control (action, config.session_id, item.created_ms, item.reason);
      }

    if (text.size () > config.max_message_size)
      {
        /* One frame over the gateway's limit closes the connection (1009)
         * and would be retried forever: refuse it here, loudly. */
        DropRange r;
        r.first = r.last = item.chunk_index;
        r.count = 1;
        r.bytes = item.audio.size ();
        r.media_time = item.media_duration;
        {
          std::lock_guard<std::mutex> g (lock);
          stats.chunks_dropped++;
          stats.last_error = "chunk " + std::to_string (item.chunk_index) + " encodes to "
                             + std::to_string (text.size ()) + " bytes, over max-message-size "
                             + std::to_string (config.max_message_size);
        }
        if (cb.dropped)
          cb.dropped (r);
        return;
      }

    soup_websocket_connection_send_text (conn, text.c_str ());

    SentInfo info;
    info.chunk_index = item.chunk_index;
    info.size = item.audio.size ();
    info.encoded_size = text.size ();
    info.timestamp_ms = ts;
    info.replay = false;
    {
      std::lock_guard<std::mutex> g (lock);
      stats.bytes_sent += text.size ();
      if (item.kind == OutgoingKind::AudioChunk)
        {
          stats.chunks_sent++;
          stats.audio_bytes_sent += item.audio.size ();
        }
      else
        stats.controls_sent++;
    }
    bool is_chunk = item.kind == OutgoingKind::AudioChunk;
    if (config.replay_window_ms > 0 && is_chunk)
      {
        int64_t mono = g_get_monotonic_time () / 1000;
        replay.push_back ({ std::move (item), mono });
        while (!replay.empty () && mono - replay.front ().sent_mono_ms > config.replay_window_ms)
          replay.pop_front ();
      }
    if (is_chunk && cb.chunk_sent)
      cb.chunk_sent (info);
  }

  static gboolean on_wake (gpointer data)
  {
    static_cast<Impl *> (data)->flush ();
    return G_SOURCE_REMOVE;
  }

  static gboolean on_quit (gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    g_main_loop_quit (self->loop);
    return G_SOURCE_REMOVE;
  }

  void wake ()
  {
    if (!wake_pending.exchange (true))
      g_main_context_invoke (context, on_wake, this);
  }
};

WssClientTransport::WssClientTransport () : impl_ (new Impl ())
{
  static std::once_flag once;
  std::call_once (once, [] {
    GST_DEBUG_CATEGORY_INIT (wss_transport_debug, "wssaudiochunktransport", 0,
                             "wssaudiochunk WebSocket client transport");
  });
}

WssClientTransport::~WssClientTransport ()
{
  stop ();
  delete impl_;
}

bool
WssClientTransport::start (const TransportConfig &config, TransportCallbacks callbacks, std::string &error)
{
  Impl *p = impl_;
  p->config = config;
  p->cb = std::move (callbacks);
  p->retry = RetryPolicy (config.retry);
  p->backlog.clear ();
  p->backlog.set_limits (config.backlog);
  p->stats = TransportStats ();
  p->first_outcome = p->first_ok = false;
  p->draining = p->interrupted = false;
  p->ever_connected = false;
  p->context = g_main_context_new ();
  p->loop = g_main_loop_new (p->context, FALSE);
  p->thread = std::thread ([p] { p->thread_main (); });

  std::unique_lock<std::mutex> g (p->lock);
  /* The connect timeout bounds this; the margin covers a stuck resolver. */
  auto limit = std::chrono::seconds (config.connect_timeout_s + 5);
  if (!p->cond.wait_for (g, limit, [p] { return p->first_outcome; }))
    {
      error = "Could not connect to " + config.uri + ": no answer within "
              + std::to_string (config.connect_timeout_s) + " s";
      return false;
    }
  if (!p->first_ok)
    error = p->first_error;
  return p->first_ok;
}

DropRange
WssClientTransport::enqueue (Outgoing item)
{
  DropRange dropped;
  {
    std::lock_guard<std::mutex> g (impl_->lock);
    if (item.kind == OutgoingKind::AudioChunk)
      impl_->stats.chunks_queued++;
    dropped = impl_->backlog.push (std::move (item));
    impl_->stats.chunks_dropped += dropped.count;
  }
  if (impl_->context)
    impl_->wake ();
  return dropped;
}

bool
WssClientTransport::drain_and_close (int64_t timeout_ms)
{
  Impl *p = impl_;
  if (!p->context)
    return true;
  {
    std::lock_guard<std::mutex> g (p->lock);
    p->draining = true;
  }
  g_main_context_invoke (p->context, Impl::on_wake, p);
  std::unique_lock<std::mutex> g (p->lock);
  p->cond.wait_for (g, std::chrono::milliseconds (timeout_ms), [p] {
    return p->interrupted || p->stats.state == ConnectionState::Closed
           || p->stats.state == ConnectionState::Failed;
  });
  return p->stats.state == ConnectionState::Closed && p->backlog.empty ();
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
WssClientTransport::stop ()
{
  Impl *p = impl_;
  if (!p->context)
    return;
  g_main_context_invoke (p->context, Impl::on_quit, p);
  if (p->thread.joinable ())
    p->thread.join ();
  g_main_loop_unref (p->loop);
  g_main_context_unref (p->context);
  p->loop = nullptr;
  p->context = nullptr;
  g_clear_object (&p->cancellable);

  DropRange lost;
  {
    std::lock_guard<std::mutex> g (p->lock);
    while (!p->backlog.empty ())
      {
        Outgoing item = p->backlog.pop_front ();
        if (item.kind != OutgoingKind::AudioChunk)
          continue;
        if (lost.count == 0)
          lost.first = item.chunk_index;
        lost.last = item.chunk_index;
        lost.count++;
        lost.bytes += item.audio.size ();
        lost.media_time += item.media_duration;
      }
    p->stats.chunks_dropped += lost.count;
    if (p->stats.state != ConnectionState::Failed)
      p->stats.state = ConnectionState::Closed;
  }
  p->replay.clear ();
  if (lost.count > 0 && p->cb.dropped)
    p->cb.dropped (lost);
}

TransportStats
WssClientTransport::stats () const
{
  std::lock_guard<std::mutex> g (impl_->lock);
  TransportStats s = impl_->stats;
  s.backlog_chunks = impl_->backlog.audio_chunks ();
  s.backlog_bytes = impl_->backlog.audio_bytes ();
  s.backlog_time_ns = impl_->backlog.audio_time ();
  return s;
}

} // namespace wssac
