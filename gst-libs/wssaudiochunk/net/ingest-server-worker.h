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
#include "server-connection.h"

#include <gio/gio.h>
#include <libsoup/soup.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace wssac
{

/* Items posted from any thread to the thread of a GMainContext, handed
 * over in batches: one wake-up for everything posted while the receiving
 * thread was busy. */
template <typename T> class Mailbox
{
public:
  using Drain = std::function<void (std::vector<T> &)>;
  ~Mailbox ()
  {
    detach ();
  }

  void
  attach (GMainContext *context, Drain drain)
  {
    static GSourceFuncs funcs = { nullptr, nullptr, dispatch, nullptr, nullptr, nullptr };
    drain_ = std::move (drain);
    auto *src = reinterpret_cast<Source *> (g_source_new (&funcs, sizeof (Source)));
    src->box = this;
    std::lock_guard<std::mutex> g (lock_);
    source_ = &src->base;
    g_source_attach (source_, context);
  }
  void
  detach ()
  {
    GSource *src = nullptr;
    {
      std::lock_guard<std::mutex> g (lock_);
      std::swap (src, source_);
      items_.clear ();
    }
    if (src)
      {
        g_source_destroy (src);
        g_source_unref (src);
      }
  }
  /* On the receiving thread: hands over what is queued now. */
  void
  flush ()
  {
    std::vector<T> batch;
    {
      std::lock_guard<std::mutex> g (lock_);
      batch.swap (items_);
    }
    if (!batch.empty ())
      drain_ (batch);
  }
  /* Dropped once detached. */
  void
  post (T &&item)
  {
    std::lock_guard<std::mutex> g (lock_);
    if (!source_)
      return;
    items_.push_back (std::move (item));
    if (items_.size () == 1)
      g_source_set_ready_time (source_, 0); /* thread-safe: wakes the context */
  }

private:
  struct Source
  {
    GSource base;
    Mailbox *box;
  };
  static gboolean
  dispatch (GSource *source, GSourceFunc, gpointer)
  {
    Mailbox *self = reinterpret_cast<Source *> (source)->box;
    /* Before taking the items: a post after this wakes us again. */
    g_source_set_ready_time (source, -1);
    std::vector<T> batch;
    {
      std::lock_guard<std::mutex> g (self->lock_);
      batch.swap (self->items_);
    }
    if (!batch.empty ())
      self->drain_ (batch);
    return G_SOURCE_CONTINUE;
  }

  std::mutex lock_;
  std::vector<T> items_;
  GSource *source_ = nullptr;
  Drain drain_;
};

/* Process-wide state of a server's workers. */
struct WorkerShared
{
  IngestServerConfig config; /* fixed once the workers start */
  IngestConfig core_config;  /* what IngestCore::decode needs */
  std::atomic<ConnectionId> next_id{ 1 };
  std::shared_ptr<AddressCounts> pending = std::make_shared<AddressCounts> ();
  std::atomic<uint64_t> auth_refused{ 0 }, origin_refused{ 0 }, address_refused{ 0 };
  std::atomic<uint64_t> closed_silent{ 0 }, closed_no_message{ 0 };

  /* Open connections per client address: reserved when a request's
   * headers pass, so that two workers cannot both admit the last one. */
  AddressCounts open;
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

  /* On the worker's thread. */
  GateStats gate_stats () const;
  /* Connections upgraded so far (any thread). */
  uint64_t
  connections () const
  {
    return connections_.load ();
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
  /* The bookkeeping of a new connection, whoever serves it. */
  void adopt (SoupServerMessage *msg, std::unique_ptr<ServerConnection> conn);
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
  std::map<ConnectionId, std::unique_ptr<ServerConnection>> conns_;
  /* Closed connections, destroyed from the loop (not inside their call). */
  std::vector<std::unique_ptr<ServerConnection>> retired_;
  GSource *retire_source_ = nullptr;
  void destroy_retired ();
  Mailbox<Outgoing> outbox_;
  std::atomic<uint64_t> connections_{ 0 };
};

} // namespace wssac
