/* ingestbench: our receiver for the benchmarks: a wssac::IngestServer (the
 * code wssaudiochunk-ingest and wssaudiochunksrc run) on the default main
 * context, with the defaults of wssaudiochunk-ingest (keepalive pings every
 * 10 s, ack every 4 chunks, 128 KiB message limit).
 *
 * What it does per message is exactly what IngestServer + IngestCore do:
 * libsoup reads and unmasks the frame; decode_message() parses the JSON
 * (json-glib), validates every field and base64-decodes audioData;
 * IngestCore applies the session rules and the Reassembler restores
 * chunkIndex order; every 4th chunk an ack goes back. The event handler then
 * appends the delivered bytes to the session's byte stream, which it empties
 * every 64 KiB (where wssaudiochunk-ingest would hand them to its decoding
 * pipeline). Not done here: the GStreamer decode (matroskademux ! opusdec
 * ! ... ! wavenc) that wssaudiochunk-ingest runs per session.
 *
 * Once a second it prints a JSON line: its own CPU seconds, RSS, and
 * counters. With --arrivals FILE it records, per delivered chunk, the
 * CLOCK_MONOTONIC microsecond at which the event handler got it.
 *
 * Differences from wssaudiochunk-ingest's defaults: no per-address connection
 * limit (the load generator is one address), and with --no-rate-limit no
 * message-rate limit (for pipelines run faster than real time).
 *
 * usage: ingestbench [--port P] [--port-file F] [--arrivals F] [--max-seconds S]
 *                    [--no-rate-limit]
 */
#include "common.h"

#include "ingest-server.h"

#include <gst/gst.h>
#include <glib-unix.h>

#include <string>
#include <unordered_map>

using namespace bench;

namespace
{

struct Session
{
  std::vector<uint8_t> stream;
  uint64_t chunks = 0;
};

struct Arrival
{
  std::string session;
  uint64_t index;
  int64_t t_us;
  size_t bytes;
};

struct App
{
  wssac::IngestServer server;
  GMainLoop *loop = nullptr;
  std::unordered_map<std::string, Session> sessions;
  uint64_t delivered = 0, bytes = 0, started = 0, ended = 0, discont = 0;
  bool record = false;
  std::vector<Arrival> arrivals;
  int64_t t0 = 0;
};

void
print_stats (App &app, const char *tag)
{
  const auto s = app.server.stats ();
  printf ("{\"%s\":1,\"mono\":%.3f,\"cpu\":%.4f,\"rss_kib\":%ld,\"max_rss_kib\":%ld,\"msgs\":%llu,\"delivered\":%llu,"
          "\"bytes\":%llu,\"rejected\":%llu,\"open\":%llu,\"connections\":%llu,\"sessions\":%zu,\"discont\":%llu}\n",
          tag, mono_us () / 1e6, cpu_seconds (), rss_kib (), max_rss_kib (), (unsigned long long) s.messages,
          (unsigned long long) app.delivered, (unsigned long long) app.bytes, (unsigned long long) s.rejected,
          (unsigned long long) s.open_connections, (unsigned long long) s.connections, app.sessions.size (),
          (unsigned long long) app.discont);
  if (strcmp (tag, "final") == 0)
    for (const auto &kv : s.rejected_by_code)
      printf ("{\"rejected_code\":\"%s\",\"count\":%llu}\n", kv.first.c_str (), (unsigned long long) kv.second);
  fflush (stdout);
}

gboolean
on_tick (gpointer data)
{
  print_stats (*static_cast<App *> (data), "stats");
  return G_SOURCE_CONTINUE;
}

gboolean
on_quit (gpointer data)
{
  g_main_loop_quit (static_cast<App *> (data)->loop);
  return G_SOURCE_REMOVE;
}

} // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  Args args (argc, argv);
  App app;
  app.t0 = mono_us ();
  std::string arrivals = args.get ("arrivals");
  app.record = !arrivals.empty ();

  wssac::IngestServerConfig cfg;
  cfg.address = "127.0.0.1";
  cfg.port = static_cast<unsigned> (args.num ("port", 0));
  cfg.path = "/ws";
  cfg.core.max_sessions = 100000;
  /* The load generator's speakers all come from one address (as they would
   * through a load balancer): no per-address connection limit. */
  cfg.max_connections_per_address = 0;
  /* ... nor per-address caps on upgrades in progress and session creation
   * (thousands connect at once). */
  cfg.max_pending_per_address = 0;
  cfg.max_pending_total = 0;
  cfg.core.max_new_sessions_per_second = 0;
  /* --no-rate-limit: for pipelines run faster than real time (sync=false),
   * which send far more than the default 50 messages/s of one speaker. */
  if (args.flag ("no-rate-limit"))
    cfg.core.max_messages_per_second = 0;

  auto on_event = [&app] (wssac::IngestEvent &&ev) {
    switch (ev.kind)
      {
      case wssac::IngestEventKind::SessionStarted:
        app.started++;
        app.sessions[ev.session_id];
        break;
      case wssac::IngestEventKind::Audio:
        {
          Session &s = app.sessions[ev.session_id];
          if (s.stream.size () + ev.bytes.size () > 64 * 1024)
            s.stream.clear (); /* handed to the decoder */
          s.stream.insert (s.stream.end (), ev.bytes.begin (), ev.bytes.end ());
          s.chunks++;
          app.delivered++;
          app.bytes += ev.bytes.size ();
          if (ev.discont)
            app.discont++;
          if (app.record)
            app.arrivals.push_back ({ ev.session_id, ev.chunk_index, g_get_monotonic_time (), ev.bytes.size () });
          break;
        }
      case wssac::IngestEventKind::SessionEnded:
        app.ended++;
        app.sessions.erase (ev.session_id);
        break;
      default:
        break;
      }
  };

  std::string error;
  if (!app.server.start (nullptr, cfg, on_event, error))
    {
      fprintf (stderr, "ingestbench: %s\n", error.c_str ());
      return 1;
    }
  std::string port_file = args.get ("port-file");
  if (!port_file.empty ())
    {
      std::string tmp = port_file + ".tmp";
      FILE *f = fopen (tmp.c_str (), "w");
      fprintf (f, "%u\n", app.server.port ());
      fclose (f);
      rename (tmp.c_str (), port_file.c_str ());
    }
  fprintf (stderr, "ingestbench: listening on ws://127.0.0.1:%u/ws\n", app.server.port ());

  app.loop = g_main_loop_new (nullptr, FALSE);
  g_timeout_add (1000, on_tick, &app);
  g_unix_signal_add (SIGTERM, on_quit, &app);
  g_unix_signal_add (SIGINT, on_quit, &app);
  long max_s = args.num ("max-seconds", 1800);
  g_timeout_add_seconds (static_cast<guint> (max_s), on_quit, &app); /* never runs away */
  g_main_loop_run (app.loop);

  print_stats (app, "final");
  if (app.record)
    {
      FILE *f = fopen (arrivals.c_str (), "w");
      if (f)
        {
          for (const auto &a : app.arrivals)
            fprintf (f, "%s %llu %lld %zu\n", a.session.c_str (), (unsigned long long) a.index, (long long) a.t_us,
                     a.bytes);
          fclose (f);
        }
    }
  app.server.stop ();
  g_main_loop_unref (app.loop);
  return 0;
}
