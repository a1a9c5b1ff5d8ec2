#include "refusal-policy.h"

#include <algorithm>
#include <utility>

namespace wssac
{

RefusalPolicy::RefusalPolicy (int64_t refusal_timeout_ms, std::string session_id)
    : timeout_ms_ (refusal_timeout_ms), session_id_ (std::move (session_id))
{
}

bool
RefusalPolicy::permanent (const std::string &code)
{
  return code == "wrong-session" || code == "session-ended" || code == "invalid-session-id"
         || code == "unauthorized" || code == "forbidden" || code == "format-changed"
         || code == "one-session-per-connection";
}

RefusalVerdict
RefusalPolicy::verdict (const std::string &code, const std::string &message) const
{
  const std::string said = "the receiver refused the audio (" + code
                           + (message.empty () ? std::string () : ": " + message) + ")";
  const std::string quoted = "\"" + session_id_ + "\"";
  if (code == "session-ended")
    return { "session " + quoted + " was ended by the server; " + said,
             "use a new session-id: an ended session takes no more audio" };
  if (code == "wrong-session")
    return { said, "set session-id to the session this receiver accepts, or point location at the "
                   "receiver of session "
                       + quoted };
  if (code == "invalid-session-id")
    return { said, "use a session-id of 1 to 256 bytes of UTF-8 without control characters" };
  if (code == "unauthorized" || code == "forbidden")
    return { said, "set auth-token to a token this receiver accepts" };
  if (code == "format-changed")
    return { said, "session " + quoted + " was started with another format: use a new session-id" };
  if (code == "session-claimed")
    return { said + " for " + std::to_string (std::max<int64_t> (timeout_ms_, kClaimedTimeoutMs) / 1000)
                 + " s",
             "another sender is streaming session " + quoted
                 + ": stop it or use a new session-id" };
  return { said + " for " + std::to_string (timeout_ms_ / 1000) + " s",
           "check the receiver's limits and log; raise refusal-timeout to wait longer" };
}

std::optional<RefusalVerdict>
RefusalPolicy::refused (const std::string &code, const std::string &message, int64_t now_ms)
{
  if (permanent (code))
    return verdict (code, message);
  if (first_refusal_ms_ < 0)
    first_refusal_ms_ = now_ms;
  /* "session-claimed" is also what a reconnecting sender hears until the
   * server notices its old connection died (its ping timeout). */
  int64_t timeout = code == "session-claimed" ? std::max<int64_t> (timeout_ms_, kClaimedTimeoutMs)
                                               : timeout_ms_;
  if (timeout_ms_ > 0 && now_ms - first_refusal_ms_ >= timeout)
    return verdict (code, message);
  return std::nullopt;
}

} // namespace wssac
