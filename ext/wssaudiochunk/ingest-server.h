/* wssaudiochunk receiver transport: a libsoup 3 WebSocket server feeding an
 * IngestCore. It lives on one GMainContext (the caller's thread-default at
 * start()): the source element runs it on a thread of its own, the ingest
 * server program on its main loop. Events come out through a callback on
 * that context. */
#pragma once

#include "ingest-core.h"

#include <functional>
#include <string>

#include <glib.h>

namespace wssac
{

struct IngestServerConfig
{
  std::string address = "127.0.0.1";
  unsigned port = 0; /* 0: any free port; read it back with port() */
  std::string path = "/ws";
  /* Largest message accepted (API Gateway's limit is 128 KB): a bigger one
   * gets an error reply and a 1009 close. libsoup itself drops, without a
   * close frame, anything over four times this, before buffering it. */
  size_t max_message_size = 128 * 1024;
  /* Pings to every speaker; one that answers nothing (no pong, no message)
   * for peer_timeout_s is closed, so a dead speaker does not keep its
   * session claimed while it reconnects. 0: off. */
  unsigned keepalive_interval_s = 10;
  unsigned peer_timeout_s = 30;
  IngestConfig core;
};

class IngestServer
{
public:
  using EventHandler = std::function<void (IngestEvent &&)>;

  IngestServer ();
  ~IngestServer ();
  IngestServer (const IngestServer &) = delete;
  IngestServer &operator= (const IngestServer &) = delete;

  /* Call on the thread that runs @context (or with it as thread default). */
  bool start (GMainContext *context, const IngestServerConfig &config, EventHandler on_event,
              std::string &error);
  /* Closes every connection (1001 going away) and stops listening. */
  void stop ();
  /* Closes every connection with @code, keeps listening (maintenance,
   * load shedding; the fault tests use it). */
  void close_all (unsigned short code, const char *reason = "closing");

  unsigned port () const;
  /* Ends every session: pending audio is delivered, then SessionEnded. */
  void finish_all (const std::string &reason);
  void finish_session (const std::string &session_id, const std::string &reason);

  const IngestCore &core () const;

private:
  struct Impl;
  Impl *impl_;
};

} // namespace wssac
