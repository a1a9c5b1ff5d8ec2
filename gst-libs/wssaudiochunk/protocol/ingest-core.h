/* wssaudiochunk receiver logic, shared by wssaudiochunksrc and the ingest
 * server: validates every message, decides who speaks for a session, and
 * restores chunk order. No I/O: the caller feeds it what the sockets said
 * and carries out what it answers (replies, closes, media events), so it is
 * unit-tested without a network.
 *
 * A session starts with its first valid audioChunk. The speaker rule: the
 * first connection that sends a valid message for a session owns it while it
 * stays connected; another connection sending for
 * that session is refused ("session-claimed"), unless it sends the owner's
 * own run (its streamId): that is the sender moving to a new connection
 * before a gateway's cut (make-before-break), so the new connection takes
 * the session over and the old one may still deliver what it had in
 * flight. When the owner disconnects,
 * the next connection to speak for the session takes it over and continues
 * the same stream (a reconnecting speaker): indices already received are
 * dropped as duplicates.
 *
 * Streams: a sender that sends "streamId" names its run. A new streamId for
 * a session that has not ended is a new run of the same session (the
 * speaker's program restarted with the same session id): what the old run
 * left pending is delivered, its chunk indices start again, and its audio is
 * appended after the old run's (it begins with its own stream header).
 * Chunks of an earlier run arriving after that are dropped as late.
 */
#pragma once

#include "message-codec.h"
#include "reassembler.h"
#include "session-start-limiter.h"

#include <cstdint>
#include <deque>
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace wssac
{

using ConnectionId = uint64_t;

struct IngestConfig
{
  /* Accept only this session; empty: any. */
  std::string only_session;
  /* Lock on to the first session that speaks and refuse others (the
   * single-stream source element). */
  bool single_session = false;
  size_t max_sessions = 10000;
  /* Set: live sessions are counted here against max_sessions, shared by
   * a receiver's shards (each holds only the sessions that hash to it).
   * Two shards starting a session at the limit at once may both pass it:
   * it can be exceeded by one per other shard. */
  std::shared_ptr<std::atomic<size_t>> live_sessions;
  /* Largest message accepted: a larger one is answered "message-too-big"
   * and the connection closed with 1009, as API Gateway does. */
  size_t max_message_size = 128 * 1024;
  /* Bad messages a connection may send before it is closed (1008). */
  uint32_t max_bad_messages = 20;
  /* Messages per second a connection may send on average, with bursts of
   * up to rate_burst (a sender flushing a 30 s backlog after an outage sends
   * ~120 at once); over it: closed with 1008. 0: no limit. */
  double max_messages_per_second = 50;
  double rate_burst = 400;
  /* Acknowledge delivered chunks every this many chunks ({"action":"ack"},
   * cumulative), so a sender knows what it need not replay; 0: never. */
  uint32_t ack_every = 4;
  /* ...and at the latest this long after a chunk was delivered (0: only
   * every ack_every chunks): a sender's last chunks before a pause or its
   * end, or a sender with fewer than ack_every chunks in flight, are acked
   * too. What lets a sender rely on acks alone (docs/protocol.md). */
  int64_t ack_delay_ms = 1000;
  /* New sessions a client address may start per second on average, with
   * bursts of new_session_burst; beyond: "too-many-new-sessions". Bounds
   * what one address can make the receiver hold (files, memory). 0: no
   * limit. */
  double max_new_sessions_per_second = 10;
  double new_session_burst = 50;
  /* Set: the buckets are this limiter's (shared by a receiver's shards),
   * and the two figures above only name its rate in refusals. */
  std::shared_ptr<SessionStartLimiter> start_limiter;
  /* A session belongs to the credential (token) of the connection that
   * started it: a connection with another one is refused ("session-bound"),
   * so a client that learnt a session id cannot take the stream over. */
  bool bind_session_to_principal = false;
  /* Accept the binary framing (an audioChunk in one binary message). */
  bool accept_binary = true;
  ReassemblerConfig reassembly;
  DecodeLimits limits;
};

enum class IngestEventKind
{
  SessionStarted, /* first valid message of a session; format set */
  Audio,          /* in-order bytes; discont after a gap */
  Control,        /* pause/resume/mute/unmute: action set */
  SessionEnded,   /* endSession (reason set) or finish_session() */
  Refused,        /* a message for another session than the receiver's
                     (wrong-session) or from another credential
                     (session-bound): reason = the code, for the operator */
};

struct SessionStats
{
  std::string session_id;
  std::string format;
  uint64_t chunks = 0;       /* accepted audioChunk messages */
  uint64_t bytes = 0;        /* audio bytes delivered */
  uint64_t delivered = 0;    /* chunks delivered in order */
  uint64_t duplicates = 0;
  uint64_t late = 0;
  uint64_t gaps = 0;
  uint64_t missing = 0;      /* indices given up */
  uint64_t rejected = 0;     /* bad messages attributed to this session */
  uint64_t controls = 0;
  uint64_t takeovers = 0;    /* reconnects of the speaker */
  uint64_t stale_stream = 0; /* chunks of an earlier run after a newer one started */
  uint64_t refused_other_principal = 0; /* "session-bound": another token tried to speak for it */
  /* streamIds in the order their runs started; "" for a sender without one */
  std::vector<std::string> streams;
  bool ended = false;
  bool speaker_connected = false; /* a connection speaks for it now */
  int64_t first_ms = -1, last_ms = -1;
};

struct IngestEvent
{
  IngestEventKind kind;
  std::string session_id;
  std::string format;
  std::vector<uint8_t> bytes;
  /* Audio: the first header_size bytes of @bytes are a stream header the
   * sender re-sent (streamHeader), not part of chunk @chunk_index. */
  size_t header_size = 0;
  /* Audio: the run this chunk belongs to ("" if the sender names none), and
   * whether it is the first delivery of a run after an earlier one (a
   * receiver starts a new stream there). */
  std::string stream_id;
  bool new_stream = false;
  uint64_t chunk_index = 0;
  bool discont = false;
  uint64_t skipped_before = 0;
  Action action = Action::AudioChunk;
  std::string reason;
  int64_t timestamp_ms = -1; /* the sender's */
  SessionStats stats;        /* SessionEnded: the final figures */
};

struct IngestReply
{
  ConnectionId connection;
  std::string text;
  /* An ack: the session it acknowledges (a receiver that could not store
   * the session's audio drops it). Empty for other replies. */
  std::string ack_session;
};

struct IngestClose
{
  ConnectionId connection;
  unsigned short code;
  std::string reason;
};

struct IngestOutput
{
  std::vector<IngestEvent> events;
  std::vector<IngestReply> replies;
  std::vector<IngestClose> closes;
  void clear ()
  {
    events.clear ();
    replies.clear ();
    closes.clear ();
  }
};

struct IngestStats
{
  uint64_t connections = 0;
  uint64_t open_connections = 0;
  uint64_t messages = 0;
  uint64_t rejected = 0;
  uint64_t closed_for_abuse = 0;
  uint64_t closed_for_rate = 0;
  std::map<std::string, uint64_t> rejected_by_code;
};

class IngestCore
{
public:
  explicit IngestCore (IngestConfig config = IngestConfig ());
  ~IngestCore ();

  const IngestConfig &config () const { return config_; }

  /* @peer: "address:port"; @principal: who the connection authenticated as
   * (an opaque name, never the secret), empty without authentication. */
  void on_connect (ConnectionId id, const std::string &peer, const std::string &principal = std::string ());
  void on_text (ConnectionId id, const char *text, size_t length, int64_t now_ms, IngestOutput &out);
  /* The binary framing (message-codec.h), unless accept_binary is off. */
  void on_binary (ConnectionId id, const uint8_t *data, size_t length, int64_t now_ms, IngestOutput &out);
  /* A receiver with several workers decodes on the thread that read the
   * message, with no lock and no state:
   * parsing, validating the fields and base64 decoding. on_decoded() then
   * does what on_text()/on_binary() do after that, with identical results
   * (on_text (x) == on_decoded (decode (x))). */
  struct Decoded
  {
    bool binary = false;
    size_t length = 0;
    bool framed = false;  /* binary: in the WSAC framing */
    bool decoded = false; /* false: not decoded (too big, or refused unread) */
    DecodeResult result;
  };
  static Decoded decode (const IngestConfig &config, bool binary, const char *data, size_t length);
  void on_decoded (ConnectionId id, Decoded &&input, int64_t now_ms, IngestOutput &out);
  /* The peer went away: its session stays, waiting for a takeover. */
  void on_disconnect (ConnectionId id, int64_t now_ms, IngestOutput &out);

  /* A connection that has named no session yet leaves this core without a
   * trace in its counts (a receiver with several workers moves it to the
   * core that owns the session it names). false, and nothing done, once it
   * named one or this core closed it. */
  bool hand_off (ConnectionId id);

  /* Gives up gaps that waited too long; sends the acks that are due. */
  void tick (int64_t now_ms, IngestOutput &out);
  /* -1 when nothing waits */
  int64_t next_deadline_ms () const;

  /* Ends a session from the outside (shutdown, idle timeout): delivers
   * what is pending, gaps skipped, then SessionEnded. */
  void finish_session (const std::string &session_id, const std::string &reason, IngestOutput &out);
  void finish_all (const std::string &reason, IngestOutput &out);

  std::vector<std::string> session_ids () const;
  /* single_session: the session the receiver is locked on to (empty once it
   * ended), and the last one it was locked on to. */
  const std::string &locked_session () const { return locked_session_; }
  const std::string &last_session () const { return last_session_; }
  bool session_stats (const std::string &session_id, SessionStats &out) const;
  IngestStats stats () const;

  /* The JSON of an error reply (docs/protocol.md). */
  static std::string error_reply (const char *code, const std::string &message, int64_t chunk_index = -1);

private:
  struct Session;
  struct Connection;
  void cache_session (Connection &c, Session *s);
  void uncache_session (Connection &c);
  void reject (Connection &c, Session *s, const char *code, const std::string &message, int64_t index,
               IngestOutput &out);
  /* @now_ms < 0: an ack follows at once, none is scheduled. */
  void deliver (Session &s, std::vector<Delivered> &ready, int64_t now_ms, IngestOutput &out);
  void end_session (Session &s, const std::string &reason, IngestOutput &out);
  void update_waiting (Session &s);
  void ack (Session &s, IngestOutput &out);
  void start_stream (Session &s, const Message &m, int64_t now_ms, IngestOutput &out);
  bool too_big (Connection &c, size_t length, IngestOutput &out);
  void handle (Connection &c, DecodeResult &&r, int64_t now_ms, IngestOutput &out);
  bool over_rate (Connection &c, int64_t now_ms, IngestOutput &out);

  IngestConfig config_;
  /* Looked up for every message: hashed, not ordered (perf showed the
   * ordered maps' string compares on the receiver's main thread). */
  std::unordered_map<std::string, std::unique_ptr<Session>> sessions_;
  /* By value: one memory access less per message than through a pointer;
   * a node's address is stable (Session::cached_by holds it). */
  std::unordered_map<ConnectionId, Connection> connections_;
  std::set<Session *> waiting_; /* sessions with a gap being waited for */
  /* When sessions' unacked deliveries are due their ack (ack_delay_ms), in
   * time order (one delay for all). An entry is stale when its session was
   * acked meanwhile. */
  struct AckDue
  {
    int64_t due_ms;
    Session *session;
  };
  std::deque<AckDue> ack_due_;
  void schedule_ack (Session &s, int64_t now_ms);
  static constexpr size_t kMaxEndedSessions = 4096;
  std::unordered_map<std::string, SessionStats> ended_;
  std::deque<std::string> ended_order_;
  std::string locked_session_;
  std::string last_session_;
  IngestStats stats_;
  std::shared_ptr<SessionStartLimiter> start_limiter_; /* config_'s, or its own */
  std::shared_ptr<std::atomic<size_t>> live_sessions_;  /* config_'s, or its own */
};

} // namespace wssac
