#include "ingest-server.h"
#include "debug-category.h"
#include "sources.h"

#include "batched-poll.h"

#include "context-thread.h"
#include "ingest-server-worker.h"
#include "ingest-shard.h"

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <algorithm>

GST_DEBUG_CATEGORY_STATIC (wss_ingest_debug);
#define GST_CAT_DEFAULT wss_ingest_debug

namespace wssac
{

/* The server's workers and their shards of the sessions. */
struct IngestServer::Impl : WorkerEvents, ShardLinks
{
  IngestServerConfig config;
  EventHandler on_event;
  AckGate ack_gate;
  GMainContext *context = nullptr;
  unsigned port = 0;
  std::shared_ptr<WorkerShared> shared;
  std::vector<std::unique_ptr<IngestWorker>> workers;
  /* shards[i] runs on workers[i]'s thread. */
  std::vector<std::unique_ptr<IngestShard>> shards;
  /* One per worker when sharded; none when the one worker runs here. */
  std::vector<std::unique_ptr<ContextThread>> threads;

  /* Where each worker's connections send their messages: the shard of the
   * first session they name (until then, the worker's own). routes[i] is
   * only touched on worker i's thread. */
  struct Route
  {
    unsigned shard;
    bool named = false;
    std::string peer, principal; /* until named: for a move to another shard */
  };
  std::vector<std::unordered_map<ConnectionId, Route>> routes;

  static int64_t now_ms () { return g_get_monotonic_time () / 1000; }
  /* Fixed before any worker starts (the workers read it). */
  bool is_sharded = false;
  bool sharded () const { return is_sharded; }

  unsigned
  shard_of (const std::string &session_id) const
  {
    return shards.size () < 2 ? 0 : std::hash<std::string> () (session_id) % shards.size ();
  }

  /* WorkerEvents: on worker @w's thread. */
  void
  connected (unsigned w, ConnectionId id, const std::string &peer, const std::string &principal) override
  {
    if (sharded ())
      routes[w][id] = Route{ w, false, peer, principal };
    shards[w]->connected (w, id, peer, principal);
  }
  void
  message (unsigned w, ConnectionId id, IngestCore::Decoded &&input) override
  {
    const int64_t ms = now_ms ();
    if (!sharded ())
      {
        shards[0]->message (id, std::move (input), ms);
        return;
      }
    auto it = routes[w].find (id);
    if (it == routes[w].end ())
      return;
    Route &r = it->second;
    if (!r.named && input.decoded && input.result.ok () && !input.result.message.session_id.empty ())
      {
        /* The session it names decides, once and for all (the core refuses
         * any other session on this connection). */
        r.named = true;
        const unsigned t = shard_of (input.result.message.session_id);
        /* (A connection its core closed stays there, closed.) */
        if (t != r.shard && shards[r.shard]->hand_off (id))
          {
            r.shard = t;
            shards[t]->post ({ IngestShard::Item::Connected, w, id, std::move (r.peer),
                               std::move (r.principal), {}, ms });
          }
        r.peer = std::string ();
        r.principal = std::string ();
      }
    if (r.shard == w)
      shards[w]->message (id, std::move (input), ms);
    else
      shards[r.shard]->post ({ IngestShard::Item::Message, w, id, {}, {}, std::move (input), ms });
  }
  void
  closed (unsigned w, ConnectionId id) override
  {
    const int64_t ms = now_ms ();
    if (!sharded ())
      {
        shards[0]->closed (id, ms);
        return;
      }
    auto it = routes[w].find (id);
    if (it == routes[w].end ())
      return;
    const unsigned t = it->second.shard;
    routes[w].erase (it);
    if (t == w)
      shards[w]->closed (id, ms);
    else
      shards[t]->post ({ IngestShard::Item::Closed, w, id, {}, {}, {}, ms });
  }
  unsigned
  worker_for_session (unsigned w, const std::string &session_id) override
  {
    return sharded () && !session_id.empty () ? shard_of (session_id) : w;
  }
  void
  hand_over (unsigned to, ConnectionHandover &&h) override
  {
    workers[to]->post_adopt (std::move (h));
  }

  /* ShardLinks: on shard @from's thread, which is worker @from's. */
  void
  send (unsigned from, unsigned w, ConnectionId id, std::string &&text) override
  {
    if (w == from)
      workers[w]->send (id, text);
    else
      workers[w]->post_send (id, std::move (text));
  }
  void
  close (unsigned from, unsigned w, ConnectionId id, unsigned short code, std::string &&reason) override
  {
    if (w == from)
      workers[w]->close (id, code, reason);
    else
      workers[w]->post_close (id, code, std::move (reason));
  }

  /* Runs @fn on @i's thread (here when it has none) and waits for it. */
  void
  on_worker (size_t i, const std::function<void ()> &fn)
  {
    if (sharded ())
      threads[i]->invoke (fn);
    else
      fn ();
  }

  void
  stop_workers ()
  {
    for (size_t i = 0; i < workers.size (); i++)
      {
        IngestWorker *w = workers[i].get ();
        IngestShard *s = i < shards.size () ? shards[i].get () : nullptr;
        auto teardown = [w, s] {
          w->stop ();
          if (s)
            s->detach ();
        };
        if (!sharded ())
          teardown ();
        else if (i < threads.size ())
          threads[i]->stop (teardown);
      }
    threads.clear ();
    workers.clear ();
    routes.clear ();
    /* The shards stay (detached) until the next start (): their figures
     * are still asked for after stop (). */
  }
};

IngestServer::IngestServer () : impl_ (new Impl ())
{
  init_debug_category (wss_ingest_debug, "wssaudiochunkingest", "wssaudiochunk WebSocket receiver");
}

IngestServer::~IngestServer ()
{
  stop ();
  delete impl_;
}

void
IngestServer::set_ack_gate (AckGate gate)
{
  impl_->ack_gate = std::move (gate);
}

bool
IngestServer::start (GMainContext *context, const IngestServerConfig &config, EventHandler on_event,
                     std::string &error)
{
  Impl *p = impl_;
  p->config = config;
  if (p->config.workers == 0)
    p->config.workers = 1;
  const unsigned n = p->config.workers;
  if (n > 1 && config.core.single_session)
    {
      error = "a receiver locked on to a single session runs with one worker";
      return false;
    }
  p->on_event = std::move (on_event);
  IngestConfig core_config = config.core;
  core_config.max_message_size = config.max_message_size;
  core_config.bind_session_to_principal = !config.auth_tokens.empty () && config.bind_session_to_token;
  p->shared = std::make_shared<WorkerShared> ();
  p->shared->config = p->config;
  p->shared->core_config = core_config;
  /* Acked within ack_delay_ms: a sender may rely on acks alone. */
  if (core_config.ack_every > 0 && core_config.ack_delay_ms > 0)
    p->shared->ack_promise = encode_ack_promise ({ core_config.ack_every, core_config.ack_delay_ms });
  /* Each shard holds the sessions that hash to it; how many live and how
   * fast an address may start them are counted once for all. */
  IngestConfig shard_config = core_config;
  shard_config.live_sessions = std::make_shared<std::atomic<size_t>> (0);
  shard_config.start_limiter = std::make_shared<SessionStartLimiter> (
      core_config.max_new_sessions_per_second, core_config.new_session_burst);
  p->shards.clear ();
  for (unsigned i = 0; i < n; i++)
    p->shards.push_back (std::make_unique<IngestShard> (i, shard_config, p->on_event, p->ack_gate, *p));
  p->routes.assign (n, {});

  GTlsCertificate *tls_cert = nullptr;
  if (!config.tls_cert_file.empty ())
    {
      GError *terr = nullptr;
      tls_cert = g_tls_certificate_new_from_files (config.tls_cert_file.c_str (),
          config.tls_key_file.empty () ? config.tls_cert_file.c_str () : config.tls_key_file.c_str (), &terr);
      if (!tls_cert)
        {
          error = "could not load the TLS certificate \"" + config.tls_cert_file + "\" and key \""
                  + config.tls_key_file + "\": " + (terr ? terr->message : "?");
          g_clear_error (&terr);
          return false;
        }
    }

  /* Our own sockets: backlog SOMAXCONN, one per worker on the same port. */
  std::vector<GSocket *> listeners;
  unsigned port = config.port;
  for (unsigned i = 0; i < n; i++)
    {
      GSocket *sock = ConnectionGate::listen_socket (config.address, port, n > 1, error);
      if (!sock)
        break;
      if (i == 0)
        {
          GSocketAddress *bound = g_socket_get_local_address (sock, nullptr);
          port = bound ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)) : config.port;
          g_clear_object (&bound);
        }
      listeners.push_back (sock);
    }
  bool ok = listeners.size () == n;
  p->port = port;
  p->context = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  p->is_sharded = n > 1;
  for (unsigned i = 0; ok && i < n; i++)
    {
      p->workers.push_back (std::make_unique<IngestWorker> (i, p->shared, *p));
      IngestWorker *w = p->workers.back ().get ();
      GSocket *sock = listeners[i];
      if (n == 1)
        {
          if (config.batch_window_us > 0)
            use_batched_poll (p->context, config.batch_window_us);
          p->shards[0]->attach (p->context);
          ok = w->start (p->context, sock, tls_cert, error);
          break;
        }
      auto thread = std::make_unique<ContextThread> ();
      const std::string name = "ingest-w" + std::to_string (i);
      ok = thread->start (name.c_str (), error);
      if (!ok)
        {
          p->workers.pop_back ();
          break;
        }
      p->threads.push_back (std::move (thread));
      ContextThread *t = p->threads.back ().get ();
      if (config.batch_window_us > 0)
        use_batched_poll (t->context (), config.batch_window_us);
      IngestShard *shard = p->shards[i].get ();
      t->invoke ([&] {
        shard->attach (t->context ());
        ok = w->start (t->context (), sock, tls_cert, error);
      });
    }
  for (GSocket *s : listeners)
    g_object_unref (s);
  g_clear_object (&tls_cert);
  if (!ok)
    {
      /* Workers that did not start have nothing to stop. */
      p->stop_workers ();
      g_main_context_unref (p->context);
      p->context = nullptr;
      return false;
    }
  GST_INFO ("listening on ws://%s:%u%s with %u worker(s)", config.address.c_str (), p->port,
            config.path.c_str (), n);
  return true;
}

void
IngestServer::stop ()
{
  Impl *p = impl_;
  if (p->workers.empty ())
    return;
  p->stop_workers ();
  g_main_context_unref (p->context);
  p->context = nullptr;
}

void
IngestServer::close_all (unsigned short code, const char *reason)
{
  for (size_t i = 0; i < impl_->workers.size (); i++)
    {
      IngestWorker *w = impl_->workers[i].get ();
      impl_->on_worker (i, [&] { w->close_all (code, reason); });
    }
}

unsigned
IngestServer::port () const
{
  return impl_->port;
}

unsigned
IngestServer::workers () const
{
  return static_cast<unsigned> (impl_->workers.size ());
}

void
IngestServer::finish_all (const std::string &reason)
{
  Impl *p = impl_;
  if (p->workers.empty ())
    return; /* stopped */
  for (size_t i = 0; i < p->shards.size (); i++)
    {
      IngestShard *s = p->shards[i].get ();
      /* What other workers posted to it is part of its sessions: recorded
       * before they end (shutdown). */
      p->on_worker (i, [&] {
        s->flush_inbox ();
        s->finish_all (reason);
      });
    }
}

void
IngestServer::finish_session (const std::string &session_id, const std::string &reason)
{
  Impl *p = impl_;
  if (p->workers.empty ())
    return; /* stopped */
  const unsigned i = p->shard_of (session_id);
  IngestShard *s = p->shards[i].get ();
  p->on_worker (i, [&] { s->finish_session (session_id, reason); });
}

void
IngestServer::withhold_acks (const std::string &session_id)
{
  Impl *p = impl_;
  if (p->workers.empty ())
    return; /* stopped */
  const unsigned i = p->shard_of (session_id);
  IngestShard *s = p->shards[i].get ();
  p->on_worker (i, [&] { s->withhold_acks (session_id); });
}

unsigned
IngestServer::worker_of_session (const std::string &session_id) const
{
  return impl_->shard_of (session_id);
}

bool
IngestServer::session_stats (const std::string &session_id, SessionStats &out) const
{
  const Impl *p = impl_;
  return !p->shards.empty () && p->shards[p->shard_of (session_id)]->session_stats (session_id, out);
}

IngestStats
IngestServer::stats () const
{
  IngestStats sum;
  for (const auto &s : impl_->shards)
    {
      IngestStats one = s->stats ();
      sum.connections += one.connections;
      sum.open_connections += one.open_connections;
      sum.messages += one.messages;
      sum.rejected += one.rejected;
      sum.closed_for_abuse += one.closed_for_abuse;
      sum.closed_for_rate += one.closed_for_rate;
      for (const auto &kv : one.rejected_by_code)
        sum.rejected_by_code[kv.first] += kv.second;
    }
  return sum;
}

std::string
IngestServer::last_session () const
{
  return impl_->shards.empty () ? std::string () : impl_->shards[0]->last_session ();
}

IngestServerStats
IngestServer::server_stats () const
{
  IngestServerStats s;
  const WorkerShared *sh = impl_->shared.get ();
  if (!sh)
    return s;
  s.auth_refused = sh->auth_refused;
  s.origin_refused = sh->origin_refused;
  s.address_refused = sh->address_refused;
  s.closed_silent = sh->closed_silent;
  s.closed_no_message = sh->closed_no_message;
  for (size_t i = 0; i < impl_->workers.size (); i++)
    {
      IngestWorker *w = impl_->workers[i].get ();
      GateStats g;
      impl_->on_worker (i, [&] { g = w->gate_stats (); });
      s.gate.accepted += g.accepted;
      s.gate.refused_pending_address += g.refused_pending_address;
      s.gate.refused_pending_total += g.refused_pending_total;
      s.gate.refused_fd_limit += g.refused_fd_limit;
      s.gate.header_timeouts += g.header_timeouts;
      s.gate.accept_pauses += g.accept_pauses;
      s.gate.pending += g.pending;
      s.gate.closed_too_big += g.closed_too_big;
      s.gate.closed_ping_flood += g.closed_ping_flood;
      s.worker_connections.push_back (w->connections ());
      s.worker_steered_in.push_back (w->steered_in ());
    }
  return s;
}

} // namespace wssac
