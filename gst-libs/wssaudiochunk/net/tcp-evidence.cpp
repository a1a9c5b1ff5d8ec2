#include "tcp-evidence.h"

#ifdef __linux__
#include <linux/sockios.h>
#include <linux/tcp.h> /* tcpi_bytes_acked: glibc's struct tcp_info lacks it */
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#endif

namespace wssac
{

GSocket *
socket_of_stream (GIOStream *stream)
{
  for (int depth = 0; stream && depth < 4; depth++)
    {
      if (G_IS_SOCKET_CONNECTION (stream))
        return g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream));
      GObjectClass *klass = G_OBJECT_GET_CLASS (stream);
      const char *prop = g_object_class_find_property (klass, "base-iostream")    ? "base-iostream"
                         : g_object_class_find_property (klass, "base-io-stream") ? "base-io-stream"
                                                                                  : nullptr;
      if (!prop)
        return nullptr;
      GIOStream *base = nullptr;
      g_object_get (stream, prop, &base, NULL);
      if (base)
        g_object_unref (base); /* still owned by the wrapper */
      stream = base;
    }
  return nullptr;
}

bool
tcp_sample (GSocket *socket, TcpSample &out)
{
#ifdef __linux__
  if (!socket)
    return false;
  int fd = g_socket_get_fd (socket);
  struct tcp_info info = {};
  socklen_t len = sizeof info;
  if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
    return false;
  /* Kernels before 4.1 fill a shorter struct without the byte counters. */
  if (len < offsetof (struct tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked)
    return false;
  int queued = 0;
  if (ioctl (fd, SIOCOUTQ, &queued) != 0)
    return false;
  /* tcpi_bytes_acked counts from the SYN's sequence number + 1: stream
   * bytes, like our positions. */
  out.bytes_acked = info.tcpi_bytes_acked;
  out.queued = queued > 0 ? static_cast<uint64_t> (queued) : 0;
  out.rtt_ms = info.tcpi_rtt / 1000;
  return true;
#else
  (void)socket;
  (void)out;
  return false;
#endif
}

uint64_t
tcp_send_buffer (GSocket *socket)
{
#ifdef __linux__
  GError *err = NULL;
  gint size = 0;
  if (!socket || !g_socket_get_option (socket, SOL_SOCKET, SO_SNDBUF, &size, &err))
    {
      g_clear_error (&err);
      return 0;
    }
  return size > 0 ? static_cast<uint64_t> (size) : 0;
#else
  (void)socket;
  return 0;
#endif
}

void
tcp_cork (GSocket *socket, bool on)
{
#ifdef __linux__
  if (!socket)
    return;
  int value = on ? 1 : 0;
  setsockopt (g_socket_get_fd (socket), IPPROTO_TCP, TCP_CORK, &value, sizeof value);
#else
  (void)socket;
  (void)on;
#endif
}

void
tcp_harden (GSocket *socket, unsigned user_timeout_ms, unsigned keepalive_s)
{
  if (!socket)
    return;
  if (keepalive_s > 0)
    {
      g_socket_set_keepalive (socket, TRUE);
#ifdef __linux__
      int fd = g_socket_get_fd (socket);
      int idle = static_cast<int> (keepalive_s), intvl = static_cast<int> (keepalive_s), cnt = 3;
      setsockopt (fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
      setsockopt (fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
      setsockopt (fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
#endif
    }
#ifdef __linux__
  if (user_timeout_ms > 0)
    {
      unsigned value = user_timeout_ms;
      setsockopt (g_socket_get_fd (socket), IPPROTO_TCP, TCP_USER_TIMEOUT, &value, sizeof value);
    }
#else
  (void)user_timeout_ms;
#endif
}

} // namespace wssac
