/* wssaudiochunk-ingest: receives many wssaudiochunk speakers on one
 * WebSocket port and records every session: OUTDIR/SESSION.webm (the bytes
 * as received, the journal every ack stands for) with its index
 * SESSION.chunks, SESSION.wav (16 kHz mono S16LE, unless --record webm)
 * and SESSION.json (the session's figures).
 *
 * --workers N threads (default: one per online CPU) serve the connections
 * and the sessions: each its own GMainContext, libsoup server for the
 * upgrade, our WebSocket frame code after it (ws-server-connection.h),
 * SO_REUSEPORT socket, and the sessions whose id hashes to it
 * (ingest-server.h). A session's events, hence its writer (journal,
 * decoding), run on its worker's thread; the main thread runs the idle
 * check, the periodic WAV header updates, the summaries and the signal
 * handlers. With --workers 1 everything runs on the main thread. */
#include "file-names.h"
#include "ingest-server.h"
#include "session-recovery.h"
#include "session-writer.h"

#include <gst/gst.h>
#include <glib-unix.h>

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <atomic>
#include <map>
#include <mutex>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace
{


struct Options
{
  std::string address = "127.0.0.1";
  int port = 8080;
  std::string path = "/ws";
  std::string output_dir = "./recordings";
  gint64 max_message_size = 128 * 1024;
  int reorder_wait_ms = 1000;
  int idle_timeout_s = 30;
  std::string port_file;
  bool quiet = false;
  std::string tls_cert, tls_key, token_file;
  std::vector<std::string> allowed_origins;
  int max_sessions = 10000;
  int max_connections_per_address = 16;
  double max_messages_per_second = 50;
  bool record_wav = true; /* --record wav|webm */
  bool fsync = false;
  int header_timeout_ms = 10000;
  bool bind_session_to_token = true;
  double max_new_sessions_per_second = 10;
  bool permessage_deflate = false;
  int workers = 0; /* 0: one per online CPU */
  int batch_wait_us = 1000;
};

/* Raises the soft RLIMIT_NOFILE to the hard one and sizes the limits from
 * it, so that the process refuses (503, too-many-sessions) before it runs
 * out of descriptors in the middle of a session. */
void
size_limits_from_fds (const Options &opt, wssac::IngestServerConfig &config)
{
  struct rlimit rl;
  uint64_t before = 0;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0)
    {
      before = rl.rlim_cur;
      if (rl.rlim_cur < rl.rlim_max)
        {
          rl.rlim_cur = rl.rlim_max;
          setrlimit (RLIMIT_NOFILE, &rl);
        }
    }
  uint64_t limit = wssac::ConnectionGate::fd_limit ();
  if (limit == 0)
    limit = 1u << 20;
  const uint64_t reserve = std::max<uint64_t> (64, limit / 16);
  const uint64_t pending_total = std::min<uint64_t> (1024, limit / 4);
  const uint64_t per_address = std::max<uint64_t> (8, pending_total / 4);
  /* A session: its socket, the journal and its index, and the WAV. */
  const uint64_t fds_per_session = opt.record_wav ? 4 : 3;
  const uint64_t room = limit > reserve + pending_total ? limit - reserve - pending_total : 1;
  const uint64_t max_sessions = std::max<uint64_t> (1, std::min<uint64_t> (opt.max_sessions, room / fds_per_session));
  config.fd_reserve = static_cast<unsigned> (reserve);
  config.max_pending_total = static_cast<unsigned> (pending_total);
  config.max_pending_per_address = static_cast<unsigned> (per_address);
  config.core.max_sessions = static_cast<size_t> (max_sessions);
  if (!opt.quiet)
    printf ("file descriptors: limit %" G_GUINT64_FORMAT "%s; sessions at most %" G_GUINT64_FORMAT
            "%s; connections waiting for their upgrade at most %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
            " per address, %d ms each); 503 when fewer than %" G_GUINT64_FORMAT " descriptors are free\n",
            (guint64) limit, before && before != limit ? (" (raised from " + std::to_string (before) + ")").c_str () : "",
            (guint64) max_sessions, max_sessions < (uint64_t) opt.max_sessions ? " (bounded by the descriptors)" : "",
            (guint64) pending_total, (guint64) per_address, opt.header_timeout_ms, (guint64) reserve);
}

struct Row
{
  std::string session_id;
  std::string format;
  wssac::SessionStats stats;
  double seconds = 0.0;
  std::string end_reason;
  std::string status;
};

/* Client-chosen strings go to the terminal escaped. */
std::string
printable (const std::string &s)
{
  gchar *e = g_strescape (s.c_str (), nullptr);
  std::string out (e);
  g_free (e);
  return out;
}

class IngestApp
{
public:
  explicit IngestApp (Options options) : opt_ (std::move (options)) {}
  ~IngestApp ()
  {
    if (idle_check_)
      g_source_remove (idle_check_);
    if (writer_tick_)
      g_source_remove (writer_tick_);
    for (guint id : signal_sources_)
      g_source_remove (id);
    if (loop_)
      g_main_loop_unref (loop_);
  }

  int run ();

private:
  void on_event (wssac::IngestEvent &&ev);
  bool commit_writer (const std::string &session_id);
  void end_writer (const std::string &session_id, const std::string &reason);
  void on_writer_done (wssac_ingest::SessionWriter &w);
  void tick_writers ();
  void check_idle ();
  void on_signal (int signum);
  void maybe_quit ();
  void print_table () const;
  void progress (const char *fmt, ...) const G_GNUC_PRINTF (2, 3);

  /* The sessions receiving audio, by id: one table per worker, since a
   * session's events come from its worker's thread; the main thread takes
   * the lock for its periodic work. Locks: a table's, then lock_. */
  struct Table
  {
    std::mutex lock;
    std::unordered_map<std::string, std::unique_ptr<wssac_ingest::SessionWriter>> writers;
  };
  Table &
  table_of (const std::string &session_id)
  {
    return *tables_[server_.worker_of_session (session_id)];
  }
  /* @final_stats: the SessionEnded event's; nullptr: asked from the server. */
  void end_writer_locked (Table &t, const std::string &session_id, const std::string &reason,
                          const wssac::SessionStats *final_stats = nullptr);

  Options opt_;
  wssac::IngestServer server_;
  GMainLoop *loop_ = nullptr;
  std::vector<std::unique_ptr<Table>> tables_;
  std::atomic<size_t> open_writers_{ 0 };
  std::mutex lock_; /* what follows */
  /* Ended sessions whose pipeline is draining, with their final figures
   * (taken at SessionEnded). Apart from the tables so that a session id the
   * core lets start again never meets its predecessor. */
  struct Finishing
  {
    std::unique_ptr<wssac_ingest::SessionWriter> writer;
    wssac::SessionStats stats;
  };
  std::map<const wssac_ingest::SessionWriter *, Finishing> finishing_;
  std::vector<Row> rows_;
  std::atomic<bool> shutting_down_{ false };
  guint idle_check_ = 0;
  guint writer_tick_ = 0;
  int64_t last_trim_ms_ = 0;
  bool trim_pending_ = false;
  std::vector<guint> signal_sources_;
};

void
IngestApp::progress (const char *fmt, ...) const
{
  if (opt_.quiet)
    return;
  va_list args;
  va_start (args, fmt);
  gchar *text = g_strdup_vprintf (fmt, args);
  va_end (args);
  fprintf (stdout, "%s\n", text);
  fflush (stdout);
  g_free (text);
}

void
IngestApp::tick_writers ()
{
  const int64_t now_ms = g_get_monotonic_time () / 1000;
  for (auto &t : tables_)
    {
      std::lock_guard<std::mutex> g (t->lock);
      for (auto &kv : t->writers)
        kv.second->tick (now_ms);
    }
  /* Give ended sessions' memory back to the system (glibc keeps freed heap
   * otherwise), at most once a second. */
  bool trim;
  {
    std::lock_guard<std::mutex> g (lock_);
    trim = trim_pending_ && now_ms - last_trim_ms_ >= 1000;
    if (trim)
      {
        trim_pending_ = false;
        last_trim_ms_ = now_ms;
      }
  }
  if (trim)
    malloc_trim (0);
}

/* On the thread of the session's worker. */
void
IngestApp::on_event (wssac::IngestEvent &&ev)
{
  using wssac::IngestEventKind;
  if (ev.kind == IngestEventKind::Refused)
    {
      g_printerr ("wssaudiochunk-ingest: session \"%s\": a message was refused (%s)\n",
                  printable (ev.session_id).c_str (), ev.reason.c_str ());
      return;
    }
  Table &t = table_of (ev.session_id);
  std::lock_guard<std::mutex> g (t.lock);
  auto it = t.writers.find (ev.session_id);
  switch (ev.kind)
    {
    case IngestEventKind::SessionStarted:
      {
        if (it != t.writers.end ())
          return; /* cannot happen: the core ends a session before it restarts it */
        wssac_ingest::WriterOptions wopt;
        wopt.decode = opt_.record_wav;
        wopt.sync = opt_.fsync;
        wopt.done_context = g_main_context_default ();
        auto w = std::make_unique<wssac_ingest::SessionWriter> (
            ev.session_id, opt_.output_dir, wssac_ingest::sanitize_session_id (ev.session_id), wopt);
        std::string err;
        if (!w->open (ev.format, err))
          /* Its chunks are not stored, hence not acknowledged: the sender
           * keeps them. */
          g_printerr ("wssaudiochunk-ingest: session \"%s\": cannot record: %s\n",
                      printable (ev.session_id).c_str (), err.c_str ());
        else
          progress ("session started: %s (%s) -> %s", printable (ev.session_id).c_str (), ev.format.c_str (),
                    w->journal_path ().c_str ());
        t.writers[ev.session_id] = std::move (w);
        open_writers_++;
        break;
      }
    case IngestEventKind::Audio:
      if (it == t.writers.end ())
        return;
      if (ev.discont && ev.skipped_before > 0)
        progress ("session %s: %" G_GUINT64_FORMAT " chunk(s) missing before chunk %" G_GUINT64_FORMAT,
                  printable (ev.session_id).c_str (), ev.skipped_before, ev.chunk_index);
      if (ev.new_stream)
        progress ("session %s: a new run of the session (stream %s) continues the recording",
                  printable (ev.session_id).c_str (), ev.stream_id.empty () ? "-" : ev.stream_id.c_str ());
      if (!it->second->push (ev))
        server_.withhold_acks (ev.session_id);
      break;
    case IngestEventKind::Control:
      if (it == t.writers.end ())
        return;
      progress ("session %s: %s", printable (ev.session_id).c_str (), wssac::action_name (ev.action));
      it->second->control (ev.action, ev.timestamp_ms);
      break;
    case IngestEventKind::SessionEnded:
      /* A last ack may follow in this batch: it stands for this. */
      if (it != t.writers.end () && !it->second->commit ())
        server_.withhold_acks (ev.session_id);
      end_writer_locked (t, ev.session_id, ev.reason, &ev.stats);
      break;
    case IngestEventKind::Refused:
      break;
    }
}

/* On the thread of the session's worker, before an ack for it leaves. */
bool
IngestApp::commit_writer (const std::string &session_id)
{
  Table &t = table_of (session_id);
  std::lock_guard<std::mutex> g (t.lock);
  auto it = t.writers.find (session_id);
  /* No writer: it ended in this batch and committed then (on_event). */
  return it == t.writers.end () || it->second->commit ();
}

void
IngestApp::end_writer (const std::string &session_id, const std::string &reason)
{
  Table &t = table_of (session_id);
  std::lock_guard<std::mutex> g (t.lock);
  end_writer_locked (t, session_id, reason);
}

void
IngestApp::end_writer_locked (Table &t, const std::string &session_id, const std::string &reason,
                              const wssac::SessionStats *final_stats)
{
  auto it = t.writers.find (session_id);
  if (it == t.writers.end ())
    return;
  Finishing f;
  f.writer = std::move (it->second);
  t.writers.erase (it);
  open_writers_--;
  /* Final now: nothing more is delivered for it. The event's copy, not the
   * server's: the server keeps only the last few thousand ended sessions'
   * figures, and a shutdown with more sessions than that ends them all
   * before the first event is handled. */
  if (final_stats)
    f.stats = *final_stats;
  else
    server_.session_stats (session_id, f.stats);
  wssac_ingest::SessionWriter *w = f.writer.get ();
  /* Held until finish () returned: the completion comes from the main
   * loop, which takes the lock first. */
  std::lock_guard<std::mutex> g (lock_);
  finishing_[w] = std::move (f);
  w->finish (reason, [this] (wssac_ingest::SessionWriter &done) { on_writer_done (done); });
}

void
IngestApp::on_writer_done (wssac_ingest::SessionWriter &w)
{
  std::unique_lock<std::mutex> g (lock_);
  auto fit = finishing_.find (&w);
  if (fit == finishing_.end ())
    return;
  const std::string id = w.session_id ();
  Row row;
  row.session_id = id;
  row.stats = fit->second.stats;
  row.format = w.format ().empty () ? row.stats.format : w.format ();
  row.seconds = w.audio_seconds ();
  row.end_reason = w.end_reason ();
  std::string err;
  if (!w.write_summary (row.stats, err))
    g_printerr ("wssaudiochunk-ingest: session \"%s\": cannot write %s: %s\n", printable (id).c_str (),
                w.json_path ().c_str (), err.c_str ());
  row.status = w.error ().empty () ? (err.empty () ? "ok" : "no-summary") : "error";
  const wssac::SessionStats &s = row.stats;
  if (s.refused_other_principal > 0)
    g_printerr ("wssaudiochunk-ingest: session \"%s\": %" G_GUINT64_FORMAT
                " message(s) refused from connections with another token (session-bound)\n",
                printable (id).c_str (), s.refused_other_principal);
  progress ("session ended: %s (%s): %" G_GUINT64_FORMAT " chunks, %" G_GUINT64_FORMAT " delivered, %"
            G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT " duplicates, %" G_GUINT64_FORMAT " gaps, %"
            G_GUINT64_FORMAT " missing, %" G_GUINT64_FORMAT " rejected, %.3f s -> %s%s%s",
            printable (id).c_str (), row.end_reason.c_str (), s.chunks, s.delivered, s.bytes, s.duplicates,
            s.gaps, s.missing, s.rejected, row.seconds,
            w.has_wav () ? w.wav_path ().c_str () : (w.stem ().empty () ? "(nothing recorded)" : w.journal_path ().c_str ()),
            w.error ().empty () ? "" : "; error: ", w.error ().c_str ());
  rows_.push_back (std::move (row));
  finishing_.erase (fit); /* destroys @w */
  trim_pending_ = true;
  g.unlock ();
  maybe_quit ();
}

void
IngestApp::check_idle ()
{
  const int64_t now_ms = g_get_monotonic_time () / 1000; /* the IngestServer's clock */
  std::vector<std::string> idle;
  for (auto &t : tables_)
    {
      std::lock_guard<std::mutex> g (t->lock);
      for (const auto &kv : t->writers)
        {
          wssac::SessionStats s;
          /* A connected speaker may be paused: only abandoned sessions time out. */
          if (server_.session_stats (kv.first, s) && !s.ended && !s.speaker_connected && s.last_ms >= 0
              && now_ms - s.last_ms >= static_cast<int64_t> (opt_.idle_timeout_s) * 1000)
            idle.push_back (kv.first);
        }
    }
  std::sort (idle.begin (), idle.end ()); /* the tables are not ordered */
  for (const auto &id : idle)
    {
      progress ("session %s: no message for %d s, finishing it", printable (id).c_str (), opt_.idle_timeout_s);
      server_.finish_session (id, "idle-timeout");
    }
}

void
IngestApp::on_signal (int signum)
{
  if (!shutting_down_)
    {
      shutting_down_ = true;
      size_t finishing;
      {
        std::lock_guard<std::mutex> g (lock_);
        finishing = finishing_.size ();
      }
      progress ("%s: finishing %zu session(s)", signum == SIGINT ? "SIGINT" : "SIGTERM",
                open_writers_.load () + finishing);
      server_.finish_all ("shutdown");
      if (server_.workers () > 1)
        {
          std::string per;
          const wssac::IngestServerStats ss = server_.server_stats ();
          for (size_t i = 0; i < ss.worker_connections.size (); i++)
            per += (per.empty () ? "" : ", ") + std::to_string (ss.worker_connections[i]) + " ("
                   + std::to_string (ss.worker_steered_in[i]) + " handed over)";
          progress ("connections per worker: %s", per.c_str ());
        }
      server_.stop ();
      /* finish_all ended them all; whatever did not end still gets its
       * WAV and summary. */
      std::vector<std::string> left;
      for (auto &t : tables_)
        {
          std::lock_guard<std::mutex> g (t->lock);
          for (const auto &kv : t->writers)
            left.push_back (kv.first);
        }
      std::sort (left.begin (), left.end ());
      for (const auto &id : left)
        end_writer (id, "shutdown");
    }
  else
    {
      progress ("%s again: not waiting for the pipelines", signum == SIGINT ? "SIGINT" : "SIGTERM");
      std::lock_guard<std::mutex> g (lock_);
      for (auto &kv : finishing_)
        kv.second.writer->abort ("interrupted");
    }
  maybe_quit ();
}

void
IngestApp::maybe_quit ()
{
  if (!shutting_down_ || open_writers_ > 0)
    return;
  std::lock_guard<std::mutex> g (lock_);
  if (finishing_.empty ())
    g_main_loop_quit (loop_);
}

void
IngestApp::print_table () const
{
  std::vector<const Row *> sorted;
  for (const auto &r : rows_)
    sorted.push_back (&r);
  std::sort (sorted.begin (), sorted.end (),
             [] (const Row *a, const Row *b) { return a->session_id < b->session_id; });
  int width = 7;
  for (const Row *r : sorted)
    width = std::max (width, static_cast<int> (printable (r->session_id).size ()));
  printf ("%-*s %-9s %7s %9s %8s %5s %7s %8s %8s %-14s %s\n", width, "SESSION", "FORMAT", "CHUNKS", "DELIVERED",
          "BYTES", "GAPS", "MISSING", "REJECTED", "SECONDS", "END", "STATUS");
  for (const Row *r : sorted)
    printf ("%-*s %-9s %7" G_GUINT64_FORMAT " %9" G_GUINT64_FORMAT " %8" G_GUINT64_FORMAT " %5" G_GUINT64_FORMAT
            " %7" G_GUINT64_FORMAT " %8" G_GUINT64_FORMAT " %8.3f %-14s %s\n",
            width, printable (r->session_id).c_str (), r->format.empty () ? "-" : r->format.c_str (),
            r->stats.chunks, r->stats.delivered, r->stats.bytes, r->stats.gaps, r->stats.missing,
            r->stats.rejected, r->seconds, r->end_reason.c_str (), r->status.c_str ());
  fflush (stdout);
}

int
IngestApp::run ()
{
  if (g_mkdir_with_parents (opt_.output_dir.c_str (), 0755) != 0)
    {
      g_printerr ("wssaudiochunk-ingest: cannot create %s: %s\n", opt_.output_dir.c_str (), g_strerror (errno));
      return 1;
    }

  for (const auto &part : wssac_ingest::recover_unfinished_parts (opt_.output_dir, opt_.record_wav))
    progress ("recovered an unfinished recording: %s (session %s): %zu chunks, %.3f s%s%s", part.stem.c_str (),
              printable (part.session_id).c_str (), part.chunks, part.audio_seconds,
              part.error.empty () ? "" : "; ", part.error.c_str ());

  wssac::IngestServerConfig config;
  config.address = opt_.address;
  config.port = static_cast<unsigned> (opt_.port);
  config.path = opt_.path;
  config.max_message_size = static_cast<size_t> (opt_.max_message_size);
  /* base64 carries 3 bytes in 4: let the decoded audio fill the frame. */
  config.core.limits.max_audio_bytes = config.max_message_size / 4 * 3;
  config.core.reassembly.max_wait_ms = opt_.reorder_wait_ms;
  config.core.max_sessions = static_cast<size_t> (opt_.max_sessions);
  config.core.max_messages_per_second = opt_.max_messages_per_second;
  config.max_connections_per_address = static_cast<unsigned> (opt_.max_connections_per_address);
  config.header_timeout_ms = static_cast<unsigned> (opt_.header_timeout_ms);
  config.bind_session_to_token = opt_.bind_session_to_token;
  config.core.max_new_sessions_per_second = opt_.max_new_sessions_per_second;
  config.permessage_deflate = opt_.permessage_deflate;
  config.workers = static_cast<unsigned> (opt_.workers);
  config.batch_window_us = static_cast<unsigned> (opt_.batch_wait_us);
  size_limits_from_fds (opt_, config);
  config.tls_cert_file = opt_.tls_cert;
  config.tls_key_file = opt_.tls_key;
  config.allowed_origins = opt_.allowed_origins;
  if (!opt_.token_file.empty ())
    {
      gchar *contents = nullptr;
      GError *terr = nullptr;
      if (!g_file_get_contents (opt_.token_file.c_str (), &contents, nullptr, &terr))
        {
          g_printerr ("wssaudiochunk-ingest: cannot read --auth-token-file: %s\n", terr->message);
          g_error_free (terr);
          return 1;
        }
      gchar **lines = g_strsplit_set (contents, "\r\n", -1);
      for (gchar **l = lines; *l; l++)
        {
          gchar *t = g_strstrip (*l);
          if (*t)
            config.auth_tokens.emplace_back (t);
        }
      g_strfreev (lines);
      g_free (contents);
      if (config.auth_tokens.empty ())
        {
          g_printerr ("wssaudiochunk-ingest: --auth-token-file holds no token (one per line)\n");
          return 1;
        }
    }

  loop_ = g_main_loop_new (g_main_context_default (), FALSE);
  const unsigned tables = static_cast<unsigned> (std::max (1, opt_.workers)); /* resolved by main () */
  for (unsigned i = 0; i < tables; i++)
    tables_.push_back (std::make_unique<Table> ());
  /* The journal gathers a session's chunks; they are written before the
   * ack that stands for them leaves (session-journal.h). */
  server_.set_ack_gate ([this] (const std::string &session_id) { return commit_writer (session_id); });
  std::string error;
  if (!server_.start (g_main_context_default (), config,
                      [this] (wssac::IngestEvent &&ev) { on_event (std::move (ev)); }, error))
    {
      g_printerr ("wssaudiochunk-ingest: %s\n", error.c_str ());
      return 1;
    }
  const unsigned port = server_.port ();
  if (!opt_.port_file.empty ())
    {
      std::string text = std::to_string (port) + "\n";
      GError *err = nullptr;
      if (!g_file_set_contents (opt_.port_file.c_str (), text.c_str (), -1, &err))
        {
          g_printerr ("wssaudiochunk-ingest: cannot write %s: %s\n", opt_.port_file.c_str (), err->message);
          g_error_free (err);
          return 1;
        }
    }
  const bool v6 = opt_.address.find (':') != std::string::npos;
  progress ("workers: %u (connection threads%s)", server_.workers (),
            server_.workers () == 1 ? ": none, the main thread serves them" : ", SO_REUSEPORT");
  progress ("listening on %s://%s%s%s:%u%s, recording to %s", opt_.tls_cert.empty () ? "ws" : "wss", v6 ? "[" : "", opt_.address.c_str (), v6 ? "]" : "",
            port, opt_.path.c_str (), opt_.output_dir.c_str ());

  struct SignalData
  {
    IngestApp *app;
    int signum;
  };
  static SignalData sig_data[2];
  sig_data[0] = { this, SIGINT };
  sig_data[1] = { this, SIGTERM };
  for (SignalData &d : sig_data)
    signal_sources_.push_back (g_unix_signal_add (
        d.signum,
        [] (gpointer p) -> gboolean {
          auto *sd = static_cast<SignalData *> (p);
          sd->app->on_signal (sd->signum);
          return G_SOURCE_CONTINUE;
        },
        &d));

  if (opt_.idle_timeout_s > 0)
    {
      guint period_ms = static_cast<guint> (std::min (1000, opt_.idle_timeout_s * 250));
      idle_check_ = g_timeout_add (period_ms, [] (gpointer p) -> gboolean {
        static_cast<IngestApp *> (p)->check_idle ();
        return G_SOURCE_CONTINUE;
      }, this);
    }

  /* Every writer is visited (WAV header, journal records no ack asked
   * for): with thousands of sessions each visit is a cache miss, so not
   * more often than the WAV header needs. */
  writer_tick_ = g_timeout_add (500, [] (gpointer p) -> gboolean {
    static_cast<IngestApp *> (p)->tick_writers ();
    return G_SOURCE_CONTINUE;
  }, this);

  g_main_loop_run (loop_);

  print_table ();
  return 0;
}

} // namespace

int
main (int argc, char **argv)
{
  Options opt;
  gchar *address = nullptr, *path = nullptr, *output_dir = nullptr, *port_file = nullptr;
  gchar *tls_cert = nullptr, *tls_key = nullptr, *token_file = nullptr;
  gchar **origins = nullptr;
  gchar *record = nullptr;
  gboolean quiet = FALSE, fsync_opt = FALSE, deflate = FALSE, no_bind = FALSE;
  GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address, "IP address to listen on (default 127.0.0.1)", "ADDR" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &opt.port, "TCP port (default 8080; 0: any free port)", "PORT" },
    { "path", 0, 0, G_OPTION_ARG_STRING, &path, "WebSocket path (default /ws)", "PATH" },
    { "output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &output_dir,
      "Directory for the recordings: SESSION.webm + SESSION.chunks (the journal), SESSION.wav, SESSION.json "
      "(default ./recordings)", "DIR" },
    { "max-message-size", 0, 0, G_OPTION_ARG_INT64, &opt.max_message_size,
      "Largest WebSocket message accepted, in bytes (default 131072)", "BYTES" },
    { "reorder-wait-ms", 0, 0, G_OPTION_ARG_INT, &opt.reorder_wait_ms,
      "How long a missing chunk is waited for before it is given up (default 1000)", "MS" },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &opt.idle_timeout_s,
      "Seconds a session whose speaker disconnected may stay silent before it is finished (default 30; 0: never)", "SECONDS" },
    { "port-file", 0, 0, G_OPTION_ARG_FILENAME, &port_file,
      "Write the bound port number to FILE once listening", "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress lines (errors and the final table still)",
      nullptr },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, "Serve wss:// with this PEM certificate", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "PEM private key of --tls-cert", "FILE" },
    { "auth-token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file,
      "Accept only speakers presenting one of these tokens (one per line; Bearer header or ?token=)", "FILE" },
    { "allowed-origin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &origins,
      "A browser origin allowed to connect (repeatable; default any)", "ORIGIN" },
    { "max-sessions", 0, 0, G_OPTION_ARG_INT, &opt.max_sessions,
      "Sessions at once (default 10000, lowered to what the descriptor limit allows)", "N" },
    { "max-connections-per-address", 0, 0, G_OPTION_ARG_INT, &opt.max_connections_per_address,
      "Open connections per client IP (default 16; 0: no limit)", "N" },
    { "max-messages-per-second", 0, 0, G_OPTION_ARG_DOUBLE, &opt.max_messages_per_second,
      "Average messages per second per connection (default 50; 0: no limit)", "RATE" },
    { "record", 0, 0, G_OPTION_ARG_STRING, &record,
      "wav: the journal plus a decoded SESSION.wav (default); webm: the journal only, no decoding", "wav|webm" },
    { "fsync", 0, 0, G_OPTION_ARG_NONE, &fsync_opt,
      "Sync the journal to the disk before each ack (survives power loss; costs two disk flushes per ack)", nullptr },
    { "header-timeout-ms", 0, 0, G_OPTION_ARG_INT, &opt.header_timeout_ms,
      "Time a connection has to send its whole upgrade request (default 10000)", "MS" },
    { "permessage-deflate", 0, 0, G_OPTION_ARG_NONE, &deflate,
      "Offer WebSocket compression (off by default: CPU per message, nothing gained on Opus)", nullptr },
    { "no-bind-session-to-token", 0, 0, G_OPTION_ARG_NONE, &no_bind,
      "With --auth-token-file: let any valid token speak for any session (default: a session belongs to the "
      "token that started it)", nullptr },
    { "workers", 0, 0, G_OPTION_ARG_INT, &opt.workers,
      "Threads serving the connections (default: the number of online CPUs; 1: the main thread serves them, "
      "which costs less CPU per message while one core keeps up: each worker wakes up for its own share)",
      "N" },
    { "batch-wait-us", 0, 0, G_OPTION_ARG_INT, &opt.batch_wait_us,
      "Microseconds a worker waits before it polls its sockets, so that one wake-up serves many speakers' "
      "messages: less CPU per message under load, acks up to that much later (default 1000; 0: off)", "US" },
    { "max-new-sessions-per-second", 0, 0, G_OPTION_ARG_DOUBLE, &opt.max_new_sessions_per_second,
      "Sessions one client address may start per second on average, bursts of 50 (default 10; 0: no limit)", "RATE" },
    { nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr },
  };
  GOptionContext *ctx = g_option_context_new ("- record wssaudiochunk sessions");
  g_option_context_set_summary (ctx,
                                "Serves wssaudiochunk speakers (JSON audioChunk messages over WebSocket) on one "
                                "port,\nany number of sessions at once, and records each session: the bytes as "
                                "received\n(OUTDIR/SESSION.webm and its index SESSION.chunks; a chunk is acknowledged "
                                "once\nwritten there), OUTDIR/SESSION.wav (16 kHz mono 16-bit) and OUTDIR/SESSION.json.\n"
                                "Recordings a crash left unfinished are completed at the next start.\n"
                                "SIGINT/SIGTERM finish every session, print a table and exit.");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  GError *err = nullptr;
  if (!g_option_context_parse (ctx, &argc, &argv, &err))
    {
      g_printerr ("wssaudiochunk-ingest: %s\n", err->message);
      g_error_free (err);
      g_option_context_free (ctx);
      return 2;
    }
  g_option_context_free (ctx);

  if (address)
    opt.address = address;
  if (path)
    opt.path = path;
  if (output_dir)
    opt.output_dir = output_dir;
  if (port_file)
    opt.port_file = port_file;
  opt.quiet = quiet;
  opt.fsync = fsync_opt;
  opt.permessage_deflate = deflate;
  opt.bind_session_to_token = !no_bind;
  const std::string record_mode = record ? record : "wav";
  g_free (record);
  opt.record_wav = record_mode == "wav";
  if (tls_cert)
    opt.tls_cert = tls_cert;
  if (tls_key)
    opt.tls_key = tls_key;
  if (token_file)
    opt.token_file = token_file;
  for (gchar **o = origins; o && *o; o++)
    opt.allowed_origins.emplace_back (*o);
  g_free (address);
  g_free (path);
  g_free (output_dir);
  g_free (port_file);
  g_free (tls_cert);
  g_free (tls_key);
  g_free (token_file);
  g_strfreev (origins);

  const char *bad = nullptr;
  if (argc > 1)
    bad = "unexpected arguments";
  else if (opt.port < 0 || opt.port > 65535)
    bad = "--port must be 0..65535";
  else if (opt.path.empty () || opt.path[0] != '/')
    bad = "--path must start with /";
  else if (opt.max_message_size < 1024 || opt.max_message_size > G_GINT64_CONSTANT (64) * 1024 * 1024)
    bad = "--max-message-size must be 1024..67108864";
  else if (opt.reorder_wait_ms < 0)
    bad = "--reorder-wait-ms must be >= 0";
  else if (opt.idle_timeout_s < 0 || opt.idle_timeout_s > 24 * 3600)
    bad = "--idle-timeout must be 0..86400";
  else if (opt.output_dir.empty ())
    bad = "--output-dir must not be empty";
  else if (opt.max_sessions < 1 || opt.max_connections_per_address < 0 || opt.max_messages_per_second < 0
           || opt.max_new_sessions_per_second < 0)
    bad = "--max-sessions must be >= 1, the other limits >= 0";
  else if (opt.tls_key.size () && opt.tls_cert.empty ())
    bad = "--tls-key needs --tls-cert";
  else if (opt.header_timeout_ms < 100 || opt.header_timeout_ms > 600000)
    bad = "--header-timeout-ms must be 100..600000";
  else if (opt.workers < 0 || opt.workers > 256)
    bad = "--workers must be 1..256";
  else if (opt.batch_wait_us < 0 || opt.batch_wait_us > 100000)
    bad = "--batch-wait-us must be 0..100000";
  else if (record_mode != "wav" && record_mode != "webm")
    bad = "--record must be wav or webm";
  if (bad)
    {
      g_printerr ("wssaudiochunk-ingest: %s (see --help)\n", bad);
      return 2;
    }

  if (opt.workers == 0)
    {
      const long cpus = sysconf (_SC_NPROCESSORS_ONLN);
      opt.workers = cpus > 0 ? static_cast<int> (std::min<long> (cpus, 256)) : 1;
    }
  setvbuf (stdout, nullptr, _IOLBF, 0);
  IngestApp app (std::move (opt));
  return app.run ();
}
