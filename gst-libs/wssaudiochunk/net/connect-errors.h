/* wssaudiochunk: a failed connection attempt of the sink's transport, as a
 * ConnectError (wss-client-transport.h) with a cause and a hint: HTTP
 * statuses as souphttpsrc maps them, TLS trouble, ws/wss mix-ups. */
#pragma once

#include "wss-client-transport.h"

#include <libsoup/soup.h>

#include <string>

namespace wssac
{

/* What the transport saw of the attempt. */
struct ConnectAttempt
{
  std::string shown_uri; /* redacted */
  bool wss = false;
  bool timed_out = false;
  unsigned connect_timeout_s = 0;
  bool tls_handshaking = false; /* the last network event was the TLS handshake */
  bool tcp_connected = false;
};

ConnectError classify_connect_error (const GError *error, SoupMessage *msg,
                                     const ConnectAttempt &a);

} // namespace wssac
