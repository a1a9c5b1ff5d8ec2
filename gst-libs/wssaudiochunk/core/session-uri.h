/* wssaudiochunk core: the session id in the upgrade request's URI.
 *
 * A load balancer in front of several receivers must send every connection
 * of a session to the same one (a reconnect included), but it sees only the
 * upgrade request, not the messages: nginx `hash $arg_sessionId consistent`
 * reads the query, a path-based router the path. The sink therefore puts
 * its session id into the URI it connects to, so the user does not have to
 * repeat it in the location. */
#pragma once

#include <string>
#include <string_view>

namespace wssac
{

enum class SessionInUri
{
  Query, /* ?sessionId=<id> (or &sessionId=<id>) */
  Path,  /* /<id> appended to the path */
  None,
};

/* @uri with @session_id added as @mode says, percent-encoded; unchanged for
 * None, and for Query when the query already has a sessionId parameter
 * (the user's own wins). The fragment stays last. */
std::string uri_with_session (std::string_view uri, std::string_view session_id, SessionInUri mode);

/* RFC 3986 percent-encoding of everything but the unreserved characters. */
std::string percent_encode (std::string_view s);

} // namespace wssac
