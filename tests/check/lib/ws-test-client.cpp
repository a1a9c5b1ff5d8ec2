#include "ws-test-client.h"
#include "locked-getter.h"

#include <libsoup/soup.h>

#include <chrono>

WsTestClient::WsTestClient ()
{
  std::string thread_error;
  if (!thread_.start ("test-client", thread_error))
    g_error ("%s", thread_error.c_str ());
  run ([this] { session_ = soup_session_new (); });
}

WsTestClient::~WsTestClient ()
{
  run ([this] {
    if (conn_)
      {
        g_signal_handlers_disconnect_by_data (conn_, this);
        g_clear_object (&conn_);
      }
    g_clear_object (&session_);
  });
}

bool
WsTestClient::connect (const std::string &url, std::string &error,
                       const std::vector<std::pair<std::string, std::string>> &headers)
{
  run ([this, url, headers] {
    SoupMessage *msg = soup_message_new ("GET", url.c_str ());
    /* wss:// in tests: servers with a certificate made for the test. */
    g_signal_connect (msg, "accept-certificate",
                      G_CALLBACK (+[] (SoupMessage *, GTlsCertificate *, GTlsCertificateFlags) -> gboolean {
                        return TRUE;
                      }),
                      nullptr);
    for (const auto &h : headers)
      soup_message_headers_append (soup_message_get_request_headers (msg), h.first.c_str (), h.second.c_str ());
    soup_session_websocket_connect_async (
        session_, msg, nullptr, nullptr, G_PRIORITY_DEFAULT, nullptr,
        [] (GObject *src, GAsyncResult *res, gpointer data) {
          auto *self = static_cast<WsTestClient *> (data);
          GError *err = nullptr;
          SoupWebsocketConnection *c = soup_session_websocket_connect_finish (SOUP_SESSION (src), res, &err);
          std::lock_guard<std::mutex> g (self->lock_);
          self->connect_done_ = true;
          if (!c)
            {
              self->refused_status_ = soup_message_get_status (soup_session_get_async_result_message (SOUP_SESSION (src), res));
              self->error_ = err ? err->message : "?";
              g_clear_error (&err);
            }
          else
            {
              self->conn_ = c;
              self->connected_ = true;
              soup_websocket_connection_set_max_incoming_payload_size (c, 1024 * 1024);
              g_signal_connect (c, "message", G_CALLBACK (+[] (SoupWebsocketConnection *, gint, GBytes *b,
                                                               gpointer d) {
                                  auto *s = static_cast<WsTestClient *> (d);
                                  gsize n = 0;
                                  const char *t = static_cast<const char *> (g_bytes_get_data (b, &n));
                                  std::lock_guard<std::mutex> g2 (s->lock_);
                                  s->replies_.emplace_back (t ? t : "", n);
                                  s->cond_.notify_all ();
                                }),
                                self);
              g_signal_connect (c, "closed", G_CALLBACK (+[] (SoupWebsocketConnection *conn, gpointer d) {
                                  auto *s = static_cast<WsTestClient *> (d);
                                  std::lock_guard<std::mutex> g2 (s->lock_);
                                  s->closed_ = true;
                                  s->close_code_ = soup_websocket_connection_get_close_code (conn);
                                  s->cond_.notify_all ();
                                }),
                                self);
            }
          self->cond_.notify_all ();
        },
        this);
    g_object_unref (msg);
  });
  std::unique_lock<std::mutex> g (lock_);
  if (!cond_.wait_for (g, std::chrono::seconds (10), [this] { return connect_done_; }))
    {
      error = "timeout";
      return false;
    }
  error = error_;
  return connected_;
}

void
WsTestClient::send_text (const std::string &text)
{
  run ([this, text] {
    if (conn_ && soup_websocket_connection_get_state (conn_) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_send_text (conn_, text.c_str ());
  });
}

void
WsTestClient::send_binary (const std::vector<uint8_t> &data)
{
  run ([this, data] {
    if (conn_ && soup_websocket_connection_get_state (conn_) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_send_binary (conn_, data.data (), data.size ());
  });
}

void
WsTestClient::close (unsigned short code)
{
  run ([this, code] {
    if (conn_ && soup_websocket_connection_get_state (conn_) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (conn_, code, nullptr);
  });
}

WSS_LOCKED_GETTER (WsTestClient, replies, replies_, std::vector<std::string>)

bool
WsTestClient::wait_for_replies (size_t n, int64_t timeout_ms) const
{
  std::unique_lock<std::mutex> g (lock_);
  return cond_.wait_for (g, std::chrono::milliseconds (timeout_ms), [&] { return replies_.size () >= n; });
}

bool
WsTestClient::wait_closed (int64_t timeout_ms) const
{
  std::unique_lock<std::mutex> g (lock_);
  return cond_.wait_for (g, std::chrono::milliseconds (timeout_ms), [&] { return closed_; });
}

WSS_LOCKED_GETTER (WsTestClient, close_code, close_code_, unsigned)
