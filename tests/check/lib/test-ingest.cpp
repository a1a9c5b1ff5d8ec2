#include "test-ingest.h"

#include <chrono>

void
TestIngest::start (unsigned port)
{
  context_ = g_main_context_new ();
  loop_ = g_main_loop_new (context_, FALSE);
  std::mutex m;
  std::condition_variable ready;
  bool started = false;
  std::string error;
  thread_ = std::thread ([&, port] {
    g_main_context_push_thread_default (context_);
    auto *server = new wssac::IngestServer ();
    wssac::IngestServerConfig config;
    config.port = port;
    config.core.ack_every = ack_every_;
    config.peer_timeout_s = peer_timeout_s_;
    config.keepalive_interval_s = peer_timeout_s_ < 10 ? 1 : 10;
    config.core.reassembly.max_wait_ms = 500;
    bool ok = false;
    /* The port may still be held by the previous incarnation for a moment. */
    for (int attempt = 0; attempt < 50 && !ok; attempt++)
      {
        ok = server->start (context_, config,
            [this] (wssac::IngestEvent &&ev) {
              std::lock_guard<std::mutex> g (lock_);
              if (ev.kind == wssac::IngestEventKind::Audio)
                {
                  chunks_.emplace (ev.chunk_index, std::move (ev.bytes));
                  deliveries_++;
                }
              else if (ev.kind == wssac::IngestEventKind::SessionEnded)
                ends_++;
              cond_.notify_all ();
            },
            error);
        if (!ok)
          g_usleep (20000);
      }
    if (!ok)
      g_error ("test ingest: %s", error.c_str ());
    server_ = server;
    port_ = server->port ();
    {
      std::lock_guard<std::mutex> g (m);
      started = true;
    }
    ready.notify_all ();
    g_main_loop_run (loop_);
    server->stop ();
    delete server;
    server_ = nullptr;
    while (g_main_context_pending (context_))
      g_main_context_iteration (context_, FALSE);
    g_main_context_pop_thread_default (context_);
  });
  std::unique_lock<std::mutex> g (m);
  ready.wait (g, [&] { return started; });
  incarnations_++;
}

struct IngestCall
{
  std::function<void ()> fn;
  std::mutex m;
  std::condition_variable c;
  bool done = false;
};

static gboolean
ingest_call (gpointer data)
{
  auto *call = static_cast<IngestCall *> (data);
  call->fn ();
  std::lock_guard<std::mutex> g (call->m);
  call->done = true;
  call->c.notify_all ();
  return G_SOURCE_REMOVE;
}

void
TestIngest::run_on_thread (std::function<void ()> fn)
{
  IngestCall call;
  call.fn = std::move (fn);
  g_main_context_invoke (context_, ingest_call, &call);
  std::unique_lock<std::mutex> g (call.m);
  call.c.wait (g, [&] { return call.done; });
}

void
TestIngest::stop ()
{
  if (!loop_)
    return;
  run_on_thread ([this] { g_main_loop_quit (loop_); });
  thread_.join ();
  g_main_loop_unref (loop_);
  g_main_context_unref (context_);
  loop_ = nullptr;
  context_ = nullptr;
}

void
TestIngest::close_all (unsigned short code)
{
  run_on_thread ([this, code] { server_->close_all (code); });
}

std::map<uint64_t, std::vector<uint8_t>>
TestIngest::chunks () const
{
  std::lock_guard<std::mutex> g (lock_);
  return chunks_;
}

size_t
TestIngest::deliveries () const
{
  std::lock_guard<std::mutex> g (lock_);
  return deliveries_;
}

size_t
TestIngest::session_ends () const
{
  std::lock_guard<std::mutex> g (lock_);
  return ends_;
}

bool
TestIngest::wait_for_end (int64_t timeout_ms) const
{
  std::unique_lock<std::mutex> g (lock_);
  return cond_.wait_for (g, std::chrono::milliseconds (timeout_ms), [this] { return ends_ > 0; });
}
