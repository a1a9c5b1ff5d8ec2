/* wssaudiochunk receiver: which of a worker's sockets have data, from one
 * epoll set instead of one poll record each.
 *
 * libsoup 3.2 takes its input source off the main context and attaches a
 * new one around every read of a WebSocket, and GLib keeps a context's
 * poll records in one list sorted by descriptor: each message cost two
 * walks of a list as long as the worker has connections (a third of the
 * receiver's CPU at 2,000 speakers, by perf). Here each socket is added to
 * the worker's epoll set once (edge-triggered), the context polls only the
 * epoll descriptor, and the sources libsoup creates on a socket read a flag
 * (ReadyCell) that an edge sets and a read that would block clears. No
 * walk, no system call per source. A socket served by our own WebSocket
 * code (ws-server-connection.h) names a ReadyListener instead: its edges
 * are handed to it when the set's source dispatches.
 *
 * Everything here runs on the worker's thread. */
#pragma once

#include <glib.h>

#include <memory>
#include <string>
#include <vector>

namespace wssac
{

/* Told, on the worker's thread, that its socket had an edge (readable,
 * writable, hung up): it reads and writes until they would block. */
class ReadyListener
{
public:
  virtual ~ReadyListener () = default;
  virtual void socket_ready () = 0;
};

/* One socket's flags. readable starts true: data that came before the
 * socket was added is read (a read that finds none clears it). */
struct ReadyCell
{
  int fd = -1;
  bool readable = true;
  bool writable = true;
  bool hung_up = false; /* the peer shut its side: read on to the end */
  bool registered = false;
  ReadyListener *listener = nullptr; /* set: edges go to it */
  bool queued = false;               /* in the list to hand to the listener */
};

class SocketReadiness
{
public:
  /* An epoll set and the source that drains it, attached to @context
   * (which must run on the calling thread from now on). nullptr with
   * @error set when epoll is not available. */
  static std::shared_ptr<SocketReadiness> create (GMainContext *context, std::string &error);
  ~SocketReadiness ();
  SocketReadiness (const SocketReadiness &) = delete;
  SocketReadiness &operator= (const SocketReadiness &) = delete;

  /* Watches @fd until remove (); false if epoll refused it (the caller
   * then polls it the usual way). */
  bool add (const std::shared_ptr<ReadyCell> &cell);
  /* Before the descriptor closes: a later socket may get its number. */
  void remove (ReadyCell &cell);
  /* From now on @cell's edges go to @listener (nullptr: back to the flag
   * only). An edge may have come already: the listener is called once soon. */
  void listen (ReadyCell &cell, ReadyListener *listener);

  /* A source, without descriptors, ready while @cell is readable: the
   * child to give g_pollable_source_new_full(). */
  static GSource *source_new (std::shared_ptr<ReadyCell> cell);

private:
  SocketReadiness () = default;
  static gboolean check (GSource *source);
  static gboolean dispatch (GSource *source, GSourceFunc, gpointer);
  void drain ();
  void queue (ReadyCell &cell);

  int epoll_fd_ = -1;
  GSource *source_ = nullptr;
  gpointer tag_ = nullptr;
  /* Cells with a listener that had an edge, and those being handed over
   * now (remove() takes a cell out of both). */
  std::vector<ReadyCell *> ready_, handing_;
};

} // namespace wssac
