/* wssaudiochunk receiver: the sessions of one worker of an IngestServer
 * (internal to ingest-server.cpp).
 *
 * Each worker owns the sessions whose id hashes to it: an IngestCore of
 * its own, run on the worker's thread, so that a message read by the
 * worker that owns its session is decoded, reordered, recorded and acked
 * there, without crossing threads. A connection that names a session
 * another worker owns has its messages posted to that worker's inbox (in
 * order) and gets its replies back through its own worker's outbox.
 *
 * The core is only changed on the shard's thread. Other threads may read
 * its figures (session_stats(), stats()) under the shard's lock, which the
 * shard holds around each call into the core, never while the event
 * handler runs. */
#pragma once

#include "ingest-core.h"
#include "mailbox.h"

#include <glib.h>

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace wssac
{

/* Where a shard's replies and closes go: the worker holding the socket. */
class ShardLinks
{
public:
  virtual ~ShardLinks () = default;
  /* On shard @from's thread, for a connection on worker @worker. */
  virtual void send (unsigned from, unsigned worker, ConnectionId id, std::string &&text) = 0;
  virtual void close (unsigned from, unsigned worker, ConnectionId id, unsigned short code,
                      std::string &&reason)
      = 0;
};

class IngestShard
{
public:
  using EventHandler = std::function<void (IngestEvent &&)>;
  using AckGate = std::function<bool (const std::string &session_id)>;

  /* What another worker posts: the events of a connection it holds. */
  struct Item
  {
    enum Kind
    {
      Connected,
      Message,
      Closed
    } kind;
    unsigned worker; /* the one holding the socket */
    ConnectionId id;
    std::string peer, principal;
    IngestCore::Decoded input;
    int64_t ms;
  };

  /* @on_event and @ack_gate (IngestServer::AckGate; may be empty) outlive
   * the shard. */
  IngestShard (unsigned index, const IngestConfig &config, const EventHandler &on_event,
               const AckGate &ack_gate, ShardLinks &links);
  ~IngestShard ();
  IngestShard (const IngestShard &) = delete;
  IngestShard &operator= (const IngestShard &) = delete;

  /* On the thread of @context, which runs the shard from now on. */
  void attach (GMainContext *context);
  /* Drops what is still posted; no more events after it. */
  void detach ();

  /* On the shard's thread. */
  void connected (unsigned worker, ConnectionId id, const std::string &peer,
                  const std::string &principal);
  void message (ConnectionId id, IngestCore::Decoded &&input, int64_t ms);
  void closed (ConnectionId id, int64_t ms);
  /* A connection that named no session yet leaves for another shard
   * (IngestCore::hand_off: false when it may not). */
  bool hand_off (ConnectionId id);
  /* What other workers posted, now (shutdown). */
  void flush_inbox ();
  void finish_all (const std::string &reason);
  void finish_session (const std::string &session_id, const std::string &reason);
  void withhold_acks (const std::string &session_id);

  /* From any thread. */
  void post (Item &&item);
  bool session_stats (const std::string &session_id, SessionStats &out) const;
  IngestStats stats () const;
  std::string last_session () const;

private:
  void drain (std::vector<Item> &batch);
  void apply (IngestOutput &out);
  void arm_deadline ();
  void deadline_passed ();

  const unsigned index_;
  mutable std::mutex lock_; /* around the core, for readers on other threads */
  IngestCore core_;
  const EventHandler &on_event_;
  const AckGate &ack_gate_;
  ShardLinks &links_;
  GMainContext *context_ = nullptr;
  GSource *deadline_ = nullptr;
  int64_t armed_ms_ = 0; /* when deadline_ fires */
  /* The worker holding each open connection's socket. */
  std::unordered_map<ConnectionId, unsigned> worker_of_;
  /* Sessions whose audio could not be stored: acks are cumulative, so none
   * may be sent for them again until they end. */
  std::unordered_set<std::string> withheld_;
  Mailbox<Item> inbox_;
};

} // namespace wssac
