#include "test-ingest.h"
#include "locked-getter.h"

#include <chrono>

void
TestIngest::start (unsigned port)
{
  thread_ = std::make_unique<wssac::ContextThread> ();
  std::string thread_error;
  if (!thread_->start ("test-ingest", thread_error))
    g_error ("%s", thread_error.c_str ());
  thread_->invoke ([this, port] {
    server_ = std::make_unique<wssac::IngestServer> ();
    wssac::IngestServerConfig config;
    config.port = port;
    config.core.ack_every = ack_every_;
    config.core.only_session = only_session_;
    config.peer_timeout_s = peer_timeout_s_;
    config.keepalive_interval_s = peer_timeout_s_ < 10 ? 1 : 10;
    config.core.reassembly.max_wait_ms = 500;
    std::string error;
    bool ok = false;
    /* The port may still be held by the previous incarnation for a moment. */
    for (int attempt = 0; attempt < 50 && !ok; attempt++)
      {
        ok = server_->start (thread_->context (), config,
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
    port_ = server_->port ();
  });
  incarnations_++;
}

void
TestIngest::stop ()
{
  hang_then_stop (0);
}

void
TestIngest::hang_then_stop (int64_t ms)
{
  if (!thread_)
    return;
  thread_->invoke ([this, ms] {
    if (ms > 0)
      g_usleep (ms * 1000);
    server_->stop ();
    server_.reset ();
  });
  thread_.reset ();
}

void
TestIngest::close_all (unsigned short code)
{
  thread_->invoke ([this, code] { server_->close_all (code); });
}
WSS_LOCKED_GETTER (TestIngest, chunks, chunks_, std::map<uint64_t, std::vector<uint8_t>>)

WSS_LOCKED_GETTER (TestIngest, deliveries, deliveries_, size_t)

WSS_LOCKED_GETTER (TestIngest, session_ends, ends_, size_t)

bool
TestIngest::wait_for_end (int64_t timeout_ms) const
{
  std::unique_lock<std::mutex> g (lock_);
  return cond_.wait_for (g, std::chrono::milliseconds (timeout_ms), [this] { return ends_ > 0; });
}
