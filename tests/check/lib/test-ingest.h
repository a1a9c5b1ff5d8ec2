/* Test helper: our IngestServer on a thread of its own, recording every
 * delivered chunk across restarts (a restart loses the server's state, as a
 * crashed and restarted process would). */
#pragma once

#include "context-thread.h"
#include "ingest-server.h"

#include <glib.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <memory>
#include <vector>

class TestIngest
{
public:
  explicit TestIngest (unsigned ack_every = 4, unsigned peer_timeout_s = 30)
      : ack_every_ (ack_every), peer_timeout_s_ (peer_timeout_s)
  {
  }
  ~TestIngest () { stop (); }

  /* @port 0 picks one the first time; restarts reuse it. */
  void start (unsigned port = 0);
  void stop ();
  void restart () { stop (), start (port_); }
  /* The server reads nothing for @ms (its thread is busy), then stops
   * without reading what came meanwhile, as a hung process that is
   * restarted: its TCP took those bytes, it never saw them. */
  void hang_then_stop (int64_t ms);
  /* Accept only this session (the next start () on). */
  void set_only_session (const std::string &id) { only_session_ = id; }
  unsigned port () const { return port_; }
  std::string url () const { return "ws://127.0.0.1:" + std::to_string (port_) + "/ws"; }
  /* Closes every connection with @code (1001 going away, 1011 server error). */
  void close_all (unsigned short code);

  /* Audio delivered, by chunkIndex (a chunk delivered by two incarnations
   * counts once here, and in deliveries() twice). */
  std::map<uint64_t, std::vector<uint8_t>> chunks () const;
  size_t deliveries () const;
  size_t session_ends () const;
  unsigned incarnations () const { return incarnations_; }
  bool wait_for_end (int64_t timeout_ms) const;

private:

  unsigned ack_every_;
  unsigned peer_timeout_s_;
  unsigned port_ = 0;
  std::string only_session_;
  unsigned incarnations_ = 0;
  std::unique_ptr<wssac::ContextThread> thread_;
  std::unique_ptr<wssac::IngestServer> server_;

  mutable std::mutex lock_;
  mutable std::condition_variable cond_;
  std::map<uint64_t, std::vector<uint8_t>> chunks_;
  size_t deliveries_ = 0;
  size_t ends_ = 0;
};
