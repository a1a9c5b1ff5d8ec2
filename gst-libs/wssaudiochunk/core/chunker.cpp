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
}

} // namespace wssac
