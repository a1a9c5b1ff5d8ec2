/* wssaudiochunk receiver transport: a libsoup 3 WebSocket server feeding
 * IngestCores (the sessions). Events come out through a callback.
 *
 * With one worker (the default) everything runs on the caller's context
 * at start(): the source element runs it on a thread of its own, the
 * ingest server program on its main loop, and the event handler is called
 * there.
 *
 * With N workers each worker is a thread of its own (its own GMainContext,
 * SoupServer and SO_REUSEPORT listening socket: the kernel spreads new
 * connections over them) and owns the sessions whose id hashes to it (an
 * IngestCore of its own, ingest-shard.h). A connection whose upgrade
 * request names its session (?sessionId=<id> or <path>/<id>, what the sink
 * sends by default) is handed to the owning worker right after the
 * upgrade, so that its messages are read, decoded, recorded and acked on
 * one thread; any other connection's messages go to the owner of the first
 * session they name through a mailbox, its replies back the same way. The
 * event handler is then called on the workers' threads, concurrently for
 * sessions of different workers: every event of one session on one thread,
 * in order. */
#pragma once

#include "connection-gate.h"
#include "ingest-core.h"

#include <functional>
#include <vector>
#include <string>

#include <glib.h>

namespace wssac
{

struct IngestServerConfig
{
  std::string address = "127.0.0.1";
  unsigned port = 0; /* 0: any free port; read it back with port() */
  std::string path = "/ws";
  /* Largest message accepted, fragments added up (API Gateway's limit is
   * 128 KB): a bigger one is refused from its frame header, before it is
   * buffered, with a 1009 close. (With permessage_deflate, libsoup's
   * connections: an error reply and 1009 up to four times this, beyond it
   * a drop without a close frame.) */
  size_t max_message_size = 128 * 1024;
  /* Pings to every speaker; one that answers nothing (no pong, no message)
   * for peer_timeout_s is closed, so a dead speaker does not keep its
   * session claimed while it reconnects. 0: off. */
  unsigned keepalive_interval_s = 10;
  unsigned peer_timeout_s = 30;
  /* A connection that has sent no message this long after the upgrade is
   * closed (1008): it holds a socket and speaks for nobody. 0: off. */
  unsigned first_message_timeout_s = 30;

  /* wss://: serve TLS with this certificate and key (PEM files). */
  std::string tls_cert_file;
  std::string tls_key_file;
  /* When not empty, the upgrade needs one of these tokens, as
   * "Authorization: Bearer <t>" or "?token=<t>": else HTTP 401, before any
   * WebSocket or session exists. Compared in constant time. */
  std::vector<std::string> auth_tokens;
  /* With auth_tokens: a session belongs to the token that started it;
   * another token's connection is refused ("session-bound"), so a client
   * that learnt a session id cannot squat it or take it over. */
  bool bind_session_to_token = true;
  /* When not empty, a browser's Origin must be one of these (else HTTP
   * 403). Requests without an Origin (non-browser clients) pass. */
  std::vector<std::string> allowed_origins;
  /* Open connections per client IP address; more get HTTP 429. 0: no limit. */
  unsigned max_connections_per_address = 16;
  /* Before the upgrade (connection-gate.h): the whole request must arrive
   * within header_timeout_ms; at most max_pending_* connections wait for
   * their upgrade (per client address, in total); an accept that lands in
   * the last fd_reserve descriptors is answered 503. */
  unsigned header_timeout_ms = 10000;
  unsigned max_pending_total = 256;
  unsigned max_pending_per_address = 64;
  unsigned fd_reserve = 64;
  /* Offer permessage-deflate. Off: compression costs CPU per message, the
   * audio does not compress, and libsoup bounds frames before inflating
   * them, not the inflated message. */
  bool permessage_deflate = false;
  /* Pings a client may send per second (bursts of 20); more: close 1008.
   * 0: no limit. */
  double max_pings_per_second = 5;
  /* Worker threads serving connections and sessions (see above); 1: all
   * on the caller's context, no thread. core.max_sessions and the new
   * session rate are shared out evenly among the workers. */
  unsigned workers = 1;
  /* Each worker's loop waits up to this long before it polls, so that one
   * wake-up serves the messages of many connections (batched-poll.h): the
   * CPU per message falls, a message waits at most this long. 0: poll at
   * once. Process-wide: the last server started sets it. */
  unsigned batch_window_us = 0;
  IngestConfig core;
};

/* What the server refused or closed on its own, beside IngestCore's counts. */
struct IngestServerStats
{
  uint64_t auth_refused = 0;     /* 401 */
  uint64_t origin_refused = 0;   /* 403 */
  uint64_t address_refused = 0;  /* 429: too many connections from one address */
  uint64_t closed_silent = 0;    /* no pong nor message for peer_timeout_s */
  uint64_t closed_no_message = 0; /* no message within first_message_timeout_s */
  GateStats gate; /* summed over the workers */
  /* Connections upgraded so far, per worker (those handed over included). */
  std::vector<uint64_t> worker_connections;
  /* Of them, handed over by another worker at the upgrade. */
  std::vector<uint64_t> worker_steered_in;
};

class IngestServer
{
public:
  using EventHandler = std::function<void (IngestEvent &&)>;
  /* Called on a session's worker before an ack for it leaves: true when
   * the audio the ack stands for is stored (the ingest program writes its
   * gathered journal records here). false withholds that ack and every
   * later one of the session, as withhold_acks() does. */
  using AckGate = std::function<bool (const std::string &session_id)>;

  IngestServer ();
  ~IngestServer ();
  IngestServer (const IngestServer &) = delete;
  IngestServer &operator= (const IngestServer &) = delete;

  /* Before start(). Without a gate, acks leave once the event handler
   * returned for the audio they stand for. */
  void set_ack_gate (AckGate gate);
  /* Call on the thread that runs @context (or with it as thread default). */
  bool start (GMainContext *context, const IngestServerConfig &config, EventHandler on_event,
              std::string &error);
  /* Closes every connection (1001 going away) and stops listening. */
  void stop ();
  /* Closes every connection with @code, keeps listening (maintenance,
   * load shedding; the fault tests use it). */
  void close_all (unsigned short code, const char *reason = "closing");

  unsigned port () const;
  unsigned workers () const;
  /* Ends every session: pending audio is delivered, then SessionEnded.
   * From the thread that called start(), not from the event handler. */
  void finish_all (const std::string &reason);
  void finish_session (const std::string &session_id, const std::string &reason);

  /* From the event handler: the audio just delivered for @session_id could
   * not be stored, so no ack is sent for the session from now on (acks are
   * cumulative): the sender keeps everything for a replay. */
  void withhold_acks (const std::string &session_id);

  /* The worker that owns @session_id's state (0 with one worker): the
   * thread its events come from. */
  unsigned worker_of_session (const std::string &session_id) const;
  /* From any thread. */
  bool session_stats (const std::string &session_id, SessionStats &out) const;
  IngestStats stats () const; /* summed over the workers */
  /* IngestCore::last_session () (single_session, which needs one worker). */
  std::string last_session () const;
  IngestServerStats server_stats () const;

private:
  struct Impl;
  Impl *impl_;
};

} // namespace wssac
