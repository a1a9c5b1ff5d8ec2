#include "ws-server-connection.h"
#include "debug-category.h"
#include "sources.h"

#include "ws-frame-writer.h"

#include <gst/gst.h>

#include <sys/socket.h>

#include <cerrno>
#include <memory>

GST_DEBUG_CATEGORY_STATIC (wss_wsconn_debug);
#define GST_CAT_DEFAULT wss_wsconn_debug

namespace wssac
{

namespace
{
int64_t
now_ms ()
{
  return g_get_monotonic_time () / 1000;
}

constexpr size_t kReadSize = 64 * 1024;
/* Reads per wake-up before the others get their turn. */
constexpr int kReadsPerTurn = 16;
/* Bytes read and thrown away while lingering before the socket closes
 * anyway: a client that goes on sending after our close gets a reset. */
constexpr size_t kLingerDiscardMax = 256 * 1024;
/* Sent bytes kept at the front of the unsent buffer before it is compacted. */
constexpr size_t kCompactFrom = 64 * 1024;

/* One read buffer per worker thread: frames are parsed where they were
 * read, and only a partial frame is copied (by the reader). */
uint8_t *
read_buffer ()
{
  static thread_local std::unique_ptr<uint8_t[]> buffer (new uint8_t[kReadSize]);
  return buffer.get ();
}
} // namespace

WsServerConnection::WsServerConnection (Owner &owner, ConnectionId id, int64_t now,
                                        const WsServerConnectionConfig &config,
                                        GMainContext *context, GIOStream *stream,
                                        WatchedSocket socket)
    : ServerConnection (owner, id, now), config_ (config), context_ (g_main_context_ref (context)),
      stream_ (stream), socket_ (std::move (socket)), reader_ (config.reader), last_ping_ms_ (now)
{
  init_debug_category (wss_wsconn_debug, "wssaudiochunkwsconn",
                       "wssaudiochunk receiver's WebSocket connections");
  in_ = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream_));
  out_ = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream_));
}

WsServerConnection::~WsServerConnection ()
{
  told_owner_ = true;
  close_socket ();
  destroy_source (&kick_source_);
  g_object_unref (stream_);
  g_main_context_unref (context_);
}

bool
WsServerConnection::plain () const
{
  return socket_.fd >= 0;
}

void
WsServerConnection::start ()
{
  if (plain ())
    socket_.readiness->listen (*socket_.cell, this); /* pumps soon */
  else
    {
      in_source_ = g_pollable_input_stream_create_source (in_, nullptr);
      g_source_set_callback (in_source_, G_SOURCE_FUNC (on_stream_readable), this, nullptr);
      g_source_attach (in_source_, context_);
      kick ();
    }
}

bool
WsServerConnection::is_open () const
{
  return state_ == State::Open && !done_;
}

unsigned short
WsServerConnection::close_code () const
{
  return close_code_;
}

/* ---- frames from the client ---- */

bool
WsServerConnection::on_message (bool binary, const uint8_t *data, size_t length)
{
  if (!is_open ())
    return true; /* after our close: RFC 6455 lets us ignore it */
  last_rx_ms = now_ms ();
  spoke = true;
  owner_.connection_message (*this, binary, reinterpret_cast<const char *> (data), length);
  return !done_;
}

bool
WsServerConnection::on_ping (const uint8_t *data, size_t length)
{
  last_rx_ms = now_ms ();
  if (is_open ())
    ws_append_frame (unsent_, WsOpcode::Pong, data, length); /* flushed by pump () */
  return true;
}

bool
WsServerConnection::on_pong (const uint8_t *, size_t)
{
  last_rx_ms = now_ms ();
  return true;
}

bool
WsServerConnection::on_close (unsigned short code, const std::string &reason)
{
  GST_DEBUG ("connection %" G_GUINT64_FORMAT ": the client closed (%u %s)", (guint64)id, code,
             reason.c_str ());
  if (state_ == State::Open)
    queue_close (code, "", State::Linger); /* the echo of its code (RFC 6455 5.5.1) */
  else if (state_ == State::AwaitClose)
    done_ = true; /* the handshake is complete: the server closes first */
  return false;
}

void
WsServerConnection::feed (uint8_t *data, size_t n)
{
  const unsigned short code = reader_.feed (data, n, *this, g_get_monotonic_time ());
  if (code && (state_ == State::Open || state_ == State::AwaitClose))
    {
      GST_INFO ("connection %" G_GUINT64_FORMAT ": closing with %u: %s", (guint64)id, code,
                reader_.error_reason ().c_str ());
      queue_close (code, reader_.error_reason (), State::Linger);
    }
}

/* ---- I/O ---- */

/* Bytes nobody parses any more: after the client's close, an error, or
 * while lingering for the client's end of the connection. */
bool
WsServerConnection::discarding () const
{
  return state_ == State::Linger || reader_.finished ();
}

void
WsServerConnection::consume (uint8_t *data, size_t n)
{
  if (!discarding ())
    feed (data, n);
  else if ((discarded_ += n) > kLingerDiscardMax)
    done_ = true;
}

void
WsServerConnection::read_socket ()
{
  uint8_t *buffer = read_buffer ();
  for (int turn = 0; turn < kReadsPerTurn; turn++)
    {
      const ssize_t n = recv (socket_.fd, buffer, kReadSize, 0);
      if (n > 0)
        {
          consume (buffer, static_cast<size_t> (n));
          if (done_)
            return;
          /* Short: the socket is empty; new bytes make a new edge. Not
           * after a hang-up, whose edge came already: read on to the end. */
          if (static_cast<size_t> (n) < kReadSize && !socket_.cell->hung_up)
            {
              socket_.cell->readable = false;
              return;
            }
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          socket_.cell->readable = false;
          return;
        }
      done_ = true; /* end of stream, or reset */
      return;
    }
  kick ();
}

void
WsServerConnection::read_stream ()
{
  uint8_t *buffer = read_buffer ();
  for (int turn = 0; turn < kReadsPerTurn; turn++)
    {
      GError *error = nullptr;
      const gssize n
          = g_pollable_input_stream_read_nonblocking (in_, buffer, kReadSize, nullptr, &error);
      if (n > 0)
        {
          consume (buffer, static_cast<size_t> (n));
          if (done_)
            return;
          continue;
        }
      const bool would_block = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      g_clear_error (&error);
      if (!would_block)
        done_ = true;
      return;
    }
  kick ();
}

void
WsServerConnection::flush ()
{
  if (done_ || state_ == State::Gone)
    return;
  while (unsent_from_ < unsent_.size ())
    {
      const char *data = unsent_.data () + unsent_from_;
      const size_t size = unsent_.size () - unsent_from_;
      gssize n;
      bool would_block = false;
      if (plain ())
        {
          if (!socket_.cell->writable)
            break;
          n = send (socket_.fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n < 0 && errno == EINTR)
            continue;
          would_block = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
          if (would_block)
            socket_.cell->writable = false; /* until the next edge */
        }
      else
        {
          if (out_source_)
            break; /* waiting to be writable */
          GError *error = nullptr;
          n = g_pollable_output_stream_write_nonblocking (out_, data, size, nullptr, &error);
          would_block = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
          g_clear_error (&error);
          if (would_block)
            {
              out_source_ = g_pollable_output_stream_create_source (out_, nullptr);
              g_source_set_callback (out_source_, G_SOURCE_FUNC (on_stream_writable), this,
                                     nullptr);
              g_source_attach (out_source_, context_);
            }
        }
      if (would_block)
        break;
      if (n <= 0)
        {
          done_ = true; /* the client is gone */
          kick ();
          return;
        }
      unsent_from_ += static_cast<size_t> (n);
    }
  if (unsent_from_ == unsent_.size ())
    {
      unsent_.clear ();
      unsent_from_ = 0;
    }
  else if (unsent_from_ >= kCompactFrom)
    {
      unsent_.erase (0, unsent_from_);
      unsent_from_ = 0;
    }
  if (unsent_.size () - unsent_from_ > config_.max_unsent_bytes)
    {
      GST_WARNING ("connection %" G_GUINT64_FORMAT ": the client reads nothing (%" G_GSIZE_FORMAT
                   " bytes unsent): dropped",
                   (guint64)id, unsent_.size () - unsent_from_);
      done_ = true;
      kick ();
    }
}

void
WsServerConnection::queue_close (unsigned short code, const std::string &reason, State next)
{
  ws_append_close (unsent_, code, reason);
  close_code_ = code;
  state_ = next;
  deadline_ms_ = now_ms () + (next == State::AwaitClose ? kCloseWaitMs : kLingerMs);
  flush ();
}

void
WsServerConnection::close_socket ()
{
  if (state_ == State::Gone)
    return;
  state_ = State::Gone;
  destroy_source (&in_source_);
  destroy_source (&out_source_);
  if (plain ())
    socket_.readiness->remove (*socket_.cell); /* before the descriptor closes */
  g_io_stream_close (stream_, nullptr, nullptr);
}

void
WsServerConnection::pump ()
{
  if (told_owner_)
    return;
  if (!done_ && state_ != State::Gone)
    {
      if (!drained_request_)
        {
          drained_request_ = true; /* what libsoup read with the request */
          read_stream ();
        }
      if (!done_ && (!plain () || socket_.cell->readable))
        plain () ? read_socket () : read_stream ();
      if (!done_ && unsent_from_ < unsent_.size ())
        flush ();
      if (!done_ && state_ == State::Linger && unsent_from_ == unsent_.size ())
        {
          if (!plain ())
            done_ = true; /* TLS: closing sends close_notify */
          else if (!shut_down_)
            {
              shut_down_ = true; /* then read on until the client's end */
              shutdown (socket_.fd, SHUT_WR);
            }
        }
    }
  if (done_ || state_ == State::Gone)
    {
      close_socket ();
      told_owner_ = true;
      owner_.connection_closed (*this);
    }
}

void
WsServerConnection::socket_ready ()
{
  pump ();
}

gboolean
WsServerConnection::on_stream_readable (GObject *, gpointer data)
{
  static_cast<WsServerConnection *> (data)->pump ();
  return G_SOURCE_CONTINUE;
}

gboolean
WsServerConnection::on_stream_writable (GObject *, gpointer data)
{
  auto *self = static_cast<WsServerConnection *> (data);
  g_source_unref (self->out_source_);
  self->out_source_ = nullptr;
  self->pump ();
  return G_SOURCE_REMOVE;
}

void
WsServerConnection::kick ()
{
  if (!kick_source_ && !told_owner_)
    kick_source_ = attach_timeout (
        context_, 0,
        fire_once<WsServerConnection, &WsServerConnection::kick_source_, &WsServerConnection::pump>,
        this);
}

/* ---- what the owner asks ---- */

void
WsServerConnection::send_text (const std::string &text)
{
  if (!is_open ())
    return;
  ws_append_frame (unsent_, WsOpcode::Text, reinterpret_cast<const uint8_t *> (text.data ()),
                   text.size ());
  flush ();
}

void
WsServerConnection::close (unsigned short code, const std::string &reason)
{
  if (is_open ())
    queue_close (code, reason, State::AwaitClose);
}

void
WsServerConnection::drop ()
{
  done_ = true;
  kick ();
}

void
WsServerConnection::stop (unsigned short code, const char *reason)
{
  told_owner_ = true;
  if (is_open ())
    {
      ws_append_close (unsent_, code, reason);
      flush ();
    }
  close_socket ();
}

void
WsServerConnection::tick (int64_t now)
{
  if (told_owner_ || done_)
    return;
  if ((state_ == State::AwaitClose || state_ == State::Linger) && now >= deadline_ms_)
    {
      done_ = true;
      kick ();
    }
  else if (state_ == State::Open && config_.keepalive_interval_s > 0
           && now - last_ping_ms_ >= static_cast<int64_t> (config_.keepalive_interval_s) * 1000)
    {
      last_ping_ms_ = now;
      ws_append_frame (unsent_, WsOpcode::Ping, nullptr, 0);
      flush ();
    }
}

} // namespace wssac
