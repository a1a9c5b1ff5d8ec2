/* wssaudiochunk core: losses announced per episode, not per chunk.
 *
 * Every chunk that will not reach the receiver is counted by reason, and
 * announced as an episode: the reason, the first and last index and the
 * count. A reason's first loss is announced at once; later ones within
 * min_interval_ms are merged into the next announcement, so a long outage
 * gives a few warnings, not hundreds.
 */
#pragma once

#include "backlog.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace wssac
{

/* Why a chunk will not reach the receiver (stats field suffixes). */
enum class DropReason
{
  Backlog,    /* the bounded backlog was full (live source, long outage) */
  Paused,     /* held while paused longer than max-pause-time */
  Oversize,   /* one chunk over max-message-size */
  GivenUp,    /* written max-attempts times, never confirmed */
  Refused,    /* the receiver refused it for good */
  Unconfirmed /* not confirmed when the stream ended (EOS, stop) */
};

const char *drop_reason_name (DropReason reason);

struct DropEpisode
{
  DropReason reason = DropReason::Backlog;
  DropRange range;
};

class DropEpisodes
{
public:
  explicit DropEpisodes (int64_t min_interval_ms = 1000) : min_interval_ms_ (min_interval_ms) {}

  /* Counts @range; returns the episodes to announce now. */
  std::vector<DropEpisode> add (DropReason reason, const DropRange &range, int64_t now_ms);
  /* Merged episodes whose interval has passed. */
  std::vector<DropEpisode> due (int64_t now_ms);
  /* Everything not announced yet (end of stream, stop). */
  std::vector<DropEpisode> flush ();

  uint64_t count (DropReason reason) const;
  uint64_t total () const;

private:
  struct PerReason
  {
    DropRange pending;
    int64_t last_announced_ms = -1;
    uint64_t total = 0;
  };
  int64_t min_interval_ms_;
  std::map<DropReason, PerReason> reasons_;
};

} // namespace wssac
