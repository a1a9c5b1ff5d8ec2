/* wssaudiochunk core: does the stream produce the chunks it was asked for?
 *
 * The chunker can only close a chunk where the muxer starts a cluster (or an
 * Ogg page); with webmmux's default 500 ms clusters, or oggmux's default
 * pages, a chunk-duration of 250 ms silently becomes 500 ms or more. This
 * watches the media duration of the first chunks and gives one verdict once
 * it has seen enough: on target, or off by more than the tolerance. */
#pragma once

#include <cstdint>

namespace wssac
{

enum class CadenceVerdict
{
  Watching, /* not enough seen yet */
  OnTarget,
  Off,
};

class CadenceCheck
{
public:
  static constexpr int64_t kDefaultWindow = 3000000000LL; /* 3 s of chunks */
  static constexpr int kMinChunks = 3;

  /* @target_ns: chunk-duration; @tolerance: the fraction of it the mean
   * may differ by (0.2: 20 %). */
  explicit CadenceCheck (int64_t target_ns = 0, double tolerance = 0.2,
                         int64_t window_ns = kDefaultWindow);

  /* One completed chunk of @duration_ns media time (<= 0: unknown, not
   * counted). True exactly once: on the chunk that found the cadence off
   * (so the caller warns once). After the verdict, chunks are ignored. */
  bool add_chunk (int64_t duration_ns);

  CadenceVerdict
  verdict () const
  {
    return verdict_;
  }
  /* Mean duration of the chunks seen (0 before any). */
  int64_t
  mean_duration () const
  {
    return chunks_ > 0 ? total_ / chunks_ : 0;
  }
  int64_t
  target () const
  {
    return target_;
  }

private:
  int64_t target_;
  double tolerance_;
  int64_t window_;
  int64_t total_ = 0;
  int64_t chunks_ = 0;
  CadenceVerdict verdict_ = CadenceVerdict::Watching;
};

} // namespace wssac
