/* wssaudiochunk core: make-before-break at a known connection age.
 *
 * A gateway that cuts every connection at a fixed age (API Gateway: 2 h)
 * costs a reconnect and a replay when it is allowed to happen. So once the
 * current connection is max_age_ms old, the next one is opened while the
 * current one keeps sending; when the next one is upgraded, sending moves
 * to it at a chunk boundary (the transport writes whole chunks, so the
 * next write is on the new connection); the old one retires: it carries
 * nothing new and is closed with 1000 once everything written on it is
 * confirmed (the DeliveryLedger decides that). A next connection that
 * fails to open is tried again with backoff while the old one keeps
 * sending. At most two connections are open: none is opened while one
 * retires.
 *
 * No I/O and no clock: the transport passes the time and the events in.
 * Not thread-safe; the transport thread uses it.
 */
#pragma once

#include "retry-policy.h"

#include <cstddef>
#include <cstdint>

namespace wssac
{

enum class HandoverPhase
{
  Steady,   /* one connection (or none), younger than max_age_ms */
  Opening,  /* the next connection is being opened */
  Backoff,  /* opening it failed; tried again at retry_at_ms () */
  Retiring, /* sending moved to the new connection; the old one confirms */
};

const char *handover_phase_name (HandoverPhase phase);

struct HandoverConfig
{
  int64_t max_age_ms = 0; /* 0: never */
  /* Backoff between attempts to open the next connection (max_retries is
   * ignored: the old connection still works, so trying never ends). */
  RetryConfig retry;
};

class ConnectionHandover
{
public:
  explicit ConnectionHandover (HandoverConfig config = HandoverConfig (),
                               uint64_t seed = RetryPolicy::random_seed ());

  HandoverPhase
  phase () const
  {
    return phase_;
  }

  /* The current connection is open (the first one or a reconnect after a
   * failure): its age counts from @now_ms. */
  void current_opened (int64_t now_ms);
  /* The current connection is gone (a failure or the server's close).
   * True when the next connection's attempt is under way: it becomes the
   * reconnect (no second attempt). A pending backoff is abandoned: the
   * transport's reconnect path takes over. */
  bool current_lost ();
  bool
  has_current () const
  {
    return has_current_;
  }

  /* True once when the next connection must be opened now: the current one
   * reached max_age_ms (or the backoff after a failed attempt passed), no
   * connection retires, and the stream is not draining (at the end of the
   * stream a new connection buys nothing). The phase becomes Opening. */
  bool should_open_next (int64_t now_ms, bool draining);
  /* When should_open_next () can next become true (for a timer); -1: not
   * before some event. */
  int64_t next_check_ms () const;

  /* The next connection is upgraded. True: it is a handover, the old one
   * retires (phase Retiring) and the new one's age counts from @now_ms.
   * False: the old one was lost meanwhile, this is a plain reconnect. */
  bool next_opened (int64_t now_ms);
  /* Opening the next connection failed. Returns the delay before trying
   * again (phase Backoff), or -1 when the old one was lost meanwhile (then
   * the transport's reconnect path applies; phase Steady). */
  int64_t next_failed (int64_t now_ms);
  int64_t
  retry_at_ms () const
  {
    return retry_at_ms_;
  }

  /* The retiring connection may be closed with 1000: nothing written on it
   * is unconfirmed. */
  bool
  may_close_retired (size_t unconfirmed_on_retired) const
  {
    return phase_ == HandoverPhase::Retiring && unconfirmed_on_retired == 0;
  }
  /* The retiring connection is gone (closed by us once confirmed, closed
   * by the server, or dead: the ledger replays what it did not confirm). */
  void retired_gone ();

  /* Completed handovers: the new connection took over sending. */
  uint64_t
  handovers () const
  {
    return handovers_;
  }
  /* Attempts to open a next connection that failed. */
  uint64_t
  failed_attempts () const
  {
    return failed_attempts_;
  }

private:
  HandoverConfig config_;
  RetryPolicy retry_;
  HandoverPhase phase_ = HandoverPhase::Steady;
  bool has_current_ = false;
  int64_t opened_ms_ = 0;
  int64_t retry_at_ms_ = -1;
  uint64_t handovers_ = 0;
  uint64_t failed_attempts_ = 0;
};

} // namespace wssac
