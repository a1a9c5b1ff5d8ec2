/* wssaudiochunk core: when the receiver's refusals become an error.
 *
 * A receiver answers a message it does not store with an error reply
 * ({"action":"error","code":..,"message":..}). Some refusals cannot change
 * while the element runs (another session is expected, the session was
 * ended, the id is not allowed, the token is refused): those are fatal at
 * once. Others may pass (another connection still holds the session, a rate
 * limit): those become fatal only when nothing was accepted for
 * refusal_timeout_ms while refusals kept coming. Each fatal verdict says the
 * cause and the fix, for GST_ELEMENT_ERROR.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace wssac
{

struct RefusalVerdict
{
  std::string cause; /* what the receiver said, and why it is final */
  std::string fix;   /* what to change */
};

class RefusalPolicy
{
public:
  /* session-claimed waits at least this long (a server's ping timeout). */
  static constexpr int64_t kClaimedTimeoutMs = 60000;

  explicit RefusalPolicy (int64_t refusal_timeout_ms = 5000,
                          std::string session_id = std::string ());

  /* Refusals that no retry can change. */
  static bool permanent (const std::string &code);

  /* A refusal at @now_ms; a verdict when the element must stop. */
  std::optional<RefusalVerdict> refused (const std::string &code, const std::string &message,
                                         int64_t now_ms);
  /* Something was accepted (acked or confirmed): refusals start over. */
  void
  accepted ()
  {
    first_refusal_ms_ = -1;
  }
  /* Refusals since the last acceptance began at this time (-1: none). */
  int64_t
  refusing_since () const
  {
    return first_refusal_ms_;
  }

private:
  RefusalVerdict verdict (const std::string &code, const std::string &message) const;

  int64_t timeout_ms_;
  std::string session_id_;
  int64_t first_refusal_ms_ = -1;
};

} // namespace wssac
