#include "connection-gate.h"
#include "debug-category.h"
#include "sources.h"

#include <gst/gst.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>

#include <vector>

GST_DEBUG_CATEGORY_STATIC (wss_gate_debug);
#define GST_CAT_DEFAULT wss_gate_debug

namespace wssac
{

namespace
{
constexpr unsigned kMaxBackoffMs = 1000;
constexpr unsigned kSweepMs = 250;
constexpr int kAcceptsPerWakeup = 64;

int64_t
now_ms ()
{
  return g_get_monotonic_time () / 1000;
}
} // namespace

std::string
address_of (GSocketAddress *addr, bool with_port)
{
  if (!addr || !G_IS_INET_SOCKET_ADDRESS (addr))
    return std::string ();
  auto *inet = G_INET_SOCKET_ADDRESS (addr);
  gchar *ip = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
  std::string out (ip);
  g_free (ip);
  if (with_port)
    out += ":" + std::to_string (g_inet_socket_address_get_port (inet));
  return out;
}

bool
AddressCounts::try_add (const std::string &address, unsigned max_per_address, unsigned max_total,
                        bool &by_address)
{
  std::lock_guard<std::mutex> g (lock_);
  auto it = by_address_.find (address);
  const unsigned from = it == by_address_.end () ? 0 : it->second;
  by_address = max_per_address > 0 && from >= max_per_address;
  if (by_address || (max_total > 0 && total_ >= max_total))
    return false;
  by_address_[address]++;
  total_++;
  return true;
}

void
AddressCounts::remove (const std::string &address)
{
  std::lock_guard<std::mutex> g (lock_);
  auto it = by_address_.find (address);
  if (it != by_address_.end () && --it->second == 0)
    by_address_.erase (it);
  if (total_ > 0)
    total_--;
}

unsigned
AddressCounts::from (const std::string &address) const
{
  std::lock_guard<std::mutex> g (lock_);
  auto it = by_address_.find (address);
  return it == by_address_.end () ? 0 : it->second;
}

size_t
AddressCounts::total () const
{
  std::lock_guard<std::mutex> g (lock_);
  return total_;
}

GSocket *
ConnectionGate::listen_socket (const std::string &address, unsigned port, bool reuse_port,
                               std::string &error)
{
  GInetAddress *ia = g_inet_address_new_from_string (address.c_str ());
  if (!ia)
    {
      error = "\"" + address + "\" is not an IP address";
      return nullptr;
    }
  GError *err = nullptr;
  GSocketAddress *addr = g_inet_socket_address_new (ia, port);
  GSocket *sock = g_socket_new (g_inet_address_get_family (ia), G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, &err);
  g_object_unref (ia);
  bool ok = sock != nullptr;
  if (ok)
    {
      g_socket_set_listen_backlog (sock, SOMAXCONN);
      /* bind() by hand: g_socket_bind() clears SO_REUSEPORT on TCP sockets. */
      struct sockaddr_storage native;
      const gssize len = g_socket_address_get_native_size (addr);
      const int fd = g_socket_get_fd (sock);
      ok = g_socket_set_option (sock, SOL_SOCKET, SO_REUSEADDR, 1, &err)
           && (!reuse_port || g_socket_set_option (sock, SOL_SOCKET, SO_REUSEPORT, 1, &err))
           && len > 0 && g_socket_address_to_native (addr, &native, sizeof native, &err);
      if (ok && bind (fd, reinterpret_cast<struct sockaddr *> (&native), static_cast<socklen_t> (len)) != 0)
        {
          const int e = errno;
          g_set_error (&err, G_IO_ERROR, g_io_error_from_errno (e), "Error binding to address %s:%u: %s",
                       address.c_str (), port, g_strerror (e));
          ok = false;
        }
      ok = ok && g_socket_listen (sock, &err);
    }
  g_object_unref (addr);
  if (!ok)
    {
      error = "could not listen on " + address + ":" + std::to_string (port) + ": "
              + (err ? err->message : "?");
      g_clear_error (&err);
      g_clear_object (&sock);
      return nullptr;
    }
  return sock;
}

ConnectionGate::~ConnectionGate ()
{
  stop ();
}

uint64_t
ConnectionGate::fd_limit ()
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return 0;
  return rl.rlim_cur;
}

bool
ConnectionGate::start (GMainContext *context, SoupServer *server, GSocket *listener,
                       const GateConfig &config, std::string &error,
                       std::shared_ptr<AddressCounts> shared)
{
  init_debug_category (wss_gate_debug, "wssaudiochunkgate", "wssaudiochunk receiver accept gate");
  config_ = config;
  if (config_.tls_certificate)
    g_object_ref (config_.tls_certificate);
  context_ = g_main_context_ref (context);
  server_ = SOUP_SERVER (g_object_ref (server));
  listener_ = G_SOCKET (g_object_ref (listener));
  g_socket_set_blocking (listener_, FALSE);
  fd_limit_ = fd_limit ();
  counts_ = shared ? std::move (shared) : std::make_shared<AddressCounts> ();
  stats_ = GateStats ();
  std::string why;
  readiness_ = SocketReadiness::create (context_, why);
  if (!readiness_)
    GST_WARNING ("sockets polled one by one: %s", why.c_str ());
  arm_accept ();
  sweep_source_ = g_timeout_source_new (kSweepMs);
  g_source_set_callback (sweep_source_, on_sweep, this, nullptr);
  g_source_attach (sweep_source_, context_);
  (void)error;
  return true;
}

void
ConnectionGate::stop ()
{
  destroy_source (&accept_source_);
  destroy_source (&resume_source_);
  destroy_source (&sweep_source_);
  readiness_.reset ();
  for (auto &kv : pending_)
    {
      counts_->remove (kv.second.address);
      g_object_unref (kv.first);
    }
  pending_.clear ();
  pending_by_peer_.clear ();
  if (listener_)
    g_socket_close (listener_, nullptr);
  g_clear_object (&listener_);
  g_clear_object (&server_);
  g_clear_object (&config_.tls_certificate);
  if (context_)
    g_main_context_unref (context_);
  context_ = nullptr;
}

void
ConnectionGate::arm_accept ()
{
  accept_source_ = g_socket_create_source (listener_, G_IO_IN, nullptr);
  g_source_set_callback (accept_source_, (GSourceFunc)(void (*) ())on_incoming, this, nullptr);
  g_source_attach (accept_source_, context_);
}

/* Out of descriptors: accept() would fail at once again. Wait for the
 * sweep and closing sessions to free some, and try again. */
void
ConnectionGate::pause_accepting ()
{
  destroy_source (&accept_source_);
  backoff_ms_ = backoff_ms_ == 0 ? 50 : std::min (backoff_ms_ * 2, kMaxBackoffMs);
  if (!paused_logged_)
    {
      paused_logged_ = true;
      stats_.accept_pauses++;
      GST_WARNING ("out of file descriptors (limit %" G_GUINT64_FORMAT
                   "): not accepting connections for now; resuming as soon as some are free",
                   (guint64)fd_limit_);
      g_printerr ("wssaudiochunk: out of file descriptors (limit %" G_GUINT64_FORMAT
                  "): accepting paused, retrying every %u ms at most\n",
                  (guint64)fd_limit_, kMaxBackoffMs);
    }
  resume_source_ = attach_timeout (
      context_, backoff_ms_,
      fire_once<ConnectionGate, &ConnectionGate::resume_source_, &ConnectionGate::arm_accept>, this);
}

void
ConnectionGate::refuse_503 (GSocket *socket)
{
  static const char kReply[]
      = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n"
        "Content-Length: 0\r\n\r\n";
  g_socket_send (socket, kReply, sizeof (kReply) - 1, nullptr, nullptr);
  g_socket_close (socket, nullptr);
}

gboolean
ConnectionGate::on_incoming (GSocket *, GIOCondition, gpointer data)
{
  auto *self = static_cast<ConnectionGate *> (data);
  for (int i = 0; i < kAcceptsPerWakeup; i++)
    {
      GError *err = nullptr;
      GSocket *sock = g_socket_accept (self->listener_, nullptr, &err);
      if (!sock)
        {
          bool exhausted
              = g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES)
                || (err && err->domain == G_IO_ERROR && err->code == G_IO_ERROR_NO_SPACE);
          bool would_block = g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
          if (!would_block && !exhausted)
            GST_DEBUG ("accept: %s", err ? err->message : "?");
          g_clear_error (&err);
          if (exhausted)
            {
              g_source_unref (self->accept_source_);
              self->accept_source_ = nullptr;
              self->pause_accepting ();
              return G_SOURCE_REMOVE;
            }
          if (would_block)
            break;
          continue; /* ECONNABORTED and friends: the next one */
        }
      if (self->paused_logged_)
        {
          g_printerr ("wssaudiochunk: accepting connections again\n");
          self->paused_logged_ = false;
        }
      self->backoff_ms_ = 0;
      self->stats_.accepted++;

      const int fd = g_socket_get_fd (sock);
      if (self->config_.fd_reserve > 0 && self->fd_limit_ > self->config_.fd_reserve
          && static_cast<uint64_t> (fd) >= self->fd_limit_ - self->config_.fd_reserve)
        {
          self->stats_.refused_fd_limit++;
          GST_INFO ("503: descriptor %d is within %u of the limit %" G_GUINT64_FORMAT, fd,
                    self->config_.fd_reserve, (guint64)self->fd_limit_);
          self->refuse_503 (sock);
          g_object_unref (sock);
          continue;
        }

      GSocketAddress *remote = g_socket_get_remote_address (sock, nullptr);
      GSocketAddress *local = g_socket_get_local_address (sock, nullptr);
      const std::string address = address_of (remote, false);
      bool by_address = false, admitted = false;
      for (int pass = 0; pass < 2 && !admitted; pass++)
        {
          if (pass == 1)
            self->sweep (now_ms ()); /* some may have closed since the last sweep */
          admitted = remote && local
                     && self->counts_->try_add (address, self->config_.max_pending_per_address,
                                                self->config_.max_pending_total, by_address);
          if (!remote || !local)
            break;
        }
      if (!admitted)
        {
          (by_address ? self->stats_.refused_pending_address
                      : self->stats_.refused_pending_total)++;
          GST_INFO ("closing a new connection from %s: %u connections are waiting for their "
                    "upgrade (%s cap)",
                    address.c_str (),
                    by_address ? self->counts_->from (address)
                               : (unsigned)self->counts_->total (),
                    by_address ? "per-address" : "total");
          g_socket_close (sock, nullptr);
          g_object_unref (sock);
          g_clear_object (&remote);
          g_clear_object (&local);
          continue;
        }

      g_socket_set_option (sock, IPPROTO_TCP, TCP_NODELAY, TRUE, nullptr);
      GIOStream *stream = G_IO_STREAM (g_socket_connection_factory_create_connection (sock));
      if (self->config_.tls_certificate)
        {
          GIOStream *tls
              = g_tls_server_connection_new (stream, self->config_.tls_certificate, &err);
          g_object_unref (stream);
          stream = tls;
          if (!stream)
            {
              GST_WARNING ("cannot set up TLS: %s", err ? err->message : "?");
              g_clear_error (&err);
              self->counts_->remove (address);
              g_socket_close (sock, nullptr);
              g_object_unref (sock);
              g_object_unref (remote);
              g_object_unref (local);
              continue;
            }
        }
      GIOStream *guarded
          = frame_guard_stream_new (stream, self->config_.frames, self->frame_stats_,
                                    self->readiness_);
      g_object_unref (stream);
      stream = guarded;
      Pending p;
      p.address = address;
      p.peer = address_of (remote, true);
      p.accepted_ms = now_ms ();
      self->pending_by_peer_[p.peer] = sock;
      self->pending_[sock] = std::move (p); /* keeps the accept's reference */
      soup_server_accept_iostream (self->server_, stream, local, remote, nullptr);
      g_object_unref (stream);
      g_object_unref (remote);
      g_object_unref (local);
    }
  self->stats_.pending = self->pending_.size ();
  return G_SOURCE_CONTINUE;
}

void
ConnectionGate::forget (std::map<GSocket *, Pending>::iterator it)
{
  counts_->remove (it->second.address);
  auto p = pending_by_peer_.find (it->second.peer);
  if (p != pending_by_peer_.end () && p->second == it->first)
    pending_by_peer_.erase (p);
  g_object_unref (it->first);
  pending_.erase (it);
}

void
ConnectionGate::upgraded (GSocketAddress *remote)
{
  auto p = pending_by_peer_.find (address_of (remote, true));
  if (p == pending_by_peer_.end ())
    return;
  auto it = pending_.find (p->second);
  if (it != pending_.end ())
    forget (it);
  stats_.pending = pending_.size ();
}

void
ConnectionGate::sweep (int64_t now)
{
  std::vector<GSocket *> closed;
  for (auto &kv : pending_)
    {
      if (g_socket_is_closed (kv.first))
        {
          closed.push_back (kv.first);
          continue;
        }
      const int64_t age = now - kv.second.accepted_ms;
      if (!kv.second.shut && age >= config_.header_timeout_ms)
        {
          /* libsoup then reads the end of the stream and closes it. */
          kv.second.shut = true;
          stats_.header_timeouts++;
          GST_INFO ("closing a connection from %s: no complete upgrade request within %u ms",
                    kv.second.address.c_str (), config_.header_timeout_ms);
          g_socket_shutdown (kv.first, TRUE, TRUE, nullptr);
        }
      else if (kv.second.shut && age >= 2 * static_cast<int64_t> (config_.header_timeout_ms))
        {
          g_socket_close (kv.first, nullptr);
          closed.push_back (kv.first);
        }
    }
  for (GSocket *s : closed)
    forget (pending_.find (s));
  stats_.pending = pending_.size ();
}

gboolean
ConnectionGate::on_sweep (gpointer data)
{
  static_cast<ConnectionGate *> (data)->sweep (now_ms ());
  return G_SOURCE_CONTINUE;
}

GateStats
ConnectionGate::stats () const
{
  GateStats s = stats_;
  s.closed_too_big = frame_stats_->closed_too_big;
  s.closed_ping_flood = frame_stats_->closed_ping_flood;
  return s;
}

} // namespace wssac
