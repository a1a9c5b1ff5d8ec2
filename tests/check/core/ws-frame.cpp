/* Unit tests of wssac::WsFrameReader and the ws_append_* writers: RFC 6455
 * frames as the ingest server reads and writes them. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "expect-fields.h"
#include "ws-frame-reader.h"
#include "ws-frame-writer.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

/* Every allocation of this program is counted: the reader's common path
 * must make none. */
static std::atomic<size_t> g_allocations{ 0 };

void *
operator new (size_t n)
{
  g_allocations++;
  if (void *p = std::malloc (n ? n : 1))
    return p;
  throw std::bad_alloc ();
}

/* not inlined: GCC would see free () of what operator new returned */
__attribute__ ((noinline)) void
operator delete (void *p) noexcept
{
  std::free (p);
}

__attribute__ ((noinline)) void
operator delete (void *p, size_t) noexcept
{
  std::free (p);
}

using wssac::WsFrameHandler;
using wssac::WsFrameReader;
using wssac::WsReaderConfig;

static const uint8_t kMask[4] = { 0x37, 0xfa, 0x21, 0x3d };

/* One client frame: @b0 is FIN | RSV | opcode; masked with kMask unless
 * @masked is false. */
static std::string
frame (uint8_t b0, const std::string &payload, bool masked = true)
{
  std::string f (1, static_cast<char> (b0));
  const uint64_t n = payload.size ();
  const int mask_bit = masked ? 0x80 : 0;
  if (n < 126)
    f += static_cast<char> (mask_bit | n);
  else if (n <= 0xffff)
    f += { static_cast<char> (mask_bit | 126), static_cast<char> (n >> 8), static_cast<char> (n) };
  else
    {
      f += static_cast<char> (mask_bit | 127);
      for (int shift = 56; shift >= 0; shift -= 8)
        f += static_cast<char> (n >> shift);
    }
  if (masked)
    f.append (reinterpret_cast<const char *> (kMask), 4);
  for (size_t i = 0; i < payload.size (); i++)
    f += static_cast<char> (payload[i] ^ (masked ? kMask[i & 3] : 0));
  return f;
}

static std::string
text (const std::string &s)
{
  return frame (0x81, s);
}

static std::string
binary (const std::string &s)
{
  return frame (0x82, s);
}

static std::string
ping (const std::string &s)
{
  return frame (0x89, s);
}

static std::string
close_frame (unsigned code, const std::string &reason)
{
  return frame (0x88,
                std::string{ static_cast<char> (code >> 8), static_cast<char> (code) } + reason);
}

/* Payloads up to this size are shown in the events, longer ones by size and hash. */
static std::string
show (const uint8_t *data, size_t n)
{
  if (n > 40)
    {
      uint64_t h = 14695981039346656037ull;
      for (size_t i = 0; i < n; i++)
        h = (h ^ data[i]) * 1099511628211ull;
      return "<" + std::to_string (n) + " bytes " + std::to_string (h) + ">";
    }
  std::string s;
  for (size_t i = 0; i < n; i++)
    {
      char esc[8];
      g_snprintf (esc, sizeof esc, "\\x%02x", data[i]);
      if (data[i] >= 0x20 && data[i] < 0x7f)
        s += static_cast<char> (data[i]);
      else
        s += esc;
    }
  return s;
}

static std::string
show (const std::string &payload)
{
  return show (reinterpret_cast<const uint8_t *> (payload.data ()), payload.size ());
}

/* Every call as one line, "text:Hello | ping:p | close:1000:bye";
 * returns false at the @stop_at'th call. */
class Recorder : public WsFrameHandler
{
public:
  std::string events;
  size_t count = 0;
  size_t stop_at = 0; /* 0: never stops */
  const uint8_t *last_data = nullptr;

  bool
  on_message (bool is_binary, const uint8_t *data, size_t length) override
  {
    return record (std::string (is_binary ? "binary:" : "text:") + show (data, length), data);
  }
  bool
  on_ping (const uint8_t *data, size_t length) override
  {
    return record ("ping:" + show (data, length), data);
  }
  bool
  on_pong (const uint8_t *data, size_t length) override
  {
    return record ("pong:" + show (data, length), data);
  }
  bool
  on_close (unsigned short code, const std::string &reason) override
  {
    return record ("close:" + std::to_string (code) + ":"
                       + show (reinterpret_cast<const uint8_t *> (reason.data ()), reason.size ()),
                   nullptr);
  }

private:
  bool
  record (const std::string &e, const uint8_t *data)
  {
    events += (events.empty () ? "" : " | ") + e;
    last_data = data;
    return ++count != stop_at;
  }
};

struct Run
{
  std::string events;
  unsigned short code = 0;
  std::string reason;
  bool finished = false;
  size_t buffered = 0;
};

/* @stream fed in @piece-byte reads (0: in one), a copy of it: the reader
 * unmasks in place. Checks that a code, once returned, stays and that
 * nothing is called after it. */
static Run
run (const std::string &stream, size_t piece = 0, const WsReaderConfig &config = {},
     size_t stop_at = 0)
{
  WsFrameReader reader (config);
  Recorder h;
  h.stop_at = stop_at;
  std::vector<uint8_t> bytes (stream.begin (), stream.end ());
  const size_t step = piece > 0 ? piece : std::max<size_t> (1, bytes.size ());
  Run r;
  for (size_t at = 0; at < bytes.size (); at += step)
    {
      const std::string before = h.events;
      const unsigned short code
          = reader.feed (bytes.data () + at, std::min (step, bytes.size () - at), h, 0);
      if (r.code != 0)
        {
          fail_unless_equals_int (code, r.code);
          fail_unless (h.events == before, "called after the error %u: %s", r.code,
                       h.events.c_str ());
        }
      r.code = code;
    }
  return Run{ h.events, r.code, reader.error_reason (), reader.finished (), reader.buffered () };
}

/* @stream in one read, in 1-byte and in 3-byte reads: each must give
 * @events and @code (with @reason unless empty). */
static void
expect_stream (const char *what, const std::string &stream, const std::string &events,
               unsigned short code, const std::string &reason = "",
               const WsReaderConfig &config = {})
{
  for (size_t piece : { 0, 1, 3 })
    {
      const Run r = run (stream, piece, config);
      fail_unless (r.events == events, "%s (%zu-byte reads): events \"%s\", not \"%s\"", what,
                   piece, r.events.c_str (), events.c_str ());
      fail_unless (r.code == code, "%s (%zu-byte reads): code %u (%s), not %u", what, piece, r.code,
                   r.reason.c_str (), code);
      fail_unless (reason.empty () || r.reason == reason,
                   "%s (%zu-byte reads): reason \"%s\", not \"%s\"", what, piece, r.reason.c_str (),
                   reason.c_str ());
      if (code != 0)
        fail_unless (r.finished && r.buffered == 0, "%s: finished %d, %zu bytes still held", what,
                     r.finished, r.buffered);
    }
}

struct ErrorCase
{
  const char *what;
  std::string stream;
  unsigned short code;
  const char *reason;
  const char *events_before;
};

GST_START_TEST (test_protocol_errors)
{
  const std::string hdr64_top = std::string ("\x82\xff\x80\0\0\0\0\0\0\0", 10) + "MASK";
  const ErrorCase cases[] = {
    { "unmasked", frame (0x81, "hello", false), 1002, "unmasked frame", "" },
    { "unmasked after a good one", text ("a") + frame (0x82, "b", false), 1002, "unmasked frame",
      "text:a" },
    { "RSV1", frame (0xc1, "x"), 1002, "reserved bits set", "" },
    { "RSV2", frame (0xa1, "x"), 1002, "reserved bits set", "" },
    { "RSV3", frame (0x91, "x"), 1002, "reserved bits set", "" },
    { "ping without FIN", frame (0x09, "p"), 1002, "fragmented control frame", "" },
    { "close without FIN", frame (0x08, ""), 1002, "fragmented control frame", "" },
    { "ping of 126 bytes", ping (std::string (126, 'p')), 1002, "control frame over 125 bytes",
      "" },
    { "pong of 126 bytes", frame (0x8a, std::string (126, 'p')), 1002,
      "control frame over 125 bytes", "" },
    { "continuation without a message", frame (0x80, "x"), 1002,
      "continuation frame without a message", "" },
    { "non-FIN continuation without a message", frame (0x00, "x"), 1002,
      "continuation frame without a message", "" },
    { "continuation after a whole message", text ("a") + frame (0x80, "x"), 1002,
      "continuation frame without a message", "text:a" },
    { "text inside a fragmented message", frame (0x01, "a") + text ("b"), 1002,
      "new message inside a fragmented message", "" },
    { "binary inside a fragmented message", frame (0x02, "a") + frame (0x02, "b"), 1002,
      "new message inside a fragmented message", "" },
    { "64-bit length, top bit set", hdr64_top, 1002, "64-bit length with its top bit set", "" },
    { "close body of 1 byte", frame (0x88, "\x03"), 1002, "close frame with a 1-byte body", "" },
    { "text not UTF-8", text ("ok\xc3("), 1007, "text message not UTF-8", "" },
    { "fragmented text not UTF-8", frame (0x01, "\xe2\x82") + frame (0x80, "\xac\xff"), 1007,
      "text message not UTF-8", "" },
    { "close reason not UTF-8", close_frame (1000, "bad \xed\xa0\x80"), 1007,
      "close reason not UTF-8", "" },
  };
  for (const ErrorCase &c : cases)
    expect_stream (c.what, c.stream, c.events_before, c.code, c.reason);
}
GST_END_TEST;

GST_START_TEST (test_reserved_opcodes)
{
  for (uint8_t op : { 3, 4, 5, 6, 7, 11, 12, 13, 14, 15 })
    {
      const std::string what = "opcode " + std::to_string (op);
      expect_stream (what.c_str (), frame (0x80 | op, "x"), "", 1002,
                     "reserved opcode " + std::to_string (op));
    }
  for (uint8_t op : { 1, 2, 8, 9, 10 })
    fail_unless (run (frame (0x80 | op, "")).code == 0, "opcode %u refused", op);
}
GST_END_TEST;

GST_START_TEST (test_close_codes)
{
  for (unsigned code : { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                         3000, 3999, 4000, 4999 })
    {
      const std::string what = "close " + std::to_string (code);
      expect_stream (what.c_str (), close_frame (code, "bye") + text ("after"),
                     "close:" + std::to_string (code) + ":bye", 0);
      fail_unless (run (close_frame (code, "")).finished, "%s: not finished", what.c_str ());
    }
  for (unsigned code : { 0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535 })
    {
      const std::string what = "close " + std::to_string (code);
      expect_stream (what.c_str (), close_frame (code, "x"), "", 1002,
                     "invalid close code " + std::to_string (code));
    }
  expect_stream ("empty close", frame (0x88, "") + text ("after"), "close:1005:", 0);
  expect_stream ("close reason of 123 bytes", close_frame (1000, std::string (123, 'r')),
                 "close:1000:" + show (std::string (123, 'r')), 0);
}
GST_END_TEST;

GST_START_TEST (test_utf8)
{
  struct Utf8Case
  {
    const char *what;
    std::string s;
    bool valid;
  };
  const Utf8Case cases[] = {
    { "NUL", std::string ("a\0b", 3), true },
    { "2 bytes", "\xc3\xa9", true },
    { "3 bytes", "\xe2\x82\xac", true },
    { "4 bytes", "\xf0\x9f\x8e\xb5", true },
    { "U+FFFF", "\xef\xbf\xbf", true },
    { "U+FDD0", "\xef\xb7\x90", true },
    { "U+10FFFF", "\xf4\x8f\xbf\xbf", true },
    { "U+D7FF", "\xed\x9f\xbf", true },
    { "long ASCII then é", std::string (37, 'a') + "\xc3\xa9" + std::string (9, 'b'), true },
    { "overlong /", "\xc0\xaf", false },
    { "overlong C1", "\xc1\xbf", false },
    { "overlong 3 bytes", "\xe0\x9f\xbf", false },
    { "overlong 4 bytes", "\xf0\x8f\xbf\xbf", false },
    { "surrogate", "\xed\xa0\x80", false },
    { "over U+10FFFF", "\xf4\x90\x80\x80", false },
    { "F5", "\xf5\x80\x80\x80", false },
    { "FF", "\xff", false },
    { "lone continuation", "a\x80", false },
    { "cut 2 bytes", "\xc3", false },
    { "cut 4 bytes", "\xf0\x9f\x8e", false },
    { "bad second continuation", "\xe2\x82\x41", false },
    { "high byte after 8 ASCII", std::string (8, 'a') + "\x80", false },
  };
  for (const Utf8Case &c : cases)
    {
      const bool got
          = wssac::ws_valid_utf8 (reinterpret_cast<const uint8_t *> (c.s.data ()), c.s.size ());
      fail_unless (got == c.valid, "%s: valid %d, not %d", c.what, got, c.valid);
      expect_stream (c.what, text (c.s), c.valid ? "text:" + show (c.s) : "", c.valid ? 0 : 1007);
    }
  /* a character split between fragments is whole in the message */
  expect_stream ("é across fragments", frame (0x01, "caf\xc3") + frame (0x80, "\xa9"),
                 "text:caf\\xc3\\xa9", 0);
  /* binary is not checked */
  expect_stream ("binary", binary ("\xff\xfe"), "binary:\\xff\\xfe", 0);
}
GST_END_TEST;

GST_START_TEST (test_empty_messages)
{
  expect_stream ("empty",
                 text ("") + binary ("") + frame (0x01, "") + frame (0x80, "") + frame (0x8a, "")
                     + ping (""),
                 "text: | binary: | text: | pong: | ping:", 0);
}
GST_END_TEST;

GST_START_TEST (test_fragments_with_control_frames)
{
  const std::string stream = frame (0x01, "Hel") + ping ("p1") + frame (0x00, "lo")
                             + frame (0x8a, "pong") + frame (0x00, "") + frame (0x80, " world")
                             + frame (0x02, "\x01") + ping ("p2") + frame (0x80, "\x02")
                             + close_frame (1001, "gone");
  expect_stream ("fragments", stream,
                 "ping:p1 | pong:pong | text:Hello world | ping:p2 | binary:\\x01\\x02 | "
                 "close:1001:gone",
                 0);
  const Run r = run (stream);
  fail_unless (r.finished && r.buffered == 0, "finished %d, %zu bytes held", r.finished,
               r.buffered);
}
GST_END_TEST;

/* Messages of every length form, fragments, pings and a close: the same
 * calls in one read as byte by byte or in reads of any other size. */
GST_START_TEST (test_any_reads_same_calls)
{
  std::string big (70000, '\0');
  for (size_t i = 0; i < big.size (); i++)
    big[i] = static_cast<char> (i * 7 + i / 300);
  const std::string stream = text ("first") + binary (big.substr (0, 126)) + ping ("")
                             + frame (0x02, big.substr (0, 1000)) + ping ("between")
                             + frame (0x00, big.substr (1000, 130))
                             + frame (0x80, big.substr (1130)) + text (std::string (65535, 'x'))
                             + binary (big.substr (0, 65536)) + close_frame (1000, "done");
  const Run whole = run (stream);
  fail_unless_equals_int (whole.code, 0);
  fail_unless (whole.events.find ("close:1000:done") != std::string::npos, "%s",
               whole.events.c_str ());
  for (size_t piece : { 1, 2, 5, 13, 125, 126, 1000, 4096, 65537 })
    {
      const Run r = run (stream, piece);
      fail_unless (r.events == whole.events && r.code == whole.code,
                   "%zu-byte reads: \"%s\" (%u), in one: \"%s\"", piece, r.events.c_str (), r.code,
                   whole.events.c_str ());
    }
}
GST_END_TEST;

/* The length forms: the payload comes out as it went in. */
GST_START_TEST (test_lengths)
{
  WsReaderConfig config;
  config.max_message_bytes = 0;
  for (size_t n : { 125, 126, 65535, 65536, 200000 })
    {
      std::string payload (n, '\0');
      for (size_t i = 0; i < n; i++)
        payload[i] = static_cast<char> (i ^ (i >> 8));
      const std::string f = binary (payload);
      const size_t header = n < 126 ? 6 : n <= 0xffff ? 8 : 14;
      fail_unless_equals_int (f.size (), header + n);
      const std::string want = "binary:" + show (payload);
      for (size_t piece : { 0, 7 })
        {
          const Run r = run (f, piece, config);
          fail_unless (r.events == want && r.code == 0, "%zu bytes: %s (%u), not %s", n,
                       r.events.c_str (), r.code, want.c_str ());
        }
    }
}
GST_END_TEST;

/* A whole frame is delivered from the caller's buffer, unmasked there; the
 * cut tail is kept until the next read completes it. */
GST_START_TEST (test_in_place_and_tail)
{
  WsFrameReader reader (WsReaderConfig{});
  Recorder h;
  const std::string one = text ("first"), second = text ("second message");
  std::string s = one + second;
  std::vector<uint8_t> bytes (s.begin (), s.end ());
  /* all of the first frame, the second's header and 4 bytes of its payload */
  const size_t cut = one.size () + 6 + 4;
  fail_unless_equals_int (reader.feed (bytes.data (), cut, h, 0), 0);
  fail_unless_equals_string (h.events.c_str (), "text:first");
  fail_unless (h.last_data == bytes.data () + 6, "delivered from a copy");
  fail_unless (memcmp (bytes.data () + 6, "first", 5) == 0, "not unmasked in place");
  fail_unless_equals_int (reader.buffered (), 4);
  fail_unless_equals_int (reader.feed (bytes.data () + cut, bytes.size () - cut, h, 0), 0);
  fail_unless_equals_string (h.events.c_str (), "text:first | text:second message");
  fail_unless_equals_int (reader.buffered (), 0);
  /* a header cut after its first byte */
  std::vector<uint8_t> again (second.begin (), second.end ());
  fail_unless_equals_int (reader.feed (again.data (), 1, h, 0), 0);
  fail_unless_equals_int (reader.buffered (), 1);
  fail_unless_equals_int (reader.feed (again.data () + 1, again.size () - 1, h, 0), 0);
  fail_unless_equals_string (h.events.c_str (),
                             "text:first | text:second message | text:second message");
  fail_unless (!reader.finished (), "finished");
  /* fragments held: buffered counts them */
  std::string frag = frame (0x01, "abc") + frame (0x00, "de");
  std::vector<uint8_t> fb (frag.begin (), frag.end ());
  fail_unless_equals_int (reader.feed (fb.data (), fb.size (), h, 0), 0);
  fail_unless_equals_int (reader.buffered (), 5);
}
GST_END_TEST;

GST_START_TEST (test_message_limit)
{
  WsReaderConfig config;
  config.max_message_bytes = 1000;
  const std::string at_limit = "binary:" + show (std::string (1000, 'b'));
  expect_stream ("at the limit", binary (std::string (1000, 'b')), at_limit, 0, "", config);
  expect_stream ("at the limit in fragments",
                 frame (0x02, std::string (600, 'b')) + ping ("")
                     + frame (0x80, std::string (400, 'b')),
                 "ping: | " + at_limit, 0, "", config);
  expect_stream ("limit + 1", text ("ok") + binary (std::string (1001, 'b')), "text:ok", 1009,
                 "message over 1000 bytes", config);
  expect_stream ("limit + 1 in fragments",
                 frame (0x02, std::string (600, 'b')) + frame (0x80, std::string (401, 'b')), "",
                 1009, "message over 1000 bytes", config);
  /* refused from the header, before any payload */
  for (size_t n : { 1001, 1 << 20 })
    {
      WsFrameReader reader (config);
      Recorder h;
      const std::string f = binary (std::string (n, 'b'));
      std::vector<uint8_t> bytes (f.begin (), f.end ());
      fail_unless_equals_int (reader.feed (bytes.data (), f.size () - n, h, 0), 1009);
      fail_unless (reader.finished () && reader.buffered () == 0, "%zu bytes held",
                   reader.buffered ());
    }
  /* the fragments' sum is refused at the header of the one that breaks it */
  {
    WsFrameReader reader (config);
    Recorder h;
    const std::string opening = frame (0x02, std::string (600, 'b'));
    std::string f = opening + frame (0x00, std::string (401, 'b'));
    std::vector<uint8_t> bytes (f.begin (), f.end ());
    fail_unless_equals_int (reader.feed (bytes.data (), opening.size (), h, 0), 0);
    fail_unless_equals_int (reader.buffered (), 600);
    /* its 8-byte header alone */
    fail_unless_equals_int (reader.feed (bytes.data () + opening.size (), 8, h, 0), 1009);
  }
  /* 0: no limit */
  config.max_message_bytes = 0;
  fail_unless_equals_int (run (binary (std::string (300000, 'b')), 4096, config).code, 0);
}
GST_END_TEST;

GST_START_TEST (test_ping_flood)
{
  WsReaderConfig config;
  config.pings_per_second = 2;
  config.ping_burst = 3;
  WsFrameReader reader (config);
  Recorder h;
  auto send = [&] (int64_t now_us) {
    std::string p = ping ("x");
    std::vector<uint8_t> bytes (p.begin (), p.end ());
    return reader.feed (bytes.data (), bytes.size (), h, now_us);
  };
  for (int i = 0; i < 3; i++)
    fail_unless_equals_int (send (0), 0);
  /* half a second: one token back */
  fail_unless_equals_int (send (500000), 0);
  fail_unless_equals_int (h.count, 4);
  fail_unless_equals_int (send (600000), 1008);
  fail_unless_equals_string (reader.error_reason ().c_str (), "ping flood");
  fail_unless_equals_int (h.count, 4);
  fail_unless_equals_int (send (10000000), 1008);
  fail_unless_equals_int (h.count, 4);
  /* 0: no limit */
  config.pings_per_second = 0;
  std::string many;
  for (int i = 0; i < 100; i++)
    many += ping ("y");
  fail_unless_equals_int (run (many, 0, config).code, 0);
}
GST_END_TEST;

GST_START_TEST (test_nothing_after_finished)
{
  const std::string three = text ("1") + text ("2") + text ("3");
  /* the handler's false stops at once; later reads call nothing */
  for (size_t piece : { 0, 1 })
    {
      const Run r = run (three + three, piece, WsReaderConfig{}, 2);
      wss_check::expect_fields (
          "stopped", { WSS_FIELD (r, code), WSS_FIELD (r, finished), WSS_FIELD (r, buffered) },
          "code=0 finished=1 buffered=0");
      fail_unless_equals_string (r.events.c_str (), "text:1 | text:2");
    }
  /* after a close */
  const Run closed = run (close_frame (1000, "") + three, 1);
  fail_unless_equals_string (closed.events.c_str (), "close:1000:");
  fail_unless (closed.finished && closed.code == 0, "finished %d code %u", closed.finished,
               closed.code);
  /* after an error: run () checks the code stays and nothing is called */
  const Run failed = run (frame (0x81, "x", false) + three, 2);
  fail_unless_equals_string (failed.events.c_str (), "");
  fail_unless_equals_int (failed.code, 1002);
  /* a handler's false on a ping and on a fragmented message */
  const Run pinged = run (ping ("a") + three, 0, WsReaderConfig{}, 1);
  fail_unless_equals_string (pinged.events.c_str (), "ping:a");
  fail_unless (pinged.finished, "not finished after the handler's false");
  const Run frag = run (frame (0x01, "a") + frame (0x80, "b") + three, 5, WsReaderConfig{}, 1);
  fail_unless (frag.events == "text:ab" && frag.finished && frag.buffered == 0,
               "events %s finished %d buffered %zu", frag.events.c_str (), frag.finished,
               frag.buffered);
}
GST_END_TEST;

/* Counts messages without allocating. */
class MessageCounter : public WsFrameHandler
{
public:
  size_t messages = 0;
  bool
  on_message (bool, const uint8_t *, size_t) override
  {
    messages++;
    return true;
  }
  bool
  on_ping (const uint8_t *, size_t) override
  {
    return true;
  }
  bool
  on_pong (const uint8_t *, size_t) override
  {
    return true;
  }
  bool
  on_close (unsigned short, const std::string &) override
  {
    return true;
  }
};

/* A 1 KB text frame per read allocates nothing; cut in two reads, only the
 * first message does (the buffer is kept). */
GST_START_TEST (test_no_allocation)
{
  std::string json = "{\"action\":\"audioChunk\",\"audio\":\"";
  json += std::string (1024 - json.size () - 2, 'A') + "\"}";
  const std::string f = text (json);
  std::vector<uint8_t> bytes (f.size ());
  WsFrameReader reader (WsReaderConfig{});
  MessageCounter h;
  const size_t before = g_allocations;
  for (int i = 0; i < 100; i++)
    {
      std::copy (f.begin (), f.end (), bytes.begin ());
      fail_unless_equals_int (reader.feed (bytes.data (), bytes.size (), h, i), 0);
    }
  fail_unless_equals_int (h.messages, 100);
  fail_unless_equals_int (g_allocations - before, 0);
  size_t after_first = 0;
  for (int i = 0; i < 100; i++)
    {
      std::copy (f.begin (), f.end (), bytes.begin ());
      fail_unless_equals_int (reader.feed (bytes.data (), 500, h, i), 0);
      fail_unless_equals_int (reader.feed (bytes.data () + 500, bytes.size () - 500, h, i), 0);
      if (i == 0)
        after_first = g_allocations;
    }
  fail_unless_equals_int (h.messages, 200);
  fail_unless_equals_int (g_allocations - after_first, 0);
}
GST_END_TEST;

/* ---- the writer ---- */

static std::string
written (wssac::WsOpcode op, size_t n)
{
  std::string payload (n, 'p');
  std::string out = "before";
  wssac::ws_append_frame (out, op, reinterpret_cast<const uint8_t *> (payload.data ()), n);
  fail_unless (out.compare (0, 6, "before") == 0, "what was there was overwritten");
  fail_unless (out.size () >= 6 + n && out.compare (out.size () - n, n, payload) == 0,
               "%zu-byte payload not at the end", n);
  return out.substr (6, out.size () - 6 - n);
}

GST_START_TEST (test_writer_lengths)
{
  struct LengthCase
  {
    wssac::WsOpcode op;
    size_t n;
    std::string header;
  };
  const LengthCase cases[] = {
    { wssac::WsOpcode::Text, 0, std::string ("\x81\x00", 2) },
    { wssac::WsOpcode::Binary, 125, "\x82\x7d" },
    { wssac::WsOpcode::Binary, 126, std::string ("\x82\x7e\x00\x7e", 4) },
    { wssac::WsOpcode::Text, 65535, "\x81\x7e\xff\xff" },
    { wssac::WsOpcode::Binary, 65536, std::string ("\x82\x7f\0\0\0\0\0\x01\0\0", 10) },
    { wssac::WsOpcode::Pong, 3, "\x8a\x03" },
    { wssac::WsOpcode::Ping, 0, std::string ("\x89\x00", 2) },
  };
  for (const LengthCase &c : cases)
    {
      const std::string h = written (c.op, c.n);
      const std::string got = show (reinterpret_cast<const uint8_t *> (h.data ()), h.size ());
      const std::string want
          = show (reinterpret_cast<const uint8_t *> (c.header.data ()), c.header.size ());
      fail_unless (got == want, "%zu bytes: header %s, not %s", c.n, got.c_str (), want.c_str ());
    }
}
GST_END_TEST;

GST_START_TEST (test_writer_close)
{
  struct CloseCase
  {
    unsigned short code;
    std::string reason;
    std::string want;
  };
  const std::string a121 (121, 'a'), a122 (122, 'a');
  const CloseCase cases[] = {
    { 1000, "bye",
      "\x88\x05\x03\xe8"
      "bye" },
    { 1005, "ignored", std::string ("\x88\x00", 2) },
    { 1009, "", "\x88\x02\x03\xf1" },
    { 4999, "", "\x88\x02\x13\x87" },
    /* 123 bytes fit */
    { 1000, a121 + "\xc3\xa9", "\x88\x7d\x03\xe8" + a121 + "\xc3\xa9" },
    /* 124: the é does not, and is not cut in half */
    { 1000, a122 + "\xc3\xa9", "\x88\x7c\x03\xe8" + a122 },
    { 1000, a121 + "\xe2\x82\xac", "\x88\x7b\x03\xe8" + a121 },
    { 1000, std::string (200, 'z'), "\x88\x7d\x03\xe8" + std::string (123, 'z') },
  };
  for (const CloseCase &c : cases)
    {
      std::string out;
      wssac::ws_append_close (out, c.code, c.reason);
      const std::string got = show (reinterpret_cast<const uint8_t *> (out.data ()), out.size ());
      fail_unless (out == c.want, "close %u \"%s\": %s (%zu bytes)", c.code,
                   c.reason.substr (0, 20).c_str (), got.c_str (), out.size ());
    }
  /* what the writer cuts, the reader takes: the client reads it the same way */
  std::string out;
  wssac::ws_append_close (out, 1000, a122 + "\xc3\xa9");
  std::string masked = frame (0x88, out.substr (2));
  /* kept in variables: the check macro holds the pointers past the statement */
  const std::string got = run (masked).events, want = "close:1000:" + show (a122);
  fail_unless_equals_string (got.c_str (), want.c_str ());
}
GST_END_TEST;

WSS_CHECK_MAIN (ws_frame, "ws-frame",
                { "reader", 0,
                  WSS_TESTS (test_protocol_errors, test_reserved_opcodes, test_close_codes,
                             test_utf8, test_empty_messages, test_fragments_with_control_frames,
                             test_any_reads_same_calls, test_lengths, test_in_place_and_tail,
                             test_message_limit, test_ping_flood, test_nothing_after_finished,
                             test_no_allocation) },
                { "writer", 0, WSS_TESTS (test_writer_lengths, test_writer_close) });
