/* Unit tests for wssac::Chunker: cluster-aligned cuts, the header, time
 * fallback, EOS and mute/flush handling, and the cluster rule (a chunk
 * closes after its last frame). Buffers mimic webmmux's output: a cluster
 * header (no flags), then per frame a DELTA block header and a DELTA
 * payload; the cluster rule's tests use real webmmux output made in the
 * test (opusenc ! webmmux). */
#include <gst/check/gstcheck.h>

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


/* ---- The cluster rule: real webmmux output, made here. ---- */

struct MuxOut
{
  std::vector<std::vector<uint8_t>> data;
  std::vector<MuxerBuffer> meta; /* data pointers set by feed () */
};

static void
on_handoff (GstElement *, GstBuffer *buf, GstPad *, gpointer user_data)
{
  auto *out = static_cast<MuxOut *> (user_data);
  std::vector<uint8_t> bytes (gst_buffer_get_size (buf));
  gst_buffer_extract (buf, 0, bytes.data (), bytes.size ());
  MuxerBuffer mb;
  mb.size = bytes.size ();
  mb.pts = GST_BUFFER_PTS_IS_VALID (buf) ? (int64_t)GST_BUFFER_PTS (buf) : wssac::kNoTime;
  mb.duration = GST_BUFFER_DURATION_IS_VALID (buf) ? (int64_t)GST_BUFFER_DURATION (buf) : wssac::kNoTime;
  mb.header = GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_HEADER);
  mb.delta = GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  out->data.push_back (std::move (bytes));
  out->meta.push_back (mb);
}

/* What opusenc ! webmmux push for @seconds of noise, buffer by buffer. */
static MuxOut
webmmux_output (int frame_ms, int64_t min_cluster_ms, int seconds)
{
  std::string desc = "audiotestsrc wave=pink-noise num-buffers=" + std::to_string (seconds * 50)
                     + " samplesperbuffer=320 ! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000 "
                       "frame-size="
                     + std::to_string (frame_ms)
                     + " ! webmmux streamable=true min-cluster-duration=" + std::to_string (min_cluster_ms * MS)
                     + " ! fakesink name=out sync=false signal-handoffs=true";
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc.c_str (), &err);
  fail_unless (pipe != NULL, "%s (needs opusenc and webmmux)", err ? err->message : "?");
  MuxOut out;
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "out");
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), &out);
  gst_object_unref (sink);
  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
                                                (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS, "the pipeline did not end well");
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  fail_unless (out.meta.size () > 100);
  return out;
}

/* Chunks cut from @mux, and for each the index of the buffer whose push
 * emitted it (-1: finish ()). */
struct Cut
{
  std::vector<Chunk> chunks;
  std::vector<long> emitted_at;
  std::vector<size_t> ends;        /* bytes fed when each chunk ended */
  std::vector<size_t> fed_through; /* bytes fed up to each buffer, inclusive */
};

static Cut
feed (MuxOut &mux, Chunker &c)
{
  Cut cut;
  size_t fed = 0;
  for (size_t i = 0; i < mux.meta.size (); i++)
    {
      MuxerBuffer mb = mux.meta[i];
      mb.data = mux.data[i].data ();
      size_t before = cut.chunks.size ();
      c.push (mb, cut.chunks);
      fed += mb.size;
      cut.fed_through.push_back (fed);
      for (size_t k = before; k < cut.chunks.size (); k++)
        cut.emitted_at.push_back ((long)i);
    }
  Chunk last;
  if (c.finish (last))
    {
      cut.chunks.push_back (std::move (last));
      cut.emitted_at.push_back (-1);
    }
  size_t end = 0;
  for (const auto &ch : cut.chunks)
    cut.ends.push_back (end += ch.bytes.size ());
  return cut;
}

/* The rule changes when a chunk leaves, never what it holds. */
static void
assert_same_chunks (const Cut &a, const Cut &b)
{
  fail_unless_equals_int (a.chunks.size (), b.chunks.size ());
  for (size_t i = 0; i < a.chunks.size (); i++)
    {
      fail_unless (a.chunks[i].bytes == b.chunks[i].bytes, "chunk %zu differs", i);
      fail_unless_equals_int64 (a.chunks[i].start, b.chunks[i].start);
      fail_unless_equals_int64 (a.chunks[i].duration, b.chunks[i].duration);
      fail_unless_equals_int (a.chunks[i].starts_on_cluster, b.chunks[i].starts_on_cluster);
    }
}

static void
check_rule (int frame_ms, int64_t cluster_ms, int64_t chunk_ms, int64_t expect_duration_ms)
{
  MuxOut mux = webmmux_output (frame_ms, cluster_ms, 4);
  Chunker unknown (chunk_ms * MS), known (chunk_ms * MS);
  known.set_cluster_rule (cluster_ms * MS);
  Cut late = feed (mux, unknown);
  Cut early = feed (mux, known);
  assert_same_chunks (late, early);
  fail_unless (late.chunks.size () >= 4, "%zu chunks", late.chunks.size ());

  for (size_t k = 0; k + 1 < early.chunks.size (); k++)
    {
      fail_unless_equals_int64 (early.chunks[k].duration, expect_duration_ms * MS);
      /* Known boundary: the chunk leaves on the push of its own last
       * buffer, a frame with a duration. */
      long at = early.emitted_at[k];
      fail_unless (at >= 0);
      fail_unless_equals_int (early.fed_through[at], early.ends[k]);
      fail_unless (mux.meta[at].duration != wssac::kNoTime);
      /* Unknown: on the next cluster's first buffer, one frame later. */
      long late_at = late.emitted_at[k];
      fail_unless (late_at > at);
      fail_if (mux.meta[late_at].delta, "chunk %zu left on a buffer that starts no cluster", k);
      fail_unless_equals_int (late.fed_through[late_at] - mux.meta[late_at].size, late.ends[k]);
    }
  fail_unless_equals_int (known.early_closes (), early.chunks.size () - 1);
  fail_unless_equals_int (known.rule_misses (), 0);
  fail_unless_equals_int (unknown.early_closes (), 0);
}

GST_START_TEST (test_webmmux_boundary_known_20ms_frames)
{
  /* The usual pipeline: 20 ms frames, clusters of 13 frames (260 ms). */
  check_rule (20, 250, 250, 260);
}
GST_END_TEST;

GST_START_TEST (test_webmmux_boundary_known_10ms_frames)
{
  /* wssaudiochunkbin's: frame-size=10, clusters of exactly 250 ms. */
  check_rule (10, 250, 250, 250);
}
GST_END_TEST;

GST_START_TEST (test_webmmux_boundary_known_two_clusters_a_chunk)
{
  /* chunk-duration 500 over 260 ms clusters: a chunk holds two. */
  check_rule (20, 250, 500, 520);
}
GST_END_TEST;

GST_START_TEST (test_webmmux_wrong_rule_falls_back)
{
  /* Told 250 ms while the muxer makes 1 s clusters: the first early close
   * (500 ms in) is not followed by a cluster; the rule is dropped, nothing
   * is lost or reordered, and later chunks start on clusters again. */
  MuxOut mux = webmmux_output (20, 1000, 4);
  Chunker c (500 * MS);
  c.set_cluster_rule (250 * MS);
  Cut cut = feed (mux, c);
  fail_unless_equals_int (c.rule_misses (), 1);
  fail_unless_equals_int (c.early_closes (), 1);
  fail_unless_equals_int64 (c.cluster_rule (), wssac::kNoTime);
  std::vector<uint8_t> all, got;
  for (const auto &d : mux.data)
    all.insert (all.end (), d.begin (), d.end ());
  for (const auto &ch : cut.chunks)
    got.insert (got.end (), ch.bytes.begin (), ch.bytes.end ());
  fail_unless (got == all);
  fail_unless (cut.chunks.size () >= 4);
  fail_if (cut.chunks[1].starts_on_cluster);
  for (size_t k = 2; k < cut.chunks.size (); k++)
    fail_unless (cut.chunks[k].starts_on_cluster, "chunk %zu", k);
  /* reset () (a new stream) brings the configured rule back. */
  c.reset ();
  fail_unless_equals_int64 (c.cluster_rule (), 250 * MS);
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

static Suite *
chunker_suite (void)
{
  Suite *s = suite_create ("core-chunker");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_cluster_aligned_chunks);
  tcase_add_test (tc, test_one_second_chunks);
  tcase_add_test (tc, test_rare_clusters_cut_by_time);
  tcase_add_test (tc, test_caps_header_used_when_no_header_buffers);
  tcase_add_test (tc, test_header_only_gives_no_chunk);
  tcase_add_test (tc, test_late_header_ignored);
  tcase_add_test (tc, test_drop_pending_resumes_at_cluster);
  tcase_add_test (tc, test_untimed_buffers_cut_per_cluster);
  tcase_add_test (tc, test_duration_is_clamped);
  tcase_add_test (tc, test_max_bytes_cuts_early);
  tcase_add_test (tc, test_webmmux_boundary_known_20ms_frames);
  tcase_add_test (tc, test_webmmux_boundary_known_10ms_frames);
  tcase_add_test (tc, test_webmmux_boundary_known_two_clusters_a_chunk);
  tcase_add_test (tc, test_webmmux_wrong_rule_falls_back);
  tcase_add_test (tc, test_rule_waits_for_timestamps);
  tcase_add_test (tc, test_drop_pending_after_early_close);
  return s;
}

GST_CHECK_MAIN (chunker);
