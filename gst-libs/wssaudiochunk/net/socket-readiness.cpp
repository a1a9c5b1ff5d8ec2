#include "socket-readiness.h"
#include "sources.h"

#include <glib-object.h>

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace wssac
{

namespace
{
/* The epoll set's source: its check (which GLib runs after every poll,
 * before the checks of the sources attached later) marks the sockets that
 * have data; it dispatches only to hand edges to listeners. */
struct DrainSource
{
  GSource base;
  SocketReadiness *owner;
};

/* A socket's source as libsoup sees it, through g_pollable_source_new_full. */
struct CellSource
{
  GSource base;
  std::shared_ptr<ReadyCell> *cell;
};

gboolean
cell_prepare (GSource *source, gint *timeout)
{
  *timeout = -1;
  return (*reinterpret_cast<CellSource *> (source)->cell)->readable;
}

gboolean
cell_check (GSource *source)
{
  return (*reinterpret_cast<CellSource *> (source)->cell)->readable;
}

gboolean
cell_dispatch (GSource *, GSourceFunc callback, gpointer data)
{
  return callback ? callback (data) : G_SOURCE_CONTINUE;
}

void
cell_finalize (GSource *source)
{
  delete reinterpret_cast<CellSource *> (source)->cell;
}

/* g_pollable_source_new_full() gives its child a dummy closure as callback. */
gboolean
cell_closure_callback (gpointer data)
{
  GValue result = G_VALUE_INIT;
  g_value_init (&result, G_TYPE_BOOLEAN);
  g_closure_invoke (static_cast<GClosure *> (data), &result, 0, nullptr, nullptr);
  const gboolean keep = g_value_get_boolean (&result);
  g_value_unset (&result);
  return keep;
}

GSourceFuncs cell_funcs
    = { cell_prepare, cell_check, cell_dispatch, cell_finalize, cell_closure_callback, nullptr };
} // namespace

std::shared_ptr<SocketReadiness>
SocketReadiness::create (GMainContext *context, std::string &error)
{
  std::shared_ptr<SocketReadiness> self (new SocketReadiness ());
  self->epoll_fd_ = epoll_create1 (EPOLL_CLOEXEC);
  if (self->epoll_fd_ < 0)
    {
      error = std::string ("epoll_create1: ") + g_strerror (errno);
      return nullptr;
    }
  static GSourceFuncs drain_funcs = { nullptr, check, dispatch, nullptr, nullptr, nullptr };
  auto *src = reinterpret_cast<DrainSource *> (g_source_new (&drain_funcs, sizeof (DrainSource)));
  src->owner = self.get ();
  self->source_ = &src->base;
  g_source_set_static_name (self->source_, "wssac-socket-readiness");
  self->tag_ = g_source_add_unix_fd (self->source_, self->epoll_fd_, G_IO_IN);
  /* GLib blocks a source that may not recurse while it dispatches and
   * unblocks it after, which re-adds its descriptor to the context and so
   * signals the context's wakeup fd: a write, a read and a spurious loop
   * iteration per dispatch (perf: a quarter of the receiver's writes).
   * Nothing in dispatch() iterates this context, so there is no recursion
   * to guard against. */
  g_source_set_can_recurse (self->source_, TRUE);
  g_source_attach (self->source_, context);
  return self;
}

SocketReadiness::~SocketReadiness ()
{
  destroy_source (&source_);
  if (epoll_fd_ >= 0)
    close (epoll_fd_);
}

gboolean
SocketReadiness::check (GSource *source)
{
  auto *self = reinterpret_cast<DrainSource *> (source)->owner;
  if (g_source_query_unix_fd (source, self->tag_) & G_IO_IN)
    self->drain ();
  return !self->ready_.empty ();
}

/* GLib also dispatches a source whose descriptor polled ready, whatever its
 * check said: then there may be nothing to hand over. */
gboolean
SocketReadiness::dispatch (GSource *source, GSourceFunc, gpointer)
{
  auto *self = reinterpret_cast<DrainSource *> (source)->owner;
  g_source_set_ready_time (source, -1);
  self->handing_.swap (self->ready_);
  for (size_t i = 0; i < self->handing_.size (); i++)
    if (ReadyCell *cell = self->handing_[i]) /* nullptr: removed meanwhile */
      {
        cell->queued = false;
        if (cell->listener)
          cell->listener->socket_ready ();
      }
  self->handing_.clear ();
  return G_SOURCE_CONTINUE;
}

void
SocketReadiness::queue (ReadyCell &cell)
{
  if (cell.listener && !cell.queued)
    {
      cell.queued = true;
      ready_.push_back (&cell);
    }
}

void
SocketReadiness::drain ()
{
  epoll_event events[256];
  int n;
  do
    {
      n = epoll_wait (epoll_fd_, events, G_N_ELEMENTS (events), 0);
      for (int i = 0; i < n; i++)
        {
          auto *cell = static_cast<ReadyCell *> (events[i].data.ptr);
          const uint32_t e = events[i].events;
          /* Hang-ups and errors make it readable and writable, so that
           * the read or write reports them. */
          if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            cell->readable = true;
          if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
            cell->writable = true;
          if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            cell->hung_up = true;
          queue (*cell);
        }
    }
  while (n == static_cast<int> (G_N_ELEMENTS (events)));
}

bool
SocketReadiness::add (const std::shared_ptr<ReadyCell> &cell)
{
  epoll_event ev;
  memset (&ev, 0, sizeof ev);
  /* Edge-triggered: a socket nobody reads now (a closing connection)
   * cannot keep the loop awake. EPOLLOUT costs no extra wake-up (edges
   * report every condition at once) and tells a listener with unsent
   * bytes when to go on. */
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = cell.get ();
  if (epoll_ctl (epoll_fd_, EPOLL_CTL_ADD, cell->fd, &ev) != 0)
    return false;
  cell->registered = true;
  return true;
}

void
SocketReadiness::remove (ReadyCell &cell)
{
  if (!cell.registered)
    return;
  cell.registered = false;
  cell.listener = nullptr;
  epoll_ctl (epoll_fd_, EPOLL_CTL_DEL, cell.fd, nullptr);
  if (cell.queued)
    {
      cell.queued = false;
      for (auto *list : { &ready_, &handing_ })
        std::replace (list->begin (), list->end (), &cell, static_cast<ReadyCell *> (nullptr));
      ready_.erase (std::remove (ready_.begin (), ready_.end (), nullptr), ready_.end ());
    }
}

void
SocketReadiness::listen (ReadyCell &cell, ReadyListener *listener)
{
  cell.listener = listener;
  if (listener && cell.registered)
    {
      cell.readable = cell.writable = true; /* edges before now went to the flag */
      queue (cell);
      g_source_set_ready_time (source_, 0); /* dispatch without waiting for an edge */
    }
}

GSource *
SocketReadiness::source_new (std::shared_ptr<ReadyCell> cell)
{
  auto *src = reinterpret_cast<CellSource *> (g_source_new (&cell_funcs, sizeof (CellSource)));
  src->cell = new std::shared_ptr<ReadyCell> (std::move (cell));
  g_source_set_static_name (&src->base, "wssac-socket-ready");
  return &src->base;
}

} // namespace wssac
