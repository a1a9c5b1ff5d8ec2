/* wssaudiochunk: what the sink's WebSocket client is told at start, and the
 * checks and conversions that make it from the element's properties. */
#pragma once

#include "backlog.h"
#include "redact-uri.h"
#include "retry-policy.h"
#include "session-uri.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <gio/gio.h>
#include <gst/gst.h>

namespace wssac
{

/* redact_uri() (redact-uri.h) gives the form of a URI that logs and
 * messages may show. */

/* Empty when @uri can be connected to (a ws:// or wss:// URI with a host),
 * else a sentence saying what is wrong with it and what to set. Checked
 * before any network activity, so a typo gets an error that names it. */
std::string location_problem (const std::string &uri);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

/* The upgrade request's extra headers from a GstStructure, one field per
 * header (souphttpsrc's extra-headers): strings as they are, other values
 * serialized, arrays and lists add the header once per element. */
HeaderList headers_from_structure (const GstStructure *s);

struct TransportConfig
{
  std::string uri;
  std::string session_id;
  /* The session id in the upgrade request's URI, for load balancers. */
  SessionInUri session_in_uri = SessionInUri::None;
  std::string format = "webm-opus";
  HeaderList headers;
  std::string user_agent;
  /* Authentication: a bearer token, sent as "Authorization: Bearer" or as
   * the "token" query parameter (API Gateway authorizers read either). It
   * never appears in logs, messages or errors. */
  std::string auth_token;
  bool auth_token_in_query = false;
  /* TLS (wss://): the server's certificate is validated against the system
   * store, or @tls_ca_file / @tls_database; ssl_strict=false accepts any. */
  bool ssl_strict = true;
  std::string tls_ca_file;
  GTlsDatabase *tls_database = nullptr; /* borrowed for the call to start() */
  unsigned connect_timeout_s = 10;
  unsigned keepalive_interval_s = 10;
  /* No pong nor message for this long: the peer is dead, reconnect. 0: off. */
  unsigned keepalive_timeout_s = 25;
  /* The first connection may fail and be retried instead of being fatal. */
  bool async_connect = false;
  /* Bytes written but not yet acknowledged by the peer's TCP stack (Linux
   * SIOCOUTQ) above which sending pauses: a slow server then grows our
   * bounded backlog instead of libsoup's unbounded output queue. 0: off. */
  size_t max_in_flight = 64 * 1024;
  RetryConfig retry;
  BacklogLimits backlog;
  /* Chunks already handed to a socket that died are sent again after a
   * reconnect when they are this recent: data in the kernel's buffers of a
   * dead connection never arrives. The receiver drops duplicates. A peer
   * that sends acks ({"action":"ack"}) gets exactly the unacknowledged
   * chunks replayed instead, whatever their age. */
  int64_t replay_window_ms = 5000;
  size_t max_message_size = 32 * 1024;
  /* Audio chunks in the binary framing (message-codec.h) instead of JSON
   * text with base64: a third fewer bytes; our receivers understand it. */
  bool binary_framing = false;
};

} // namespace wssac
