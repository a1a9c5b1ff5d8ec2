/* wssaudiochunk: the sink's WebSocket client: its public API, its thread
 * and the state it shares with the element's threads. The rest of
 * WssClientTransport::Impl is in client-connection.cpp, client-sending.cpp
 * and client-handover.cpp (wss-client-transport-private.h). */
#include "wss-client-transport-private.h"
#include "debug-category.h"

#include "context-thread.h"
#include "transport-config.h"

#include <algorithm>
#include <chrono>

GST_DEBUG_CATEGORY (wss_transport_debug);
#define GST_CAT_DEFAULT wss_transport_debug

namespace wssac
{

void
WssClientTransport::Impl::set_state (ConnectionState s, const std::string &detail)
{
  {
    std::lock_guard<std::mutex> g (lock);
    if (stats.state == s)
      return;
    stats.state = s;
    if (!detail.empty () && (s == ConnectionState::Reconnecting || s == ConnectionState::Failed))
      stats.last_error = detail;
  }
  cond.notify_all ();
  GST_INFO_OBJECT (log_object, "%s: %s%s%s", shown_uri.c_str (), connection_state_name (s),
                   detail.empty () ? "" : ": ", detail.c_str ());
  if (cb.state_changed)
    cb.state_changed (s, detail);
}

/* ---- transport thread ---- */
/* On the transport thread, before its loop runs. */
void
WssClientTransport::Impl::thread_setup ()
{
  session = soup_session_new_with_options ("user-agent", config.user_agent.c_str (), "timeout",
                                           config.connect_timeout_s, NULL);
  if (tls_database)
    soup_session_set_tls_database (session, tls_database);
  ticker = attach_timeout (100, on_tick);
  connect ();
}

/* On the transport thread, once its loop has quit. */
void
WssClientTransport::Impl::thread_teardown ()
{
  destroy_source (&retry_timer);
  destroy_source (&watchdog);
  destroy_source (&resume);
  destroy_source (&ticker);
  destroy_source (&pending_source);
  drop_handover ();
  current.abandon (context);
  drop_connection ();
  g_clear_object (&session);
  g_clear_object (&tls_database);
}

GSource *
WssClientTransport::Impl::attach_timeout (int64_t delay_ms, GSourceFunc func)
{
  return wssac::attach_timeout (context, delay_ms, func, this);
}

void
WssClientTransport::Impl::announce (const std::vector<DropEpisode> &due)
{
  if (cb.dropped)
    for (const auto &e : due)
      cb.dropped (e);
}

/* One source for the life of the thread, armed with a ready time of 0: a
 * wake-up allocates nothing, and the wake-ups of a burst of chunks
 * coalesce into one flush (g_main_context_invoke () allocated an idle
 * source per chunk). */
gboolean
WssClientTransport::Impl::on_wake_dispatch (GSource *source, GSourceFunc, gpointer)
{
  Impl *self = reinterpret_cast<WakeSource *> (source)->impl;
  /* Before flush () reads the backlog: a wake after this runs us again. */
  g_source_set_ready_time (source, -1);
  self->flush ();
  return G_SOURCE_CONTINUE;
}

void
WssClientTransport::Impl::create_wake_source ()
{
  static GSourceFuncs funcs = { nullptr, nullptr, on_wake_dispatch, nullptr, nullptr, nullptr };
  GSource *s = g_source_new (&funcs, sizeof (WakeSource));
  reinterpret_cast<WakeSource *> (s)->impl = this;
  g_source_set_name (s, "wssac-transport-wake");
  g_source_attach (s, context);
  std::lock_guard<std::mutex> g (lock);
  wake_source = s;
}

void
WssClientTransport::Impl::destroy_wake_source ()
{
  GSource *s;
  {
    std::lock_guard<std::mutex> g (lock);
    s = wake_source;
    wake_source = nullptr;
  }
  destroy_source (&s);
}

void
WssClientTransport::Impl::wake_locked ()
{
  /* Thread-safe; signals the context only when the ready time changes,
   * so chunks queued before the flush runs add no wake-up. */
  if (wake_source)
    g_source_set_ready_time (wake_source, 0);
}

WssClientTransport::WssClientTransport (GstObject *log_object) : impl_ (std::make_unique<Impl> ())
{
  impl_->log_object = log_object;
  init_debug_category (wss_transport_debug, "wssaudiochunktransport",
                       "wssaudiochunk WebSocket client transport");
}

WssClientTransport::~WssClientTransport ()
{
  stop ();
}

bool
WssClientTransport::start (const TransportConfig &config, TransportCallbacks callbacks,
                           std::string &error)
{
  Impl *p = impl_.get ();
  p->config = config;
  p->config.tls_database = nullptr;
  p->cb = std::move (callbacks);
  p->shown_uri = redact_uri (config.uri);
  p->connect_uri = connect_uri_of (config);
  g_clear_object (&p->tls_database);
  if (!tls_database_of (config, &p->tls_database, error))
    return false;
  p->retry = RetryPolicy (config.retry);
  p->backlog.clear ();
  p->backlog.set_limits (config.backlog);
  p->delivery.reset (delivery_config_of (config));
  HandoverConfig handover;
  handover.max_age_ms = config.max_connection_age_ms;
  handover.retry = config.retry;
  p->handover = ConnectionHandover (handover);
  p->stats = TransportStats ();
  p->latencies.clear ();
  p->draining = p->interrupted = false;
  p->ever_connected = false;
  p->header_due = false;
  p->thread = std::make_unique<ContextThread> ();
  p->context = p->thread->context ();
  p->create_wake_source ();
  std::string thread_error;
  if (!p->thread->start ("wssac-transport", thread_error, [p] { p->thread_setup (); }))
    {
      p->destroy_wake_source ();
      p->thread.reset ();
      p->context = nullptr;
      g_clear_object (&p->tls_database);
      error = "Could not connect to " + p->shown_uri + ": " + thread_error;
      return false;
    }

  /* Audio waits in the backlog until the connection is up. */
  return true;
}

std::vector<DropEpisode>
WssClientTransport::enqueue (Outgoing item)
{
  std::vector<DropEpisode> due;
  item.queued_us = g_get_monotonic_time ();
  const bool may_wait = item.may_wait;
  {
    std::lock_guard<std::mutex> g (impl_->lock);
    if (item.kind == OutgoingKind::AudioChunk)
      impl_->stats.chunks_queued++;
    DropRange dropped = impl_->backlog.push (std::move (item));
    if (dropped.count > 0)
      due = impl_->delivery.count_drop (DropReason::Backlog, dropped, mono_ms ());
    /* A file's chunks go several to a wake-up (wake_transport_now ()); the
     * tick, an ack or the end of the stream flushes what waits. */
    if (!wake_transport_now (may_wait, ++impl_->waiting_chunks,
                             DeliveryTracker::has_room (impl_->backlog)))
      return due;
    impl_->waiting_chunks = 0;
    impl_->wake_locked ();
  }
  return due;
}

std::vector<DropEpisode>
WssClientTransport::count_drop (DropReason reason, const DropRange &range)
{
  std::lock_guard<std::mutex> g (impl_->lock);
  return impl_->delivery.count_drop (reason, range, mono_ms ());
}

bool
WssClientTransport::wait_for_room ()
{
  Impl *p = impl_.get ();
  std::unique_lock<std::mutex> g (p->lock);
  p->cond.wait (g, [p] {
    return p->interrupted || p->stats.state == ConnectionState::Failed
           || DeliveryTracker::has_room (p->backlog);
  });
  return !p->interrupted;
}

bool
WssClientTransport::drain_and_close (int64_t timeout_ms)
{
  Impl *p = impl_.get ();
  if (!p->context)
    return true;
  close_when_drained ();
  auto finished = [p] {
    return p->interrupted || p->stats.state == ConnectionState::Closed
           || p->stats.state == ConnectionState::Failed;
  };
  std::vector<DropEpisode> due;
  bool delivered;
  {
    std::unique_lock<std::mutex> g (p->lock);
    p->cond.wait_for (g, std::chrono::milliseconds (timeout_ms), finished);
    delivered = p->stats.state == ConnectionState::Closed && p->backlog.empty ()
                && p->delivery.ledger ().all_confirmed ();
    /* At EOS what is not confirmed is lost: say so now, and let endSession
     * and the close go out. */
    due = p->delivery.abandon (p->backlog, mono_ms ());
  }
  p->announce (due);
  if (!delivered)
    {
      std::unique_lock<std::mutex> g (p->lock);
      p->wake_locked ();
      p->cond.wait_for (g, std::chrono::milliseconds (2000), finished);
    }
  return delivered;
}

void
WssClientTransport::close_when_drained ()
{
  Impl *p = impl_.get ();
  if (!p->context)
    return;
  {
    std::lock_guard<std::mutex> g (p->lock);
    p->draining = true;
    p->wake_locked ();
  }
}

void
WssClientTransport::interrupt ()
{
  {
    std::lock_guard<std::mutex> g (impl_->lock);
    impl_->interrupted = true;
  }
  impl_->cond.notify_all ();
}

void
WssClientTransport::clear_interrupt ()
{
  std::lock_guard<std::mutex> g (impl_->lock);
  impl_->interrupted = false;
}

void
WssClientTransport::set_format (const std::string &format)
{
  std::lock_guard<std::mutex> g (impl_->lock);
  impl_->config.format = format;
}

void
WssClientTransport::set_stream_header (const std::vector<uint8_t> &header)
{
  std::lock_guard<std::mutex> g (impl_->lock);
  impl_->stream_header = header;
}

void
WssClientTransport::stop ()
{
  Impl *p = impl_.get ();
  if (!p->context)
    return;
  p->destroy_wake_source ();
  p->thread->stop ([p] { p->thread_teardown (); });
  p->thread.reset ();
  p->context = nullptr;

  std::vector<DropEpisode> due;
  {
    std::lock_guard<std::mutex> g (p->lock);
    due = p->delivery.abandon (p->backlog, mono_ms ());
    p->backlog.clear ();
    if (p->stats.state != ConnectionState::Failed)
      p->stats.state = ConnectionState::Closed;
  }
  p->announce (due);
}

TransportStats
WssClientTransport::stats () const
{
  std::lock_guard<std::mutex> g (impl_->lock);
  TransportStats s = impl_->stats;
  s.backlog_chunks = impl_->backlog.audio_chunks ();
  s.backlog_bytes = impl_->backlog.audio_bytes ();
  s.backlog_time_ns = impl_->backlog.audio_time ();
  impl_->delivery.fill (s);
  LatencyPercentiles p = impl_->latencies.percentiles ();
  s.latency_p50_us = p.p50;
  s.latency_p95_us = p.p95;
  s.latency_p99_us = p.p99;
  return s;
}

} // namespace wssac
