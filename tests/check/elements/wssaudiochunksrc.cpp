/* wssaudiochunksrc: sink -> src round trip to 16 kHz PCM, reassembly of
 * reordered/duplicated/missing chunks from a test client, bad input over a
 * real socket, and the Phase 2 WAV pipeline. */
#include <gst/app/gstappsink.h>
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "check-suite.h"
#include "message-codec.h"
#include "receiver.h"
#include "test-util.h"
#include "ws-test-client.h"
#include "ws-test-server.h"

#include <cmath>
#include <atomic>
#include <cstring>
#include <string>
#include <vector>
#include "bus-messages.h"


static guint64
stat (const GstStructure *st, const char *name)
{
  guint64 v = 0;
  fail_unless (gst_structure_get_uint64 (st, name, &v), "no %s in stats", name);
  return v;
}

/* Frequency of a pure tone from its zero crossings. */
static double
tone_frequency (const std::vector<int16_t> &pcm, size_t from, size_t to, int rate)
{
  int crossings = 0;
  for (size_t i = from + 1; i < to; i++)
    if ((pcm[i - 1] < 0) != (pcm[i] < 0))
      crossings++;
  return crossings / 2.0 / ((double) (to - from) / rate);
}

static GstElement *
speaker (const std::string &url, const char *session, int buffers, const char *extra = "")
{
  gchar *desc = g_strdup_printf ("audiotestsrc num-buffers=%d samplesperbuffer=320 wave=sine freq=440 volume=0.5 "
                                 "! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000 "
                                 "! webmmux streamable=true min-cluster-duration=250000000 "
                                 "! wssaudiochunksink location=%s session-id=%s sync=false %s",
      buffers, url.c_str (), session, extra);
  GstElement *p = gst_parse_launch (desc, NULL);
  g_free (desc);
  fail_unless (p != NULL);
  return p;
}

GST_START_TEST (test_round_trip_pcm)
{
  Receiver rx;
  GstElement *tx = speaker (rx.url (), "rt", 150, "end-session-on-eos=true"); /* 3 s */
  BusLog log;
  run_pipeline (tx, 30, log);
  gst_object_unref (tx);
  fail_unless (log.eos, "speaker: %s", log.error_message.c_str ());

  std::vector<int16_t> pcm;
  int disconts = 0;
  fail_unless (rx.pull_all (pcm, 20, &disconts), "receiver did not reach EOS");
  double seconds = pcm.size () / 16000.0;
  fail_unless (std::fabs (seconds - 3.0) <= 0.020, "received %.4f s", seconds);
  fail_unless_equals_int (disconts, 0);
  double f = tone_frequency (pcm, 1600, pcm.size () - 1600, 16000);
  fail_unless (std::fabs (f - 440.0) < 5.0, "tone at %.1f Hz", f);

  GstStructure *st = rx.stats ();
  fail_unless_equals_uint64 (stat (st, "gaps"), 0);
  fail_unless_equals_uint64 (stat (st, "missing"), 0);
  fail_unless_equals_uint64 (stat (st, "duplicates"), 0);
  fail_unless_equals_uint64 (stat (st, "rejected"), 0);
  fail_unless (stat (st, "chunks") >= 11);
  gst_structure_free (st);
}
GST_END_TEST;

GST_START_TEST (test_binary_framing_round_trip)
{
  Receiver rx;
  gchar *desc = g_strdup_printf ("audiotestsrc num-buffers=150 samplesperbuffer=320 wave=sine freq=440 volume=0.5 "
                                 "! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000 "
                                 "! webmmux streamable=true min-cluster-duration=250000000 "
                                 "! wssaudiochunksink name=sink location=%s session-id=bin sync=false framing=binary "
                                 "end-session-on-eos=true", rx.url ().c_str ());
  GstElement *tx = gst_parse_launch (desc, NULL);
  g_free (desc);
  BusLog log;
  run_pipeline (tx, 30, log);
  fail_unless (log.eos, "%s", log.error_message.c_str ());
  GstElement *sink = gst_bin_get_by_name (GST_BIN (tx), "sink");
  GstStructure *st = NULL;
  g_object_get (sink, "stats", &st, NULL);
  guint64 wire = 0, audio = 0;
  gst_structure_get_uint64 (st, "bytes-sent", &wire);
  gst_structure_get_uint64 (st, "audio-bytes-sent", &audio);
  gst_structure_free (st);
  gst_object_unref (sink);
  gst_object_unref (tx);
  /* Raw audio plus a small header: well under base64's 4/3. */
  fail_unless (wire < audio * 1.30, "%" G_GUINT64_FORMAT " bytes on the wire for %" G_GUINT64_FORMAT, wire, audio);

  std::vector<int16_t> pcm;
  int disconts = 0;
  fail_unless (rx.pull_all (pcm, 20, &disconts));
  fail_unless (std::fabs (pcm.size () / 16000.0 - 3.0) <= 0.02, "received %.3f s", pcm.size () / 16000.0);
  GstStructure *rs = rx.stats ();
  fail_unless_equals_uint64 (stat (rs, "rejected"), 0);
  gst_structure_free (rs);
}
GST_END_TEST;

/* Records a real 5 s stream's messages with the test server. */
static std::vector<std::string>
record_stream (const char *session)
{
  WsTestServer server;
  server.start ();
  GstElement *tx = speaker (server.url (), session, 250, "end-session-on-eos=false");
  BusLog log;
  run_pipeline (tx, 30, log);
  gst_object_unref (tx);
  fail_unless (log.eos);
  fail_unless (server.wait_for_closed (5000));
  return server.messages ();
}

GST_START_TEST (test_reorder_duplicate_missing)
{
  std::vector<std::string> msgs = record_stream ("ro");
  fail_unless (msgs.size () >= 19, "%zu", msgs.size ());
  Receiver rx ("reorder-wait=200");

  WsTestClient client;
  std::string err;
  fail_unless (client.connect (rx.url (), err), "%s", err.c_str ());
  /* 0 2 1 3 3 4 5 6 8 9 ... : swap, duplicate, and index 7 never comes. */
  std::vector<size_t> order = { 0, 2, 1, 3, 3, 4, 5, 6 };
  for (size_t i = 8; i < msgs.size (); i++)
    order.push_back (i);
  for (size_t i : order)
    client.send_text (msgs[i]);
  g_usleep (600 * 1000); /* past reorder-wait: 7 is given up */
  client.send_text (msgs[7]); /* late */
  client.send_text (wssac::encode_control (wssac::Action::EndSession, "ro", 1, "done"));

  std::vector<int16_t> pcm;
  int disconts = 0;
  fail_unless (rx.pull_all (pcm, 20, &disconts));
  GstStructure *st = rx.stats ();
  fail_unless_equals_uint64 (stat (st, "duplicates"), 1);
  fail_unless_equals_uint64 (stat (st, "gaps"), 1);
  fail_unless_equals_uint64 (stat (st, "missing"), 1);
  fail_unless_equals_uint64 (stat (st, "late"), 1);
  fail_unless_equals_uint64 (stat (st, "rejected"), 0);
  gst_structure_free (st);
  /* Duplicates and reordering cost nothing; the one missing chunk (~260 ms)
   * is the only audio lost, and the decoder saw the DISCONT. */
  double seconds = pcm.size () / 16000.0;
  fail_unless (seconds > 4.5 && seconds < 4.85, "received %.3f s", seconds);
  fail_unless (disconts >= 1);
  /* Late and duplicate chunks get no error reply (they are normal after a
   * reconnect), only acks. */
  for (const auto &r : client.replies ())
    fail_unless (wssac::decode_reply (r.data (), r.size ()).kind == wssac::Reply::Ack, "%s", r.c_str ());
  fail_unless (client.replies ().size () > 0);
}
GST_END_TEST;

static std::string
reply_code (const std::string &json)
{
  JsonParser *p = json_parser_new ();
  fail_unless (json_parser_load_from_data (p, json.c_str (), -1, NULL), "%s", json.c_str ());
  JsonObject *o = json_node_get_object (json_parser_get_root (p));
  fail_unless_equals_string (json_object_get_string_member (o, "action"), "error");
  fail_unless (json_object_has_member (o, "message"));
  std::string code = json_object_get_string_member (o, "code");
  g_object_unref (p);
  return code;
}

GST_START_TEST (test_bad_input_over_socket)
{
  std::vector<std::string> msgs = record_stream ("bad");
  Receiver rx;
  g_object_set (rx.src, "max-message-size", 4096, NULL); /* READY-mutable: only checks it is settable */

  WsTestClient speaker_client, intruder, flooder;
  std::string err;
  fail_unless (speaker_client.connect (rx.url (), err), "%s", err.c_str ());
  fail_unless (intruder.connect (rx.url (), err), "%s", err.c_str ());

  speaker_client.send_text (msgs[0]);
  speaker_client.send_text ("this is not json");
  speaker_client.send_binary ({ 1, 2, 3 });
  speaker_client.send_text ("{\"action\":\"audioChunk\",\"sessionId\":\"bad\",\"audioData\":\"@@@@\",\"chunkIndex\":1}");
  speaker_client.send_text ("{\"action\":\"dance\"}");
  fail_unless (speaker_client.wait_for_replies (4, 5000));
  std::vector<std::string> replies;
  for (const auto &r : speaker_client.replies ())
    if (wssac::decode_reply (r.data (), r.size ()).kind == wssac::Reply::Error)
      replies.push_back (r);
  fail_unless_equals_int (replies.size (), 4);
  std::vector<std::string> codes;
  for (const auto &r : replies)
    codes.push_back (reply_code (r));
  std::vector<std::string> expected = { "not-json", "binary-not-supported", "bad-base64", "unknown-action" };
  fail_unless (codes == expected, "got %s %s %s %s", codes[0].c_str (), codes[1].c_str (), codes[2].c_str (),
      codes[3].c_str ());

  /* A second connection claiming the same session is refused: another
   * sender (its own streamId; the speaker's own run on a new connection
   * would be its make-before-break handover, test ingest-core). */
  std::string other = msgs[1];
  const std::string key = "\"streamId\":\"";
  size_t at = other.find (key);
  fail_unless (at != std::string::npos, "%s", other.c_str ());
  at += key.size ();
  const size_t len = other.find ('"', at) - at;
  const std::string mine = other.substr (at, len);
  other.replace (at, len, std::string (len, mine == std::string (len, 'f') ? 'e' : 'f'));
  intruder.send_text (other);
  fail_unless (intruder.wait_for_replies (1, 5000));
  std::string intruder_code = reply_code (intruder.replies ()[0]);
  fail_unless_equals_string (intruder_code.c_str (), "session-claimed");

  /* The speaker's stream goes on undisturbed. */
  for (size_t i = 1; i < msgs.size (); i++)
    speaker_client.send_text (msgs[i]);
  speaker_client.send_text (wssac::encode_control (wssac::Action::EndSession, "bad", 1, "done"));
  std::vector<int16_t> pcm;
  fail_unless (rx.pull_all (pcm, 20));
  double seconds = pcm.size () / 16000.0;
  fail_unless (std::fabs (seconds - 5.0) <= 0.02, "received %.3f s", seconds);
  GstStructure *st = rx.stats ();
  fail_unless_equals_uint64 (stat (st, "rejected"), 5);
  fail_unless_equals_uint64 (stat (st, "rejected-session-claimed"), 1);
  fail_unless_equals_uint64 (stat (st, "gaps"), 0);
  gst_structure_free (st);
  fail_if (speaker_client.wait_closed (100)); /* bad messages did not cost it its connection */
}
GST_END_TEST;

GST_START_TEST (test_oversize_frame_closed_1009)
{
  Receiver rx ("max-message-size=2048", Receiver::Output::kDiscard);
  WsTestClient c;
  std::string err;
  fail_unless (c.connect (rx.url (), err), "%s", err.c_str ());
  c.send_text (std::string (4000, 'x'));
  fail_unless (c.wait_closed (5000));
  fail_unless_equals_int (c.close_code (), 1009);
}
GST_END_TEST;

GST_START_TEST (test_abusive_client_closed_1008)
{
  Receiver rx;
  WsTestClient c;
  std::string err;
  fail_unless (c.connect (rx.url (), err), "%s", err.c_str ());
  for (int i = 0; i < 25; i++)
    c.send_text ("nope");
  fail_unless (c.wait_closed (5000));
  fail_unless_equals_int (c.close_code (), 1008);
  fail_unless_equals_int (c.replies ().size (), 20);
  GstStructure *st = rx.stats ();
  fail_unless_equals_uint64 (stat (st, "closed-for-abuse"), 1);
  gst_structure_free (st);
}
GST_END_TEST;

/* A wssaudiochunksrc that stays up across sessions (eos-on-end-session=false)
 * into an identity named "id"; stopped and freed at the end of the scope. */
struct SessionsPipeline
{
  GstElement *p = gst_parse_launch ("wssaudiochunksrc name=src port=0 eos-on-end-session=false "
                                    "! identity name=id silent=true ! fakesink",
                                    NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
  GstElement *id = gst_bin_get_by_name (GST_BIN (p), "id");

  ~SessionsPipeline ()
  {
    gst_element_set_state (p, GST_STATE_NULL);
    gst_object_unref (src);
    gst_object_unref (id);
    gst_object_unref (p);
  }
};

GST_START_TEST (test_controls_become_messages_and_events)
{
  std::vector<std::string> msgs = record_stream ("ctl");
  SessionsPipeline pipeline;
  GstElement *p = pipeline.p, *src = pipeline.src, *id = pipeline.id;
  static std::vector<std::string> seen_events;
  seen_events.clear ();
  GstPad *pad = gst_element_get_static_pad (id, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      [] (GstPad *, GstPadProbeInfo *info, gpointer) -> GstPadProbeReturn {
        GstEvent *e = GST_PAD_PROBE_INFO_EVENT (info);
        const GstStructure *s = gst_event_get_structure (e);
        if (GST_EVENT_TYPE (e) == GST_EVENT_CUSTOM_DOWNSTREAM && s
            && gst_structure_has_name (s, wssac::bus::kControl))
          seen_events.push_back (gst_structure_get_string (s, "action"));
        return GST_PAD_PROBE_OK;
      },
      NULL, NULL);
  gst_object_unref (pad);
  guint port = play_and_get_port (p, src);

  WsTestClient c;
  std::string err;
  fail_unless (c.connect ("ws://127.0.0.1:" + std::to_string (port) + "/ws", err), "%s", err.c_str ());
  c.send_text (msgs[0]);
  c.send_text ("{\"action\":\"pauseBroadcast\",\"timestamp\":1}"); /* the seed's form: no sessionId */
  c.send_text (msgs[1]);
  c.send_text (wssac::encode_control (wssac::Action::ResumeBroadcast, "ctl", 2));
  c.send_text (wssac::encode_control (wssac::Action::MuteBroadcast, "ctl", 3));
  c.send_text (wssac::encode_control (wssac::Action::UnmuteBroadcast, "ctl", 4));
  c.send_text (wssac::encode_control (wssac::Action::EndSession, "ctl", 5, "bye"));

  GstBus *bus = gst_element_get_bus (p);
  std::vector<std::string> actions;
  bool ended = false, eos = false;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!ended && g_get_monotonic_time () < deadline)
    {
      GstMessage *m = gst_bus_timed_pop (bus, 100 * GST_MSECOND);
      if (!m)
        continue;
      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS)
        eos = true;
      const GstStructure *s = gst_message_get_structure (m);
      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT && gst_structure_has_name (s, wssac::bus::kControl))
        actions.push_back (gst_structure_get_string (s, "action"));
      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT && gst_structure_has_name (s, wssac::bus::kSession)
          && g_str_equal (gst_structure_get_string (s, "event"), "ended"))
        {
          ended = true;
          fail_unless_equals_string (gst_structure_get_string (s, "reason"), "bye");
        }
      gst_message_unref (m);
    }
  fail_unless (ended);
  fail_if (eos, "EOS despite eos-on-end-session=false");
  std::vector<std::string> expected = { "pauseBroadcast", "resumeBroadcast", "muteBroadcast", "unmuteBroadcast" };
  fail_unless (actions == expected);
  fail_unless (seen_events == expected);
  gst_object_unref (bus);
}
GST_END_TEST;

GST_START_TEST (test_phase2_wav)
{
  gchar *path = g_build_filename (g_get_tmp_dir (), "wssac-phase2-XXXXXX.wav", NULL);
  int fd = g_mkstemp (path);
  close (fd);
  gchar *desc = g_strdup_printf ("wssaudiochunksrc name=src port=0 ! matroskademux ! opusdec ! audioconvert "
                                 "! audioresample ! audio/x-raw,format=S16LE,rate=16000,channels=1 ! wavenc "
                                 "! filesink location=%s", path);
  GstElement *rx = gst_parse_launch (desc, NULL);
  g_free (desc);
  GstElement *src = gst_bin_get_by_name (GST_BIN (rx), "src");
  guint port = play_and_get_port (rx, src);
  GstElement *tx = speaker ("ws://127.0.0.1:" + std::to_string (port) + "/ws", "wav", 100, "end-session-on-eos=true");
  BusLog txlog;
  run_pipeline (tx, 30, txlog);
  fail_unless (txlog.eos);
  GstBus *bus = gst_element_get_bus (rx);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND, (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS);
  gst_message_unref (m);
  gst_element_set_state (rx, GST_STATE_NULL);

  gchar *data;
  gsize len;
  fail_unless (g_file_get_contents (path, &data, &len, NULL));
  fail_unless (len > 44 && memcmp (data, "RIFF", 4) == 0 && memcmp (data + 8, "WAVE", 4) == 0);
  guint16 channels = GST_READ_UINT16_LE (data + 22);
  guint32 rate = GST_READ_UINT32_LE (data + 24);
  guint16 bits = GST_READ_UINT16_LE (data + 34);
  fail_unless_equals_int (channels, 1);
  fail_unless_equals_int (rate, 16000);
  fail_unless_equals_int (bits, 16);
  double seconds = (len - 44) / 32000.0;
  fail_unless (std::fabs (seconds - 2.0) <= 0.02, "WAV holds %.3f s", seconds);
  g_free (data);
  g_unlink (path);
  g_free (path);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (rx);
  gst_object_unref (tx);
}
GST_END_TEST;

GST_START_TEST (test_port_in_use_is_an_error)
{
  Receiver a ("", Receiver::Output::kDiscard);
  gchar *desc = g_strdup_printf ("wssaudiochunksrc port=%u ! fakesink", a.port);
  GstElement *b = gst_parse_launch (desc, NULL);
  g_free (desc);
  BusLog log;
  run_pipeline (b, 10, log);
  fail_unless (log.error);
  fail_unless (log.error_message.find (std::to_string (a.port)) != std::string::npos, "%s",
      log.error_message.c_str ());
  gst_object_unref (b);
}
GST_END_TEST;

/* One session per element: a second speaker while one streams is refused
 * and announced on the bus; with eos-on-end-session=false a later session is
 * a new stream (stream-start and caps again), never appended. */
GST_START_TEST (test_one_session_per_element)
{
  std::vector<std::string> first = record_stream ("one");
  std::vector<std::string> second = record_stream ("two");
  SessionsPipeline pipeline;
  GstElement *p = pipeline.p, *src = pipeline.src;
  static std::atomic<int> stream_starts, caps_events;
  stream_starts = 0;
  caps_events = 0;
  GstPad *pad = gst_element_get_static_pad (src, "src"); /* identity drops equal caps */
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      [] (GstPad *, GstPadProbeInfo *info, gpointer) -> GstPadProbeReturn {
        GstEvent *e = GST_PAD_PROBE_INFO_EVENT (info);
        if (GST_EVENT_TYPE (e) == GST_EVENT_STREAM_START)
          stream_starts++;
        if (GST_EVENT_TYPE (e) == GST_EVENT_CAPS)
          caps_events++;
        return GST_PAD_PROBE_OK;
      },
      NULL, NULL);
  gst_object_unref (pad);
  guint port = play_and_get_port (p, src);
  const std::string url = "ws://127.0.0.1:" + std::to_string (port) + "/ws";

  WsTestClient a, b;
  std::string err;
  fail_unless (a.connect (url, err), "%s", err.c_str ());
  a.send_text (first[0]);
  a.send_text (first[1]);
  fail_unless (b.connect (url, err), "%s", err.c_str ());
  b.send_text (second[0]);
  b.send_text (second[1]);
  fail_unless (b.wait_for_replies (2, 10000));
  for (const auto &r : b.replies ())
    fail_unless (r.find ("\"code\":\"wrong-session\"") != std::string::npos, "%s", r.c_str ());

  GstBus *bus = gst_element_get_bus (p);
  int warnings = 0;
  auto drain = [&] (int ms) {
    gint64 deadline = g_get_monotonic_time () + ms * 1000;
    while (g_get_monotonic_time () < deadline)
      {
        GstMessage *m = gst_bus_timed_pop (bus, 50 * GST_MSECOND);
        if (!m)
          continue;
        if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING)
          {
            GError *e = NULL;
            gst_message_parse_warning (m, &e, NULL);
            fail_unless (strstr (e->message, "\"two\"") != NULL, "%s", e->message);
            g_error_free (e);
            warnings++;
          }
        gst_message_unref (m);
      }
  };
  drain (1000);
  fail_unless_equals_int (warnings, 1); /* once for the session, not per message */

  /* The first session ends; the second may now speak: a new stream. */
  a.send_text (wssac::encode_control (wssac::Action::EndSession, "one", 5, "done"));
  a.close ();
  WsTestClient c;
  fail_unless (c.connect (url, err), "%s", err.c_str ());
  c.send_text (second[0]);
  c.send_text (second[1]);
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  /* stream-start and caps are pushed one after the other by the streaming
   * thread: wait for both, or this thread can look between the two. */
  while ((stream_starts < 2 || caps_events < 2) && g_get_monotonic_time () < deadline)
    g_usleep (20000);
  fail_unless_equals_int (stream_starts, 2);
  fail_unless (caps_events >= 2, "caps not sent again for the new stream (%d)", (int) caps_events);
  drain (200);
  fail_unless_equals_int (warnings, 1);
  gst_object_unref (bus);
}
GST_END_TEST;

WSS_CHECK_MAIN (wssaudiochunksrc, "wssaudiochunksrc",
                { "general", 0,
                  WSS_TESTS (test_round_trip_pcm, test_binary_framing_round_trip,
                             test_reorder_duplicate_missing, test_bad_input_over_socket,
                             test_oversize_frame_closed_1009, test_abusive_client_closed_1008,
                             test_controls_become_messages_and_events, test_one_session_per_element,
                             test_phase2_wav, test_port_in_use_is_an_error) });
