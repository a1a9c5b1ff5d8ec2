/* wssaudiochunk core: cuts a muxed WebM/Ogg byte stream into chunks.
 *
 * Plain C++17, no GObject: the sink element feeds it muxer buffers and
 * gets whole chunks back. Chunks start on cluster boundaries (webmmux marks
 * a cluster start as the only buffer with neither HEADER nor DELTA_UNIT), so
 * every chunk after the first is decodable on its own once the receiver has
 * the stream header.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wssac
{

/* One buffer as the muxer produced it. Timestamps are nanoseconds;
 * kNoTime means "not set" (GST_CLOCK_TIME_NONE). */
constexpr int64_t kNoTime = -1;

struct MuxerBuffer
{
  const uint8_t *data = nullptr;
  size_t size = 0;
  int64_t pts = kNoTime;
  int64_t duration = kNoTime;
  bool header = false; /* GST_BUFFER_FLAG_HEADER */
  bool delta = false;  /* GST_BUFFER_FLAG_DELTA_UNIT */
};

struct Chunk
{
  std::vector<uint8_t> bytes;
  int64_t start = kNoTime;    /* PTS of the first media buffer */
  int64_t duration = kNoTime; /* media time the chunk covers */
  bool starts_with_stream_header = false;
  bool starts_on_cluster = false;
};

class Chunker
{
public:
  static constexpr int64_t kMinChunkDuration = 20 * 1000000LL;
  static constexpr int64_t kMaxChunkDuration = 10 * 1000000000LL;
  /* How far past max_bytes a chunk may grow while waiting for a header
   * buffer to cut before. */
  static constexpr size_t kMaxBytesMargin = 1024;

  explicit Chunker (int64_t chunk_duration_ns);

  /* Feeds one buffer; appends to @out the chunks it completed (0 or 1).
   * A buffer is never split. */
  void push (const MuxerBuffer &buf, std::vector<Chunk> &out);

  /* The stream header from caps ("streamheader"), used when the muxer did
   * not send HEADER-flagged buffers before the first media buffer. */
  void set_caps_stream_header (std::vector<uint8_t> header);

  /* The muxer's cluster rule, when known: a new cluster starts on the first
   * block at least @min_cluster_ns after the current cluster's start
   * (webmmux with one audio track and min-cluster-duration; 0: every block).
   * A chunk then closes right after the frame that completes it, instead of
   * on the next cluster's first buffer, which the muxer only sends with the
   * next frame. kNoTime (the default): unknown, cut on cluster starts only. */
  void set_cluster_rule (int64_t min_cluster_ns);
  int64_t cluster_rule () const { return cluster_rule_; }
  /* Chunks closed after their last frame (the cluster rule). */
  uint64_t early_closes () const { return early_closes_; }
  /* A chunk closed early was not followed by a cluster start: the rule did
   * not hold (the muxer's settings changed, or timestamps jumped back). The
   * rule is then dropped (until reset ()) and the next chunk starts between
   * blocks, as after a size cut. */
  uint64_t rule_misses () const { return rule_misses_; }

  /* End of stream: the last partial chunk, if it holds media. */
  bool finish (Chunk &out);

  /* Discards everything after the stream header (flush, mute): the next
   * chunk starts at the next cluster. */
  void drop_pending ();

  /* Forgets everything, stream header included (new stream); keeps the
   * settings (duration, max bytes, cluster rule). */
  void reset ();

  /* True once clusters came too rarely (less often than twice the chunk
   * duration) and the chunker fell back to cutting between buffers by time. */
  bool cutting_by_time () const { return cutting_by_time_; }

  int64_t chunk_duration () const { return chunk_duration_; }
  /* A chunk also closes (between buffers) once it would exceed this many
   * bytes (by at most kMaxBytesMargin), so that its message fits the
   * transport's frame limit. 0: none. */
  void set_max_bytes (size_t max_bytes) { max_bytes_ = max_bytes; }
  const std::vector<uint8_t> &stream_header () const;
  /* HEADER buffers arriving after media started; they are not re-sent. */
  uint64_t late_header_buffers () const { return late_header_buffers_; }

private:
  void emit (std::vector<Chunk> &out);
  void begin_chunk (const MuxerBuffer &buf, bool cluster);
  void account_time (const MuxerBuffer &buf);
  bool completes_chunk (const MuxerBuffer &buf, int64_t &next_block) const;

  int64_t chunk_duration_;
  size_t max_bytes_ = 0;
  std::vector<uint8_t> header_buffers_;
  std::vector<uint8_t> caps_header_;
  bool media_started_ = false;
  bool first_chunk_sent_ = false;
  bool cutting_by_time_ = false;
  bool skipping_to_cluster_ = false;
  uint64_t late_header_buffers_ = 0;

  Chunk current_;
  bool have_current_ = false;
  int64_t current_end_ = kNoTime; /* max(pts + duration) within the chunk */
  size_t last_size_ = 0;          /* bytes of the last chunk emitted */

  /* The cluster rule and what it needs: the muxer's block and cluster
   * headers carry the muxer's timestamps (a frame's own PTS may differ by
   * the codec delay), so the next block's time is the last block header's
   * PTS plus the frame's duration. */
  int64_t configured_rule_ = kNoTime;
  int64_t cluster_rule_ = kNoTime; /* kNoTime after a miss */
  int64_t cluster_pts_ = kNoTime; /* the current cluster's start */
  int64_t block_pts_ = kNoTime;   /* the last block header's */
  bool expect_cluster_ = false;   /* a chunk was closed early */
  uint64_t early_closes_ = 0;
  uint64_t rule_misses_ = 0;
};

} // namespace wssac
