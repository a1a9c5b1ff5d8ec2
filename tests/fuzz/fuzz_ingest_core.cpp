/* libFuzzer target: the receiver's logic (gst-libs/wssaudiochunk/protocol/ingest-core.cpp)
 * driven by a script of operations on one IngestCore, the way the ingest
 * server and wssaudiochunksrc drive it from their sockets and timers.
 *
 * Input format (read with fuzz::Reader; zeros past the end):
 *   4 config bytes (all zero: IngestConfig's defaults, but for the start
 *   time), see read_config ();
 *   then operations until the input ends, op = byte % 9:
 *     0 CONNECT     conn           (conn = byte % 4 + 1; skipped if open)
 *     1 DISCONNECT  conn
 *     2 TEXT_RAW    conn, u16 len, len bytes      (a message as it came)
 *     3 TEXT        conn, kind, session, ...      (a message made with
 *                   encode_audio_chunk/encode_control, then optionally
 *                   mutated: see template_message ())
 *     4 BINARY      conn, kind % 3: 0 an audioChunk in the binary framing
 *                   (encode_binary_audio_chunk, as TEXT, then maybe
 *                   mutated), 1 u16 len + len bytes as they came, 2 a
 *                   WSAC-framed frame of u16 * 4 zero bytes (size limits)
 *     5 TICK        u16 ms to advance, then tick ()
 *     6 ADVANCE     u16 ms
 *     7 FINISH      session
 *     8 FINISH_ALL
 *     9 HAND_OFF    conn: hand_off () (a worker moving it to another core)
 * then finish_all () and every connection closed.
 *
 * A model kept beside the core checks, after every operation:
 *   - per session: SessionStarted once, then Audio with strictly increasing
 *     chunk indices (consecutive unless discont, and skipped_before equal to
 *     the hole), no event at all after SessionEnded, never restarted once
 *     ended; every delivered payload is one that was sent for that index
 *     (after the re-sent stream header on a mid-stream join);
 *   - SessionEnded's and session_stats ()'s figures match what was delivered;
 *   - IngestStats: open_connections, connections, messages match the
 *     calls, rejected equals the sum of rejected_by_code;
 *   - replies go to open connections and parse as ack or error; acks of a
 *     session never go backwards and never pass what was delivered;
 *   - a connection closed by the core gets no further reply;
 *   - session_ids () is the set of started, not ended sessions, within
 *     max_sessions (one at a time with single_session, only only_session);
 *   - after tick (now), nothing is overdue; after finish_all, nothing is
 *     left;
 *   - hand_off () either does nothing or forgets one open connection (both
 *     connection counts one lower) and touches no session; the core then
 *     ignores what comes on it.
 * Seeds: tests/fuzz/corpus/fuzz_ingest_core (gen-corpus.cpp, record-corpus.py). */
#include "fuzz-util.h"

#include "enum-names.h"
#include "ingest-core.h"
#include "message-codec.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace wssac;

namespace
{

const char *const kSessions[] = { "s1", "s2", "s3" };

/* FUZZ_TRACE=1 build-fuzz/tests/fuzz/fuzz_ingest_core FILE: what a script does. */
const bool kTrace = std::getenv ("FUZZ_TRACE") != nullptr;

void
trace_output (const IngestOutput &out)
{
  if (!kTrace)
    return;
  static const char *const kinds[] = { "started", "audio", "control", "ended", "refused" };
  WSSAC_NAMES_COVER (kinds, IngestEventKind::Refused);
  for (const IngestEvent &ev : out.events)
    std::fprintf (stderr, "    event %s %s index=%" PRIu64 " discont=%d skipped=%" PRIu64 " bytes=%zu %s\n",
                  kinds[static_cast<int> (ev.kind)], ev.session_id.c_str (), ev.chunk_index, ev.discont,
                  ev.skipped_before, ev.bytes.size (), ev.reason.c_str ());
  for (const IngestReply &r : out.replies)
    std::fprintf (stderr, "    reply to %" PRIu64 ": %.160s\n", r.connection, r.text.c_str ());
  for (const IngestClose &c : out.closes)
    std::fprintf (stderr, "    close %" PRIu64 ": %u %s\n", c.connection, c.code, c.reason.c_str ());
}
constexpr size_t kMaxEndedSessions = 4096; /* IngestCore's memory of ended sessions */

/* Tokens spliced into template messages to reach the decoder's corners. */
const char *const kTokens[] = {
  "\"", "\\", "{", "}", ",", ":", "[]", "null", "true", "-1", "0", "1.5", "1e400", "9007199254740993",
  "-9223372036854775809", "\"chunkIndex\"", "\"audioChunk\"", "\"endSession\"", "\"sessionId\"",
  "\"originalSize\"", "\"streamHeader\"", "\"format\"", "\\u0000", "====", "A", "\"\"", "\"s2\"",
};

IngestConfig
read_config (fuzz::Reader &in, int64_t &now)
{
  IngestConfig c;
  uint8_t b0 = in.u8 (), b1 = in.u8 (), b2 = in.u8 (), b3 = in.u8 ();
  c.single_session = b0 & 1;
  if (b0 & 2)
    c.only_session = "s1";
  static const uint32_t ack_every[] = { 4, 1, 0, 2 };
  c.ack_every = ack_every[(b0 >> 2) & 3];
  static const uint32_t max_bad[] = { 20, 3, 0, 1 };
  c.max_bad_messages = max_bad[(b0 >> 4) & 3];
  static const size_t max_sessions[] = { 10000, 1, 2, 3 };
  c.max_sessions = max_sessions[(b0 >> 6) & 3];

  static const uint32_t pending[] = { 16, 0, 1, 2, 3, 4, 8, 32 };
  c.reassembly.max_pending_chunks = pending[b1 & 7];
  static const int64_t wait[] = { 1000, 0, 50, 250, -5, int64_t (1) << 62, 1000, 1000 };
  c.reassembly.max_wait_ms = wait[(b1 >> 3) & 7];
  static const uint64_t jump[] = { 100000, 3, 16, 0 };
  c.reassembly.max_index_jump = jump[(b1 >> 6) & 3];

  static const size_t msg_size[] = { 128 * 1024, 300, 2048, 0 };
  c.max_message_size = msg_size[b2 & 3];
  static const size_t audio_bytes[] = { 96 * 1024, 16, 64, 1 };
  c.limits.max_audio_bytes = audio_bytes[(b2 >> 2) & 3];
  static const uint64_t first[] = { 0, 1, 5, (uint64_t (1) << 53) - 2 };
  c.reassembly.first_index = first[(b2 >> 4) & 3];
  if (b2 & 0x40)
    c.limits.max_chunk_index = 100;
  c.accept_binary = !(b2 & 0x80);

  static const double rate[] = { 50, 0, 1, 5 };
  c.max_messages_per_second = rate[(b3 >> 6) & 3];
  now = 1000000 + int64_t (b3 & 0x3f) * 1000;
  return c;
}

struct SessionModel
{
  bool active = false;
  bool ended = false;
  bool have_last = false;
  uint64_t last = 0;
  uint64_t delivered = 0;
  uint64_t bytes = 0;
  bool have_ack = false;
  uint64_t last_ack = 0;
  std::string ack_run; /* the streamId of the acks so far */
  uint64_t cursor = 0; /* the template's next index */
  /* The last delivery of each run, by streamId: an ack names its run, and
   * the flush of a run when the next one starts acks it after the next
   * run's first delivery is out. */
  std::map<std::string, uint64_t> last_of_run;
};

struct Model
{
  IngestConfig config;
  std::set<ConnectionId> open;
  std::set<ConnectionId> closed_by_core;
  uint64_t closed_ever = 0; /* closes announced for connections since reconnected */
  uint64_t connects = 0;
  uint64_t messages = 0;
  size_t ended_sessions = 0;
  std::map<std::string, SessionModel> sessions;
  /* Every audio payload a decodable audioChunk carried, by (session, index). */
  std::map<std::pair<std::string, uint64_t>, std::vector<std::vector<uint8_t>>> sent;
};

bool
ends_with (const std::vector<uint8_t> &all, const std::vector<uint8_t> &tail)
{
  return all.size () >= tail.size () && std::equal (tail.begin (), tail.end (), all.end () - tail.size ());
}

/* Reads sessionId out of an ack reply (decode_reply does not return it). */
std::string
ack_member (const std::string &text, const char *member)
{
  g_autoptr (JsonParser) p = json_parser_new_immutable ();
  FUZZ_CHECK (json_parser_load_from_data (p, text.data (), static_cast<gssize> (text.size ()), nullptr),
              "reply is not JSON: %s", text.c_str ());
  JsonObject *o = json_node_get_object (json_parser_get_root (p));
  const char *s = json_object_get_string_member_with_default (o, member, "");
  return s;
}

/* A binary frame's JSON header, if it has the framing. */
bool
binary_header (const std::string &frame, const char *&header, size_t &len)
{
  if (frame.size () < 6 || std::memcmp (frame.data (), kBinaryMagic, 4) != 0)
    return false;
  len = (static_cast<size_t> (static_cast<uint8_t> (frame[4])) << 8) | static_cast<uint8_t> (frame[5]);
  if (6 + len > frame.size ())
    return false;
  header = frame.data () + 6;
  return true;
}

/* json-glib's own bugs (fuzz-util.h): such frames are left out with
 * FUZZ_LENIENT. */
bool
known_issue (const std::string &frame, bool binary)
{
  if (fuzz::strict ())
    return false;
  const char *header;
  size_t len;
  if (binary)
    return binary_header (frame, header, len) && fuzz::json_known_issue (header, len) != fuzz::KnownIssue::None;
  return fuzz::json_known_issue (frame.data (), frame.size ()) != fuzz::KnownIssue::None;
}

void
note_sent (Model &m, const char *text, size_t len, bool binary)
{
  DecodeResult r = binary ? decode_binary_message (reinterpret_cast<const uint8_t *> (text), len, m.config.limits)
                          : decode_message (text, len, m.config.limits);
  if (r.ok () && r.message.action == Action::AudioChunk)
    {
      auto &v = m.sent[{ r.message.session_id, r.message.chunk_index }];
      if (std::find (v.begin (), v.end (), r.message.audio) == v.end ())
        v.push_back (r.message.audio);
    }
}

void
check_output (Model &m, const IngestOutput &out, int64_t now)
{
  trace_output (out);
  const bool may_forget = m.ended_sessions >= kMaxEndedSessions;
  for (const IngestEvent &ev : out.events)
    {
      FUZZ_CHECK (!ev.session_id.empty (), "event without a session");
      SessionModel &s = m.sessions[ev.session_id];
      const char *sid = ev.session_id.c_str ();
      switch (ev.kind)
        {
        case IngestEventKind::SessionStarted:
          FUZZ_CHECK (!s.active, "session %s started twice", sid);
          FUZZ_CHECK (!s.ended || may_forget, "session %s restarted after it ended", sid);
          FUZZ_CHECK (!ev.format.empty (), "session %s started without a format", sid);
          s = SessionModel{ true, false, false, 0, 0, 0, false, 0, "", s.cursor };
          break;
        case IngestEventKind::Audio:
          {
            FUZZ_CHECK (s.active, "audio for session %s, which is not running (ended: %d)", sid, s.ended);
            FUZZ_CHECK (!ev.bytes.empty (), "empty audio delivered for %s", sid);
            FUZZ_CHECK (ev.header_size < ev.bytes.size (), "session %s: a header without a chunk", sid);
            if (ev.new_stream)
              s.have_last = false; /* a later run: its indices start afresh */
            if (s.have_last)
              {
                FUZZ_CHECK (ev.chunk_index > s.last, "session %s: index %" PRIu64 " delivered after %" PRIu64, sid,
                            ev.chunk_index, s.last);
                if (ev.discont)
                  FUZZ_CHECK (ev.skipped_before == ev.chunk_index - s.last - 1 && ev.skipped_before > 0,
                              "session %s: discont at %" PRIu64 " after %" PRIu64 " says %" PRIu64 " skipped", sid,
                              ev.chunk_index, s.last, ev.skipped_before);
                else
                  FUZZ_CHECK (ev.chunk_index == s.last + 1,
                              "session %s: hole between %" PRIu64 " and %" PRIu64 " without discont", sid, s.last,
                              ev.chunk_index);
              }
            else if (ev.discont)
              FUZZ_CHECK (ev.skipped_before > 0 && ev.skipped_before <= ev.chunk_index,
                          "session %s: first delivery %" PRIu64 " says %" PRIu64 " skipped", sid, ev.chunk_index,
                          ev.skipped_before);
            auto it = m.sent.find ({ ev.session_id, ev.chunk_index });
            FUZZ_CHECK (it != m.sent.end (), "session %s: index %" PRIu64 " delivered but never sent", sid,
                        ev.chunk_index);
            bool match = false;
            for (const auto &p : it->second)
              match = match || (s.have_last ? ev.bytes == p : ends_with (ev.bytes, p));
            FUZZ_CHECK (match, "session %s: index %" PRIu64 " delivered %zu bytes that were never sent for it", sid,
                        ev.chunk_index, ev.bytes.size ());
            s.have_last = true;
            s.last = ev.chunk_index;
            s.last_of_run[ev.stream_id] = ev.chunk_index;
            s.delivered++;
            s.bytes += ev.bytes.size ();
            break;
          }
        case IngestEventKind::Control:
          FUZZ_CHECK (s.active, "control for session %s, which is not running", sid);
          FUZZ_CHECK (ev.action != Action::AudioChunk && ev.action != Action::EndSession,
                      "control event with action %s", action_name (ev.action));
          break;
        case IngestEventKind::Refused:
          FUZZ_CHECK (!ev.reason.empty (), "a refusal event without its code");
          break;
        case IngestEventKind::SessionEnded:
          FUZZ_CHECK (s.active, "session %s ended but was not running (ended before: %d)", sid, s.ended);
          FUZZ_CHECK (ev.stats.ended, "SessionEnded stats not marked ended");
          FUZZ_CHECK (ev.stats.delivered == s.delivered && ev.stats.bytes == s.bytes,
                      "session %s ended with delivered=%" PRIu64 " bytes=%" PRIu64 ", events say %" PRIu64
                      " / %" PRIu64,
                      sid, ev.stats.delivered, ev.stats.bytes, s.delivered, s.bytes);
          FUZZ_CHECK (ev.stats.delivered <= ev.stats.chunks, "session %s: delivered %" PRIu64 " > accepted %" PRIu64,
                      sid, ev.stats.delivered, ev.stats.chunks);
          s.active = false;
          s.ended = true;
          m.ended_sessions++;
          break;
        }
    }

  for (const IngestReply &r : out.replies)
    {
      FUZZ_CHECK (m.open.count (r.connection), "reply to connection %" PRIu64 ", which is not open", r.connection);
      /* soup_websocket_connection_send_text () refuses text that is not UTF-8
       * (but for KI-3, fuzz-util.h). */
      const bool utf8 = g_utf8_validate (r.text.data (), static_cast<gssize> (r.text.size ()), nullptr);
      if (!utf8 && !fuzz::strict () && r.text.find ("\"code\":\"not-json\"") != std::string::npos)
        continue;
      FUZZ_CHECK (utf8, "reply to %" PRIu64 " is not UTF-8: %s", r.connection, r.text.c_str ());
      Reply rep = decode_reply (r.text.data (), r.text.size ());
      FUZZ_CHECK (rep.kind == Reply::Ack || rep.kind == Reply::Error, "reply neither ack nor error: %s",
                  r.text.c_str ());
      if (rep.kind == Reply::Ack)
        {
          std::string sid = ack_member (r.text, "sessionId");
          SessionModel &s = m.sessions[sid];
          /* Acks are per run: a later run (another streamId) counts its
           * indices afresh. A run that names itself late is the same run. */
          const std::string run = ack_member (r.text, "streamId");
          if (!run.empty () && !s.ack_run.empty () && run != s.ack_run)
            s.have_ack = false;
          if (!run.empty ())
            s.ack_run = run;
          FUZZ_CHECK (!s.have_ack || rep.chunk_index >= s.last_ack, "session %s: ack went back from %" PRIu64
                      " to %" PRIu64, sid.c_str (), s.last_ack, rep.chunk_index);
          auto of_run = s.last_of_run.find (run);
          if (!run.empty () && of_run != s.last_of_run.end ())
            FUZZ_CHECK (rep.chunk_index <= of_run->second,
                        "session %s: ack %" PRIu64 " past the last delivery %" PRIu64 " of run %s (%s)", sid.c_str (),
                        rep.chunk_index, of_run->second, run.c_str (), r.text.c_str ());
          else if (s.have_last)
            FUZZ_CHECK (rep.chunk_index <= s.last, "session %s: ack %" PRIu64 " past the last delivery %" PRIu64 " (%s)",
                        sid.c_str (), rep.chunk_index, s.last, r.text.c_str ());
          else
            FUZZ_CHECK (false, "session %s: ack %" PRIu64 " before any delivery of its run (%s)", sid.c_str (),
                        rep.chunk_index, r.text.c_str ());
          s.have_ack = true;
          s.last_ack = rep.chunk_index;
        }
    }
  for (const IngestClose &c : out.closes)
    {
      FUZZ_CHECK (m.open.count (c.connection), "close of connection %" PRIu64 ", which is not open", c.connection);
      FUZZ_CHECK (c.code == 1008 || c.code == 1009, "close code %u", c.code);
      FUZZ_CHECK (!m.closed_by_core.count (c.connection), "connection %" PRIu64 " closed twice", c.connection);
      m.closed_by_core.insert (c.connection);
    }
  (void) now;
}

void
check_state (const Model &m, const IngestCore &core)
{
  IngestStats st = core.stats ();
  FUZZ_CHECK (st.open_connections == m.open.size (), "open_connections %" PRIu64 ", model %zu",
              st.open_connections, m.open.size ());
  FUZZ_CHECK (st.connections == m.connects, "connections %" PRIu64 ", model %" PRIu64, st.connections, m.connects);
  FUZZ_CHECK (st.messages == m.messages, "messages %" PRIu64 ", model %" PRIu64, st.messages, m.messages);
  uint64_t by_code = 0;
  for (const auto &kv : st.rejected_by_code)
    by_code += kv.second;
  FUZZ_CHECK (st.rejected == by_code, "rejected %" PRIu64 " but by code %" PRIu64, st.rejected, by_code);
  FUZZ_CHECK (st.rejected <= st.messages, "rejected %" PRIu64 " > messages %" PRIu64, st.rejected, st.messages);
  FUZZ_CHECK (st.closed_for_abuse + st.closed_for_rate <= st.connections,
              "%" PRIu64 " + %" PRIu64 " connections closed for abuse/rate, %" PRIu64 " opened", st.closed_for_abuse,
              st.closed_for_rate, st.connections);
  FUZZ_CHECK (st.closed_for_abuse + st.closed_for_rate <= m.closed_by_core.size () + m.closed_ever,
              "closed_for_abuse/rate count closes that were not announced");

  std::vector<std::string> ids = core.session_ids ();
  size_t active = 0;
  for (const auto &kv : m.sessions)
    if (kv.second.active)
      {
        active++;
        FUZZ_CHECK (std::count (ids.begin (), ids.end (), kv.first) == 1, "running session %s not listed",
                    kv.first.c_str ());
        SessionStats ss;
        FUZZ_CHECK (core.session_stats (kv.first, ss), "no stats for running session %s", kv.first.c_str ());
        FUZZ_CHECK (!ss.ended, "running session %s marked ended", kv.first.c_str ());
        FUZZ_CHECK (ss.delivered == kv.second.delivered && ss.bytes == kv.second.bytes,
                    "session %s: stats delivered=%" PRIu64 " bytes=%" PRIu64 ", events %" PRIu64 " / %" PRIu64,
                    kv.first.c_str (), ss.delivered, ss.bytes, kv.second.delivered, kv.second.bytes);
        FUZZ_CHECK (ss.delivered <= ss.chunks, "session %s: delivered > accepted", kv.first.c_str ());
        if (!m.config.only_session.empty ())
          FUZZ_CHECK (kv.first == m.config.only_session, "session %s running beside only-session",
                      kv.first.c_str ());
      }
  FUZZ_CHECK (ids.size () == active, "%zu sessions listed, %zu running", ids.size (), active);
  FUZZ_CHECK (active <= m.config.max_sessions, "%zu sessions over max_sessions", active);
  if (m.config.single_session)
    FUZZ_CHECK (active <= 1, "%zu sessions in single-session mode", active);
}

/* An audioChunk or control from the real encoder, optionally mutated. */
std::string
template_message (fuzz::Reader &in, Model &m, bool binary = false)
{
  uint8_t kind = in.u8 () % 8;
  if (binary)
    kind %= 3; /* the binary framing carries audioChunk only */
  uint8_t sb = in.u8 ();
  std::string sid = (sb & 0x80) ? std::string () : kSessions[sb % 3];
  std::string text;
  if (kind <= 2)
    {
      SessionModel &s = m.sessions[sid];
      uint8_t d = in.u8 ();
      uint64_t index;
      if (d < 240)
        index = (s.cursor + d % 10 < 3) ? 0 : s.cursor + d % 10 - 3; /* cursor - 3 .. cursor + 6 */
      else
        index = in.u32 ();
      if (index >= s.cursor)
        s.cursor = index + 1;
      uint8_t len = in.u8 () % 24 + 1;
      uint8_t opts = in.u8 ();
      std::vector<uint8_t> audio (len);
      for (size_t i = 0; i < len; i++)
        audio[i] = static_cast<uint8_t> (index * 31 + i * 7 + (opts >> 5));
      static const uint8_t header[] = { 0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01 };
      AudioChunkFields f;
      f.session_id = sid;
      f.audio = audio.data ();
      f.audio_size = audio.size ();
      f.timestamp_ms = (opts & 0x10) ? -1 : 1764633600000 + static_cast<int64_t> (index) * 250;
      f.format = (opts & 4) ? "ogg-opus" : (opts & 8) ? "" : "webm-opus";
      f.chunk_index = index;
      if (opts & 1)
        {
          f.stream_header = header;
          f.stream_header_size = sizeof header;
        }
      if (opts & 2)
        f.capture_timestamp_ms = 1764633500000;
      /* Runs of the session (streamId): none, or one of two. */
      uint8_t run = in.u8 ();
      static const char *kRuns[] = { "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210" };
      if (run & 1)
        f.stream_id = kRuns[(run >> 1) & 1];
      text = binary ? encode_binary_audio_chunk (f) : encode_audio_chunk (f);
    }
  else
    {
      static const Action actions[] = { Action::PauseBroadcast, Action::ResumeBroadcast, Action::MuteBroadcast,
                                        Action::UnmuteBroadcast, Action::EndSession };
      text = encode_control (actions[kind - 3], sid, 1764633600000, (sb & 0x40) ? "done" : "");
    }

  uint8_t mb = in.u8 ();
  int mutations = mb < 160 ? 0 : mb % 3 + 1;
  for (int i = 0; i < mutations && !text.empty (); i++)
    {
      uint8_t type = in.u8 () % 5;
      size_t pos = in.u16 () % text.size ();
      switch (type)
        {
        case 0: /* replace one byte */
          text[pos] = static_cast<char> (in.u8 ());
          break;
        case 1: /* delete a run */
          text.erase (pos, in.u8 () % 16 + 1);
          break;
        case 2: /* splice a token */
          text.insert (pos, kTokens[in.u8 () % (sizeof kTokens / sizeof kTokens[0])]);
          break;
        case 3: /* truncate */
          text.resize (pos);
          break;
        case 4: /* duplicate a run */
          text.insert (pos, text.substr (pos, in.u8 () % 32 + 1));
          break;
        }
    }
  return text;
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz::Reader in (data, size);
  Model m;
  int64_t now = 0;
  m.config = read_config (in, now);
  IngestCore core (m.config);
  IngestOutput out;

  auto text = [&] (ConnectionId c, const std::string &t, bool binary) {
    if (known_issue (t, binary))
      return;
    out.clear ();
    if (m.open.count (c))
      {
        m.messages++;
        note_sent (m, t.data (), t.size (), binary);
      }
    const bool closed = m.closed_by_core.count (c) != 0;
    if (kTrace)
      std::fprintf (stderr, "%" PRId64 " %s from %" PRIu64 ": %.200s\n", now, binary ? "binary" : "text", c,
                    binary && t.size () > 6 ? t.c_str () + 6 : t.c_str ());
    if (binary)
      core.on_binary (c, reinterpret_cast<const uint8_t *> (t.data ()), t.size (), now, out);
    else
      core.on_text (c, t.data (), t.size (), now, out);
    if (closed)
      FUZZ_CHECK (out.events.empty () && out.replies.empty () && out.closes.empty (),
                  "connection %" PRIu64 " was closed by the core, but its message still did something", c);
    check_output (m, out, now);
  };

  for (int ops = 0; !in.empty () && ops < 2000; ops++)
    {
      uint8_t op = in.u8 () % 10;
      if (kTrace && op != 2 && op != 3)
        {
          static const char *names[] = { "connect", "disconnect", "", "", "binary", "tick", "advance", "finish",
                                         "finish_all", "hand_off" };
          std::fprintf (stderr, "%" PRId64 " %s\n", now, names[op]);
        }
      switch (op)
        {
        case 0:
          {
            ConnectionId c = in.u8 () % 4 + 1;
            if (m.open.count (c))
              break; /* ids are unique while open: the callers count them up */
            core.on_connect (c, "127.0.0.1:" + std::to_string (40000 + c));
            m.open.insert (c);
            m.closed_ever += m.closed_by_core.erase (c);
            m.connects++;
            break;
          }
        case 1:
          {
            ConnectionId c = in.u8 () % 4 + 1;
            out.clear ();
            core.on_disconnect (c, now, out);
            m.open.erase (c);
            check_output (m, out, now);
            break;
          }
        case 2:
          {
            ConnectionId c = in.u8 () % 4 + 1;
            std::string t = in.str (in.u16 ());
            text (c, t, false);
            break;
          }
        case 3:
          {
            ConnectionId c = in.u8 () % 4 + 1;
            text (c, template_message (in, m), false);
            break;
          }
        case 4:
          {
            ConnectionId c = in.u8 () % 4 + 1;
            uint8_t kind = in.u8 () % 3;
            if (kind == 0)
              text (c, template_message (in, m, true), true);
            else if (kind == 1)
              text (c, in.str (in.u16 ()), true);
            else
              {
                std::string frame (static_cast<size_t> (in.u16 ()) * 4 + 6, '\0');
                std::memcpy (&frame[0], kBinaryMagic, 4);
                text (c, frame, true);
              }
            break;
          }
        case 5:
          {
            now += in.u16 () % 5000;
            out.clear ();
            core.tick (now, out);
            check_output (m, out, now);
            int64_t next = core.next_deadline_ms ();
            FUZZ_CHECK (next < 0 || next > now, "deadline %" PRId64 " still due after tick (%" PRId64 ")", next, now);
            break;
          }
        case 6:
          now += in.u16 ();
          break;
        case 7:
          {
            uint8_t b = in.u8 ();
            out.clear ();
            core.finish_session (kSessions[b % 3], "finished", out);
            check_output (m, out, now);
            break;
          }
        case 8:
          out.clear ();
          core.finish_all ("shutdown", out);
          check_output (m, out, now);
          FUZZ_CHECK (core.session_ids ().empty (), "sessions left after finish_all");
          break;
        case 9:
          {
            ConnectionId c = in.u8 () % 4 + 1;
            auto snapshot = [&] {
              std::map<std::string, std::pair<bool, uint64_t>> v;
              for (const auto &id : core.session_ids ())
                {
                  SessionStats st;
                  core.session_stats (id, st);
                  v[id] = { st.speaker_connected, st.chunks };
                }
              return v;
            };
            const auto sessions_before = snapshot ();
            const IngestStats before = core.stats ();
            core.hand_off (c);
            const IngestStats after = core.stats ();
            FUZZ_CHECK (snapshot () == sessions_before, "hand_off of %" PRIu64 " changed a session", c);
            if (after.open_connections != before.open_connections)
              {
                FUZZ_CHECK (m.open.count (c), "hand_off forgot %" PRIu64 ", which was not open", c);
                FUZZ_CHECK (after.open_connections + 1 == before.open_connections
                                && after.connections + 1 == before.connections,
                            "hand_off: open %" PRIu64 " -> %" PRIu64 ", connections %" PRIu64 " -> %" PRIu64,
                            before.open_connections, after.open_connections, before.connections,
                            after.connections);
                m.open.erase (c);
                m.connects--;
              }
            else
              FUZZ_CHECK (after.connections == before.connections, "hand_off changed the connection count");
            break;
          }
        }
      check_state (m, core);
    }

  out.clear ();
  core.finish_all ("shutdown", out);
  check_output (m, out, now);
  FUZZ_CHECK (core.session_ids ().empty (), "sessions left after finish_all");
  FUZZ_CHECK (core.next_deadline_ms () == -1, "a deadline left after finish_all");
  for (const auto &kv : m.sessions)
    FUZZ_CHECK (!kv.second.active, "session %s never ended", kv.first.c_str ());
  for (ConnectionId c : std::set<ConnectionId> (m.open))
    {
      out.clear ();
      core.on_disconnect (c, now, out);
      m.open.erase (c);
    }
  check_state (m, core);
  return 0;
}
