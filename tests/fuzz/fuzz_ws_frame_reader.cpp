/* libFuzzer target: WsFrameReader, the ingest server's reader of RFC 6455
 * client frames (gst-libs/wssaudiochunk/protocol/ws-frame-reader.h).
 *
 * Input: a settings byte, a cut list, then by the settings' mode:
 *   settings  bits 0-1 message limit (none, 64, 1000, 128 KiB), bit 2 ping
 *             limit (burst 3), bit 3 mode (0 stream, 1 round trip), bits
 *             4-7 the handler returns false at that call (0: never; stream
 *             mode only)
 *   cut list  a count byte (1 + count % 8 cuts), then one byte per cut: the
 *             split run reads 1 + byte bytes at a time, cycling through them
 *   stream mode: the rest is the client's byte stream.
 *   round trip: items until the input ends, each an op byte (bits 0-1 text,
 *             binary, ping, pong; bit 2 64-bit lengths; bits 3-5 fragments
 *             - 1; bit 6 a ping between fragments; bit 7 text made valid
 *             UTF-8), a length (u16 % 4097; control frames % 126), the
 *             payload, the mask (u32) and a fragment cut (u16) per
 *             fragment after the first; an op byte 0xff ends the list with
 *             a close frame (a code byte, then the reason to the end).
 * Properties:
 *   (a) the stream fed in one read and in reads cut as the cut list says
 *       gives the same calls, code, reason, finished () and buffered ();
 *   (b) messages framed by the masking client encoder (ws-client-frame.h) (fragments of
 *       any size, pings between them, either length form) come out
 *       identical, with the code a model of the rules predicts (1009 at
 *       the fragment that breaks the limit, 1008 at the ping past the
 *       burst, 1007 at the end of a text message GLib says is not UTF-8);
 *   (c) no message over the limit is delivered, a text message is valid
 *       UTF-8 for GLib, buffered () never exceeds the limit + a header +
 *       a control frame's 125 bytes, once a code is returned it stays and
 *       nothing is called after finished ();
 *   (d) ws_valid_utf8 () agrees with g_utf8_validate_len () (on the
 *       stretches between NUL bytes, which GLib refuses) on every input. */
#include "fuzz-util.h"
#include "ws-client-frame.h"

#include "ws-frame-reader.h"

#include <glib.h>

#include <algorithm>

using wssac::WsFrameHandler;
using wssac::WsFrameReader;
using wssac::WsReaderConfig;

namespace
{

constexpr double kPingBurst = 3;
constexpr size_t kMaxHeader = 14;
constexpr size_t kMaxControl = 125;

/* GLib's verdict, NUL bytes allowed. */
bool
glib_utf8 (const uint8_t *p, size_t n)
{
  const uint8_t *end = p + n;
  while (p < end)
    {
      const uint8_t *nul = static_cast<const uint8_t *> (memchr (p, 0, end - p));
      const uint8_t *stop = nul ? nul : end;
      if (stop > p && !g_utf8_validate_len (reinterpret_cast<const char *> (p), stop - p, nullptr))
        return false;
      p = nul ? nul + 1 : end;
    }
  return true;
}

/* Every call as a string: kind letter then payload (close: code, reason). */
class Recorder : public WsFrameHandler
{
public:
  Recorder (const WsFrameReader &reader, size_t limit, size_t stop_at)
      : reader_ (reader), limit_ (limit), stop_at_ (stop_at)
  {
  }
  std::vector<std::string> calls;

  bool
  on_message (bool binary, const uint8_t *data, size_t length) override
  {
    FUZZ_CHECK (limit_ == 0 || length <= limit_, "a %zu-byte message over the %zu limit", length,
                limit_);
    FUZZ_CHECK (binary || glib_utf8 (data, length), "a text message GLib says is not UTF-8");
    return record (binary ? 'b' : 't', data, length);
  }
  bool
  on_ping (const uint8_t *data, size_t length) override
  {
    FUZZ_CHECK (length <= kMaxControl, "%zu-byte ping", length);
    return record ('i', data, length);
  }
  bool
  on_pong (const uint8_t *data, size_t length) override
  {
    FUZZ_CHECK (length <= kMaxControl, "%zu-byte pong", length);
    return record ('o', data, length);
  }
  bool
  on_close (unsigned short code, const std::string &reason) override
  {
    FUZZ_CHECK (reader_.finished (), "not finished () in on_close");
    FUZZ_CHECK (glib_utf8 (reinterpret_cast<const uint8_t *> (reason.data ()), reason.size ()),
                "close reason not UTF-8");
    std::string c = "c" + std::to_string (code) + ":" + reason;
    record ('c', reinterpret_cast<const uint8_t *> (c.data () + 1), c.size () - 1);
    return true;
  }

private:
  bool
  record (char kind, const uint8_t *data, size_t length)
  {
    FUZZ_CHECK (!reader_.finished () || kind == 'c', "a call after finished ()");
    calls.push_back (kind + std::string (reinterpret_cast<const char *> (data), length));
    return calls.size () != stop_at_;
  }
  const WsFrameReader &reader_;
  size_t limit_;
  size_t stop_at_;
};

struct Outcome
{
  std::vector<std::string> calls;
  unsigned short code = 0;
  std::string reason;
  bool finished = false;
  size_t buffered = 0;
};

/* @stream (copied: it is unmasked in place) in reads of @cuts bytes, in
 * turn; an empty @cuts: one read. Checks (c) after every read. */
Outcome
feed (const std::vector<uint8_t> &stream, const std::vector<size_t> &cuts,
      const WsReaderConfig &config, size_t stop_at)
{
  WsFrameReader reader (config);
  Recorder rec (reader, config.max_message_bytes, stop_at);
  std::vector<uint8_t> bytes (stream);
  Outcome o;
  size_t at = 0, turn = 0;
  while (at < bytes.size ())
    {
      const size_t n = cuts.empty () ? bytes.size ()
                                     : std::min (cuts[turn++ % cuts.size ()], bytes.size () - at);
      const bool was_finished = reader.finished ();
      const size_t calls_before = rec.calls.size ();
      const unsigned short code = reader.feed (bytes.data () + at, n, rec, 0);
      at += n;
      FUZZ_CHECK (code == reader.error (), "feed () %u, error () %u", code, reader.error ());
      FUZZ_CHECK (o.code == 0 || code == o.code, "code %u became %u", o.code, code);
      FUZZ_CHECK (!was_finished || rec.calls.size () == calls_before, "called after finished ()");
      FUZZ_CHECK (code == 0 || reader.finished (), "code %u but not finished ()", code);
      FUZZ_CHECK (config.max_message_bytes == 0
                      || reader.buffered () <= config.max_message_bytes + kMaxHeader + kMaxControl,
                  "%zu bytes held, limit %zu", reader.buffered (), config.max_message_bytes);
      o.code = code;
    }
  return Outcome{ rec.calls, o.code, reader.error_reason (), reader.finished (),
                  reader.buffered () };
}

void
check_same (const Outcome &a, const Outcome &b, const char *what)
{
  FUZZ_CHECK (a.code == b.code, "%s: code %u (%s), in one read %u (%s)", what, b.code,
              b.reason.c_str (), a.code, a.reason.c_str ());
  FUZZ_CHECK (a.reason == b.reason, "%s: reason \"%s\", in one read \"%s\"", what,
              b.reason.c_str (), a.reason.c_str ());
  FUZZ_CHECK (a.calls.size () == b.calls.size (), "%s: %zu calls, in one read %zu", what,
              b.calls.size (), a.calls.size ());
  for (size_t i = 0; i < a.calls.size (); i++)
    FUZZ_CHECK (a.calls[i] == b.calls[i], "%s: call %zu (%c, %zu bytes) differs", what, i,
                b.calls[i][0], b.calls[i].size () - 1);
  FUZZ_CHECK (a.finished == b.finished && a.buffered == b.buffered,
              "%s: finished %d buffered %zu, in one read %d %zu", what, b.finished, b.buffered,
              a.finished, a.buffered);
}

/* What the reader must answer to the frames round_trip () wrote. */
struct Model
{
  const WsReaderConfig &config;
  std::vector<std::string> calls;
  unsigned short code = 0;
  size_t pings = 0;

  bool
  ping (const std::string &payload, char kind = 'i')
  {
    if (kind == 'i' && config.pings_per_second > 0 && ++pings > kPingBurst)
      code = 1008;
    else
      calls.push_back (kind + payload);
    return code == 0;
  }
};

void
round_trip (fuzz::Reader &in, const WsReaderConfig &config, const std::vector<size_t> &cuts)
{
  std::vector<uint8_t> stream;
  Model model{ config };
  bool closed = false;
  for (int item = 0; item < 64 && !in.empty () && !closed; item++)
    {
      const uint8_t op = in.u8 ();
      if (op == 0xff)
        {
          static const uint16_t kCodes[] = { 1000, 1001, 1003, 1011, 3000, 4999, 1005, 1004 };
          const uint16_t code = kCodes[in.u8 () % 8];
          std::string body{ static_cast<char> (code >> 8), static_cast<char> (code) };
          body += in.str (std::min<size_t> (in.remaining (), 123));
          const uint8_t *b = reinterpret_cast<const uint8_t *> (body.data ());
          fuzz::ws_client_frame (stream, 0x88, b, code == 1005 ? 0 : body.size (), in.u32 (),
                                 false);
          if (model.code == 0)
            {
              if (code == 1004)
                model.code = 1002;
              else if (!glib_utf8 (b + 2, body.size () - 2) && code != 1005)
                model.code = 1007;
              else
                model.calls.push_back ("c" + std::to_string (code) + ":"
                                       + (code == 1005 ? "" : body.substr (2)));
            }
          closed = true;
          break;
        }
      const int kind = op & 3;
      const bool long_form = (op & 4) != 0;
      size_t length = in.u16 () % 4097;
      if (kind >= 2)
        length %= 126;
      std::string payload = in.str (length);
      if (kind == 0 && (op & 0x80))
        {
          gchar *valid = g_utf8_make_valid (payload.data (), payload.size ());
          payload = valid;
          g_free (valid);
        }
      const uint32_t mask = in.u32 ();
      const uint8_t *p = reinterpret_cast<const uint8_t *> (payload.data ());
      if (kind >= 2)
        {
          /* control frames: the 7-bit length only */
          fuzz::ws_client_frame (stream, kind == 2 ? 0x89 : 0x8a, p, payload.size (), mask);
          if (model.code == 0)
            model.ping (payload, kind == 2 ? 'i' : 'o');
          continue;
        }
      /* fragment boundaries, in order */
      const size_t fragments = 1 + ((op >> 3) & 7);
      std::vector<size_t> ends;
      for (size_t f = 1; f < fragments; f++)
        ends.push_back (in.u16 () % (payload.size () + 1));
      ends.push_back (payload.size ());
      std::sort (ends.begin (), ends.end ());
      size_t start = 0;
      for (size_t f = 0; f < fragments; f++)
        {
          const bool fin = f + 1 == fragments;
          const uint8_t b0 = (fin ? 0x80 : 0) | (f == 0 ? (kind == 0 ? 1 : 2) : 0);
          fuzz::ws_client_frame (stream, b0, p + start, ends[f] - start, mask + f, long_form);
          if (model.code == 0 && config.max_message_bytes > 0 && ends[f] > config.max_message_bytes)
            model.code = 1009;
          start = ends[f];
          if (!fin && (op & 0x40))
            {
              const std::string between (1, static_cast<char> (f));
              fuzz::ws_client_frame (stream, 0x89,
                                     reinterpret_cast<const uint8_t *> (between.data ()), 1,
                                     mask ^ 0x5a5a5a5a, false);
              if (model.code == 0)
                model.ping (between);
            }
        }
      if (model.code == 0)
        {
          if (kind == 0 && !glib_utf8 (p, payload.size ()))
            model.code = 1007;
          else
            model.calls.push_back ((kind == 0 ? 't' : 'b') + payload);
        }
    }
  /* nothing may come out of what follows a close */
  if (closed)
    fuzz::ws_client_frame (stream, 0x81, reinterpret_cast<const uint8_t *> ("late"), 4, 7, false);

  const Outcome got = feed (stream, cuts, config, 0);
  FUZZ_CHECK (got.code == model.code, "code %u (%s), the model says %u", got.code,
              got.reason.c_str (), model.code);
  FUZZ_CHECK (got.calls == model.calls, "%zu calls, the model says %zu (or one differs)",
              got.calls.size (), model.calls.size ());
  FUZZ_CHECK (got.finished == (closed || model.code != 0), "finished %d", got.finished);
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  FUZZ_CHECK (wssac::ws_valid_utf8 (data, size) == glib_utf8 (data, size),
              "ws_valid_utf8 () says %d, GLib the other", wssac::ws_valid_utf8 (data, size));
  fuzz::Reader in (data, size);
  const uint8_t settings = in.u8 ();
  static const size_t kLimits[] = { 0, 64, 1000, 128 * 1024 };
  WsReaderConfig config;
  config.max_message_bytes = kLimits[settings & 3];
  config.pings_per_second = (settings & 4) ? 5 : 0;
  config.ping_burst = kPingBurst;
  std::vector<size_t> cuts (1 + in.u8 () % 8);
  for (size_t &c : cuts)
    c = 1 + in.u8 ();

  if (settings & 8)
    {
      round_trip (in, config, cuts);
      return 0;
    }
  const std::vector<uint8_t> stream = in.bytes (in.remaining ());
  const size_t stop_at = settings >> 4;
  const Outcome whole = feed (stream, {}, config, stop_at);
  const Outcome split = feed (stream, cuts, config, stop_at);
  check_same (whole, split, "cut reads");
  const Outcome bytewise = feed (stream, { 1 }, config, stop_at);
  check_same (whole, bytewise, "1-byte reads");
  return 0;
}
