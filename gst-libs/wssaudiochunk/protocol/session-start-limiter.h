/* wssaudiochunk receiver: how fast one client address may start sessions.
 *
 * A token bucket per address: @per_second on average, bursts of @burst.
 * One limiter is shared by all the shards of a receiver with several
 * workers: each shard holds only the sessions whose ids hash to it, so
 * buckets split per shard would refuse a burst that one worker accepts
 * (the ids of 50 sessions do not split 25/25). Thread-safe: a lock per
 * session start, which is rare next to messages. No I/O, no clock (the
 * caller passes the time).
 */
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace wssac
{

class SessionStartLimiter
{
public:
  /* @per_second <= 0: no limit. */
  SessionStartLimiter (double per_second, double burst);

  /* Takes a token for a session start from @address; false when its bucket
   * is empty. */
  bool allow (const std::string &address, int64_t now_ms);

  double
  per_second () const
  {
    return per_second_;
  }

private:
  struct Bucket
  {
    double tokens = 0;
    int64_t ms = 0;
  };
  /* Full buckets carry no information: dropped when there are this many. */
  static constexpr size_t kPruneAt = 4096;

  const double per_second_;
  const double burst_;
  std::mutex lock_;
  std::unordered_map<std::string, Bucket> buckets_;
};

} // namespace wssac
