#include "fault-proxy.h"

#include <glib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

static int
connect_local (unsigned port)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons (port);
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, reinterpret_cast<sockaddr *> (&a), sizeof a) != 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

FaultProxy::FaultProxy (unsigned backend_port, int rcvbuf)
    : backend_port_ (backend_port), rcvbuf_ (rcvbuf)
{
  listen_fd_ = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt (listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (rcvbuf_ > 0)
    setsockopt (listen_fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf_, sizeof rcvbuf_);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  bind (listen_fd_, reinterpret_cast<sockaddr *> (&a), sizeof a);
  listen (listen_fd_, 16);
  socklen_t len = sizeof a;
  getsockname (listen_fd_, reinterpret_cast<sockaddr *> (&a), &len);
  port_ = ntohs (a.sin_port);
  acceptor_ = std::thread ([this] { accept_loop (); });
}

FaultProxy::~FaultProxy ()
{
  stopping_ = true;
  shutdown (listen_fd_, SHUT_RDWR);
  acceptor_.join ();
  close (listen_fd_);
  cut_all ();
  std::vector<std::thread> pumps;
  {
    std::lock_guard<std::mutex> g (lock_);
    pumps.swap (pumps_);
  }
  for (auto &t : pumps)
    t.join ();
}

void
FaultProxy::accept_loop ()
{
  while (!stopping_)
    {
      pollfd p{ listen_fd_, POLLIN, 0 };
      if (poll (&p, 1, 100) <= 0)
        continue;
      int client = accept4 (listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0)
        continue;
      if (blackholed ())
        {
          /* The upgrade request goes nowhere until the blackhole ends. */
          while (blackholed () && !stopping_)
            g_usleep (20 * 1000);
        }
      if (refusing_ || g_get_monotonic_time () < refuse_until_us_)
        {
          refused_++;
          /* Read the request, then refuse the upgrade. */
          char buf[4096];
          pollfd cp{ client, POLLIN, 0 };
          if (poll (&cp, 1, 1000) > 0)
            (void)!read (client, buf, sizeof buf);
          const char *answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: "
                               "0\r\nConnection: close\r\n\r\n";
          (void)!write (client, answer, strlen (answer));
          close (client);
          continue;
        }
      int backend = connect_local (backend_port_);
      if (backend < 0)
        {
          close (client); /* server down: the client sees a reset */
          continue;
        }
      connections_++;
      std::lock_guard<std::mutex> g (lock_);
      open_fds_.push_back (client);
      open_fds_.push_back (backend);
      unsigned gen = next_generation_++;
      pumps_.emplace_back ([this, client, backend, gen] { pump (client, backend, gen); });
    }
}

void
FaultProxy::pump (int client, int backend, unsigned generation)
{
  char buf[16384];
  while (!stopping_)
    {
      bool dead = generation < blackhole_below_ || blackholed ();
      pollfd p[2] = { { client, static_cast<short> (stalled_ || dead ? 0 : POLLIN), 0 },
                      { backend, static_cast<short> (dead ? 0 : POLLIN), 0 } };
      int n = poll (p, 2, 50);
      if (n < 0)
        break;
      if (n == 0)
        continue;
      bool done = false;
      for (int i = 0; i < 2 && !done; i++)
        {
          if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
            continue;
          if (p[i].revents & POLLNVAL)
            {
              done = true;
              break;
            }
          ssize_t r = read (p[i].fd, buf, sizeof buf);
          if (r <= 0)
            {
              done = true;
              break;
            }
          int to = i == 0 ? backend : client;
          ssize_t off = 0;
          while (off < r)
            {
              ssize_t w = write (to, buf + off, r - off);
              if (w <= 0)
                {
                  done = true;
                  break;
                }
              off += w;
            }
        }
      if (done)
        break;
    }
  std::lock_guard<std::mutex> g (lock_);
  for (int fd : { client, backend })
    {
      auto it = std::find (open_fds_.begin (), open_fds_.end (), fd);
      if (it != open_fds_.end ())
        {
          open_fds_.erase (it);
          shutdown (fd, SHUT_RDWR);
          close (fd);
        }
    }
}

bool
FaultProxy::blackholed () const
{
  return g_get_monotonic_time () < blackhole_until_us_;
}

void
FaultProxy::refuse_for (int64_t ms)
{
  refuse_until_us_ = g_get_monotonic_time () + ms * 1000;
}

void
FaultProxy::blackhole_for (int64_t ms)
{
  blackhole_until_us_ = g_get_monotonic_time () + ms * 1000;
}

void
FaultProxy::cut_all ()
{
  std::lock_guard<std::mutex> g (lock_);
  /* shutdown() wakes the pumps, which close their own descriptors. */
  for (int fd : open_fds_)
    {
      linger l{ 1, 0 }; /* RST, not FIN: the connection dies, it does not end */
      setsockopt (fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      shutdown (fd, SHUT_RDWR);
    }
}
