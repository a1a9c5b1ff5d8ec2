/* wssaudiochunk-speaker: the input level, 0-100, from the `level`
 * element's RMS and peak in dB (the browser speaker app's getInputLevel() was a TODO).
 *
 * The scale is linear in decibels: kFloorDb (-60 dBFS) and below is 0,
 * 0 dBFS (full scale) is 100, so normal speech near a microphone (-30 to
 * -15 dBFS RMS) shows 50-75 and a quiet room (-60 dBFS) 0. The displayed
 * value falls back slowly (kReleasePerSecond), as a VU meter does, so
 * that the number stays readable between syllables. */
#pragma once

#include <cstdint>

namespace wssac_speaker
{

class LevelMeter
{
public:
  static constexpr double kFloorDb = -60.0;
  static constexpr double kReleasePerSecond = 60.0; /* level points */

  /* dBFS (any value, -inf included) to 0-100. */
  static int db_to_level (double db);

  /* A `level` message: the loudest channel's RMS and peak (dBFS), at
   * @time_us (any monotonic clock). */
  void update (double rms_db, double peak_db, int64_t time_us);

  /* What to show now: the last RMS level, or the previous one falling
   * back at kReleasePerSecond, whichever is higher. */
  int
  level () const
  {
    return displayed_;
  }
  /* Peak of the last update, in dBFS, and whether it reached full scale
   * (clipping, within 0.1 dB). */
  double
  peak_db () const
  {
    return peak_db_;
  }
  bool
  clipping () const
  {
    return peak_db_ > -0.1;
  }
  /* Highest RMS level and RMS/peak dB since construction (--check-mic). */
  int
  max_level () const
  {
    return max_level_;
  }
  double
  max_rms_db () const
  {
    return max_rms_db_;
  }
  double
  max_peak_db () const
  {
    return max_peak_db_;
  }
  int
  updates () const
  {
    return updates_;
  }

private:
  double displayed_exact_ = 0.0;
  int displayed_ = 0;
  int64_t last_time_us_ = 0;
  double peak_db_ = -1e9;
  int max_level_ = 0;
  double max_rms_db_ = -1e9;
  double max_peak_db_ = -1e9;
  int updates_ = 0;
};

} // namespace wssac_speaker
