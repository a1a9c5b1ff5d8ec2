/* wssaudiochunksink closes a chunk after its last frame when it knows where
 * the muxer starts its next cluster (webmmux's min-cluster-duration, read
 * from upstream through a queue). Buffers are pushed one by one
 * through a GstHarness into a real libsoup server on 127.0.0.1: a chunk
 * must be on the wire before the buffer after its last frame is pushed,
 * which without the rule only that buffer would send. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <json-glib/json-glib.h>

#include "check-suite.h"
#include "test-util.h"
#include "ws-test-server.h"

#include <cmath>
#include <string>
#include <vector>

namespace
{

const char *kRawCaps = "audio/x-raw,format=S16LE,layout=interleaved,rate=16000,channels=1";

/* @ms of a 440 Hz tone starting at @index * @ms. */
GstBuffer *
tone (int index, int ms)
{
  const int samples = 16 * ms;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, samples * 2, NULL);
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  auto *pcm = reinterpret_cast<int16_t *> (map.data);
  for (int i = 0; i < samples; i++)
    pcm[i] = (int16_t)(8000 * std::sin (2 * M_PI * 440 * (index * samples + i) / 16000.0));
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = (GstClockTime)index * ms * GST_MSECOND;
  GST_BUFFER_DURATION (buf) = (GstClockTime)ms * GST_MSECOND;
  return buf;
}

uint64_t
chunk_index (const std::string &text)
{
  JsonParser *parser = json_parser_new ();
  fail_unless (json_parser_load_from_data (parser, text.c_str (), -1, NULL), "%s", text.c_str ());
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  fail_unless_equals_string (json_object_get_string_member (o, "action"), "audioChunk");
  uint64_t index = (uint64_t)json_object_get_int_member (o, "chunkIndex");
  g_object_unref (parser);
  return index;
}

/* Pushes @per_chunk buffers of @ms per chunk, @chunks times: after each
 * chunk's last buffer, that chunk (and only it) is on the wire before the
 * next buffer goes in. */
void
push_chunk_by_chunk (GstHarness *h, WsTestServer &server, int ms, int per_chunk, int chunks)
{
  int pushed = 0;
  for (int c = 0; c < chunks; c++)
    {
      for (int i = 0; i < per_chunk; i++)
        fail_unless_equals_int (gst_harness_push (h, tone (pushed++, ms)), GST_FLOW_OK);
      /* Generous: the first chunk also waits for the connection. */
      fail_unless (server.wait_for_messages ((size_t)c + 1, 30000),
                   "chunk %d not sent after its last frame (%d buffers pushed)", c, pushed);
      std::vector<std::string> msgs = server.messages ();
      fail_unless_equals_int (msgs.size (), (size_t)c + 1);
      fail_unless_equals_int (chunk_index (msgs.back ()), (uint64_t)c);
    }
}

} // namespace

GST_START_TEST (test_chunk_leaves_after_last_frame_webmmux)
{
  WsTestServer server;
  server.start ();
  /* 20 ms frames, min-cluster-duration = chunk-duration = 250 ms: clusters
   * (and chunks) of 13 frames; the muxer sends a cluster's first buffer
   * only with its first frame. */
  std::string desc = "opusenc bitrate=16000 frame-size=20 ! webmmux streamable=true "
                     "min-cluster-duration=250000000 ! queue ! wssaudiochunksink location="
                     + server.url () + " session-id=early sync=false";
  GstHarness *h = gst_harness_new_parse (desc.c_str ());
  gst_harness_set_src_caps_str (h, kRawCaps);
  push_chunk_by_chunk (h, server, 20, 13, 3);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* A file read faster than real time (non-live appsrc, sync=false): its
 * chunks may go several to a wake-up of the transport, but none waits for
 * more audio or the end of the stream: with the stream stopped (no EOS)
 * every chunk reaches the server within the transport's tick. */
GST_START_TEST (test_file_chunks_leave_without_more_audio)
{
  WsTestServer server;
  server.start ();
  std::string desc = "appsrc name=src is-live=false format=time caps=" + std::string (kRawCaps)
                     + " ! opusenc bitrate=16000 frame-size=20 ! webmmux streamable=true "
                       "min-cluster-duration=250000000 ! wssaudiochunksink location="
                     + server.url () + " session-id=file sync=false";
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (desc.c_str (), &err);
  fail_unless (pipeline != NULL, "%s", err ? err->message : "");
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PLAYING),
                          GST_STATE_CHANGE_ASYNC);
  const int per_chunk = 13, chunks = 7;
  int pushed = 0;
  auto push_chunks = [&] (int n) {
    for (int i = 0; i < n * per_chunk; i++)
      {
        GstFlowReturn ret;
        g_signal_emit_by_name (src, "push-buffer", tone (pushed++, 20), &ret);
        fail_unless_equals_int (ret, GST_FLOW_OK);
      }
  };
  /* The first chunk also waits for the connection. */
  push_chunks (1);
  fail_unless (server.wait_for_messages (1, 30000), "chunk 0 not sent");
  /* The rest at once, then nothing more. */
  push_chunks (chunks - 1);
  fail_unless (server.wait_for_messages ((size_t)chunks, 2000), "%zu of %d chunks sent",
               server.messages ().size (), chunks);
  std::vector<std::string> msgs = server.messages ();
  fail_unless_equals_int (msgs.size (), (size_t)chunks);
  for (int c = 0; c < chunks; c++)
    fail_unless_equals_int (chunk_index (msgs[c]), (uint64_t)c);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (pipeline);
}
GST_END_TEST;

WSS_CHECK_MAIN (sink_early_close, "sink-early-close",
                { "general", 120,
                  WSS_TESTS (test_chunk_leaves_after_last_frame_webmmux,
                             test_file_chunks_leave_without_more_audio) });
