/* Test helper: a TCP proxy on 127.0.0.1 that injects network faults between
 * a WebSocket client and its server: drop every connection without a close
 * frame, stall reads from the client, refuse the HTTP upgrade with 503.
 * Plain sockets and threads: it must misbehave below libsoup. */
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

class FaultProxy
{
public:
  /* @rcvbuf: SO_RCVBUF of accepted sockets (0 = system default); a small
   * one makes a stalled reader push back on the sender at once. */
  explicit FaultProxy (unsigned backend_port, int rcvbuf = 0);
  ~FaultProxy ();

  unsigned
  port () const
  {
    return port_;
  }
  void
  set_backend_port (unsigned port)
  {
    backend_port_ = port;
  }

  /* Closes every proxied connection at once (no close frame: the client
   * sees the TCP connection die, as with a Wi-Fi drop or a crash). */
  void cut_all ();
  /* While set, bytes from clients are not read. */
  void
  set_stalled (bool stalled)
  {
    stalled_ = stalled;
  }
  /* The connections open now go silent both ways without closing (a dead
   * path: the server still thinks its peer is there); new ones work. */
  void
  blackhole_existing ()
  {
    blackhole_below_ = next_generation_.load ();
  }
  /* While set, new connections get "503 Service Unavailable". */
  void
  set_refusing (bool refusing)
  {
    refusing_ = refusing;
  }
  /* New connections get 503 for the next @ms (any thread). */
  void refuse_for (int64_t ms);
  /* Nothing is forwarded either way, on every connection old and new, for
   * the next @ms; then forwarding resumes where it stopped. The proxy reads
   * nothing meanwhile: only its small receive buffer acknowledges bytes, so
   * a sender sees its TCP send queue stop draining, as on a dead path. */
  void blackhole_for (int64_t ms);
  /* Upgrades answered with 503 so far. */
  unsigned
  refused () const
  {
    return refused_;
  }
  unsigned
  connections () const
  {
    return connections_;
  }

private:
  void accept_loop ();
  bool blackholed () const;
  void pump (int client, int backend, unsigned generation);

  int listen_fd_ = -1;
  unsigned port_ = 0;
  std::atomic<unsigned> backend_port_;
  int rcvbuf_;
  std::atomic<bool> stopping_{ false };
  std::atomic<bool> stalled_{ false };
  std::atomic<bool> refusing_{ false };
  std::atomic<unsigned> connections_{ 0 };
  std::atomic<unsigned> next_generation_{ 1 };
  std::atomic<unsigned> blackhole_below_{ 0 };
  std::atomic<int64_t> refuse_until_us_{ 0 };
  std::atomic<int64_t> blackhole_until_us_{ 0 };
  std::atomic<unsigned> refused_{ 0 };
  std::thread acceptor_;
  std::mutex lock_;
  std::vector<std::thread> pumps_;
  std::vector<int> open_fds_;
};
