/* wssaudiochunk receiver: session starts per client address
 * (session-start-limiter.h). */
#include "session-start-limiter.h"

#include <algorithm>

namespace wssac
{

SessionStartLimiter::SessionStartLimiter (double per_second, double burst)
    : per_second_ (per_second), burst_ (std::max (1.0, burst))
{
}

bool
SessionStartLimiter::allow (const std::string &address, int64_t now_ms)
{
  if (per_second_ <= 0)
    return true;
  std::lock_guard<std::mutex> g (lock_);
  if (buckets_.size () > kPruneAt)
    {
      for (auto it = buckets_.begin (); it != buckets_.end ();)
        {
          if ((now_ms - it->second.ms) * per_second_ / 1000.0 + it->second.tokens >= burst_)
            it = buckets_.erase (it);
          else
            ++it;
        }
    }
  auto it = buckets_.find (address);
  if (it == buckets_.end ())
    it = buckets_.emplace (address, Bucket{ burst_, now_ms }).first;
  Bucket &b = it->second;
  b.tokens = std::min (burst_, b.tokens + (now_ms - b.ms) * per_second_ / 1000.0);
  b.ms = now_ms;
  if (b.tokens < 1)
    return false;
  b.tokens -= 1;
  return true;
}

} // namespace wssac
