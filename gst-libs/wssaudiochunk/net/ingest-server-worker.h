/* wssaudiochunk receiver: one worker of an IngestServer (internal to
 * ingest-server.cpp). A worker is a SoupServer with its connection gate and
 * its WebSocket connections on one GMainContext: the server's own context
 * when there is one worker, a thread of its own (ContextThread) each when
 * there are several. What every worker shares (the per-address connection
 * counts, the pending caps, the refusal counts) lives in WorkerShared and is
 * process-wide; sessions are not the workers' business: a worker hands what
 * its connections say to WorkerEvents, decoded, and sends what it is told. */
#pragma once

#include "connection-gate.h"
#include "ingest-core.h"
#include "ingest-server.h"
#include "mailbox.h"
#include "server-connection.h"

#include <gio/gio.h>
#include <libsoup/soup.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace wssac
{

/* Process-wide state of a server's workers. */
struct WorkerShared
{
  IngestServerConfig config; /* fixed once the workers start */
  IngestConfig core_config;  /* what IngestCore::decode needs */
  /* The value of kAckPromiseHeader in every 101; empty: no promise. */
  std::string ack_promise;
  std::atomic<ConnectionId> next_id{ 1 };
  std::shared_ptr<AddressCounts> pending = std::make_shared<AddressCounts> ();
  std::atomic<uint64_t> auth_refused{ 0 }, origin_refused{ 0 }, address_refused{ 0 };
  std::atomic<uint64_t> closed_silent{ 0 }, closed_no_message{ 0 };

  /* Open connections per client address: reserved when a request's
   * headers pass, so that two workers cannot both admit the last one. */
  AddressCounts open;
};

/* A connection one worker upgraded, for another to serve (its request
 * named a session the other owns). Dropped undelivered: closed, and its
 * address slot given back. */
struct ConnectionHandover
{
  GIOStream *stream = nullptr; /* what libsoup gave up after the 101 */
  std::string peer, principal;
  std::function<void ()> release; /* gives back the address slot */

  ConnectionHandover () = default;
  ConnectionHandover (ConnectionHandover &&o) noexcept
      : stream (o.stream), peer (std::move (o.peer)), principal (std::move (o.principal)),
        release (std::move (o.release))
  {
    o.stream = nullptr;
    o.release = nullptr;
  }
  ConnectionHandover &operator= (ConnectionHandover &&) = delete;
  ~ConnectionHandover ()
  {
    if (stream)
      g_object_unref (stream);
    if (release)
      release ();
  }
};

/* What a worker's connections do, called on the worker's thread. */
class WorkerEvents
{
public:
  virtual ~WorkerEvents () = default;
  virtual void connected (unsigned worker, ConnectionId id, const std::string &peer,
                          const std::string &principal)
      = 0;
  /* Decoded on the worker (IngestCore::decode): no lock, no session state. */
  virtual void message (unsigned worker, ConnectionId id, IngestCore::Decoded &&input) = 0;
  virtual void closed (unsigned worker, ConnectionId id) = 0;
  /* At the upgrade: the worker that should serve a connection whose
   * request named @session_id (empty: none); @worker itself to keep it. */
  virtual unsigned worker_for_session (unsigned worker, const std::string &session_id) = 0;
  /* Hands a connection over to worker @to (IngestWorker::post_adopt). */
  virtual void hand_over (unsigned to, ConnectionHandover &&h) = 0;
};

class IngestWorker : private ServerConnection::Owner
{
public:
  /* @shared outlives the worker where needed: connections and requests
   * libsoup finalizes after stop() still give back their address slot. */
  IngestWorker (unsigned index, std::shared_ptr<WorkerShared> shared, WorkerEvents &events);
  ~IngestWorker () override;
  IngestWorker (const IngestWorker &) = delete;
  IngestWorker &operator= (const IngestWorker &) = delete;

  /* On the thread running @context, with it as thread default. */
  bool start (GMainContext *context, GSocket *listener, GTlsCertificate *tls, std::string &error);
  /* Sends what was posted, closes every connection (1001), stops
   * listening. On the worker's thread. */
  void stop ();
  void close_all (unsigned short code, const char *reason);

  /* On the worker's thread; only to an open connection. */
  void send (ConnectionId id, const std::string &text);
  void close (ConnectionId id, unsigned short code, const std::string &reason);
  /* From any thread: done on the worker's thread, in order. */
  void post_send (ConnectionId id, std::string text);
  void post_close (ConnectionId id, unsigned short code, std::string reason);
  /* From any thread: serves a connection another worker upgraded. */
  void post_adopt (ConnectionHandover &&h);

  /* On the worker's thread. */
  GateStats gate_stats () const;
  /* Connections upgraded so far (any thread). */
  uint64_t
  connections () const
  {
    return connections_.load ();
  }
  /* Of them, handed over by another worker. */
  uint64_t
  steered_in () const
  {
    return steered_in_.load ();
  }

private:
  struct Outgoing
  {
    ConnectionId id;
    bool close;
    unsigned short code;
    std::string text; /* or the close reason */
  };
  static void on_early (SoupServer *, SoupServerMessage *msg, const char *, GHashTable *,
                        gpointer data);
  /* libsoup's WebSocket (permessage-deflate offered). */
  static void on_websocket (SoupServer *, SoupServerMessage *msg, const char *,
                            SoupWebsocketConnection *conn, gpointer data);
  /* Ours: the handshake is answered here, the connection taken from
   * libsoup once the 101 is written. */
  static void on_request (SoupServer *, SoupServerMessage *msg, const char *, GHashTable *,
                          gpointer data);
  static void on_upgrade_written (SoupServerMessage *msg, gpointer data);
  static gboolean on_watchdog (gpointer data);
  int token_index (SoupServerMessage *msg) const;
  ServerConnection *open_connection (ConnectionId id) const;
  /* The bookkeeping of a new connection, whoever serves it: the gate's,
   * then (on the worker that serves it) the worker's. */
  void upgraded (SoupServerMessage *msg, std::string &peer, std::string &principal,
                 std::function<void ()> &release);
  void adopt (std::unique_ptr<ServerConnection> conn, const std::string &peer,
              const std::string &principal);
  /* Ours, on this worker, for @stream (a reference taken over). */
  void serve (GIOStream *stream, const std::string &peer, const std::string &principal,
              std::function<void ()> release, bool steered);
  ServerConnection::Owner &
  as_owner ()
  {
    return *this;
  }
  /* ServerConnection::Owner */
  void connection_message (ServerConnection &c, bool binary, const char *data,
                           size_t size) override;
  void connection_closed (ServerConnection &c) override;

  unsigned index_;
  std::shared_ptr<WorkerShared> shared_ref_;
  WorkerShared &shared_;
  WorkerEvents &events_;
  GMainContext *context_ = nullptr;
  SoupServer *server_ = nullptr;
  ConnectionGate gate_;
  GSource *watchdog_ = nullptr;
  /* Looked up for every reply: hashed (an ordered map showed in perf). */
  std::unordered_map<ConnectionId, std::unique_ptr<ServerConnection>> conns_;
  /* Closed connections, destroyed from the loop (not inside their call). */
  std::vector<std::unique_ptr<ServerConnection>> retired_;
  GSource *retire_source_ = nullptr;
  void destroy_retired ();
  Mailbox<Outgoing> outbox_;
  Mailbox<ConnectionHandover> arrivals_;
  std::atomic<uint64_t> connections_{ 0 }, steered_in_{ 0 };
};

} // namespace wssac
