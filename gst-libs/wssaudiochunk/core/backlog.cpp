#include "backlog.h"

#include <utility>

namespace wssac
{

void
Backlog::account (const Outgoing &item, int sign)
{
  if (item.kind != OutgoingKind::AudioChunk)
    return;
  audio_chunks_ += sign;
  audio_bytes_ += sign * static_cast<int64_t> (item.audio.size ());
  audio_time_ += sign * item.media_duration;
}

bool
Backlog::over_limit () const
{
  if (limits_.max_time > 0 && audio_time_ > limits_.max_time)
    return true;
  if (limits_.max_bytes > 0 && audio_bytes_ > limits_.max_bytes)
    return true;
  return false;
}

void
add_to_drop_range (DropRange &range, const Outgoing &item)
{
  if (range.count == 0 || item.chunk_index < range.first)
    range.first = item.chunk_index;
  if (range.count == 0 || item.chunk_index > range.last)
    range.last = item.chunk_index;
  range.count++;
  range.bytes += item.audio.size ();
  range.media_time += item.media_duration;
}

DropRange
Backlog::push (Outgoing item)
{
  DropRange dropped;
  account (item, +1);
  items_.push_back (std::move (item));

  while (over_limit () && audio_chunks_ > 1)
    {
      /* Find the audio chunk to drop: the oldest, or the newest. */
      if (limits_.drop_newest)
        {
          for (auto it = items_.rbegin (); it != items_.rend (); ++it)
            if (it->kind == OutgoingKind::AudioChunk)
              {
                add_to_drop_range (dropped, *it);
                account (*it, -1);
                items_.erase (std::next (it).base ());
                break;
              }
        }
      else
        {
          for (auto it = items_.begin (); it != items_.end (); ++it)
            if (it->kind == OutgoingKind::AudioChunk)
              {
                add_to_drop_range (dropped, *it);
                account (*it, -1);
                items_.erase (it);
                break;
              }
        }
    }
  return dropped;
}

Outgoing
Backlog::pop_front ()
{
  Outgoing item = std::move (items_.front ());
  items_.pop_front ();
  account (item, -1);
  return item;
}

size_t
Backlog::drop_acknowledged_replays (uint64_t upto)
{
  size_t n = 0;
  for (auto it = items_.begin (); it != items_.end ();)
    {
      if (it->replay && it->kind == OutgoingKind::AudioChunk && it->chunk_index <= upto)
        {
          account (*it, -1);
          it = items_.erase (it);
          n++;
        }
      else
        ++it;
    }
  return n;
}

void
Backlog::push_front (Outgoing item)
{
  account (item, +1);
  items_.push_front (std::move (item));
}

void
Backlog::clear ()
{
  items_.clear ();
  audio_chunks_ = 0;
  audio_bytes_ = 0;
  audio_time_ = 0;
}

} // namespace wssac
