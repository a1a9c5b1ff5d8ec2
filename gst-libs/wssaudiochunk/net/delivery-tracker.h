/* wssaudiochunk: the sink transport's side of the delivery ledger.
 *
 * Maps one libsoup WebSocket connection onto the DeliveryLedger: where in
 * the TCP stream each chunk ends (frame sizes counted from the position
 * after the upgrade, and the kernel's position sampled right after the
 * write; with TLS only the latter means anything), TCP evidence sampled
 * from the socket, the in-flight window and the send pacing. Used on the
 * transport thread only, under the transport's lock.
 */
#pragma once

#include "delivery-ledger.h"
#include "send-pacer.h"

#include <libsoup/soup.h>

#include <cstdint>

namespace wssac
{

struct DeliveryConfig
{
  LedgerConfig ledger;
  /* Backlog and replays drain at most this many times real time until the
   * receiver is known to ack (our receivers reorder by chunkIndex; a
   * gateway running one function per message does not). <= 0: no bound. */
  double max_send_rate = 3.0;
  bool tls = false;
};

class DeliveryTracker
{
public:
  void reset (const DeliveryConfig &config);

  DeliveryLedger &
  ledger ()
  {
    return ledger_;
  }
  const DeliveryLedger &
  ledger () const
  {
    return ledger_;
  }

  /* A new connection is open (upgrade done): counts it and notes where its
   * stream stands. */
  void opened (SoupWebsocketConnection *conn);
  void
  closed ()
  {
    conn_ = nullptr;
  }

  /* 0 when the next chunk may be written now; > 0: ask again in that many
   * ms (pacing); < 0: the window is full (wait for confirmations). */
  int64_t next_chunk_delay_ms (int64_t now_ms);

  /* A message of @payload bytes was handed to libsoup; for a chunk, the
   * ledger takes it over. */
  void wrote_chunk (Outgoing item, size_t payload, int64_t now_ms);
  void wrote_control (size_t payload);

  /* Samples TCP evidence; returns the chunks it confirmed. */
  size_t sample (int64_t now_ms);

private:
  static uint64_t frame_size (size_t payload);
  uint64_t kernel_position () const;

  DeliveryConfig config_;
  DeliveryLedger ledger_;
  SendPacer pacer_;
  SoupWebsocketConnection *conn_ = nullptr; /* borrowed, while open */
  uint64_t base_ = 0;                       /* stream position after the upgrade */
  uint64_t framed_ = 0;                     /* frame bytes written since */
  bool have_tcp_ = false;
};

} // namespace wssac
