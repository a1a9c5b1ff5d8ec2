/* IngestServer with several workers: the listening sockets (SO_REUSEPORT,
 * backlog SOMAXCONN), connections spread over both workers, a session
 * whose speaker reconnects onto the other worker mid-session (nothing of it
 * lost, nothing twice, in order), connections handed to the worker that
 * owns the session their upgrade request names, and each session's events
 * on one thread, its worker's. Real sockets on 127.0.0.1. */
/* The standard headers first: check.h defines a macro "fail". */
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <set>

#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "connection-gate.h"
#include "context-thread.h"
#include "ingest-server.h"
#include "message-codec.h"
#include "ws-test-client.h"

#include <glib/gstdio.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace
{

unsigned
port_of (GSocket *s)
{
  GSocketAddress *a = g_socket_get_local_address (s, nullptr);
  unsigned port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (a));
  g_object_unref (a);
  return port;
}

/* The accept queue's length as the kernel has it: for a listening socket
 * TCP_INFO's tcpi_sacked is sk_max_ack_backlog. */
unsigned
kernel_backlog (GSocket *s)
{
  struct tcp_info info = {};
  socklen_t len = sizeof info;
  fail_unless (getsockopt (g_socket_get_fd (s), IPPROTO_TCP, TCP_INFO, &info, &len) == 0);
  return info.tcpi_sacked;
}

unsigned
expected_backlog ()
{
  unsigned sysctl = SOMAXCONN;
  std::ifstream f ("/proc/sys/net/core/somaxconn");
  if (f)
    f >> sysctl;
  return std::min<unsigned> (SOMAXCONN, sysctl);
}

} // namespace

GST_START_TEST (test_listen_socket_backlog_and_reuseport)
{
  std::string error;
  GSocket *a = wssac::ConnectionGate::listen_socket ("127.0.0.1", 0, true, error);
  fail_unless (a != nullptr, "%s", error.c_str ());
  const unsigned port = port_of (a);
  fail_unless_equals_int (kernel_backlog (a), expected_backlog ());
  /* GLib's own default would be 10. */
  fail_unless (kernel_backlog (a) > 10);

  GSocket *b = wssac::ConnectionGate::listen_socket ("127.0.0.1", port, true, error);
  fail_unless (b != nullptr, "a second SO_REUSEPORT socket on the port: %s", error.c_str ());
  fail_unless_equals_int (port_of (b), port);
  fail_unless_equals_int (kernel_backlog (b), expected_backlog ());

  /* Without SO_REUSEPORT the port is taken. */
  GSocket *c = wssac::ConnectionGate::listen_socket ("127.0.0.1", port, false, error);
  fail_unless (c == nullptr);
  fail_unless (error.find ("could not listen") != std::string::npos, "%s", error.c_str ());

  error.clear ();
  fail_unless (wssac::ConnectionGate::listen_socket ("not-an-address", 0, false, error) == nullptr);
  fail_unless (error.find ("not an IP address") != std::string::npos);
  g_object_unref (a);
  g_object_unref (b);
}
GST_END_TEST;

namespace
{

/* An IngestServer with two workers; its sessions on a thread of their own. */
class Rig
{
public:
  explicit Rig (unsigned workers,
                const std::function<void (wssac::IngestServerConfig &)> &tweak = nullptr,
                wssac::IngestServer::AckGate gate = nullptr)
  {
    std::string error;
    fail_unless (thread_.start ("sessions", error), "%s", error.c_str ());
    if (gate)
      server_.set_ack_gate (std::move (gate));
    wssac::IngestServerConfig config;
    config.workers = workers;
    config.max_connections_per_address = 0;
    config.core.max_new_sessions_per_second = 0;
    config.core.ack_every = 4;
    if (tweak)
      tweak (config);
    scheme_ = config.tls_cert_file.empty () ? "ws" : "wss";
    bool ok = false;
    thread_.invoke ([&] {
      ok = server_.start (
          thread_.context (), config,
          [this] (wssac::IngestEvent &&ev) { on_event (std::move (ev)); }, error);
    });
    fail_unless (ok, "%s", error.c_str ());
  }
  ~Rig ()
  {
    thread_.invoke ([&] { server_.stop (); });
    thread_.stop ();
  }

  std::string
  url () const
  {
    return scheme_ + "://127.0.0.1:" + std::to_string (server_.port ()) + "/ws";
  }
  unsigned
  worker_of (const std::string &session_id) const
  {
    return server_.worker_of_session (session_id);
  }
  std::vector<uint64_t>
  steered_in ()
  {
    return server_.server_stats ().worker_steered_in;
  }
  wssac::IngestStats
  stats () const
  {
    return server_.stats ();
  }

  std::vector<uint64_t>
  per_worker ()
  {
    std::vector<uint64_t> v;
    thread_.invoke ([&] { v = server_.server_stats ().worker_connections; });
    return v;
  }
  /* Waits until @n connections have been upgraded in all; the counts then. */
  std::vector<uint64_t>
  wait_connections (uint64_t n)
  {
    for (int i = 0; i < 1000; i++)
      {
        auto v = per_worker ();
        if (std::accumulate (v.begin (), v.end (), uint64_t (0)) >= n)
          return v;
        g_usleep (10000);
      }
    fail ("the server did not see %" G_GUINT64_FORMAT " connections", n);
    return {};
  }
  wssac::SessionStats
  session (const std::string &id)
  {
    wssac::SessionStats s;
    server_.session_stats (id, s); /* any thread */
    return s;
  }
  bool
  wait_speaker (const std::string &id, bool connected)
  {
    for (int i = 0; i < 1000; i++)
      {
        if (session (id).speaker_connected == connected)
          return true;
        g_usleep (10000);
      }
    return false;
  }

  struct Recording
  {
    std::vector<uint64_t> indices;
    std::vector<uint8_t> bytes;
    bool ended = false;
  };
  Recording
  recording (const std::string &id)
  {
    std::lock_guard<std::mutex> g (lock_);
    return recordings_[id];
  }
  bool
  wait_ended (const std::string &id)
  {
    for (int i = 0; i < 1000; i++)
      {
        if (recording (id).ended)
          return true;
        g_usleep (10000);
      }
    return false;
  }

  /* The threads @id's events came from. */
  std::set<GThread *>
  threads_of (const std::string &id)
  {
    std::lock_guard<std::mutex> g (lock_);
    return threads_[id];
  }
  /* Audio events of @id so far. */
  size_t
  audio_events (const std::string &id)
  {
    std::lock_guard<std::mutex> g (lock_);
    return recordings_[id].indices.size ();
  }
  /* Whether any event came on the thread that started the server. */
  bool
  on_caller_thread ()
  {
    std::lock_guard<std::mutex> g (lock_);
    return on_caller_thread_;
  }

private:
  std::string scheme_;
  bool on_caller_thread_ = false;
  std::map<std::string, std::set<GThread *>> threads_;
  void
  on_event (wssac::IngestEvent &&ev)
  {
    std::lock_guard<std::mutex> g (lock_);
    threads_[ev.session_id].insert (g_thread_self ());
    if (g_main_context_is_owner (thread_.context ()))
      on_caller_thread_ = true;
    Recording &r = recordings_[ev.session_id];
    if (ev.kind == wssac::IngestEventKind::Audio)
      {
        r.indices.push_back (ev.chunk_index);
        r.bytes.insert (r.bytes.end (), ev.bytes.begin () + ev.header_size, ev.bytes.end ());
      }
    else if (ev.kind == wssac::IngestEventKind::SessionEnded)
      r.ended = true;
  }

  wssac::ContextThread thread_;
  wssac::IngestServer server_;
  std::mutex lock_;
  std::map<std::string, Recording> recordings_;
};

std::vector<uint8_t>
chunk_bytes (uint64_t index)
{
  std::vector<uint8_t> b (200 + index);
  for (size_t i = 0; i < b.size (); i++)
    b[i] = static_cast<uint8_t> (index * 31 + i);
  return b;
}

std::string
chunk_message (const std::string &session, uint64_t index)
{
  std::vector<uint8_t> b = chunk_bytes (index);
  wssac::AudioChunkFields f;
  f.session_id = session;
  f.audio = b.data ();
  f.audio_size = b.size ();
  f.timestamp_ms = 1000 + static_cast<int64_t> (index) * 250;
  f.chunk_index = index;
  return wssac::encode_audio_chunk (f);
}

std::unique_ptr<WsTestClient>
connect (Rig &rig)
{
  auto c = std::make_unique<WsTestClient> ();
  std::string error;
  fail_unless (c->connect (rig.url (), error), "%s", error.c_str ());
  return c;
}

/* Ends @sid from @c; its recording must hold chunks 0..@last once each,
 * in order, and its events must have come from one thread. */
void
end_and_check (Rig &rig, WsTestClient &c, const std::string &sid, uint64_t last)
{
  c.send_text (wssac::encode_control (wssac::Action::EndSession, sid, 5000, "done"));
  fail_unless (rig.wait_ended (sid), "%s did not end", sid.c_str ());
  std::vector<uint64_t> want (last + 1);
  std::iota (want.begin (), want.end (), uint64_t (0));
  fail_unless (rig.recording (sid).indices == want, "%s: not chunks 0..%" G_GUINT64_FORMAT " once each",
               sid.c_str (), last);
  fail_unless_equals_int (rig.threads_of (sid).size (), 1);
}

/* The worker that took the connection just made: the one whose count grew. */
unsigned
new_connection_worker (const std::vector<uint64_t> &before, const std::vector<uint64_t> &after)
{
  for (unsigned i = 0; i < after.size (); i++)
    if (after[i] > before[i])
      return i;
  fail ("no worker took the connection");
  return 0;
}

} // namespace

GST_START_TEST (test_reconnect_onto_other_worker)
{
  Rig rig (2);
  const std::string sid = "shard-session-0001";

  /* Other speakers until both workers serve connections (the kernel picks
   * by the 4-tuple; bounded). */
  std::vector<std::unique_ptr<WsTestClient>> others;
  uint64_t total = 0;
  std::vector<uint64_t> counts = { 0, 0 };
  while ((counts[0] == 0 || counts[1] == 0) && others.size () < 64)
    {
      others.push_back (connect (rig));
      counts = rig.wait_connections (++total);
      const std::string other = "shard-other-" + std::to_string (others.size ());
      others.back ()->send_text (chunk_message (other, 0));
    }
  fail_unless (counts[0] > 0 && counts[1] > 0, "connections on one worker only");

  /* The speaker of @sid: chunks 0..4, acknowledged up to 3. */
  auto before = rig.per_worker ();
  auto first = connect (rig);
  const unsigned first_worker = new_connection_worker (before, rig.wait_connections (++total));
  for (uint64_t i = 0; i <= 4; i++)
    first->send_text (chunk_message (sid, i));
  fail_unless (first->wait_for_replies (1, 10000));
  fail_unless (first->replies ()[0].find ("\"action\":\"ack\"") != std::string::npos, "%s",
               first->replies ()[0].c_str ());
  fail_unless (rig.wait_speaker (sid, true));
  first->close ();
  first.reset ();
  fail_unless (rig.wait_speaker (sid, false));

  /* It reconnects; until the kernel puts it on the other worker, a
   * connection on the same one leaves again without a word. */
  std::unique_ptr<WsTestClient> second;
  for (int tries = 0; tries < 64 && !second; tries++)
    {
      before = rig.per_worker ();
      auto c = connect (rig);
      if (new_connection_worker (before, rig.wait_connections (++total)) != first_worker)
        second = std::move (c);
      else
        c->close ();
    }
  fail_unless (second != nullptr, "no connection landed on the other worker");
  /* It replays 3 and 4 (it could not know they arrived), then goes on. */
  for (uint64_t i = 3; i <= 9; i++)
    second->send_text (chunk_message (sid, i));
  second->send_text (wssac::encode_control (wssac::Action::EndSession, sid, 5000, "done"));
  fail_unless (rig.wait_ended (sid));

  Rig::Recording r = rig.recording (sid);
  std::vector<uint64_t> want_indices;
  std::vector<uint8_t> want_bytes;
  for (uint64_t i = 0; i <= 9; i++)
    {
      want_indices.push_back (i);
      auto b = chunk_bytes (i);
      want_bytes.insert (want_bytes.end (), b.begin (), b.end ());
    }
  fail_unless (r.indices == want_indices, "delivered %zu chunks, want 0..9 once each",
               r.indices.size ());
  fail_unless (r.bytes == want_bytes, "the recording's bytes differ from what was sent");
  wssac::SessionStats s = rig.session (sid);
  fail_unless_equals_uint64 (s.duplicates, 2);
  fail_unless_equals_uint64 (s.takeovers, 1);
  fail_unless_equals_uint64 (s.delivered, 10);
  fail_unless_equals_uint64 (s.missing, 0);

  /* Every session's events on one thread, a worker's (whichever worker
   * read its messages). */
  fail_unless (!rig.on_caller_thread (), "an event on the thread that started the server");
  fail_unless_equals_int (rig.threads_of (sid).size (), 1);
  /* The other speakers' sessions are each whole; both workers own some. */
  std::set<GThread *> threads;
  std::set<unsigned> owners;
  for (size_t i = 1; i <= others.size (); i++)
    {
      const std::string other = "shard-other-" + std::to_string (i);
      auto o = rig.recording (other);
      fail_unless (o.indices == std::vector<uint64_t> ({ 0 }), "speaker %zu", i);
      auto t = rig.threads_of (other);
      fail_unless_equals_int (t.size (), 1);
      threads.insert (*t.begin ());
      owners.insert (rig.worker_of (other));
    }
  fail_unless_equals_int (threads.size (), owners.size ());
  /* A connection counts once, wherever its session lives. */
  fail_unless_equals_uint64 (rig.stats ().connections, total);
}
GST_END_TEST;

/* One worker: no thread, everything on the sessions' context, as before. */
/* The ack gate (what the ingest program stores its journal with) is asked
 * on the session's own worker, after the audio an ack stands for was handed
 * over, before that ack leaves; a gate that says no withholds the ack and
 * every later one of that session, and no other session's. */
GST_START_TEST (test_ack_gate)
{
  struct Call
  {
    std::string session;
    GThread *thread;
    size_t audio_before;
  };
  std::mutex lock;
  std::vector<Call> calls;
  Rig *rig_ptr = nullptr;
  Rig rig (2, nullptr, [&] (const std::string &sid) {
    const size_t audio = rig_ptr->audio_events (sid);
    std::lock_guard<std::mutex> g (lock);
    calls.push_back ({ sid, g_thread_self (), audio });
    return sid != "unstored";
  });
  rig_ptr = &rig;
  auto kept = connect (rig);
  auto lost = connect (rig);
  for (uint64_t i = 0; i <= 7; i++)
    {
      kept->send_text (chunk_message ("stored", i));
      lost->send_text (chunk_message ("unstored", i));
    }
  fail_unless (kept->wait_for_replies (2, 10000));
  const auto acks = kept->replies ();
  fail_unless (acks[0].find ("\"chunkIndex\":3") != std::string::npos, "%s", acks[0].c_str ());
  fail_unless (acks[1].find ("\"chunkIndex\":7") != std::string::npos, "%s", acks[1].c_str ());
  end_and_check (rig, *kept, "stored", 7);
  end_and_check (rig, *lost, "unstored", 7);
  /* The unstored session's audio was delivered, never acknowledged. */
  fail_unless_equals_int (lost->replies ().size (), 0);

  std::lock_guard<std::mutex> g (lock);
  std::vector<size_t> stored;
  size_t unstored = 0;
  for (const Call &c : calls)
    {
      fail_unless (rig.threads_of (c.session) == std::set<GThread *> ({ c.thread }),
                   "%s: gate asked on another thread than its events'", c.session.c_str ());
      if (c.session == "stored")
        stored.push_back (c.audio_before);
      else
        unstored++;
    }
  /* Before the acks of chunks 3 and 7, and of 7 again at the end of the
   * session: each time with at least the chunks it stands for delivered. */
  fail_unless_equals_int (stored.size (), 3);
  fail_unless (stored[0] >= 4 && stored[1] >= 8 && stored[2] == 8, "gate asked with %zu, %zu, %zu delivered",
               stored[0], stored[1], stored[2]);
  /* Asked once: after a no, the session's acks are withheld without asking. */
  fail_unless_equals_int (unstored, 1);
}
GST_END_TEST;

/* How fast an address starts sessions is counted once for all workers:
 * with a burst of 4, four sessions that all live on worker 0 start (split
 * per worker, the burst was 2 there), and a fifth, on worker 1, does not. */
/* Sessions on worker 0 and worker 1: four of the first, then one of the other. */
static std::vector<std::string>
four_on_worker_0_then_one_on_1 (Rig &rig)
{
  std::vector<std::string> ids;
  std::string other;
  for (int i = 0; ids.size () < 4 || other.empty (); i++)
    {
      const std::string id = "start-" + std::to_string (i);
      if (rig.worker_of (id) == 0 && ids.size () < 4)
        ids.push_back (id);
      else if (rig.worker_of (id) == 1 && other.empty ())
        other = id;
    }
  ids.push_back (other);
  return ids;
}

/* Starts each of @ids (chunks 0..3 on a connection of its own): the first
 * four are acked, the fifth is refused with @refusal. */
static void
expect_four_started_then (Rig &rig, const std::vector<std::string> &ids, const char *refusal,
                          std::vector<std::unique_ptr<WsTestClient>> &clients)
{
  for (size_t n = 0; n < ids.size (); n++)
    {
      clients.push_back (connect (rig));
      WsTestClient &c = *clients.back ();
      for (uint64_t i = 0; i <= 3; i++)
        c.send_text (chunk_message (ids[n], i));
      fail_unless (c.wait_for_replies (n < 4 ? 1 : 4, 10000), "%s: no reply", ids[n].c_str ());
      const std::string reply = c.replies ()[0];
      if (n < 4)
        fail_unless (reply.find ("\"action\":\"ack\"") != std::string::npos, "%s: %s",
                     ids[n].c_str (), reply.c_str ());
      else
        fail_unless (reply.find (refusal) != std::string::npos, "%s: %s", ids[n].c_str (),
                     reply.c_str ());
    }
}

/* The live sessions are counted once for all workers: with a limit of 4,
 * four sessions that all live on worker 0 start (split per worker, the
 * limit was 2 there), and a fifth, on worker 1, does not. */
GST_START_TEST (test_live_sessions_counted_once)
{
  Rig rig (2, [] (wssac::IngestServerConfig &c) { c.core.max_sessions = 4; });
  std::vector<std::unique_ptr<WsTestClient>> clients;
  expect_four_started_then (rig, four_on_worker_0_then_one_on_1 (rig), "too-many-sessions", clients);
}
GST_END_TEST;

GST_START_TEST (test_session_starts_counted_once)
{
  Rig rig (2, [] (wssac::IngestServerConfig &c) {
    c.core.max_new_sessions_per_second = 0.001;
    c.core.new_session_burst = 4;
  });
  std::vector<std::unique_ptr<WsTestClient>> clients;
  expect_four_started_then (rig, four_on_worker_0_then_one_on_1 (rig), "too-many-new-sessions",
                            clients);
}
GST_END_TEST;

GST_START_TEST (test_one_worker)
{
  Rig rig (1);
  auto c = connect (rig);
  fail_unless_equals_int (rig.wait_connections (1).size (), 1);
  for (uint64_t i = 0; i <= 3; i++)
    c->send_text (chunk_message ("solo", i));
  fail_unless (c->wait_for_replies (1, 10000));
  c->send_text (wssac::encode_control (wssac::Action::EndSession, "solo", 5000, "done"));
  fail_unless (rig.wait_ended ("solo"));
  fail_unless (rig.recording ("solo").indices == std::vector<uint64_t> ({ 0, 1, 2, 3 }));
}
GST_END_TEST;

/* A request that names its session (as the sink does: ?sessionId=<id>, or
 * <path>/<id>) is served by the worker owning that session, whichever
 * worker the kernel gave it to: no message crosses threads. */
GST_START_TEST (test_upgrade_handed_to_owner)
{
  Rig rig (2);
  uint64_t total = 0;
  std::set<unsigned> owners;
  for (int i = 0; i < 16; i++)
    {
      const std::string sid = "steer " + std::to_string (i);
      auto before = rig.per_worker ();
      auto c = std::make_unique<WsTestClient> ();
      std::string error;
      const std::string url = i % 2 ? rig.url () + "?token=x&sessionId=steer%20" + std::to_string (i)
                                    : rig.url () + "/steer%20" + std::to_string (i);
      fail_unless (c->connect (url, error), "%s", error.c_str ());
      fail_unless_equals_int (new_connection_worker (before, rig.wait_connections (++total)),
                              rig.worker_of (sid));
      owners.insert (rig.worker_of (sid));
      for (uint64_t k = 0; k <= 3; k++)
        c->send_text (chunk_message (sid, k));
      fail_unless (c->wait_for_replies (1, 10000));
      fail_unless (c->replies ()[0].find ("\"action\":\"ack\"") != std::string::npos, "%s",
                   c->replies ()[0].c_str ());
      end_and_check (rig, *c, sid, 3);
    }
  fail_unless_equals_int (owners.size (), 2);
  /* The kernel spreads connections by their 4-tuple: of 16, some landed
   * on the worker that does not own their session and were handed over. */
  auto steered = rig.steered_in ();
  fail_unless (std::accumulate (steered.begin (), steered.end (), uint64_t (0)) > 0);
  fail_unless_equals_uint64 (rig.stats ().connections, total);
}
GST_END_TEST;

namespace
{
/* A self-signed certificate for 127.0.0.1 in a directory of its own. */
class TestCertificate
{
public:
  TestCertificate ()
  {
    dir_ = g_dir_make_tmp ("wssac-workers-XXXXXX", nullptr);
    const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                            "-days 2 -subj /CN=127.0.0.1 -keyout " + key () + " -out " + cert ()
                            + " 2>/dev/null";
    fail_unless (system (cmd.c_str ()) == 0, "openssl failed");
  }
  ~TestCertificate ()
  {
    g_unlink (key ().c_str ());
    g_unlink (cert ().c_str ());
    g_rmdir (dir_.c_str ());
  }
  std::string cert () const { return dir_ + "/server.pem"; }
  std::string key () const { return dir_ + "/server.key"; }

private:
  std::string dir_;
};
} // namespace

/* The other ways a connection is served: wss:// (read through GIO, not
 * the epoll set) is handed over like a plain one; permessage-deflate keeps
 * the connection with libsoup on the worker that took it, and its messages
 * travel to the session's worker and its replies back. Either way every
 * session is whole, acknowledged, and its events come from one thread. */
GST_START_TEST (test_tls_and_deflate_connections)
{
  TestCertificate tls;
  for (bool deflate : { false, true })
    {
      Rig rig (2, [&] (wssac::IngestServerConfig &c) {
        if (deflate)
          c.permessage_deflate = true;
        else
          {
            c.tls_cert_file = tls.cert ();
            c.tls_key_file = tls.key ();
          }
      });
      uint64_t total = 0;
      std::set<unsigned> owners;
      for (int i = 0; i < 12; i++)
        {
          const std::string sid = std::string (deflate ? "deflate-" : "tls-") + std::to_string (i);
          auto before = rig.per_worker ();
          auto c = std::make_unique<WsTestClient> ();
          std::string error;
          fail_unless (c->connect (rig.url () + "?sessionId=" + sid, error), "%s", error.c_str ());
          const unsigned served_by = new_connection_worker (before, rig.wait_connections (++total));
          if (!deflate)
            {
              fail_unless_equals_int (served_by, rig.worker_of (sid));
            }
          owners.insert (rig.worker_of (sid));
          for (uint64_t k = 0; k <= 7; k++)
            c->send_text (chunk_message (sid, k));
          fail_unless (c->wait_for_replies (2, 10000), "%s", sid.c_str ());
          for (const auto &r : c->replies ())
            fail_unless (r.find ("\"action\":\"ack\"") != std::string::npos, "%s", r.c_str ());
          end_and_check (rig, *c, sid, 7);
        }
      fail_unless_equals_int (owners.size (), 2);
      auto steered = rig.steered_in ();
      const uint64_t handed = std::accumulate (steered.begin (), steered.end (), uint64_t (0));
      if (deflate)
        {
          fail_unless_equals_uint64 (handed, 0);
        }
      else
        {
          fail_unless (handed > 0);
        }
      fail_unless_equals_uint64 (rig.stats ().connections, total);
    }
}
GST_END_TEST;

/* A connection that spoke before naming a session (refused: no-session)
 * moves to the owner of the first session it names; after that it may name
 * no other, wherever that one lives. */
GST_START_TEST (test_first_named_session_routes)
{
  Rig rig (2);
  /* Two sessions with different owners. */
  std::string a = "route-a", b;
  for (int i = 0; b.empty () && i < 100; i++)
    if (rig.worker_of ("route-b" + std::to_string (i)) != rig.worker_of (a))
      b = "route-b" + std::to_string (i);
  fail_unless (!b.empty ());
  for (const std::string &first : { a, b })
    {
      const std::string other = first == a ? b : a;
      auto c = connect (rig);
      /* The original protocol's pause carries no sessionId. */
      c->send_text ("{\"action\":\"pauseBroadcast\",\"timestamp\":1000}");
      fail_unless (c->wait_for_replies (1, 10000));
      fail_unless (c->replies ()[0].find ("\"code\":\"no-session\"") != std::string::npos, "%s",
                   c->replies ()[0].c_str ());
      for (uint64_t k = 0; k <= 3; k++)
        c->send_text (chunk_message (first, k));
      fail_unless (c->wait_for_replies (2, 10000));
      fail_unless (c->replies ()[1].find ("\"action\":\"ack\"") != std::string::npos, "%s",
                   c->replies ()[1].c_str ());
      const size_t other_before = rig.recording (other).indices.size ();
      c->send_text (chunk_message (other, 0));
      fail_unless (c->wait_for_replies (3, 10000));
      fail_unless (c->replies ()[2].find ("one-session-per-connection") != std::string::npos, "%s",
                   c->replies ()[2].c_str ());
      end_and_check (rig, *c, first, 3);
      fail_unless_equals_int (rig.recording (other).indices.size (), other_before);
      c->close ();
    }
  wssac::IngestStats st = rig.stats ();
  fail_unless_equals_uint64 (st.connections, 2);
  fail_unless_equals_uint64 (st.rejected_by_code["no-session"], 2);
  fail_unless_equals_uint64 (st.rejected_by_code["one-session-per-connection"], 2);
}
GST_END_TEST;

WSS_CHECK_MAIN (ingest_workers, "ingest-workers",
                { "workers", 120,
                  WSS_TESTS (test_listen_socket_backlog_and_reuseport,
                             test_reconnect_onto_other_worker, test_upgrade_handed_to_owner,
                             test_first_named_session_routes, test_tls_and_deflate_connections,
                             test_one_worker, test_ack_gate, test_session_starts_counted_once,
                             test_live_sessions_counted_once) });
