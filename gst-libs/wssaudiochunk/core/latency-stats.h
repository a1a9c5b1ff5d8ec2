/* wssaudiochunk core: percentiles of the last N latency samples (the sink's
 * time from a chunk's queueing to its hand-off to the socket). */
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wssac
{

struct LatencyPercentiles
{
  int64_t p50 = 0, p95 = 0, p99 = 0; /* 0 when there is no sample */
};

class LatencyStats
{
public:
  static constexpr size_t kDefaultCapacity = 1024;

  explicit LatencyStats (size_t capacity = kDefaultCapacity);

  /* Keeps the last capacity() samples; older ones are overwritten. */
  void record (int64_t sample);
  void clear ();
  size_t
  size () const
  {
    return samples_.size ();
  }
  size_t
  capacity () const
  {
    return capacity_;
  }

  /* Nearest-rank on the kept samples: the value below which a fraction @q
   * (0..1) of them lie; 0 without samples. */
  int64_t percentile (double q) const;
  LatencyPercentiles percentiles () const;

private:
  size_t capacity_;
  std::vector<int64_t> samples_; /* ring once full */
  size_t next_ = 0;
};

} // namespace wssac
