#include "retry-policy.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace wssac
{

static RetryConfig
sanitize (RetryConfig c)
{
  c.initial_delay_ms = std::max<int64_t> (c.initial_delay_ms, 0);
  c.max_delay_ms = std::max<int64_t> (c.max_delay_ms, 0);
  /* Written so that NaN falls to the safe side too. */
  if (!(c.factor >= 1.0))
    c.factor = 1.0;
  if (!(c.jitter >= 0.0))
    c.jitter = 0.0;
  c.jitter = std::min (c.jitter, 1.0);
  return c;
}

uint64_t
RetryPolicy::random_seed ()
{
  uint64_t seed
      = static_cast<uint64_t> (std::chrono::steady_clock::now ().time_since_epoch ().count ());
  /* random_device may be unavailable on odd platforms; the clock alone is
   * still good enough to spread reconnects apart. */
  try
    {
      std::random_device rd;
      seed ^= (static_cast<uint64_t> (rd ()) << 32) | rd ();
    }
  catch (...)
    {
    }
  return seed;
}

RetryPolicy::RetryPolicy (RetryConfig config, uint64_t seed)
    : config_ (sanitize (config)), rng_ (seed)
{
}

std::optional<int64_t>
RetryPolicy::next_delay ()
{
  if (config_.max_retries >= 0 && attempts_ >= config_.max_retries)
    return std::nullopt;

  const double max_delay = static_cast<double> (config_.max_delay_ms);
  /* factor^n overflows to +inf for large n; initial is finite and >= 0, so
   * the product is +inf or (initial == 0) NaN, both handled below. */
  double base = static_cast<double> (config_.initial_delay_ms)
                * std::pow (config_.factor, static_cast<double> (attempts_));
  if (config_.initial_delay_ms == 0)
    base = 0.0;
  base = std::min (base, max_delay);

  /* Our own mapping of the generator to [0, 1): the std distributions are
   * not specified bit for bit, and a seed must give the same delays
   * everywhere. */
  double u = static_cast<double> (rng_ () >> 11) * 0x1.0p-53;
  double j = config_.jitter;
  double delay = base * (1.0 - j + 2.0 * j * u);
  delay = std::clamp (delay, 0.0, max_delay * (1.0 + j));

  /* Never reached with millisecond delays, but a double this large does
   * not convert to int64_t. */
  constexpr double kInt64Limit = 9223372036854774784.0; /* largest double < 2^63 */
  int64_t ms = delay >= kInt64Limit ? std::numeric_limits<int64_t>::max ()
                                    : static_cast<int64_t> (std::llround (delay));

  /* Retrying forever must not wrap the counter. */
  if (attempts_ < std::numeric_limits<int>::max ())
    attempts_++;
  return ms;
}

} // namespace wssac
