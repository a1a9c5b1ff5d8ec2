#include "ws-test-server.h"
#include "locked-getter.h"

#include <libsoup/soup.h>

#include <sys/socket.h>

#include <chrono>
#include <memory>

WsTestServer::WsTestServer () {}

WsTestServer::~WsTestServer ()
{
  stop ();
}

static void
not_found (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer data)
{
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, nullptr);
}

unsigned
listen_on_loopback (SoupServer *server, const char *who)
{
  GError *error = nullptr;
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0);
  if (!soup_server_listen (server, addr, (SoupServerListenOptions)0, &error))
    g_error ("%s: %s", who, error->message);
  g_object_unref (addr);
  g_object_unref (lo);
  GSList *uris = soup_server_get_uris (server);
  unsigned port = g_uri_get_port (static_cast<GUri *> (uris->data));
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  return port;
}

unsigned
start_soup_server (std::unique_ptr<wssac::ContextThread> &thread, SoupServer *&server,
                   const char *thread_name, const char *who, const char *path,
                   GCallback on_websocket, void *data, const std::function<void ()> &add_handlers)
{
  thread = std::make_unique<wssac::ContextThread> ();
  std::string thread_error;
  if (!thread->start (thread_name, thread_error))
    g_error ("%s", thread_error.c_str ());
  unsigned port = 0;
  thread->invoke ([&] {
    server = soup_server_new (nullptr, nullptr);
    add_handlers ();
    soup_server_add_websocket_handler (server, path, nullptr, nullptr,
                                       (SoupServerWebsocketCallback)on_websocket, data, nullptr);
    port = listen_on_loopback (server, who);
  });
  return port;
}

void
stop_soup_server (std::unique_ptr<wssac::ContextThread> &thread, SoupServer *&server,
                  const std::function<void ()> &close_connections)
{
  if (!thread)
    return;
  thread->invoke ([&] {
    close_connections ();
    soup_server_disconnect (server);
    g_clear_object (&server);
  });
  thread.reset ();
}

void
WsTestServer::start (const std::string &path)
{
  port_ = start_soup_server (
      thread_, server_, "test-server", "test server", path.c_str (), G_CALLBACK (on_websocket),
      this, [this] { soup_server_add_handler (server_, nullptr, not_found, this, nullptr); });
}

void
WsTestServer::stop ()
{
  stop_soup_server (thread_, server_, [this] {
    for (auto *c : open_)
      {
        g_signal_handlers_disconnect_by_data (c, this);
        g_object_unref (c);
      }
    open_.clear ();
  });
}

std::string
WsTestServer::url (const std::string &path) const
{
  return "ws://127.0.0.1:" + std::to_string (port_) + path;
}

void
WsTestServer::on_websocket (SoupServer *, void *msg, const char *, SoupWebsocketConnection *conn, gpointer data)
{
  auto *self = static_cast<WsTestServer *> (data);
  {
    GUri *uri = soup_server_message_get_uri (static_cast<SoupServerMessage *> (msg));
    const char *query = g_uri_get_query (uri);
    std::lock_guard<std::mutex> g (self->lock_);
    self->request_uris_.push_back (std::string (g_uri_get_path (uri)) + (query ? std::string ("?") + query : ""));
  }
  g_object_ref (conn);
  soup_websocket_connection_set_max_incoming_payload_size (conn, 1024 * 1024);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), self);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), self);
  self->open_.push_back (conn);
  std::lock_guard<std::mutex> g (self->lock_);
  self->connections_++;
  self->open_count_++;
  self->cond_.notify_all ();
}

/* Resets the TCP connection under @conn: SO_LINGER 0 turns the close into
 * an RST, as when a server process dies. */
static void
reset_connection (SoupWebsocketConnection *conn)
{
  GIOStream *io = soup_websocket_connection_get_io_stream (conn);
  GIOStream *base = io;
  while (base && !G_IS_SOCKET_CONNECTION (base))
    {
      GObjectClass *klass = G_OBJECT_GET_CLASS (base);
      const char *prop
          = g_object_class_find_property (klass, "base-iostream") ? "base-iostream" : nullptr;
      GIOStream *next = nullptr;
      if (prop)
        g_object_get (base, prop, &next, NULL);
      if (next)
        g_object_unref (next);
      base = next;
    }
  if (base)
    {
      GSocket *sock = g_socket_connection_get_socket (G_SOCKET_CONNECTION (base));
      struct linger l = { 1, 0 };
      setsockopt (g_socket_get_fd (sock), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
  g_io_stream_close (io, nullptr, nullptr);
}

void
WsTestServer::on_message (SoupWebsocketConnection *conn, gint type, GBytes *msg, gpointer data)
{
  auto *self = static_cast<WsTestServer *> (data);
  gsize size = 0;
  const char *text = static_cast<const char *> (g_bytes_get_data (msg, &size));
  bool abort = false;
  {
    std::lock_guard<std::mutex> g (self->lock_);
    self->messages_.emplace_back (text ? text : "", size);
    self->cond_.notify_all ();
    if (self->abort_every_ > 0)
      {
        unsigned *count = nullptr;
        for (auto &pc : self->per_conn_)
          if (pc.first == conn)
            count = &pc.second;
        if (!count)
          {
            self->per_conn_.emplace_back (conn, 0);
            count = &self->per_conn_.back ().second;
          }
        if (++*count == self->abort_every_)
          {
            abort = true;
            self->aborts_++;
          }
      }
  }
  if (abort)
    {
      /* Nothing more of this connection is processed. */
      g_signal_handlers_disconnect_matched (conn, G_SIGNAL_MATCH_FUNC, 0, 0, nullptr,
                                            (gpointer)on_message, nullptr);
      reset_connection (conn);
      if (self->on_abort_)
        self->on_abort_ ();
      return;
    }
  if (self->read_delay_us_ > 0)
    g_usleep (self->read_delay_us_);
}

void
WsTestServer::set_abort_every (unsigned n, std::function<void ()> on_abort)
{
  std::lock_guard<std::mutex> g (lock_);
  abort_every_ = n;
  on_abort_ = std::move (on_abort);
}

WSS_LOCKED_GETTER (WsTestServer, aborts, aborts_, unsigned)

void
WsTestServer::on_closed (SoupWebsocketConnection *conn, gpointer data)
{
  auto *self = static_cast<WsTestServer *> (data);
  for (auto it = self->open_.begin (); it != self->open_.end (); ++it)
    if (*it == conn)
      {
        self->open_.erase (it);
        break;
      }
  unsigned code = soup_websocket_connection_get_close_code (conn);
  g_signal_handlers_disconnect_by_data (conn, self);
  g_object_unref (conn);
  std::lock_guard<std::mutex> g (self->lock_);
  for (auto it = self->per_conn_.begin (); it != self->per_conn_.end (); ++it)
    if (it->first == conn)
      {
        self->per_conn_.erase (it);
        break;
      }
  self->close_codes_.push_back (code);
  self->open_count_--;
  self->cond_.notify_all ();
}

WSS_LOCKED_GETTER (WsTestServer, messages, messages_, std::vector<std::string>)

WSS_LOCKED_GETTER (WsTestServer, message_count, messages_.size (), size_t)

WSS_LOCKED_GETTER (WsTestServer, connections, connections_, unsigned)

WSS_LOCKED_GETTER (WsTestServer, close_codes, close_codes_, std::vector<unsigned>)

bool
WsTestServer::wait_for_messages (size_t n, int64_t timeout_ms) const
{
  std::unique_lock<std::mutex> g (lock_);
  return cond_.wait_for (g, std::chrono::milliseconds (timeout_ms),
                         [&] { return messages_.size () >= n; });
}

bool
WsTestServer::wait_for_closed (int64_t timeout_ms) const
{
  std::unique_lock<std::mutex> g (lock_);
  return cond_.wait_for (g, std::chrono::milliseconds (timeout_ms),
                         [&] { return connections_ > 0 && open_count_ == 0; });
}

void
WsTestServer::run_on_server (std::function<void ()> fn)
{
  thread_->invoke (fn);
}

void
WsTestServer::close_all (unsigned short code, const char *reason)
{
  run_on_server ([this, code, reason] {
    auto conns = open_;
    for (auto *c : conns)
      if (soup_websocket_connection_get_state (c) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (c, code, reason);
  });
}

void
WsTestServer::abort_all ()
{
  run_on_server ([this] {
    auto conns = open_;
    for (auto *c : conns)
      g_io_stream_close (soup_websocket_connection_get_io_stream (c), nullptr, nullptr);
  });
}

void
WsTestServer::send_all (const std::string &text)
{
  run_on_server ([this, text] {
    for (auto *c : open_)
      if (soup_websocket_connection_get_state (c) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_send_text (c, text.c_str ());
  });
}

WSS_LOCKED_GETTER (WsTestServer, request_uris, request_uris_, std::vector<std::string>)
