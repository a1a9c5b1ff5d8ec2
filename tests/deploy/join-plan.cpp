/* Unit tests for wssac_join: parsing a part's chunk index and planning the
 * joined recording of a session (order, overlap, gaps, streams). */
#include <gst/check/gstcheck.h>

#include "session-join.h"

using wssac_join::parse_chunk_index;
using wssac_join::Part;
using wssac_join::plan_session;
using wssac_join::Record;

/* A part holding @stream's header at 0 (100 bytes) and chunks @first..@last,
 * each 10 bytes after it. */
static Part
part (const std::string &stream, int64_t first, int64_t last, int64_t hint, bool header = true)
{
  Part p;
  p.order_hint = hint;
  uint64_t at = 0;
  if (header)
    {
      p.records.push_back (Record{ true, -1, 0, 100, stream });
      at = 100;
    }
  for (int64_t i = first; i <= last; i++, at += 10)
    p.records.push_back (Record{ false, i, at, 10, stream });
  p.media_bytes = at;
  return p;
}

GST_START_TEST (test_parse_records_and_torn_tail)
{
  auto r = parse_chunk_index ("H 0 328 0123456789abcdef0123456789abcdef\n"
                              "C 0 328 510 0123456789abcdef0123456789abcdef\n"
                              "C 1 838 505 -\n"
                              "garbage line\n"
                              "C -1 0 1 -\n"
                              "C 2 1343 5");
  fail_unless_equals_int (r.records.size (), 3);
  fail_unless (r.records[0].header);
  fail_unless_equals_uint64 (r.records[0].length, 328);
  fail_unless_equals_string (r.records[1].stream.c_str (), "0123456789abcdef0123456789abcdef");
  fail_unless_equals_int64 (r.records[2].index, 1);
  fail_unless_equals_uint64 (r.records[2].offset, 838);
  fail_unless_equals_string (r.records[2].stream.c_str (), "-");
  fail_unless_equals_int (r.malformed, 2);
  fail_unless (r.torn_tail);
  fail_if (parse_chunk_index ("C 2 1343 5 -\n").torn_tail);
}
GST_END_TEST;

GST_START_TEST (test_two_shards_overlap_dropped)
{
  /* Shard A wrote 0..30 and died; the speaker replayed 28..30 to shard B,
   * which wrote 28..87. */
  auto plan = plan_session ({ part ("s", 28, 87, 20), part ("s", 0, 30, 10) });
  fail_unless_equals_int (plan.streams.size (), 1);
  const auto &sp = plan.streams[0];
  fail_unless (sp.has_header);
  fail_unless_equals_int (sp.header.part, 1); /* the earlier part */
  fail_unless (sp.decodable);
  fail_if (sp.use_header); /* chunk 0 carries the stream header */
  fail_unless_equals_int (sp.chunks.size (), 88);
  fail_unless (sp.gaps.empty ());
  int64_t expect = 0;
  for (const auto &kv : sp.chunks)
    {
      fail_unless_equals_int64 (kv.first, expect++);
      fail_unless_equals_int (kv.second.part, kv.first <= 30 ? 1 : 0);
    }
  fail_unless_equals_int (plan.overlaps.size (), 3);
  fail_unless_equals_int (plan.parts[1].used, 31);
  fail_unless_equals_int (plan.parts[0].used, 57);
  fail_unless_equals_int (plan.parts[0].overlapping, 3);
  fail_unless_equals_int64 (plan.parts[0].first_index, 28);
  fail_unless_equals_int64 (plan.parts[0].last_index, 87);
}
GST_END_TEST;

GST_START_TEST (test_gaps_reported)
{
  auto plan = plan_session ({ part ("s", 2, 5, 0), part ("s", 9, 10, 1, false) });
  const auto &g = plan.streams[0].gaps;
  fail_unless_equals_int (g.size (), 2);
  fail_unless_equals_int64 (g[0].first, 0);
  fail_unless_equals_int64 (g[0].second, 1);
  fail_unless_equals_int64 (g[1].first, 6);
  fail_unless_equals_int64 (g[1].second, 8);
}
GST_END_TEST;

GST_START_TEST (test_records_beyond_media_ignored)
{
  Part p = part ("s", 0, 4, 0);
  p.media_bytes -= 15; /* the last chunk and half of the one before */
  auto plan = plan_session ({ p });
  fail_unless_equals_int (plan.streams[0].chunks.size (), 3);
  fail_unless_equals_int (plan.parts[0].beyond_media, 2);
}
GST_END_TEST;

GST_START_TEST (test_streams_keep_run_order)
{
  /* Run A (0..9) then run B of the same session id (0..4). The later shard
   * saw only B; the earlier saw the end of A then B. */
  Part first = part ("A", 0, 5, 0);
  Part second = part ("A", 4, 9, 5);
  Part b = part ("B", 0, 4, 6);
  for (auto r : b.records)
    {
      r.offset += second.media_bytes;
      second.records.push_back (r);
    }
  second.media_bytes += b.media_bytes;
  Part only_b = part ("B", 3, 4, -1); /* the oldest file, yet B comes after A */
  auto plan = plan_session ({ only_b, second, first });
  fail_unless_equals_int (plan.streams.size (), 2);
  fail_unless_equals_string (plan.streams[0].stream_id.c_str (), "A");
  fail_unless_equals_string (plan.streams[1].stream_id.c_str (), "B");
  fail_unless_equals_int (plan.streams[0].chunks.size (), 10);
  fail_unless_equals_int (plan.streams[1].chunks.size (), 5);
  fail_unless (plan.streams[1].has_header);
  fail_unless_equals_int (plan.streams[1].header.part, 0);
}
GST_END_TEST;

GST_START_TEST (test_stream_without_header)
{
  auto plan = plan_session ({ part ("s", 5, 9, 0, false) });
  fail_if (plan.streams[0].has_header);
  fail_if (plan.streams[0].decodable);
  /* The header re-sent to a later shard starts a stream whose chunk 0 is lost. */
  auto later = plan_session ({ part ("s", 5, 9, 0, true) });
  fail_unless (later.streams[0].decodable);
  fail_unless (later.streams[0].use_header);
  /* Chunk 0 alone starts a stream: its bytes begin with the header. */
  auto first = plan_session ({ part ("s", 0, 3, 0, false) });
  fail_unless (first.streams[0].decodable);
  fail_if (first.streams[0].use_header);
  fail_unless_equals_int (plan.streams[0].chunks.size (), 5);
}
GST_END_TEST;

static Suite *
join_plan_suite (void)
{
  Suite *s = suite_create ("deploy-join-plan");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_parse_records_and_torn_tail);
  tcase_add_test (tc, test_two_shards_overlap_dropped);
  tcase_add_test (tc, test_gaps_reported);
  tcase_add_test (tc, test_records_beyond_media_ignored);
  tcase_add_test (tc, test_streams_keep_run_order);
  tcase_add_test (tc, test_stream_without_header);
  return s;
}

GST_CHECK_MAIN (join_plan);
