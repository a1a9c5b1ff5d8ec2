#include "level-meter.h"

#include <algorithm>
#include <cmath>

namespace wssac_speaker
{

int
LevelMeter::db_to_level (double db)
{
  if (std::isnan (db) || db <= kFloorDb)
    return 0;
  if (db >= 0.0)
    return 100;
  return static_cast<int> (std::lround (100.0 * (db - kFloorDb) / -kFloorDb));
}

void
LevelMeter::update (double rms_db, double peak_db, int64_t time_us)
{
  const double now = db_to_level (rms_db);
  double fallen = 0.0;
  if (updates_ > 0)
    {
      const double dt = std::max<int64_t> (time_us - last_time_us_, 0) / 1e6;
      fallen = displayed_exact_ - kReleasePerSecond * dt;
    }
  displayed_exact_ = std::max (now, fallen);
  displayed_ = static_cast<int> (std::lround (std::clamp (displayed_exact_, 0.0, 100.0)));
  last_time_us_ = time_us;
  peak_db_ = std::isnan (peak_db) ? -1e9 : peak_db;
  if (!std::isnan (rms_db))
    max_rms_db_ = std::max (max_rms_db_, rms_db);
  max_peak_db_ = std::max (max_peak_db_, peak_db_);
  max_level_ = std::max (max_level_, static_cast<int> (now));
  updates_++;
}

} // namespace wssac_speaker
