/* wssaudiochunk receiver: a client's WebSocket served by libsoup's
 * SoupWebsocketConnection (server-connection.h). Used only when the server
 * offers permessage-deflate, which our own frame code does not implement;
 * the frame guard (frame-guard.h) bounds what libsoup buffers. */
#pragma once

#include "server-connection.h"

#include <libsoup/soup.h>

namespace wssac
{

class SoupServerConnection : public ServerConnection
{
public:
  /* Takes a reference on @conn. Pings every @keepalive_s (0: none). */
  SoupServerConnection (Owner &owner, ConnectionId id, int64_t now_ms,
                        SoupWebsocketConnection *conn, unsigned keepalive_s,
                        size_t max_payload_bytes);
  ~SoupServerConnection () override;

  bool is_open () const override;
  void send_text (const std::string &text) override;
  void close (unsigned short code, const std::string &reason) override;
  void drop () override;
  void stop (unsigned short code, const char *reason) override;
  void
  tick (int64_t) override
  {
  } /* libsoup pings and times out by itself */
  unsigned short close_code () const override;

private:
  static void on_message (SoupWebsocketConnection *, gint type, GBytes *message, gpointer data);
  static void on_closed (SoupWebsocketConnection *, gpointer data);
  static void on_pong (SoupWebsocketConnection *, GBytes *, gpointer data);

  SoupWebsocketConnection *conn_;
};

} // namespace wssac
