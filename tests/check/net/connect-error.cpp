/* Unit tests of wssac::describe_connect_failure: each way a first
 * connection fails gets its kind, status and the hint a person acts on. */
#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>

#include "connect-error.h"

#include <string>

using namespace wssac;

struct Case
{
  const char *what;
  bool wss, timed_out;
  GQuark domain;
  int code;
  unsigned status;
  bool got_event;
  GSocketClientEvent event;
  ConnectErrorKind kind;
  const char *in_message;
  const char *in_hint;
};

GST_START_TEST (test_kinds_and_hints)
{
  const GQuark ws = SOUP_WEBSOCKET_ERROR, tls = G_TLS_ERROR, io = G_IO_ERROR;
  const Case cases[] = {
    { "wss to a silent plain server", true, true, 0, 0, 0, true, G_SOCKET_CLIENT_TLS_HANDSHAKING,
      ConnectErrorKind::TlsNotSpoken, "did not speak TLS; use ws://", "ws:// location" },
    { "nothing answers", false, true, 0, 0, 0, true, G_SOCKET_CLIENT_CONNECTING,
      ConnectErrorKind::Timeout, "no answer within 7 s", "connect-timeout" },
    { "401", false, false, ws, SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET, 401, true,
      G_SOCKET_CLIENT_COMPLETE, ConnectErrorKind::HttpStatus, "(HTTP 401 Nope)", "auth-token" },
    { "404", false, false, ws, SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET, 404, true,
      G_SOCKET_CLIENT_COMPLETE, ConnectErrorKind::HttpStatus, "(HTTP 404 Nope)", "path" },
    { "untrusted certificate", true, false, tls, G_TLS_ERROR_BAD_CERTIFICATE, 0, true,
      G_SOCKET_CLIENT_TLS_HANDSHAKING, ConnectErrorKind::TlsCertificate, "ssl-ca-file",
      "ssl-ca-file" },
    { "plain answer to TLS", true, false, tls, G_TLS_ERROR_NOT_TLS, 0, true,
      G_SOCKET_CLIENT_TLS_HANDSHAKING, ConnectErrorKind::TlsNotSpoken, "use ws://",
      "ws:// location" },
    { "other TLS failure", true, false, tls, G_TLS_ERROR_HANDSHAKE, 0, true,
      G_SOCKET_CLIENT_TLS_HANDSHAKING, ConnectErrorKind::Tls, "TLS: ", "TLS 1.2" },
    { "ws to a TLS port", false, false, io, G_IO_ERROR_CONNECTION_CLOSED, 0, true,
      G_SOCKET_CLIENT_COMPLETE, ConnectErrorKind::TlsExpected, "if it expects TLS, use wss://",
      "wss:// location" },
    { "refused", false, false, io, G_IO_ERROR_CONNECTION_REFUSED, 0, true,
      G_SOCKET_CLIENT_CONNECTING, ConnectErrorKind::Network, "the cause", "listening" },
    { "reset before TCP connected", false, false, io, G_IO_ERROR_CONNECTION_CLOSED, 0, true,
      G_SOCKET_CLIENT_CONNECTING, ConnectErrorKind::Network, "the cause", "listening" },
  };
  for (const Case &c : cases)
    {
      GError *err = c.domain ? g_error_new_literal (c.domain, c.code, "the cause") : nullptr;
      ConnectAttempt a;
      a.shown_uri = c.wss ? "wss://h/ws?token=***" : "ws://h/ws";
      a.wss = c.wss;
      a.timed_out = c.timed_out;
      a.timeout_s = 7;
      a.error = err;
      a.http_status = c.status;
      a.reason_phrase = c.status ? "Nope" : nullptr;
      a.got_event = c.got_event;
      a.last_event = c.event;
      ConnectError e = describe_connect_failure (a);
      g_clear_error (&err);
      fail_unless (e.kind == c.kind, "%s: kind %s", c.what, connect_error_kind_name (e.kind));
      fail_unless_equals_int (e.http_status, c.kind == ConnectErrorKind::HttpStatus ? c.status : 0);
      fail_unless (e.message.rfind ("Could not connect to " + a.shown_uri + ": ", 0) == 0, "%s: %s",
                   c.what, e.message.c_str ());
      fail_unless (e.message.find (c.in_message) != std::string::npos, "%s: %s", c.what,
                   e.message.c_str ());
      fail_unless (e.hint.find (c.in_hint) != std::string::npos, "%s: hint %s", c.what,
                   e.hint.c_str ());
    }
}
GST_END_TEST;

static Suite *
connect_error_suite (void)
{
  Suite *s = suite_create ("connect-error");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_kinds_and_hints);
  return s;
}

GST_CHECK_MAIN (connect_error);
