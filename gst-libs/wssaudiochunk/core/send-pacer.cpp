#include "send-pacer.h"

#include <algorithm>
#include <cmath>

namespace wssac
{

SendPacer::SendPacer (double rate, int64_t burst_ns)
    : rate_ (rate), burst_ns_ (std::max<int64_t> (burst_ns, 0)),
      credit_ns_ (static_cast<double> (burst_ns_))
{
}

void
SendPacer::refill (int64_t now_ms)
{
  if (last_ms_ >= 0 && now_ms > last_ms_)
    credit_ns_ = std::min (static_cast<double> (burst_ns_),
                           credit_ns_ + (now_ms - last_ms_) * 1e6 * rate_);
  if (last_ms_ < 0 || now_ms > last_ms_)
    last_ms_ = now_ms;
}

int64_t
SendPacer::delay_ms (int64_t now_ms)
{
  if (unlimited ())
    return 0;
  refill (now_ms);
  if (credit_ns_ >= 0)
    return 0;
  /* Round up: waking a millisecond early would only ask again. */
  return static_cast<int64_t> (std::ceil (-credit_ns_ / (rate_ * 1e6)));
}

void
SendPacer::sent (int64_t media_ns, int64_t now_ms)
{
  if (unlimited ())
    return;
  refill (now_ms);
  credit_ns_ -= static_cast<double> (std::max<int64_t> (media_ns, 0));
}

} // namespace wssac
