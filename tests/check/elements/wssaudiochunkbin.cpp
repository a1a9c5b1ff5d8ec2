/* wssaudiochunkbin against a real libsoup WebSocket server on 127.0.0.1:
 * raw audio at any rate and channel count becomes chunks of exactly
 * chunk-duration that decode to the input's length; the sink's properties
 * and action signals work on the bin. */
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>

#include "check-suite.h"
#include "test-util.h"
#include "ws-test-server.h"

#include <cmath>
#include <string>
#include <vector>

namespace
{

struct Message
{
  std::string action;
  std::vector<uint8_t> audio;
  std::string reason;
};

std::vector<Message>
parse (const std::vector<std::string> &texts)
{
  std::vector<Message> out;
  for (const auto &text : texts)
    {
      JsonParser *parser = json_parser_new ();
      fail_unless (json_parser_load_from_data (parser, text.c_str (), -1, NULL), "%s",
                   text.c_str ());
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      Message m;
      m.action = json_object_get_string_member (o, "action");
      if (m.action == "audioChunk")
        m.audio = base64_decode (json_object_get_string_member (o, "audioData"));
      if (json_object_has_member (o, "reason"))
        m.reason = json_object_get_string_member (o, "reason");
      out.push_back (std::move (m));
      g_object_unref (parser);
    }
  return out;
}

/* An EBML element header: its ID (with the length marker, as the spec
 * writes IDs) and size; unknown sizes (all ones) come back as UINT64_MAX. */
bool
read_element (const std::vector<uint8_t> &b, size_t &pos, uint32_t &id, uint64_t &size)
{
  if (pos >= b.size ())
    return false;
  size_t len = 1;
  while (len <= 4 && !(b[pos] & (0x80 >> (len - 1))))
    len++;
  fail_unless (len <= 4 && pos + len <= b.size (), "bad EBML ID at %zu", pos);
  id = 0;
  for (size_t i = 0; i < len; i++)
    id = (id << 8) | b[pos + i];
  pos += len;
  fail_unless (pos < b.size ());
  uint8_t first = b[pos];
  len = 1;
  while (len <= 8 && !(first & (0x80 >> (len - 1))))
    len++;
  fail_unless (len <= 8 && pos + len <= b.size (), "bad EBML size at %zu", pos);
  uint64_t value = first & (0xFF >> len);
  bool all_ones = value == (0xFFu >> len);
  for (size_t i = 1; i < len; i++)
    {
      value = (value << 8) | b[pos + i];
      all_ones = all_ones && b[pos + i] == 0xFF;
    }
  pos += len;
  size = all_ones ? UINT64_MAX : value;
  return true;
}

struct Cluster
{
  uint64_t timecode_ms = 0;
  unsigned blocks = 0;
};

/* The clusters a chunk holds, walking Segment and Cluster (unknown size in
 * a streamable WebM) and skipping every other element by its size. */
std::vector<Cluster>
clusters_of (const std::vector<uint8_t> &chunk)
{
  const uint32_t kSegment = 0x18538067, kCluster = 0x1F43B675, kTimecode = 0xE7,
                 kSimpleBlock = 0xA3;
  std::vector<Cluster> out;
  size_t pos = 0;
  uint32_t id;
  uint64_t size;
  while (read_element (chunk, pos, id, size))
    {
      if (id == kSegment)
        continue;
      if (id == kCluster)
        {
          out.emplace_back ();
          continue;
        }
      fail_unless (size != UINT64_MAX && pos + size <= chunk.size (),
                   "element 0x%x crosses the chunk's end", id);
      if (id == kTimecode)
        {
          fail_if (out.empty (), "Timecode outside a Cluster");
          for (uint64_t i = 0; i < size; i++)
            out.back ().timecode_ms = (out.back ().timecode_ms << 8) | chunk[pos + i];
        }
      else if (id == kSimpleBlock)
        {
          fail_if (out.empty (), "SimpleBlock outside a Cluster");
          out.back ().blocks++;
        }
      pos += size;
    }
  return out;
}

/* gst_parse_launch of the printf-style description; fails the test with the
 * description and the parser's error when it does not parse. */
static GstElement *launch (const char *format, ...) G_GNUC_PRINTF (1, 2);

static GstElement *
launch (const char *format, ...)
{
  va_list args;
  va_start (args, format);
  gchar *desc = g_strdup_vprintf (format, args);
  va_end (args);
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  fail_unless (p != NULL, "%s: %s", desc, err ? err->message : "");
  g_clear_error (&err);
  g_free (desc);
  return p;
}

/* 2 s of a sine at @rate Hz and @channels into the bin (through @encoder
 * when not empty), with 250 ms chunks: every chunk is one cluster of 25 Opus
 * frames of 10 ms, cluster timecodes step by exactly 250 ms, and the stream
 * decodes back to 2 s. */
void
check_input (int rate, int channels, const char *encoder = "")
{
  const int kChunkMs = 250, kFrameMs = 10, kSeconds = 2;
  WsTestServer server;
  server.start ();
  GstElement *p
      = launch ("audiotestsrc num-buffers=%d samplesperbuffer=%d wave=sine freq=440 "
                "! audio/x-raw,rate=%d,channels=%d %s ! wssaudiochunkbin name=bin "
                "location=%s session-id=raw sink::sync=false",
                kSeconds * 100, rate / 100, rate, channels, encoder, server.url ().c_str ());
  BusLog log;
  run_pipeline (p, 60, log);
  gst_object_unref (p);
  fail_unless (log.eos, "no EOS at %d Hz x %d: %s", rate, channels, log.error_message.c_str ());
  fail_unless (log.warnings.empty (), "unexpected warning: %s", log.warnings[0].c_str ());
  fail_unless (server.wait_for_closed (10000));

  auto messages = parse (server.messages ());
  /* end-session-on-eos is on by default: the stream ends with endSession. */
  fail_unless (!messages.empty ());
  fail_unless_equals_string (messages.back ().action.c_str (), "endSession");
  messages.pop_back ();
  std::vector<uint8_t> all;
  std::vector<std::vector<Cluster>> per_chunk;
  for (const auto &m : messages)
    {
      fail_unless_equals_string (m.action.c_str (), "audioChunk");
      all.insert (all.end (), m.audio.begin (), m.audio.end ());
      per_chunk.push_back (clusters_of (m.audio));
    }
  const size_t full = kSeconds * 1000 / kChunkMs;
  fail_unless (per_chunk.size () == full || per_chunk.size () == full + 1,
               "%zu chunks at %d Hz x %d", per_chunk.size (), rate, channels);
  for (size_t i = 0; i < per_chunk.size (); i++)
    {
      const auto &cs = per_chunk[i];
      fail_unless (cs.size () == 1, "chunk %zu holds %zu clusters", i, cs.size ());
      fail_unless (cs[0].timecode_ms == i * kChunkMs,
                   "chunk %zu starts at %" G_GUINT64_FORMAT " ms", i, cs[0].timecode_ms);
      /* Chunk 0's first frame is shortened by the encoder's delay (opusenc
       * clips its pre-skip), so it holds one frame less; the last one ends
       * the stream. */
      if (i >= 1 && i + 1 < full)
        fail_unless (cs[0].blocks == kChunkMs / kFrameMs, "chunk %zu holds %u frames", i,
                     cs[0].blocks);
    }

  std::vector<int16_t> pcm;
  int out_rate, out_channels;
  std::string error;
  fail_unless (decode_opus_container (all, false, pcm, out_rate, out_channels, error), "%s",
               error.c_str ());
  double seconds = (double)pcm.size () / out_channels / out_rate;
  fail_unless (std::fabs (seconds - kSeconds) <= 0.001 * kFrameMs,
               "decoded %.4f s of %d s at %d Hz x %d", seconds, kSeconds, rate, channels);
}

} // namespace

GST_START_TEST (test_8000_mono)
{
  check_input (8000, 1);
}
GST_END_TEST;

GST_START_TEST (test_8000_stereo)
{
  check_input (8000, 2);
}
GST_END_TEST;

GST_START_TEST (test_44100_mono)
{
  check_input (44100, 1);
}
GST_END_TEST;

GST_START_TEST (test_44100_stereo)
{
  check_input (44100, 2);
}
GST_END_TEST;

GST_START_TEST (test_48000_mono)
{
  check_input (48000, 1);
}
GST_END_TEST;

GST_START_TEST (test_48000_stereo)
{
  check_input (48000, 2);
}
GST_END_TEST;

/* The sink's properties are the bin's, chunk-duration drives the muxer's
 * cluster duration, and the encoder starts at the protocol's settings. */
GST_START_TEST (test_properties_proxied)
{
  GstElement *bin = gst_element_factory_make ("wssaudiochunkbin", NULL);
  fail_unless (bin != NULL);
  g_object_set (bin, "location", "ws://127.0.0.1:9/ws", "session-id", "props", "chunk-duration",
                500, "bitrate", 24000, NULL);

  GstElement *sink = gst_bin_get_by_name (GST_BIN (bin), "sink");
  GstElement *mux = gst_bin_get_by_name (GST_BIN (bin), "mux");
  GstElement *encoder = gst_bin_get_by_name (GST_BIN (bin), "encoder");
  fail_unless (sink && mux && encoder);
  gchar *location = NULL, *session = NULL;
  guint chunk = 0; /* ms */
  g_object_get (sink, "location", &location, "session-id", &session, "chunk-duration", &chunk,
                NULL);
  fail_unless_equals_string (location, "ws://127.0.0.1:9/ws");
  fail_unless_equals_string (session, "props");
  fail_unless_equals_int (chunk, 500);
  gint64 cluster = 0;
  g_object_get (mux, "min-cluster-duration", &cluster, NULL);
  fail_unless_equals_int64 (cluster, 500 * GST_MSECOND);
  gint bitrate = 0, frame_size = 0;
  g_object_get (encoder, "bitrate", &bitrate, "frame-size", &frame_size, NULL);
  fail_unless_equals_int (bitrate, 24000);
  fail_unless_equals_int (frame_size, 10);

  GstStructure *stats = NULL;
  g_object_get (bin, "stats", &stats, NULL);
  fail_unless (stats != NULL);
  fail_unless (gst_structure_has_field (stats, "chunks-sent"), "%" GST_PTR_FORMAT, stats);
  gst_structure_free (stats);
  g_free (location);
  g_free (session);
  gst_object_unref (sink);
  gst_object_unref (mux);
  gst_object_unref (encoder);
  gst_object_unref (bin);
}
GST_END_TEST;

/* An action signal emitted on the bin reaches the sink: end-session sends
 * endSession with the reason and ends the pipeline. */
GST_START_TEST (test_end_session_signal_forwarded)
{
  WsTestServer server;
  server.start ();
  GstElement *p = launch ("audiotestsrc is-live=true samplesperbuffer=480 "
                          "! audio/x-raw,rate=48000,channels=2 "
                          "! wssaudiochunkbin name=bin location=%s session-id=signals",
                          server.url ().c_str ());
  gst_element_set_state (p, GST_STATE_PLAYING);
  fail_unless (server.wait_for_messages (2, 30000), "no chunks arrived");
  GstElement *bin = gst_bin_get_by_name (GST_BIN (p), "bin");
  g_signal_emit_by_name (bin, "end-session", "test over");
  gst_object_unref (bin);

  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg = gst_bus_timed_pop_filtered (
      bus, 30 * GST_SECOND, static_cast<GstMessageType> (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
               "no EOS after end-session");
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);

  fail_unless (server.wait_for_closed (10000));
  auto messages = parse (server.messages ());
  fail_unless (messages.size () >= 3);
  fail_unless_equals_string (messages.back ().action.c_str (), "endSession");
  fail_unless_equals_string (messages.back ().reason.c_str (), "test over");
}
GST_END_TEST;

/* 20 ms frames cannot fill 250 ms chunks exactly: one warning names the fix. */
GST_START_TEST (test_frame_size_mismatch_warns)
{
  WsTestServer server;
  server.start ();
  GstElement *p = launch ("audiotestsrc num-buffers=50 samplesperbuffer=160 "
                          "! audio/x-raw,rate=16000,channels=1 "
                          "! wssaudiochunkbin location=%s session-id=frames frame-size=20 "
                          "sink::sync=false",
                          server.url ().c_str ());
  BusLog log;
  run_pipeline (p, 60, log);
  gst_object_unref (p);
  fail_unless (log.eos, "%s", log.error_message.c_str ());
  size_t mentions = 0;
  for (const auto &w : log.warnings)
    mentions += w.find ("longer than chunk-duration") != std::string::npos;
  fail_unless_equals_int (mentions, 1);
}
GST_END_TEST;

/* Opus already encoded (in 10 ms frames) is muxed as it is. */
GST_START_TEST (test_opus_input)
{
  check_input (48000, 2, "! opusenc bitrate=16000 frame-size=10");
}
GST_END_TEST;

WSS_CHECK_MAIN (wssaudiochunkbin, "wssaudiochunkbin",
                { "general", 0,
                  WSS_TESTS (test_8000_mono, test_8000_stereo, test_44100_mono, test_44100_stereo,
                             test_48000_mono, test_48000_stereo, test_opus_input,
                             test_properties_proxied, test_end_session_signal_forwarded,
                             test_frame_size_mismatch_warns) });
