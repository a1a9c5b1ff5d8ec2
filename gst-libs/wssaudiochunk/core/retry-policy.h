/* wssaudiochunk core: when to try reconnecting the WebSocket again.
 *
 * Exponential backoff, capped, with jitter so that many senders cut off by
 * the same server restart do not all come back in the same instant. The
 * random generator is seeded by the caller when it wants reproducible
 * delays (tests); otherwise from std::random_device.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <random>

namespace wssac
{

struct RetryConfig
{
  int64_t initial_delay_ms = 500; /* < 0 is taken as 0 */
  int64_t max_delay_ms = 30000;   /* < 0 is taken as 0 */
  int max_retries = -1;           /* < 0: forever; 0: never */
  double factor = 2.0;            /* < 1 (or NaN) is taken as 1 */
  double jitter = 0.2;            /* +-20 %; clamped to [0, 1] */
};

class RetryPolicy
{
public:
  explicit RetryPolicy (RetryConfig config = RetryConfig (),
                        uint64_t seed = RetryPolicy::random_seed ());

  /* The delay to wait before the next attempt, and counts that attempt;
   * nullopt once max_retries attempts were handed out. Delay n (0-based)
   * is min (max, initial * factor^n) times a uniform factor in
   * [1 - jitter, 1 + jitter], within [0, max * (1 + jitter)]. */
  std::optional<int64_t> next_delay ();

  /* A connection succeeded: the next failure starts over from the initial
   * delay, with the full number of retries. */
  void reset () { attempts_ = 0; }

  /* Attempts handed out since construction or the last reset (). */
  int attempts () const { return attempts_; }

  const RetryConfig &config () const { return config_; }

  static uint64_t random_seed ();

private:
  RetryConfig config_;
  std::mt19937_64 rng_;
  int attempts_ = 0;
};

} // namespace wssac
