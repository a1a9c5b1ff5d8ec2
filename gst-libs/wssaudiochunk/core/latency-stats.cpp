#include "latency-stats.h"

#include <algorithm>

namespace wssac
{

LatencyStats::LatencyStats (size_t capacity) : capacity_ (capacity > 0 ? capacity : 1)
{
  samples_.reserve (capacity_);
}

void
LatencyStats::record (int64_t sample)
{
  if (samples_.size () < capacity_)
    samples_.push_back (sample);
  else
    samples_[next_] = sample;
  next_ = (next_ + 1) % capacity_;
}

void
LatencyStats::clear ()
{
  samples_.clear ();
  next_ = 0;
}

static int64_t
pick (const std::vector<int64_t> &sorted, double q)
{
  if (sorted.empty ())
    return 0;
  q = std::clamp (q, 0.0, 1.0);
  return sorted[static_cast<size_t> (q * static_cast<double> (sorted.size () - 1))];
}

int64_t
LatencyStats::percentile (double q) const
{
  std::vector<int64_t> sorted = samples_;
  std::sort (sorted.begin (), sorted.end ());
  return pick (sorted, q);
}

LatencyPercentiles
LatencyStats::percentiles () const
{
  std::vector<int64_t> sorted = samples_;
  std::sort (sorted.begin (), sorted.end ());
  LatencyPercentiles p;
  p.p50 = pick (sorted, 0.50);
  p.p95 = pick (sorted, 0.95);
  p.p99 = pick (sorted, 0.99);
  return p;
}

} // namespace wssac
