/* Writes the generated part of the seed corpora (tests/fuzz/corpus/<target>/gen-*)
 * with the project's own encoders, in the script formats the targets read
 * (see the comment at the top of each fuzz_*.cpp). The recorded part
 * (real-*) comes from tests/fuzz/record-corpus.py.
 *
 * Built and run by `scripts/fuzz.sh --regen-corpus`. */
#include "fuzz-util.h"

#include "ingest-core.h"
#include "message-codec.h"
#include "ws-client-frame.h"

#include <cstdio>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace wssac;

namespace
{

std::string g_root;

void
write (const std::string &target, const std::string &name, const void *data, size_t size)
{
  std::string dir = g_root + "/" + target;
  mkdir (dir.c_str (), 0755);
  std::string path = dir + "/gen-" + name;
  FILE *f = std::fopen (path.c_str (), "wb");
  if (!f)
    {
      std::perror (path.c_str ());
      std::exit (1);
    }
  std::fwrite (data, 1, size, f);
  std::fclose (f);
}

void
write (const std::string &target, const std::string &name, const std::string &s)
{
  write (target, name, s.data (), s.size ());
}

void
write (const std::string &target, const std::string &name, const fuzz::Writer &w)
{
  write (target, name, w.out.data (), w.out.size ());
}

std::string
audio_msg (const std::string &sid, uint64_t index, size_t len, bool header = false, int64_t capture = -1,
           const std::string &format = "webm-opus", bool binary = false)
{
  std::vector<uint8_t> audio (len);
  for (size_t i = 0; i < len; i++)
    audio[i] = static_cast<uint8_t> (index * 31 + i * 7 + 1);
  static const uint8_t hdr[] = { 0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01 };
  AudioChunkFields f;
  f.session_id = sid;
  f.audio = audio.data ();
  f.audio_size = audio.size ();
  f.timestamp_ms = 1764633600123 + static_cast<int64_t> (index) * 250;
  f.format = format;
  f.chunk_index = index;
  f.capture_timestamp_ms = capture;
  if (header)
    {
      f.stream_header = hdr;
      f.stream_header_size = sizeof hdr;
    }
  return binary ? encode_binary_audio_chunk (f) : encode_audio_chunk (f);
}

/* ---- fuzz_message_codec: one message per file ---- */

void
codec ()
{
  const std::string t = "fuzz_message_codec";
  write (t, "audio", audio_msg ("demo", 0, 40));
  write (t, "audio-header-capture", audio_msg ("demo", 12, 33, true, 1764633500000));
  write (t, "audio-ogg", audio_msg ("session-\xc3\xa9\\\"x", 3, 5, false, -1, "ogg-opus"));
  /* The seed's pause/resume/mute/unmute carry no sessionId. */
  write (t, "pause-seed", std::string ("{\"action\":\"pauseBroadcast\",\"timestamp\":1764633600123}"));
  write (t, "resume", encode_control (Action::ResumeBroadcast, "demo", 1764633600123));
  write (t, "mute", encode_control (Action::MuteBroadcast, "demo", 1764633600123));
  write (t, "unmute", encode_control (Action::UnmuteBroadcast, "demo", 1764633600123));
  write (t, "end", encode_control (Action::EndSession, "demo", 1764633600123, "user ended"));
  write (t, "ack", encode_ack ("demo", 41));
  write (t, "error", IngestCore::error_reply ("bad-base64", "field \"audioData\" is not valid base64", 7));
  write (t, "error-noindex", IngestCore::error_reply ("not-json", "not valid JSON: <data>:1:1: Parse error"));
  write (t, "double-index",
         std::string ("{\"action\":\"audioChunk\",\"sessionId\":\"a\",\"audioData\":\"AAEC\",\"timestamp\":1.0,"
                      "\"chunkIndex\":3.0,\"originalSize\":3}"));
  write (t, "size-mismatch",
         std::string ("{\"action\":\"audioChunk\",\"sessionId\":\"a\",\"audioData\":\"AAE=\",\"chunkIndex\":1,"
                      "\"originalSize\":3}"));
  write (t, "bad-base64",
         std::string ("{\"action\":\"audioChunk\",\"sessionId\":\"a\",\"audioData\":\"AA=A\",\"chunkIndex\":1}"));
  write (t, "huge-index",
         std::string ("{\"action\":\"audioChunk\",\"sessionId\":\"a\",\"audioData\":\"AAAA\","
                      "\"chunkIndex\":9007199254740993}"));
  write (t, "wrong-types",
         std::string ("{\"action\":\"audioChunk\",\"sessionId\":7,\"audioData\":[],\"chunkIndex\":\"1\"}"));
  write (t, "nested", std::string ("[{\"action\":{\"a\":[1,2,{\"b\":null}]}},true,false,-0.5e-3]"));
  write (t, "binary", audio_msg ("demo", 0, 40, false, -1, "webm-opus", true));
  write (t, "binary-header-capture", audio_msg ("demo", 9, 20, true, 1764633500000, "webm-opus", true));
  write (t, "unicode", std::string ("{\"action\":\"endSession\",\"sessionId\":\"\\u00e9\\ud83d\\ude00\\n\","
                                    "\"reason\":\"\\u0000x\"}"));
}

/* ---- fuzz_ingest_core: scripts ---- */

enum
{
  CONNECT,
  DISCONNECT,
  TEXT_RAW,
  TEXT,
  BINARY,
  TICK,
  ADVANCE,
  FINISH,
  FINISH_ALL
};

struct Script
{
  fuzz::Writer w;
  explicit Script (uint8_t b0 = 0, uint8_t b1 = 0, uint8_t b2 = 0, uint8_t b3 = 0)
  {
    w.u8 (b0);
    w.u8 (b1);
    w.u8 (b2);
    w.u8 (b3);
  }
  void connect (uint8_t c) { w.u8 (CONNECT), w.u8 (c - 1); }
  void disconnect (uint8_t c) { w.u8 (DISCONNECT), w.u8 (c - 1); }
  void raw (uint8_t c, const std::string &text)
  {
    w.u8 (TEXT_RAW), w.u8 (c - 1), w.u16 (static_cast<uint16_t> (text.size ())), w.str (text);
  }
  /* delta: index relative to the template's cursor (0: the next one). */
  void audio (uint8_t c, int session, int delta = 0, uint8_t len = 12, uint8_t opts = 0)
  {
    w.u8 (TEXT), w.u8 (c - 1), w.u8 (0), w.u8 (static_cast<uint8_t> (session));
    w.u8 (static_cast<uint8_t> (delta + 3)), w.u8 (static_cast<uint8_t> (len - 1)), w.u8 (opts);
    w.u8 (0); /* no mutation */
  }
  void audio_at (uint8_t c, int session, uint32_t index, uint8_t opts = 0)
  {
    w.u8 (TEXT), w.u8 (c - 1), w.u8 (0), w.u8 (static_cast<uint8_t> (session));
    w.u8 (240), w.u32 (index), w.u8 (9), w.u8 (opts), w.u8 (0);
  }
  /* kind: 3 pause, 4 resume, 5 mute, 6 unmute, 7 endSession; session | 0x80: no sessionId */
  void control (uint8_t c, uint8_t kind, uint8_t session)
  {
    w.u8 (TEXT), w.u8 (c - 1), w.u8 (kind), w.u8 (session), w.u8 (0);
  }
  /* An audio message with one mutation. */
  void mutated_audio (uint8_t c, int session, uint8_t type, uint16_t pos, uint8_t arg)
  {
    w.u8 (TEXT), w.u8 (c - 1), w.u8 (0), w.u8 (static_cast<uint8_t> (session));
    w.u8 (3), w.u8 (7), w.u8 (0);
    w.u8 (160); /* 160 % 3 + 1: two mutations */
    w.u8 (type), w.u16 (pos);
    if (type != 3) /* truncate takes no argument */
      w.u8 (arg);
    w.u8 (2), w.u16 (static_cast<uint16_t> (pos + 5)), w.u8 (arg);
  }
  /* An audioChunk in the binary framing, as audio (). */
  void binary_audio (uint8_t c, int session, int delta = 0, uint8_t len = 12, uint8_t opts = 0)
  {
    w.u8 (BINARY), w.u8 (c - 1), w.u8 (0), w.u8 (0), w.u8 (static_cast<uint8_t> (session));
    w.u8 (static_cast<uint8_t> (delta + 3)), w.u8 (static_cast<uint8_t> (len - 1)), w.u8 (opts);
    w.u8 (0); /* no mutation */
  }
  /* A binary frame as it came. */
  void binary_raw (uint8_t c, const std::string &frame)
  {
    w.u8 (BINARY), w.u8 (c - 1), w.u8 (1), w.u16 (static_cast<uint16_t> (frame.size ())), w.str (frame);
  }
  /* A WSAC-framed frame of units * 4 zero bytes. */
  void binary (uint8_t c, uint16_t units) { w.u8 (BINARY), w.u8 (c - 1), w.u8 (2), w.u16 (units); }
  void tick (uint16_t ms) { w.u8 (TICK), w.u16 (ms); }
  void advance (uint16_t ms) { w.u8 (ADVANCE), w.u16 (ms); }
  void finish (uint8_t session) { w.u8 (FINISH), w.u8 (session); }
  void finish_all () { w.u8 (FINISH_ALL); }
};

void
ingest ()
{
  const std::string t = "fuzz_ingest_core";
  {
    Script s;
    s.connect (1);
    for (int i = 0; i < 8; i++)
      s.audio (1, 0);
    s.control (1, 3, 0x80); /* the seed's pause, no sessionId */
    s.control (1, 4, 0x80);
    s.control (1, 5, 0);
    s.control (1, 6, 0);
    s.audio (1, 0);
    s.control (1, 7, 0x42); /* endSession for s1 (0x42 % 3 == 0) with a reason */
    s.audio (1, 0); /* after endSession: session-ended */
    write (t, "in-order", s.w);
  }
  {
    Script s;
    s.connect (1);
    s.audio (1, 0);
    s.audio (1, 0, 1);  /* 2 */
    s.audio (1, 0, -2); /* 1 */
    s.audio (1, 0, 1);  /* 4: a hole at 3 */
    s.audio (1, 0);     /* 5 */
    s.tick (400);
    s.tick (700); /* gives up 3 */
    s.audio_at (1, 0, 3); /* late */
    s.audio (1, 0, -1);   /* duplicate */
    for (int i = 0; i < 20; i++)
      s.audio (1, 0, i % 3 == 0 ? 1 : 0); /* holes everywhere */
    s.finish (0);
    write (t, "reorder-gaps", s.w);
  }
  {
    Script s;
    s.connect (1);
    s.connect (2);
    s.audio (1, 0);
    s.audio (1, 0);
    s.audio (2, 0); /* session-claimed */
    s.disconnect (1);
    s.audio (2, 0, -1); /* takeover: duplicate, acked */
    s.audio (2, 0);
    s.audio (2, 0);
    s.audio (2, 1); /* one-session-per-connection */
    s.connect (3);
    s.audio (3, 1);
    s.control (3, 3, 0x81);
    s.binary (3, 10);
    s.finish_all ();
    s.audio (3, 1);
    write (t, "takeover", s.w);
  }
  {
    Script s;
    s.connect (1);
    s.audio_at (1, 2, 5, 1); /* joins mid-stream with the stream header */
    s.audio (1, 2);
    s.audio (1, 2, 0, 12, 4); /* format-changed */
    s.audio (1, 2, 0, 12, 2); /* captureTimestamp */
    s.audio_at (1, 2, 900000); /* index-out-of-range */
    s.finish_all ();
    write (t, "mid-stream", s.w);
  }
  {
    Script s (0x01 | 0x40, 0x01 | (2 << 3), 0x20); /* single session, max_sessions 1, 0 pending, 50 ms, first 5 */
    s.connect (1);
    s.connect (2);
    s.audio_at (1, 0, 5);
    s.audio (2, 1);
    s.audio (1, 0, 2);
    s.advance (60);
    s.tick (0);
    s.control (1, 7, 0);
    s.audio (2, 1);
    write (t, "single-session", s.w);
  }
  {
    Script s (0x10, 0, 0x01); /* max_bad 3, max_message_size 300 */
    s.connect (1);
    s.raw (1, "{\"action\":\"audioChunk\"");
    s.raw (1, "[]");
    s.mutated_audio (1, 0, 0, 30, '!');
    s.raw (1, "{}");
    s.connect (2);
    s.audio (2, 0, 0, 24);
    s.audio (2, 0, 0, 24, 1); /* over 300 bytes: 1009 */
    s.binary (2, 1);
    write (t, "abuse", s.w);
  }
  {
    Script s;
    s.connect (1);
    s.binary_audio (1, 0, 0, 12, 1); /* with the stream header */
    s.binary_audio (1, 0);
    s.audio (1, 0);             /* text and binary mixed */
    s.binary_audio (1, 0, 1);   /* a hole */
    s.binary_raw (1, std::string ("WSAC\x00\x02{}", 8)); /* framed, but no action */
    s.binary_raw (1, "not framed");
    s.binary (1, 40000);        /* over max_message_size: 1009 */
    s.connect (2);
    s.binary_audio (2, 0, -1);  /* session-claimed */
    s.disconnect (1);
    s.binary_audio (2, 0);      /* takeover */
    s.finish_all ();
    write (t, "binary", s.w);
  }
  {
    Script s (0, 0, 0x80, 0x80); /* binary refused; 1 message/s */
    s.connect (1);
    s.binary_audio (1, 1);
    for (int i = 0; i < 8; i++)
      s.audio (1, 1);
    write (t, "binary-refused-rate", s.w);
  }
  {
    Script s;
    s.connect (4);
    for (int i = 0; i < 6; i++)
      s.mutated_audio (4, i % 3, static_cast<uint8_t> (i % 5), static_cast<uint16_t> (20 + i * 17),
                       static_cast<uint8_t> (i * 5));
    s.audio (4, 0);
    write (t, "mutations", s.w);
  }
}

/* ---- fuzz_chunker_reassembler ---- */

struct ChunkerScript
{
  fuzz::Writer w;
  ChunkerScript (uint8_t cfg, const std::vector<uint8_t> &caps = {})
  {
    w.u8 (0);
    w.u8 (cfg);
    w.u8 (caps.empty () ? 0 : static_cast<uint8_t> (caps.size () + 64)); /* % 64 == size */
    w.bytes (caps.data (), caps.size ());
    w.u8 (0);
  }
  /* op 0 header, 1 cluster, 2 delta; times in 0.1 ms */
  void buf (uint8_t op, size_t size, bool pts, uint16_t adv, int dur, uint8_t fill)
  {
    w.u8 (op);
    w.u8 (static_cast<uint8_t> ((pts ? 1 : 0) | (dur >= 0 ? 2 : 0)));
    w.u16 (static_cast<uint16_t> (size));
    for (size_t i = 0; i < size; i++)
      w.u8 (static_cast<uint8_t> (fill + i));
    w.u16 (adv);
    w.u16 (static_cast<uint16_t> (dur < 0 ? 0 : dur));
  }
  /* webmmux-like: 3 header buffers, then clusters of 20 ms Opus blocks */
  void webm (int clusters, int per_cluster, bool timed)
  {
    buf (0, 40, false, 0, -1, 0x1a);
    buf (0, 60, false, 0, -1, 0x18);
    buf (0, 30, false, 0, -1, 0x16);
    for (int c = 0; c < clusters; c++)
      {
        buf (1, 12, timed, 0, -1, 0x1f);
        for (int b = 0; b < per_cluster; b++)
          buf (2, 40 + (b * 7) % 30, timed, 200, 200, static_cast<uint8_t> (b));
      }
  }
};

struct ReassemblerScript
{
  fuzz::Writer w;
  ReassemblerScript (uint8_t b0, uint8_t b1)
  {
    w.u8 (1);
    w.u8 (b0);
    w.u8 (b1);
  }
  /* delta relative to next_index (): -4 .. 11 */
  void push (int delta, uint8_t size, uint8_t adv) { w.u8 (0), w.u8 (static_cast<uint8_t> (delta + 4)), w.u8 (size), w.u8 (adv); }
  void push_at (uint32_t index, uint8_t size, uint8_t adv) { w.u8 (0), w.u8 (250), w.u32 (index), w.u8 (size), w.u8 (adv); }
  void tick (uint16_t ms) { w.u8 (2), w.u16 (ms); }
  void flush () { w.u8 (3); }
};

void
chunker_reassembler ()
{
  const std::string t = "fuzz_chunker_reassembler";
  {
    ChunkerScript s (0); /* 250 ms, no byte bound */
    s.webm (12, 12, true);
    s.w.u8 (5); /* finish */
    write (t, "chunker-webm", s.w);
  }
  {
    ChunkerScript s (0 | (2 << 3)); /* max_bytes 200 */
    s.webm (4, 25, true);
    write (t, "chunker-max-bytes", s.w);
  }
  {
    ChunkerScript s (2, { 0x1a, 0x45, 0xdf, 0xa3 }); /* 1 s, caps stream header, no HEADER buffers */
    for (int c = 0; c < 3; c++)
      {
        s.buf (1, 10, true, 0, -1, 1);
        for (int b = 0; b < 150; b++) /* clusters every 3 s: cut by time */
          s.buf (2, 20, true, 200, 200, static_cast<uint8_t> (b));
      }
    write (t, "chunker-rare-clusters", s.w);
  }
  {
    ChunkerScript s (0);
    s.webm (3, 13, false); /* no timestamps: one cluster per chunk */
    s.w.u8 (4);            /* drop_pending */
    s.buf (2, 5, false, 0, -1, 9);
    s.buf (0, 8, false, 0, -1, 9); /* late header */
    s.buf (1, 5, false, 0, -1, 9);
    s.w.u8 (6); /* reset */
    s.webm (2, 13, true);
    write (t, "chunker-untimed-drop-reset", s.w);
  }
  {
    ReassemblerScript s (0, 0);
    for (int i = 0; i < 20; i++)
      s.push (0, 10, 20);
    s.flush ();
    write (t, "reassembler-in-order", s.w);
  }
  {
    ReassemblerScript s (0 | (2 << 3), 0); /* 50 ms wait */
    s.push (0, 8, 1);
    s.push (2, 8, 1);
    s.push (1, 8, 1);
    s.push (-1, 8, 1); /* duplicate */
    s.push (3, 8, 1);
    s.tick (60);      /* gives up the hole */
    s.push (-2, 8, 1); /* late */
    s.push_at (500000, 4, 1); /* out of range */
    for (int i = 0; i < 30; i++)
      s.push (i % 4, 5, 10);
    s.tick (1000);
    s.flush ();
    write (t, "reassembler-reorder", s.w);
  }
  {
    ReassemblerScript s (3 | (5 << 3) | (1 << 6), 3 | 4); /* 2 pending, wait "forever", jump 4, first 2^53-3, late clock */
    for (int i = 0; i < 12; i++)
      s.push (1 + i % 3, 3, 0);
    s.tick (65535);
    s.flush ();
    write (t, "reassembler-window", s.w);
  }
}

/* ---- fuzz_ws_frame_reader: settings, cut list, then a stream or a script ---- */

std::vector<uint8_t>
ws_frame (uint8_t b0, const std::string &payload, uint32_t mask = 0x1f2e3d4c)
{
  std::vector<uint8_t> out;
  fuzz::ws_client_frame (out, b0, reinterpret_cast<const uint8_t *> (payload.data ()),
                         payload.size (), mask);
  return out;
}

std::string
ws_close_body (uint16_t code, const std::string &reason)
{
  return std::string{ static_cast<char> (code >> 8), static_cast<char> (code) } + reason;
}

/* Cut reads of 1, 7 and 201 bytes in turn. */
void
ws_cuts (fuzz::Writer &w)
{
  w.u8 (2), w.u8 (0), w.u8 (6), w.u8 (200);
}

/* A round-trip item: op byte, length, payload, mask, fragment cuts. */
void
ws_item (fuzz::Writer &w, uint8_t op, const std::string &payload, std::vector<uint16_t> cuts = {})
{
  w.u8 (op), w.u16 (static_cast<uint16_t> (payload.size ())), w.str (payload), w.u32 (0x0badf00d);
  for (uint16_t c : cuts)
    w.u16 (c);
}

void
ws_frames ()
{
  const std::string t = "fuzz_ws_frame_reader";
  /* settings: bits 0-1 limit (2: 1000 bytes), bit 2 ping limit, bits 4-7 stop */
  auto stream = [&] (const std::string &name, uint8_t settings,
                     const std::vector<std::vector<uint8_t>> &frames) {
    fuzz::Writer w;
    w.u8 (settings);
    ws_cuts (w);
    for (const auto &f : frames)
      w.bytes (f.data (), f.size ());
    write (t, "stream-" + name, w);
  };
  const std::string json = "{\"action\":\"endSession\",\"sessionId\":\"s1\"}";
  stream ("valid", 2,
          { ws_frame (0x81, json), ws_frame (0x01, "Hel"), ws_frame (0x89, "p"),
            ws_frame (0x80, "lo \xc3\xa9"), ws_frame (0x82, std::string (300, 'b')),
            ws_frame (0x8a, ""), ws_frame (0x88, ws_close_body (1000, "bye")) });
  stream ("unmasked", 2, { ws_frame (0x81, json), { 0x81, 0x02, 'h', 'i' } });
  stream ("rsv1", 2, { ws_frame (0xc1, json) });
  stream ("close-1005-in-body", 2, { ws_frame (0x88, ws_close_body (1005, "")) });
  stream ("text-not-utf8", 2, { ws_frame (0x81, "ok \xed\xa0\x80") });
  stream ("over-limit", 1,
          { ws_frame (0x82, std::string (64, 'b')), ws_frame (0x82, std::string (65, 'b')) });
  std::vector<std::vector<uint8_t>> pings (6, ws_frame (0x89, "ping"));
  stream ("ping-flood", 2 | 4, pings);
  stream ("handler-stops", 2 | (2 << 4),
          { ws_frame (0x81, "1"), ws_frame (0x81, "2"), ws_frame (0x81, "3") });

  {
    fuzz::Writer w;
    w.u8 (8 | 2); /* round trip, 1000-byte limit */
    ws_cuts (w);
    ws_item (w, 0x80, json); /* text, made valid */
    ws_item (w, 1 | (3 << 3) | 0x40, std::string (900, 'a'),
             { 10, 500, 899 }); /* 4 fragments, pings between */
    ws_item (w, 2, "ping");
    ws_item (w, 3, "pong");
    ws_item (w, 0x80 | 4 | (1 << 3), "caf\xc3\xa9 au lait",
             { 4 });                      /* 64-bit lengths, é cut in two */
    w.u8 (0xff), w.u8 (0), w.str ("bye"); /* close 1000 */
    write (t, "roundtrip-mixed", w);
  }
  {
    fuzz::Writer w;
    w.u8 (8 | 1 | 4); /* round trip, 64-byte limit, ping limit */
    ws_cuts (w);
    ws_item (w, 0x80, std::string (64, 't'));
    ws_item (w, 1 | (1 << 3), std::string (65, 'b'), { 30 });
    write (t, "roundtrip-limit", w);
  }
  {
    fuzz::Writer w;
    w.u8 (8 | 2 | 4); /* round trip, ping limit (burst 3): the 4th ping is a flood */
    ws_cuts (w);
    ws_item (w, 2, "1");
    ws_item (w, 1 | (2 << 3) | 0x40, std::string (50, 'b'), { 10, 20 });
    ws_item (w, 2, "4");
    ws_item (w, 0x80, "never");
    write (t, "roundtrip-ping-flood", w);
  }
}

} // namespace

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      std::fprintf (stderr, "usage: %s CORPUS_DIR\n", argv[0]);
      return 2;
    }
  g_root = argv[1];
  mkdir (g_root.c_str (), 0755);
  codec ();
  ingest ();
  chunker_reassembler ();
  ws_frames ();
  return 0;
}
