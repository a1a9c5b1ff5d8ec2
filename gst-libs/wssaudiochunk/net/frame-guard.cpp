#include "frame-guard.h"

#include <gst/gst.h>

#include <zlib.h>

#include <algorithm>
#include <cstring>

GST_DEBUG_CATEGORY_STATIC (wss_guard_debug);
#define GST_CAT_DEFAULT wss_guard_debug

namespace
{

/* What the parser knows about the client's byte stream. */
struct GuardState
{
  wssac::FrameGuardConfig config;
  std::shared_ptr<wssac::FrameGuardStats> stats;
  bool upgraded = false;  /* past the HTTP request's blank line */
  uint32_t http_tail = 0; /* last 4 bytes of the request */
  uint8_t header[14];     /* the frame header being read */
  unsigned have = 0;      /* bytes of it so far */
  uint64_t skip = 0;      /* payload bytes left of the current frame */
  uint64_t message = 0;   /* bytes of the current data message so far */
  double ping_tokens = -1;
  gint64 ping_us = 0;
  unsigned short violation = 0; /* the close code, once violated */
  /* permessage-deflate (config.inflate): the current frame's mask and
   * position, whether the current message is compressed, and an inflater
   * that follows the client's (context takeover: one stream per connection). */
  uint8_t mask[4] = { 0, 0, 0, 0 };
  bool masked = false;
  uint64_t frame_pos = 0;
  bool data_frame = false, fin = false, compressed = false;
  z_stream zs;
  bool zs_ready = false;
  ~GuardState ()
  {
    if (zs_ready)
      inflateEnd (&zs);
  }
};

/* Inflates @n compressed bytes of the current message, counting what comes
 * out; the output is thrown away. */
void
inflate_count (GuardState &g, const uint8_t *in, size_t n)
{
  if (!g.zs_ready)
    {
      memset (&g.zs, 0, sizeof g.zs);
      if (inflateInit2 (&g.zs, -15) != Z_OK)
        return;
      g.zs_ready = true;
    }
  uint8_t out[16384];
  g.zs.next_in = const_cast<Bytef *> (in);
  g.zs.avail_in = static_cast<uInt> (n);
  while (g.zs.avail_in > 0 && !g.violation)
    {
      g.zs.next_out = out;
      g.zs.avail_out = sizeof out;
      int r = inflate (&g.zs, Z_SYNC_FLUSH);
      g.message += sizeof out - g.zs.avail_out;
      if (g.config.max_message_bytes > 0 && g.message > g.config.max_message_bytes)
        g.violation = 1009;
      if (r == Z_BUF_ERROR && g.zs.avail_out > 0)
        break;
      if (r != Z_OK && r != Z_BUF_ERROR)
        {
          /* Not what libsoup will see either (it refuses it); stop following. */
          inflateReset (&g.zs);
          break;
        }
    }
}

/* Payload bytes of the current frame (still masked). */
void
payload (GuardState &g, const uint8_t *data, size_t n)
{
  if (g.config.inflate && g.data_frame && g.compressed && !g.violation)
    {
      uint8_t clear[4096];
      size_t done = 0;
      while (done < n && !g.violation)
        {
          size_t k = std::min (sizeof clear, n - done);
          for (size_t i = 0; i < k; i++)
            clear[i] = data[done + i] ^ (g.masked ? g.mask[(g.frame_pos + i) & 3] : 0);
          g.frame_pos += k;
          done += k;
          inflate_count (g, clear, k);
        }
    }
  else
    g.frame_pos += n;
}

/* The end of a frame's payload: a compressed message ends with the
 * 00 00 ff ff the sender removed. */
void
frame_done (GuardState &g)
{
  static const uint8_t kTail[] = { 0x00, 0x00, 0xff, 0xff };
  if (g.config.inflate && g.data_frame && g.compressed && g.fin && !g.violation)
    inflate_count (g, kTail, sizeof kTail);
}

unsigned
header_length (const uint8_t *h, unsigned have)
{
  if (have < 2)
    return 2;
  unsigned len = 2 + ((h[1] & 0x80) ? 4 : 0);
  unsigned l7 = h[1] & 0x7f;
  return len + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0);
}

void
on_frame (GuardState &g, const uint8_t *h)
{
  unsigned l7 = h[1] & 0x7f;
  uint64_t len = l7;
  if (l7 == 126)
    len = (uint64_t)h[2] << 8 | h[3];
  else if (l7 == 127)
    {
      len = 0;
      for (int i = 0; i < 8; i++)
        len = len << 8 | h[2 + i];
    }
  g.skip = len;
  const unsigned opcode = h[0] & 0x0f;
  const unsigned hl = header_length (h, 14);
  g.masked = (h[1] & 0x80) != 0;
  if (g.masked)
    memcpy (g.mask, h + hl - 4, 4);
  g.frame_pos = 0;
  g.data_frame = opcode <= 0x2;
  if (g.data_frame)
    g.fin = (h[0] & 0x80) != 0;
  if (opcode == 0x1 || opcode == 0x2)
    g.compressed = (h[0] & 0x40) != 0;
  /* A compressed message is counted as it inflates; others by their size. */
  const bool counted_inflated = g.config.inflate && g.compressed;
  if (opcode == 0x1 || opcode == 0x2)
    g.message = counted_inflated ? 0 : len;
  else if (opcode == 0x0 && !counted_inflated)
    g.message += len;
  else if (opcode == 0x9 && g.config.pings_per_second > 0)
    {
      gint64 now = g_get_monotonic_time ();
      g.ping_tokens
          = g.ping_tokens < 0
                ? g.config.ping_burst
                : std::min (g.config.ping_burst,
                            g.ping_tokens + (now - g.ping_us) * g.config.pings_per_second / 1e6);
      g.ping_us = now;
      if (g.ping_tokens < 1)
        g.violation = 1008;
      else
        g.ping_tokens -= 1;
    }
  if (opcode <= 0x2 && g.config.max_message_bytes > 0 && g.message > g.config.max_message_bytes)
    g.violation = 1009;
}

/* Feeds what the client sent; sets violation. */
void
feed (GuardState &g, const uint8_t *data, size_t n)
{
  size_t i = 0;
  while (i < n && !g.upgraded)
    {
      g.http_tail = g.http_tail << 8 | data[i++];
      if (g.http_tail == 0x0d0a0d0a)
        g.upgraded = true;
    }
  while (i < n && !g.violation)
    {
      if (g.skip > 0)
        {
          uint64_t take = std::min<uint64_t> (g.skip, n - i);
          payload (g, data + i, static_cast<size_t> (take));
          g.skip -= take;
          i += take;
          if (g.skip == 0)
            frame_done (g);
          continue;
        }
      g.header[g.have++] = data[i++];
      if (g.have >= 2 && g.have == header_length (g.header, g.have))
        {
          on_frame (g, g.header);
          g.have = 0;
          if (g.skip == 0 && !g.violation)
            frame_done (g);
        }
    }
}

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
  feed (g, static_cast<const uint8_t *> (buffer), static_cast<size_t> (n));
  if (!g.violation)
    return n;
  if (g.stats)
    (g.violation == 1009 ? g.stats->closed_too_big : g.stats->closed_ping_flood)++;
  GST_INFO ("closing a connection: %s",
            g.violation == 1009 ? "message over the size limit" : "ping flood");
  /* A close frame straight to the peer (the server sends it unmasked), so
   * the client learns why; then the read fails and libsoup drops it. */
  const uint8_t close_frame[] = { 0x88, 0x02, static_cast<uint8_t> (g.violation >> 8),
                                  static_cast<uint8_t> (g.violation & 0xff) };
  GOutputStream *out = g_io_stream_get_output_stream (self->base);
  if (G_IS_POLLABLE_OUTPUT_STREAM (out))
    g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (out), close_frame,
                                                sizeof close_frame, nullptr, nullptr);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
               g.violation == 1009 ? "WebSocket message over the size limit" : "too many pings");
  return -1;
}

static gssize
guard_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
            GError **error)
{
  auto *self = WSSAC_GUARD_INPUT (stream);
  if (self->state->violation)
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
  return g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (self->base_in));
}

static GSource *
guard_create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
  auto *self = WSSAC_GUARD_INPUT (stream);
  GSource *base
      = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (self->base_in), nullptr);
  GSource *source = g_pollable_source_new_full (G_OBJECT (stream), base, cancellable);
  g_source_unref (base);
  return source;
}

static gssize
guard_read_nonblocking (GPollableInputStream *stream, void *buffer, gsize count, GError **error)
{
  auto *self = WSSAC_GUARD_INPUT (stream);
  if (self->state->violation)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "closed by the frame guard");
      return -1;
    }
  return checked (self,
                  g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (self->base_in),
                                                            buffer, count, nullptr, error),
                  buffer, error);
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
  self->state = new GuardState ();
}

namespace wssac
{

GIOStream *
frame_guard_stream_new (GIOStream *base, const FrameGuardConfig &config,
                        std::shared_ptr<FrameGuardStats> stats)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      GST_DEBUG_CATEGORY_INIT (wss_guard_debug, "wssaudiochunkguard", 0,
                               "wssaudiochunk receiver frame guard");
      g_once_init_leave (&once, 1);
    }
  auto *in = WSSAC_GUARD_INPUT (g_object_new (WSSAC_TYPE_GUARD_INPUT, nullptr));
  in->base = G_IO_STREAM (g_object_ref (base));
  in->base_in = g_io_stream_get_input_stream (base);
  in->state->config = config;
  in->state->stats = std::move (stats);
  GIOStream *out
      = g_simple_io_stream_new (G_INPUT_STREAM (in), g_io_stream_get_output_stream (base));
  g_object_unref (in);
  return out;
}

} // namespace wssac
