/* wssaudiochunk: the inside of WssClientTransport, shared by the files that
 * implement it (one concept each):
 *  - wss-client-transport.cpp: the public API, the thread, the shared state;
 *  - client-connection.cpp: one connection's life (connect, retry with
 *    backoff, upgrade, dead-peer watchdog, close);
 *  - client-sending.cpp: writing the backlog and replays, the receiver's
 *    replies, the periodic tick;
 *  - client-handover.cpp: make-before-break at max-connection-age
 *    (ConnectionHandover decides, this carries it out).
 * Everything but the public API runs on the transport thread; what the
 * element's threads also touch is under @lock.
 */
#pragma once

#include "connection-handover.h"
#include "delivery-tracker.h"
#include "latency-stats.h"
#include "sources.h"
#include "upgrade-attempt.h"
#include "wss-client-transport.h"

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_EXTERN (wss_transport_debug);

namespace wssac
{

class ContextThread;

inline int64_t
now_ms ()
{
  return g_get_real_time () / 1000;
}

inline int64_t
mono_ms ()
{
  return g_get_monotonic_time () / 1000;
}

struct WssClientTransport::Impl
{
  GstObject *log_object = nullptr; /* borrowed: what every log line names */
  TransportConfig config;
  std::string shown_uri;   /* redacted: the only form logs and messages use */
  std::string connect_uri; /* with the session id and the token, as configured */
  GTlsDatabase *tls_database = nullptr;
  TransportCallbacks cb;

  /* Owned by the transport thread once started. */
  std::unique_ptr<ContextThread> thread;
  GMainContext *context = nullptr; /* the thread's, while it runs */
  SoupSession *session = nullptr;
  SoupWebsocketConnection *conn = nullptr; /* the one sending */
  UpgradeAttempt current;      /* connect or reconnect */
  GSource *retry_timer = nullptr;
  GSource *watchdog = nullptr; /* dead-peer check, once a second */
  GSource *resume = nullptr;   /* retry a flush paused by backpressure or pacing */
  GSource *ticker = nullptr;   /* TCP evidence, loss episodes, connection age */
  GSource *pending_source = nullptr;
  enum class PendingAction
  {
    None,
    Reconnect,
    GiveUp,
  } pending_action
      = PendingAction::None; /* decided by a server reply */
  std::string pending_detail;
  std::string pending_fix;
  /* How far the attempt got (SoupMessage::network-event): tells a TLS
   * handshake nobody answers from a server that is not there. */
  GSocketClientEvent last_network_event = G_SOCKET_CLIENT_RESOLVING;
  bool got_network_event = false;
  RetryPolicy retry{ RetryConfig () };
  bool ever_connected = false;
  bool header_due = false; /* the next chunk carries the stream header */
  int64_t last_rx_ms = 0;
  int64_t connected_ms = 0;
  bool pong_seen = false; /* the watchdog trusts pings once one was answered */
  unsigned ping_interval_s = 0;

  /* Make-before-break (client-handover.cpp). */
  ConnectionHandover handover;
  UpgradeAttempt next; /* the next connection's upgrade */
  SoupWebsocketConnection *retired = nullptr; /* the old one, confirming */
  int64_t retired_ms = 0;                     /* when it stopped taking chunks */
  bool retired_closing = false;               /* we closed it (or gave up on it) */

  /* Shared with the element's threads. */
  mutable std::mutex lock;
  std::condition_variable cond;
  Backlog backlog;
  DeliveryTracker delivery; /* written, not yet confirmed */
  std::vector<uint8_t> stream_header;
  TransportStats stats;
  LatencyStats latencies; /* queue to socket, us */
  bool draining = false;
  bool interrupted = false;
  size_t waiting_chunks = 0; /* queued with may_wait since the last wake-up */
  /* Flushes the backlog on the transport thread (create_wake_source ()):
   * pointer under @lock, so that stop () cannot free it under a wake. */
  GSource *wake_source = nullptr;
  struct WakeSource
  {
    GSource base;
    Impl *impl;
  };

  /* ---- wss-client-transport.cpp ---- */
  void set_state (ConnectionState s, const std::string &detail = std::string ());
  void thread_setup ();
  void thread_teardown ();
  GSource *attach_timeout (int64_t delay_ms, GSourceFunc func);
  void announce (const std::vector<DropEpisode> &due);
  static gboolean on_wake_dispatch (GSource *source, GSourceFunc, gpointer);
  void create_wake_source ();
  void destroy_wake_source ();
  /* Under @lock: the transport thread flushes soon (once per burst). */
  void wake_locked ();

  /* ---- client-connection.cpp ---- */
  /* The upgrade request (headers, token, certificate policy); nullptr
   * when the URI cannot be parsed. */
  SoupMessage *upgrade_message ();
  void connect ();
  /* Sends @msg (owned from here on) for @attempt, with the connect timeout. */
  void start_upgrade (UpgradeAttempt &attempt, SoupMessage *msg, GAsyncReadyCallback done);
  static void on_connect_done (GObject *source, GAsyncResult *res, gpointer data);
  static void on_network_event (SoupMessage *, GSocketClientEvent event, GIOStream *,
                                gpointer data);
  bool tcp_connected () const;
  ConnectError classify (const GError *error, SoupMessage *msg) const;
  void on_connect_failed (const ConnectError &e, bool retryable);
  void give_up (const std::string &message,
                const std::string &fix = "the connection was lost and could not be re-established; "
                                         "raise max-retries (-1 = forever) to keep trying");
  void schedule_retry (const std::string &why);
  /* @c is upgraded and takes over sending (@handover: from a connection
   * that now retires, not after a failure). */
  /* @acks: promised_acks () of its upgrade. */
  void on_connected (SoupWebsocketConnection *c, const AckPromise &acks, bool handover = false);
  void drop_connection ();
  static gboolean on_watchdog (gpointer data);
  static void on_pong (SoupWebsocketConnection *c, GBytes *, gpointer data);
  static void on_error (SoupWebsocketConnection *c, GError *error, gpointer data);
  void connection_ended (bool clean);
  static void on_closing (SoupWebsocketConnection *c, gpointer data);
  static void on_closed (SoupWebsocketConnection *c, gpointer data);
  static gboolean on_pending_action (gpointer data);
  bool open () const;

  /* ---- client-sending.cpp ---- */
  void flush ();
  void send (Outgoing item);
  static void on_message (SoupWebsocketConnection *c, gint type, GBytes *message, gpointer data);
  void on_progress ();
  static gboolean on_tick (gpointer data);

  /* ---- client-handover.cpp ---- */
  /* At max-connection-age: opens the next connection (called every tick). */
  void maybe_open_next ();
  static void on_next_connect_done (GObject *source, GAsyncResult *res, gpointer data);
  /* Sending moves to @c; the current connection retires. */
  void take_over (SoupWebsocketConnection *c, const AckPromise &acks);
  /* TCP evidence for the retiring connection; closes it with 1000 once
   * everything written on it is confirmed. Under no lock. */
  void tend_retired (int64_t now);
  void retired_closed (SoupWebsocketConnection *c);
  /* Teardown: the next attempt cancelled, the retiring connection closed. */
  void drop_handover ();
};

} // namespace wssac
