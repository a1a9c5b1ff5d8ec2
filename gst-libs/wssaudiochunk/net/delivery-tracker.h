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

#include "backlog.h"
#include "delivery-ledger.h"
#include "drop-episodes.h"
#include "message-codec.h"
#include "refusal-policy.h"
#include "send-pacer.h"
#include "tcp-evidence.h"
#include "wss-client-transport.h"

#include <libsoup/soup.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
  /* Dead-path detection by the kernel (tcp_harden ()). */
  unsigned tcp_user_timeout_ms = 30000;
  unsigned tcp_keepalive_s = 10;
  int64_t refusal_timeout_ms = 5000;
  std::string session_id;
};

/* What an error reply from the receiver leads to. */
struct RefusalOutcome
{
  std::vector<DropEpisode> due; /* a chunk refused for good */
  bool warn = false;            /* worth a warning (one a second per code) */
  bool reconnect = false;       /* session-claimed: our old connection holds it */
  std::optional<RefusalVerdict> fatal;
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

  /* A new connection is open (upgrade done): counts it, notes where its
   * stream stands, and sets TCP_USER_TIMEOUT and keepalive on its socket so
   * that a path that stops acknowledging data fails in the kernel, pongs or
   * not. @acks: what its receiver promised (kAckPromiseHeader): if
   * anything, only acks confirm what is written on it. */
  void opened (SoupWebsocketConnection *conn, const AckPromise &acks);
  void
  closed ()
  {
    conn_ = nullptr;
    socket_ = nullptr;
    have_last_ = false;
    unsettled_.clear (); /* their ends stay unknown: no TCP evidence */
  }

  /* 0 when the next chunk may be written now; > 0: ask again in that many
   * ms (pacing); < 0: the window is full (wait for confirmations). */
  int64_t next_chunk_delay_ms (int64_t now_ms);

  /* A message of @payload bytes was handed to libsoup; for a chunk, the
   * ledger takes it over. Where the kernel surely took the write whole, the
   * chunk's end in the TCP stream is learnt from the next sample (taken
   * when evidence or the send queue is looked at) instead of one per
   * chunk. */
  void wrote_chunk (Outgoing item, size_t payload, int64_t now_ms);
  void wrote_control (size_t payload);
  /* The open connection's socket (nullptr without one): for socket
   * options around a batch of writes (tcp_cork ()). */
  GSocket *
  socket () const
  {
    return socket_;
  }

  /* The next message to write, replays first: true with @out; false when
   * nothing may go now (@wait: > 0 ms of pacing, else wait for a
   * confirmation or new audio). Without acks endSession waits until
   * everything is confirmed: a replay after it would be refused. */
  bool next (Backlog &backlog, int64_t now_ms, Outgoing &out, int64_t &wait);

  /* Seconds between pings: TCP evidence waits for a pong where the peer
   * answers pings, so every second while chunks wait for one (never more
   * often than @configured; 0 = no pings). */
  unsigned ping_interval (unsigned configured, bool pong_seen) const;

  /* More bytes than @max_in_flight wait in the kernel for the peer. Asks
   * the kernel only when the last sample plus what was written since could
   * be more (plain TCP; with TLS every time). */
  bool kernel_full (size_t max_in_flight);
  /* Room in @backlog for more from a non-live upstream: half its bound
   * (10 s of audio without one); a live source drops past the bound. */
  static bool has_room (const Backlog &backlog);
  /* A message of @size bytes over @max: a chunk is counted lost
   * (@due); returns what to say. */
  std::string oversize (const Outgoing &item, size_t size, size_t max, int64_t now_ms,
                        std::vector<DropEpisode> &due);

  /* The delivery counters of the transport's stats. */
  void fill (TransportStats &s) const;

  /* Samples TCP evidence; returns the chunks it confirmed. */
  size_t sample (int64_t now_ms);

  /* Something was confirmed: refusals start over. */
  void
  progress ()
  {
    refusals_.accepted ();
  }
  RefusalOutcome refused (const Reply &reply, int64_t now_ms);

  /* Chunks that will not arrive: counted by reason; returns the episodes
   * due for announcement. */
  std::vector<DropEpisode> count_drop (DropReason reason, const DropRange &range, int64_t now_ms);
  std::vector<DropEpisode>
  due_drops (int64_t now_ms)
  {
    return episodes_.due (now_ms);
  }
  /* Everything queued in @backlog (audio) or unconfirmed is lost: counted,
   * removed, and every pending episode returned. Controls stay queued. */
  std::vector<DropEpisode> abandon (Backlog &backlog, int64_t now_ms);
  uint64_t
  dropped (DropReason reason) const
  {
    return episodes_.count (reason);
  }
  uint64_t
  dropped_total () const
  {
    return episodes_.total ();
  }

private:
  static uint64_t frame_size (size_t payload);
  bool take_sample (TcpSample &s);
  /* The kernel surely took the last write whole: what may be queued is
   * well under its send buffer. */
  bool kernel_takes_writes ();
  uint64_t kernel_position ();

  DeliveryConfig config_;
  DeliveryLedger ledger_;
  SendPacer pacer_;
  SoupWebsocketConnection *conn_ = nullptr; /* borrowed, while open */
  GSocket *socket_ = nullptr;               /* conn_'s, found once per connection */
  TcpSample last_;                          /* the last sample of socket_ */
  uint64_t framed_at_last_ = 0;             /* framed_ when it was taken */
  bool have_last_ = false;
  uint64_t base_ = 0;   /* stream position after the upgrade */
  uint64_t framed_ = 0; /* frame bytes written since */
  bool have_tcp_ = false;
  uint64_t send_buffer_ = 0; /* socket_'s SO_SNDBUF when last asked */
  /* Chunks whose end awaits the next sample: (index, base_ + framed_ after
   * its frame), in write order. */
  std::vector<std::pair<uint64_t, uint64_t>> unsettled_;
  DropEpisodes episodes_;
  RefusalPolicy refusals_;
  std::string last_refusal_;
  int64_t last_refusal_ms_ = -1;
};

} // namespace wssac
