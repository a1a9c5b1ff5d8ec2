/* Why a connection attempt failed, in words a person can act on
 * (connect-errors.h). */
#include "connect-errors.h"

namespace wssac
{

ConnectError
classify_connect_error (const GError *error, SoupMessage *msg, const ConnectAttempt &a)
{
  ConnectError e;
  std::string cause;
  const bool wss = a.wss;
  guint status = msg ? soup_message_get_status (msg) : 0;
  if (a.timed_out)
    {
      cause = "no answer within " + std::to_string (a.connect_timeout_s) + " s";
      e.kind = ConnectErrorKind::Timeout;
      e.hint = "check that a WebSocket server is listening at the location; raise connect-timeout "
               "for a slow network";
      if (wss && a.tls_handshaking)
        {
          cause += " to the TLS handshake: the server did not speak TLS; use ws://";
          e.kind = ConnectErrorKind::TlsNotSpoken;
          e.hint = "the server accepted the TCP connection but never answered the TLS handshake, "
                   "as a plain-text server does: use a ws:// location";
        }
    }
  else if (g_error_matches (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET)
           || g_error_matches (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_BAD_HANDSHAKE))
    {
      const char *phrase = msg ? soup_message_get_reason_phrase (msg) : nullptr;
      cause = "the server refused the WebSocket upgrade (HTTP " + std::to_string (status)
              + (phrase && *phrase ? std::string (" ") + phrase : std::string ()) + ")";
      e.kind = ConnectErrorKind::HttpStatus;
      e.http_status = status;
      if (status == 401 || status == 403)
        e.hint = "the server refused the credentials: check auth-token and auth-token-mode "
                 "(or the extra-headers the server expects)";
      else if (status == 404)
        e.hint = "nothing at that path: check the path of the location";
      else
        e.hint = "check that the location is a WebSocket endpoint that accepts the upgrade";
    }
  else if (error && error->domain == G_TLS_ERROR)
    {
      if (error->code == G_TLS_ERROR_BAD_CERTIFICATE)
        {
          cause = std::string ("TLS: ") + error->message
                  + " (the server's certificate is not trusted: set ssl-ca-file to the CA that "
                    "signed it)";
          e.kind = ConnectErrorKind::TlsCertificate;
          e.hint = "set ssl-ca-file (or tls-database) to the CA that signed the server's "
                   "certificate; ssl-strict=false accepts any certificate (tests only)";
        }
      else if (error->code == G_TLS_ERROR_NOT_TLS)
        {
          cause = std::string ("TLS: ") + error->message
                  + ": the server did not speak TLS; use ws://";
          e.kind = ConnectErrorKind::TlsNotSpoken;
          e.hint = "the server answered the TLS handshake in plain text: use a ws:// location";
        }
      else
        {
          cause = std::string ("TLS: ") + error->message;
          e.kind = ConnectErrorKind::Tls;
          e.hint = "the TLS handshake failed: check that the server offers TLS 1.2 or later on "
                   "this port";
        }
    }
  else
    {
      cause = error ? error->message : "unknown error";
      e.kind = ConnectErrorKind::Network;
      e.hint = "check that a WebSocket server is listening at the location and accepts the "
               "upgrade";
      /* A TLS server reading a plain-text upgrade resets the connection
       * without an HTTP answer. */
      if (!wss && status == 0 && a.tcp_connected
          && (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED)
              || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE)
              || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT)
              || (error && error->domain == SOUP_SESSION_ERROR)))
        {
          cause += ": the server closed the connection without answering the upgrade; if it "
                   "expects TLS, use wss://";
          e.kind = ConnectErrorKind::TlsExpected;
          e.hint = "a server that wants TLS drops a plain-text upgrade like this: use a wss:// "
                   "location";
        }
    }
  e.message = "Could not connect to " + a.shown_uri + ": " + cause;
  return e;
}

} // namespace wssac
