/* wssaudiochunk core: the speaker's broadcast controls (the browser speaker app's pause,
 * resume, mute, unmute and end session) as a small state machine.
 *
 * It decides what goes out and when; the element feeds it completed chunks
 * and control requests and sends what it returns, in order, through the one
 * queue that also carries the audio, so a control keeps its place relative
 * to the chunks around it.
 *   pause:  chunks are held (up to max_pause_time of audio, oldest dropped
 *           and reported past it) and released after resume, before the
 *           resumeBroadcast message, as the browser speaker app does.
 *   mute:   the element stops feeding the chunker (audio produced while
 *           muted is never sent, unlike the browser speaker app, which buffered it and sent
 *           it on unmute) and restarts it at the next cluster on unmute.
 *   end:    endSession goes out after everything before it.
 * Controls requested before the first chunk wait for it (a receiver knows a
 * session from its first chunk); a request that undoes a waiting one (resume
 * after pause, unmute after mute) cancels it instead.
 */
#pragma once

#include "backlog.h"
#include "outgoing.h"

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace wssac
{

struct BroadcastEffects
{
  std::vector<Outgoing> send; /* in this order */
  DropRange dropped;          /* held chunks dropped past max_pause_time */
  bool transmitting_changed = false;
  bool changed = false; /* false: the request was a no-op (already in that state) */
};

class BroadcastState
{
public:
  explicit BroadcastState (int64_t max_pause_time_ns = 5 * 1000000000LL) : max_pause_time_ (max_pause_time_ns) {}

  void set_max_pause_time (int64_t ns) { max_pause_time_ = ns; }

  BroadcastEffects pause (int64_t now_ms) { return set_flag (paused_, true, Action::PauseBroadcast, now_ms); }
  BroadcastEffects resume (int64_t now_ms) { return set_flag (paused_, false, Action::ResumeBroadcast, now_ms); }
  BroadcastEffects mute (int64_t now_ms) { return set_flag (muted_, true, Action::MuteBroadcast, now_ms); }
  BroadcastEffects unmute (int64_t now_ms) { return set_flag (muted_, false, Action::UnmuteBroadcast, now_ms); }
  BroadcastEffects end (const std::string &reason, int64_t now_ms);

  /* A completed chunk: sent now, or held while paused. After end, dropped
   * silently (nothing is produced after end in practice). */
  BroadcastEffects chunk (Outgoing item);

  bool paused () const { return paused_; }
  bool muted () const { return muted_; }
  bool ended () const { return ended_; }
  bool transmitting () const { return !paused_ && !muted_ && !ended_; }
  size_t held_chunks () const { return held_.size (); }

private:
  static Outgoing control (Action action, int64_t now_ms, const std::string &reason = std::string ());
  void finish (BroadcastEffects &fx, bool was_transmitting) const;

  int64_t max_pause_time_;
  void emit (BroadcastEffects &fx, Outgoing control);
  void start (BroadcastEffects &fx);
  void release_held (BroadcastEffects &fx);
  /* Pause, resume, mute, unmute: sets @flag to @on and announces @action,
   * unless it is so already or the session ended. */
  BroadcastEffects set_flag (bool &flag, bool on, Action action, int64_t now_ms);

  bool started_ = false; /* the first chunk went out */
  std::vector<Outgoing> deferred_;
  bool paused_ = false;
  bool muted_ = false;
  bool ended_ = false;
  std::deque<Outgoing> held_;
  int64_t held_time_ = 0;
};

} // namespace wssac
