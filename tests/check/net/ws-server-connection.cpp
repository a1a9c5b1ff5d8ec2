/* The receiver's own WebSocket data path (net/ws-server-connection.h) on
 * the timers a wire test cannot wait for: keepalive pings and the silent
 * peer, the first-message timeout, the close handshake's wait, and the
 * close on stop. An IngestServer on a thread, raw sockets on 127.0.0.1 as
 * clients (they send and read exactly the frames the cases need). The
 * frame rules themselves: tests/attacks/rfc6455.py and core/ws-frame. */
/* The standard headers first: check.h defines a macro "fail". */
#include <memory>
#include <string>

#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "context-thread.h"
#include "ingest-server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace
{

int64_t
now_ms ()
{
  return g_get_monotonic_time () / 1000;
}

class Rig
{
public:
  explicit Rig (const wssac::IngestServerConfig &config)
  {
    std::string error;
    fail_unless (thread_.start ("sessions", error), "%s", error.c_str ());
    bool ok = false;
    thread_.invoke ([&] {
      ok = server_.start (
          thread_.context (), config, [] (wssac::IngestEvent &&) {}, error);
    });
    fail_unless (ok, "%s", error.c_str ());
  }
  ~Rig ()
  {
    stop ();
    thread_.stop ();
  }
  unsigned
  port () const
  {
    return server_.port ();
  }
  void
  close_all (unsigned short code)
  {
    thread_.invoke ([&] { server_.close_all (code, "closing"); });
  }
  void
  stop ()
  {
    thread_.invoke ([&] { server_.stop (); });
  }

private:
  wssac::ContextThread thread_;
  wssac::IngestServer server_;
};

wssac::IngestServerConfig
config_with (unsigned keepalive_s, unsigned peer_timeout_s, unsigned first_message_s)
{
  wssac::IngestServerConfig c;
  c.keepalive_interval_s = keepalive_s;
  c.peer_timeout_s = peer_timeout_s;
  c.first_message_timeout_s = first_message_s;
  c.max_connections_per_address = 0;
  return c;
}

struct Frame
{
  uint8_t opcode = 0;
  std::string payload;
  unsigned
  close_code () const
  {
    return payload.size () >= 2 ? (uint8_t)payload[0] << 8 | (uint8_t)payload[1] : 0;
  }
};

/* A client on a blocking socket: the upgrade, masked frames out, the
 * server's frames in. */
class RawClient
{
public:
  enum Result
  {
    Got,
    Timeout,
    Eof
  };

  explicit RawClient (unsigned port)
  {
    fd_ = socket (AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons (port);
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    fail_unless (::connect (fd_, reinterpret_cast<sockaddr *> (&a), sizeof a) == 0);
    const std::string request
        = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          "Sec-WebSocket-Version: 13\r\n\r\n";
    fail_unless (send (fd_, request.data (), request.size (), MSG_NOSIGNAL)
                 == (ssize_t)request.size ());
    size_t end;
    while ((end = in_.find ("\r\n\r\n")) == std::string::npos)
      fail_unless (fill (5000), "no answer to the upgrade: \"%s\"", in_.c_str ());
    fail_unless (in_.compare (0, 12, "HTTP/1.1 101") == 0, "upgrade refused: \"%s\"", in_.c_str ());
    in_.erase (0, end + 4);
  }
  ~RawClient ()
  {
    ::close (fd_);
  }

  void
  send_frame (uint8_t opcode, const std::string &payload)
  {
    const uint8_t key[4] = { 0x11, 0x22, 0x33, 0x44 };
    std::string f;
    f += static_cast<char> (0x80 | opcode);
    f += static_cast<char> (0x80 | payload.size ()); /* the cases send <= 125 bytes */
    f.append (reinterpret_cast<const char *> (key), 4);
    for (size_t i = 0; i < payload.size (); i++)
      f += static_cast<char> (payload[i] ^ key[i % 4]);
    send (fd_, f.data (), f.size (), MSG_NOSIGNAL);
  }

  /* The next frame from the server, waiting up to @timeout_ms. */
  Result
  next (int timeout_ms, Frame &frame)
  {
    const int64_t deadline = now_ms () + timeout_ms;
    for (;;)
      {
        if (parse (frame))
          return Got;
        if (eof_)
          return Eof;
        const int64_t left = deadline - now_ms ();
        if (left <= 0)
          return Timeout;
        fill (static_cast<int> (left));
      }
  }

private:
  /* Reads what comes within @timeout_ms; false on timeout or end. */
  bool
  fill (int timeout_ms)
  {
    pollfd p = { fd_, POLLIN, 0 };
    if (poll (&p, 1, timeout_ms) <= 0)
      return false;
    char buf[4096];
    const ssize_t n = recv (fd_, buf, sizeof buf, 0);
    if (n <= 0)
      {
        eof_ = true;
        return false;
      }
    in_.append (buf, static_cast<size_t> (n));
    return true;
  }
  bool
  parse (Frame &frame)
  {
    if (in_.size () < 2)
      return false;
    size_t len = static_cast<uint8_t> (in_[1]) & 0x7f, at = 2;
    fail_unless ((static_cast<uint8_t> (in_[1]) & 0x80) == 0, "a masked frame from the server");
    if (len == 126)
      {
        if (in_.size () < 4)
          return false;
        len = static_cast<uint8_t> (in_[2]) << 8 | static_cast<uint8_t> (in_[3]);
        at = 4;
      }
    fail_unless (len < 65536, "the cases expect small frames");
    if (in_.size () < at + len)
      return false;
    frame.opcode = static_cast<uint8_t> (in_[0]) & 0x0f;
    frame.payload = in_.substr (at, len);
    in_.erase (0, at + len);
    return true;
  }

  int fd_;
  std::string in_;
  bool eof_ = false;
};

constexpr uint8_t kClose = 8, kPing = 9, kPong = 10;

} // namespace

/* Pings every keepalive interval: a client that answers them stays, one
 * that answers nothing is dropped after peer_timeout_s, without a close
 * frame (it would not read one). */
GST_START_TEST (test_keepalive_and_silent_peer)
{
  Rig rig (config_with (1, 3, 0));
  RawClient answering (rig.port ()), silent (rig.port ());
  const int64_t start = now_ms ();
  unsigned pings = 0, silent_pings = 0;
  int64_t silent_gone_ms = -1;
  while (now_ms () - start < 6000)
    {
      Frame f;
      RawClient::Result r = answering.next (50, f);
      fail_unless (r != RawClient::Eof,
                   "the answering client was dropped after %" G_GINT64_FORMAT " ms",
                   now_ms () - start);
      if (r == RawClient::Got)
        {
          fail_unless_equals_int (f.opcode, kPing);
          pings++;
          answering.send_frame (kPong, f.payload);
        }
      if (silent_gone_ms < 0)
        {
          r = silent.next (50, f);
          if (r == RawClient::Eof)
            silent_gone_ms = now_ms () - start;
          else if (r == RawClient::Got)
            {
              fail_unless (f.opcode == kPing, "the silent client got opcode %u", f.opcode);
              silent_pings++;
            }
        }
    }
  fail_unless (pings >= 3, "%u pings in 6 s at a 1 s interval", pings);
  fail_unless (silent_pings >= 1, "the silent client got no ping");
  fail_unless (silent_gone_ms >= 2000,
               "the silent client was dropped after %" G_GINT64_FORMAT " ms", silent_gone_ms);
}
GST_END_TEST;

/* A connection that says nothing after the upgrade gets 1008; the socket
 * closes once the client answers the close. */
GST_START_TEST (test_first_message_timeout)
{
  Rig rig (config_with (0, 0, 1));
  RawClient mute (rig.port ());
  Frame f;
  fail_unless_equals_int (mute.next (5000, f), RawClient::Got);
  fail_unless_equals_int (f.opcode, kClose);
  fail_unless_equals_int (f.close_code (), 1008);
  fail_unless (f.payload.substr (2) == "no message", "reason \"%s\"",
               f.payload.substr (2).c_str ());
  mute.send_frame (kClose, f.payload.substr (0, 2));
  const int64_t answered = now_ms ();
  fail_unless_equals_int (mute.next (3000, f), RawClient::Eof);
  fail_unless (now_ms () - answered < 3000);
}
GST_END_TEST;

/* A close of the server's: the socket closes at once when the client
 * answers, and after the handshake's wait when it does not. */
GST_START_TEST (test_close_handshake_wait)
{
  Rig rig (config_with (0, 0, 0));
  RawClient answers (rig.port ()), ignores (rig.port ());
  g_usleep (200000); /* both adopted by the worker */
  rig.close_all (1001);
  const int64_t closed = now_ms ();
  Frame f;
  fail_unless_equals_int (answers.next (3000, f), RawClient::Got);
  fail_unless_equals_int (f.opcode, kClose);
  fail_unless_equals_int (f.close_code (), 1001);
  answers.send_frame (kClose, f.payload.substr (0, 2));
  fail_unless_equals_int (answers.next (3000, f), RawClient::Eof);

  fail_unless_equals_int (ignores.next (3000, f), RawClient::Got);
  fail_unless_equals_int (f.close_code (), 1001);
  fail_unless_equals_int (ignores.next (15000, f), RawClient::Eof);
  const int64_t waited = now_ms () - closed;
  /* kCloseWaitMs (5 s), checked by the worker's one-second watchdog. */
  fail_unless (waited >= 4000, "the socket closed %" G_GINT64_FORMAT " ms after the close frame",
               waited);
}
GST_END_TEST;

/* The server stops: 1001 "server stopping", then the socket closes. */
GST_START_TEST (test_stop_closes_going_away)
{
  Rig rig (config_with (0, 0, 0));
  RawClient client (rig.port ());
  client.send_frame (kPing, "x"); /* adopted and served: its pong comes back */
  Frame f;
  fail_unless_equals_int (client.next (3000, f), RawClient::Got);
  fail_unless_equals_int (f.opcode, kPong);
  fail_unless (f.payload == "x");
  rig.stop ();
  fail_unless_equals_int (client.next (3000, f), RawClient::Got);
  fail_unless_equals_int (f.opcode, kClose);
  fail_unless_equals_int (f.close_code (), 1001);
  fail_unless (f.payload.substr (2) == "server stopping", "reason \"%s\"",
               f.payload.substr (2).c_str ());
  fail_unless_equals_int (client.next (3000, f), RawClient::Eof);
}
GST_END_TEST;

WSS_CHECK_MAIN (ws_server_connection, "ws-server-connection",
                { "timers", 120,
                  WSS_TESTS (test_keepalive_and_silent_peer, test_first_message_timeout,
                             test_close_handshake_wait, test_stop_closes_going_away) });
