/* Unit tests for wssac::Chunker: cluster-aligned cuts, the header, time
 * fallback, EOS and mute/flush handling, and the cluster rule (a chunk
 * closes after its last frame). Buffers mimic webmmux's output: a cluster
 * header (no flags), then per frame a DELTA block header and a DELTA
 * payload. The cluster rule on real webmmux output is tested in
 * elements/chunker-webmmux (it needs GStreamer's plugins; this suite runs
 * without any, under the sanitizers and valgrind). */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "chunker.h"

#include <string>
#include <vector>

using wssac::Chunk;
using wssac::Chunker;
using wssac::MuxerBuffer;

static const int64_t MS = 1000000;

/* A 10-byte cluster header then one 10-byte frame, neither with a timestamp
 * (the frame with @duration when >= 0). */
static void
push_untimed_cluster (Chunker &c, int64_t duration, std::vector<Chunk> &out)
{
  static const uint8_t b[10] = { 0 };
  MuxerBuffer cl;
  cl.data = b;
  cl.size = 10;
  c.push (cl, out);
  MuxerBuffer fr;
  fr.data = b;
  fr.size = 10;
  fr.delta = true;
  if (duration >= 0)
    fr.duration = duration;
  c.push (fr, out);
}

struct Feed
{
  Chunker chunker;
  std::vector<Chunk> chunks;
  std::vector<uint8_t> all; /* everything fed, in order */
  uint8_t next_byte = 0;

  explicit Feed (int64_t chunk_ms) : chunker (chunk_ms * MS) {}

  void push (size_t size, int64_t pts, int64_t dur, bool header, bool delta)
  {
    std::vector<uint8_t> data (size);
    for (auto &b : data)
      b = next_byte++;
    MuxerBuffer mb;
    mb.data = data.data ();
    mb.size = size;
    mb.pts = pts;
    mb.duration = dur;
    mb.header = header;
    mb.delta = delta;
    chunker.push (mb, chunks);
    all.insert (all.end (), data.begin (), data.end ());
  }
  void header ()
  {
    push (28, 0, wssac::kNoTime, true, true);
    push (300, 0, wssac::kNoTime, true, true);
  }
  /* @frames frames of @frame_ms each, a cluster every @cluster_ms. */
  void media (int64_t start_ms, int frames, int64_t frame_ms, int64_t cluster_ms)
  {
    int64_t last_cluster = -1;
    for (int i = 0; i < frames; i++)
      {
        int64_t t = start_ms + i * frame_ms;
        if (last_cluster < 0 || t - last_cluster >= cluster_ms)
          {
            push (15, t * MS, wssac::kNoTime, false, false);
            last_cluster = t;
          }
        push (6, t * MS, wssac::kNoTime, false, true);
        push (50, (t * MS) - 6500000 + (i == 0 ? 6500000 : 0), frame_ms * MS, false, true);
      }
  }
  std::vector<uint8_t> concat () const
  {
    std::vector<uint8_t> out;
    for (const auto &c : chunks)
      out.insert (out.end (), c.bytes.begin (), c.bytes.end ());
    return out;
  }
};

GST_START_TEST (test_cluster_aligned_chunks)
{
  Feed f (250);
  f.header ();
  f.media (0, 100, 20, 260); /* 2 s, clusters every 260 ms */
  Chunk last;
  fail_unless (f.chunker.finish (last));
  f.chunks.push_back (last);

  fail_unless (f.chunks.size () >= 7, "got %zu chunks", f.chunks.size ());
  fail_unless (f.chunks[0].starts_with_stream_header);
  fail_unless_equals_int (f.chunks[0].bytes[0], 0); /* header's first byte */
  for (size_t i = 1; i < f.chunks.size (); i++)
    {
      fail_unless (f.chunks[i].starts_on_cluster, "chunk %zu not on a cluster", i);
      fail_if (f.chunks[i].starts_with_stream_header);
      fail_unless_equals_int (f.chunks[i].bytes.size () > 0, 1);
    }
  /* Nothing lost, nothing duplicated, order kept. */
  fail_unless (f.concat () == f.all);
  /* Every full chunk holds one 260 ms cluster. */
  for (size_t i = 0; i + 1 < f.chunks.size (); i++)
    fail_unless_equals_int64 (f.chunks[i].duration, 260 * MS);
  fail_if (f.chunker.cutting_by_time ());
}
GST_END_TEST;

GST_START_TEST (test_one_second_chunks)
{
  Feed f (1000);
  f.header ();
  f.media (0, 500, 20, 260); /* 10 s */
  Chunk last;
  fail_unless (f.chunker.finish (last));
  f.chunks.push_back (last);
  int64_t total = 0;
  for (size_t i = 0; i + 1 < f.chunks.size (); i++)
    {
      fail_unless (f.chunks[i].duration >= 1000 * MS);
      fail_unless (f.chunks[i].duration < 1300 * MS);
      total += f.chunks[i].duration;
    }
  int64_t mean = total / static_cast<int64_t> (f.chunks.size () - 1);
  fail_unless (mean >= 1000 * MS && mean <= 1100 * MS, "mean %" G_GINT64_FORMAT, mean);
  fail_unless (f.concat () == f.all);
}
GST_END_TEST;

GST_START_TEST (test_rare_clusters_cut_by_time)
{
  Feed f (250);
  f.header ();
  f.media (0, 150, 20, 5000); /* one cluster per 5 s: far too rare */
  Chunk last;
  fail_unless (f.chunker.finish (last));
  f.chunks.push_back (last);
  fail_unless (f.chunker.cutting_by_time ());
  fail_unless (f.chunks.size () >= 8, "got %zu", f.chunks.size ());
  fail_unless (f.concat () == f.all);
  /* After the switch, chunks hold about chunk-duration each. */
  for (size_t i = 2; i + 1 < f.chunks.size (); i++)
    fail_unless (f.chunks[i].duration >= 250 * MS && f.chunks[i].duration <= 280 * MS,
        "chunk %zu: %" G_GINT64_FORMAT, i, f.chunks[i].duration);
  /* A time cut happens before a block header (6 bytes) or a cluster, never
   * between a block header and its payload. */
  for (size_t i = 1; i < f.chunks.size (); i++)
    fail_unless (f.chunks[i].bytes.size () > 6);
}
GST_END_TEST;

GST_START_TEST (test_caps_header_used_when_no_header_buffers)
{
  Chunker c (250 * MS);
  c.set_caps_stream_header ({ 0x1a, 0x45, 0xdf, 0xa3 });
  std::vector<Chunk> out;
  uint8_t cluster[4] = { 0x1f, 0x43, 0xb6, 0x75 };
  MuxerBuffer mb;
  mb.data = cluster;
  mb.size = 4;
  mb.pts = 0;
  c.push (mb, out);
  Chunk last;
  fail_unless (c.finish (last));
  fail_unless (last.starts_with_stream_header);
  fail_unless_equals_int (last.bytes.size (), 8);
  fail_unless_equals_int (last.bytes[0], 0x1a);
  fail_unless_equals_int (last.bytes[4], 0x1f);
}
GST_END_TEST;

GST_START_TEST (test_header_only_gives_no_chunk)
{
  Feed f (250);
  f.header ();
  Chunk last;
  fail_if (f.chunker.finish (last));
  fail_unless (f.chunks.empty ());
}
GST_END_TEST;

GST_START_TEST (test_late_header_ignored)
{
  Feed f (250);
  f.header ();
  f.media (0, 10, 20, 260);
  f.push (40, 0, wssac::kNoTime, true, true);
  fail_unless_equals_int (f.chunker.late_header_buffers (), 1);
  Chunk last;
  fail_unless (f.chunker.finish (last));
  /* the late header's 40 bytes are not in the output */
  fail_unless_equals_int (last.bytes.size (), f.all.size () - 40);
}
GST_END_TEST;

GST_START_TEST (test_drop_pending_resumes_at_cluster)
{
  Feed f (250);
  f.header ();
  f.media (0, 30, 20, 260); /* 600 ms: two chunks out, one pending */
  size_t before = f.chunks.size ();
  fail_unless (before >= 2);
  f.chunker.drop_pending ();
  /* Frames without a cluster start are skipped... */
  f.push (6, 600 * MS, wssac::kNoTime, false, true);
  f.push (50, 600 * MS, 20 * MS, false, true);
  /* ...until the next cluster. */
  f.media (620, 30, 20, 260);
  Chunk last;
  fail_unless (f.chunker.finish (last));
  f.chunks.push_back (last);
  for (size_t i = before; i < f.chunks.size (); i++)
    {
      fail_unless (f.chunks[i].starts_on_cluster);
      fail_unless_equals_int64 (f.chunks[i].start >= 620 * MS, 1);
    }
}
GST_END_TEST;

GST_START_TEST (test_untimed_buffers_cut_per_cluster)
{
  Chunker c (250 * MS);
  std::vector<Chunk> out;
  for (int i = 0; i < 5; i++)
    push_untimed_cluster (c, -1, out);
  fail_unless_equals_int (out.size (), 4);
  for (const auto &ch : out)
    fail_unless_equals_int (ch.bytes.size (), 20);
}
GST_END_TEST;

GST_START_TEST (test_duration_is_clamped)
{
  Chunker small (1);
  fail_unless_equals_int64 (small.chunk_duration (), Chunker::kMinChunkDuration);
  Chunker big (3600LL * 1000 * MS);
  fail_unless_equals_int64 (big.chunk_duration (), Chunker::kMaxChunkDuration);
}
GST_END_TEST;

GST_START_TEST (test_max_bytes_cuts_early)
{
  Feed f (1000);
  f.chunker.set_max_bytes (800);
  f.header (); /* 328 bytes, in chunk 0 */
  f.media (0, 200, 20, 1000);
  Chunk last;
  fail_unless (f.chunker.finish (last));
  f.chunks.push_back (last);
  fail_unless (f.chunks.size () >= 8, "%zu chunks", f.chunks.size ());
  for (const auto &c : f.chunks)
    fail_unless (c.bytes.size () <= 800 + Chunker::kMaxBytesMargin, "chunk of %zu bytes", c.bytes.size ());
  fail_unless (f.concat () == f.all);
  /* A size cut never separates a 6-byte block header from its 50-byte
   * frame: every chunk holds whole frames, plus maybe a 15-byte cluster. */
  for (size_t i = 1; i < f.chunks.size (); i++)
    {
      size_t n = f.chunks[i].bytes.size ();
      fail_unless (n % 56 == 0 || (n - 15) % 56 == 0, "chunk %zu: %zu bytes", i, n);
    }
}
GST_END_TEST;


GST_START_TEST (test_rule_waits_for_timestamps)
{
  /* Frames without timestamps (or a muxer that gives its headers none):
   * nothing to predict with, chunks close on clusters as without a rule. */
  Chunker c (20 * MS);
  c.set_cluster_rule (0);
  std::vector<Chunk> out;
  for (int i = 0; i < 5; i++)
    {
      push_untimed_cluster (c, 20 * MS, out);
      fail_unless_equals_int (out.size (), (size_t)i);
    }
  fail_unless_equals_int (c.early_closes (), 0);
}
GST_END_TEST;

GST_START_TEST (test_drop_pending_after_early_close)
{
  /* A flush right after an early close: the next chunk still starts on a
   * cluster, and that is no miss of the rule. */
  Feed f (250);
  f.chunker.set_cluster_rule (260 * MS);
  f.header ();
  f.media (0, 13, 20, 260);
  fail_unless_equals_int (f.chunks.size (), 1);
  f.chunker.drop_pending ();
  f.push (6, 260 * MS, wssac::kNoTime, false, true);
  f.push (50, 253500000, 20 * MS, false, true);
  f.media (280, 13, 20, 260);
  fail_unless_equals_int (f.chunks.size (), 2);
  fail_unless (f.chunks[1].starts_on_cluster);
  fail_unless_equals_int64 (f.chunks[1].start, 280 * MS);
  fail_unless_equals_int (f.chunker.rule_misses (), 0);
  fail_unless_equals_int (f.chunker.early_closes (), 2);
}
GST_END_TEST;

WSS_CHECK_MAIN (
    chunker, "core-chunker",
    { "general", 0,
      WSS_TESTS (test_cluster_aligned_chunks, test_one_second_chunks,
                 test_rare_clusters_cut_by_time, test_caps_header_used_when_no_header_buffers,
                 test_header_only_gives_no_chunk, test_late_header_ignored,
                 test_drop_pending_resumes_at_cluster, test_untimed_buffers_cut_per_cluster,
                 test_duration_is_clamped, test_max_bytes_cuts_early,
                 test_rule_waits_for_timestamps, test_drop_pending_after_early_close) });
