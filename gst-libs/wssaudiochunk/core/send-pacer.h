/* wssaudiochunk core: how fast queued audio may leave after an outage.
 *
 * API Gateway runs one function per WebSocket message, concurrently: a
 * burst of 17 chunks sent at once after a pause reaches the backend out of
 * order and late. So a backlog (and the replays after a reconnect) drains
 * at a bounded multiple of real time: a token bucket counted in media time,
 * refilled at @rate seconds of audio per second, holding at most @burst.
 * rate <= 0: no bound (receivers that reorder by chunkIndex, like ours).
 */
#pragma once

#include <cstdint>

namespace wssac
{

class SendPacer
{
public:
  explicit SendPacer (double rate = 0.0, int64_t burst_ns = 1000000000LL);

  void
  set_rate (double rate)
  {
    rate_ = rate;
  }
  double
  rate () const
  {
    return rate_;
  }
  bool
  unlimited () const
  {
    return !(rate_ > 0.0);
  }

  /* Milliseconds to wait before the next chunk may go (0: now). */
  int64_t delay_ms (int64_t now_ms);
  /* A chunk of @media_ns of audio went at @now_ms. */
  void sent (int64_t media_ns, int64_t now_ms);

private:
  void refill (int64_t now_ms);

  double rate_;
  int64_t burst_ns_;
  double credit_ns_;
  int64_t last_ms_ = -1;
};

} // namespace wssac
