/* wssaudiochunk: what the sink's transport derives from its configuration
 * (wss-client-transport.h), outside the transport thread's class. */
#pragma once

#include "delivery-tracker.h"
#include "wss-client-transport.h"

#include <cstdint>
#include <string>
#include <vector>

namespace wssac
{

/* The URI the upgrade goes to: the session (session-in-uri) and the token
 * (auth-token-mode=query) added. Never shown: see redact_uri (). */
std::string connect_uri_of (const TransportConfig &config);
/* The TLS database to validate the server with (nullptr: the system's);
 * false with @error when the CA file cannot be read. */
bool tls_database_of (const TransportConfig &config, GTlsDatabase **out, std::string &error);
DeliveryConfig delivery_config_of (const TransportConfig &config);
/* Whether the session id (itself valid: session_id_problem ()) leaves room
 * for audio in max-message-size: an empty chunk, a re-sent stream header
 * and 1 KB of audio must fit. Empty when it does, else what to change. */
std::string session_id_room_problem (const TransportConfig &config);
/* The wire form of @item sent at @now_ms; @header: the stream header a
 * chunk carries (the first on a new connection), else empty. */
std::string encode_outgoing (const Outgoing &item, const TransportConfig &config,
                             const std::string &format, const std::vector<uint8_t> &header,
                             int64_t now_ms);

} // namespace wssac
