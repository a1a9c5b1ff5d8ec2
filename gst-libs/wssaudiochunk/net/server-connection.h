/* wssaudiochunk receiver: one client's upgraded WebSocket as a worker
 * (ingest-server-worker.h) sees it, whichever code serves its frames: our
 * own (ws-server-connection.h, the default: libsoup 3.2 reads 1 KB per
 * system call and re-creates a source per read) or libsoup's
 * (soup-server-connection.h, when permessage-deflate is offered, which
 * ours does not implement).
 *
 * Everything runs on the worker's thread. The owner hears of a connection
 * only from the connection's own I/O callbacks, never from inside a call
 * it made (send_text, close, drop, tick): it may thus retire a connection
 * it is iterating over without surprise. */
#pragma once

#include "non-copyable.h"

#include "ingest-core.h"

#include <cstdint>
#include <functional>
#include <string>

namespace wssac
{

class ServerConnection : private NonCopyable
{
public:
  class Owner
  {
  public:
    virtual ~Owner () = default;
    /* A whole message (fragments joined); @data is valid during the call. */
    virtual void connection_message (ServerConnection &c, bool binary, const char *data,
                                     size_t size)
        = 0;
    /* Once, when the connection is gone (closed either way, dropped or
     * broken). The owner then destroys it, but not from inside this call. */
    virtual void connection_closed (ServerConnection &c) = 0;
  };

  ServerConnection (Owner &owner, ConnectionId id, int64_t now_ms)
      : id (id), connected_ms (now_ms), last_rx_ms (now_ms), owner_ (owner)
  {
  }
  virtual ~ServerConnection ()
  {
    if (release)
      release ();
  }

  /* Open: messages go out; no close frame sent or received yet. */
  virtual bool is_open () const = 0;
  virtual void send_text (const std::string &text) = 0;
  /* Starts the close handshake: the socket closes when the client answers
   * (or after a few seconds). */
  virtual void close (unsigned short code, const std::string &reason) = 0;
  /* Closes the socket without a handshake: the client is gone or silent. */
  virtual void drop () = 0;
  /* The server stops: a close frame goes out if it can, the socket closes,
   * and the owner hears nothing more. */
  virtual void stop (unsigned short code, const char *reason) = 0;
  /* Every second: keepalive pings and the close handshake's deadlines. */
  virtual void tick (int64_t now_ms) = 0;
  /* The close code sent or received, for the logs (0: none yet). */
  virtual unsigned short close_code () const = 0;

  const ConnectionId id;
  const int64_t connected_ms;
  int64_t last_rx_ms; /* last message or pong from the client */
  bool spoke = false; /* sent a message */
  /* Runs when the connection is destroyed: gives back its per-address slot. */
  std::function<void ()> release;

protected:
  Owner &owner_;
};

} // namespace wssac
