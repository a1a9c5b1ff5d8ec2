#include "chunker.h"

#include <algorithm>
#include <utility>

namespace wssac
{

Chunker::Chunker (int64_t chunk_duration_ns)
    : chunk_duration_ (std::clamp (chunk_duration_ns, kMinChunkDuration, kMaxChunkDuration))
{
}

const std::vector<uint8_t> &
Chunker::stream_header () const
{
  return header_buffers_.empty () ? caps_header_ : header_buffers_;
}

void
Chunker::set_caps_stream_header (std::vector<uint8_t> header)
{
  caps_header_ = std::move (header);
}

void
Chunker::set_cluster_rule (int64_t min_cluster_ns)
{
  configured_rule_ = cluster_rule_ = min_cluster_ns < 0 ? kNoTime : min_cluster_ns;
}

/* @buf is a frame (it has a duration): true when the muxer's next block
 * starts a cluster (@next_block: its time) on which push () would cut. A
 * first frame shortened by the codec delay gives too early a time, never a
 * late one: the rule then waits for the cluster, as without it. */
bool
Chunker::completes_chunk (const MuxerBuffer &buf, int64_t &next_block) const
{
  if (cluster_rule_ == kNoTime || cutting_by_time_ || block_pts_ == kNoTime
      || cluster_pts_ == kNoTime || current_.start == kNoTime)
    return false;
  next_block = block_pts_ + buf.duration;
  /* webmmux: a cluster starts on a block later than the current cluster's
   * start by min-cluster-duration or more (on every block with 0). */
  const int64_t into_cluster = next_block - cluster_pts_;
  const bool new_cluster = cluster_rule_ == 0 || (into_cluster > 0 && into_cluster >= cluster_rule_);
  return new_cluster && next_block - current_.start >= chunk_duration_;
}

void
Chunker::account_time (const MuxerBuffer &buf)
{
  if (buf.pts == kNoTime)
    return;
  int64_t end = buf.pts + (buf.duration == kNoTime ? 0 : buf.duration);
  if (current_end_ == kNoTime || end > current_end_)
    current_end_ = end;
  if (current_.start == kNoTime)
    current_.start = buf.pts;
}

void
Chunker::begin_chunk (const MuxerBuffer &buf, bool cluster)
{
  current_ = Chunk ();
  current_end_ = kNoTime;
  /* One allocation per chunk instead of one per doubling: chunks of a
   * stream are about the same size. */
  current_.bytes.reserve (last_size_ + last_size_ / 4 + 64);
  if (!first_chunk_sent_)
    {
      const auto &hdr = stream_header ();
      current_.bytes.assign (hdr.begin (), hdr.end ());
      current_.starts_with_stream_header = !hdr.empty ();
    }
  current_.starts_on_cluster = cluster;
  current_.start = buf.pts;
  have_current_ = true;
}

void
Chunker::emit (std::vector<Chunk> &out)
{
  if (current_.start != kNoTime && current_end_ != kNoTime)
    current_.duration = current_end_ - current_.start;
  last_size_ = current_.bytes.size ();
  out.push_back (std::move (current_));
  current_ = Chunk ();
  have_current_ = false;
  first_chunk_sent_ = true;
}

void
Chunker::push (const MuxerBuffer &buf, std::vector<Chunk> &out)
{
  if (buf.header)
    {
      if (media_started_)
        {
          /* e.g. a non-streamable muxer rewriting its header at EOS: the
           * receiver already has a header, and a second one mid-stream would
           * break the byte stream. */
          late_header_buffers_++;
          return;
        }
      header_buffers_.insert (header_buffers_.end (), buf.data, buf.data + buf.size);
      return;
    }

  media_started_ = true;
  const bool cluster = !buf.delta;

  if (expect_cluster_)
    {
      expect_cluster_ = false;
      if (!cluster)
        {
          rule_misses_++;
          cluster_rule_ = kNoTime;
        }
    }
  if (buf.duration == kNoTime)
    {
      /* A muxer header: cluster, block (or a cluster's PrevSize). */
      if (cluster)
        cluster_pts_ = buf.pts;
      block_pts_ = buf.pts;
    }

  if (skipping_to_cluster_)
    {
      if (!cluster)
        return;
      skipping_to_cluster_ = false;
    }

  if (!have_current_)
    {
      begin_chunk (buf, cluster);
    }
  else
    {
      const bool timed = buf.pts != kNoTime && current_.start != kNoTime;
      const int64_t held = timed ? buf.pts - current_.start : 0;

      if (!cutting_by_time_ && timed && !cluster && held >= 2 * chunk_duration_)
        cutting_by_time_ = true; /* clusters too rare: the caller warns once */

      bool cut;
      /* Over the byte limit, cut before a muxer header buffer (they carry no
       * duration: a cluster or block header), so a frame stays with its
       * block header; the limit keeps a margin for the few bytes until one. */
      const size_t held_bytes = current_.bytes.size () + buf.size;
      const bool full = max_bytes_ > 0 && held_bytes > max_bytes_
                        && current_.bytes.size () > (current_.starts_with_stream_header ? stream_header ().size () : 0)
                        && (buf.duration == kNoTime || held_bytes > max_bytes_ + kMaxBytesMargin);
      if (full)
        cut = true;
      else if (cutting_by_time_)
        cut = timed && held >= chunk_duration_;
      else if (cluster)
        cut = !timed || held >= chunk_duration_; /* untimed: one cluster per chunk */
      else
        cut = false;

      if (cut)
        {
          /* The chunk ends where this buffer begins. */
          if (timed)
            current_end_ = buf.pts;
          emit (out);
          begin_chunk (buf, cluster);
        }
    }

  current_.bytes.insert (current_.bytes.end (), buf.data, buf.data + buf.size);
  account_time (buf);

  if (buf.duration != kNoTime)
    {
      int64_t next_block = kNoTime;
      if (completes_chunk (buf, next_block))
        {
          /* Where a cut on the next cluster would have ended it. */
          current_end_ = next_block;
          emit (out);
          early_closes_++;
          expect_cluster_ = true;
        }
      block_pts_ = kNoTime; /* each frame has its own block header */
    }
}

bool
Chunker::finish (Chunk &out)
{
  if (!have_current_)
    return false;
  if (current_.start != kNoTime && current_end_ != kNoTime)
    current_.duration = current_end_ - current_.start;
  out = std::move (current_);
  current_ = Chunk ();
  have_current_ = false;
  first_chunk_sent_ = true;
  return true;
}

void
Chunker::drop_pending ()
{
  current_ = Chunk ();
  have_current_ = false;
  current_end_ = kNoTime;
  skipping_to_cluster_ = true;
  expect_cluster_ = false;
}

void
Chunker::reset ()
{
  header_buffers_.clear ();
  caps_header_.clear ();
  media_started_ = false;
  first_chunk_sent_ = false;
  cutting_by_time_ = false;
  skipping_to_cluster_ = false;
  late_header_buffers_ = 0;
  current_ = Chunk ();
  have_current_ = false;
  current_end_ = kNoTime;
  cluster_rule_ = configured_rule_;
  cluster_pts_ = block_pts_ = kNoTime;
  expect_cluster_ = false;
  early_closes_ = rule_misses_ = 0;
}

} // namespace wssac
