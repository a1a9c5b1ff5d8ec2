/* wssaudiochunk: why a connection attempt failed, in words a person can act
 * on, for the element to map onto a GStreamer error (as souphttpsrc does:
 * 401/403 not authorized, 404 not found), with hints for the two common
 * mistakes, wss:// to a plain server and ws:// to a TLS port. */
#pragma once

#include <gio/gio.h>

#include <string>

namespace wssac
{

/* Why a connection attempt failed, for the element to map onto a GStreamer
 * error (souphttpsrc style: 401/403 not authorized, 404 not found). */
enum class ConnectErrorKind
{
  InvalidUri,
  Timeout,        /* no answer within connect-timeout */
  HttpStatus,     /* the server answered the upgrade with an HTTP status */
  TlsCertificate, /* the server's certificate did not validate */
  TlsNotSpoken,   /* wss:// to a server that does not speak TLS */
  TlsExpected,    /* ws:// to a server that (likely) wants TLS */
  Tls,            /* any other TLS failure */
  Network,        /* resolving, refused, reset, ... */
};

const char *connect_error_kind_name (ConnectErrorKind kind);

struct ConnectError
{
  ConnectErrorKind kind = ConnectErrorKind::Network;
  unsigned http_status = 0; /* HttpStatus only */
  std::string message;      /* "Could not connect to <redacted uri>: <cause>" */
  std::string hint;         /* what to change, for the error's debug text */
};

/* What the client saw of one failed attempt. */
struct ConnectAttempt
{
  std::string shown_uri; /* redacted */
  bool wss = false;
  bool timed_out = false; /* connect-timeout passed */
  unsigned timeout_s = 0;
  const GError *error = nullptr;
  unsigned http_status = 0; /* 0: no HTTP answer */
  const char *reason_phrase = nullptr;
  /* How far it got (SoupMessage::network-event), when got_event. */
  bool got_event = false;
  GSocketClientEvent last_event = G_SOCKET_CLIENT_RESOLVING;
};

ConnectError describe_connect_failure (const ConnectAttempt &a);

} // namespace wssac
