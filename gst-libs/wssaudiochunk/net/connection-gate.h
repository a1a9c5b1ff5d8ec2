/* wssaudiochunk receiver: the listening socket and everything before a
 * WebSocket upgrade, in front of libsoup's SoupServer.
 *
 * libsoup 3.2's listener removes its accept source when accept() fails
 * (EMFILE), so a server that once ran out of descriptors never accepts
 * again; it also keeps a connection that sent half a request forever. The
 * gate accepts by itself and hands each connection to the server
 * (soup_server_accept_iostream), so that:
 * - on EMFILE/ENFILE accepting pauses and resumes (backoff up to 1 s),
 *   logged once per episode;
 * - a connection accepted into the last descriptors (fd number at or above
 *   the soft RLIMIT_NOFILE minus a reserve) is answered 503 and closed,
 *   instead of failing later inside a session;
 * - connections that have not upgraded are capped per client address and
 *   in total (beyond: closed at once), and closed when their request has
 *   not completed within header_timeout_ms.
 * libsoup serves each handed-in connection for one request only (it keeps
 * connections alive only for its own listeners): every refused request
 * closes its socket. */
#pragma once

#include "non-copyable.h"

#include "frame-guard.h"

#include <gio/gio.h>
#include <libsoup/soup.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace wssac
{

/* "IP" (or "IP:port" with @with_port) of an inet socket address; "" for
 * anything else. The gate and the server key their limits by it. */
std::string address_of (GSocketAddress *addr, bool with_port);

struct GateConfig
{
  unsigned header_timeout_ms = 10000;
  unsigned max_pending_total = 256;
  unsigned max_pending_per_address = 64;
  /* Descriptors kept free for sessions' files and the program: an accept
   * that lands at or above (soft limit - reserve) gets 503. 0: no check. */
  unsigned fd_reserve = 64;
  /* What the client may send after the upgrade (frame-guard.h). */
  FrameGuardConfig frames;
  /* wss://: connections are wrapped in TLS before libsoup sees them. */
  GTlsCertificate *tls_certificate = nullptr;
};

/* Connections counted per client address and in all, under a lock: shared
 * by every gate (pending upgrades) or worker (open connections) of a
 * process, since a sharded receiver's caps are the process's. */
class AddressCounts
{
public:
  /* Counts one more from @address unless a cap would be exceeded; false
   * then, with @by_address telling which cap. 0: no cap. */
  bool try_add (const std::string &address, unsigned max_per_address, unsigned max_total, bool &by_address);
  void remove (const std::string &address);
  unsigned from (const std::string &address) const;
  size_t total () const;

private:
  mutable std::mutex lock_;
  std::map<std::string, unsigned> by_address_;
  size_t total_ = 0;
};

struct GateStats
{
  uint64_t accepted = 0;
  uint64_t refused_pending_address = 0; /* over max_pending_per_address */
  uint64_t refused_pending_total = 0;   /* over max_pending_total */
  uint64_t refused_fd_limit = 0;        /* 503 near the descriptor limit */
  uint64_t header_timeouts = 0;
  uint64_t accept_pauses = 0;     /* EMFILE/ENFILE episodes */
  uint64_t pending = 0;           /* not upgraded yet, now */
  uint64_t closed_too_big = 0;    /* fragments over the message size: 1009 */
  uint64_t closed_ping_flood = 0; /* pings over the rate: 1008 */
};

class ConnectionGate : private wssac::NonCopyable
{
public:
  ConnectionGate () = default;
  ~ConnectionGate ();

  /* @listener: bound and listening; the gate takes a reference.
   * @shared: the process's pending counts when several gates serve one
   * port (else the gate has its own). */
  bool start (GMainContext *context, SoupServer *server, GSocket *listener,
              const GateConfig &config, std::string &error,
              std::shared_ptr<AddressCounts> shared = nullptr);
  void stop ();
  /* The WebSocket handler calls this with the upgraded request's remote
   * address: the connection no longer counts as pending. */
  void upgraded (GSocketAddress *remote);
  GateStats stats () const;
  /* The worker's epoll set (nullptr when epoll is not available). */
  const std::shared_ptr<SocketReadiness> &
  readiness () const
  {
    return readiness_;
  }

  /* The soft RLIMIT_NOFILE now. */
  static uint64_t fd_limit ();
  /* A listening TCP socket on @address:@port (0: any free port) with the
   * backlog SOMAXCONN (GLib's default is 10: a burst of connections would
   * overflow it and the kernel drop SYNs, retried by clients after 1, 3,
   * 7 s). @reuse_port: SO_REUSEPORT, so that several sockets (one per
   * worker) share the port and the kernel spreads connections over them.
   * nullptr with @error on failure. */
  static GSocket *listen_socket (const std::string &address, unsigned port, bool reuse_port,
                                 std::string &error);

private:
  struct Pending
  {
    std::string address;
    std::string peer;
    int64_t accepted_ms = 0;
    bool shut = false; /* shut down for its header timeout */
  };
  void forget (std::map<GSocket *, Pending>::iterator it);
  static gboolean on_incoming (GSocket *socket, GIOCondition condition, gpointer data);
  static gboolean on_sweep (gpointer data);
  void arm_accept ();
  void pause_accepting ();
  void sweep (int64_t now_ms);
  void refuse_503 (GSocket *socket);

  GateConfig config_;
  GMainContext *context_ = nullptr;
  SoupServer *server_ = nullptr;
  GSocket *listener_ = nullptr;
  GSource *accept_source_ = nullptr;
  GSource *resume_source_ = nullptr;
  GSource *sweep_source_ = nullptr;
  unsigned backoff_ms_ = 0;
  bool paused_logged_ = false;
  uint64_t fd_limit_ = 0;
  std::map<GSocket *, Pending> pending_;             /* holds a reference on each socket */
  std::map<std::string, GSocket *> pending_by_peer_; /* "ip:port" */
  std::shared_ptr<AddressCounts> counts_;
  GateStats stats_;
  std::shared_ptr<FrameGuardStats> frame_stats_ = std::make_shared<FrameGuardStats> ();
  /* The worker's epoll set for its plain TCP sockets (socket-readiness.h);
   * the connections' guards keep it alive after stop(). */
  std::shared_ptr<SocketReadiness> readiness_;
};

} // namespace wssac
