#include "reassembler.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace wssac
{

Reassembler::Reassembler (ReassemblerConfig config) : config_ (config), next_ (config.first_index)
{
}

int64_t
Reassembler::next_deadline_ms () const
{
  if (pending_.empty ())
    return -1;
  int64_t start = *arrivals_.begin ();
  int64_t wait = std::max<int64_t> (config_.max_wait_ms, 0);
  /* Saturate rather than wrap: a huge max_wait_ms means "wait forever". */
  if (start > std::numeric_limits<int64_t>::max () - wait)
    return std::numeric_limits<int64_t>::max ();
  return start + wait;
}

ReassemblerStats
Reassembler::stats () const
{
  ReassemblerStats s = stats_;
  s.pending_chunks = pending_.size ();
  s.pending_bytes = pending_bytes_;
  return s;
}

bool
Reassembler::was_skipped (uint64_t index) const
{
  return std::any_of (skipped_.begin (), skipped_.end (), [index] (const SkippedRange &r) {
    return index >= r.first && index <= r.last;
  });
}

/* Delivers the pending chunks that follow next_ without a hole. */
void
Reassembler::deliver_run (std::vector<Delivered> &out)
{
  while (!pending_.empty () && pending_.begin ()->first == next_)
    {
      auto node = pending_.extract (pending_.begin ());
      Pending &p = node.mapped ();
      arrivals_.erase (arrivals_.find (p.arrived_ms));
      pending_bytes_ -= p.bytes.size ();
      out.push_back (Delivered{ node.key (), std::move (p.bytes), false, 0 });
      stats_.delivered++;
      next_ = node.key () + 1;
    }
}

/* Gives up the indices between next_ and the first pending chunk. The
 * caller guarantees a pending chunk exists; deliver_run () keeps it past
 * next_, so the gap is never empty. */
void
Reassembler::skip_gap (std::vector<Delivered> &out)
{
  auto node = pending_.extract (pending_.begin ());
  Pending &p = node.mapped ();
  uint64_t index = node.key ();
  uint64_t skipped = index - next_;

  skipped_.push_back (SkippedRange{ next_, index - 1 });
  if (skipped_.size () > kMaxSkippedRanges)
    skipped_.erase (skipped_.begin ());
  stats_.gaps++;
  stats_.missing += skipped;

  arrivals_.erase (arrivals_.find (p.arrived_ms));
  pending_bytes_ -= p.bytes.size ();
  out.push_back (Delivered{ index, std::move (p.bytes), true, skipped });
  stats_.delivered++;
  next_ = index + 1;

  deliver_run (out);
}

void
Reassembler::expire (int64_t now_ms, std::vector<Delivered> &out)
{
  while (!pending_.empty () && now_ms >= next_deadline_ms ())
    skip_gap (out);
}

PushResult
Reassembler::push (uint64_t index, std::vector<uint8_t> bytes, int64_t now_ms,
                   std::vector<Delivered> &out)
{
  if (index < next_)
    {
      if (was_skipped (index))
        {
          stats_.late++;
          return PushResult::Late;
        }
      stats_.duplicates++;
      return PushResult::Duplicate;
    }

  if (index - next_ > config_.max_index_jump)
    {
      stats_.out_of_range++;
      return PushResult::OutOfRange;
    }

  if (index == next_)
    {
      /* Fills the hole (if any) before its deadline is looked at: a chunk
       * that arrives is always better than a discont. */
      out.push_back (Delivered{ index, std::move (bytes), false, 0 });
      stats_.delivered++;
      next_ = index + 1;
      deliver_run (out);
    }
  else
    {
      if (pending_.count (index) != 0)
        {
          stats_.duplicates++;
          return PushResult::Duplicate;
        }
      pending_bytes_ += bytes.size ();
      pending_.emplace (index, Pending{ std::move (bytes), now_ms });
      arrivals_.insert (now_ms);

      while (pending_.size () > config_.max_pending_chunks)
        skip_gap (out);
    }

  expire (now_ms, out);
  return PushResult::Accepted;
}

void
Reassembler::tick (int64_t now_ms, std::vector<Delivered> &out)
{
  expire (now_ms, out);
}

void
Reassembler::flush (std::vector<Delivered> &out)
{
  while (!pending_.empty ())
    skip_gap (out);
}

} // namespace wssac
