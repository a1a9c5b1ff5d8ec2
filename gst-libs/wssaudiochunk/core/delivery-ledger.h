/* wssaudiochunk core: what became of every audio chunk handed to a socket.
 *
 * A chunk written to a WebSocket is not delivered: a connection that dies
 * takes what sits in its kernel buffers with it, and a server may crash
 * after its TCP stack acknowledged the bytes. So each written chunk stays
 * here until it is confirmed, either
 *  - by the receiver's ack ({"action":"ack"}, cumulative), where the
 *    receiver sends acks (ours do; the original protocol's backend does not);
 *  - or, on a connection whose receiver did not promise acks in its upgrade
 *    response (message-codec.h, kAckPromiseHeader), by TCP evidence: the peer's TCP
 *    acknowledged the chunk's last byte and the connection then stayed up
 *    for a hold time, max (2 x RTT, min_hold_ms). A clean close by the
 *    server confirms what its TCP acknowledged before the close.
 * When a connection dies, exactly its unconfirmed chunks are written again
 * on the next one, in chunkIndex order, unchanged (their capture time
 * included). A chunk written max_attempts times without confirmation is
 * given up and counted.
 *
 * Each connection carries at most window() unconfirmed chunks: the window
 * starts small, grows by one per confirmation and halves when a connection
 * dies having confirmed nothing, so a server that drops every connection
 * after a few messages still sees the oldest chunks go through.
 *
 * No I/O and no clock: the transport passes the time, the TCP counters and
 * the replies in. Not thread-safe; the caller locks.
 */
#pragma once

#include "backlog.h"
#include "outgoing.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace wssac
{

struct LedgerConfig
{
  int max_attempts = 8;      /* writes of one chunk before it is given up; >= 1 */
  size_t initial_window = 4; /* chunks in flight on a new connection; >= 1 */
  size_t max_window = 64;    /* >= initial_window */
  int64_t min_hold_ms = 500; /* TCP evidence holds this long at least */
};

enum class ChunkState
{
  Queued,    /* written before, waiting to be written again */
  Written,   /* on the current connection, unconfirmed */
  Confirmed, /* forgotten: only counted */
  GivenUp,   /* forgotten: only counted */
};

struct LedgerCounters
{
  uint64_t written = 0;   /* first writes */
  uint64_t rewritten = 0; /* further writes: duplicates on the wire at worst */
  /* Rewrites of chunks the peer's TCP had acknowledged before: most likely
   * duplicates at the receiver (a receiver without acks cannot tell). */
  uint64_t likely_duplicates = 0;
  uint64_t confirmed = 0; /* by ack or by TCP evidence */
  uint64_t confirmed_by_ack = 0;
  uint64_t given_up = 0; /* max_attempts writes, never confirmed */
  uint64_t connections = 0;
  uint64_t connections_without_progress = 0; /* died having confirmed nothing */
};

class DeliveryLedger
{
public:
  explicit DeliveryLedger (LedgerConfig config = LedgerConfig ());

  const LedgerConfig &
  config () const
  {
    return config_;
  }

  /* A new connection is open; returns its number K (1, 2, ...).
   * @acks_promised: its receiver promised to ack every chunk it stores
   * (kAckPromiseHeader): only its acks confirm chunks written on it, never
   * TCP evidence nor a clean close; and, when it acks every
   * @acked_every chunks, the window is at least that (up to max_window),
   * else it would wait for the receiver's timer on every connection. */
  uint64_t connection_opened (bool acks_promised = false, size_t acked_every = 0);
  bool
  acks_promised () const
  {
    return acks_promised_;
  }
  uint64_t
  connection () const
  {
    return connection_;
  }

  /* Room for one more unconfirmed chunk on the current connection. */
  bool
  window_open () const
  {
    return in_flight () < window_;
  }
  size_t
  window () const
  {
    return window_;
  }
  size_t
  in_flight () const
  {
    return written_.size ();
  }

  /* Chunks that a dead connection did not confirm, to be written before
   * anything new, lowest index first. */
  bool
  has_replay () const
  {
    return !replay_.empty ();
  }
  size_t
  replay_size () const
  {
    return replay_.size ();
  }
  Outgoing take_replay ();

  /* @item was handed to the current connection; its last byte is at
   * @end_offset in the connection's TCP byte stream (0: unknown, no TCP
   * evidence for it). Counts one attempt. */
  void written (Outgoing item, uint64_t end_offset);
  /* Chunk @index, written on the current connection with its end unknown,
   * ends at @end_offset (learnt from a later TCP sample). */
  void set_end (uint64_t index, uint64_t end_offset);

  /* The receiver acknowledged every chunk up to @index. From now on only
   * acks confirm. Returns how many chunks it confirmed. */
  size_t acked (uint64_t index);
  bool
  peer_acks () const
  {
    return peer_acks_;
  }

  /* No more chunks follow on this connection (end of stream, a switch to a
   * new connection): a receiver that acks every few chunks will not ack
   * the last ones, so TCP evidence confirms them after all. */
  void
  set_tail (bool tail)
  {
    tail_ = tail;
  }

  /* Where the peer answers pings, TCP evidence also needs a sign of life
   * (a pong or a message) after the chunk's bytes were acknowledged: a
   * middlebox that acknowledged bytes it cannot forward goes silent. */
  void
  require_liveness (bool required)
  {
    liveness_required_ = required;
  }
  void
  peer_heard (int64_t now_ms)
  {
    last_heard_ms_ = now_ms;
  }

  /* TCP evidence for the current connection: the peer acknowledged
   * @bytes_acked bytes of our stream; @rtt_ms is the smoothed RTT. Chunks
   * whose last byte is covered and which have been covered for the hold
   * time are confirmed. Returns how many. */
  size_t tcp_progress (uint64_t bytes_acked, int64_t rtt_ms, int64_t now_ms);

  /* The receiver refused chunk @index (it was not stored): it is written
   * again after the chunks before it, and that write did not count as an
   * attempt (Replayed); unless @permanent (then it is forgotten: Lost).
   * A refusal of a chunk TCP evidence confirmed is too late for a replay
   * (the chunks after it went on): Lost, and no longer counted as
   * confirmed. The caller counts what is Lost. */
  enum class Refusal
  {
    Ignored, /* not a chunk waiting for its confirmation: a stale reply */
    Replayed,
    Lost,
  };
  Refusal refused (uint64_t index, bool permanent);

  /* The current connection ended. @clean: the server closed it normally
   * (1000, 1001), having read what its TCP acknowledged before: that is
   * confirmed, acks or not. The rest is queued for replay, except chunks written
   * max_attempts times: those are given up and returned (one range: the
   * span, count and bytes of what went). */
  DropRange connection_ended (bool clean);

  /* Make-before-break (connection-handover.h): a new connection takes the
   * next chunks while the current one only waits for its confirmations. Its
   * unconfirmed chunks move aside; the caller then calls connection_opened
   * for the new one. One retiring connection at a time: a previous one that
   * is still there is treated as dead. Acks confirm its chunks as any. */
  void retire_current ();
  size_t
  retiring () const
  {
    return retiring_.size ();
  }
  /* TCP evidence for the retiring connection (no more chunks follow on it:
   * the hold time alone decides, acks or not). Returns how many it confirmed. */
  size_t retiring_tcp_progress (uint64_t bytes_acked, int64_t rtt_ms, int64_t now_ms);
  /* The retiring connection ended (@clean as connection_ended): what it did
   * not confirm is queued for replay on the current one, in index order;
   * chunks written max_attempts times are given up and returned. */
  DropRange retiring_ended (bool clean);

  /* Everything unconfirmed, written or waiting for a replay; removes it
   * (end of stream, stop). */
  DropRange take_unconfirmed ();

  bool
  all_confirmed () const
  {
    return written_.empty () && replay_.empty () && retiring_.empty ();
  }
  size_t
  unconfirmed () const
  {
    return written_.size () + replay_.size () + retiring_.size ();
  }
  /* The state of chunk @index, or nullopt when it was never written or is
   * forgotten (confirmed and given up chunks are only counted). */
  std::optional<ChunkState> state (uint64_t index) const;
  int attempts (uint64_t index) const;
  const LedgerCounters &
  counters () const
  {
    return counters_;
  }

private:
  struct Entry
  {
    Outgoing item;
    int attempts = 0;
    uint64_t end_offset = 0;   /* in the stream of the connection it is written on */
    int64_t tcp_acked_ms = -1; /* when TCP evidence covered it first */
    bool reached_peer = false; /* covered by TCP evidence on an earlier connection */
  };

  using Entries = std::map<uint64_t, Entry>;
  void confirm (Entries &from, Entries::iterator it, bool by_ack);
  static void mark_tcp_acked (Entries &entries, uint64_t bytes_acked, int64_t now_ms);
  size_t confirm_held (Entries &entries, int64_t rtt_ms, int64_t now_ms);
  /* @entries' connection ended: confirmed (clean, unless its receiver
   * promised acks) or queued for replay. */
  DropRange ended (Entries &entries, bool clean, bool acks_promised);
  /* Chunks confirmed by TCP evidence lately, for a refusal that comes after
   * (bounded: kRememberedTcpConfirmations). */
  static constexpr size_t kRememberedTcpConfirmations = 1024;
  std::set<uint64_t> tcp_confirmed_;

  LedgerConfig config_;
  std::map<uint64_t, Entry> written_;  /* on the current connection */
  std::map<uint64_t, Entry> replay_;   /* waiting for the next connection */
  std::map<uint64_t, Entry> retiring_; /* on the connection being replaced */
  size_t window_;
  uint64_t connection_ = 0;
  uint64_t confirmed_on_connection_ = 0;
  bool peer_acks_ = false;
  bool acks_promised_ = false;          /* by the current connection's receiver */
  bool retiring_acks_promised_ = false; /* by the retiring one's */
  bool tail_ = false;
  bool liveness_required_ = false;
  int64_t last_heard_ms_ = -1;
  uint64_t highest_ack_ = 0;
  LedgerCounters counters_;
};

} // namespace wssac
