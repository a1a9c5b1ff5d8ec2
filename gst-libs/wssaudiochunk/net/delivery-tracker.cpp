#include "delivery-tracker.h"

#include "tcp-evidence.h"

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
}

uint64_t
DeliveryTracker::frame_size (size_t payload)
{
  /* A client frame: 2 header bytes, the extended length, the 4-byte mask. */
  uint64_t ext = payload < 126 ? 0 : payload <= 0xffff ? 2 : 8;
  return 2 + ext + 4 + payload;
}

uint64_t
DeliveryTracker::kernel_position () const
{
  TcpSample s;
  if (!conn_ || !tcp_sample (socket_of_stream (soup_websocket_connection_get_io_stream (conn_)), s))
    return 0;
  return tcp_stream_position (s);
}

void
DeliveryTracker::opened (SoupWebsocketConnection *conn)
{
  ledger_.connection_opened ();
  conn_ = conn;
  framed_ = 0;
  TcpSample s;
  have_tcp_ = tcp_sample (socket_of_stream (soup_websocket_connection_get_io_stream (conn)), s);
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
  uint64_t end = 0;
  if (have_tcp_)
    {
      /* Frames counted from the upgrade miss libsoup's pings and pongs; the
       * kernel's position misses what libsoup still buffers: each is a
       * lower bound of the chunk's end, take the larger. TLS record sizes
       * are unknown here: only the kernel's position then. */
      end = kernel_position ();
      if (!config_.tls)
        end = std::max (end, base_ + framed_);
    }
  pacer_.sent (item.media_duration, now_ms);
  ledger_.written (std::move (item), end);
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
  if (!tcp_sample (socket_of_stream (soup_websocket_connection_get_io_stream (conn_)), s))
    return 0;
  return ledger_.tcp_progress (s.bytes_acked, s.rtt_ms, now_ms);
}

} // namespace wssac
