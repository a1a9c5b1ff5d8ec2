/* wssaudiochunksink against a real libsoup WebSocket server on 127.0.0.1:
 * the seed's message format, cluster alignment, decodability, and the
 * start-up errors. */
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>

#include "check-suite.h"
#include "test-util.h"
#include "ws-test-server.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>
#include "bus-messages.h"

static const char *SPEAKER = "audiotestsrc num-buffers=%d samplesperbuffer=320 wave=sine freq=440 "
                             "! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000 "
                             "! webmmux streamable=true min-cluster-duration=%" G_GUINT64_FORMAT " "
                             "! wssaudiochunksink name=sink location=%s session-id=%s sync=false %s";

static GstElement *
speaker_pipeline (int buffers, guint64 cluster_ns, const std::string &url, const char *session,
                  const char *extra = "")
{
  gchar *desc = g_strdup_printf (SPEAKER, buffers, cluster_ns, url.c_str (), session, extra);
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  fail_unless (p != NULL, "%s: %s", desc, err ? err->message : "");
  g_free (desc);
  return p;
}

struct Parsed
{
  std::vector<std::vector<uint8_t>> chunks;
  std::vector<uint64_t> indices;
};

/* Checks that every message has exactly the seed's fields (plus streamId)
 * and JSON types. */
static Parsed
parse_messages (const std::vector<std::string> &msgs, const char *session)
{
  Parsed out;
  for (const auto &text : msgs)
    {
      JsonParser *parser = json_parser_new ();
      fail_unless (json_parser_load_from_data (parser, text.c_str (), -1, NULL), "%s", text.c_str ());
      JsonNode *root = json_parser_get_root (parser);
      fail_unless (JSON_NODE_HOLDS_OBJECT (root));
      JsonObject *o = json_node_get_object (root);
      if (g_strcmp0 (json_object_get_string_member (o, "action"), "endSession") == 0)
        {
          g_object_unref (parser); /* end-session-on-eos */
          continue;
        }
      /* The seed's seven fields plus streamId (the run's identity), and
       * captureTimestamp on a chunk that waited over a second (an upload
       * goes at the receiver's pace). */
      fail_unless_equals_int (json_object_get_size (o) - json_object_has_member (o, "captureTimestamp"), 8);
      const char *strings[] = { "action", "sessionId", "audioData", "format", "streamId" };
      for (const char *f : strings)
        {
          JsonNode *n = json_object_get_member (o, f);
          fail_unless (n && json_node_get_value_type (n) == G_TYPE_STRING, "field %s", f);
        }
      const char *ints[] = { "timestamp", "chunkIndex", "originalSize" };
      for (const char *f : ints)
        {
          JsonNode *n = json_object_get_member (o, f);
          fail_unless (n && json_node_get_value_type (n) == G_TYPE_INT64, "field %s", f);
        }
      fail_unless_equals_string (json_object_get_string_member (o, "action"), "audioChunk");
      fail_unless_equals_string (json_object_get_string_member (o, "sessionId"), session);
      fail_unless_equals_string (json_object_get_string_member (o, "format"), "webm-opus");
      gint64 ts = json_object_get_int_member (o, "timestamp");
      gint64 now = g_get_real_time () / 1000;
      fail_unless (ts <= now && ts > now - 60000, "timestamp %" G_GINT64_FORMAT " is not now", ts);
      std::vector<uint8_t> audio = base64_decode (json_object_get_string_member (o, "audioData"));
      fail_unless_equals_int64 (json_object_get_int_member (o, "originalSize"), (gint64) audio.size ());
      out.indices.push_back (json_object_get_int_member (o, "chunkIndex"));
      out.chunks.push_back (std::move (audio));
      g_object_unref (parser);
    }
  return out;
}

static std::vector<uint8_t>
concat (const Parsed &p)
{
  std::vector<uint8_t> all;
  for (const auto &c : p.chunks)
    all.insert (all.end (), c.begin (), c.end ());
  return all;
}

/* EBML variable-size integer at @pos; returns its length in bytes. */
static size_t
read_vint (const std::vector<uint8_t> &b, size_t pos, uint64_t &value)
{
  uint8_t first = b.at (pos);
  size_t len = 1;
  while (len <= 8 && !(first & (0x80 >> (len - 1))))
    len++;
  value = first & (0xFF >> len);
  for (size_t i = 1; i < len; i++)
    value = (value << 8) | b.at (pos + i);
  return len;
}

/* The Timecode (ms) of the Cluster the chunk starts with. */
static uint64_t
cluster_timecode (const std::vector<uint8_t> &chunk)
{
  fail_unless (chunk.size () > 8);
  fail_unless (chunk[0] == 0x1F && chunk[1] == 0x43 && chunk[2] == 0xB6 && chunk[3] == 0x75,
      "chunk does not start with a Cluster ID");
  uint64_t size;
  size_t pos = 4 + read_vint (chunk, 4, size);
  fail_unless_equals_int (chunk.at (pos), 0xE7); /* Timecode comes first */
  uint64_t len;
  pos += 1 + read_vint (chunk, pos + 1, len);
  uint64_t tc = 0;
  for (uint64_t i = 0; i < len; i++)
    tc = (tc << 8) | chunk.at (pos + i);
  return tc;
}

/* Runs @p (30 s at most; unreffed) into @log: it must reach EOS and close
 * its connection to @server. */
static void
run_to_eos_and_close (GstElement *p, WsTestServer &server, BusLog &log)
{
  run_pipeline (p, 30, log);
  gst_object_unref (p);
  fail_unless (log.eos, "no EOS: %s", log.error_message.c_str ());
  fail_unless (server.wait_for_closed (5000), "the connection was not closed");
}

GST_START_TEST (test_seed_messages_decode_to_input_duration)
{
  WsTestServer server;
  server.start ();
  GstElement *p = speaker_pipeline (150, 250 * GST_MSECOND, server.url (), "test-session",
      "post-messages=true"); /* 3 s */
  BusLog log;
  run_to_eos_and_close (p, server, log);

  Parsed parsed = parse_messages (server.messages (), "test-session");
  fail_unless (parsed.chunks.size () >= 11, "%zu chunks", parsed.chunks.size ());
  for (size_t i = 0; i < parsed.indices.size (); i++)
    fail_unless_equals_uint64 (parsed.indices[i], i);

  /* The socket was closed cleanly at EOS. */
  auto codes = server.close_codes ();
  fail_unless_equals_int (codes.size (), 1);
  fail_unless_equals_int (codes[0], 1000);

  /* The concatenation decodes to the input's duration within an Opus frame. */
  std::vector<int16_t> pcm;
  int rate, channels;
  std::string error;
  fail_unless (decode_opus_container (concat (parsed), false, pcm, rate, channels, error), "%s",
      error.c_str ());
  double seconds = (double) pcm.size () / channels / rate;
  fail_unless (std::fabs (seconds - 3.0) <= 0.020, "decoded %.4f s", seconds);

  /* A sent message per chunk, with the sizes the server saw. */
  auto sent = log.named (wssac::bus::kSent);
  fail_unless_equals_int (sent.size (), parsed.chunks.size ());
  for (size_t i = 0; i < sent.size (); i++)
    {
      guint64 idx;
      guint size, encoded;
      fail_unless (gst_structure_get_uint64 (sent[i], "chunk-index", &idx));
      fail_unless (gst_structure_get_uint (sent[i], "size", &size));
      fail_unless (gst_structure_get_uint (sent[i], "encoded-size", &encoded));
      fail_unless_equals_uint64 (idx, i);
      fail_unless_equals_int (size, parsed.chunks[i].size ());
      fail_unless_equals_int (encoded, server.messages ()[i].size ());
    }
  fail_unless_equals_int (log.named (wssac::bus::kStreamStart).size (), 1);
  auto stops = log.named (wssac::bus::kStreamStop);
  fail_unless_equals_int (stops.size (), 1);
  fail_unless_equals_string (gst_structure_get_string (stops[0], "reason"), "eos");
}
GST_END_TEST;

/* Per-chunk messages are opt-in (each wakes the application): by default
 * the chunks go out and the stream messages come, but no sent message. */
GST_START_TEST (test_sent_messages_off_by_default)
{
  GstElement *sink = gst_element_factory_make ("wssaudiochunksink", NULL);
  gboolean post = TRUE;
  g_object_get (sink, "post-messages", &post, NULL);
  fail_if (post);
  gst_object_unref (sink);

  WsTestServer server;
  server.start ();
  GstElement *p = speaker_pipeline (100, 250 * GST_MSECOND, server.url (), "quiet"); /* 2 s */
  BusLog log;
  run_to_eos_and_close (p, server, log);
  Parsed parsed = parse_messages (server.messages (), "quiet");
  fail_unless (parsed.chunks.size () >= 7, "%zu chunks", parsed.chunks.size ());
  fail_unless_equals_int (log.named (wssac::bus::kSent).size (), 0);
  fail_unless_equals_int (log.named (wssac::bus::kStreamStart).size (), 1);
  fail_unless_equals_int (log.named (wssac::bus::kStreamStop).size (), 1);
}
GST_END_TEST;

static void
check_alignment (guint64 chunk_ms, int buffers)
{
  WsTestServer server;
  server.start ();
  gchar *extra = g_strdup_printf ("chunk-duration=%" G_GUINT64_FORMAT, chunk_ms);
  GstElement *p = speaker_pipeline (buffers, 250 * GST_MSECOND, server.url (), "align", extra);
  g_free (extra);
  BusLog log;
  run_pipeline (p, 60, log);
  gst_object_unref (p);
  fail_unless (log.eos, "no EOS: %s", log.error_message.c_str ());
  fail_unless (log.warnings.empty (), "unexpected warning: %s", log.warnings[0].c_str ());
  Parsed parsed = parse_messages (server.messages (), "align");
  fail_unless (parsed.chunks.size () >= 5);

  /* Chunk 0 starts with the EBML header; every later one with a Cluster. */
  fail_unless (parsed.chunks[0][0] == 0x1A && parsed.chunks[0][1] == 0x45);
  std::vector<uint64_t> tcs;
  for (size_t i = 1; i < parsed.chunks.size (); i++)
    tcs.push_back (cluster_timecode (parsed.chunks[i]));
  /* Mean duration of the full chunks (between cluster starts). */
  double mean = (double) (tcs.back () - tcs.front ()) / (tcs.size () - 1);
  fail_unless (std::fabs (mean - chunk_ms) <= 0.10 * chunk_ms, "mean chunk %.1f ms for %" G_GUINT64_FORMAT,
      mean, chunk_ms);
  /* Any chunk decodes on its own behind the stream header (what chunk 0
   * holds before its first Cluster): a receiver can join at any chunk. */
  const auto &c0 = parsed.chunks[0];
  const uint8_t cluster_id[] = { 0x1F, 0x43, 0xB6, 0x75 };
  auto at = std::search (c0.begin (), c0.end (), cluster_id, cluster_id + 4);
  fail_unless (at != c0.end ());
  std::vector<uint8_t> joined (c0.begin (), at);
  const auto &middle = parsed.chunks[parsed.chunks.size () / 2];
  joined.insert (joined.end (), middle.begin (), middle.end ());
  std::vector<int16_t> pcm;
  int rate, channels;
  std::string error;
  fail_unless (decode_opus_container (joined, false, pcm, rate, channels, error), "%s", error.c_str ());
  double seconds = (double) pcm.size () / channels / rate;
  fail_unless (seconds >= 0.9 * chunk_ms / 1000.0, "a lone chunk decoded to %.3f s", seconds);
}

GST_START_TEST (test_cluster_aligned_250ms)
{
  check_alignment (250, 250); /* 5 s */
}
GST_END_TEST;

GST_START_TEST (test_cluster_aligned_1s)
{
  check_alignment (1000, 500); /* 10 s */
}
GST_END_TEST;

/* Runs @p (and unrefs it) to EOS with exactly one warning, which says
 * @in_message. */
static void
run_expecting_one_warning (GstElement *p, const char *in_message, BusLog &log)
{
  fail_unless (p != NULL);
  run_pipeline (p, 30, log);
  gst_object_unref (p);
  fail_unless (log.eos);
  fail_unless_equals_int (log.warnings.size (), 1);
  fail_unless (log.warnings[0].find (in_message) != std::string::npos, "%s", log.warnings[0].c_str ());
}

GST_START_TEST (test_rare_clusters_warn_once)
{
  WsTestServer server;
  server.start ();
  /* Default min-cluster-duration clusters every ~500 ms... but the muxer's
   * max-cluster-duration lets them grow: use 2 s clusters for 250 ms chunks. */
  GstElement *p = speaker_pipeline (200, 2 * GST_SECOND, server.url (), "rare",
      "chunk-duration=250");
  GstElement *mux = gst_bin_get_by_name (GST_BIN (p), "webmmux0");
  fail_unless (mux != NULL);
  g_object_set (mux, "max-cluster-duration", (gint64) 3 * GST_SECOND, NULL);
  gst_object_unref (mux);
  BusLog log;
  run_expecting_one_warning (p, "cutting chunks", log);
  Parsed parsed = parse_messages (server.messages (), "rare");
  fail_unless (parsed.chunks.size () >= 12, "%zu chunks", parsed.chunks.size ());
  std::vector<int16_t> pcm;
  int rate, channels;
  std::string error;
  fail_unless (decode_opus_container (concat (parsed), false, pcm, rate, channels, error), "%s",
      error.c_str ());
}
GST_END_TEST;

static void
expect_start_error (GstElement *p, const char *must_contain)
{
  BusLog log;
  run_pipeline (p, 30, log);
  fail_if (log.timed_out, "hung instead of failing");
  fail_unless (log.error, "no error posted");
  std::string all = log.error_message + " | " + log.error_debug;
  fail_unless (all.find (must_contain) != std::string::npos, "error \"%s\" does not mention \"%s\"",
      all.c_str (), must_contain);
}

/* Runs @p to its end against @server; returns the session id every message
 * carried, after checking it is the one posted, in stats and on the
 * property, and a UUID. */
static std::string
expect_generated_session (GstElement *p, GstElement *sink, WsTestServer &server)
{
  BusLog log;
  run_pipeline (p, 30, log);
  fail_unless (log.eos, "%s | %s", log.error_message.c_str (), log.error_debug.c_str ());
  gchar *prop = NULL;
  g_object_get (sink, "session-id", &prop, NULL);
  fail_unless (prop && g_uuid_string_is_valid (prop), "session-id %s is not a UUID", GST_STR_NULL (prop));
  std::string id = prop;
  g_free (prop);
  auto starts = log.named (wssac::bus::kStreamStart);
  fail_unless_equals_int (starts.size (), 1);
  fail_unless_equals_string (gst_structure_get_string (starts[0], "session-id"), id.c_str ());
  GstStructure *stats = NULL;
  g_object_get (sink, "stats", &stats, NULL);
  fail_unless_equals_string (gst_structure_get_string (stats, "session-id"), id.c_str ());
  gst_structure_free (stats);
  Parsed parsed = parse_messages (server.messages (), id.c_str ());
  fail_unless (parsed.chunks.size () >= 3, "%zu chunks", parsed.chunks.size ());
  return id;
}

GST_START_TEST (test_generated_session_id)
{
  WsTestServer server;
  server.start ();
  std::string desc = "audiotestsrc num-buffers=100 samplesperbuffer=320 ! audio/x-raw,rate=16000,channels=1 "
                     "! opusenc ! webmmux streamable=true min-cluster-duration=250000000 "
                     "! wssaudiochunksink name=sink sync=false location="
                     + server.url ();
  GstElement *p = gst_parse_launch (desc.c_str (), NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  std::string first = expect_generated_session (p, sink, server);
  gst_object_unref (sink);
  gst_object_unref (p);

  /* Another element, another session. */
  WsTestServer server2;
  server2.start ();
  desc.replace (desc.find (server.url ()), server.url ().size (), server2.url ());
  p = gst_parse_launch (desc.c_str (), NULL);
  sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  fail_if (expect_generated_session (p, sink, server2) == first, "the same UUID twice");
  gst_object_unref (sink);
  gst_object_unref (p);

  /* A session id the protocol does not allow is a settings error. */
  p = speaker_pipeline (10, 250 * GST_MSECOND, "ws://127.0.0.1:9/ws", "s");
  sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  g_object_set (sink, "session-id", "line\nbreak", NULL);
  gst_object_unref (sink);
  expect_start_error (p, "Invalid session-id");
  gst_object_unref (p);
}
GST_END_TEST;

/* The URI shorthand streams as it is: gst_element_make_from_uri() and a URI
 * in gst-launch syntax. */
GST_START_TEST (test_uri_shorthand_streams)
{
  WsTestServer server;
  server.start ();
  GError *err = NULL;
  GstElement *sink = gst_element_make_from_uri (GST_URI_SINK, server.url ().c_str (), "sink", &err);
  fail_unless (sink != NULL, "%s", err ? err->message : "");
  GstElement *p = gst_parse_launch ("audiotestsrc num-buffers=100 samplesperbuffer=320 "
                                    "! audio/x-raw,rate=16000,channels=1 ! opusenc "
                                    "! webmmux name=mux streamable=true min-cluster-duration=250000000",
      NULL);
  GstElement *mux = gst_bin_get_by_name (GST_BIN (p), "mux");
  gst_bin_add (GST_BIN (p), sink);
  fail_unless (gst_element_link (mux, sink));
  gst_object_unref (mux);
  expect_generated_session (p, sink, server);
  gst_object_unref (p);

  WsTestServer server2;
  server2.start ();
  std::string desc = "audiotestsrc num-buffers=100 samplesperbuffer=320 ! audio/x-raw,rate=16000,channels=1 "
                     "! opusenc ! webmmux streamable=true min-cluster-duration=250000000 ! "
                     + server2.url ();
  p = gst_parse_launch (desc.c_str (), &err);
  fail_unless (p != NULL, "%s", err ? err->message : "");
  GstIterator *it = gst_bin_iterate_sinks (GST_BIN (p));
  GValue v = G_VALUE_INIT;
  fail_unless_equals_int (gst_iterator_next (it, &v), GST_ITERATOR_OK);
  sink = GST_ELEMENT (g_value_get_object (&v));
  fail_unless (g_str_equal (G_OBJECT_TYPE_NAME (sink), "GstWssAudioChunkSink"));
  expect_generated_session (p, sink, server2);
  g_value_unset (&v);
  gst_iterator_free (it);
  gst_object_unref (p);
}
GST_END_TEST;

/* webmmux's default clusters (500 ms) cannot give 250 ms chunks: one
 * warning that names the fix. */
GST_START_TEST (test_cadence_warning)
{
  WsTestServer server;
  server.start ();
  std::string desc = "audiotestsrc num-buffers=300 samplesperbuffer=320 ! audio/x-raw,rate=16000,channels=1 "
                     "! opusenc ! webmmux streamable=true ! wssaudiochunksink sync=false session-id=cad location="
                     + server.url ();
  BusLog log;
  run_expecting_one_warning (gst_parse_launch (desc.c_str (), NULL), "instead of chunk-duration", log);
  fail_unless (log.warning_debugs[0].find ("webmmux min-cluster-duration=250000000") != std::string::npos, "%s",
      log.warning_debugs[0].c_str ());
}
GST_END_TEST;

GST_START_TEST (test_error_malformed_uri)
{
  const char *bad[] = { "http://127.0.0.1/ws", "ws://", "not a uri" };
  for (const char *uri : bad)
    {
      GstElement *p = speaker_pipeline (10, 250 * GST_MSECOND, "x", "s");
      GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
      g_object_set (sink, "location", uri, NULL);
      gst_object_unref (sink);
      expect_start_error (p, "Invalid location");
      gst_object_unref (p);
    }
  /* The URI handler refuses them too. */
  GError *err = NULL;
  GstElement *e = gst_element_make_from_uri (GST_URI_SINK, "ws://127.0.0.1:1/x", NULL, &err);
  fail_unless (e != NULL);
  fail_unless (g_str_equal (G_OBJECT_TYPE_NAME (e), "GstWssAudioChunkSink"));
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (e), "http://example/", &err));
  fail_unless (err != NULL);
  g_clear_error (&err);
  gst_object_unref (e);
}
GST_END_TEST;

/* A TCP socket bound to 127.0.0.1 on a free port (listening if asked). */
static GSocket *
loopback_socket (bool listen, guint &port)
{
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *a = g_inet_socket_address_new (lo, 0);
  fail_unless (g_socket_bind (s, a, TRUE, NULL));
  if (listen)
    fail_unless (g_socket_listen (s, NULL));
  GSocketAddress *bound = g_socket_get_local_address (s, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (bound);
  g_object_unref (a);
  g_object_unref (lo);
  return s;
}

GST_START_TEST (test_error_nothing_listening)
{
  /* A port that was free a moment ago: bind, read it, close. */
  guint port = 0;
  GSocket *s = loopback_socket (false, port);
  g_socket_close (s, NULL);
  g_object_unref (s);

  std::string url = "ws://127.0.0.1:" + std::to_string (port) + "/ws";
  GstElement *p = speaker_pipeline (10, 250 * GST_MSECOND, url, "s");
  expect_start_error (p, url.c_str ());
  gst_object_unref (p);
}
GST_END_TEST;

GST_START_TEST (test_error_upgrade_refused)
{
  WsTestServer server;
  server.start ();
  GstElement *p = speaker_pipeline (10, 250 * GST_MSECOND, server.url ("/not-here"), "s");
  expect_start_error (p, "refused the WebSocket upgrade (HTTP 404");
  gst_object_unref (p);
}
GST_END_TEST;

GST_START_TEST (test_error_dns_failure)
{
  /* .invalid never resolves (RFC 6761), without touching the network. */
  GstElement *p = speaker_pipeline (10, 250 * GST_MSECOND, "ws://no-such-host.invalid/ws", "s");
  expect_start_error (p, "no-such-host.invalid");
  gst_object_unref (p);
}
GST_END_TEST;

GST_START_TEST (test_extra_headers_and_properties)
{
  GstElement *sink = gst_element_factory_make ("wssaudiochunksink", NULL);
  fail_unless (sink != NULL);
  GstStructure *h = gst_structure_new ("headers", "X-Speaker", G_TYPE_STRING, "alice", NULL);
  g_object_set (sink, "extra-headers", h, "chunk-duration", 1000, "session-id", "s",
      NULL);
  gst_structure_free (h);
  GstStructure *got = NULL;
  guint dur;
  gchar *sid;
  g_object_get (sink, "extra-headers", &got, "chunk-duration", &dur, "session-id", &sid, NULL);
  fail_unless (got && g_str_equal (gst_structure_get_string (got, "X-Speaker"), "alice"));
  fail_unless_equals_int (dur, 1000);
  fail_unless_equals_string (sid, "s");
  GstStructure *stats = NULL;
  g_object_get (sink, "stats", &stats, NULL);
  fail_unless (stats && gst_structure_has_field (stats, "chunks-dropped"));
  gst_structure_free (stats);
  gst_structure_free (got);
  g_free (sid);
  gst_object_unref (sink);
}
GST_END_TEST;

/* start() returns while the first connection is still being attempted (it
 * used to block the application thread up to connect-timeout + 5 s): the
 * peer here accepts TCP connections and never answers. */
GST_START_TEST (test_start_does_not_wait_for_the_network)
{
  guint port = 0;
  GSocket *s = loopback_socket (true, port);
  std::string url = "ws://127.0.0.1:" + std::to_string (port) + "/ws";

  GstElement *sink = gst_element_factory_make ("wssaudiochunksink", NULL);
  g_object_set (sink, "location", url.c_str (), "session-id", "nb", "connect-timeout", 3600000, NULL);
  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_PAUSED), GST_STATE_CHANGE_ASYNC);
  GstStructure *stats = NULL;
  g_object_get (sink, "stats", &stats, NULL);
  /* Not yet started connecting, or connecting: not waiting for an outcome. */
  const gchar *state = gst_structure_get_string (stats, "state");
  fail_unless (g_str_equal (state, "connecting") || g_str_equal (state, "disconnected"), "state %s", state);
  gst_structure_free (stats);
  /* Stopping cancels the attempt. */
  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (sink);
  g_object_unref (s);
}
GST_END_TEST;

/* The first connection's failure is a GStreamer error with the HTTP status
 * mapped as souphttpsrc maps it, and http-status-code in its details. */
static void
expect_http_error (const std::string &url, const char *props, GQuark domain, int code, guint status,
    const char *hint)
{
  GstElement *p = speaker_pipeline (10, 250 * GST_MSECOND, url, "http", props);
  BusLog log;
  run_pipeline (p, 30, log);
  gst_object_unref (p);
  fail_unless (log.error, "no error for %s", url.c_str ());
  fail_unless (log.error_domain == domain && log.error_code == code, "%s: error %s %d, not %d (%s)",
      url.c_str (), g_quark_to_string (log.error_domain), log.error_code, code, log.error_message.c_str ());
  guint got = 0;
  fail_unless (log.error_details && gst_structure_get_uint (log.error_details, "http-status-code", &got),
      "no http-status-code");
  fail_unless_equals_int (got, status);
  fail_unless (log.error_debug.find (hint) != std::string::npos, "%s", log.error_debug.c_str ());
}

GST_START_TEST (test_error_http_status_mapping)
{
  WsTestServer server;
  server.start ();
  expect_http_error (server.url ("/not-here"), "", GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, 404,
      "path");

  /* Our receiver refuses a wrong token with 401. */
  GstElement *rx = gst_parse_launch ("wssaudiochunksrc name=src port=0 auth-tokens=right-token ! fakesink", NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (rx), "src");
  guint port = play_and_get_port (rx, src);
  gst_object_unref (src);
  std::string url = "ws://127.0.0.1:" + std::to_string (port) + "/ws";
  expect_http_error (url, "auth-token=wrong-token", GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, 401,
      "auth-token");
  gst_element_set_state (rx, GST_STATE_NULL);
  gst_object_unref (rx);
}
GST_END_TEST;

/* The upgrade request carries the session id where session-in-uri says,
 * so a load balancer can hash it (nginx: hash $arg_sessionId consistent). */
GST_START_TEST (test_session_in_uri)
{
  struct
  {
    const char *props, *path, *want;
  } cases[] = {
    { "", "/ws", "/ws?sessionId=room%201" },
    { "session-in-uri=query", "/ws?stage=prod", "/ws?stage=prod&sessionId=room%201" },
    { "session-in-uri=path", "/ws", "/ws/room 1" }, /* libsoup decodes the path */
    { "session-in-uri=none", "/ws", "/ws" },
  };
  for (const auto &c : cases)
    {
      WsTestServer server;
      server.start ();
      GstElement *p = speaker_pipeline (20, 250 * GST_MSECOND, server.url (c.path), "\"room 1\"", c.props);
      BusLog log;
      run_pipeline (p, 30, log);
      gst_object_unref (p);
      fail_unless (log.eos, "%s: %s", c.props, log.error_message.c_str ());
      std::vector<std::string> uris = server.request_uris ();
      fail_unless_equals_int (uris.size (), 1);
      fail_unless_equals_string (uris[0].c_str (), c.want);
      parse_messages (server.messages (), "room 1");
    }
}
GST_END_TEST;

/* @word in @text, not as part of a longer name (state, not backlog-state). */
static bool
names_word (const std::string &text, const std::string &word)
{
  auto part = [] (char c) { return g_ascii_isalnum (c) || c == '-'; };
  for (size_t pos = text.find (word); pos != std::string::npos; pos = text.find (word, pos + 1))
    if ((pos == 0 || !part (text[pos - 1])) && (pos + word.size () == text.size () || !part (text[pos + word.size ()])))
      return true;
  return false;
}

static bool
says_seed (const char *text)
{
  gchar *lower = g_ascii_strdown (text ? text : "", -1);
  bool found = strstr (lower, "seed") != NULL;
  g_free (lower);
  return found;
}

/* gst-inspect-1.0 is the manual: it lists every message the sink posts,
 * the control structure and every stats field, names no "seed", and the
 * enums are plugin API. */
GST_START_TEST (test_inspect_is_the_manual)
{
  GstElement *sink = gst_element_factory_make ("wssaudiochunksink", NULL);
  GstElementFactory *f = gst_element_get_factory (sink);
  const gchar *msgs = gst_element_factory_get_metadata (f, "bus-messages");
  fail_unless (msgs != NULL);
  const char *posted[] = { wssac::bus::kStreamStart, wssac::bus::kStreamStop, wssac::bus::kConnection,
    wssac::bus::kTransmitting, wssac::bus::kSent };
  for (const char *name : posted)
    fail_unless (strstr (msgs, name) != NULL, "%s not documented", name);
  fail_unless (strstr (gst_element_factory_get_metadata (f, "controls"), wssac::bus::kControl) != NULL);
  fail_unless (strstr (gst_element_factory_get_metadata (f, "examples"), "oggmux max-page-delay") != NULL);

  const gchar *stats_doc = gst_element_factory_get_metadata (f, "stats");
  GstStructure *stats = NULL;
  g_object_get (sink, "stats", &stats, NULL);
  for (int i = 0; i < gst_structure_n_fields (stats); i++)
    {
      std::string field = std::string (gst_structure_nth_field_name (stats, i));
      fail_unless (names_word (stats_doc, field), "stats field %s not documented", field.c_str ());
    }
  gst_structure_free (stats);

  gchar **keys = gst_element_factory_get_metadata_keys (f);
  for (gchar **k = keys; *k; k++)
    fail_if (says_seed (gst_element_factory_get_metadata (f, *k)), "metadata %s says seed", *k);
  g_strfreev (keys);
  guint n = 0;
  GParamSpec **specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (sink), &n);
  for (guint i = 0; i < n; i++)
    {
      fail_if (says_seed (g_param_spec_get_blurb (specs[i])), "%s says seed", specs[i]->name);
      if (G_IS_PARAM_SPEC_ENUM (specs[i]) && g_str_has_prefix (g_type_name (specs[i]->value_type), "GstWss"))
        {
          fail_unless (gst_type_is_plugin_api (specs[i]->value_type, NULL), "%s not plugin API",
              g_type_name (specs[i]->value_type));
          GEnumClass *e = G_ENUM_CLASS (g_type_class_ref (specs[i]->value_type));
          for (guint v = 0; v < e->n_values; v++)
            fail_if (says_seed (e->values[v].value_name), "%s says seed", e->values[v].value_nick);
          g_type_class_unref (e);
        }
    }
  g_free (specs);
  gst_object_unref (sink);
}
GST_END_TEST;

/* A control structure with an action nobody knows is refused out loud (a
 * warning naming it), and nothing but audio reaches the server. */
GST_START_TEST (test_unknown_control_action_warns)
{
  WsTestServer server;
  server.start ();
  GstElement *p = speaker_pipeline (50, 250 * GST_MSECOND, server.url (), "ctl");
  fail_if (gst_element_set_state (p, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE);
  gst_element_post_message (p, gst_message_new_application (NULL,
      gst_structure_new (wssac::bus::kControl, "action", G_TYPE_STRING, "stop-everything", NULL)));
  BusLog log;
  run_pipeline (p, 30, log);
  gst_object_unref (p);
  fail_unless (log.eos);
  fail_unless_equals_int (log.warnings.size (), 1);
  fail_unless (log.warnings[0].find ("stop-everything") != std::string::npos, "%s", log.warnings[0].c_str ());
  Parsed parsed = parse_messages (server.messages (), "ctl"); /* audioChunk only */
  fail_unless (!parsed.chunks.empty ());
}
GST_END_TEST;

WSS_CHECK_MAIN (
    wssaudiochunksink, "wssaudiochunksink",
    { "general", 0,
      WSS_TESTS (test_seed_messages_decode_to_input_duration, test_sent_messages_off_by_default,
                 test_cluster_aligned_250ms, test_cluster_aligned_1s, test_rare_clusters_warn_once,
                 test_generated_session_id, test_uri_shorthand_streams, test_cadence_warning,
                 test_session_in_uri, test_inspect_is_the_manual, test_error_malformed_uri,
                 test_error_nothing_listening, test_error_upgrade_refused, test_error_dns_failure,
                 test_extra_headers_and_properties, test_unknown_control_action_warns,
                 test_start_does_not_wait_for_the_network, test_error_http_status_mapping) });
