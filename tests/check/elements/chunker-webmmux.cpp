/* wssac::Chunker's cluster rule on real webmmux output, made in the test
 * (audiotestsrc ! opusenc ! webmmux): with the rule known, a chunk leaves on
 * its own last frame, holding exactly what it holds without the rule; a
 * wrong rule falls back without loss. In the elements suite because it
 * needs GStreamer's plugins (core/chunker has the rest, plugin-free). */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "chunker.h"

#include <string>
#include <vector>

using wssac::Chunk;
using wssac::Chunker;
using wssac::MuxerBuffer;

static const int64_t MS = 1000000;

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

WSS_CHECK_MAIN (chunker_webmmux, "chunker-webmmux",
                { "general", 0,
                  WSS_TESTS (test_webmmux_boundary_known_20ms_frames,
                             test_webmmux_boundary_known_10ms_frames,
                             test_webmmux_boundary_known_two_clusters_a_chunk,
                             test_webmmux_wrong_rule_falls_back) });
