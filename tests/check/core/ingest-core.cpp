/* Unit tests of wssac::IngestCore: the receiver's validation, speaker rule,
 * chunk ordering and abuse budget, driven with messages from the real
 * encoder plus hand-written bad JSON. No network: the core's output
 * (events, replies, closes) and its stats are checked directly. */
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>

#include "check-suite.h"
#include "enum-name.h"
#include "expect-fields.h"
#include "ingest-core.h"
#include "message-codec.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

using wssac::Action;
using wssac::AudioChunkFields;
using wssac::ConnectionId;
using wssac::IngestConfig;
using wssac::IngestCore;
using wssac::IngestEvent;
using wssac::IngestEventKind;
using wssac::IngestOutput;
using wssac::IngestStats;
using wssac::SessionStats;

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

/* A payload that names its index (and differs in length), so a mix-up
 * shows in the bytes. */
static std::vector<uint8_t>
payload (uint64_t index)
{
  std::vector<uint8_t> bytes (3 + index % 5);
  for (size_t i = 0; i < bytes.size (); i++)
    bytes[i] = static_cast<uint8_t> (index * 31 + i * 7 + 1);
  return bytes;
}

/* An audioChunk of @session carrying payload (@index), with what @more sets
 * on its fields. */
template <typename More>
static std::string
chunk_msg (const std::string &session, uint64_t index, More more)
{
  std::vector<uint8_t> bytes = payload (index);
  AudioChunkFields f;
  f.session_id = session;
  f.audio = bytes.data ();
  f.audio_size = bytes.size ();
  f.chunk_index = index;
  more (f);
  return wssac::encode_audio_chunk (f);
}

static std::string
audio_msg (const std::string &session, uint64_t index, int64_t timestamp_ms = 0,
           const std::string &format = "webm-opus")
{
  return chunk_msg (session, index, [&] (AudioChunkFields &f) {
    f.timestamp_ms = timestamp_ms;
    f.format = format;
  });
}

static const char *
kind_name (IngestEventKind k)
{
  return WSS_ENUM_NAME (k, IngestEventKind::SessionStarted, IngestEventKind::Audio,
                        IngestEventKind::Control, IngestEventKind::SessionEnded,
                        IngestEventKind::Refused);
}

/* The core plus a clock and a few shorthands; every call returns what the
 * core produced for that one input. */
/* Acks are tested on their own; elsewhere they would only add replies. */
static IngestConfig
quiet_config ()
{
  IngestConfig cfg;
  cfg.ack_every = 0;
  return cfg;
}

/* quiet_config () with @change applied. */
template <typename Change>
static IngestConfig
configured (Change change)
{
  IngestConfig cfg = quiet_config ();
  change (cfg);
  return cfg;
}

struct Rig
{
  IngestCore core;
  int64_t now = 1000;

  explicit Rig (IngestConfig config = quiet_config ()) : core (std::move (config)) {}

  void connect (ConnectionId c) { core.on_connect (c, "peer-" + std::to_string (c)); }

  IngestOutput text (ConnectionId c, const std::string &msg)
  {
    IngestOutput out;
    core.on_text (c, msg.data (), msg.size (), now, out);
    return out;
  }

  IngestOutput chunk (ConnectionId c, const std::string &session, uint64_t index,
                      const std::string &format = "webm-opus")
  {
    return text (c, audio_msg (session, index, now, format));
  }

  IngestOutput control (ConnectionId c, Action action, const std::string &session,
                        const std::string &reason = std::string ())
  {
    return text (c, wssac::encode_control (action, session, now, reason));
  }

  /* A binary frame that is not the WSAC framing. */
  IngestOutput binary (ConnectionId c, size_t length)
  {
    std::vector<uint8_t> junk (length, 0x5a);
    IngestOutput out;
    core.on_binary (c, junk.data (), junk.size (), now, out);
    return out;
  }

  IngestOutput framed (ConnectionId c, const std::string &bytes)
  {
    IngestOutput out;
    core.on_binary (c, reinterpret_cast<const uint8_t *> (bytes.data ()), bytes.size (), now, out);
    return out;
  }

  IngestOutput disconnect (ConnectionId c)
  {
    IngestOutput out;
    core.on_disconnect (c, now, out);
    return out;
  }

  IngestOutput tick (int64_t at)
  {
    now = at;
    IngestOutput out;
    core.tick (now, out);
    return out;
  }

  SessionStats session (const std::string &id)
  {
    SessionStats s;
    fail_unless (core.session_stats (id, s), "no session \"%s\"", id.c_str ());
    return s;
  }
};

/* Session @id's stats against @want ("name=value ...", expect-fields.h). */
static void
expect_session (Rig &rig, const std::string &id, const std::string &want)
{
  const SessionStats s = rig.session (id);
  wss_check::expect_fields (
      "session " + id,
      { WSS_FIELD (s, format), WSS_FIELD (s, chunks), WSS_FIELD (s, bytes),
        WSS_FIELD (s, delivered), WSS_FIELD (s, duplicates), WSS_FIELD (s, late),
        WSS_FIELD (s, gaps), WSS_FIELD (s, missing), WSS_FIELD (s, rejected),
        WSS_FIELD (s, controls), WSS_FIELD (s, takeovers), WSS_FIELD (s, stale_stream),
        WSS_FIELD (s, refused_other_principal), WSS_FIELD (s, ended),
        WSS_FIELD (s, speaker_connected), WSS_FIELD (s, first_ms), WSS_FIELD (s, last_ms) },
      want);
}

/* The core's stats against @want. */
static void
expect_ingest (Rig &rig, const std::string &want)
{
  const IngestStats s = rig.core.stats ();
  wss_check::expect_fields ("ingest",
                            { WSS_FIELD (s, connections), WSS_FIELD (s, open_connections),
                              WSS_FIELD (s, messages), WSS_FIELD (s, rejected),
                              WSS_FIELD (s, closed_for_abuse), WSS_FIELD (s, closed_for_rate) },
                            want);
}

struct ParsedReply
{
  std::string action;
  std::string code;
  std::string message;
  int64_t chunk_index = -1;
};

static ParsedReply
parse_reply (const std::string &text)
{
  ParsedReply r;
  g_autoptr (JsonParser) parser = json_parser_new ();
  fail_unless (json_parser_load_from_data (parser, text.c_str (), -1, NULL), "reply not JSON: %s",
               text.c_str ());
  JsonNode *root = json_parser_get_root (parser);
  fail_unless (root && JSON_NODE_HOLDS_OBJECT (root), "reply not an object: %s", text.c_str ());
  JsonObject *o = json_node_get_object (root);
  fail_unless (json_object_has_member (o, "action") && json_object_has_member (o, "code")
                   && json_object_has_member (o, "message"),
               "reply lacks a field: %s", text.c_str ());
  r.action = json_object_get_string_member (o, "action");
  r.code = json_object_get_string_member (o, "code");
  r.message = json_object_get_string_member (o, "message");
  if (json_object_has_member (o, "chunkIndex"))
    r.chunk_index = json_object_get_int_member (o, "chunkIndex");
  return r;
}

/* Nothing at all came out. */
static void
expect_silent (const IngestOutput &out)
{
  fail_unless_equals_int (out.events.size (), 0);
  fail_unless_equals_int (out.replies.size (), 0);
  fail_unless_equals_int (out.closes.size (), 0);
}

/* Exactly one error reply to @conn with @code (and chunkIndex, -1: none);
 * no event (but the Refused report of wrong-session and session-bound), no
 * close: the connection stays open. */
static void
expect_error (const IngestOutput &out, ConnectionId conn, const char *code, int64_t chunk_index = -1)
{
  fail_unless_equals_int (out.replies.size (), 1);
  fail_unless_equals_uint64 (out.replies[0].connection, conn);
  ParsedReply r = parse_reply (out.replies[0].text);
  fail_unless_equals_string (r.action.c_str (), "error");
  fail_unless_equals_string (r.code.c_str (), code);
  fail_if (r.message.empty (), "error reply %s has no message", code);
  fail_unless_equals_int64 (r.chunk_index, chunk_index);
  const bool reported = g_str_equal (code, "wrong-session") || g_str_equal (code, "session-bound");
  fail_unless_equals_int (out.events.size (), reported ? 1 : 0);
  if (reported)
    {
      fail_unless (out.events[0].kind == IngestEventKind::Refused);
      fail_unless_equals_string (out.events[0].reason.c_str (), code);
    }
  fail_unless_equals_int (out.closes.size (), 0);
}

static void
check_kind (const IngestEvent &ev, IngestEventKind kind, const std::string &session)
{
  fail_unless_equals_string (kind_name (ev.kind), kind_name (kind));
  fail_unless_equals_string (ev.session_id.c_str (), session.c_str ());
}

static void
check_audio (const IngestEvent &ev, const std::string &session, uint64_t index, bool discont = false,
             uint64_t skipped_before = 0)
{
  check_kind (ev, IngestEventKind::Audio, session);
  fail_unless_equals_uint64 (ev.chunk_index, index);
  fail_unless (ev.bytes == payload (index), "bytes of chunk %" G_GUINT64_FORMAT " mixed up", index);
  fail_unless_equals_int (ev.discont, discont);
  fail_unless_equals_uint64 (ev.skipped_before, skipped_before);
}

/* @out is exactly the in-order audio chunks @indices of @session, the
 * first flagged discont after @skipped_before given-up indices if > 0. */
static void
expect_audio (const IngestOutput &out, const std::string &session, const std::vector<uint64_t> &indices,
              uint64_t skipped_before = 0)
{
  fail_unless_equals_int (out.replies.size (), 0);
  fail_unless_equals_int (out.closes.size (), 0);
  fail_unless_equals_int (out.events.size (), indices.size ());
  for (size_t i = 0; i < indices.size (); i++)
    {
      bool first_after_gap = i == 0 && skipped_before > 0;
      check_audio (out.events[i], session, indices[i], first_after_gap, first_after_gap ? skipped_before : 0);
    }
}

/* The first chunk of a session: SessionStarted (with @format), then its
 * audio when @delivered. */
static void
expect_started (const IngestOutput &out, const std::string &session, const std::string &format,
                bool delivered, uint64_t index = 0)
{
  fail_unless_equals_int (out.replies.size (), 0);
  fail_unless_equals_int (out.closes.size (), 0);
  fail_unless_equals_int (out.events.size (), delivered ? 2 : 1);
  check_kind (out.events[0], IngestEventKind::SessionStarted, session);
  fail_unless_equals_string (out.events[0].format.c_str (), format.c_str ());
  if (delivered)
    check_audio (out.events[1], session, index);
}

static void
check_control (const IngestEvent &ev, const std::string &session, Action action, int64_t timestamp_ms)
{
  check_kind (ev, IngestEventKind::Control, session);
  fail_unless_equals_string (wssac::action_name (ev.action), wssac::action_name (action));
  fail_unless_equals_int64 (ev.timestamp_ms, timestamp_ms);
}

static void
check_ended (const IngestEvent &ev, const std::string &session, const std::string &reason)
{
  check_kind (ev, IngestEventKind::SessionEnded, session);
  fail_unless_equals_string (ev.reason.c_str (), reason.c_str ());
}

/* ------------------------------------------------------------------ */
/* Ordering                                                           */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_in_order_audio)
{
  Rig rig;
  rig.connect (1);

  expect_started (rig.chunk (1, "s1", 0, "ogg-opus"), "s1", "ogg-opus", true);
  size_t bytes = payload (0).size ();
  for (uint64_t i = 1; i < 6; i++)
    {
      rig.now += 20;
      IngestOutput out = rig.chunk (1, "s1", i, "ogg-opus");
      expect_audio (out, "s1", { i });
      fail_unless_equals_string (out.events[0].format.c_str (), "ogg-opus");
      bytes += payload (i).size ();
    }

  expect_session (rig, "s1",
                  std::string ("format=ogg-opus chunks=6 delivered=6 bytes=")
                      + std::to_string (bytes)
                      + " duplicates=0 rejected=0 first_ms=1000 last_ms=1100 ended=0");

  expect_ingest (rig, "connections=1 open_connections=1 messages=6 rejected=0");
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), -1);
  fail_unless (rig.core.session_ids () == std::vector<std::string> ({ "s1" }));
}
GST_END_TEST;

GST_START_TEST (test_default_format)
{
  Rig rig;
  rig.connect (1);
  /* The seed's format when a chunk names none. */
  IngestOutput out = rig.text (1, "{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"audioData\":\"AQID\","
                                  "\"chunkIndex\":0}");
  fail_unless_equals_int (out.replies.size (), 0);
  fail_unless_equals_int (out.events.size (), 2);
  check_kind (out.events[0], IngestEventKind::SessionStarted, "s");
  fail_unless_equals_string (out.events[0].format.c_str (), "webm-opus");
  check_kind (out.events[1], IngestEventKind::Audio, "s");
  fail_unless (out.events[1].bytes == std::vector<uint8_t> ({ 1, 2, 3 }));
  fail_unless_equals_string (out.events[1].format.c_str (), "webm-opus");
  /* A later chunk naming none is not a format change. */
  std::vector<uint8_t> one = payload (1);
  gchar *b64 = g_base64_encode (one.data (), one.size ());
  std::string no_format = std::string ("{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"audioData\":\"")
                          + b64 + "\",\"chunkIndex\":1}";
  g_free (b64);
  expect_audio (rig.text (1, no_format), "s", { 1 });
  expect_session (rig, "s",
                  std::string ("format=webm-opus bytes=") + std::to_string (3 + one.size ()));
}
GST_END_TEST;

GST_START_TEST (test_reorder_and_duplicates)
{
  Rig rig (configured ([] (IngestConfig &c) { c.reassembly.max_wait_ms = 1000; }));
  rig.connect (1);

  /* 2 arrives first: the session starts, the chunk waits for 0 and 1. */
  expect_started (rig.chunk (1, "s", 2), "s", "webm-opus", false);
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), 2000);
  rig.now = 1010;
  expect_audio (rig.chunk (1, "s", 0), "s", { 0 });
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), 2000);
  rig.now = 1020;
  expect_audio (rig.chunk (1, "s", 1), "s", { 1, 2 });
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), -1);

  /* Duplicates of delivered chunks: dropped, counted, no reply. */
  expect_silent (rig.chunk (1, "s", 1));
  expect_silent (rig.chunk (1, "s", 0));
  /* A duplicate of a chunk still waiting counts too. */
  expect_silent (rig.chunk (1, "s", 5));
  expect_silent (rig.chunk (1, "s", 5));

  expect_session (rig, "s", "duplicates=3 chunks=4 delivered=3 rejected=0");
  fail_unless_equals_uint64 (rig.core.stats ().rejected, 0);
}
GST_END_TEST;

GST_START_TEST (test_gap_given_up_on_tick)
{
  Rig rig (configured ([] (IngestConfig &c) { c.reassembly.max_wait_ms = 500; }));
  rig.connect (1);

  fail_unless_equals_int64 (rig.core.next_deadline_ms (), -1);
  expect_started (rig.chunk (1, "s", 0), "s", "webm-opus", true);
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), -1);

  /* 1 and 2 are lost; 3 and 4 wait. The clock starts at 3's arrival. */
  rig.now = 1100;
  expect_silent (rig.chunk (1, "s", 3));
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), 1600);
  rig.now = 1200;
  expect_silent (rig.chunk (1, "s", 4));
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), 1600);

  expect_silent (rig.tick (1599));
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), 1600);
  expect_audio (rig.tick (1600), "s", { 3, 4 }, 2);
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), -1);
  expect_silent (rig.tick (5000));

  /* The given-up index arriving afterwards is late: dropped, no reply. */
  expect_silent (rig.chunk (1, "s", 1));
  /* And the stream goes on. */
  expect_audio (rig.chunk (1, "s", 5), "s", { 5 });

  expect_session (rig, "s", "gaps=1 missing=2 late=1 duplicates=0 delivered=4");
}
GST_END_TEST;

GST_START_TEST (test_deadline_over_sessions)
{
  Rig rig (configured ([] (IngestConfig &c) { c.reassembly.max_wait_ms = 500; }));
  rig.connect (1);
  rig.connect (2);

  expect_started (rig.chunk (1, "a", 1), "a", "webm-opus", false);
  rig.now = 1200;
  expect_started (rig.chunk (2, "b", 2), "b", "webm-opus", false);
  /* The earliest of the two gaps. */
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), 1500);

  /* Only a's gap is due. */
  expect_audio (rig.tick (1500), "a", { 1 }, 1);
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), 1700);
  expect_audio (rig.tick (1700), "b", { 2 }, 2);
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), -1);

  /* A gap filled in time never fires. */
  rig.now = 2000;
  expect_silent (rig.chunk (1, "a", 3));
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), 2500);
  expect_audio (rig.chunk (1, "a", 2), "a", { 2, 3 });
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), -1);
  expect_silent (rig.tick (3000));
}
GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Bad input                                                          */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_bad_input_replies)
{
  Rig rig;
  rig.connect (1);
  expect_started (rig.chunk (1, "s", 0), "s", "webm-opus", true);

  struct Case
  {
    const char *code;
    std::string text;
  };
  const Case cases[] = {
    { "not-json", "this is not json" },
    { "not-json", "{\"action\":\"audioChunk\"," },
    { "missing-field", "{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"chunkIndex\":1}" },
    { "missing-field", "{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"audioData\":\"AQID\"}" },
    { "missing-field", "{\"sessionId\":\"s\"}" },
    { "wrong-type", "{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"audioData\":\"AQID\",\"chunkIndex\":\"1\"}" },
    { "wrong-type", "{\"action\":\"audioChunk\",\"sessionId\":7,\"audioData\":\"AQID\",\"chunkIndex\":1}" },
    { "bad-base64", "{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"audioData\":\"A!?D\",\"chunkIndex\":1}" },
    { "bad-base64", "{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"audioData\":\"AQI\",\"chunkIndex\":1}" },
    { "unknown-action", "{\"action\":\"danceBroadcast\",\"sessionId\":\"s\"}" },
    { "bad-value", "{\"action\":\"audioChunk\",\"sessionId\":\"s\",\"audioData\":\"AQID\",\"chunkIndex\":-1}" },
    { "bad-value", audio_msg ("s", 1ULL << 60) },
  };
  for (const Case &c : cases)
    {
      IngestOutput out = rig.text (1, c.text);
      expect_error (out, 1, c.code);
    }

  /* Far ahead of the expected index 1: refused, and the reply names it. */
  expect_error (rig.chunk (1, "s", 1000000), 1, "index-out-of-range", 1000000);
  /* Binary frames are not the protocol. */
  expect_error (rig.binary (1, 64), 1, "binary-not-supported");

  /* None of it closed the connection or upset the stream. */
  expect_audio (rig.chunk (1, "s", 1), "s", { 1 });
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), -1);

  const size_t bad = G_N_ELEMENTS (cases) + 2;
  IngestStats st = rig.core.stats ();
  expect_ingest (rig, std::string ("rejected=") + std::to_string (bad) + " messages="
                          + std::to_string (bad + 2) + " closed_for_abuse=0 open_connections=1");
  fail_unless_equals_uint64 (st.rejected_by_code["not-json"], 2);
  fail_unless_equals_uint64 (st.rejected_by_code["missing-field"], 3);
  fail_unless_equals_uint64 (st.rejected_by_code["wrong-type"], 2);
  fail_unless_equals_uint64 (st.rejected_by_code["bad-base64"], 2);
  fail_unless_equals_uint64 (st.rejected_by_code["unknown-action"], 1);
  fail_unless_equals_uint64 (st.rejected_by_code["bad-value"], 2);
  fail_unless_equals_uint64 (st.rejected_by_code["index-out-of-range"], 1);
  fail_unless_equals_uint64 (st.rejected_by_code["binary-not-supported"], 1);

  /* Attributed to the session this connection speaks for. */
  expect_session (rig, "s",
                  std::string ("rejected=") + std::to_string (bad) + " chunks=2 delivered=2");
}
GST_END_TEST;

GST_START_TEST (test_bad_input_before_a_session)
{
  Rig rig;
  rig.connect (1);

  /* The seed's control without sessionId on a connection that named none. */
  expect_error (rig.text (1, "{\"action\":\"pauseBroadcast\",\"timestamp\":5}"), 1, "no-session");
  expect_error (rig.text (1, "{\"action\":\"muteBroadcast\",\"sessionId\":\"\"}"), 1, "no-session");
  expect_error (rig.binary (1, 10), 1, "binary-not-supported");
  expect_error (rig.text (1, "[1,2,3]"), 1, "not-object");
  /* An empty sessionId on audio is a bad value, not a session. */
  expect_error (rig.text (1, "{\"action\":\"audioChunk\",\"sessionId\":\"\",\"audioData\":\"AQID\","
                             "\"chunkIndex\":0}"),
                1, "bad-value");

  fail_unless (rig.core.session_ids ().empty ());
  fail_unless_equals_uint64 (rig.core.stats ().rejected_by_code["no-session"], 2);

  /* The connection still may start a session. */
  expect_started (rig.chunk (1, "s", 0), "s", "webm-opus", true);
}
GST_END_TEST;

GST_START_TEST (test_unknown_connection_ignored)
{
  Rig rig;
  expect_silent (rig.chunk (9, "s", 0));
  expect_silent (rig.binary (9, 3));
  expect_silent (rig.disconnect (9));
  fail_unless (rig.core.session_ids ().empty ());
  fail_unless_equals_uint64 (rig.core.stats ().messages, 0);
  fail_unless_equals_uint64 (rig.core.stats ().open_connections, 0);
}
GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Who speaks for a session                                           */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_session_claimed_then_taken_over)
{
  Rig rig;
  rig.connect (1);
  rig.connect (2);

  expect_started (rig.chunk (1, "s", 0), "s", "webm-opus", true);
  expect_audio (rig.chunk (1, "s", 1), "s", { 1 });
  expect_audio (rig.chunk (1, "s", 2), "s", { 2 });

  /* 1 is connected and owns "s". */
  expect_error (rig.chunk (2, "s", 3), 2, "session-claimed", 3);
  expect_error (rig.control (2, Action::PauseBroadcast, "s"), 2, "session-claimed");
  expect_error (rig.control (2, Action::EndSession, "s", "hijack"), 2, "session-claimed");
  fail_if (rig.session ("s").ended);

  /* The owner goes away; the session waits for it. */
  expect_silent (rig.disconnect (1));
  fail_unless_equals_uint64 (rig.core.stats ().open_connections, 1);
  fail_if (rig.session ("s").ended);

  /* A reconnecting speaker resends what it is unsure of, then goes on. */
  rig.connect (3);
  expect_silent (rig.chunk (3, "s", 1));
  expect_silent (rig.chunk (3, "s", 2));
  expect_audio (rig.chunk (3, "s", 3), "s", { 3 });
  expect_audio (rig.chunk (3, "s", 4), "s", { 4 });

  /* Now 3 owns it, and 2 is still refused. */
  expect_error (rig.chunk (2, "s", 5), 2, "session-claimed", 5);

  SessionStats s = rig.session ("s");
  expect_session (rig, "s", "takeovers=1 duplicates=2 delivered=5 chunks=5");
  /* Refusals of a would-be speaker are not the session's. */
  fail_unless_equals_uint64 (s.rejected, 0);

  IngestStats st = rig.core.stats ();
  expect_ingest (rig, "connections=3 open_connections=2");
  fail_unless_equals_uint64 (st.rejected_by_code["session-claimed"], 4);
  fail_unless (rig.core.session_ids () == std::vector<std::string> ({ "s" }));
}
GST_END_TEST;

GST_START_TEST (test_one_session_per_connection)
{
  Rig rig;
  rig.connect (1);
  expect_started (rig.chunk (1, "A", 0), "A", "webm-opus", true);

  expect_error (rig.chunk (1, "B", 0), 1, "one-session-per-connection", 0);
  expect_error (rig.control (1, Action::MuteBroadcast, "B"), 1, "one-session-per-connection");
  expect_error (rig.control (1, Action::EndSession, "B"), 1, "one-session-per-connection");

  SessionStats unused;
  fail_if (rig.core.session_stats ("B", unused));
  fail_unless (rig.core.session_ids () == std::vector<std::string> ({ "A" }));
  /* A goes on. */
  expect_audio (rig.chunk (1, "A", 1), "A", { 1 });
  fail_unless_equals_uint64 (rig.core.stats ().rejected_by_code["one-session-per-connection"], 3);

  /* The first session a connection names is its own even when that claim
   * was refused: a receiver with several workers routes the connection by
   * it, so another session would be served where it does not live. */
  rig.connect (2);
  expect_error (rig.chunk (2, "A", 2), 2, "session-claimed", 2);
  expect_error (rig.chunk (2, "C", 0), 2, "one-session-per-connection", 0);
  fail_if (rig.core.session_stats ("C", unused));
  fail_unless_equals_uint64 (rig.core.stats ().rejected_by_code["one-session-per-connection"], 4);
}
GST_END_TEST;

/* A connection that named no session leaves the core without a trace in
 * its counts (it moves to another worker's core); one that named a
 * session stays. */
GST_START_TEST (test_hand_off)
{
  Rig rig (configured ([] (IngestConfig &c) { c.max_bad_messages = 2; }));
  rig.connect (1);
  rig.connect (2);
  rig.connect (3);
  expect_started (rig.chunk (2, "A", 0), "A", "webm-opus", true);
  expect_ingest (rig, "connections=3 open_connections=3");
  fail_unless (rig.core.hand_off (1));
  expect_ingest (rig, "connections=2 open_connections=2");
  /* What comes on it now is not this core's. */
  expect_silent (rig.chunk (1, "B", 0));
  fail_if (rig.core.hand_off (2)); /* named A: stays */
  /* Closed for abuse before it named a session: stays here, closed, so
   * that another core does not give it a fresh budget. */
  expect_error (rig.text (3, "x"), 3, "not-json");
  fail_unless_equals_int (rig.text (3, "x").closes.size (), 1);
  fail_if (rig.core.hand_off (3));
  expect_ingest (rig, "connections=2 open_connections=2");
  expect_silent (rig.chunk (3, "C", 0));
  expect_audio (rig.chunk (2, "A", 1), "A", { 1 });
}
GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Controls and the end of a session                                  */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_controls)
{
  Rig rig;
  rig.connect (1);
  expect_started (rig.chunk (1, "s", 0, "ogg-opus"), "s", "ogg-opus", true);

  const Action actions[] = { Action::PauseBroadcast, Action::ResumeBroadcast, Action::MuteBroadcast,
                             Action::UnmuteBroadcast };
  int64_t ts = 5000;
  for (Action a : actions)
    {
      /* With sessionId, as encode_control () writes it. */
      rig.now = ts;
      IngestOutput out = rig.control (1, a, "s");
      fail_unless_equals_int (out.replies.size (), 0);
      fail_unless_equals_int (out.events.size (), 1);
      check_control (out.events[0], "s", a, ts);
      fail_unless_equals_string (out.events[0].format.c_str (), "ogg-opus");

      /* The seed's variant: no sessionId, the connection's session. */
      std::string seed = std::string ("{\"action\":\"") + wssac::action_name (a) + "\",\"timestamp\":"
                         + std::to_string (ts + 1) + "}";
      out = rig.text (1, seed);
      fail_unless_equals_int (out.replies.size (), 0);
      fail_unless_equals_int (out.events.size (), 1);
      check_control (out.events[0], "s", a, ts + 1);
      ts += 10;
    }
  expect_session (rig, "s", "controls=8 chunks=1");
  fail_unless_equals_uint64 (rig.core.stats ().rejected, 0);
}
GST_END_TEST;

GST_START_TEST (test_end_session_flushes)
{
  Rig rig;
  rig.connect (1);
  expect_started (rig.chunk (1, "s", 0), "s", "webm-opus", true);
  /* 1 is missing: 2 and 3 wait. */
  expect_silent (rig.chunk (1, "s", 2));
  expect_silent (rig.chunk (1, "s", 3));
  fail_unless (rig.core.next_deadline_ms () >= 0);

  IngestOutput out = rig.control (1, Action::EndSession, "s", "user-left");
  fail_unless_equals_int (out.replies.size (), 0);
  fail_unless_equals_int (out.closes.size (), 0);
  fail_unless_equals_int (out.events.size (), 3);
  check_audio (out.events[0], "s", 2, true, 1);
  check_audio (out.events[1], "s", 3);
  check_ended (out.events[2], "s", "user-left");
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), -1);

  SessionStats s = rig.session ("s");
  expect_session (rig, "s", "ended=1 delivered=3 missing=1");

  /* Anything later for it is refused. */
  expect_error (rig.chunk (1, "s", 4), 1, "session-ended", 4);
  expect_error (rig.chunk (1, "s", 1), 1, "session-ended", 1);
  expect_error (rig.text (1, "{\"action\":\"resumeBroadcast\"}"), 1, "session-ended");
  expect_error (rig.control (1, Action::EndSession, "s", "again"), 1, "session-ended");
  fail_unless_equals_uint64 (rig.core.stats ().rejected_by_code["session-ended"], 4);
  fail_unless_equals_uint64 (rig.session ("s").rejected, 4);

  /* Also for a new connection once the speaker is gone. */
  rig.disconnect (1);
  rig.connect (2);
  expect_error (rig.chunk (2, "s", 5), 2, "session-ended", 5);
}
GST_END_TEST;

GST_START_TEST (test_end_session_default_reason)
{
  Rig rig;
  rig.connect (1);
  expect_started (rig.chunk (1, "s", 0), "s", "webm-opus", true);
  IngestOutput out = rig.text (1, "{\"action\":\"endSession\",\"sessionId\":\"s\"}");
  fail_unless_equals_int (out.events.size (), 1);
  check_ended (out.events[0], "s", "endSession");
}
GST_END_TEST;

GST_START_TEST (test_format_changed)
{
  Rig rig;
  rig.connect (1);
  expect_started (rig.chunk (1, "s", 0, "webm-opus"), "s", "webm-opus", true);
  expect_error (rig.chunk (1, "s", 1, "ogg-opus"), 1, "format-changed", 1);
  expect_audio (rig.chunk (1, "s", 1, "webm-opus"), "s", { 1 });
  fail_unless (rig.session ("s").format == "webm-opus", "format %s", rig.session ("s").format.c_str ());
}
GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Abuse budget                                                       */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_bad_message_budget)
{
  Rig rig (configured ([] (IngestConfig &c) { c.max_bad_messages = 3; }));
  rig.connect (1);
  expect_started (rig.chunk (1, "s", 0), "s", "webm-opus", true);

  expect_error (rig.text (1, "nope"), 1, "not-json");
  expect_error (rig.binary (1, 4), 1, "binary-not-supported");

  /* The third: still told why, then closed with 1008. */
  IngestOutput out = rig.text (1, "{\"action\":\"jump\"}");
  fail_unless_equals_int (out.replies.size (), 1);
  fail_unless (parse_reply (out.replies[0].text).code == "unknown-action", "reply %s", out.replies[0].text.c_str ());
  fail_unless_equals_int (out.closes.size (), 1);
  fail_unless_equals_uint64 (out.closes[0].connection, 1);
  fail_unless_equals_int (out.closes[0].code, 1008);
  fail_if (out.closes[0].reason.empty ());
  fail_unless_equals_int (out.events.size (), 0);

  /* After that, nothing more is said to it, nor is it closed twice. */
  expect_silent (rig.text (1, "still not json"));
  expect_silent (rig.binary (1, 4));
  expect_silent (rig.chunk (1, "s", 1ULL << 60));

  IngestStats st = rig.core.stats ();
  fail_unless_equals_uint64 (st.closed_for_abuse, 1);
  /* What a closed connection sends afterwards is ignored, not counted. */
  fail_unless_equals_uint64 (st.rejected, 3);
  fail_unless_equals_uint64 (rig.session ("s").rejected, 3);
}
GST_END_TEST;

GST_START_TEST (test_budget_counts_per_connection)
{
  Rig rig (configured ([] (IngestConfig &c) { c.max_bad_messages = 2; }));
  rig.connect (1);
  rig.connect (2);
  /* One bad message each: nobody reaches the budget of 2. */
  expect_error (rig.text (1, "x"), 1, "not-json");
  expect_error (rig.text (2, "x"), 2, "not-json");
  fail_unless_equals_uint64 (rig.core.stats ().closed_for_abuse, 0);
  /* The second of connection 2 closes it, and only it. */
  IngestOutput out = rig.text (2, "x");
  fail_unless_equals_int (out.closes.size (), 1);
  fail_unless_equals_uint64 (out.closes[0].connection, 2);
  fail_unless_equals_uint64 (rig.core.stats ().closed_for_abuse, 1);
}
GST_END_TEST;

GST_START_TEST (test_bad_connection_does_not_disturb_others)
{
  Rig rig (configured ([] (IngestConfig &c) { c.max_bad_messages = 3; }));
  rig.connect (1);
  rig.connect (2);

  expect_started (rig.chunk (1, "good", 0), "good", "webm-opus", true);
  expect_started (rig.chunk (2, "bad", 0), "bad", "webm-opus", true);

  /* Interleaved: 2 misbehaves until it is closed, 1 streams on. */
  const char *junk[] = { "garbage", "{\"action\":1}", "{\"action\":\"audioChunk\",\"sessionId\":\"good\"}" };
  for (uint64_t i = 0; i < G_N_ELEMENTS (junk); i++)
    {
      IngestOutput bad = rig.text (2, junk[i]);
      fail_unless_equals_int (bad.replies.size (), 1);
      fail_unless_equals_uint64 (bad.replies[0].connection, 2);
      fail_unless_equals_int (bad.events.size (), 0);
      fail_unless_equals_int (bad.closes.size (), i + 1 == G_N_ELEMENTS (junk) ? 1 : 0);
      expect_audio (rig.chunk (1, "good", i + 1), "good", { i + 1 });
    }
  /* 2, closed, is answered no more and cannot reach 1's session. */
  IngestOutput claim = rig.chunk (2, "good", 9);
  fail_unless_equals_int (claim.events.size (), 0);
  fail_unless_equals_int (claim.replies.size (), 0);
  expect_audio (rig.chunk (1, "good", 4), "good", { 4 });

  rig.disconnect (2);
  expect_audio (rig.chunk (1, "good", 5), "good", { 5 });

  expect_session (rig, "good", "rejected=0 delivered=6 duplicates=0");
  fail_unless_equals_uint64 (rig.session ("bad").rejected, 3);
  fail_unless_equals_uint64 (rig.core.stats ().closed_for_abuse, 1);
}
GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Configuration                                                      */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_only_session)
{
  Rig rig (configured ([] (IngestConfig &c) { c.only_session = "mine"; }));
  rig.connect (1);
  rig.connect (2);

  expect_error (rig.chunk (1, "theirs", 0), 1, "wrong-session", 0);
  expect_error (rig.control (1, Action::EndSession, "theirs"), 1, "wrong-session");
  fail_unless (rig.core.session_ids ().empty ());

  expect_started (rig.chunk (2, "mine", 0), "mine", "webm-opus", true);
  expect_error (rig.chunk (1, "theirs", 1), 1, "wrong-session", 1);
  fail_unless (rig.core.session_ids () == std::vector<std::string> ({ "mine" }));
  fail_unless_equals_uint64 (rig.core.stats ().rejected_by_code["wrong-session"], 3);
}
GST_END_TEST;

GST_START_TEST (test_single_session_locks)
{
  Rig rig (configured ([] (IngestConfig &c) { c.single_session = true; }));
  rig.connect (1);
  rig.connect (2);

  expect_started (rig.chunk (1, "first", 0), "first", "webm-opus", true);
  expect_error (rig.chunk (2, "second", 0), 2, "wrong-session", 0);

  /* Still locked when its speaker is gone, and after it ended. */
  rig.disconnect (1);
  expect_error (rig.chunk (2, "second", 0), 2, "wrong-session", 0);
  rig.connect (3);
  expect_audio (rig.chunk (3, "first", 1), "first", { 1 });
  expect_error (rig.chunk (2, "second", 0), 2, "wrong-session", 0);
  IngestOutput out = rig.control (3, Action::EndSession, "first", "done");
  fail_unless_equals_int (out.events.size (), 1);
  /* Once it ended, the receiver takes the next session that speaks. */
  expect_started (rig.chunk (2, "second", 0), "second", "webm-opus", true);
  expect_error (rig.chunk (3, "first", 2), 3, "wrong-session", 2);
  fail_unless_equals_string (rig.core.last_session ().c_str (), "second");
  rig.control (2, Action::EndSession, "second", "done");

  /* The ended session is gone from the live list, its figures remain. */
  fail_unless (rig.core.session_ids ().empty ());
  SessionStats ended;
  fail_unless (rig.core.session_stats ("first", ended));
  fail_unless (ended.ended);
}
GST_END_TEST;

GST_START_TEST (test_max_sessions)
{
  Rig rig (configured ([] (IngestConfig &c) { c.max_sessions = 2; }));
  for (ConnectionId c = 1; c <= 3; c++)
    rig.connect (c);

  expect_started (rig.chunk (1, "a", 0), "a", "webm-opus", true);
  expect_started (rig.chunk (2, "b", 0), "b", "webm-opus", true);
  expect_error (rig.chunk (3, "c", 0), 3, "too-many-sessions", 0);
  /* A control cannot start a session at all. */
  expect_error (rig.control (3, Action::PauseBroadcast, "c"), 3, "unknown-session");
  fail_unless_equals_int (rig.core.session_ids ().size (), 2);

  /* Existing sessions are not affected. */
  expect_audio (rig.chunk (1, "a", 1), "a", { 1 });
  expect_audio (rig.chunk (2, "b", 1), "b", { 1 });
  fail_unless_equals_uint64 (rig.core.stats ().rejected_by_code["too-many-sessions"], 1);

  /* An ended session frees its place. */
  rig.control (1, Action::EndSession, "a", "done");
  expect_started (rig.chunk (3, "c", 0), "c", "webm-opus", true);
}
GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Ending from the outside                                            */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_finish_all)
{
  Rig rig;
  for (ConnectionId c = 1; c <= 3; c++)
    rig.connect (c);

  /* a: 0 delivered, 2 waits. b: 1 waits for 0. c: all delivered. */
  expect_started (rig.chunk (1, "a", 0), "a", "webm-opus", true);
  expect_silent (rig.chunk (1, "a", 2));
  expect_started (rig.chunk (2, "b", 1), "b", "webm-opus", false);
  expect_started (rig.chunk (3, "c", 0), "c", "webm-opus", true);
  expect_audio (rig.chunk (3, "c", 1), "c", { 1 });
  fail_unless (rig.core.next_deadline_ms () >= 0);

  IngestOutput out;
  rig.core.finish_all ("shutdown", out);
  fail_unless_equals_int (out.replies.size (), 0);
  fail_unless_equals_int (out.closes.size (), 0);

  /* Per session: its pending audio, then its end. */
  std::vector<std::string> ended;
  for (size_t i = 0; i < out.events.size (); i++)
    {
      const IngestEvent &ev = out.events[i];
      if (ev.kind == IngestEventKind::SessionEnded)
        {
          check_ended (ev, ev.session_id, "shutdown");
          ended.push_back (ev.session_id);
          continue;
        }
      if (ev.session_id == "a")
        check_audio (ev, "a", 2, true, 1);
      else if (ev.session_id == "b")
        check_audio (ev, "b", 1, true, 1);
      else
        ck_abort_msg ("unexpected audio for session %s", ev.session_id.c_str ());
      /* The end comes after it. */
      fail_unless (i + 1 < out.events.size ());
      check_ended (out.events[i + 1], ev.session_id, "shutdown");
    }
  fail_unless_equals_int (out.events.size (), 5);
  std::sort (ended.begin (), ended.end ());
  fail_unless (ended == std::vector<std::string> ({ "a", "b", "c" }));
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), -1);

  for (const char *id : { "a", "b", "c" })
    fail_unless (rig.session (id).ended, "%s not ended", id);
  fail_unless_equals_uint64 (rig.session ("a").delivered, 2);
  fail_unless_equals_uint64 (rig.session ("b").delivered, 1);
  fail_unless_equals_uint64 (rig.session ("b").missing, 1);

  /* Ending twice says nothing more. */
  IngestOutput again;
  rig.core.finish_all ("shutdown", again);
  expect_silent (again);
  expect_error (rig.chunk (1, "a", 3), 1, "session-ended", 3);
}
GST_END_TEST;

GST_START_TEST (test_finish_session)
{
  Rig rig;
  rig.connect (1);
  rig.connect (2);
  expect_started (rig.chunk (1, "a", 1), "a", "webm-opus", false);
  expect_started (rig.chunk (2, "b", 0), "b", "webm-opus", true);

  IngestOutput out;
  rig.core.finish_session ("nobody", "idle", out);
  expect_silent (out);

  rig.core.finish_session ("a", "idle", out);
  fail_unless_equals_int (out.events.size (), 2);
  check_audio (out.events[0], "a", 1, true, 1);
  check_ended (out.events[1], "a", "idle");
  fail_if (rig.session ("b").ended);
  expect_audio (rig.chunk (2, "b", 1), "b", { 1 });
}
GST_END_TEST;

/* ------------------------------------------------------------------ */

GST_START_TEST (test_error_reply_json)
{
  ParsedReply r = parse_reply (IngestCore::error_reply ("bad-value", "quote \" and \\ fine", 7));
  fail_unless_equals_string (r.action.c_str (), "error");
  fail_unless_equals_string (r.code.c_str (), "bad-value");
  fail_unless_equals_string (r.message.c_str (), "quote \" and \\ fine");
  fail_unless_equals_int64 (r.chunk_index, 7);
  r = parse_reply (IngestCore::error_reply ("not-json", "x"));
  fail_unless_equals_int64 (r.chunk_index, -1);
}
GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Acks, mid-stream joins, refused messages leave no trace             */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_binary_framing)
{
  Rig rig;
  rig.connect (1);
  std::vector<uint8_t> p0 = payload (0), p1 = payload (1);
  wssac::AudioChunkFields f;
  f.session_id = "bin";
  f.audio = p0.data ();
  f.audio_size = p0.size ();
  f.chunk_index = 0;
  IngestOutput out = rig.framed (1, wssac::encode_binary_audio_chunk (f));
  fail_unless_equals_int (out.events.size (), 2);
  fail_unless (out.events[1].bytes == p0);
  /* Binary and text messages mix on one connection. */
  expect_audio (rig.chunk (1, "bin", 1), "bin", { 1 });
  /* A re-sent stream header travels in the payload, ahead of the audio. */
  const std::vector<uint8_t> header = { 0x1a, 0x45, 0xdf, 0xa3 };
  rig.connect (2);
  f.session_id = "late";
  f.chunk_index = 7;
  f.audio = p1.data ();
  f.audio_size = p1.size ();
  f.stream_header = header.data ();
  f.stream_header_size = header.size ();
  out = rig.framed (2, wssac::encode_binary_audio_chunk (f));
  fail_unless_equals_int (out.events.size (), 2);
  std::vector<uint8_t> expected = header;
  expected.insert (expected.end (), p1.begin (), p1.end ());
  fail_unless (out.events[1].bytes == expected);
  /* A framed message with a broken header is refused like bad JSON. */
  std::string broken = wssac::encode_binary_audio_chunk (f);
  broken[6] = '#'; /* the header's opening brace */
  expect_error (rig.framed (2, broken), 2, "not-json");
}
GST_END_TEST;

GST_START_TEST (test_acks_are_cumulative)
{
  Rig rig (configured ([] (IngestConfig &c) { c.ack_every = 2; }));
  rig.connect (1);
  fail_unless_equals_int (rig.chunk (1, "s", 0).replies.size (), 0);
  IngestOutput out = rig.chunk (1, "s", 1);
  fail_unless_equals_int (out.replies.size (), 1);
  wssac::Reply r = wssac::decode_reply (out.replies[0].text.data (), out.replies[0].text.size ());
  fail_unless (r.kind == wssac::Reply::Ack);
  fail_unless_equals_uint64 (r.chunk_index, 1);
  /* Waiting chunks are not acknowledged until delivered. */
  fail_unless_equals_int (rig.chunk (1, "s", 3).replies.size (), 0);
  out = rig.chunk (1, "s", 2);
  fail_unless_equals_int (out.replies.size (), 1);
  r = wssac::decode_reply (out.replies[0].text.data (), out.replies[0].text.size ());
  fail_unless_equals_uint64 (r.chunk_index, 3);
  /* A replayed duplicate is answered at once, so the sender stops replaying. */
  out = rig.chunk (1, "s", 1);
  fail_unless_equals_int (out.replies.size (), 1);
  r = wssac::decode_reply (out.replies[0].text.data (), out.replies[0].text.size ());
  fail_unless (r.kind == wssac::Reply::Ack);
  fail_unless_equals_uint64 (r.chunk_index, 3);
}
GST_END_TEST;

GST_START_TEST (test_acks_within_the_delay)
{
  /* Fewer than ack_every chunks (a pause, the end, a small window) are
   * acked ack_delay_ms after the first of them was delivered. */
  Rig rig (configured ([] (IngestConfig &c) {
    c.ack_every = 4;
    c.ack_delay_ms = 1000;
  }));
  rig.connect (1);
  const int64_t t0 = rig.now;
  fail_unless_equals_int (rig.chunk (1, "s", 0).replies.size (), 0);
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), t0 + 1000);
  rig.now += 500;
  fail_unless_equals_int (rig.chunk (1, "s", 1).replies.size (), 0);
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), t0 + 1000); /* from the first */
  IngestOutput out;
  rig.core.tick (t0 + 999, out);
  fail_unless_equals_int (out.replies.size (), 0);
  rig.core.tick (t0 + 1000, out);
  fail_unless_equals_int (out.replies.size (), 1);
  wssac::Reply r = wssac::decode_reply (out.replies[0].text.data (), out.replies[0].text.size ());
  fail_unless (r.kind == wssac::Reply::Ack);
  fail_unless_equals_uint64 (r.chunk_index, 1);
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), -1);
  /* Four in a row are acked at the fourth; the timer then has nothing to do. */
  /* Due times fall on a 100 ms grid, within the delay (fewer wake-ups). */
  rig.now = t0 + 2050;
  for (uint64_t i = 2; i <= 4; i++)
    fail_unless_equals_int (rig.chunk (1, "s", i).replies.size (), 0);
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), t0 + 3000);
  fail_unless_equals_int (rig.chunk (1, "s", 5).replies.size (), 1);
  out = IngestOutput ();
  rig.core.tick (t0 + 5000, out);
  fail_unless_equals_int (out.replies.size (), 0);
  /* A session that ends with an ack pending leaves nothing behind. */
  rig.chunk (1, "s", 6);
  fail_unless (rig.core.next_deadline_ms () >= 0);
  rig.control (1, Action::EndSession, "s");
  fail_unless_equals_int64 (rig.core.next_deadline_ms (), -1);
  out = IngestOutput ();
  rig.core.tick (t0 + 100000, out);
  fail_unless_equals_int (out.replies.size (), 0);
}
GST_END_TEST;

/* Sessions "one" (connection 1, on @a) and "two" (2, on @b) start and
 * "three" (3, on @b) is refused: the text of that refusal. */
static std::string
two_start_then_third_refused (Rig &a, Rig &b)
{
  fail_unless_equals_int (a.chunk (1, "one", 0).replies.size (), 0);
  fail_unless_equals_int (b.chunk (2, "two", 0).replies.size (), 0);
  IngestOutput out = b.chunk (3, "three", 0);
  fail_unless_equals_int (out.replies.size (), 1);
  return out.replies[0].text;
}

/* One limiter for several cores (the shards of a receiver with several
 * workers): an address's session starts are counted once. */
GST_START_TEST (test_session_starts_shared_by_cores)
{
  auto limiter = std::make_shared<wssac::SessionStartLimiter> (1.0, 2);
  IngestConfig cfg = quiet_config ();
  cfg.start_limiter = limiter;
  Rig a (cfg), b (cfg);
  a.core.on_connect (1, "10.0.0.1:4001"); /* one address, three ports */
  b.core.on_connect (2, "10.0.0.1:4002");
  b.core.on_connect (3, "10.0.0.1:4003");
  const std::string refusal = two_start_then_third_refused (a, b);
  fail_unless (refusal.find ("too-many-new-sessions") != std::string::npos, "%s", refusal.c_str ());
  fail_unless (refusal.find ("faster than 1 per second") != std::string::npos, "%s", refusal.c_str ());
  /* A second later the bucket holds one token again. */
  b.now += 1000;
  fail_unless_equals_int (b.chunk (3, "three", 0).replies.size (), 0);
}
GST_END_TEST;

/* One count of live sessions for several cores: the limit holds for all,
 * and a session that ends makes room in any of them. */
GST_START_TEST (test_live_sessions_shared_by_cores)
{
  IngestConfig cfg = quiet_config ();
  cfg.max_sessions = 2;
  cfg.live_sessions = std::make_shared<std::atomic<size_t>> (0);
  {
    Rig a (cfg), b (cfg);
    a.connect (1);
    b.connect (2);
    b.connect (3);
    const std::string refusal = two_start_then_third_refused (a, b);
    fail_unless (refusal.find ("too-many-sessions") != std::string::npos, "%s", refusal.c_str ());
    a.control (1, Action::EndSession, "one");
    fail_unless_equals_uint64 (cfg.live_sessions->load (), 1);
    fail_unless_equals_int (b.chunk (3, "three", 0).replies.size (), 0);
    fail_unless_equals_uint64 (cfg.live_sessions->load (), 2);
  }
  /* A core that goes takes its live sessions out of the count. */
  fail_unless_equals_uint64 (cfg.live_sessions->load (), 0);
}
GST_END_TEST;

static std::string
audio_with_header (const std::string &session, uint64_t index, const std::vector<uint8_t> &header)
{
  std::vector<uint8_t> data = payload (index);
  wssac::AudioChunkFields f;
  f.session_id = session;
  f.audio = data.data ();
  f.audio_size = data.size ();
  f.chunk_index = index;
  f.stream_header = header.data ();
  f.stream_header_size = header.size ();
  return wssac::encode_audio_chunk (f);
}

GST_START_TEST (test_mid_stream_join_with_header)
{
  /* A receiver that lost its state sees chunk 40 first, carrying the
   * stream header: output starts there, header first, with no gap. */
  Rig rig;
  rig.connect (1);
  const std::vector<uint8_t> header = { 0x1a, 0x45, 0xdf, 0xa3 };
  IngestOutput out = rig.text (1, audio_with_header ("s", 40, header));
  fail_unless_equals_int (out.events.size (), 2);
  check_kind (out.events[0], IngestEventKind::SessionStarted, "s");
  check_kind (out.events[1], IngestEventKind::Audio, "s");
  std::vector<uint8_t> expected = header;
  std::vector<uint8_t> p40 = payload (40);
  expected.insert (expected.end (), p40.begin (), p40.end ());
  fail_unless (out.events[1].bytes == expected);
  fail_if (out.events[1].discont);
  expect_audio (rig.chunk (1, "s", 41), "s", { 41 });
  /* The header on later chunks of a known session is ignored. */
  out = rig.text (1, audio_with_header ("s", 42, header));
  fail_unless_equals_int (out.events.size (), 1);
  fail_unless (out.events[0].bytes == payload (42));
  expect_session (rig, "s", "gaps=0 missing=0");
}
GST_END_TEST;

GST_START_TEST (test_refused_message_claims_nothing)
{
  Rig rig (configured ([] (IngestConfig &c) { c.single_session = true; }));
  rig.connect (1);
  rig.connect (2);
  /* Out of range as a first chunk: refused, and the receiver is not locked. */
  expect_error (rig.chunk (1, "junk", 1ULL << 40), 1, "index-out-of-range", (int64_t) (1ULL << 40));
  fail_unless (rig.core.session_ids ().empty ());
  expect_started (rig.chunk (2, "real", 0), "real", "webm-opus", true);
  /* After the owner leaves, a wrong-format chunk does not take it over. */
  rig.disconnect (2);
  rig.connect (3);
  expect_error (rig.chunk (3, "real", 1, "ogg-opus"), 3, "format-changed", 1);
  fail_unless_equals_uint64 (rig.session ("real").takeovers, 0);
  rig.connect (4);
  expect_audio (rig.chunk (4, "real", 1), "real", { 1 });
  fail_unless_equals_uint64 (rig.session ("real").takeovers, 1);
}
GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Runs of one session (streamId)                                      */
/* ------------------------------------------------------------------ */

static std::string
run_msg (const std::string &session, uint64_t index, const std::string &stream_id,
         const std::vector<uint8_t> &header = {})
{
  return chunk_msg (session, index, [&] (AudioChunkFields &f) {
    f.stream_id = stream_id;
    f.stream_header = header.empty () ? nullptr : header.data ();
    f.stream_header_size = header.size ();
  });
}

static std::vector<const IngestEvent *>
audio_events (const IngestOutput &out)
{
  std::vector<const IngestEvent *> v;
  for (const auto &e : out.events)
    if (e.kind == IngestEventKind::Audio)
      v.push_back (&e);
  return v;
}

GST_START_TEST (test_second_run_is_a_continuation)
{
  Rig rig (configured ([] (IngestConfig &c) { c.ack_every = 1; }));
  const std::string a (32, 'a'), b (32, 'b');
  rig.connect (1);
  for (uint64_t i = 0; i < 3; i++)
    fail_unless_equals_int (audio_events (rig.text (1, run_msg ("s", i, a))).size (), 1);
  rig.disconnect (1);

  /* The same session id, run again: its indices restart at 0. Delivered,
   * not dropped as duplicates, and flagged as a new stream. */
  rig.connect (2);
  IngestOutput out = rig.text (2, run_msg ("s", 0, b));
  auto ev = audio_events (out);
  fail_unless_equals_int (ev.size (), 1);
  fail_unless (ev[0]->new_stream);
  fail_unless_equals_string (ev[0]->stream_id.c_str (), b.c_str ());
  fail_unless (ev[0]->bytes == payload (0));
  /* The ack names the run it counts in. */
  fail_unless_equals_int (out.replies.size (), 1);
  fail_unless (out.replies[0].text.find ("\"streamId\":\"" + b + "\"") != std::string::npos, "%s",
               out.replies[0].text.c_str ());
  IngestOutput next = rig.text (2, run_msg ("s", 1, b)); /* the events point into it */
  ev = audio_events (next);
  fail_unless_equals_int (ev.size (), 1);
  fail_if (ev[0]->new_stream);
  /* A replay of the first run arriving late is dropped and counted. */
  fail_unless (audio_events (rig.text (2, run_msg ("s", 3, a))).empty ());
  /* A duplicate within the current run stays a duplicate. */
  fail_unless (audio_events (rig.text (2, run_msg ("s", 1, b))).empty ());

  SessionStats st = rig.session ("s");
  expect_session (rig, "s", "delivered=5 stale_stream=1 duplicates=1");
  fail_unless_equals_int (st.streams.size (), 2);
  fail_unless_equals_string (st.streams[0].c_str (), a.c_str ());
  fail_unless_equals_string (st.streams[1].c_str (), b.c_str ());
  fail_unless_equals_int (rig.core.session_ids ().size (), 1);
}
GST_END_TEST;

GST_START_TEST (test_new_run_flushes_the_old_one)
{
  Rig rig;
  const std::string a (32, 'a'), b (32, 'c');
  rig.connect (1);
  rig.text (1, run_msg ("s", 0, a));
  /* 1 is missing: 2 waits. */
  fail_unless (audio_events (rig.text (1, run_msg ("s", 2, a))).empty ());
  rig.disconnect (1);
  rig.connect (2);
  /* The new run starts mid-stream with its header: the old run's pending
   * chunk comes first (gap given up), then the header and the new chunk. */
  std::vector<uint8_t> header = { 0x1a, 0x45, 0xdf, 0xa3 };
  auto out = rig.text (2, run_msg ("s", 5, b, header));
  auto ev = audio_events (out);
  fail_unless_equals_int (ev.size (), 2);
  fail_unless_equals_uint64 (ev[0]->chunk_index, 2);
  fail_unless (ev[0]->discont);
  fail_unless_equals_string (ev[0]->stream_id.c_str (), a.c_str ());
  fail_unless_equals_uint64 (ev[1]->chunk_index, 5);
  fail_unless (ev[1]->new_stream);
  fail_unless_equals_int (ev[1]->header_size, header.size ());
  fail_unless (std::equal (header.begin (), header.end (), ev[1]->bytes.begin ()));
  expect_session (rig, "s", "gaps=1 missing=1");
}
GST_END_TEST;

GST_START_TEST (test_same_run_moves_to_a_new_connection)
{
  /* Make-before-break: the sender opens a new connection before a gateway
   * cuts the old one and sends its own run there. The new connection takes
   * the session over (acks go to it); the old one may still deliver what
   * it had in flight; anyone else is still refused. */
  Rig rig (configured ([] (IngestConfig &c) { c.ack_every = 1; }));
  const std::string a (32, 'a'), b (32, 'b');
  rig.connect (1);
  rig.connect (2);
  rig.connect (3);
  fail_unless_equals_int (audio_events (rig.text (1, run_msg ("s", 0, a))).size (), 1);
  /* Chunk 2 on the new connection overtakes chunk 1 on the old one. */
  IngestOutput out = rig.text (2, run_msg ("s", 2, a));
  fail_unless (audio_events (out).empty ());
  out = rig.text (1, run_msg ("s", 1, a));
  auto ev = audio_events (out);
  fail_unless_equals_int (ev.size (), 2);
  fail_unless_equals_uint64 (ev[1]->chunk_index, 2);
  fail_unless_equals_int (out.replies.size (), 1);
  fail_unless_equals_int (out.replies[0].connection, 2);
  /* Another run, or a sender that names none, is not the owner's. */
  expect_error (rig.chunk (3, "s", 3), 3, "session-claimed", 3);
  expect_error (rig.text (3, run_msg ("s", 3, b)), 3, "session-claimed", 3);
  /* The old connection closes; the new one keeps the session. */
  rig.disconnect (1);
  fail_unless_equals_int (audio_events (rig.text (2, run_msg ("s", 3, a))).size (), 1);
  expect_error (rig.chunk (3, "s", 4), 3, "session-claimed", 4);
  expect_session (rig, "s", "delivered=4 takeovers=1 duplicates=0");
}
GST_END_TEST;

GST_START_TEST (test_run_without_stream_id_is_one_run)
{
  /* Senders that name no run (the browser speaker app) keep today's rule:
   * index 0 again is a duplicate. */
  Rig rig;
  rig.connect (1);
  rig.chunk (1, "s", 0);
  rig.disconnect (1);
  rig.connect (2);
  fail_unless (audio_events (rig.chunk (2, "s", 0)).empty ());
  fail_unless_equals_uint64 (rig.session ("s").duplicates, 1);
  /* An ended session is not continued by a new run. */
  rig.control (2, Action::EndSession, "s");
  rig.connect (3);
  expect_error (rig.text (3, run_msg ("s", 0, std::string (32, 'd'))), 3, "session-ended", 0);
}
GST_END_TEST;

GST_START_TEST (test_invalid_session_id_refused)
{
  Rig rig;
  rig.connect (1);
  rig.chunk (1, "a", 0);
  rig.connect (2);
  /* "a\u0000b" must not alias session "a". */
  expect_error (rig.text (2, "{\"action\":\"audioChunk\",\"sessionId\":\"a\\u0000b\",\"audioData\":\"AQID\","
                             "\"chunkIndex\":1}"),
                2, "invalid-session-id");
  expect_error (rig.text (2, "{\"action\":\"audioChunk\",\"sessionId\":\"a\\nb\",\"audioData\":\"AQID\","
                             "\"chunkIndex\":1}"),
                2, "invalid-session-id");
  fail_unless_equals_uint64 (rig.session ("a").delivered, 1);
  fail_unless_equals_int (rig.core.session_ids ().size (), 1);
}
GST_END_TEST;

/* The core remembers, per connection, the session it speaks for (saving a
 * lookup per message). That memory must follow both lifetimes: a
 * connection that went away, a session that ended, and one that started
 * again under the same id once its end was forgotten. */
GST_START_TEST (test_session_memory_follows_lifetimes)
{
  Rig rig (configured ([] (IngestConfig &c) { c.max_new_sessions_per_second = 0; }));
  rig.connect (1);
  rig.connect (2);
  expect_started (rig.chunk (1, "s", 0), "s", "webm-opus", true);
  expect_audio (rig.chunk (1, "s", 1), "s", { 1 });
  expect_silent (rig.disconnect (1));
  expect_audio (rig.chunk (2, "s", 2), "s", { 2 });
  IngestOutput out;
  rig.core.finish_session ("s", "idle", out);
  fail_unless_equals_int (out.events.size (), 1);
  check_ended (out.events[0], "s", "idle");
  expect_error (rig.chunk (2, "s", 3), 2, "session-ended", 3);

  /* Enough other sessions end for "s"'s end to be forgotten; then the same
   * connection starts it afresh, and that new session is the one fed. */
  for (ConnectionId id = 10; id < 10 + 4096; id++)
    {
      const std::string sid = "other-" + std::to_string (id);
      rig.connect (id);
      expect_started (rig.chunk (id, sid, 0), sid, "webm-opus", true);
      rig.core.finish_session (sid, "done", out);
    }
  SessionStats gone;
  fail_if (rig.core.session_stats ("s", gone));
  expect_started (rig.chunk (2, "s", 0), "s", "webm-opus", true);
  expect_audio (rig.chunk (2, "s", 1), "s", { 1 });
  expect_session (rig, "s", "delivered=2 chunks=2 takeovers=0");
  rig.core.finish_session ("s", "idle", out);
  expect_error (rig.chunk (2, "s", 2), 2, "session-ended", 2);
}
GST_END_TEST;

WSS_CHECK_MAIN (
    ingest_core, "core-ingest-core",
    { "ordering", 0,
      WSS_TESTS (test_in_order_audio, test_default_format, test_reorder_and_duplicates,
                 test_gap_given_up_on_tick, test_deadline_over_sessions) },
    { "bad-input", 0,
      WSS_TESTS (test_bad_input_replies, test_bad_input_before_a_session,
                 test_unknown_connection_ignored, test_bad_message_budget,
                 test_budget_counts_per_connection, test_bad_connection_does_not_disturb_others,
                 test_error_reply_json) },
    { "acks-and-joins", 0,
      WSS_TESTS (test_acks_are_cumulative, test_acks_within_the_delay, test_binary_framing,
                 test_mid_stream_join_with_header, test_refused_message_claims_nothing) },
    { "speaker", 0,
      WSS_TESTS (test_session_claimed_then_taken_over, test_one_session_per_connection, test_hand_off) },
    { "control", 0,
      WSS_TESTS (test_controls, test_end_session_flushes, test_end_session_default_reason,
                 test_format_changed, test_finish_all, test_finish_session,
                 test_session_memory_follows_lifetimes) },
    { "config", 0,
      WSS_TESTS (test_only_session, test_single_session_locks, test_max_sessions,
                 test_session_starts_shared_by_cores, test_live_sessions_shared_by_cores) },
    { "runs", 0,
      WSS_TESTS (test_second_run_is_a_continuation, test_new_run_flushes_the_old_one,
                 test_run_without_stream_id_is_one_run, test_same_run_moves_to_a_new_connection,
                 test_invalid_session_id_refused) });
