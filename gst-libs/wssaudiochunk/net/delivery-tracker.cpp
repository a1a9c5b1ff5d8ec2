#include "delivery-tracker.h"

#include <algorithm>

namespace wssac
{

void
DeliveryTracker::reset (const DeliveryConfig &config)
{
  config_ = config;
  ledger_ = DeliveryLedger (config.ledger);
  pacer_ = SendPacer (config.max_send_rate);
  conn_ = nullptr;
  base_ = framed_ = 0;
  have_tcp_ = false;
  episodes_ = DropEpisodes ();
  refusals_ = RefusalPolicy (config.refusal_timeout_ms, config.session_id);
  last_refusal_.clear ();
  last_refusal_ms_ = -1;
}

uint64_t
DeliveryTracker::frame_size (size_t payload)
{
  /* A client frame: 2 header bytes, the extended length, the 4-byte mask. */
  uint64_t ext = payload < 126 ? 0 : payload <= 0xffff ? 2 : 8;
  return 2 + ext + 4 + payload;
}

namespace
{
/* Frames libsoup writes on its own between two samples (pings, pongs, a
 * close): each under 132 bytes. */
constexpr uint64_t kControlSlack = 4096;
} // namespace

bool
DeliveryTracker::take_sample (TcpSample &s)
{
  if (!conn_ || !tcp_sample (socket_, s))
    return false;
  last_ = s;
  framed_at_last_ = framed_;
  have_last_ = true;
  /* Nothing of ours was written after the chunks waiting for their end:
   * only libsoup's own frames can lie beyond them, which counts them later
   * than they are, never earlier. */
  for (const auto &u : unsettled_)
    ledger_.set_end (
        u.first, config_.tls
                     ? tcp_stream_position (s)
                     : std::max (frame_end_from_sample (s, u.second, base_ + framed_), u.second));
  unsettled_.clear ();
  return true;
}

uint64_t
DeliveryTracker::kernel_position ()
{
  TcpSample s;
  return take_sample (s) ? tcp_stream_position (s) : 0;
}

void
DeliveryTracker::opened (SoupWebsocketConnection *conn, const AckPromise &acks)
{
  ledger_.connection_opened (acks.made (), acks.every);
  conn_ = conn;
  framed_ = 0;
  have_last_ = false;
  unsettled_.clear ();
  /* Found once: walking the stream stack costs GObject property lookups. */
  socket_ = socket_of_stream (soup_websocket_connection_get_io_stream (conn));
  tcp_harden (socket_, config_.tcp_user_timeout_ms, config_.tcp_keepalive_s);
  send_buffer_ = 0; /* asked for when needed */
  TcpSample s;
  have_tcp_ = take_sample (s);
  base_ = have_tcp_ ? tcp_stream_position (s) : 0;
}

int64_t
DeliveryTracker::next_chunk_delay_ms (int64_t now_ms)
{
  if (!ledger_.window_open ())
    return -1;
  if (ledger_.peer_acks ())
    return 0;
  return pacer_.delay_ms (now_ms);
}

void
DeliveryTracker::wrote_chunk (Outgoing item, size_t payload, int64_t now_ms)
{
  framed_ += frame_size (payload);
  const uint64_t index = item.chunk_index;
  pacer_.sent (item.media_duration, now_ms);
  ledger_.written (std::move (item), 0);
  if (!have_tcp_)
    return;
  /* Frames counted from the upgrade miss libsoup's pings and pongs; the
   * kernel's position misses what libsoup still buffers: each is a lower
   * bound of the chunk's end, take the larger (take_sample ()). TLS record
   * sizes are unknown here: only the kernel's position right after the
   * write then. */
  unsettled_.emplace_back (index, base_ + framed_);
  if (config_.tls || !kernel_takes_writes ())
    kernel_position ();
}

bool
DeliveryTracker::kernel_takes_writes ()
{
  if (!have_last_)
    return false;
  /* Half the send buffer leaves room for the kernel's own accounting of
   * each segment. The kernel grows the buffer as the connection goes:
   * asked again only when the bound passes half of what it was. */
  const uint64_t bound
      = send_queue_bound (last_, base_ + framed_at_last_, base_ + framed_, kControlSlack);
  if (bound > send_buffer_ / 2)
    send_buffer_ = tcp_send_buffer (socket_);
  return bound <= send_buffer_ / 2;
}

void
DeliveryTracker::wrote_control (size_t payload)
{
  framed_ += frame_size (payload);
}

size_t
DeliveryTracker::sample (int64_t now_ms)
{
  if (!conn_ || !have_tcp_ || ledger_.in_flight () == 0)
    return 0;
  TcpSample s;
  if (!take_sample (s))
    return 0;
  return ledger_.tcp_progress (s.bytes_acked, s.rtt_ms, now_ms);
}

bool
DeliveryTracker::next (Backlog &backlog, int64_t now_ms, Outgoing &out, int64_t &wait)
{
  wait = 0;
  const bool replay = ledger_.has_replay ();
  if (!replay && backlog.empty ())
    return false;
  const bool chunk = replay || backlog.front ().kind == OutgoingKind::AudioChunk;
  /* A receiver that acks answers endSession with its last ack: send it at
   * once. Without acks it waits until everything is confirmed, since a
   * replay after it would be refused. */
  if (!chunk && backlog.front ().action == Action::EndSession && !ledger_.peer_acks ()
      && !ledger_.all_confirmed ())
    return false;
  if (chunk)
    {
      wait = next_chunk_delay_ms (now_ms);
      if (wait != 0)
        return false;
    }
  out = replay ? ledger_.take_replay () : backlog.pop_front ();
  return true;
}

unsigned
DeliveryTracker::ping_interval (unsigned configured, bool pong_seen) const
{
  if (configured > 1 && pong_seen && !ledger_.peer_acks () && !ledger_.acks_promised ()
      && ledger_.in_flight () > 0)
    return 1;
  return configured;
}

bool
DeliveryTracker::kernel_full (size_t max_in_flight)
{
  if (max_in_flight == 0 || !conn_)
    return false;
  /* Every chunk's write is sampled (wrote_chunk ()): a receiver that keeps
   * up leaves the bound far below the limit and the kernel unasked. */
  if (have_last_ && !config_.tls
      && send_queue_bound (last_, base_ + framed_at_last_, base_ + framed_, kControlSlack)
             <= max_in_flight)
    return false;
  TcpSample s;
  return take_sample (s) && s.queued > max_in_flight;
}

bool
DeliveryTracker::has_room (const Backlog &backlog)
{
  const BacklogLimits &l = backlog.limits ();
  int64_t time_cap = l.max_time > 0 ? l.max_time / 2 : 10 * 1000000000LL;
  return backlog.audio_time () < time_cap
         && (l.max_bytes == 0 || backlog.audio_bytes () < l.max_bytes / 2);
}

std::string
DeliveryTracker::oversize (const Outgoing &item, size_t size, size_t max, int64_t now_ms,
                           std::vector<DropEpisode> &due)
{
  std::string what = item.kind == OutgoingKind::AudioChunk
                         ? "chunk " + std::to_string (item.chunk_index)
                         : std::string (action_name (item.action)) + " message";
  if (item.kind == OutgoingKind::AudioChunk)
    {
      DropRange r;
      add_to_drop_range (r, item);
      due = count_drop (DropReason::Oversize, r, now_ms);
    }
  return what + " encodes to " + std::to_string (size) + " bytes, over max-message-size "
         + std::to_string (max) + ": not sent";
}

void
DeliveryTracker::fill (TransportStats &s) const
{
  s.unacked_chunks = ledger_.unconfirmed ();
  s.chunks_confirmed = ledger_.counters ().confirmed;
  s.chunks_likely_duplicated = ledger_.counters ().likely_duplicates;
  s.window = ledger_.window ();
  s.acks_promised = ledger_.acks_promised ();
  s.chunks_dropped = episodes_.total ();
  s.dropped_backlog = episodes_.count (DropReason::Backlog);
  s.dropped_paused = episodes_.count (DropReason::Paused);
  s.dropped_oversize = episodes_.count (DropReason::Oversize);
  s.given_up = episodes_.count (DropReason::GivenUp);
  s.refused = episodes_.count (DropReason::Refused);
  s.unconfirmed = episodes_.count (DropReason::Unconfirmed);
}

RefusalOutcome
DeliveryTracker::refused (const Reply &reply, int64_t now_ms)
{
  RefusalOutcome out;
  const bool permanent = RefusalPolicy::permanent (reply.code);
  /* Refused for good, or after TCP evidence had confirmed it: lost, and
   * counted. Otherwise written again. */
  if (reply.has_index
      && ledger_.refused (reply.chunk_index, permanent) == DeliveryLedger::Refusal::Lost)
    {
      DropRange r;
      r.first = r.last = reply.chunk_index;
      r.count = 1;
      out.due = count_drop (DropReason::Refused, r, now_ms);
    }
  out.fatal = refusals_.refused (reply.code, reply.message, now_ms);
  out.reconnect = !out.fatal && reply.code == "session-claimed";
  out.warn = reply.code != last_refusal_ || now_ms - last_refusal_ms_ >= 1000;
  if (out.warn)
    {
      last_refusal_ = reply.code;
      last_refusal_ms_ = now_ms;
    }
  return out;
}

std::vector<DropEpisode>
DeliveryTracker::count_drop (DropReason reason, const DropRange &range, int64_t now_ms)
{
  return episodes_.add (reason, range, now_ms);
}

std::vector<DropEpisode>
DeliveryTracker::abandon (Backlog &backlog, int64_t now_ms)
{
  DropRange lost = ledger_.take_unconfirmed ();
  Backlog keep (backlog.limits ());
  while (!backlog.empty ())
    {
      Outgoing item = backlog.pop_front ();
      if (item.kind == OutgoingKind::AudioChunk)
        add_to_drop_range (lost, item);
      else
        keep.push (std::move (item));
    }
  backlog = std::move (keep);
  std::vector<DropEpisode> due;
  if (lost.count > 0)
    due = count_drop (DropReason::Unconfirmed, lost, now_ms);
  std::vector<DropEpisode> rest = episodes_.flush ();
  due.insert (due.end (), rest.begin (), rest.end ());
  return due;
}

} // namespace wssac
