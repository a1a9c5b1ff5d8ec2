#include "drop-episodes.h"
#include "enum-names.h"

namespace wssac
{

const char *
drop_reason_name (DropReason reason)
{
  static const char *const names[]
      = { "backlog", "paused", "oversize", "given-up", "refused", "unconfirmed" };
  WSSAC_NAMES_COVER (names, DropReason::Unconfirmed);
  return enum_value_name (reason, names);
}

static void
merge (DropRange &into, const DropRange &r)
{
  if (r.count == 0)
    return;
  if (into.count == 0 || r.first < into.first)
    into.first = r.first;
  if (into.count == 0 || r.last > into.last)
    into.last = r.last;
  into.count += r.count;
  into.bytes += r.bytes;
  into.media_time += r.media_time;
}

std::vector<DropEpisode>
DropEpisodes::add (DropReason reason, const DropRange &range, int64_t now_ms)
{
  if (range.count > 0)
    {
      PerReason &p = reasons_[reason];
      p.total += range.count;
      merge (p.pending, range);
    }
  return due (now_ms);
}

std::vector<DropEpisode>
DropEpisodes::due (int64_t now_ms)
{
  std::vector<DropEpisode> out;
  for (auto &kv : reasons_)
    {
      PerReason &p = kv.second;
      if (p.pending.count == 0)
        continue;
      if (p.last_announced_ms >= 0 && now_ms - p.last_announced_ms < min_interval_ms_)
        continue;
      out.push_back ({ kv.first, p.pending });
      p.pending = DropRange ();
      p.last_announced_ms = now_ms;
    }
  return out;
}

std::vector<DropEpisode>
DropEpisodes::flush ()
{
  std::vector<DropEpisode> out;
  for (auto &kv : reasons_)
    if (kv.second.pending.count > 0)
      {
        out.push_back ({ kv.first, kv.second.pending });
        kv.second.pending = DropRange ();
      }
  return out;
}

uint64_t
DropEpisodes::count (DropReason reason) const
{
  auto it = reasons_.find (reason);
  return it == reasons_.end () ? 0 : it->second.total;
}

uint64_t
DropEpisodes::total () const
{
  uint64_t n = 0;
  for (const auto &kv : reasons_)
    n += kv.second.total;
  return n;
}

} // namespace wssac
