#include "ingest-server.h"
#include "debug-category.h"
#include "sources.h"

#include "batched-poll.h"

#include "context-thread.h"
#include "ingest-server-worker.h"

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

GST_DEBUG_CATEGORY_STATIC (wss_ingest_debug);
#define GST_CAT_DEFAULT wss_ingest_debug

namespace wssac
{

/* The sessions' side: the IngestCore, on the caller's context. */
struct IngestServer::Impl : WorkerEvents
{
  IngestServerConfig config;
  EventHandler on_event;
  GMainContext *context = nullptr;
  GSource *deadline = nullptr;
  unsigned port = 0;
  std::unique_ptr<IngestCore> core;
  std::shared_ptr<WorkerShared> shared;
  std::vector<std::unique_ptr<IngestWorker>> workers;
  /* One per worker when sharded; none when the one worker runs here. */
  std::vector<std::unique_ptr<ContextThread>> threads;
  std::unordered_map<ConnectionId, unsigned> worker_of; /* open connections */
  /* Sessions whose audio could not be stored: acks are cumulative, so none
   * may be sent for them again until they end. */
  std::unordered_set<std::string> withheld;

  /* What workers hand over when sharded, in the order it happened. */
  struct Item
  {
    enum Kind
    {
      Connected,
      Message,
      Closed
    } kind;
    unsigned worker;
    ConnectionId id;
    std::string peer, principal;
    IngestCore::Decoded input;
    int64_t ms;
  };
  Mailbox<Item> inbox;

  static int64_t now_ms () { return g_get_monotonic_time () / 1000; }
  /* Fixed before any worker starts (the workers read it). */
  bool is_sharded = false;
  bool sharded () const { return is_sharded; }

  void
  connected (unsigned worker, ConnectionId id, const std::string &peer, const std::string &principal) override
  {
    if (sharded ())
      inbox.post ({ Item::Connected, worker, id, peer, principal, {}, now_ms () });
    else
      on_connected (worker, id, peer, principal);
  }
  void
  message (unsigned worker, ConnectionId id, IngestCore::Decoded &&input) override
  {
    if (sharded ())
      inbox.post ({ Item::Message, worker, id, {}, {}, std::move (input), now_ms () });
    else
      on_decoded (id, std::move (input), now_ms ());
  }
  void
  closed (unsigned worker, ConnectionId id) override
  {
    if (sharded ())
      inbox.post ({ Item::Closed, worker, id, {}, {}, {}, now_ms () });
    else
      on_closed (id, now_ms ());
  }

  void
  drain (std::vector<Item> &batch)
  {
    for (auto &it : batch)
      switch (it.kind)
        {
        case Item::Connected:
          on_connected (it.worker, it.id, it.peer, it.principal);
          break;
        case Item::Message:
          on_decoded (it.id, std::move (it.input), it.ms);
          break;
        case Item::Closed:
          on_closed (it.id, it.ms);
          break;
        }
  }

  void
  on_connected (unsigned worker, ConnectionId id, const std::string &peer, const std::string &principal)
  {
    worker_of[id] = worker;
    core->on_connect (id, peer, principal);
  }
  void
  on_decoded (ConnectionId id, IngestCore::Decoded &&input, int64_t ms)
  {
    IngestOutput out;
    core->on_decoded (id, std::move (input), ms, out);
    apply (out);
  }
  void
  on_closed (ConnectionId id, int64_t ms)
  {
    IngestOutput out;
    core->on_disconnect (id, ms, out);
    worker_of.erase (id);
    apply (out);
  }

  IngestWorker *
  worker_for (ConnectionId id) const
  {
    auto it = worker_of.find (id);
    return it == worker_of.end () ? nullptr : workers[it->second].get ();
  }

  void
  apply (IngestOutput &out)
  {
    /* Events first: the handler stores the audio (the ingest program's
     * journal) before the acks that stand for it leave. */
    std::vector<std::string> ended;
    for (auto &e : out.events)
      {
        if (e.kind == IngestEventKind::SessionEnded)
          ended.push_back (e.session_id);
        if (on_event)
          on_event (std::move (e));
      }
    for (auto &r : out.replies)
      {
        if (!r.ack_session.empty () && withheld.count (r.ack_session))
          continue;
        if (r.text.find ("\"code\":\"session-bound\"") != std::string::npos)
          GST_WARNING ("connection %" G_GUINT64_FORMAT " refused: %s", (guint64)r.connection, r.text.c_str ());
        if (IngestWorker *w = worker_for (r.connection))
          {
            if (sharded ())
              w->post_send (r.connection, std::move (r.text));
            else
              w->send (r.connection, r.text);
          }
      }
    for (const auto &id : ended)
      withheld.erase (id);
    for (auto &c : out.closes)
      if (IngestWorker *w = worker_for (c.connection))
        {
          if (sharded ())
            w->post_close (c.connection, c.code, std::move (c.reason));
          else
            w->close (c.connection, c.code, c.reason);
        }
    out.clear ();
    arm_deadline ();
  }

  /* One timer for the earliest reorder deadline over all sessions. */
  void
  arm_deadline ()
  {
    int64_t d = core->next_deadline_ms ();
    destroy_source (&deadline);
    if (d < 0)
      return;
    int64_t wait = d - now_ms ();
    deadline = attach_timeout (context, wait, fire_once<Impl, &Impl::deadline, &Impl::deadline_passed>, this);
  }

  void
  deadline_passed ()
  {
    IngestOutput out;
    core->tick (now_ms (), out);
    apply (out);
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
        if (!sharded ())
          w->stop ();
        else if (i < threads.size ())
          threads[i]->stop ([w] { w->stop (); });
      }
    threads.clear ();
    workers.clear ();
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

bool
IngestServer::start (GMainContext *context, const IngestServerConfig &config, EventHandler on_event,
                     std::string &error)
{
  Impl *p = impl_;
  p->config = config;
  if (p->config.workers == 0)
    p->config.workers = 1;
  p->on_event = std::move (on_event);
  IngestConfig core_config = config.core;
  core_config.max_message_size = config.max_message_size;
  core_config.bind_session_to_principal = !config.auth_tokens.empty () && config.bind_session_to_token;
  p->core = std::make_unique<IngestCore> (core_config);
  p->shared = std::make_shared<WorkerShared> ();
  p->shared->config = p->config;
  p->shared->core_config = core_config;
  p->withheld.clear ();
  p->worker_of.clear ();

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
  const unsigned n = p->config.workers;
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
  if (ok && n > 1)
    p->inbox.attach (p->context, [p] (std::vector<Impl::Item> &batch) { p->drain (batch); });
  for (unsigned i = 0; ok && i < n; i++)
    {
      p->workers.push_back (std::make_unique<IngestWorker> (i, p->shared, *p));
      IngestWorker *w = p->workers.back ().get ();
      GSocket *sock = listeners[i];
      if (n == 1)
        {
          if (config.batch_window_us > 0)
            use_batched_poll (p->context, config.batch_window_us);
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
      t->invoke ([&] { ok = w->start (t->context (), sock, tls_cert, error); });
    }
  for (GSocket *s : listeners)
    g_object_unref (s);
  g_clear_object (&tls_cert);
  if (!ok)
    {
      p->inbox.detach ();
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
  destroy_source (&p->deadline);
  p->stop_workers ();
  p->inbox.detach ();
  p->worker_of.clear ();
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
  /* What the workers decoded and handed over is part of the sessions: it
   * is recorded before they end (shutdown). */
  if (impl_->sharded ())
    impl_->inbox.flush ();
  IngestOutput out;
  impl_->core->finish_all (reason, out);
  impl_->apply (out);
}

void
IngestServer::finish_session (const std::string &session_id, const std::string &reason)
{
  IngestOutput out;
  impl_->core->finish_session (session_id, reason, out);
  impl_->apply (out);
}

void
IngestServer::withhold_acks (const std::string &session_id)
{
  impl_->withheld.insert (session_id);
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
    }
  return s;
}

const IngestCore &
IngestServer::core () const
{
  return *impl_->core;
}

} // namespace wssac
