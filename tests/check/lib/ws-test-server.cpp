#include "ws-test-server.h"

#include <libsoup/soup.h>

#include <chrono>
#include <memory>

WsTestServer::WsTestServer () {}

WsTestServer::~WsTestServer ()
{
  stop ();
}

static void
not_found (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, nullptr);
}

void
WsTestServer::start (const std::string &path)
{
  thread_ = std::make_unique<wssac::ContextThread> ();
  std::string thread_error;
  if (!thread_->start ("test-server", thread_error))
    g_error ("%s", thread_error.c_str ());
  thread_->invoke ([this, path] {
    server_ = soup_server_new (nullptr, nullptr);
    soup_server_add_handler (server_, nullptr, not_found, this, nullptr);
    soup_server_add_websocket_handler (server_, path.c_str (), nullptr, nullptr,
                                       (SoupServerWebsocketCallback) on_websocket, this, nullptr);
    GError *error = nullptr;
    GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    GSocketAddress *addr = g_inet_socket_address_new (lo, 0);
    if (!soup_server_listen (server_, addr, (SoupServerListenOptions) 0, &error))
      g_error ("test server: %s", error->message);
    g_object_unref (addr);
    g_object_unref (lo);
    GSList *uris = soup_server_get_uris (server_);
    port_ = g_uri_get_port (static_cast<GUri *> (uris->data));
    g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  });
}

void
WsTestServer::stop ()
{
  if (!thread_)
    return;
  thread_->invoke ([this] {
    for (auto *c : open_)
      {
        g_signal_handlers_disconnect_by_data (c, this);
        g_object_unref (c);
      }
    open_.clear ();
    soup_server_disconnect (server_);
    g_clear_object (&server_);
  });
  thread_.reset ();
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

void
WsTestServer::on_message (SoupWebsocketConnection *, gint type, GBytes *msg, gpointer data)
{
  auto *self = static_cast<WsTestServer *> (data);
  gsize size = 0;
  const char *text = static_cast<const char *> (g_bytes_get_data (msg, &size));
  std::lock_guard<std::mutex> g (self->lock_);
  self->messages_.emplace_back (text ? text : "", size);
  self->cond_.notify_all ();
}

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
  self->close_codes_.push_back (code);
  self->open_count_--;
  self->cond_.notify_all ();
}

std::vector<std::string>
WsTestServer::messages () const
{
  std::lock_guard<std::mutex> g (lock_);
  return messages_;
}

size_t
WsTestServer::message_count () const
{
  std::lock_guard<std::mutex> g (lock_);
  return messages_.size ();
}

unsigned
WsTestServer::connections () const
{
  std::lock_guard<std::mutex> g (lock_);
  return connections_;
}

std::vector<unsigned>
WsTestServer::close_codes () const
{
  std::lock_guard<std::mutex> g (lock_);
  return close_codes_;
}

bool
WsTestServer::wait_for_messages (size_t n, int64_t timeout_ms) const
{
  std::unique_lock<std::mutex> g (lock_);
  return cond_.wait_for (g, std::chrono::milliseconds (timeout_ms), [&] { return messages_.size () >= n; });
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

std::vector<std::string>
WsTestServer::request_uris () const
{
  std::lock_guard<std::mutex> g (lock_);
  return request_uris_;
}
