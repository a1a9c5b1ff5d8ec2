#include "cadence-check.h"

namespace wssac
{

CadenceCheck::CadenceCheck (int64_t target_ns, double tolerance, int64_t window_ns)
    : target_ (target_ns), tolerance_ (tolerance), window_ (window_ns)
{
}

bool
CadenceCheck::add_chunk (int64_t duration_ns)
{
  if (verdict_ != CadenceVerdict::Watching || target_ <= 0 || duration_ns <= 0)
    return false;
  total_ += duration_ns;
  chunks_++;
  if (total_ < window_ || chunks_ < kMinChunks)
    return false;
  const int64_t mean = total_ / chunks_;
  const int64_t diff = mean > target_ ? mean - target_ : target_ - mean;
  verdict_ = static_cast<double> (diff) > tolerance_ * static_cast<double> (target_)
                 ? CadenceVerdict::Off
                 : CadenceVerdict::OnTarget;
  return verdict_ == CadenceVerdict::Off;
}

} // namespace wssac
