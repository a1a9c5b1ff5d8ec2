/* Unit tests of wssac::Reassembler: chunk order restored on the receiver. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "enum-name.h"
#include "expect-fields.h"
#include "reassembler.h"

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

using wssac::Delivered;
using wssac::PushResult;
using wssac::Reassembler;
using wssac::ReassemblerConfig;
using wssac::ReassemblerStats;

static const char *
result_name (PushResult r)
{
  return WSS_ENUM_NAME (r, PushResult::Accepted, PushResult::Duplicate, PushResult::Late,
                        PushResult::OutOfRange);
}

/* A payload that names its index, so a mix-up shows in the bytes too. */
static std::vector<uint8_t>
payload (uint64_t index, size_t size = 4)
{
  std::vector<uint8_t> bytes (size);
  for (size_t i = 0; i < size; i++)
    bytes[i] = static_cast<uint8_t> ((index >> (8 * (i % 8))) + i);
  return bytes;
}

static void
check_delivered (const Delivered &d, uint64_t index, bool discont, uint64_t skipped_before)
{
  fail_unless_equals_uint64 (d.index, index);
  fail_unless (d.bytes == payload (index), "payload of index %" G_GUINT64_FORMAT " mixed up",
               index);
  fail_unless_equals_int (d.discont, discont);
  fail_unless_equals_uint64 (d.skipped_before, skipped_before);
}

/* The default config with @change applied. */
template <typename Change>
static ReassemblerConfig
configured (Change change)
{
  ReassemblerConfig cfg;
  change (cfg);
  return cfg;
}

/* Pushes and checks the result, returning what was delivered by this push. */
static std::vector<Delivered>
push_expect (Reassembler &r, uint64_t index, int64_t now_ms, PushResult expected)
{
  std::vector<Delivered> out;
  PushResult res = r.push (index, payload (index), now_ms, out);
  fail_unless_equals_string (result_name (res), result_name (expected));
  return out;
}

/* @r's stats, next_index and next_deadline_ms against @want
 * ("name=value ...", expect-fields.h). */
static void
expect_stats (const Reassembler &r, const std::string &want)
{
  const ReassemblerStats s = r.stats ();
  wss_check::expect_fields ("reassembler",
                            { WSS_FIELD (s, delivered), WSS_FIELD (s, duplicates),
                              WSS_FIELD (s, late), WSS_FIELD (s, out_of_range), WSS_FIELD (s, gaps),
                              WSS_FIELD (s, missing), WSS_FIELD (s, pending_chunks),
                              WSS_FIELD (s, pending_bytes), WSS_FIELD (r, next_index ()),
                              WSS_FIELD (r, next_deadline_ms ()) },
                            want);
}

GST_START_TEST (test_in_order)
{
  Reassembler r;

  for (uint64_t i = 0; i < 10; i++)
    {
      auto out = push_expect (r, i, 10 * i, PushResult::Accepted);
      fail_unless_equals_int (out.size (), 1);
      check_delivered (out[0], i, false, 0);
      fail_unless_equals_int64 (r.next_deadline_ms (), -1);
    }

  expect_stats (r,
                "next_index=10 delivered=10 pending_chunks=0 pending_bytes=0 gaps=0 duplicates=0");
}
GST_END_TEST;

GST_START_TEST (test_reorder_within_window)
{
  Reassembler r;

  auto out = push_expect (r, 2, 0, PushResult::Accepted);
  fail_unless_equals_int (out.size (), 0);
  expect_stats (r, "pending_chunks=1 pending_bytes=4");

  out = push_expect (r, 0, 10, PushResult::Accepted);
  fail_unless_equals_int (out.size (), 1);
  check_delivered (out[0], 0, false, 0);

  out = push_expect (r, 1, 20, PushResult::Accepted);
  fail_unless_equals_int (out.size (), 2);
  check_delivered (out[0], 1, false, 0);
  check_delivered (out[1], 2, false, 0);

  expect_stats (
      r, "next_index=3 delivered=3 pending_chunks=0 pending_bytes=0 gaps=0 next_deadline_ms=-1");
}
GST_END_TEST;

GST_START_TEST (test_duplicates)
{
  Reassembler r;

  push_expect (r, 0, 0, PushResult::Accepted);
  /* Already delivered. */
  auto out = push_expect (r, 0, 1, PushResult::Duplicate);
  fail_unless_equals_int (out.size (), 0);

  /* Already pending: the copy is not stored. */
  push_expect (r, 2, 2, PushResult::Accepted);
  out = push_expect (r, 2, 3, PushResult::Duplicate);
  fail_unless_equals_int (out.size (), 0);
  expect_stats (r, "pending_chunks=1 pending_bytes=4");

  out = push_expect (r, 1, 4, PushResult::Accepted);
  fail_unless_equals_int (out.size (), 2);
  check_delivered (out[0], 1, false, 0);
  check_delivered (out[1], 2, false, 0);

  /* Delivered from the pending set, now a plain duplicate. */
  push_expect (r, 2, 5, PushResult::Duplicate);
  push_expect (r, 1, 6, PushResult::Duplicate);

  expect_stats (r, "duplicates=4 late=0 delivered=3 next_index=3");
}
GST_END_TEST;

GST_START_TEST (test_gap_skipped_after_wait)
{
  Reassembler r (configured ([] (ReassemblerConfig &c) { c.max_wait_ms = 1000; }));
  std::vector<Delivered> out;

  push_expect (r, 0, 0, PushResult::Accepted);
  push_expect (r, 2, 100, PushResult::Accepted);
  fail_unless_equals_int64 (r.next_deadline_ms (), 1100);

  r.tick (1099, out);
  fail_unless_equals_int (out.size (), 0);
  fail_unless_equals_uint64 (r.next_index (), 1);

  r.tick (1100, out);
  fail_unless_equals_int (out.size (), 1);
  check_delivered (out[0], 2, true, 1);
  fail_unless_equals_uint64 (r.next_index (), 3);
  fail_unless_equals_int64 (r.next_deadline_ms (), -1);

  /* The given-up index turns up after all: too late, and said so. */
  out = push_expect (r, 1, 1200, PushResult::Late);
  fail_unless_equals_int (out.size (), 0);
  /* The ones around it were delivered. */
  push_expect (r, 0, 1200, PushResult::Duplicate);
  push_expect (r, 2, 1200, PushResult::Duplicate);

  /* A wider gap: 3..5 missing. */
  out.clear ();
  push_expect (r, 6, 2000, PushResult::Accepted);
  push_expect (r, 7, 2100, PushResult::Accepted);
  r.tick (3000, out);
  fail_unless_equals_int (out.size (), 2);
  check_delivered (out[0], 6, true, 3);
  check_delivered (out[1], 7, false, 0);
  for (uint64_t i = 3; i <= 5; i++)
    push_expect (r, i, 3100, PushResult::Late);

  expect_stats (r, "gaps=2 missing=4 late=4 duplicates=2 delivered=4 pending_chunks=0");
}
GST_END_TEST;

GST_START_TEST (test_pending_overflow)
{
  ReassemblerConfig cfg;
  cfg.max_pending_chunks = 4;
  cfg.max_wait_ms = 1000000; /* only the overflow may skip here */
  Reassembler r (cfg);

  push_expect (r, 0, 0, PushResult::Accepted);
  for (uint64_t i = 2; i <= 5; i++)
    {
      auto out = push_expect (r, i, 0, PushResult::Accepted);
      fail_unless_equals_int (out.size (), 0);
    }
  fail_unless_equals_uint64 (r.stats ().pending_chunks, 4);

  /* The fifth waiting chunk is one too many: 1 is given up at once. */
  auto out = push_expect (r, 6, 1, PushResult::Accepted);
  fail_unless_equals_int (out.size (), 5);
  check_delivered (out[0], 2, true, 1);
  for (uint64_t i = 3; i <= 6; i++)
    check_delivered (out[i - 2], i, false, 0);
  fail_unless_equals_uint64 (r.next_index (), 7);
  fail_unless_equals_uint64 (r.stats ().pending_chunks, 0);
  push_expect (r, 1, 2, PushResult::Late);

  /* Two holes (7, 9): overflowing skips only the first of them. */
  push_expect (r, 8, 3, PushResult::Accepted);
  for (uint64_t i = 10; i <= 12; i++)
    push_expect (r, i, 3, PushResult::Accepted);
  out = push_expect (r, 13, 3, PushResult::Accepted);
  fail_unless_equals_int (out.size (), 1);
  check_delivered (out[0], 8, true, 1);
  fail_unless_equals_uint64 (r.next_index (), 9);
  fail_unless_equals_uint64 (r.stats ().pending_chunks, 4);

  expect_stats (r, "gaps=2 missing=2");

  /* And 9 still fills its hole in time. */
  out = push_expect (r, 9, 4, PushResult::Accepted);
  fail_unless_equals_int (out.size (), 5);
  for (uint64_t i = 9; i <= 13; i++)
    check_delivered (out[i - 9], i, false, 0);
}
GST_END_TEST;

GST_START_TEST (test_out_of_range)
{
  Reassembler r (configured ([] (ReassemblerConfig &c) { c.max_index_jump = 1000; }));

  auto out = push_expect (r, 1001, 0, PushResult::OutOfRange);
  fail_unless_equals_int (out.size (), 0);
  out = push_expect (r, G_MAXUINT64, 0, PushResult::OutOfRange);
  fail_unless_equals_int (out.size (), 0);

  expect_stats (r,
                "out_of_range=2 pending_chunks=0 pending_bytes=0 next_deadline_ms=-1 next_index=0");

  /* Exactly max_index_jump ahead is still in range. */
  push_expect (r, 1000, 0, PushResult::Accepted);
  fail_unless_equals_uint64 (r.stats ().pending_chunks, 1);

  /* The window moves with next_index (). */
  push_expect (r, 0, 0, PushResult::Accepted);
  fail_unless_equals_uint64 (r.next_index (), 1);
  push_expect (r, 1001, 0, PushResult::Accepted);
  push_expect (r, 1002, 0, PushResult::OutOfRange);

  /* Refused with the default config too. */
  Reassembler d;
  push_expect (d, 100001, 0, PushResult::OutOfRange);
  push_expect (d, 100000, 0, PushResult::Accepted);
}
GST_END_TEST;

GST_START_TEST (test_flush)
{
  Reassembler r;
  std::vector<Delivered> out;

  /* 0, 3, 5 and 6 never come. */
  push_expect (r, 1, 0, PushResult::Accepted);
  push_expect (r, 2, 0, PushResult::Accepted);
  push_expect (r, 4, 0, PushResult::Accepted);
  push_expect (r, 7, 0, PushResult::Accepted);
  expect_stats (r, "pending_chunks=4 pending_bytes=16");

  r.flush (out);
  fail_unless_equals_int (out.size (), 4);
  check_delivered (out[0], 1, true, 1);
  check_delivered (out[1], 2, false, 0);
  check_delivered (out[2], 4, true, 1);
  check_delivered (out[3], 7, true, 2);

  expect_stats (r, "gaps=3 missing=4 delivered=4 pending_chunks=0 pending_bytes=0 next_index=8 "
                   "next_deadline_ms=-1");

  /* Nothing left: a second flush is a no-op. */
  out.clear ();
  r.flush (out);
  fail_unless_equals_int (out.size (), 0);
  fail_unless_equals_uint64 (r.stats ().gaps, 3);
  push_expect (r, 5, 0, PushResult::Late);
}
GST_END_TEST;

GST_START_TEST (test_next_deadline)
{
  Reassembler r; /* max_wait_ms 1000 */
  std::vector<Delivered> out;

  fail_unless_equals_int64 (r.next_deadline_ms (), -1);

  /* The clock starts with the first chunk after the gap, not later ones. */
  push_expect (r, 3, 50, PushResult::Accepted);
  fail_unless_equals_int64 (r.next_deadline_ms (), 1050);
  push_expect (r, 2, 400, PushResult::Accepted);
  push_expect (r, 5, 600, PushResult::Accepted);
  fail_unless_equals_int64 (r.next_deadline_ms (), 1050);

  /* 0..1 given up; 4 has been missing since 5 arrived at 600. */
  r.tick (1050, out);
  fail_unless_equals_int (out.size (), 2);
  check_delivered (out[0], 2, true, 2);
  check_delivered (out[1], 3, false, 0);
  fail_unless_equals_int64 (r.next_deadline_ms (), 1600);

  out.clear ();
  r.tick (1599, out);
  fail_unless_equals_int (out.size (), 0);
  r.tick (1600, out);
  fail_unless_equals_int (out.size (), 1);
  check_delivered (out[0], 5, true, 1);
  fail_unless_equals_int64 (r.next_deadline_ms (), -1);

  /* A later gap already waited long enough: one tick gives up both. */
  out.clear ();
  push_expect (r, 10, 2000, PushResult::Accepted); /* 6..9 missing */
  push_expect (r, 8, 2500, PushResult::Accepted);  /* 6..7 missing */
  r.tick (3000, out);
  fail_unless_equals_int (out.size (), 2);
  check_delivered (out[0], 8, true, 2);
  check_delivered (out[1], 10, true, 1);
  fail_unless_equals_int64 (r.next_deadline_ms (), -1);

  /* push () gives up expired gaps too, for callers without a timer. */
  push_expect (r, 12, 4000, PushResult::Accepted);
  out = push_expect (r, 13, 5000, PushResult::Accepted);
  fail_unless_equals_int (out.size (), 2);
  check_delivered (out[0], 12, true, 1);
  check_delivered (out[1], 13, false, 0);

  /* ...but a chunk that fills its hole wins over an expired deadline. */
  push_expect (r, 15, 6000, PushResult::Accepted);
  out = push_expect (r, 14, 9000, PushResult::Accepted);
  fail_unless_equals_int (out.size (), 2);
  check_delivered (out[0], 14, false, 0);
  check_delivered (out[1], 15, false, 0);

  /* max_wait_ms 0: nothing waits at all. */
  ReassemblerConfig cfg;
  cfg.max_wait_ms = 0;
  Reassembler z (cfg);
  out = push_expect (z, 1, 0, PushResult::Accepted);
  fail_unless_equals_int (out.size (), 1);
  check_delivered (out[0], 1, true, 1);
  fail_unless_equals_int64 (z.next_deadline_ms (), -1);

  /* A huge wait saturates instead of wrapping negative. */
  cfg.max_wait_ms = G_MAXINT64;
  Reassembler h (cfg);
  push_expect (h, 1, 10, PushResult::Accepted);
  fail_unless_equals_int64 (h.next_deadline_ms (), G_MAXINT64);
}
GST_END_TEST;

GST_START_TEST (test_first_index)
{
  ReassemblerConfig cfg;
  cfg.first_index = 1000;
  Reassembler r (cfg);
  std::vector<Delivered> out;

  fail_unless_equals_uint64 (r.next_index (), 1000);

  /* Before the session's start: not ours, and never given up. */
  push_expect (r, 999, 0, PushResult::Duplicate);
  push_expect (r, 0, 0, PushResult::Duplicate);

  out = push_expect (r, 1001, 0, PushResult::Accepted);
  fail_unless_equals_int (out.size (), 0);
  out = push_expect (r, 1000, 10, PushResult::Accepted);
  fail_unless_equals_int (out.size (), 2);
  check_delivered (out[0], 1000, false, 0);
  check_delivered (out[1], 1001, false, 0);
  fail_unless_equals_uint64 (r.next_index (), 1002);

  /* Gaps count from first_index, not from 0. */
  out.clear ();
  push_expect (r, 1005, 20, PushResult::Accepted);
  r.flush (out);
  fail_unless_equals_int (out.size (), 1);
  check_delivered (out[0], 1005, true, 3);
  fail_unless_equals_uint64 (r.stats ().missing, 3);

  /* The out-of-range window is relative to it too. */
  cfg.max_index_jump = 10;
  Reassembler w (cfg);
  push_expect (w, 1011, 0, PushResult::OutOfRange);
  push_expect (w, 1010, 0, PushResult::Accepted);
}
GST_END_TEST;

/* Only the last kMaxSkippedRanges gaps are remembered: memory stays bounded,
 * and an index from an older gap degrades to Duplicate. */
GST_START_TEST (test_skipped_ranges_bounded)
{
  Reassembler r (configured ([] (ReassemblerConfig &c) { c.max_wait_ms = 0; }));
  const uint64_t gaps = Reassembler::kMaxSkippedRanges + 10;

  /* Even indices are lost, odd ones arrive. */
  for (uint64_t i = 0; i < gaps; i++)
    {
      auto out = push_expect (r, 2 * i + 1, 0, PushResult::Accepted);
      fail_unless_equals_int (out.size (), 1);
      check_delivered (out[0], 2 * i + 1, true, 1);
    }
  fail_unless_equals_uint64 (r.stats ().gaps, gaps);

  for (uint64_t i = 0; i < gaps; i++)
    {
      bool remembered = i >= gaps - Reassembler::kMaxSkippedRanges;
      push_expect (r, 2 * i, 1, remembered ? PushResult::Late : PushResult::Duplicate);
    }
  fail_unless_equals_uint64 (r.stats ().late, Reassembler::kMaxSkippedRanges);
  fail_unless_equals_uint64 (r.stats ().duplicates, gaps - Reassembler::kMaxSkippedRanges);
}
GST_END_TEST;

GST_START_TEST (test_random_shuffle)
{
  const uint64_t n = 500;
  const uint64_t max_displacement = 8; /* well inside max_pending_chunks */
  std::mt19937_64 rng (20240611);
  std::uniform_int_distribution<uint64_t> jitter (0, max_displacement);

  /* Sorting by index + random offset moves no chunk further than the
   * offset's range: a realistic, bounded reordering. */
  std::vector<std::pair<uint64_t, uint64_t>> keyed;
  for (uint64_t i = 0; i < n; i++)
    keyed.emplace_back (i + jitter (rng), i);
  std::stable_sort (keyed.begin (), keyed.end ());

  std::vector<uint64_t> order;
  for (const auto &k : keyed)
    order.push_back (k.second);
  bool shuffled = false;
  for (size_t pos = 0; pos < order.size (); pos++)
    {
      uint64_t displacement = order[pos] > pos ? order[pos] - pos : pos - order[pos];
      fail_unless (displacement <= max_displacement);
      shuffled |= displacement != 0;
    }
  fail_unless (shuffled, "the shuffle did not reorder anything");

  Reassembler r;
  std::vector<Delivered> all;
  std::uniform_int_distribution<int> coin (0, 9);
  uint64_t resent = 0;
  int64_t now = 0;
  for (size_t pos = 0; pos < order.size (); pos++)
    {
      now += 20;
      std::vector<Delivered> out;
      PushResult res = r.push (order[pos], payload (order[pos], 16), now, out);
      fail_unless_equals_string (result_name (res), "Accepted");
      /* Now and then the network hands us a chunk twice. */
      if (coin (rng) == 0)
        {
          uint64_t again = order[pos - std::min<size_t> (pos, coin (rng))];
          res = r.push (again, payload (again, 16), now, out);
          fail_unless_equals_string (result_name (res), "Duplicate");
          resent++;
        }
      r.tick (now, out);
      for (auto &d : out)
        all.push_back (std::move (d));
      fail_unless (r.stats ().pending_chunks <= max_displacement);
    }
  r.flush (all);

  fail_unless_equals_int (all.size (), n);
  for (uint64_t i = 0; i < n; i++)
    {
      fail_unless_equals_uint64 (all[i].index, i);
      fail_unless (all[i].bytes == payload (i, 16));
      fail_unless (!all[i].discont);
    }
  fail_unless (resent > 0);
  expect_stats (
      r, std::string ("duplicates=") + std::to_string (resent) + " delivered=" + std::to_string (n)
             + " gaps=0 missing=0 late=0 pending_chunks=0 next_index=" + std::to_string (n));
}
GST_END_TEST;

WSS_CHECK_MAIN (reassembler, "wssac-reassembler",
                { "general", 0,
                  WSS_TESTS (test_in_order, test_reorder_within_window, test_duplicates,
                             test_gap_skipped_after_wait, test_pending_overflow, test_out_of_range,
                             test_flush, test_next_deadline, test_first_index,
                             test_skipped_ranges_bounded, test_random_shuffle) });
