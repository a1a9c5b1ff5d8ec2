/* Unit tests for wssac::DeliveryLedger: confirmation by ack and by TCP
 * evidence, replay of exactly the unconfirmed chunks in index order with
 * their capture time, the in-flight window, giving up, counting. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "delivery-ledger.h"

#include <string>
#include <vector>

using wssac::ChunkState;
using wssac::DeliveryLedger;
using wssac::DropRange;
using wssac::LedgerConfig;
using wssac::Outgoing;
using wssac::OutgoingKind;

static Outgoing
chunk (uint64_t index)
{
  Outgoing o;
  o.kind = OutgoingKind::AudioChunk;
  o.chunk_index = index;
  o.audio.assign (100, static_cast<uint8_t> (index));
  o.media_duration = 250000000;
  o.created_ms = 1000000 + static_cast<int64_t> (index) * 250;
  return o;
}

/* Writes chunks @first..@last, each 100 bytes further into the stream. */
static void
write_range (DeliveryLedger &l, uint64_t first, uint64_t last, uint64_t &offset)
{
  for (uint64_t i = first; i <= last; i++)
    {
      offset += 100;
      l.written (chunk (i), offset);
    }
}

static std::vector<uint64_t>
drain_replays (DeliveryLedger &l, std::vector<Outgoing> *items = nullptr)
{
  std::vector<uint64_t> out;
  while (l.has_replay ())
    {
      Outgoing o = l.take_replay ();
      out.push_back (o.chunk_index);
      if (items)
        items->push_back (o);
    }
  return out;
}

/* Replays what the ledger holds and checks it is exactly @expected, in
 * order; prints what it got otherwise. */
static void
expect_replay (DeliveryLedger &l, std::initializer_list<uint64_t> expected,
               std::vector<Outgoing> *items = nullptr)
{
  std::vector<uint64_t> got = drain_replays (l, items);
  std::string text;
  for (uint64_t i : got)
    text += " " + std::to_string (i);
  fail_unless (got == std::vector<uint64_t> (expected), "replayed:%s (%zu chunks, %zu expected)",
               text.c_str (), got.size (), expected.size ());
}

/* @r is @count chunks, @first..@last; prints what it is otherwise. */
static void
expect_range (const DropRange &r, uint64_t count, uint64_t first, uint64_t last)
{
  fail_unless (r.count == count && r.first == first && r.last == last,
               "range of %" G_GUINT64_FORMAT " chunks %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT
               ", expected %" G_GUINT64_FORMAT " chunks %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT,
               r.count, r.first, r.last, count, first, last);
}

/* A ledger with its first connection open and chunks @first..@last written. */
struct OpenLedger
{
  DeliveryLedger l;
  uint64_t off = 0;

  explicit OpenLedger (uint64_t first, uint64_t last, LedgerConfig c = LedgerConfig (),
                       bool acks_promised = false)
      : l (c)
  {
    l.connection_opened (acks_promised);
    write_range (l, first, last, off);
  }

  /* The connection dies (no clean close) and the next one opens. */
  DropRange
  reconnect ()
  {
    DropRange lost = l.connection_ended (false);
    l.connection_opened ();
    return lost;
  }

  /* The connection retires (make-before-break) and the next one opens. */
  void
  hand_over ()
  {
    l.retire_current ();
    l.connection_opened ();
  }
};

GST_START_TEST (test_tcp_evidence_needs_hold_time)
{
  OpenLedger r (0, 3);
  auto &[l, off] = r;
  fail_unless_equals_int (l.in_flight (), 4);
  /* The peer's TCP has the first two chunks at t=1000; RTT 10 ms: the
   * hold is the 500 ms minimum. */
  fail_unless_equals_int (l.tcp_progress (200, 10, 1000), 0);
  fail_unless_equals_int (l.tcp_progress (200, 10, 1499), 0);
  fail_unless_equals_int (l.tcp_progress (200, 10, 1500), 2);
  fail_unless (!l.state (0).has_value ());
  fail_unless (l.state (2) == ChunkState::Written);
  /* A long RTT lengthens the hold: 2 x 400 ms. */
  fail_unless_equals_int (l.tcp_progress (400, 400, 2000), 0);
  fail_unless_equals_int (l.tcp_progress (400, 400, 2799), 0);
  fail_unless_equals_int (l.tcp_progress (400, 400, 2800), 2);
  fail_unless (l.all_confirmed ());
  fail_unless_equals_uint64 (l.counters ().confirmed, 4);
}
GST_END_TEST;

GST_START_TEST (test_death_replays_exactly_the_unconfirmed_in_order)
{
  OpenLedger r (0, 3);
  auto &[l, off] = r;
  l.tcp_progress (100, 1, 0);
  l.tcp_progress (100, 1, 600); /* chunk 0 confirmed */
  /* Chunk 1's bytes are acknowledged, but the connection dies within the
   * hold: the server may not have read them. */
  l.tcp_progress (200, 1, 700);
  fail_unless (l.connection_ended (false).empty ());
  fail_unless_equals_int (l.in_flight (), 0);
  l.connection_opened ();
  std::vector<Outgoing> items;
  expect_replay (l, { 1, 2, 3 }, &items);
  for (const Outgoing &o : items)
    {
      fail_unless (o.replay);
      /* The capture time is never refreshed by a replay. */
      fail_unless_equals_int64 (o.created_ms, 1000000 + static_cast<int64_t> (o.chunk_index) * 250);
      fail_unless_equals_int (o.attempts, 1);
    }
  /* Chunk 1 had reached the peer's TCP: its rewrite is a likely duplicate. */
  fail_unless_equals_uint64 (l.counters ().likely_duplicates, 1);
}
GST_END_TEST;

GST_START_TEST (test_replay_of_old_chunks_whatever_the_outage)
{
  /* The old replay window was measured from the reconnect: an outage
   * longer than it replayed nothing. The ledger has no clock of its own. */
  OpenLedger r (0, 2);
  auto &[l, off] = r;
  r.reconnect (); /* the next one an hour later */
  expect_replay (l, { 0, 1, 2 });
}
GST_END_TEST;

GST_START_TEST (test_clean_close_confirms_what_tcp_acknowledged)
{
  OpenLedger r (0, 3);
  auto &[l, off] = r;
  l.tcp_progress (300, 1, 100); /* 0-2 acknowledged, hold not over */
  fail_unless (l.connection_ended (true).empty ());
  fail_unless_equals_uint64 (l.counters ().confirmed, 3);
  l.connection_opened ();
  expect_replay (l, { 3 });
}
GST_END_TEST;

GST_START_TEST (test_acks_take_over_from_tcp)
{
  OpenLedger r (0, 5);
  auto &[l, off] = r;
  fail_unless_equals_int (l.acked (2), 3);
  fail_unless (l.peer_acks ());
  /* From now on TCP evidence confirms nothing: a receiver that acks may
   * have refused what its TCP accepted. */
  fail_unless_equals_int (l.tcp_progress (600, 1, 0), 0);
  fail_unless_equals_int (l.tcp_progress (600, 1, 10000), 0);
  fail_unless_equals_int (l.in_flight (), 3);
  l.connection_ended (false); /* a reset: nothing more is known */
  l.connection_opened ();
  fail_unless_equals_int (l.replay_size (), 3);
  /* The ack of the old connection arrives late: no replay of what it covers. */
  fail_unless_equals_int (l.acked (4), 2);
  expect_replay (l, { 5 });
  fail_unless_equals_uint64 (l.counters ().confirmed_by_ack, 5);
}
GST_END_TEST;

GST_START_TEST (test_tail_and_clean_close_with_acks)
{
  /* A receiver that acks every few chunks: at the end of the stream the
   * last ones get no ack; TCP evidence confirms them. A normal close by the
   * server confirms what its TCP had, acks or not. */
  OpenLedger r (0, 2);
  auto &[l, off] = r;
  l.acked (0);
  fail_unless_equals_int (l.tcp_progress (300, 1, 0), 0);
  l.set_tail (true);
  fail_unless_equals_int (l.tcp_progress (300, 1, 600), 2);
  l.set_tail (false);
  write_range (l, 3, 4, off);
  l.tcp_progress (400, 1, 700); /* chunk 3's bytes, not 4's */
  l.connection_ended (true);
  l.connection_opened ();
  expect_replay (l, { 4 });
}
GST_END_TEST;

GST_START_TEST (test_window_grows_and_shrinks)
{
  LedgerConfig c;
  c.initial_window = 4;
  c.max_window = 6;
  OpenLedger r (0, 3, c);
  auto &[l, off] = r;
  fail_unless (!l.window_open ());
  l.acked (1);
  fail_unless_equals_int (l.window (), 6); /* +1 per confirmation */
  write_range (l, 4, 7, off);
  fail_unless_equals_int (l.in_flight (), 6);
  l.acked (7);
  fail_unless_equals_int (l.window (), 6); /* capped */

  /* Connections that die having confirmed nothing halve it, down to 1. */
  uint64_t next = 8;
  size_t expect[] = { 3, 1, 1 };
  for (size_t w : expect)
    {
      l.connection_opened ();
      drain_replays (l);
      off = 0;
      while (l.window_open ())
        write_range (l, next, next, off), next++;
      l.connection_ended (false);
      fail_unless_equals_int (l.window (), w);
    }
  fail_unless_equals_uint64 (l.counters ().connections_without_progress, 3);
}
GST_END_TEST;

GST_START_TEST (test_forward_progress_when_every_connection_dies_early)
{
  /* A server that aborts each connection after 2 messages and never acks:
   * each connection confirms the first chunk it carries after the hold,
   * so the stream moves on instead of replaying the same chunks forever. */
  DeliveryLedger l;
  std::vector<uint64_t> fresh;
  for (uint64_t i = 0; i < 20; i++)
    fresh.push_back (i);
  size_t next_fresh = 0;
  int64_t now = 0;
  for (int conn = 0; conn < 200 && !(next_fresh == fresh.size () && l.all_confirmed ()); conn++)
    {
      l.connection_opened ();
      uint64_t off = 0;
      int messages = 0;
      while (messages < 2 && l.window_open ())
        {
          Outgoing o;
          if (l.has_replay ())
            o = l.take_replay ();
          else if (next_fresh < fresh.size ())
            o = chunk (fresh[next_fresh++]);
          else
            break;
          off += 100;
          l.written (std::move (o), off);
          messages++;
          /* The server reads it, its TCP acks, the first survives 500 ms. */
          now += 10;
          l.tcp_progress (off, 1, now);
          if (messages == 1)
            {
              now += 500;
              l.tcp_progress (off, 1, now);
            }
        }
      l.connection_ended (false);
    }
  fail_unless (l.all_confirmed ());
  fail_unless_equals_uint64 (l.counters ().confirmed + l.counters ().given_up, 20);
  fail_unless_equals_uint64 (l.counters ().given_up, 0);
}
GST_END_TEST;

GST_START_TEST (test_give_up_after_max_attempts)
{
  LedgerConfig c;
  c.max_attempts = 3;
  DeliveryLedger l (c);
  uint64_t off = 0;
  for (int attempt = 1; attempt <= 3; attempt++)
    {
      l.connection_opened ();
      if (attempt == 1)
        write_range (l, 10, 11, off);
      else
        while (l.has_replay ())
          l.written (l.take_replay (), off += 100);
      fail_unless_equals_int (l.attempts (10), attempt);
      DropRange r = l.connection_ended (false);
      if (attempt < 3)
        fail_unless (r.empty ());
      else
        {
          expect_range (r, 2, 10, 11);
          fail_unless_equals_uint64 (r.bytes, 200);
        }
    }
  fail_unless (l.all_confirmed ());
  fail_unless_equals_uint64 (l.counters ().given_up, 2);
  fail_unless_equals_uint64 (l.counters ().written, 2);
  fail_unless_equals_uint64 (l.counters ().rewritten, 4);
}
GST_END_TEST;

GST_START_TEST (test_liveness_after_tcp_evidence)
{
  /* A middlebox acknowledged the bytes, then the path went silent: no pong
   * after the acknowledgement, no confirmation. */
  DeliveryLedger l;
  l.require_liveness (true);
  l.connection_opened ();
  uint64_t off = 0;
  write_range (l, 0, 1, off);
  l.peer_heard (50);
  l.tcp_progress (200, 1, 100);
  fail_unless_equals_int (l.tcp_progress (200, 1, 5000), 0);
  l.peer_heard (5100);
  fail_unless_equals_int (l.tcp_progress (200, 1, 5100), 2);
}
GST_END_TEST;

GST_START_TEST (test_refusal)
{
  OpenLedger r (0, 2);
  auto &[l, off] = r;
  l.refused (1, false);                       /* e.g. session-claimed: try again */
  fail_unless_equals_int (l.attempts (1), 0); /* refused: not an attempt */
  l.refused (2, true);                        /* e.g. wrong-session: the caller counts it */
  fail_unless (l.state (1) == ChunkState::Queued);
  fail_unless (!l.state (2).has_value ());
  expect_replay (l, { 1 });
}
GST_END_TEST;

GST_START_TEST (test_take_unconfirmed_counts_everything)
{
  OpenLedger r (0, 4);
  auto &[l, off] = r;
  r.reconnect ();
  l.written (l.take_replay (), 100); /* chunk 0 again */
  write_range (l, 5, 6, off);
  DropRange lost = l.take_unconfirmed ();
  expect_range (lost, 7, 0, 6);
  fail_unless_equals_uint64 (lost.media_time, 7 * 250000000LL);
  fail_unless (l.all_confirmed ());
}
GST_END_TEST;

GST_START_TEST (test_unknown_offset_is_never_tcp_confirmed)
{
  DeliveryLedger l;
  l.connection_opened ();
  l.written (chunk (0), 0);
  fail_unless_equals_int (l.tcp_progress (1000000, 1, 0), 0);
  fail_unless_equals_int (l.tcp_progress (1000000, 1, 100000), 0);
  fail_unless_equals_int (l.in_flight (), 1);
}
GST_END_TEST;

/* TCP evidence steps: the peer acknowledged @bytes by @now_ms (RTT 1 ms);
 * each confirms exactly @confirmed chunks. */
struct TcpStep
{
  uint64_t bytes;
  int64_t now_ms;
  size_t confirmed;
};

static void
expect_tcp_steps (DeliveryLedger &l, std::initializer_list<TcpStep> steps)
{
  for (const TcpStep &t : steps)
    {
      size_t got = l.tcp_progress (t.bytes, 1, t.now_ms);
      fail_unless (got == t.confirmed,
                   "%" G_GUINT64_FORMAT " bytes at %" G_GINT64_FORMAT " ms confirmed %zu, not %zu",
                   t.bytes, t.now_ms, got, t.confirmed);
    }
}

/* An end learnt after the write (the sink samples TCP once for several
 * chunks): the chunk waits for it, then confirms as any; the end of a
 * chunk no longer on the connection is not set. */
GST_START_TEST (test_end_learnt_later)
{
  DeliveryLedger l;
  l.connection_opened ();
  l.written (chunk (0), 0);
  l.written (chunk (1), 0);
  expect_tcp_steps (l, { { 1000, 0, 0 } }); /* ends unknown: nothing */
  l.set_end (0, 100);
  l.set_end (1, 250);
  /* Bytes up to 200: chunk 0 is covered (held 500 ms), chunk 1 not. */
  expect_tcp_steps (l, { { 200, 1000, 0 }, { 200, 1500, 1 } });
  fail_unless (!l.state (0).has_value ());
  fail_unless (l.state (1) == ChunkState::Written);
  expect_tcp_steps (l, { { 250, 1600, 0 }, { 250, 2100, 1 } });
  fail_unless (l.all_confirmed ());
  /* Gone (confirmed): setting its end brings nothing back. */
  l.set_end (1, 300);
  fail_unless (!l.state (1).has_value ());
  fail_unless_equals_int (l.in_flight (), 0);
}
GST_END_TEST;

GST_START_TEST (test_full_window_with_a_receiver_that_acks_rarely)
{
  /* The window shrank to 1; the receiver acks every 4 chunks: without TCP
   * evidence nothing would ever move. */
  LedgerConfig c;
  c.initial_window = 1;
  OpenLedger r (0, 0, c);
  auto &[l, off] = r;
  l.acked (0);
  write_range (l, 1, 1, off);
  fail_unless (!l.window_open () || l.window () > 1);
  while (l.window_open ())
    write_range (l, l.in_flight () + 1, l.in_flight () + 1, off);
  l.tcp_progress (off, 1, 0);
  fail_unless (l.tcp_progress (off, 1, 600) > 0);
}
GST_END_TEST;

GST_START_TEST (test_retiring_connection_keeps_its_chunks)
{
  /* Make-before-break: the old connection's chunks stay its own while the
   * new one takes the next; TCP evidence on the old one confirms them
   * (nothing more follows on it, acks or not). */
  OpenLedger r (0, 2);
  auto &[l, off] = r;
  l.acked (0); /* the receiver acks: TCP evidence would wait on a live connection */
  l.retire_current ();
  fail_unless_equals_int (l.retiring (), 2);
  fail_unless_equals_int (l.in_flight (), 0);
  fail_unless_equals_int (l.connection_opened (), 2);
  uint64_t off2 = 0;
  write_range (l, 3, 4, off2);
  fail_unless_equals_int (l.unconfirmed (), 4);
  fail_unless (l.state (1) == ChunkState::Written);
  fail_unless (!l.all_confirmed ());
  l.retiring_tcp_progress (off, 1, 0);
  fail_unless_equals_int (l.retiring_tcp_progress (off, 1, 499), 0);
  fail_unless_equals_int (l.retiring_tcp_progress (off, 1, 500), 2);
  fail_unless_equals_int (l.retiring (), 0);
  /* The new connection's chunks were not touched. */
  fail_unless_equals_int (l.in_flight (), 2);
  fail_unless_equals_int (l.retiring_ended (true).count, 0);
  fail_unless (!l.has_replay ());
}
GST_END_TEST;

GST_START_TEST (test_retiring_connection_dies_and_is_replayed)
{
  /* The old connection dies before its chunks are confirmed: they are
   * written again on the new one, before anything new, in index order. */
  OpenLedger r (0, 3);
  auto &[l, off] = r;
  r.hand_over ();
  uint64_t off2 = 0;
  write_range (l, 4, 5, off2);
  /* An ack on the new connection confirms the old one's chunks too. */
  fail_unless_equals_int (l.acked (0), 1);
  fail_unless_equals_int (l.retiring_ended (false).count, 0);
  std::vector<uint64_t> want = { 1, 2, 3 };
  std::vector<Outgoing> items;
  fail_unless (drain_replays (l, &items) == want);
  fail_unless_equals_int (items[0].created_ms, chunk (1).created_ms);
  fail_unless_equals_int (items[0].attempts, 1);
  fail_unless (l.state (5) == ChunkState::Written);
  fail_unless_equals_int (l.in_flight (), 2);
  /* The window was not halved: the new connection is alive. */
  fail_unless_equals_int (l.window (), 4);
}
GST_END_TEST;

GST_START_TEST (test_retiring_and_current_both_unconfirmed_at_the_end)
{
  OpenLedger r (0, 1);
  auto &[l, off] = r;
  r.hand_over ();
  write_range (l, 2, 2, off);
  DropRange lost = l.take_unconfirmed ();
  fail_unless_equals_int (lost.count, 3);
  fail_unless_equals_int (lost.first, 0);
  fail_unless_equals_int (lost.last, 2);
  fail_unless (l.all_confirmed ());
}
GST_END_TEST;

GST_START_TEST (test_promised_acks_alone_confirm)
{
  /* The receiver promised acks in its upgrade: TCP evidence never
   * confirms, not with a full window, not at the tail, not at its clean
   * close (it may refuse, or lose in a crash, what its kernel took). */
  LedgerConfig c;
  c.initial_window = 4;
  OpenLedger r (0, 3, c, true);
  auto &[l, off] = r;
  fail_unless (l.acks_promised ());
  fail_unless (!l.window_open ());
  fail_unless_equals_int (l.tcp_progress (400, 1, 0), 0);
  fail_unless_equals_int (l.tcp_progress (400, 1, 100000), 0);
  l.set_tail (true);
  fail_unless_equals_int (l.tcp_progress (400, 1, 200000), 0);
  fail_unless (l.connection_ended (true).empty ());
  fail_unless_equals_uint64 (l.counters ().confirmed, 0);
  /* The next connection's receiver made no promise: evidence counts again. */
  l.connection_opened (false);
  fail_unless (!l.acks_promised ());
  expect_replay (l, { 0, 1, 2, 3 });
  write_range (l, 0, 0, off);
  l.tcp_progress (off, 1, 300000);
  fail_unless_equals_int (l.tcp_progress (off, 1, 301000), 1);
  /* A promise covers the retiring connection's chunks too. */
  l.connection_opened (true);
  write_range (l, 1, 2, off);
  l.retire_current ();
  l.connection_opened (false);
  fail_unless_equals_int (l.retiring_tcp_progress (off, 1, 400000), 0);
  fail_unless_equals_int (l.retiring_tcp_progress (off, 1, 500000), 0);
  fail_unless (l.retiring_ended (true).empty ());
  expect_replay (l, { 1, 2 });
}
GST_END_TEST;

GST_START_TEST (test_promised_ack_interval_sets_the_window_floor)
{
  /* A receiver that acks every 4 chunks must get 4 in flight: halved to
   * 1 by connections that died, the window would wait for its timer on
   * every connection (found: a receiver restarted every second never
   * acked chunk 0, given up after 8 writes). */
  LedgerConfig c;
  c.initial_window = 4;
  DeliveryLedger l (c);
  uint64_t off = 0;
  for (int i = 0; i < 3; i++)
    {
      l.connection_opened ();
      drain_replays (l);
      write_range (l, 0, 0, off);
      l.connection_ended (false);
    }
  fail_unless_equals_int (l.window (), 1);
  l.connection_opened (true, 4);
  fail_unless_equals_int (l.window (), 4);
  /* Up to max_window. */
  l.connection_opened (true, 1000);
  fail_unless_equals_int (l.window (), c.max_window);
}
GST_END_TEST;

GST_START_TEST (test_refusal_after_tcp_evidence_is_a_loss)
{
  /* A receiver slow to read: its TCP took chunks 0-1, the hold time
   * passed, then it refused them (a rate limit). Too late to replay in
   * order: lost, and reported so, no longer counted as confirmed. */
  OpenLedger r (0, 2);
  auto &[l, off] = r;
  l.tcp_progress (200, 1, 0);
  fail_unless_equals_int (l.tcp_progress (200, 1, 600), 2);
  fail_unless_equals_uint64 (l.counters ().confirmed, 2);
  fail_unless (l.refused (0, false) == DeliveryLedger::Refusal::Lost);
  fail_unless (l.refused (1, true) == DeliveryLedger::Refusal::Lost);
  fail_unless_equals_uint64 (l.counters ().confirmed, 0);
  /* Once only: a second reply for the same chunk is stale. */
  fail_unless (l.refused (0, false) == DeliveryLedger::Refusal::Ignored);
  /* Chunk 2 is still in flight: written again. */
  fail_unless (l.refused (2, false) == DeliveryLedger::Refusal::Replayed);
  /* An ack confirms; a refusal of an acked chunk is stale. */
  l.connection_opened ();
  expect_replay (l, { 2 });
  write_range (l, 3, 3, off);
  l.acked (3);
  fail_unless (l.refused (3, false) == DeliveryLedger::Refusal::Ignored);
}
GST_END_TEST;

WSS_CHECK_MAIN (
    delivery_ledger, "delivery-ledger",
    { "general", 0,
      WSS_TESTS (
          test_tcp_evidence_needs_hold_time, test_death_replays_exactly_the_unconfirmed_in_order,
          test_replay_of_old_chunks_whatever_the_outage,
          test_clean_close_confirms_what_tcp_acknowledged, test_acks_take_over_from_tcp,
          test_tail_and_clean_close_with_acks, test_window_grows_and_shrinks,
          test_forward_progress_when_every_connection_dies_early, test_give_up_after_max_attempts,
          test_refusal, test_full_window_with_a_receiver_that_acks_rarely,
          test_liveness_after_tcp_evidence, test_take_unconfirmed_counts_everything,
          test_unknown_offset_is_never_tcp_confirmed, test_end_learnt_later,
          test_retiring_connection_keeps_its_chunks, test_retiring_connection_dies_and_is_replayed,
          test_retiring_and_current_both_unconfirmed_at_the_end, test_promised_acks_alone_confirm,
          test_refusal_after_tcp_evidence_is_a_loss,
          test_promised_ack_interval_sets_the_window_floor) });
