/* libFuzzer target: the two byte-stream pieces of the core,
 * gst-libs/wssaudiochunk/core/chunker.cpp (sender) and reassembler.cpp
 * (receiver), each against a small model of what it must do.
 *
 * Input format (fuzz::Reader; zeros past the end): byte 0 & 1 picks the
 * class: 0 Chunker, 1 Reassembler.
 *
 * Chunker: 3 config bytes (chunk duration, max_bytes, caps stream header
 * length + that many bytes), then operations, op = byte % 8:
 *   0 HEADER, 1 CLUSTER, 2 DELTA, 3 DELTA   a muxer buffer: flags byte
 *     (bit0 has pts, bit1 has duration), u16 size (% 2048) and the bytes,
 *     u16 pts advance and u16 duration (units of 0.1 ms); pts never go
 *     back, as a muxer's do
 *   4 drop_pending, 5 finish, 6 reset, 7 set_caps_stream_header (u8 len)
 * Checked: every chunk is exactly the stream header (first chunk only) plus
 * the whole media buffers pushed since the previous chunk, never part of
 * one, so the chunks concatenated are the header plus every media byte not
 * dropped by drop_pending/reset; a cut before a buffer that does not start
 * a cluster happens only when cutting by time or over max_bytes; a chunk of
 * two or more buffers stays within max_bytes + kMaxBytesMargin; start,
 * duration, starts_on_cluster, starts_with_stream_header and
 * late_header_buffers agree with what was pushed.
 *
 * Reassembler: 2 config bytes (max_pending_chunks, max_wait_ms,
 * max_index_jump, first_index), then operations, op = byte % 4:
 *   0, 1 push: index byte (< 240: next_index - 4 .. + 11; else u32 from the
 *        input, absolute), payload size byte (% 17), time advance byte (ms)
 *   2 tick after a u16 ms advance
 *   3 flush
 * Checked against a model: each push's result (Accepted, Duplicate, Late
 * (within the remembered skipped ranges), OutOfRange); delivered indices
 * strictly increasing, consecutive unless discont, skipped_before equal to
 * the hole; every delivered payload is the one accepted for that index and
 * is delivered once; next_index (), every stats () counter, pending
 * chunks/bytes (bounded by max_pending_chunks: bounded memory); after push
 * or tick nothing overdue; after flush nothing pending.
 * Seeds: tests/fuzz/corpus/fuzz_chunker_reassembler (gen-corpus.cpp;
 * record-corpus.py for the real webmmux buffer sequences). */
#include "fuzz-util.h"

#include "chunker.h"
#include "reassembler.h"

#include <algorithm>
#include <cinttypes>
#include <map>
#include <string>
#include <vector>

using namespace wssac;

namespace
{

/* FUZZ_TRACE=1 build-fuzz/tests/fuzz/fuzz_chunker_reassembler FILE: what a script does. */
const bool kTrace = std::getenv ("FUZZ_TRACE") != nullptr;

/* ---------------------------------------------------------------- */
/* Chunker                                                          */
/* ---------------------------------------------------------------- */

struct PushedBuf
{
  std::vector<uint8_t> bytes;
  bool cluster = false;
  int64_t pts = kNoTime;
};

struct ChunkerModel
{
  std::vector<uint8_t> header_bufs, caps_header;
  bool media_started = false;
  bool first_sent = false;
  bool skipping = false;
  uint64_t late = 0;
  bool have_current = false;
  std::vector<uint8_t> prefix; /* the stream header, in the first chunk */
  std::vector<PushedBuf> bufs; /* media buffers in the current chunk */

  const std::vector<uint8_t> &stream_header () const { return header_bufs.empty () ? caps_header : header_bufs; }
  void reset () { *this = ChunkerModel (); }
};

void
check_chunk (const ChunkerModel &m, const Chunk &c, size_t max_bytes, const char *how)
{
  std::vector<uint8_t> expect = m.prefix;
  for (const auto &b : m.bufs)
    expect.insert (expect.end (), b.bytes.begin (), b.bytes.end ());
  FUZZ_CHECK (c.bytes == expect, "%s chunk: %zu bytes, expected the header (%zu) + %zu whole buffers = %zu bytes",
              how, c.bytes.size (), m.prefix.size (), m.bufs.size (), expect.size ());
  FUZZ_CHECK (c.starts_with_stream_header == !m.prefix.empty (), "%s chunk: starts_with_stream_header %d", how,
              c.starts_with_stream_header);
  FUZZ_CHECK (!m.bufs.empty (), "%s chunk without a media buffer", how);
  FUZZ_CHECK (c.starts_on_cluster == m.bufs.front ().cluster, "%s chunk: starts_on_cluster %d", how,
              c.starts_on_cluster);
  int64_t first_pts = kNoTime;
  for (const auto &b : m.bufs)
    if (b.pts != kNoTime)
      {
        first_pts = b.pts;
        break;
      }
  FUZZ_CHECK (c.start == first_pts, "%s chunk: start %" PRId64 ", first pts %" PRId64, how, c.start, first_pts);
  FUZZ_CHECK (c.duration == kNoTime || c.duration >= 0, "%s chunk: negative duration %" PRId64, how, c.duration);
  /* Over max_bytes, a chunk closes before the next buffer once it holds
   * media bytes (a chunk of the stream header alone, or of empty buffers,
   * takes the next buffer whatever its size). */
  size_t nonempty = 0;
  for (const auto &b : m.bufs)
    nonempty += !b.bytes.empty ();
  if (max_bytes > 0 && nonempty >= 2)
    FUZZ_CHECK (c.bytes.size () <= max_bytes + Chunker::kMaxBytesMargin,
                "%s chunk of %zu non-empty buffers: %zu bytes over max_bytes %zu + margin", how, nonempty,
                c.bytes.size (), max_bytes);
}

void
run_chunker (fuzz::Reader &in)
{
  static const int64_t durations[] = { 250000000, 20000000, 1000000000, 10000000000, 100000000, 1, 60000000000,
                                       500000000 };
  static const size_t max_bytes_choice[] = { 0, 1500, 200, 64, 4096, 1, 0, 0 };
  uint8_t b0 = in.u8 ();
  Chunker ch (durations[b0 & 7]);
  const size_t max_bytes = max_bytes_choice[(b0 >> 3) & 7];
  if (kTrace)
    std::fprintf (stderr, "chunker: duration %" PRId64 " max_bytes %zu\n", ch.chunk_duration (), max_bytes);
  ch.set_max_bytes (max_bytes);
  ChunkerModel m;
  uint8_t b1 = in.u8 ();
  if (b1)
    {
      m.caps_header = in.bytes (b1 % 64);
      ch.set_caps_stream_header (m.caps_header);
    }
  (void) in.u8 (); /* reserved */

  int64_t clock = 0;
  std::vector<Chunk> out;
  for (int ops = 0; !in.empty () && ops < 5000; ops++)
    {
      uint8_t op = in.u8 () % 8;
      if (op <= 3)
        {
          uint8_t flags = in.u8 ();
          std::vector<uint8_t> data = in.bytes (in.u16 () % 2048);
          int64_t adv = in.u16 () * 100000LL, dur = in.u16 () * 100000LL;
          MuxerBuffer b;
          b.data = data.data ();
          b.size = data.size ();
          b.header = op == 0;
          b.delta = op >= 2;
          b.pts = (flags & 1) ? clock : kNoTime;
          b.duration = (flags & 2) ? dur : kNoTime;
          clock += adv;

          out.clear ();
          if (kTrace)
            std::fprintf (stderr, "push %s %zu bytes pts %" PRId64 " dur %" PRId64 "\n",
                          b.header ? "header" : b.delta ? "delta" : "cluster", b.size, b.pts, b.duration);
          ch.push (b, out);
          if (kTrace && !out.empty ())
            std::fprintf (stderr, "  chunk %zu bytes start %" PRId64 " duration %" PRId64 " header %d\n",
                          out[0].bytes.size (), out[0].start, out[0].duration, out[0].starts_with_stream_header);
          FUZZ_CHECK (out.size () <= 1, "%zu chunks from one buffer", out.size ());

          if (b.header)
            {
              FUZZ_CHECK (out.empty (), "a chunk emitted on a header buffer");
              if (m.media_started)
                m.late++;
              else
                m.header_bufs.insert (m.header_bufs.end (), data.begin (), data.end ());
              FUZZ_CHECK (ch.late_header_buffers () == m.late, "late_header_buffers %" PRIu64 ", model %" PRIu64,
                          ch.late_header_buffers (), m.late);
              FUZZ_CHECK (ch.stream_header () == m.stream_header (), "stream header differs");
              continue;
            }
          m.media_started = true;
          const bool cluster = !b.delta;
          if (m.skipping)
            {
              if (!cluster)
                {
                  FUZZ_CHECK (out.empty (), "a chunk while skipping to a cluster");
                  continue;
                }
              m.skipping = false;
            }
          if (!m.have_current)
            FUZZ_CHECK (out.empty (), "a chunk emitted with nothing held");
          if (!out.empty ())
            {
              check_chunk (m, out[0], max_bytes, "cut");
              size_t held_bytes = out[0].bytes.size () + data.size ();
              FUZZ_CHECK (cluster || ch.cutting_by_time () || (max_bytes > 0 && held_bytes > max_bytes),
                          "cut before a delta buffer, not cutting by time, %zu bytes within max_bytes %zu",
                          held_bytes, max_bytes);
              m.first_sent = true;
              m.have_current = false;
            }
          if (!m.have_current)
            {
              m.have_current = true;
              m.bufs.clear ();
              m.prefix = m.first_sent ? std::vector<uint8_t> () : m.stream_header ();
            }
          m.bufs.push_back (PushedBuf{ data, cluster, b.pts });
        }
      else if (op == 4)
        {
          if (kTrace)
            std::fprintf (stderr, "drop_pending\n");
          ch.drop_pending ();
          m.have_current = false;
          m.bufs.clear ();
          m.skipping = true;
        }
      else if (op == 5)
        {
          Chunk c;
          bool got = ch.finish (c);
          FUZZ_CHECK (got == m.have_current, "finish () returned %d with %zu buffers held", got, m.bufs.size ());
          if (got)
            {
              check_chunk (m, c, max_bytes, "last");
              m.first_sent = true;
              m.have_current = false;
              m.bufs.clear ();
            }
        }
      else if (op == 6)
        {
          if (kTrace)
            std::fprintf (stderr, "reset\n");
          ch.reset ();
          m.reset ();
          FUZZ_CHECK (ch.stream_header ().empty () && ch.late_header_buffers () == 0, "reset kept state");
        }
      else
        {
          m.caps_header = in.bytes (in.u8 () % 64);
          if (kTrace)
            std::fprintf (stderr, "caps stream header %zu bytes\n", m.caps_header.size ());
          ch.set_caps_stream_header (m.caps_header);
        }
    }
  Chunk c;
  bool got = ch.finish (c);
  FUZZ_CHECK (got == m.have_current, "final finish () returned %d", got);
  if (got)
    check_chunk (m, c, max_bytes, "final");
}

/* ---------------------------------------------------------------- */
/* Reassembler                                                      */
/* ---------------------------------------------------------------- */

struct ReassemblerModel
{
  ReassemblerConfig config;
  uint64_t next = 0;
  std::map<uint64_t, std::vector<uint8_t>> pending;
  uint64_t pending_bytes = 0;
  std::vector<std::pair<uint64_t, uint64_t>> skipped; /* the last kMaxSkippedRanges */
  ReassemblerStats stats;

  bool was_skipped (uint64_t i) const
  {
    for (const auto &r : skipped)
      if (i >= r.first && i <= r.second)
        return true;
    return false;
  }
};

void
check_delivered (ReassemblerModel &m, std::vector<Delivered> &out)
{
  for (const Delivered &d : out)
    {
      if (d.discont)
        {
          FUZZ_CHECK (d.index > m.next, "discont at %" PRIu64 ", not after next %" PRIu64, d.index, m.next);
          FUZZ_CHECK (d.skipped_before == d.index - m.next, "discont at %" PRIu64 " after %" PRIu64
                      " says %" PRIu64 " skipped", d.index, m.next, d.skipped_before);
          m.skipped.emplace_back (m.next, d.index - 1);
          if (m.skipped.size () > Reassembler::kMaxSkippedRanges)
            m.skipped.erase (m.skipped.begin ());
          m.stats.gaps++;
          m.stats.missing += d.skipped_before;
        }
      else
        {
          FUZZ_CHECK (d.index == m.next, "delivered %" PRIu64 " while %" PRIu64 " was next, no discont", d.index,
                      m.next);
          FUZZ_CHECK (d.skipped_before == 0, "skipped_before without discont");
        }
      auto it = m.pending.find (d.index);
      FUZZ_CHECK (it != m.pending.end (), "delivered %" PRIu64 ", which was not accepted or went already", d.index);
      FUZZ_CHECK (it->second == d.bytes, "delivered %" PRIu64 " with other bytes than accepted", d.index);
      m.pending_bytes -= it->second.size ();
      m.pending.erase (it);
      m.next = d.index + 1;
      m.stats.delivered++;
    }
  out.clear ();
}

void
check_reassembler (const ReassemblerModel &m, const Reassembler &r, int64_t now, bool expired)
{
  FUZZ_CHECK (r.next_index () == m.next, "next_index %" PRIu64 ", model %" PRIu64, r.next_index (), m.next);
  ReassemblerStats s = r.stats ();
  FUZZ_CHECK (s.delivered == m.stats.delivered && s.duplicates == m.stats.duplicates && s.late == m.stats.late
                  && s.out_of_range == m.stats.out_of_range && s.gaps == m.stats.gaps
                  && s.missing == m.stats.missing,
              "stats: delivered %" PRIu64 "/%" PRIu64 " dup %" PRIu64 "/%" PRIu64 " late %" PRIu64 "/%" PRIu64
              " oor %" PRIu64 "/%" PRIu64 " gaps %" PRIu64 "/%" PRIu64 " missing %" PRIu64 "/%" PRIu64,
              s.delivered, m.stats.delivered, s.duplicates, m.stats.duplicates, s.late, m.stats.late,
              s.out_of_range, m.stats.out_of_range, s.gaps, m.stats.gaps, s.missing, m.stats.missing);
  FUZZ_CHECK (s.pending_chunks == m.pending.size () && s.pending_bytes == m.pending_bytes,
              "pending %" PRIu64 " chunks / %" PRIu64 " bytes, model %zu / %" PRIu64, s.pending_chunks,
              s.pending_bytes, m.pending.size (), m.pending_bytes);
  FUZZ_CHECK (s.pending_chunks <= m.config.max_pending_chunks, "%" PRIu64 " chunks pending, bound %u",
              s.pending_chunks, m.config.max_pending_chunks);
  int64_t deadline = r.next_deadline_ms ();
  FUZZ_CHECK ((deadline < 0) == m.pending.empty (), "deadline %" PRId64 " with %zu pending", deadline,
              m.pending.size ());
  if (expired)
    FUZZ_CHECK (deadline < 0 || deadline > now, "deadline %" PRId64 " overdue at %" PRId64, deadline, now);
}

void
run_reassembler (fuzz::Reader &in)
{
  uint8_t b0 = in.u8 (), b1 = in.u8 ();
  ReassemblerModel m;
  static const uint32_t pending[] = { 16, 0, 1, 2, 3, 5, 8, 64 };
  m.config.max_pending_chunks = pending[b0 & 7];
  static const int64_t wait[] = { 1000, 0, 50, 250, -5, int64_t (1) << 62, INT64_MAX, 1 };
  m.config.max_wait_ms = wait[(b0 >> 3) & 7];
  static const uint64_t jump[] = { 100000, 4, 64, 0 };
  m.config.max_index_jump = jump[(b0 >> 6) & 3];
  static const uint64_t first[] = { 0, 1, 7, (uint64_t (1) << 53) - 3 };
  m.config.first_index = first[b1 & 3];
  int64_t now = (b1 & 4) ? INT64_MAX / 2 : 0; /* a monotonic clock may start anywhere */
  m.next = m.config.first_index;

  Reassembler r (m.config);
  std::vector<Delivered> out;
  for (int ops = 0; !in.empty () && ops < 5000; ops++)
    {
      uint8_t op = in.u8 () % 4;
      if (op <= 1)
        {
          uint8_t ib = in.u8 ();
          uint64_t index;
          if (ib < 240)
            index = (m.next + ib % 16 < 4) ? 0 : m.next + ib % 16 - 4;
          else
            index = in.u32 ();
          uint8_t size = in.u8 () % 17;
          std::vector<uint8_t> bytes (size);
          for (size_t i = 0; i < size; i++)
            bytes[i] = static_cast<uint8_t> (index * 13 + i);
          now += in.u8 ();

          PushResult expect;
          if (index < m.next)
            expect = m.was_skipped (index) ? PushResult::Late : PushResult::Duplicate;
          else if (index - m.next > m.config.max_index_jump)
            expect = PushResult::OutOfRange;
          else if (m.pending.count (index))
            expect = PushResult::Duplicate;
          else
            expect = PushResult::Accepted;

          PushResult got = r.push (index, bytes, now, out);
          FUZZ_CHECK (got == expect, "push (%" PRIu64 ") with next %" PRIu64 ": result %d, expected %d", index,
                      m.next, (int) got, (int) expect);
          switch (got)
            {
            case PushResult::Accepted:
              m.pending[index] = bytes;
              m.pending_bytes += bytes.size ();
              break;
            case PushResult::Duplicate:
              m.stats.duplicates++;
              break;
            case PushResult::Late:
              m.stats.late++;
              break;
            case PushResult::OutOfRange:
              m.stats.out_of_range++;
              break;
            }
          if (got != PushResult::Accepted)
            FUZZ_CHECK (out.empty (), "a refused push delivered something");
          check_delivered (m, out);
          /* Only an accepted chunk runs the deadlines: a refused one returns
           * at once, and the caller's timer (next_deadline_ms) does it. */
          check_reassembler (m, r, now, got == PushResult::Accepted);
        }
      else if (op == 2)
        {
          now += in.u16 ();
          r.tick (now, out);
          check_delivered (m, out);
          check_reassembler (m, r, now, true);
        }
      else
        {
          r.flush (out);
          check_delivered (m, out);
          FUZZ_CHECK (m.pending.empty (), "%zu chunks left after flush", m.pending.size ());
          check_reassembler (m, r, now, false);
        }
    }
  r.flush (out);
  check_delivered (m, out);
  FUZZ_CHECK (m.pending.empty (), "%zu chunks left after the final flush", m.pending.size ());
  check_reassembler (m, r, now, false);
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz::Reader in (data, size);
  if (in.u8 () & 1)
    run_reassembler (in);
  else
    run_chunker (in);
  return 0;
}
