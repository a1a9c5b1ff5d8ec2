#include "connection-handover.h"
#include "enum-names.h"

namespace wssac
{

const char *
handover_phase_name (HandoverPhase phase)
{
  static const char *const names[] = { "steady", "opening", "backoff", "retiring" };
  WSSAC_NAMES_COVER (names, HandoverPhase::Retiring);
  return enum_value_name (phase, names);
}

static RetryConfig
without_limit (RetryConfig retry)
{
  retry.max_retries = -1;
  return retry;
}

ConnectionHandover::ConnectionHandover (HandoverConfig config, uint64_t seed)
    : config_ (config), retry_ (without_limit (config.retry), seed)
{
}

void
ConnectionHandover::current_opened (int64_t now_ms)
{
  has_current_ = true;
  opened_ms_ = now_ms;
}

bool
ConnectionHandover::current_lost ()
{
  has_current_ = false;
  if (phase_ == HandoverPhase::Backoff)
    {
      phase_ = HandoverPhase::Steady;
      retry_at_ms_ = -1;
    }
  return phase_ == HandoverPhase::Opening;
}

bool
ConnectionHandover::should_open_next (int64_t now_ms, bool draining)
{
  if (!has_current_ || draining || config_.max_age_ms <= 0)
    return false;
  const int64_t at = next_check_ms ();
  if (at < 0 || now_ms < at)
    return false;
  phase_ = HandoverPhase::Opening;
  retry_at_ms_ = -1;
  return true;
}

int64_t
ConnectionHandover::next_check_ms () const
{
  if (!has_current_ || config_.max_age_ms <= 0)
    return -1;
  if (phase_ == HandoverPhase::Steady)
    return opened_ms_ + config_.max_age_ms;
  if (phase_ == HandoverPhase::Backoff)
    return retry_at_ms_;
  return -1;
}

bool
ConnectionHandover::next_opened (int64_t now_ms)
{
  retry_.reset ();
  const bool handover = has_current_;
  phase_ = handover ? HandoverPhase::Retiring : HandoverPhase::Steady;
  if (handover)
    handovers_++;
  current_opened (now_ms);
  return handover;
}

int64_t
ConnectionHandover::next_failed (int64_t now_ms)
{
  failed_attempts_++;
  if (!has_current_)
    {
      phase_ = HandoverPhase::Steady;
      return -1;
    }
  const int64_t delay = retry_.next_delay ().value_or (0);
  phase_ = HandoverPhase::Backoff;
  retry_at_ms_ = now_ms + delay;
  return delay;
}

void
ConnectionHandover::retired_gone ()
{
  if (phase_ == HandoverPhase::Retiring)
    phase_ = HandoverPhase::Steady;
}

} // namespace wssac
