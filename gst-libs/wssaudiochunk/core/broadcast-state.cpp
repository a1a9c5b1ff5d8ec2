#include "broadcast-state.h"

#include <utility>

namespace wssac
{

Outgoing
BroadcastState::control (Action action, int64_t now_ms, const std::string &reason)
{
  Outgoing o;
  o.kind = OutgoingKind::Control;
  o.action = action;
  o.reason = reason;
  o.created_ms = now_ms;
  return o;
}

/* Controls before the first chunk wait for it; an opposite request cancels
 * the waiting one. */
void
BroadcastState::emit (BroadcastEffects &fx, Outgoing c)
{
  if (started_)
    {
      fx.send.push_back (std::move (c));
      return;
    }
  if (!deferred_.empty ())
    {
      if (opposite_action (deferred_.back ().action) == c.action)
        {
          deferred_.pop_back ();
          return;
        }
    }
  deferred_.push_back (std::move (c));
}

/* The first chunk is out: what waited for it follows. */
void
BroadcastState::start (BroadcastEffects &fx)
{
  if (started_)
    return;
  started_ = true;
  for (auto &c : deferred_)
    fx.send.push_back (std::move (c));
  deferred_.clear ();
}

void
BroadcastState::release_held (BroadcastEffects &fx)
{
  if (held_.empty ())
    return;
  for (auto &item : held_)
    fx.send.push_back (std::move (item));
  held_.clear ();
  held_time_ = 0;
  start (fx);
}

void
BroadcastState::finish (BroadcastEffects &fx, bool was_transmitting) const
{
  fx.transmitting_changed = was_transmitting != transmitting ();
}

BroadcastEffects
BroadcastState::set_flag (bool &flag, bool on, Action action, int64_t now_ms)
{
  BroadcastEffects fx;
  if (flag == on || ended_)
    return fx;
  bool was = transmitting ();
  flag = on;
  fx.changed = true;
  /* What the pause held goes out before the resume is announced. */
  if (action == Action::ResumeBroadcast)
    release_held (fx);
  emit (fx, control (action, now_ms));
  finish (fx, was);
  return fx;
}

BroadcastEffects
BroadcastState::end (const std::string &reason, int64_t now_ms)
{
  BroadcastEffects fx;
  if (ended_)
    return fx;
  bool was = transmitting ();
  /* What was held for a resume goes out first: ending is not discarding. */
  release_held (fx);
  ended_ = true;
  fx.changed = true;
  emit (fx, control (Action::EndSession, now_ms, reason));
  finish (fx, was);
  return fx;
}

BroadcastEffects
BroadcastState::chunk (Outgoing item)
{
  BroadcastEffects fx;
  if (ended_)
    return fx;
  if (!paused_)
    {
      fx.send.push_back (std::move (item));
      start (fx);
      return fx;
    }
  held_time_ += item.media_duration;
  held_.push_back (std::move (item));
  while (held_.size () > 1 && max_pause_time_ > 0 && held_time_ > max_pause_time_)
    {
      const Outgoing &old = held_.front ();
      if (fx.dropped.count == 0)
        fx.dropped.first = old.chunk_index;
      fx.dropped.last = old.chunk_index;
      fx.dropped.count++;
      fx.dropped.bytes += old.audio.size ();
      fx.dropped.media_time += old.media_duration;
      held_time_ -= old.media_duration;
      held_.pop_front ();
    }
  return fx;
}

} // namespace wssac
