#include "delivery-ledger.h"

#include <algorithm>
#include <utility>

namespace wssac
{

DeliveryLedger::DeliveryLedger (LedgerConfig config) : config_ (config)
{
  config_.max_attempts = std::max (config_.max_attempts, 1);
  config_.initial_window = std::max<size_t> (config_.initial_window, 1);
  config_.max_window = std::max (config_.max_window, config_.initial_window);
  config_.min_hold_ms = std::max<int64_t> (config_.min_hold_ms, 0);
  window_ = config_.initial_window;
}

uint64_t
DeliveryLedger::connection_opened (bool acks_promised, size_t acked_every)
{
  /* Whatever the previous connection still held was never confirmed. */
  if (!written_.empty ())
    connection_ended (false);
  acks_promised_ = acks_promised;
  if (acks_promised)
    window_ = std::max (window_, std::min (acked_every, config_.max_window));
  connection_++;
  confirmed_on_connection_ = 0;
  counters_.connections++;
  return connection_;
}

Outgoing
DeliveryLedger::take_replay ()
{
  auto it = replay_.begin ();
  Outgoing item = std::move (it->second.item);
  item.replay = true;
  /* The attempts travel with the chunk: written () counts the next one. */
  item.attempts = it->second.attempts;
  if (it->second.reached_peer)
    counters_.likely_duplicates++;
  replay_.erase (it);
  return item;
}

void
DeliveryLedger::written (Outgoing item, uint64_t end_offset)
{
  uint64_t index = item.chunk_index;
  const int attempts = std::max (item.attempts, 0);
  if (attempts == 0)
    counters_.written++;
  else
    counters_.rewritten++;
  Entry e;
  e.item = std::move (item);
  e.attempts = attempts + 1;
  e.item.attempts = e.attempts;
  e.end_offset = end_offset;
  written_[index] = std::move (e);
}

void
DeliveryLedger::set_end (uint64_t index, uint64_t end_offset)
{
  auto it = written_.find (index);
  if (it != written_.end ())
    it->second.end_offset = end_offset;
}

void
DeliveryLedger::confirm (Entries &from, Entries::iterator it, bool by_ack)
{
  counters_.confirmed++;
  if (by_ack)
    counters_.confirmed_by_ack++;
  else
    {
      tcp_confirmed_.insert (it->first);
      if (tcp_confirmed_.size () > kRememberedTcpConfirmations)
        tcp_confirmed_.erase (tcp_confirmed_.begin ());
    }
  if (&from == &written_)
    {
      confirmed_on_connection_++;
      window_ = std::min (window_ + 1, config_.max_window);
    }
  from.erase (it);
}

size_t
DeliveryLedger::acked (uint64_t index)
{
  peer_acks_ = true;
  highest_ack_ = std::max (highest_ack_, index);
  size_t n = 0;
  for (Entries *m : { &written_, &retiring_ })
    while (!m->empty () && m->begin ()->first <= index)
      {
        confirm (*m, m->begin (), true);
        n++;
      }
  /* A replay the receiver already has (it arrived before the connection
   * died, the ack did not): not sent again. */
  while (!replay_.empty () && replay_.begin ()->first <= index)
    {
      replay_.erase (replay_.begin ());
      counters_.confirmed++;
      counters_.confirmed_by_ack++;
      n++;
    }
  return n;
}

void
DeliveryLedger::mark_tcp_acked (Entries &entries, uint64_t bytes_acked,
                int64_t now_ms)
{
  for (auto &kv : entries)
    if (kv.second.tcp_acked_ms < 0 && kv.second.end_offset > 0
        && kv.second.end_offset <= bytes_acked)
      kv.second.tcp_acked_ms = now_ms;
}

size_t
DeliveryLedger::confirm_held (Entries &entries, int64_t rtt_ms, int64_t now_ms)
{
  const int64_t hold = std::max (2 * rtt_ms, config_.min_hold_ms);
  size_t n = 0;
  for (auto it = entries.begin (); it != entries.end ();)
    {
      const Entry &e = it->second;
      const bool alive = !liveness_required_ || last_heard_ms_ > e.tcp_acked_ms;
      auto next = std::next (it);
      if (e.tcp_acked_ms >= 0 && now_ms - e.tcp_acked_ms >= hold && alive)
        {
          confirm (entries, it, false);
          n++;
        }
      it = next;
    }
  return n;
}

size_t
DeliveryLedger::tcp_progress (uint64_t bytes_acked, int64_t rtt_ms, int64_t now_ms)
{
  mark_tcp_acked (written_, bytes_acked, now_ms);
  if (acks_promised_)
    return 0;
  /* Once the receiver acks, only it knows what it stored; but it acks
   * every few chunks, so when no more can follow (the window is full, the
   * stream ends) TCP evidence has to do. */
  if (peer_acks_ && !tail_ && written_.size () < window_)
    return 0;
  return confirm_held (written_, rtt_ms, now_ms);
}

size_t
DeliveryLedger::retiring_tcp_progress (uint64_t bytes_acked, int64_t rtt_ms, int64_t now_ms)
{
  mark_tcp_acked (retiring_, bytes_acked, now_ms);
  if (retiring_acks_promised_)
    return 0;
  return confirm_held (retiring_, rtt_ms, now_ms);
}

void
DeliveryLedger::retire_current ()
{
  if (!retiring_.empty ())
    retiring_ended (false);
  retiring_ = std::move (written_);
  written_.clear ();
  retiring_acks_promised_ = acks_promised_;
}

DropRange
DeliveryLedger::retiring_ended (bool clean)
{
  return ended (retiring_, clean, retiring_acks_promised_);
}

DeliveryLedger::Refusal
DeliveryLedger::refused (uint64_t index, bool permanent)
{
  Entries &on = written_.count (index) ? written_ : retiring_;
  auto it = on.find (index);
  if (it == on.end ())
    {
      if (!tcp_confirmed_.erase (index))
        return Refusal::Ignored;
      counters_.confirmed--;
      return Refusal::Lost;
    }
  if (!permanent)
    {
      Entry e = std::move (it->second);
      e.attempts--; /* refused, so not stored: no duplicate either */
      e.item.replay = true;
      e.tcp_acked_ms = -1;
      e.end_offset = 0;
      replay_[index] = std::move (e);
    }
  on.erase (it);
  return permanent ? Refusal::Lost : Refusal::Replayed;
}

DropRange
DeliveryLedger::connection_ended (bool clean)
{
  const bool had_chunks = !written_.empty ();
  DropRange given_up = ended (written_, clean, acks_promised_);
  if (had_chunks && confirmed_on_connection_ == 0)
    {
      counters_.connections_without_progress++;
      window_ = std::max<size_t> (1, window_ / 2);
    }
  confirmed_on_connection_ = 0;
  return given_up;
}

DropRange
DeliveryLedger::ended (Entries &entries, bool clean, bool acks_promised)
{
  DropRange given_up;
  /* (A receiver that promised acks sent them before its close: what it
   * did not ack, it may not have stored.) */
  if (clean && !acks_promised)
    {
      /* The server read up to its close: what its TCP acknowledged before
       * it is in its hands. */
      for (auto it = entries.begin (); it != entries.end ();)
        {
          auto next = std::next (it);
          if (it->second.tcp_acked_ms >= 0)
            confirm (entries, it, false);
          it = next;
        }
    }
  for (auto &kv : entries)
    {
      Entry &e = kv.second;
      if (e.attempts >= config_.max_attempts)
        {
          add_to_drop_range (given_up, e.item);
          continue;
        }
      e.item.replay = true;
      e.reached_peer = e.reached_peer || e.tcp_acked_ms >= 0;
      e.tcp_acked_ms = -1;
      e.end_offset = 0;
      replay_[kv.first] = std::move (e);
    }
  entries.clear ();
  counters_.given_up += given_up.count;
  return given_up;
}

DropRange
DeliveryLedger::take_unconfirmed ()
{
  DropRange lost;
  for (const auto &kv : written_)
    add_to_drop_range (lost, kv.second.item);
  for (const auto &kv : replay_)
    add_to_drop_range (lost, kv.second.item);
  for (const auto &kv : retiring_)
    add_to_drop_range (lost, kv.second.item);
  retiring_.clear ();
  written_.clear ();
  replay_.clear ();
  return lost;
}

std::optional<ChunkState>
DeliveryLedger::state (uint64_t index) const
{
  if (written_.count (index) || retiring_.count (index))
    return ChunkState::Written;
  if (replay_.count (index))
    return ChunkState::Queued;
  return std::nullopt;
}

int
DeliveryLedger::attempts (uint64_t index) const
{
  auto it = written_.find (index);
  if (it != written_.end ())
    return it->second.attempts;
  it = retiring_.find (index);
  if (it != retiring_.end ())
    return it->second.attempts;
  it = replay_.find (index);
  if (it != replay_.end ())
    return it->second.attempts;
  return 0;
}

} // namespace wssac
