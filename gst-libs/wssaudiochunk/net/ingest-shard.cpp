#include "ingest-shard.h"
#include "debug-category.h"
#include "sources.h"

#include <gst/gst.h>

GST_DEBUG_CATEGORY_STATIC (wss_shard_debug);
#define GST_CAT_DEFAULT wss_shard_debug

namespace wssac
{

namespace
{
int64_t
now_ms ()
{
  return g_get_monotonic_time () / 1000;
}
} // namespace

IngestShard::IngestShard (unsigned index, const IngestConfig &config,
                          const EventHandler &on_event, const AckGate &ack_gate, ShardLinks &links)
    : index_ (index), core_ (config), on_event_ (on_event), ack_gate_ (ack_gate), links_ (links)
{
  init_debug_category (wss_shard_debug, "wssaudiochunkingest", "wssaudiochunk WebSocket receiver");
}

IngestShard::~IngestShard ()
{
  detach ();
}

void
IngestShard::attach (GMainContext *context)
{
  context_ = g_main_context_ref (context);
  inbox_.attach (context_, [this] (std::vector<Item> &batch) { drain (batch); });
}

void
IngestShard::detach ()
{
  inbox_.detach ();
  destroy_source (&deadline_);
  if (context_)
    g_main_context_unref (context_);
  context_ = nullptr;
}

void
IngestShard::post (Item &&item)
{
  inbox_.post (std::move (item));
}

void
IngestShard::flush_inbox ()
{
  inbox_.flush ();
}

void
IngestShard::drain (std::vector<Item> &batch)
{
  for (auto &it : batch)
    switch (it.kind)
      {
      case Item::Connected:
        connected (it.worker, it.id, it.peer, it.principal);
        break;
      case Item::Message:
        message (it.id, std::move (it.input), it.ms);
        break;
      case Item::Closed:
        closed (it.id, it.ms);
        break;
      }
}

void
IngestShard::connected (unsigned worker, ConnectionId id, const std::string &peer,
                        const std::string &principal)
{
  worker_of_[id] = worker;
  std::lock_guard<std::mutex> g (lock_);
  core_.on_connect (id, peer, principal);
}

void
IngestShard::message (ConnectionId id, IngestCore::Decoded &&input, int64_t ms)
{
  IngestOutput out;
  {
    std::lock_guard<std::mutex> g (lock_);
    core_.on_decoded (id, std::move (input), ms, out);
  }
  apply (out);
}

void
IngestShard::closed (ConnectionId id, int64_t ms)
{
  IngestOutput out;
  {
    std::lock_guard<std::mutex> g (lock_);
    core_.on_disconnect (id, ms, out);
  }
  worker_of_.erase (id);
  apply (out);
}

bool
IngestShard::hand_off (ConnectionId id)
{
  {
    std::lock_guard<std::mutex> g (lock_);
    if (!core_.hand_off (id))
      return false;
  }
  worker_of_.erase (id);
  return true;
}

void
IngestShard::finish_all (const std::string &reason)
{
  IngestOutput out;
  {
    std::lock_guard<std::mutex> g (lock_);
    core_.finish_all (reason, out);
  }
  apply (out);
}

void
IngestShard::finish_session (const std::string &session_id, const std::string &reason)
{
  IngestOutput out;
  {
    std::lock_guard<std::mutex> g (lock_);
    core_.finish_session (session_id, reason, out);
  }
  apply (out);
}

void
IngestShard::withhold_acks (const std::string &session_id)
{
  withheld_.insert (session_id);
}

bool
IngestShard::session_stats (const std::string &session_id, SessionStats &out) const
{
  std::lock_guard<std::mutex> g (lock_);
  return core_.session_stats (session_id, out);
}

IngestStats
IngestShard::stats () const
{
  std::lock_guard<std::mutex> g (lock_);
  return core_.stats ();
}

std::string
IngestShard::last_session () const
{
  std::lock_guard<std::mutex> g (lock_);
  return core_.last_session ();
}

void
IngestShard::apply (IngestOutput &out)
{
  /* Events first, then the gate: the handler gathers the audio (the ingest
   * program's journal) and the gate stores it before the acks that stand
   * for it leave. */
  std::vector<std::string> ended;
  for (auto &e : out.events)
    {
      if (e.kind == IngestEventKind::SessionEnded)
        ended.push_back (e.session_id);
      if (on_event_)
        on_event_ (std::move (e));
    }
  for (auto &r : out.replies)
    {
      if (!r.ack_session.empty ())
        {
          if (!withheld_.empty () && withheld_.count (r.ack_session))
            continue;
          if (ack_gate_ && !ack_gate_ (r.ack_session))
            {
              withheld_.insert (r.ack_session);
              continue;
            }
        }
      /* (Not searched in acks, which are most replies.) */
      if (r.ack_session.empty () && r.text.find ("\"code\":\"session-bound\"") != std::string::npos)
        GST_WARNING ("connection %" G_GUINT64_FORMAT " refused: %s", (guint64)r.connection,
                     r.text.c_str ());
      auto it = worker_of_.find (r.connection);
      if (it != worker_of_.end ())
        links_.send (index_, it->second, r.connection, std::move (r.text));
    }
  for (const auto &id : ended)
    withheld_.erase (id);
  for (auto &c : out.closes)
    {
      auto it = worker_of_.find (c.connection);
      if (it != worker_of_.end ())
        links_.close (index_, it->second, c.connection, c.code, std::move (c.reason));
    }
  out.clear ();
  arm_deadline ();
}

/* One timer for the earliest deadline over the shard's sessions: a gap
 * given up, an ack due. */
void
IngestShard::arm_deadline ()
{
  int64_t d;
  {
    std::lock_guard<std::mutex> g (lock_);
    d = core_.next_deadline_ms ();
  }
  /* The timer set fires no later: keep it (a timer per apply would cost
   * a source per message batch, and an ack is nearly always due). A timer
   * that finds nothing due only looks again. */
  if (deadline_ && (d < 0 || armed_ms_ <= d))
    return;
  destroy_source (&deadline_);
  if (d < 0 || !context_)
    return;
  armed_ms_ = d;
  deadline_ = attach_timeout (
      context_, d - now_ms (),
      fire_once<IngestShard, &IngestShard::deadline_, &IngestShard::deadline_passed>, this);
}

void
IngestShard::deadline_passed ()
{
  IngestOutput out;
  {
    std::lock_guard<std::mutex> g (lock_);
    core_.tick (now_ms (), out);
  }
  apply (out);
}

} // namespace wssac
