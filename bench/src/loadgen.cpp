/* loadgen: N simulated speakers against one WebSocket receiver.
 *
 * One thread, epoll, raw sockets (no WebSocket library): each speaker opens
 * its own connection (HTTP upgrade to /ws), then sends one audioChunk text
 * frame every 1/rate seconds (4/s by default), at a random phase, with its
 * own sessionId and chunkIndex 0, 1, 2, ... The messages carry real chunks:
 * the bytes our Chunker cut from webmmux output of a speech file
 * (bench/out/.../chunks.bin; chunk 0 holds the stream header), encoded the
 * way encode_audio_chunk() does (same fields, same order), masked as RFC
 * 6455 requires of a client.
 *
 * Latency: every receiver under test acknowledges every 4th chunk
 * ({"action":"ack","chunkIndex":N}, N = 3, 7, 11, ...); the time from when
 * chunk N was due to be sent (its schedule, so queueing in our send buffer
 * counts) to the ack's arrival is the ingest latency. Only those acks are
 * timed: ours also acks a chunk left unacked for 1 s (the last ones of the
 * window, when the sending stops), which would time its timer, not the
 * load. Pings are answered with pongs.
 *
 * Phases: connect (bounded concurrency), warm-up, measure, drain (no new
 * messages; wait for the receiver to catch up), then every connection is
 * reset (SO_LINGER 0: no TIME_WAIT, so repeated runs do not exhaust ports).
 * A speaker whose send buffer holds over 1 MiB skips its message (counted:
 * the receiver is not keeping up; that message is lost).
 *
 * usage: loadgen --port P --chunks FILE --speakers N [--rate 4] [--src-ip 127.0.0.2]
 *                [--warmup 3] [--duration 10] [--drain 5] [--concurrency 64]
 *                [--connect-rate R]  (R connections started per second: a
 *                 paced burst, as speakers arriving; 0: as fast as the
 *                 concurrency allows)
 *                [--connect-timeout 60] [--out FILE.json]
 *                [--no-session-in-uri]  (the upgrade request names no
 *                 session; by default it asks for /ws?sessionId=<id>, as the
 *                 sink does)
 */
#include "common.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <queue>
#include <random>
#include <string>

using namespace bench;

namespace
{

enum class St
{
  Idle,
  Connecting,
  Upgrading,
  Open,
  Closed,
};

constexpr int kRing = 64;

struct Conn
{
  int fd = -1;
  St st = St::Idle;
  std::string out;
  size_t out_off = 0;
  std::string in;
  uint64_t next_idx = 0;
  uint64_t acked = 0; /* chunks the receiver acknowledged (highest index + 1) */
  int64_t t_connect = 0;
  int64_t due[kRing];
  char sid[48];
  bool want_out = false;
};

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string
base64 (const std::vector<uint8_t> &in)
{
  std::string out;
  size_t i = 0, n = in.size ();
  for (; i + 3 <= n; i += 3)
    {
      uint32_t v = (uint32_t (in[i]) << 16) | (uint32_t (in[i + 1]) << 8) | in[i + 2];
      out += kB64[v >> 18];
      out += kB64[(v >> 12) & 63];
      out += kB64[(v >> 6) & 63];
      out += kB64[v & 63];
    }
  if (i < n)
    {
      uint32_t v = uint32_t (in[i]) << 16;
      if (i + 1 < n)
        v |= uint32_t (in[i + 1]) << 8;
      out += kB64[v >> 18];
      out += kB64[(v >> 12) & 63];
      out += i + 1 < n ? kB64[(v >> 6) & 63] : '=';
      out += '=';
    }
  return out;
}

struct Gen
{
  std::vector<Conn> conns;
  std::vector<std::string> b64;
  std::vector<size_t> raw_size;
  int ep = -1;
  uint64_t rng = 0x9E3779B97F4A7C15ULL;
  sockaddr_in dst{};
  sockaddr_in src{};
  bool bind_src = false;
  std::string path = "/ws";
  bool session_in_uri = true;
  std::string host;

  /* counters */
  uint64_t scheduled = 0, sent_msgs = 0, skipped = 0, acks = 0, errors = 0, server_closes = 0, pongs = 0;
  uint64_t bytes_out = 0, connect_fail = 0, other_msgs = 0;
  uint64_t win_scheduled = 0, win_skipped = 0;
  std::vector<int64_t> win_lat_us;
  std::vector<double> connect_ms;
  int64_t win_start = 0, win_end = 0;
  /* Chunks acknowledged, summed over the speakers, and at the window's
   * ends: what the receiver processed in the window (acks come every 4th
   * chunk, at random phases, so the ends' rounding cancels on average). */
  uint64_t acked_total = 0, win_acked_start = 0, win_acked_end = 0;
  int64_t max_late_us = 0;
  int open_count = 0;

  uint32_t rand32 ()
  {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return static_cast<uint32_t> (rng);
  }

  void frame (Conn &c, uint8_t opcode, const char *payload, size_t len)
  {
    uint8_t hdr[14];
    size_t h = 0;
    hdr[h++] = 0x80 | opcode;
    if (len < 126)
      hdr[h++] = 0x80 | static_cast<uint8_t> (len);
    else if (len < 65536)
      {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = static_cast<uint8_t> (len >> 8);
        hdr[h++] = static_cast<uint8_t> (len);
      }
    else
      {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
          hdr[h++] = static_cast<uint8_t> (static_cast<uint64_t> (len) >> (8 * i));
      }
    uint32_t key = rand32 ();
    uint8_t k[4];
    memcpy (k, &key, 4);
    memcpy (hdr + h, k, 4);
    h += 4;
    if (c.out_off > 0 && c.out_off == c.out.size ())
      {
        c.out.clear ();
        c.out_off = 0;
      }
    size_t at = c.out.size ();
    c.out.append (reinterpret_cast<char *> (hdr), h);
    c.out.append (payload, len);
    char *p = &c.out[at + h];
    for (size_t i = 0; i < len; i++)
      p[i] ^= k[i & 3];
  }

  void close_conn (Conn &c, bool by_server)
  {
    if (c.fd >= 0)
      {
        epoll_ctl (ep, EPOLL_CTL_DEL, c.fd, nullptr);
        linger lg{ 1, 0 };
        setsockopt (c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        ::close (c.fd);
        c.fd = -1;
      }
    if (c.st == St::Open)
      open_count--;
    if (by_server)
      server_closes++;
    c.st = St::Closed;
  }

  void update_events (Conn &c, size_t idx)
  {
    bool want = c.out_off < c.out.size () || c.st == St::Connecting;
    if (want == c.want_out)
      return;
    c.want_out = want;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? uint32_t (EPOLLOUT) : 0u);
    ev.data.u64 = idx;
    epoll_ctl (ep, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void flush (Conn &c, size_t idx)
  {
    while (c.out_off < c.out.size ())
      {
        ssize_t n = ::send (c.fd, c.out.data () + c.out_off, c.out.size () - c.out_off, MSG_NOSIGNAL);
        if (n > 0)
          {
            c.out_off += static_cast<size_t> (n);
            bytes_out += static_cast<uint64_t> (n);
            continue;
          }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
          break;
        if (n < 0 && errno == EINTR)
          continue;
        close_conn (c, true);
        return;
      }
    if (c.out_off == c.out.size ())
      {
        c.out.clear ();
        c.out_off = 0;
      }
    update_events (c, idx);
  }

  bool start_connect (Conn &c, size_t idx)
  {
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
      return false;
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (bind_src)
      {
#ifdef IP_BIND_ADDRESS_NO_PORT
        setsockopt (fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
        if (bind (fd, reinterpret_cast<sockaddr *> (&src), sizeof src) != 0)
          {
            ::close (fd);
            return false;
          }
      }
    c.fd = fd;
    c.t_connect = mono_ns ();
    int r = connect (fd, reinterpret_cast<sockaddr *> (&dst), sizeof dst);
    if (r != 0 && errno != EINPROGRESS)
      {
        ::close (fd);
        c.fd = -1;
        return false;
      }
    c.st = St::Connecting;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = idx;
    c.want_out = true;
    epoll_ctl (ep, EPOLL_CTL_ADD, fd, &ev);
    return true;
  }

  void on_connected (Conn &c, size_t idx)
  {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt (c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0)
      {
        connect_fail++;
        close_conn (c, false);
        return;
      }
    uint8_t key[16];
    for (int i = 0; i < 16; i++)
      key[i] = static_cast<uint8_t> (rand32 ());
    /* As the sink does by default (session-in-uri=query): a load balancer,
     * or our receiver's workers, can place the connection by it. */
    const std::string target = session_in_uri ? path + "?sessionId=" + c.sid : path;
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: " + base64 (std::vector<uint8_t> (key, key + 16))
                      + "\r\nSec-WebSocket-Version: 13\r\nUser-Agent: wssaudiochunk-bench-loadgen\r\n\r\n";
    c.st = St::Upgrading;
    c.out = req;
    c.out_off = 0;
    flush (c, idx);
  }

  /* Server frames (never masked). */
  void parse_frames (Conn &c, size_t idx, int64_t now)
  {
    size_t off = 0;
    while (c.in.size () - off >= 2)
      {
        const uint8_t *p = reinterpret_cast<const uint8_t *> (c.in.data ()) + off;
        size_t avail = c.in.size () - off;
        uint8_t op = p[0] & 0x0f;
        uint64_t len = p[1] & 0x7f;
        size_t h = 2;
        if (len == 126)
          {
            if (avail < 4)
              break;
            len = (uint64_t (p[2]) << 8) | p[3];
            h = 4;
          }
        else if (len == 127)
          {
            if (avail < 10)
              break;
            len = 0;
            for (int i = 0; i < 8; i++)
              len = (len << 8) | p[2 + i];
            h = 10;
          }
        if (p[1] & 0x80)
          h += 4; /* a masked server frame: not expected */
        if (avail < h + len)
          break;
        const char *payload = reinterpret_cast<const char *> (p + h);
        if (op == 1)
          on_text (c, payload, static_cast<size_t> (len), now);
        else if (op == 9)
          {
            frame (c, 0xA, payload, static_cast<size_t> (len));
            pongs++;
            flush (c, idx);
            if (c.st == St::Closed)
              return;
          }
        else if (op == 8)
          {
            close_conn (c, true);
            return;
          }
        off += h + len;
      }
    c.in.erase (0, off);
  }

  void on_text (Conn &c, const char *s, size_t n, int64_t now)
  {
    std::string t (s, n);
    if (t.find ("\"ack\"") != std::string::npos)
      {
        size_t k = t.find ("\"chunkIndex\"");
        if (k == std::string::npos)
          return;
        k = t.find (':', k);
        uint64_t idx = strtoull (t.c_str () + k + 1, nullptr, 10);
        acks++;
        if (idx + 1 > c.acked && idx < c.next_idx)
          {
            acked_total += idx + 1 - c.acked;
            c.acked = idx + 1;
          }
        if (idx % 4 == 3 && idx < c.next_idx && c.next_idx - idx <= kRing)
          {
            int64_t due = c.due[idx % kRing];
            if (due >= win_start && due < win_end)
              win_lat_us.push_back ((now - due) / 1000);
          }
      }
    else if (t.find ("\"error\"") != std::string::npos)
      {
        errors++;
        if (errors <= 5)
          fprintf (stderr, "loadgen: server error: %.200s\n", t.c_str ());
      }
    else
      other_msgs++;
  }

  void send_chunk (Conn &c, size_t idx, int64_t due, int64_t now, bool in_window)
  {
    scheduled++;
    if (in_window)
      {
        win_scheduled++;
        max_late_us = std::max (max_late_us, (now - due) / 1000);
      }
    if (c.out.size () - c.out_off > (1u << 20))
      {
        skipped++;
        if (in_window)
          win_skipped++;
        c.next_idx++; /* the speaker moves on: the receiver sees a gap */
        return;
      }
    uint64_t k = c.next_idx++;
    size_t ci = k == 0 ? 0 : 1 + (k - 1) % (b64.size () - 1);
    static std::string msg;
    msg.clear ();
    msg += "{\"action\":\"audioChunk\",\"sessionId\":\"";
    msg += c.sid;
    msg += "\",\"audioData\":\"";
    msg += b64[ci];
    char tail[192];
    snprintf (tail, sizeof tail, "\",\"timestamp\":%lld,\"format\":\"webm-opus\",\"chunkIndex\":%llu,\"originalSize\":%zu}",
              (long long) real_ms (), (unsigned long long) k, raw_size[ci]);
    msg += tail;
    c.due[k % kRing] = due;
    frame (c, 1, msg.data (), msg.size ());
    sent_msgs++;
    flush (c, idx);
  }
};

} // namespace

int
main (int argc, char **argv)
{
  Args args (argc, argv);
  Gen g;
  int port = static_cast<int> (args.num ("port", 0));
  int n = static_cast<int> (args.num ("speakers", 100));
  double rate = args.real ("rate", 4.0);
  double warmup = args.real ("warmup", 3);
  double duration = args.real ("duration", 10);
  double drain = args.real ("drain", 5);
  int concurrency = static_cast<int> (args.num ("concurrency", 64));
  double connect_timeout = args.real ("connect-timeout", 60);
  double connect_rate = args.real ("connect-rate", 0);
  std::string out_path = args.get ("out");
  std::string src_ip = args.get ("src-ip");
  std::string tag = args.get ("tag", "r");
  g.path = args.get ("path", "/ws");
  g.session_in_uri = !args.flag ("no-session-in-uri");

  std::vector<std::vector<uint8_t>> chunks;
  if (port <= 0 || !read_chunks (args.get ("chunks"), chunks) || chunks.size () < 2)
    {
      fprintf (stderr, "usage: loadgen --port P --chunks FILE --speakers N ...\n");
      return 2;
    }
  for (const auto &c : chunks)
    {
      g.b64.push_back (base64 (c));
      g.raw_size.push_back (c.size ());
    }

  rlimit rl;
  getrlimit (RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit (RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < static_cast<rlim_t> (n) + 64)
    {
      fprintf (stderr, "loadgen: file descriptor limit %llu is too low for %d speakers (ulimit -n)\n",
               (unsigned long long) rl.rlim_cur, n);
      return 1;
    }

  g.dst.sin_family = AF_INET;
  g.dst.sin_port = htons (static_cast<uint16_t> (port));
  inet_pton (AF_INET, "127.0.0.1", &g.dst.sin_addr);
  g.host = "127.0.0.1:" + std::to_string (port);
  if (!src_ip.empty ())
    {
      g.bind_src = true;
      g.src.sin_family = AF_INET;
      inet_pton (AF_INET, src_ip.c_str (), &g.src.sin_addr);
    }
  g.ep = epoll_create1 (EPOLL_CLOEXEC);
  g.conns.resize (n);
  for (int i = 0; i < n; i++)
    snprintf (g.conns[i].sid, sizeof g.conns[i].sid, "%s-spk-%06d", tag.c_str (), i);

  const int64_t period = static_cast<int64_t> (1e9 / rate);
  using Due = std::pair<int64_t, size_t>;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> sched;

  double cpu0 = cpu_seconds ();
  const int64_t t_begin = mono_ns ();
  int64_t t_all_open = 0;
  int open_after_connect = 0;
  size_t next_to_connect = 0;
  int in_flight = 0;
  enum
  {
    Connect,
    Warmup,
    Measure,
    Drain,
    Done
  } phase = Connect;
  int64_t phase_end = t_begin + static_cast<int64_t> (connect_timeout * 1e9);
  int64_t last_report = t_begin;
  std::vector<epoll_event> evs (1024);
  std::string readbuf (65536, '\0');

  while (phase != Done)
    {
      int64_t now = mono_ns ();
      /* open more connections */
      const size_t allowed = connect_rate > 0
                                 ? static_cast<size_t> ((now - t_begin) / 1e9 * connect_rate) + 1
                                 : g.conns.size ();
      while (phase == Connect && in_flight < concurrency && next_to_connect < g.conns.size ()
             && next_to_connect < allowed)
        {
          size_t i = next_to_connect++;
          if (g.start_connect (g.conns[i], i))
            in_flight++;
          else
            g.connect_fail++;
        }
      /* due messages */
      if (phase != Drain)
        while (!sched.empty () && sched.top ().first <= now)
          {
            auto [due, i] = sched.top ();
            sched.pop ();
            Conn &c = g.conns[i];
            if (c.st != St::Open)
              continue;
            g.send_chunk (c, i, due, now, phase == Measure && due >= g.win_start);
            sched.push ({ due + period, i });
          }
      /* phase changes */
      if (phase == Connect)
        {
          bool all = next_to_connect == g.conns.size () && in_flight == 0;
          if (all || now >= phase_end)
            {
              t_all_open = now;
              open_after_connect = g.open_count;
              phase = Warmup;
              phase_end = now + static_cast<int64_t> (warmup * 1e9);
              fprintf (stderr, "loadgen: %d/%d connected in %.2f s\n", g.open_count, n, (now - t_begin) / 1e9);
            }
        }
      else if (phase == Warmup && now >= phase_end)
        {
          phase = Measure;
          g.win_start = now;
          g.win_acked_start = g.acked_total;
          g.win_end = now + static_cast<int64_t> (duration * 1e9);
          phase_end = g.win_end;
        }
      else if (phase == Measure && now >= phase_end)
        {
          g.win_acked_end = g.acked_total;
          phase = Drain;
          phase_end = now + static_cast<int64_t> (drain * 1e9);
        }
      else if (phase == Drain)
        {
          bool idle = true;
          for (const auto &c : g.conns)
            if (c.st == St::Open && c.out_off < c.out.size ())
              idle = false;
          /* at least 1 s for the last acks, at most the drain time */
          if (now >= phase_end || (idle && now >= g.win_end + 1000000000LL))
            phase = Done;
        }
      if (now - last_report >= 1000000000LL)
        {
          last_report = now;
          fprintf (stderr, "loadgen: t=%.0f open=%d sent=%llu acks=%llu skipped=%llu errors=%llu\n",
                   (now - t_begin) / 1e9, g.open_count, (unsigned long long) g.sent_msgs, (unsigned long long) g.acks,
                   (unsigned long long) g.skipped, (unsigned long long) g.errors);
        }
      if (phase == Done)
        break;

      int timeout_ms = 1;
      if (!sched.empty () && phase != Drain && phase != Connect)
        {
          int64_t wait = sched.top ().first - mono_ns ();
          timeout_ms = wait <= 0 ? 0 : static_cast<int> (std::min<int64_t> (wait / 1000000, 50));
        }
      int ne = epoll_wait (g.ep, evs.data (), static_cast<int> (evs.size ()), timeout_ms);
      now = mono_ns ();
      for (int e = 0; e < ne; e++)
        {
          size_t i = evs[e].data.u64;
          Conn &c = g.conns[i];
          if (c.fd < 0)
            continue;
          uint32_t what = evs[e].events;
          if (c.st == St::Connecting)
            {
              if (what & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                {
                  g.on_connected (c, i);
                  if (c.st == St::Closed)
                    in_flight--;
                }
              continue;
            }
          if (what & EPOLLOUT)
            g.flush (c, i);
          if (c.st == St::Closed)
            continue;
          if (what & (EPOLLIN | EPOLLERR | EPOLLHUP))
            {
              for (;;)
                {
                  ssize_t r = recv (c.fd, &readbuf[0], readbuf.size (), 0);
                  if (r > 0)
                    {
                      c.in.append (readbuf.data (), static_cast<size_t> (r));
                      continue;
                    }
                  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                    break;
                  if (r < 0 && errno == EINTR)
                    continue;
                  if (c.st == St::Upgrading)
                    {
                      in_flight--;
                      g.connect_fail++;
                    }
                  g.close_conn (c, true);
                  break;
                }
              if (c.st == St::Upgrading)
                {
                  size_t end = c.in.find ("\r\n\r\n");
                  if (end != std::string::npos)
                    {
                      in_flight--;
                      if (c.in.compare (0, 12, "HTTP/1.1 101") == 0)
                        {
                          c.st = St::Open;
                          g.open_count++;
                          g.connect_ms.push_back ((now - c.t_connect) / 1e6);
                          c.in.erase (0, end + 4);
                          /* a random phase within one period */
                          int64_t first = now + static_cast<int64_t> (g.rand32 () % static_cast<uint32_t> (period / 1000)) * 1000;
                          sched.push ({ first, i });
                        }
                      else
                        {
                          if (g.connect_fail < 3)
                            fprintf (stderr, "loadgen: upgrade refused: %.80s\n", c.in.c_str ());
                          g.connect_fail++;
                          g.close_conn (c, false);
                        }
                    }
                }
              if (c.st == St::Open && !c.in.empty ())
                g.parse_frames (c, i, now);
            }
        }
    }
  double cpu1 = cpu_seconds ();
  int still_open = g.open_count;
  for (auto &c : g.conns)
    if (c.fd >= 0)
      g.close_conn (c, false);

  double win_s = (g.win_end - g.win_start) / 1e9;
  std::vector<int64_t> &lat = g.win_lat_us;
  char buf[2048];
  snprintf (buf, sizeof buf,
            "{\"speakers\":%d,\"rate\":%.2f,\"open_at_start\":%d,\"open_at_end\":%d,\"connect_s\":%.3f,"
            "\"connect_ms_p50\":%.2f,\"connect_ms_p99\":%.2f,\"connect_ms_max\":%.2f,\"connect_fail\":%llu,"
            "\"scheduled\":%llu,\"sent\":%llu,\"skipped\":%llu,\"acks\":%llu,\"errors\":%llu,\"server_closes\":%llu,"
            "\"pongs\":%llu,\"bytes_out\":%llu,\"window_start_mono\":%.6f,\"window_end_mono\":%.6f,\"window_s\":%.3f,"
            "\"window_scheduled\":%llu,\"window_skipped\":%llu,\"lat_samples\":%zu,\"lat_p50_us\":%lld,"
            "\"lat_p90_us\":%lld,\"lat_p99_us\":%lld,\"lat_max_us\":%lld,\"max_send_late_us\":%lld,\"gen_cpu_s\":%.3f,"
            "\"window_acked\":%llu}\n",
            n, rate, open_after_connect, still_open, (t_all_open - t_begin) / 1e9, percentile (g.connect_ms, 0.5),
            percentile (g.connect_ms, 0.99), g.connect_ms.empty () ? 0.0 : *std::max_element (g.connect_ms.begin (), g.connect_ms.end ()),
            (unsigned long long) g.connect_fail, (unsigned long long) g.scheduled, (unsigned long long) g.sent_msgs,
            (unsigned long long) g.skipped, (unsigned long long) g.acks, (unsigned long long) g.errors,
            (unsigned long long) g.server_closes, (unsigned long long) g.pongs, (unsigned long long) g.bytes_out,
            g.win_start / 1e9, g.win_end / 1e9, win_s, (unsigned long long) g.win_scheduled,
            (unsigned long long) g.win_skipped, lat.size (), (long long) percentile (lat, 0.5),
            (long long) percentile (lat, 0.9), (long long) percentile (lat, 0.99),
            (long long) (lat.empty () ? 0 : *std::max_element (lat.begin (), lat.end ())), (long long) g.max_late_us,
            cpu1 - cpu0, (unsigned long long) (g.win_acked_end - g.win_acked_start));
  fputs (buf, stdout);
  if (!out_path.empty ())
    {
      FILE *f = fopen (out_path.c_str (), "w");
      if (f)
        {
          fputs (buf, f);
          fclose (f);
        }
    }
  return 0;
}
