#include "ingest-core.h"

#include <algorithm>
#include <cstdio>
#include <cstring>


namespace wssac
{

struct IngestCore::Session
{
  explicit Session (const ReassemblerConfig &rc) : reassembler (rc) {}
  SessionStats stats;
  Reassembler reassembler;
  ConnectionId owner = 0; /* 0: nobody speaks for it now */
  /* The owner's previous connection after a make-before-break handover: it
   * may still deliver what it had in flight, without taking the session back. */
  ConnectionId retiring = 0;
  std::string principal;  /* the creator's credential, when bound */
  bool had_owner = false;
  std::vector<uint8_t> pending_header; /* prepended to the first delivery */
  uint32_t since_ack = 0;
  int64_t ack_due_ms = -1; /* its unacked deliveries' ack is due then */
  uint32_t ack_entries = 0; /* entries in ack_due_ that point to it */
  std::string stream_id;     /* the current run's; "" until a sender names one */
  bool stream_started = false; /* the current run delivered nothing yet if false */
  bool new_stream = false;   /* the next delivery starts a later run */
  ReassemblerStats earlier;  /* figures of the runs before the current one */
  std::vector<Connection *> cached_by; /* connections whose cached is this */
};

struct IngestCore::Connection
{
  ConnectionId id = 0;
  std::string peer;
  std::string address; /* peer without the port */
  std::string principal;
  std::string session; /* the one it speaks for, once claimed */
  /* The first session it named, claimed or not: the only one it may speak
   * for (a sharded receiver routes the connection by it). */
  std::string named;
  /* sessions_[named] while it exists, saving a lookup per message
   * (perf: the string-keyed lookup was the receiver's largest user-space
   * cost); cleared when the session ends (Session::cached_by). */
  Session *cached = nullptr;
  uint32_t bad = 0;
  bool closing = false;
  double tokens = -1; /* rate limit bucket; -1: not started */
  int64_t tokens_ms = 0;
};

namespace
{
/* A message of a run other than the current one, that ran before it. */
template <typename S>
bool
stale_stream (const S &s, const Message &m)
{
  if (m.stream_id.empty () || m.stream_id == s.stream_id)
    return false;
  return std::find (s.stats.streams.begin (), s.stats.streams.end (), m.stream_id) != s.stats.streams.end ();
}

/* A run never seen before, while the session has one already. */
template <typename S>
bool
is_next_run (const S &s, const Message &m)
{
  return !m.stream_id.empty () && !s.stream_id.empty () && m.stream_id != s.stream_id && !stale_stream (s, m);
}
} // namespace

IngestCore::IngestCore (IngestConfig config)
    : config_ (std::move (config)), start_limiter_ (config_.start_limiter),
      live_sessions_ (config_.live_sessions)
{
  if (!live_sessions_)
    live_sessions_ = std::make_shared<std::atomic<size_t>> (0);
  if (!start_limiter_)
    start_limiter_ = std::make_shared<SessionStartLimiter> (config_.max_new_sessions_per_second,
                                                            config_.new_session_burst);
}

IngestCore::~IngestCore ()
{
  *live_sessions_ -= sessions_.size ();
}

std::string
IngestCore::error_reply (const char *code, const std::string &message, int64_t chunk_index)
{
  return encode_error (code, message, chunk_index);
}

void
IngestCore::on_connect (ConnectionId id, const std::string &peer, const std::string &principal)
{
  Connection &c = connections_[id];
  uncache_session (c); /* an id connecting again (the fuzzer does) starts afresh */
  c = Connection ();
  c.id = id;
  c.peer = peer;
  size_t colon = peer.rfind (':');
  c.address = colon == std::string::npos ? peer : peer.substr (0, colon);
  c.principal = principal;
  stats_.connections++;
  stats_.open_connections++;
}

void
IngestCore::cache_session (Connection &c, Session *s)
{
  if (c.cached == s)
    return;
  uncache_session (c);
  s->cached_by.push_back (&c);
  c.cached = s;
}

void
IngestCore::uncache_session (Connection &c)
{
  if (!c.cached)
    return;
  auto &v = c.cached->cached_by;
  v.erase (std::remove (v.begin (), v.end (), &c), v.end ());
  c.cached = nullptr;
}

void
IngestCore::reject (Connection &c, Session *s, const char *code, const std::string &message, int64_t index,
                    IngestOutput &out)
{
  stats_.rejected++;
  stats_.rejected_by_code[code]++;
  if (s)
    s->stats.rejected++;
  c.bad++;
  if (c.closing)
    return;
  out.replies.push_back ({ c.id, error_reply (code, message, index) });
  if (config_.max_bad_messages > 0 && c.bad >= config_.max_bad_messages)
    {
      c.closing = true;
      stats_.closed_for_abuse++;
      /* 1008 policy violation: the client keeps sending what we refuse. */
      out.closes.push_back ({ c.id, 1008, "too many bad messages" });
    }
}

void
IngestCore::deliver (Session &s, std::vector<Delivered> &ready, int64_t now_ms, IngestOutput &out)
{
  for (auto &d : ready)
    {
      IngestEvent ev;
      ev.kind = IngestEventKind::Audio;
      ev.session_id = s.stats.session_id;
      ev.format = s.stats.format;
      ev.chunk_index = d.index;
      ev.discont = d.discont;
      ev.skipped_before = d.skipped_before;
      ev.stream_id = s.stream_id;
      ev.new_stream = s.new_stream;
      s.new_stream = false;
      if (!s.pending_header.empty ())
        {
          ev.header_size = s.pending_header.size ();
          d.bytes.insert (d.bytes.begin (), s.pending_header.begin (), s.pending_header.end ());
          s.pending_header.clear ();
        }
      s.stats.bytes += d.bytes.size ();
      s.stats.delivered++;
      s.since_ack++;
      ev.bytes = std::move (d.bytes);
      out.events.push_back (std::move (ev));
    }
  if (!ready.empty () && config_.ack_every > 0 && s.since_ack >= config_.ack_every)
    ack (s, out);
  else if (s.since_ack > 0 && now_ms >= 0)
    schedule_ack (s, now_ms);
  ready.clear ();
}

void
IngestCore::schedule_ack (Session &s, int64_t now_ms)
{
  if (config_.ack_every == 0 || config_.ack_delay_ms <= 0 || s.ack_due_ms >= 0)
    return;
  /* Due times on a grid of a tenth of the delay, within the delay: one
   * timer wake-up serves every session due in that tenth (a wake-up per
   * millisecond halved what one worker takes when saturated). */
  const int64_t step = std::max<int64_t> (1, config_.ack_delay_ms / 10);
  s.ack_due_ms = (now_ms + config_.ack_delay_ms - step) / step * step + step;
  s.ack_entries++;
  ack_due_.push_back ({ s.ack_due_ms, &s });
}

void
IngestCore::ack (Session &s, IngestOutput &out)
{
  /* An ack stands for stored chunks: a run that has delivered none (a late
   * chunk below a run's first index) has nothing to ack, whatever index it
   * expects next. */
  if (config_.ack_every == 0 || s.owner == 0 || s.reassembler.stats ().delivered == 0)
    return;
  s.since_ack = 0;
  s.ack_due_ms = -1;
  out.replies.push_back ({ s.owner, encode_ack (s.stats.session_id, s.reassembler.next_index () - 1, s.stream_id),
                           s.stats.session_id });
}

/* A later run of the session: what the earlier one left pending is
 * delivered (its gaps given up), and the new run's indices start afresh. */
void
IngestCore::start_stream (Session &s, const Message &m, int64_t now_ms, IngestOutput &out)
{
  std::vector<Delivered> ready;
  s.reassembler.flush (ready);
  deliver (s, ready, now_ms, out);
  ReassemblerStats done = s.reassembler.stats ();
  s.earlier.duplicates += done.duplicates;
  s.earlier.late += done.late;
  s.earlier.gaps += done.gaps;
  s.earlier.missing += done.missing;
  ReassemblerConfig rc = config_.reassembly;
  s.pending_header.clear ();
  if (m.chunk_index > 0 && !m.stream_header.empty ())
    {
      rc.first_index = m.chunk_index;
      s.pending_header = m.stream_header;
    }
  s.reassembler = Reassembler (rc);
  update_waiting (s);
  s.stream_id = m.stream_id;
  s.stats.streams.push_back (m.stream_id);
  s.new_stream = true;
  s.since_ack = 0;
}

void
IngestCore::update_waiting (Session &s)
{
  if (s.reassembler.next_deadline_ms () >= 0)
    waiting_.insert (&s);
  else
    waiting_.erase (&s);
}

void
IngestCore::end_session (Session &s, const std::string &reason, IngestOutput &out)
{
  if (s.stats.ended)
    return;
  std::vector<Delivered> ready;
  s.reassembler.flush (ready);
  update_waiting (s);
  deliver (s, ready, -1, out);
  ack (s, out);
  s.stats.ended = true;
  IngestEvent ev;
  ev.kind = IngestEventKind::SessionEnded;
  ev.session_id = s.stats.session_id;
  ev.format = s.stats.format;
  ev.reason = reason;
  SessionStats final_stats;
  session_stats (s.stats.session_id, final_stats);
  ev.stats = final_stats;
  out.events.push_back (std::move (ev));

  /* An ended session no longer counts towards max_sessions; its figures
   * stay answerable for a while (bounded), and late messages for it get
   * "session-ended". */
  const std::string id = s.stats.session_id;
  if (ended_.count (id) == 0)
    ended_order_.push_back (id);
  ended_[id] = final_stats;
  while (ended_order_.size () > kMaxEndedSessions)
    {
      ended_.erase (ended_order_.front ());
      ended_order_.pop_front ();
    }
  waiting_.erase (&s);
  if (s.ack_entries > 0)
    ack_due_.erase (std::remove_if (ack_due_.begin (), ack_due_.end (),
                                    [&s] (const AckDue &a) { return a.session == &s; }),
                    ack_due_.end ());
  for (Connection *c : s.cached_by)
    c->cached = nullptr;
  if (sessions_.erase (id))
    (*live_sessions_)--;
  /* A single-session receiver that keeps listening takes the next session. */
  if (config_.single_session && locked_session_ == id)
    locked_session_.clear ();
}

void
IngestCore::on_text (ConnectionId id, const char *text, size_t length, int64_t now_ms, IngestOutput &out)
{
  on_decoded (id, decode (config_, false, text, length), now_ms, out);
}

IngestCore::Decoded
IngestCore::decode (const IngestConfig &config, bool binary, const char *data, size_t length)
{
  Decoded d;
  d.binary = binary;
  d.length = length;
  if (length > config.max_message_size)
    return d;
  if (!binary)
    {
      d.result = decode_message (data ? data : "", length, config.limits);
      d.decoded = true;
      return d;
    }
  d.framed = length >= 6 && memcmp (data, kBinaryMagic, 4) == 0;
  if (config.accept_binary && d.framed)
    {
      d.result = decode_binary_message (reinterpret_cast<const uint8_t *> (data), length, config.limits);
      d.decoded = true;
    }
  return d;
}

void
IngestCore::on_decoded (ConnectionId id, Decoded &&input, int64_t now_ms, IngestOutput &out)
{
  auto cit = connections_.find (id);
  if (cit == connections_.end ())
    return;
  Connection &c = cit->second;
  stats_.messages++;
  if (c.closing)
    return; /* closed for abuse or size: nothing more from it counts */
  if (over_rate (c, now_ms, out) || too_big (c, input.length, out))
    return;
  if (input.binary && !input.decoded)
    {
      auto sit = sessions_.find (c.session);
      reject (c, sit == sessions_.end () ? nullptr : sit->second.get (), "binary-not-supported",
              "messages are JSON text frames, or binary frames in the WSAC framing (" + std::to_string (input.length)
                  + "-byte binary frame refused)",
              -1, out);
      return;
    }
  handle (c, std::move (input.result), now_ms, out);
}

void
IngestCore::handle (Connection &c, DecodeResult &&r, int64_t now_ms, IngestOutput &out)
{
  if (!r.ok ())
    {
      auto sit = sessions_.find (c.session);
      reject (c, sit == sessions_.end () ? nullptr : sit->second.get (), decode_error_code (r.error),
              r.detail, -1, out);
      return;
    }
  Message &m = r.message;
  const int64_t index = m.action == Action::AudioChunk ? static_cast<int64_t> (m.chunk_index) : -1;

  /* The original protocol's pause/resume/mute/unmute carry no sessionId: the connection's. */
  const std::string &sid = m.session_id.empty () ? c.session : m.session_id;
  if (sid.empty ())
    {
      reject (c, nullptr, "no-session", "this connection has not named a session yet", index, out);
      return;
    }
  if (c.named.empty ())
    c.named = sid;
  else if (sid != c.named)
    {
      reject (c, nullptr, "one-session-per-connection",
              "this connection speaks for session \"" + c.named + "\"", index, out);
      return;
    }
  auto refused = [&] (const char *code) {
    IngestEvent ev;
    ev.kind = IngestEventKind::Refused;
    ev.session_id = sid;
    ev.reason = code;
    out.events.push_back (std::move (ev));
  };
  if (!config_.only_session.empty () && sid != config_.only_session)
    {
      reject (c, nullptr, "wrong-session", "this receiver accepts session \"" + config_.only_session
                                               + "\" only", index, out);
      refused ("wrong-session");
      return;
    }
  if (config_.single_session && !locked_session_.empty () && sid != locked_session_)
    {
      reject (c, nullptr, "wrong-session", "this receiver is taken by session \"" + locked_session_ + "\"",
              index, out);
      refused ("wrong-session");
      return;
    }

  /* sid is c.named here. */
  Session *s = c.cached;
  if (!s)
    {
      auto sit = sessions_.find (sid);
      s = sit == sessions_.end () ? nullptr : sit->second.get ();
    }
  const bool audio = m.action == Action::AudioChunk;

  /* Every check comes before any state changes: a refused message neither
   * creates a session nor claims one. */
  if (!s && ended_.count (sid))
    {
      ended_[sid].rejected++;
      reject (c, nullptr, "session-ended", "session \"" + sid + "\" has ended", index, out);
      return;
    }
  if (s && config_.bind_session_to_principal && s->principal != c.principal)
    {
      s->stats.refused_other_principal++;
      reject (c, s, "session-bound", "session \"" + sid + "\" belongs to another credential", index, out);
      refused ("session-bound");
      return;
    }
  /* Make-before-break: the owner's own run (its streamId) arriving on a new
   * connection is the sender moving before a gateway's cut, not a second
   * speaker. */
  const bool same_run = s && s->owner != 0 && s->owner != c.id && !m.stream_id.empty ()
                        && m.stream_id == s->stream_id;
  if (s && s->owner != 0 && s->owner != c.id && !same_run)
    {
      reject (c, nullptr, "session-claimed", "another connection speaks for session \"" + sid + "\"", index,
              out);
      return;
    }
  if (!s && !audio)
    {
      reject (c, nullptr, "unknown-session",
              "session \"" + sid + "\" has not started: its first message must be an audioChunk", index, out);
      return;
    }
  if (!s && live_sessions_->load () >= config_.max_sessions)
    {
      reject (c, nullptr, "too-many-sessions", "this receiver is at its session limit", index, out);
      return;
    }
  /* Last: a message refused otherwise costs no token. */
  if (!s && !start_limiter_->allow (c.address, now_ms))
    {
      char rate[32];
      snprintf (rate, sizeof rate, "%g", start_limiter_->per_second ());
      reject (c, nullptr, "too-many-new-sessions",
              std::string ("this address starts sessions faster than ") + rate + " per second", index,
              out);
      return;
    }
  const std::string format = m.format.empty () ? "webm-opus" : m.format;
  /* A new session joined mid-stream (a restarted receiver) starts where the
   * sender is, when the sender re-sent its stream header. */
  const bool joins_mid_stream = !s && audio && m.chunk_index > 0 && !m.stream_header.empty ();
  if (audio)
    {
      if (s && !m.format.empty () && m.format != s->stats.format)
        {
          reject (c, s, "format-changed", "session \"" + sid + "\" streams " + s->stats.format + ", not " + m.format,
                  index, out);
          return;
        }
      if (s && stale_stream (*s, m))
        {
          /* An earlier run's chunk (a replay of a dead sender): its place in
           * the recording is taken. Counted, not refused. */
          s->stats.stale_stream++;
          s->stats.last_ms = now_ms;
          return;
        }
      const bool next_run = s && is_next_run (*s, m);
      uint64_t expected = s && !next_run ? s->reassembler.next_index ()
                                         : ((joins_mid_stream || (next_run && !m.stream_header.empty ()))
                                                ? m.chunk_index
                                                : config_.reassembly.first_index);
      if (m.chunk_index > expected && m.chunk_index - expected > config_.reassembly.max_index_jump)
        {
          reject (c, s, "index-out-of-range",
                  "chunkIndex " + std::to_string (m.chunk_index) + " is too far ahead of " + std::to_string (expected),
                  index, out);
          return;
        }
    }

  if (!s)
    {
      ReassemblerConfig rc = config_.reassembly;
      if (joins_mid_stream)
        rc.first_index = m.chunk_index;
      auto fresh = std::make_unique<Session> (rc);
      fresh->stats.session_id = sid;
      fresh->principal = c.principal;
      fresh->stats.first_ms = now_ms;
      fresh->stats.format = format;
      if (joins_mid_stream)
        fresh->pending_header = m.stream_header;
      if (audio)
        {
          fresh->stream_id = m.stream_id;
          fresh->stats.streams.push_back (m.stream_id);
        }
      s = fresh.get ();
      sessions_[sid] = std::move (fresh);
      (*live_sessions_)++;
      if (config_.single_session)
        locked_session_ = last_session_ = sid;
      IngestEvent ev;
      ev.kind = IngestEventKind::SessionStarted;
      ev.session_id = sid;
      ev.format = format;
      out.events.push_back (std::move (ev));
    }
  cache_session (c, s);
  if (s->owner != c.id && s->retiring != c.id)
    {
      s->retiring = same_run ? s->owner : 0;
      if (s->had_owner)
        s->stats.takeovers++;
      s->owner = c.id;
      s->had_owner = true;
      c.session = sid;
    }
  s->stats.last_ms = now_ms;

  switch (m.action)
    {
    case Action::AudioChunk:
      {
        if (is_next_run (*s, m))
          start_stream (*s, m, now_ms, out);
        else if (s->stream_id.empty () && !m.stream_id.empty () && s->stats.streams.size () == 1)
          s->stream_id = s->stats.streams[0] = m.stream_id; /* the run names itself late: the same run */
        std::vector<Delivered> ready;
        PushResult pr = s->reassembler.push (m.chunk_index, std::move (m.audio), now_ms, ready);
        update_waiting (*s);
        if (pr == PushResult::Accepted)
          s->stats.chunks++;
        deliver (*s, ready, now_ms, out);
        /* Duplicates and late chunks are normal after a reconnect (the sender
         * replays what it could not know arrived): dropped, counted, and
         * answered with an ack so the sender stops replaying. */
        if (pr == PushResult::Duplicate || pr == PushResult::Late)
          ack (*s, out);
        break;
      }
    case Action::EndSession:
      end_session (*s, m.reason.empty () ? "endSession" : m.reason, out);
      break;
    default:
      {
        s->stats.controls++;
        IngestEvent ev;
        ev.kind = IngestEventKind::Control;
        ev.session_id = sid;
        ev.format = s->stats.format;
        ev.action = m.action;
        ev.timestamp_ms = m.timestamp_ms;
        out.events.push_back (std::move (ev));
        break;
      }
    }
}

/* A token bucket per connection. */
bool
IngestCore::over_rate (Connection &c, int64_t now_ms, IngestOutput &out)
{
  if (config_.max_messages_per_second <= 0)
    return false;
  if (c.tokens < 0)
    c.tokens = config_.rate_burst;
  else
    c.tokens = std::min (config_.rate_burst,
                         c.tokens + (now_ms - c.tokens_ms) * config_.max_messages_per_second / 1000.0);
  c.tokens_ms = now_ms;
  if (c.tokens >= 1)
    {
      c.tokens -= 1;
      return false;
    }
  stats_.closed_for_rate++;
  stats_.rejected++;
  stats_.rejected_by_code["rate-limited"]++;
  out.replies.push_back ({ c.id, error_reply ("rate-limited", "more than "
                                                  + std::to_string ((int) config_.max_messages_per_second)
                                                  + " messages per second") });
  c.closing = true;
  out.closes.push_back ({ c.id, 1008, "rate limit exceeded" });
  return true;
}

bool
IngestCore::too_big (Connection &c, size_t length, IngestOutput &out)
{
  if (length <= config_.max_message_size)
    return false;
  /* Not a bad-message count: an oversize message always closes, with 1009. */
  stats_.rejected++;
  stats_.rejected_by_code["message-too-big"]++;
  auto sit = sessions_.find (c.session);
  if (sit != sessions_.end ())
    sit->second->stats.rejected++;
  out.replies.push_back ({ c.id, error_reply ("message-too-big",
                                              std::to_string (length) + "-byte message over the "
                                                  + std::to_string (config_.max_message_size) + "-byte limit") });
  c.closing = true;
  out.closes.push_back ({ c.id, 1009, "message too big" });
  return true;
}

void
IngestCore::on_binary (ConnectionId id, const uint8_t *data, size_t length, int64_t now_ms, IngestOutput &out)
{
  on_decoded (id, decode (config_, true, reinterpret_cast<const char *> (data), length), now_ms, out);
}

void
IngestCore::on_disconnect (ConnectionId id, int64_t now_ms, IngestOutput &out)
{
  auto cit = connections_.find (id);
  if (cit == connections_.end ())
    return;
  auto sit = sessions_.find (cit->second.session);
  if (sit != sessions_.end () && sit->second->owner == id)
    sit->second->owner = 0;
  if (sit != sessions_.end () && sit->second->retiring == id)
    sit->second->retiring = 0;
  uncache_session (cit->second);
  connections_.erase (cit);
  stats_.open_connections--;
}

bool
IngestCore::hand_off (ConnectionId id)
{
  auto cit = connections_.find (id);
  /* One this core closed (abuse, rate) stays closed here: moving it would
   * give it a fresh count elsewhere. */
  if (cit == connections_.end () || !cit->second.named.empty () || cit->second.closing)
    return false;
  uncache_session (cit->second); /* (none: it named no session) */
  connections_.erase (cit);
  stats_.connections--;
  stats_.open_connections--;
  return true;
}

void
IngestCore::tick (int64_t now_ms, IngestOutput &out)
{
  std::vector<Session *> due;
  for (Session *s : waiting_)
    if (s->reassembler.next_deadline_ms () <= now_ms)
      due.push_back (s);
  for (Session *s : due)
    {
      std::vector<Delivered> ready;
      s->reassembler.tick (now_ms, ready);
      update_waiting (*s);
      deliver (*s, ready, now_ms, out);
    }
  while (!ack_due_.empty () && ack_due_.front ().due_ms <= now_ms)
    {
      Session &s = *ack_due_.front ().session;
      ack_due_.pop_front ();
      s.ack_entries--;
      if (s.ack_due_ms >= 0 && s.ack_due_ms <= now_ms)
        {
          s.ack_due_ms = -1;
          if (s.since_ack > 0)
            ack (s, out); /* nothing when nobody speaks for it: it is asked again */
        }
    }
}

int64_t
IngestCore::next_deadline_ms () const
{
  int64_t best = -1;
  for (const Session *s : waiting_)
    {
      int64_t d = s->reassembler.next_deadline_ms ();
      if (d >= 0 && (best < 0 || d < best))
        best = d;
    }
  if (!ack_due_.empty () && (best < 0 || ack_due_.front ().due_ms < best))
    best = ack_due_.front ().due_ms;
  return best;
}

void
IngestCore::finish_session (const std::string &session_id, const std::string &reason, IngestOutput &out)
{
  auto sit = sessions_.find (session_id);
  if (sit != sessions_.end ())
    end_session (*sit->second, reason, out);
}

void
IngestCore::finish_all (const std::string &reason, IngestOutput &out)
{
  for (const auto &id : session_ids ())
    finish_session (id, reason, out);
}

std::vector<std::string>
IngestCore::session_ids () const
{
  std::vector<std::string> out;
  for (const auto &kv : sessions_)
    out.push_back (kv.first);
  std::sort (out.begin (), out.end ()); /* a stable order for callers */
  return out;
}

bool
IngestCore::session_stats (const std::string &session_id, SessionStats &out) const
{
  auto sit = sessions_.find (session_id);
  if (sit == sessions_.end ())
    {
      auto eit = ended_.find (session_id);
      if (eit == ended_.end ())
        return false;
      out = eit->second;
      return true;
    }
  const Session &s = *sit->second;
  out = s.stats;
  out.speaker_connected = s.owner != 0;
  ReassemblerStats rs = s.reassembler.stats ();
  out.duplicates = s.earlier.duplicates + rs.duplicates;
  out.late = s.earlier.late + rs.late;
  out.gaps = s.earlier.gaps + rs.gaps;
  out.missing = s.earlier.missing + rs.missing;
  return true;
}

IngestStats
IngestCore::stats () const
{
  return stats_;
}

} // namespace wssac
