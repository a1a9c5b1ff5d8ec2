/* wssaudiochunk core: restores chunk order on the receiving side of one
 * session.
 *
 * Chunks carry the sender's chunkIndex (0, 1, 2, ...). They can arrive out
 * of order, twice, or never. Out-of-order chunks wait for the missing index,
 * but only for a while and only so many of them: audio must keep flowing, so
 * a gap is eventually given up, and the first chunk after it is flagged
 * discont with the number of indices that were skipped. Time comes from the
 * caller (a monotonic clock in ms) so that the class stays deterministic.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

namespace wssac
{

struct ReassemblerConfig
{
  /* Out-of-order chunks that may wait for a missing index; one more and
   * the gap is given up at once. */
  uint32_t max_pending_chunks = 16;
  /* How long the oldest missing index is waited for, counted from the
   * arrival of the first chunk after it. <= 0: not at all. */
  int64_t max_wait_ms = 1000;
  /* An index further ahead of next_index () than this is refused, so a
   * corrupt or hostile index cannot make us hold a huge window. */
  uint64_t max_index_jump = 100000;
  /* The index expected first. */
  uint64_t first_index = 0;
};

struct Delivered
{
  uint64_t index = 0;
  std::vector<uint8_t> bytes;
  bool discont = false;        /* a gap was given up right before this one */
  uint64_t skipped_before = 0; /* how many indices that gap held */
};

enum class PushResult
{
  Accepted,
  Duplicate,  /* already delivered or already pending */
  Late,       /* its index was given up as a gap earlier */
  OutOfRange, /* too far ahead of next_index () */
};

struct ReassemblerStats
{
  uint64_t delivered = 0;
  uint64_t duplicates = 0;
  uint64_t late = 0;
  uint64_t out_of_range = 0;
  uint64_t gaps = 0;    /* gaps given up */
  uint64_t missing = 0; /* indices given up, over all gaps */
  uint64_t pending_chunks = 0;
  uint64_t pending_bytes = 0;
};

class Reassembler
{
public:
  /* Skipped ranges remembered to tell Late from Duplicate; an index from an
   * older range is reported Duplicate. */
  static constexpr size_t kMaxSkippedRanges = 64;

  explicit Reassembler (ReassemblerConfig config = ReassemblerConfig ());

  /* Offers one chunk; appends to @out whatever became deliverable, in index
   * order (possibly chunks other than this one, possibly after giving up a
   * gap whose deadline passed or that overflowed the window). @bytes is
   * only kept when the result is Accepted. */
  PushResult push (uint64_t index, std::vector<uint8_t> bytes, int64_t now_ms,
                   std::vector<Delivered> &out);

  /* Gives up every gap that waited max_wait_ms by @now_ms and delivers what
   * follows it. */
  void tick (int64_t now_ms, std::vector<Delivered> &out);

  /* End of session: delivers everything pending, giving up (and counting)
   * the gaps between. */
  void flush (std::vector<Delivered> &out);

  /* The index delivered next if it arrives. */
  uint64_t next_index () const { return next_; }

  /* When tick () will give up the current gap; -1 when nothing waits. */
  int64_t next_deadline_ms () const;

  ReassemblerStats stats () const;
  const ReassemblerConfig &config () const { return config_; }

private:
  struct Pending
  {
    std::vector<uint8_t> bytes;
    int64_t arrived_ms = 0;
  };

  struct SkippedRange
  {
    uint64_t first = 0;
    uint64_t last = 0; /* inclusive */
  };

  void deliver_run (std::vector<Delivered> &out);
  void skip_gap (std::vector<Delivered> &out);
  void expire (int64_t now_ms, std::vector<Delivered> &out);
  bool was_skipped (uint64_t index) const;

  ReassemblerConfig config_;
  uint64_t next_;
  std::map<uint64_t, Pending> pending_;
  /* Arrival times of the pending chunks: the earliest one starts the clock
   * of the current gap, since every pending chunk lies after it. */
  std::multiset<int64_t> arrivals_;
  uint64_t pending_bytes_ = 0;
  std::vector<SkippedRange> skipped_; /* ascending, at most kMaxSkippedRanges */
  ReassemblerStats stats_;
};

} // namespace wssac
