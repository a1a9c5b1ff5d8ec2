#include "soup-server-connection.h"

namespace wssac
{

SoupServerConnection::SoupServerConnection (Owner &owner, ConnectionId id, int64_t now_ms,
                                            SoupWebsocketConnection *conn, unsigned keepalive_s,
                                            size_t max_payload_bytes)
    : ServerConnection (owner, id, now_ms), conn_ (SOUP_WEBSOCKET_CONNECTION (g_object_ref (conn)))
{
  soup_websocket_connection_set_max_incoming_payload_size (conn_, max_payload_bytes);
  soup_websocket_connection_set_keepalive_interval (conn_, keepalive_s);
  g_signal_connect (conn_, "pong", G_CALLBACK (on_pong), this);
  g_signal_connect (conn_, "message", G_CALLBACK (on_message), this);
  g_signal_connect (conn_, "closed", G_CALLBACK (on_closed), this);
}

SoupServerConnection::~SoupServerConnection ()
{
  g_signal_handlers_disconnect_by_data (conn_, this);
  g_object_unref (conn_);
}

void
SoupServerConnection::on_message (SoupWebsocketConnection *, gint type, GBytes *message,
                                  gpointer data)
{
  auto *self = static_cast<SoupServerConnection *> (data);
  gsize size = 0;
  const char *bytes = static_cast<const char *> (g_bytes_get_data (message, &size));
  self->owner_.connection_message (*self, type != SOUP_WEBSOCKET_DATA_TEXT, bytes ? bytes : "",
                                   size);
}

void
SoupServerConnection::on_closed (SoupWebsocketConnection *, gpointer data)
{
  auto *self = static_cast<SoupServerConnection *> (data);
  g_signal_handlers_disconnect_by_data (self->conn_, self);
  self->owner_.connection_closed (*self);
}

void
SoupServerConnection::on_pong (SoupWebsocketConnection *, GBytes *, gpointer data)
{
  static_cast<SoupServerConnection *> (data)->last_rx_ms = g_get_monotonic_time () / 1000;
}

bool
SoupServerConnection::is_open () const
{
  return soup_websocket_connection_get_state (conn_) == SOUP_WEBSOCKET_STATE_OPEN;
}

void
SoupServerConnection::send_text (const std::string &text)
{
  if (is_open ())
    soup_websocket_connection_send_text (conn_, text.c_str ());
}

void
SoupServerConnection::close (unsigned short code, const std::string &reason)
{
  if (is_open ())
    soup_websocket_connection_close (conn_, code, reason.c_str ());
}

void
SoupServerConnection::drop ()
{
  g_io_stream_close (soup_websocket_connection_get_io_stream (conn_), nullptr, nullptr);
}

void
SoupServerConnection::stop (unsigned short code, const char *reason)
{
  g_signal_handlers_disconnect_by_data (conn_, this);
  if (is_open ())
    soup_websocket_connection_close (conn_, code, reason);
}

unsigned short
SoupServerConnection::close_code () const
{
  return soup_websocket_connection_get_close_code (conn_);
}

} // namespace wssac
