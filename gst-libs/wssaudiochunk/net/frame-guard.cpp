#include "frame-guard.h"
#include "debug-category.h"

#include <gst/gst.h>

#include <algorithm>
#include <cstring>

GST_DEBUG_CATEGORY_STATIC (wss_guard_debug);
#define GST_CAT_DEFAULT wss_guard_debug

namespace
{
struct GuardState
{
  explicit GuardState (const wssac::FrameGuardConfig &config) : watch (config) {}
  wssac::FrameWatch watch;
  std::shared_ptr<wssac::FrameGuardStats> stats;
  /* Set when the worker's epoll set watches the socket (plain TCP). */
  std::shared_ptr<wssac::SocketReadiness> readiness;
  std::shared_ptr<wssac::ReadyCell> cell;

  /* Readiness comes from the epoll set, not from the socket's own source. */
  bool
  watched () const
  {
    return cell && cell->registered;
  }
  void
  unwatch ()
  {
    if (readiness && cell)
      readiness->remove (*cell);
  }
};
} // namespace

/* ---- the GInputStream ---- */

G_BEGIN_DECLS
#define WSSAC_TYPE_GUARD_INPUT (wssac_guard_input_get_type ())
G_DECLARE_FINAL_TYPE (WssacGuardInput, wssac_guard_input, WSSAC, GUARD_INPUT, GInputStream)
G_END_DECLS

struct _WssacGuardInput
{
  GInputStream parent;
  GIOStream *base;       /* owned; closed with this stream */
  GInputStream *base_in; /* base's input, pollable */
  GuardState *state;
};

static void wssac_guard_input_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_TYPE_WITH_CODE (WssacGuardInput, wssac_guard_input, G_TYPE_INPUT_STREAM,
                         G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                wssac_guard_input_pollable_init))

static gssize
checked (WssacGuardInput *self, gssize n, void *buffer, GError **error)
{
  if (n <= 0)
    return n;
  GuardState &g = *self->state;
  const unsigned short violation = g.watch.feed (static_cast<const uint8_t *> (buffer),
                                                 static_cast<size_t> (n), g_get_monotonic_time ());
  if (!violation)
    return n;
  if (g.stats)
    (violation == 1009 ? g.stats->closed_too_big : g.stats->closed_ping_flood)++;
  GST_INFO ("closing a connection: %s",
            violation == 1009 ? "message over the size limit" : "ping flood");
  /* A close frame straight to the peer (the server sends it unmasked), so
   * the client learns why; then the read fails and libsoup drops it. */
  const uint8_t close_frame[] = { 0x88, 0x02, static_cast<uint8_t> (violation >> 8),
                                  static_cast<uint8_t> (violation & 0xff) };
  GOutputStream *out = g_io_stream_get_output_stream (self->base);
  if (G_IS_POLLABLE_OUTPUT_STREAM (out))
    g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (out), close_frame,
                                                sizeof close_frame, nullptr, nullptr);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
               violation == 1009 ? "WebSocket message over the size limit" : "too many pings");
  return -1;
}

static gssize
guard_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
            GError **error)
{
  auto *self = WSSAC_GUARD_INPUT (stream);
  if (self->state->watch.violation ())
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "closed by the frame guard");
      return -1;
    }
  return checked (self, g_input_stream_read (self->base_in, buffer, count, cancellable, error),
                  buffer, error);
}

static gboolean
guard_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  auto *self = WSSAC_GUARD_INPUT (stream);
  self->state->unwatch (); /* while the descriptor is still ours */
  return g_io_stream_close (self->base, cancellable, error);
}

static gboolean
guard_can_poll (GPollableInputStream *)
{
  return TRUE;
}

static gboolean
guard_is_readable (GPollableInputStream *stream)
{
  auto *self = WSSAC_GUARD_INPUT (stream);
  if (self->state->watched ())
    return self->state->cell->readable;
  return g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (self->base_in));
}

static GSource *
guard_create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
  auto *self = WSSAC_GUARD_INPUT (stream);
  GSource *base
      = self->state->watched ()
            ? wssac::SocketReadiness::source_new (self->state->cell)
            : g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (self->base_in), nullptr);
  GSource *source = g_pollable_source_new_full (G_OBJECT (stream), base, cancellable);
  g_source_unref (base);
  return source;
}

static gssize
guard_read_nonblocking (GPollableInputStream *stream, void *buffer, gsize count, GError **error)
{
  auto *self = WSSAC_GUARD_INPUT (stream);
  if (self->state->watch.violation ())
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "closed by the frame guard");
      return -1;
    }
  GError *err = nullptr;
  const gssize n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (self->base_in),
                                                             buffer, count, nullptr, &err);
  if (err)
    {
      /* Drained: the next edge of the epoll set says when there is more. */
      if (self->state->cell && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        self->state->cell->readable = false;
      g_propagate_error (error, err);
    }
  return checked (self, n, buffer, error);
}

static void
wssac_guard_input_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = guard_can_poll;
  iface->is_readable = guard_is_readable;
  iface->create_source = guard_create_source;
  iface->read_nonblocking = guard_read_nonblocking;
}

static void
wssac_guard_input_finalize (GObject *object)
{
  auto *self = WSSAC_GUARD_INPUT (object);
  /* A socket closed elsewhere left the epoll set with its descriptor. */
  if (!g_io_stream_is_closed (self->base))
    self->state->unwatch ();
  delete self->state;
  g_clear_object (&self->base);
  G_OBJECT_CLASS (wssac_guard_input_parent_class)->finalize (object);
}

static void
wssac_guard_input_class_init (WssacGuardInputClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = wssac_guard_input_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = guard_read;
  G_INPUT_STREAM_CLASS (klass)->close_fn = guard_close;
}

static void
wssac_guard_input_init (WssacGuardInput *self)
{
  self->state = nullptr; /* set by frame_guard_stream_new () */
}

namespace wssac
{

GIOStream *
frame_guard_stream_new (GIOStream *base, const FrameGuardConfig &config,
                        std::shared_ptr<FrameGuardStats> stats,
                        std::shared_ptr<SocketReadiness> readiness)
{
  init_debug_category (wss_guard_debug, "wssaudiochunkguard", "wssaudiochunk receiver frame guard");
  auto *in = WSSAC_GUARD_INPUT (g_object_new (WSSAC_TYPE_GUARD_INPUT, nullptr));
  in->base = G_IO_STREAM (g_object_ref (base));
  in->base_in = g_io_stream_get_input_stream (base);
  in->state = new GuardState (config);
  in->state->stats = std::move (stats);
  if (readiness && G_IS_SOCKET_CONNECTION (base))
    {
      auto cell = std::make_shared<ReadyCell> ();
      cell->fd = g_socket_get_fd (g_socket_connection_get_socket (G_SOCKET_CONNECTION (base)));
      if (readiness->add (cell))
        {
          in->state->readiness = std::move (readiness);
          in->state->cell = std::move (cell);
        }
    }
  GIOStream *out
      = g_simple_io_stream_new (G_INPUT_STREAM (in), g_io_stream_get_output_stream (base));
  g_object_unref (in);
  return out;
}

bool
frame_guard_watched_socket (GIOStream *guard_stream, WatchedSocket &out)
{
  GInputStream *in = g_io_stream_get_input_stream (guard_stream);
  if (!WSSAC_IS_GUARD_INPUT (in))
    return false;
  GuardState &state = *WSSAC_GUARD_INPUT (in)->state;
  if (!state.watched ())
    return false;
  out.fd = state.cell->fd;
  out.cell = state.cell;
  out.readiness = state.readiness;
  return true;
}

void
frame_guard_release_socket (GIOStream *guard_stream)
{
  GInputStream *in = g_io_stream_get_input_stream (guard_stream);
  if (!WSSAC_IS_GUARD_INPUT (in))
    return;
  GuardState &state = *WSSAC_GUARD_INPUT (in)->state;
  state.unwatch ();
  state.readiness.reset ();
}

bool
frame_guard_watch_socket (GIOStream *guard_stream, std::shared_ptr<SocketReadiness> readiness,
                          WatchedSocket &out)
{
  GInputStream *in = g_io_stream_get_input_stream (guard_stream);
  if (!WSSAC_IS_GUARD_INPUT (in) || !readiness)
    return false;
  GuardState &state = *WSSAC_GUARD_INPUT (in)->state;
  if (!state.cell || state.cell->registered || !readiness->add (state.cell))
    return false;
  /* Data that came while no set watched it is read at once. */
  state.cell->readable = true;
  state.readiness = std::move (readiness);
  return frame_guard_watched_socket (guard_stream, out);
}

} // namespace wssac
