/* wssaudiochunk-ingest, the program: started as a child process on a free
 * port, fed by real wssaudiochunksink pipelines (and a misbehaving libsoup
 * client), stopped with SIGTERM; then its WAV files and JSON summaries are
 * checked. The program's path comes from $WSSAC_INGEST. */
#include <gst/check/gstcheck.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "check-suite.h"
#include "test-util.h"

#include <algorithm>
#include <csignal>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <sys/prctl.h>

static const double kSecondsTolerance = 0.03;

static gint64
now_ms ()
{
  return g_get_monotonic_time () / 1000;
}

static std::string
path_join (const std::string &a, const std::string &b)
{
  gchar *p = g_build_filename (a.c_str (), b.c_str (), nullptr);
  std::string out (p);
  g_free (p);
  return out;
}

static std::string
read_text (const std::string &path)
{
  gchar *text = nullptr;
  gsize len = 0;
  if (!g_file_get_contents (path.c_str (), &text, &len, nullptr))
    return std::string ();
  std::string out (text, len);
  g_free (text);
  return out;
}

/* Iterates @ctx until @done or @timeout_ms; returns @done (). */
static bool
iterate_until (GMainContext *ctx, const std::function<bool ()> &done, gint64 timeout_ms)
{
  gint64 deadline = now_ms () + timeout_ms;
  while (!done () && now_ms () < deadline)
    if (!g_main_context_iteration (ctx, FALSE))
      g_usleep (2000);
  return done ();
}

static void
remove_tree (const std::string &dir)
{
  GDir *d = g_dir_open (dir.c_str (), 0, nullptr);
  if (!d)
    return;
  const char *name;
  while ((name = g_dir_read_name (d)))
    {
      std::string p = path_join (dir, name);
      if (g_file_test (p.c_str (), G_FILE_TEST_IS_DIR))
        remove_tree (p);
      else
        g_unlink (p.c_str ());
    }
  g_dir_close (d);
  g_rmdir (dir.c_str ());
}

/* --- the program as a child process ------------------------------------ */

static void
die_with_parent (gpointer)
{
  /* A failed check ends this (forked) test process: don't leave the server
   * running behind it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

struct IngestProcess
{
  std::string dir, outdir;
  GSubprocess *proc = nullptr;
  unsigned port = 0;
  bool exited = false;
  int exit_status = -1;

  IngestProcess ()
  {
    gchar *d = g_dir_make_tmp ("wssac-ingest-XXXXXX", nullptr);
    fail_unless (d != nullptr);
    dir = d;
    g_free (d);
    outdir = path_join (dir, "rec");
  }

  ~IngestProcess ()
  {
    if (proc)
      {
        if (!exited)
          g_subprocess_force_exit (proc);
        g_object_unref (proc);
      }
    remove_tree (dir);
  }

  std::string url () const { return "ws://127.0.0.1:" + std::to_string (port) + "/ws"; }
  std::string stdout_text () const { return read_text (path_join (dir, "stdout.txt")); }
  std::string stderr_text () const { return read_text (path_join (dir, "stderr.txt")); }

  void start (const std::vector<std::string> &extra)
  {
    const char *exe = g_getenv ("WSSAC_INGEST");
    fail_unless (exe != nullptr && *exe, "WSSAC_INGEST is not set");
    std::string port_file = path_join (dir, "port");
    std::vector<std::string> args = { exe, "--port", "0", "--port-file", port_file, "--output-dir", outdir };
    args.insert (args.end (), extra.begin (), extra.end ());
    std::vector<const char *> argv;
    for (const auto &a : args)
      argv.push_back (a.c_str ());
    argv.push_back (nullptr);

    GSubprocessLauncher *l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_stdout_file_path (l, path_join (dir, "stdout.txt").c_str ());
    g_subprocess_launcher_set_stderr_file_path (l, path_join (dir, "stderr.txt").c_str ());
    /* A registry of its own: two processes writing one file would race. */
    const char *reg = g_getenv ("GST_REGISTRY");
    if (reg)
      g_subprocess_launcher_setenv (l, "GST_REGISTRY", (std::string (reg) + ".ingest").c_str (), TRUE);
    g_subprocess_launcher_set_child_setup (l, die_with_parent, nullptr, nullptr);
    GError *err = nullptr;
    proc = g_subprocess_launcher_spawnv (l, argv.data (), &err);
    g_object_unref (l);
    fail_unless (proc != nullptr, "cannot start %s: %s", exe, err ? err->message : "");

    /* The port file appears once the server listens. */
    gint64 deadline = now_ms () + 10000;
    std::string text;
    while (now_ms () < deadline)
      {
        text = read_text (port_file);
        if (!text.empty () && text.back () == '\n')
          break;
        g_usleep (10000);
      }
    fail_unless (!text.empty (), "no port file after 10 s; stderr: %s", stderr_text ().c_str ());
    port = static_cast<unsigned> (g_ascii_strtoull (text.c_str (), nullptr, 10));
    fail_unless (port > 0 && port < 65536, "port file says \"%s\"", text.c_str ());
  }

  /* Sends @signum and waits (bounded) for the exit. */
  void stop (int signum, gint64 timeout_ms)
  {
    g_subprocess_send_signal (proc, signum);
    GMainContext *ctx = g_main_context_new ();
    g_main_context_push_thread_default (ctx);
    bool done = false;
    g_subprocess_wait_async (
        proc, nullptr,
        [] (GObject *, GAsyncResult *, gpointer data) { *static_cast<bool *> (data) = true; }, &done);
    iterate_until (ctx, [&] { return done; }, timeout_ms);
    if (!done)
      {
        g_subprocess_force_exit (proc);
        iterate_until (ctx, [&] { return done; }, 5000);
      }
    g_main_context_pop_thread_default (ctx);
    g_main_context_unref (ctx);
    fail_unless (done, "the program did not exit");
    exited = true;
    fail_unless (g_subprocess_get_if_exited (proc), "the program did not exit by itself within %" G_GINT64_FORMAT
                 " ms of the signal; stderr: %s", timeout_ms, stderr_text ().c_str ());
    exit_status = g_subprocess_get_exit_status (proc);
  }
};

/* --- reading back what it wrote ----------------------------------------- */

struct Wav
{
  unsigned format_tag = 0, channels = 0, rate = 0, bits = 0;
  uint64_t data_bytes = 0;
  double seconds () const { return rate && channels && bits ? (double) data_bytes / (rate * channels * bits / 8) : 0; }
};

static uint32_t
le32 (const std::string &b, size_t pos)
{
  return (uint32_t) (uint8_t) b[pos] | (uint32_t) (uint8_t) b[pos + 1] << 8 | (uint32_t) (uint8_t) b[pos + 2] << 16
         | (uint32_t) (uint8_t) b[pos + 3] << 24;
}

static unsigned
le16 (const std::string &b, size_t pos)
{
  return (unsigned) (uint8_t) b[pos] | (unsigned) (uint8_t) b[pos + 1] << 8;
}

static void
read_wav (const std::string &path, Wav &wav)
{
  std::string b = read_text (path);
  fail_unless (b.size () >= 44, "%s: %zu bytes", path.c_str (), b.size ());
  fail_unless (b.compare (0, 4, "RIFF") == 0 && b.compare (8, 4, "WAVE") == 0, "%s: not RIFF/WAVE", path.c_str ());
  fail_unless_equals_int (le32 (b, 4), b.size () - 8);
  bool fmt = false;
  size_t pos = 12;
  while (pos + 8 <= b.size ())
    {
      uint32_t size = le32 (b, pos + 4);
      if (b.compare (pos, 4, "fmt ") == 0)
        {
          wav.format_tag = le16 (b, pos + 8);
          wav.channels = le16 (b, pos + 10);
          wav.rate = le32 (b, pos + 12);
          wav.bits = le16 (b, pos + 22);
          fmt = true;
        }
      else if (b.compare (pos, 4, "data") == 0)
        {
          fail_unless (fmt, "%s: data before fmt", path.c_str ());
          fail_unless (pos + 8 + size <= b.size (), "%s: data chunk runs past the end", path.c_str ());
          wav.data_bytes = size;
          return;
        }
      pos += 8 + size + (size & 1);
    }
  fail ("%s: no data chunk", path.c_str ());
}

/* Parses @path; the caller unrefs the parser. */
static JsonParser *
read_summary (const std::string &path, JsonObject *&o)
{
  JsonParser *parser = json_parser_new ();
  GError *err = nullptr;
  fail_unless (json_parser_load_from_file (parser, path.c_str (), &err), "%s: %s", path.c_str (),
               err ? err->message : "");
  JsonNode *root = json_parser_get_root (parser);
  fail_unless (root && JSON_NODE_HOLDS_OBJECT (root), "%s: not an object", path.c_str ());
  o = json_node_get_object (root);
  const char *members[] = { "sessionId", "format", "wav", "chunks", "bytes", "delivered", "duplicates", "late",
                            "gaps", "missing", "rejected", "controls", "takeovers", "audioSeconds", "endReason",
                            "controlEvents" };
  for (const char *m : members)
    fail_unless (json_object_has_member (o, m), "%s: no \"%s\"", path.c_str (), m);
  return parser;
}

/* A complete recording: 16 kHz mono 16-bit, @seconds long, a clean summary. */
static double
check_complete_session (const IngestProcess &ing, const std::string &session, double seconds)
{
  Wav wav;
  read_wav (path_join (ing.outdir, session + ".wav"), wav);
  fail_unless_equals_int (wav.format_tag, 1);
  fail_unless_equals_int (wav.rate, 16000);
  fail_unless_equals_int (wav.channels, 1);
  fail_unless_equals_int (wav.bits, 16);
  fail_unless (std::fabs (wav.seconds () - seconds) <= kSecondsTolerance, "%s: %.4f s, not %.1f s",
               session.c_str (), wav.seconds (), seconds);

  JsonObject *o;
  JsonParser *parser = read_summary (path_join (ing.outdir, session + ".json"), o);
  fail_unless_equals_string (json_object_get_string_member (o, "sessionId"), session.c_str ());
  fail_unless_equals_string (json_object_get_string_member (o, "format"), "webm-opus");
  const std::string wav_name = session + ".wav";
  fail_unless_equals_string (json_object_get_string_member (o, "wav"), wav_name.c_str ());
  gint64 chunks = json_object_get_int_member (o, "chunks");
  fail_unless (chunks > 0, "%s: no chunks", session.c_str ());
  fail_unless_equals_int64 (json_object_get_int_member (o, "delivered"), chunks);
  fail_unless_equals_int64 (json_object_get_int_member (o, "gaps"), 0);
  fail_unless_equals_int64 (json_object_get_int_member (o, "missing"), 0);
  fail_unless_equals_int64 (json_object_get_int_member (o, "rejected"), 0);
  fail_unless (json_object_get_int_member (o, "bytes") > 0);
  fail_unless (std::fabs (json_object_get_double_member (o, "audioSeconds") - wav.seconds ()) < 1e-6);
  fail_if (json_object_has_member (o, "error"), "%s: error %s", session.c_str (),
           json_object_get_string_member (o, "error"));
  g_object_unref (parser);
  return wav.seconds ();
}

static GstElement *
speaker (const std::string &url, const std::string &session, int buffers, int freq, bool sync,
         const char *extra = "")
{
  gchar *desc = g_strdup_printf ("audiotestsrc num-buffers=%d samplesperbuffer=320 freq=%d "
                                 "! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000 "
                                 "! webmmux streamable=true min-cluster-duration=250000000 "
                                 "! wssaudiochunksink name=sink location=%s sync=%s %s",
                                 buffers, freq, url.c_str (), sync ? "true" : "false", extra);
  GError *err = nullptr;
  GstElement *p = gst_parse_launch (desc, &err);
  fail_unless (p != nullptr && err == nullptr, "%s: %s", desc, err ? err->message : "");
  g_free (desc);
  /* set here, not in the description: any string is a session id */
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  g_object_set (sink, "session-id", session.c_str (), nullptr);
  gst_object_unref (sink);
  return p;
}

/* Waits for EOS on every pipeline (they run concurrently); then NULL. */
static void
wait_all_eos (std::vector<GstElement *> &pipelines, gint64 timeout_ms)
{
  gint64 deadline = now_ms () + timeout_ms;
  for (size_t i = 0; i < pipelines.size (); i++)
    {
      GstBus *bus = gst_element_get_bus (pipelines[i]);
      gint64 left = std::max<gint64> (deadline - now_ms (), 0);
      GstMessage *m = gst_bus_timed_pop_filtered (bus, left * GST_MSECOND,
                                                  (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
      gst_object_unref (bus);
      fail_unless (m != nullptr, "speaker %zu: no EOS within %" G_GINT64_FORMAT " ms", i, timeout_ms);
      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
        {
          GError *err = nullptr;
          gst_message_parse_error (m, &err, nullptr);
          fail ("speaker %zu: %s", i, err ? err->message : "");
        }
      gst_message_unref (m);
    }
  for (GstElement *p : pipelines)
    {
      gst_element_set_state (p, GST_STATE_NULL);
      gst_object_unref (p);
    }
  pipelines.clear ();
}

/* Lines of the final table (after its header) that start with @prefix. */
static size_t
table_rows (const std::string &out, const std::string &prefix)
{
  size_t at = out.find ("SESSION ");
  fail_unless (at != std::string::npos, "no table in: %s", out.c_str ());
  gchar **lines = g_strsplit (out.c_str () + at, "\n", -1);
  size_t n = 0;
  for (gchar **l = lines + 1; *l; l++)
    if (g_str_has_prefix (*l, prefix.c_str ()))
      n++;
  g_strfreev (lines);
  return n;
}

/* --- tests ---------------------------------------------------------------- */

GST_START_TEST (test_fifty_concurrent_sessions)
{
  const int kSessions = 50;
  IngestProcess ing;
  /* All 50 connect at once from one address (the sink's start() does not
   * wait for its connection): lift the per-address bound of 16. */
  ing.start ({ "--quiet", "--max-connections-per-address=64" });

  std::vector<GstElement *> pipelines;
  for (int i = 0; i < kSessions; i++)
    {
      gchar *id = g_strdup_printf ("s-%02d", i);
      pipelines.push_back (speaker (ing.url (), id, 100, 200 + 20 * i, false)); /* 2 s each */
      g_free (id);
    }
  gint64 t0 = now_ms ();
  for (GstElement *p : pipelines)
    fail_if (gst_element_set_state (p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
  wait_all_eos (pipelines, 30000);
  gint64 t_streamed = now_ms ();

  ing.stop (SIGTERM, 20000);
  gint64 t_exited = now_ms ();
  fail_unless_equals_int (ing.exit_status, 0);

  double min_s = 1e9, max_s = 0;
  for (int i = 0; i < kSessions; i++)
    {
      gchar *id = g_strdup_printf ("s-%02d", i);
      double s = check_complete_session (ing, id, 2.0);
      min_s = std::min (min_s, s);
      max_s = std::max (max_s, s);
      g_free (id);
    }
  std::string out = ing.stdout_text ();
  fail_unless_equals_int (table_rows (out, "s-"), kSessions);
  g_print ("50 sessions: streamed in %" G_GINT64_FORMAT " ms, exited %" G_GINT64_FORMAT
           " ms after SIGTERM, WAV %.4f..%.4f s\n",
           t_streamed - t0, t_exited - t_streamed, min_s, max_s);
}
GST_END_TEST;

/* A client that speaks the protocol badly, on a thread with its own main
 * context (libsoup's client API). */
struct BadClient
{
  std::string url;
  std::vector<std::string> replies; /* read after join () */
  std::string error;
  bool closed_by_server = false;
  std::thread thread;

  void start () { thread = std::thread ([this] { run (); }); }
  void join () { thread.join (); }

  static std::string b64 (const std::vector<uint8_t> &bytes)
  {
    gchar *t = g_base64_encode (bytes.data (), bytes.size ());
    std::string s (t);
    g_free (t);
    return s;
  }

  void run ()
  {
    GMainContext *ctx = g_main_context_new ();
    g_main_context_push_thread_default (ctx);
    SoupSession *session = soup_session_new ();
    SoupMessage *msg = soup_message_new ("GET", url.c_str ());
    struct Connect
    {
      SoupWebsocketConnection *conn = nullptr;
      GError *err = nullptr;
      bool done = false;
    } c;
    soup_session_websocket_connect_async (
        session, msg, nullptr, nullptr, G_PRIORITY_DEFAULT, nullptr,
        [] (GObject *src, GAsyncResult *res, gpointer data) {
          auto *c = static_cast<Connect *> (data);
          c->conn = soup_session_websocket_connect_finish (SOUP_SESSION (src), res, &c->err);
          c->done = true;
        },
        &c);
    iterate_until (ctx, [&] { return c.done; }, 5000);
    if (!c.conn)
      error = c.err ? c.err->message : "connect timed out";
    else
      {
        g_signal_connect (c.conn, "message", G_CALLBACK (+[] (SoupWebsocketConnection *, gint, GBytes *m,
                                                               gpointer data) {
                            gsize n;
                            const char *t = static_cast<const char *> (g_bytes_get_data (m, &n));
                            static_cast<BadClient *> (data)->replies.emplace_back (t, n);
                          }),
                          this);
        /* Not JSON; audioData that is not base64; a binary frame. */
        soup_websocket_connection_send_text (c.conn, "this is not json {");
        soup_websocket_connection_send_text (
            c.conn, "{\"action\":\"audioChunk\",\"sessionId\":\"s-bad\",\"audioData\":\"!!not*base64!!\","
                    "\"timestamp\":1700000000000,\"format\":\"webm-opus\",\"chunkIndex\":0,\"originalSize\":9}");
        const char bin[] = "\x01\x02\x03";
        soup_websocket_connection_send_binary (c.conn, bin, 3);
        iterate_until (ctx, [&] { return replies.size () >= 3; }, 5000);

        /* Well-formed messages whose audio is not WebM: that session's
         * pipeline fails, nobody else's. */
        std::vector<uint8_t> junk (3000);
        for (size_t i = 0; i < junk.size (); i++)
          junk[i] = (uint8_t) (i * 7919 + 13);
        for (int i = 0; i < 3; i++)
          {
            std::string m = "{\"action\":\"audioChunk\",\"sessionId\":\"s-garbage\",\"audioData\":\"" + b64 (junk)
                            + "\",\"timestamp\":1700000000000,\"format\":\"webm-opus\",\"chunkIndex\":"
                            + std::to_string (i) + ",\"originalSize\":" + std::to_string (junk.size ()) + "}";
            soup_websocket_connection_send_text (c.conn, m.c_str ());
          }
        soup_websocket_connection_send_text (c.conn, "{\"action\":\"pauseBroadcast\",\"sessionId\":\"s-garbage\","
                                                     "\"timestamp\":1700000000100}");
        soup_websocket_connection_send_text (c.conn, "{\"action\":\"muteBroadcast\",\"sessionId\":\"s-garbage\","
                                                     "\"timestamp\":1700000000200}");
        /* Let them arrive, then say goodbye. */
        iterate_until (ctx, [] { return false; }, 300);
        closed_by_server = soup_websocket_connection_get_state (c.conn) != SOUP_WEBSOCKET_STATE_OPEN;
        if (!closed_by_server)
          soup_websocket_connection_close (c.conn, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
        iterate_until (ctx,
                       [&] { return soup_websocket_connection_get_state (c.conn) == SOUP_WEBSOCKET_STATE_CLOSED; },
                       3000);
        g_object_unref (c.conn);
      }
    g_clear_error (&c.err);
    g_object_unref (msg);
    g_object_unref (session);
    iterate_until (ctx, [] { return false; }, 50);
    g_main_context_pop_thread_default (ctx);
    g_main_context_unref (ctx);
  }
};

GST_START_TEST (test_bad_client_does_not_disturb)
{
  IngestProcess ing;
  ing.start ({});

  /* The good speaker streams in real time (2 s) while the bad one talks. */
  std::vector<GstElement *> pipelines;
  pipelines.push_back (speaker (ing.url (), "s-good", 100, 440, true, "end-session-on-eos=false"));
  fail_if (gst_element_set_state (pipelines[0], GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
  g_usleep (300 * 1000);

  BadClient bad;
  bad.url = ing.url ();
  bad.start ();
  bad.join ();
  fail_unless (bad.error.empty (), "bad client: %s", bad.error.c_str ());
  fail_if (bad.closed_by_server, "three bad messages got the connection closed");
  fail_unless (bad.replies.size () >= 3, "%zu replies", bad.replies.size ());
  const char *codes[] = { "not-json", "bad-base64", "binary-not-supported" };
  for (size_t i = 0; i < 3; i++)
    {
      JsonParser *p = json_parser_new ();
      fail_unless (json_parser_load_from_data (p, bad.replies[i].c_str (), -1, nullptr), "reply %s",
                   bad.replies[i].c_str ());
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      fail_unless_equals_string (json_object_get_string_member (o, "action"), "error");
      fail_unless_equals_string (json_object_get_string_member (o, "code"), codes[i]);
      g_object_unref (p);
    }

  wait_all_eos (pipelines, 15000);
  ing.stop (SIGTERM, 20000);
  fail_unless_equals_int (ing.exit_status, 0);

  double s = check_complete_session (ing, "s-good", 2.0);
  g_print ("good session beside a bad client: WAV %.4f s\n", s);

  /* The undecodable session: recorded as failed, not fatal. */
  JsonObject *o;
  JsonParser *parser = read_summary (path_join (ing.outdir, "s-garbage.json"), o);
  fail_unless (json_object_has_member (o, "error"));
  const char *error = json_object_get_string_member (o, "error");
  fail_unless (error && *error);
  fail_unless_equals_int64 (json_object_get_int_member (o, "chunks"), 3);
  fail_unless_equals_string (json_object_get_string_member (o, "endReason"), "shutdown");
  /* Its control messages are in the summary, in order. */
  fail_unless_equals_int64 (json_object_get_int_member (o, "controls"), 2);
  JsonArray *controls = json_object_get_array_member (o, "controlEvents");
  fail_unless_equals_int (json_array_get_length (controls), 2);
  const char *actions[] = { "pauseBroadcast", "muteBroadcast" };
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *c = json_array_get_object_element (controls, i);
      fail_unless_equals_string (json_object_get_string_member (c, "action"), actions[i]);
      fail_unless_equals_int64 (json_object_get_int_member (c, "timestamp"), 1700000000100 + 100 * i);
    }
  g_object_unref (parser);
  /* The refused message named s-bad, but never started a session. */
  fail_if (g_file_test (path_join (ing.outdir, "s-bad.json").c_str (), G_FILE_TEST_EXISTS));

  std::string out = ing.stdout_text ();
  std::string listening = "listening on " + ing.url ();
  fail_unless (out.find (listening) != std::string::npos, "%s", out.c_str ());
  fail_unless (out.find ("session started: s-good") != std::string::npos, "%s", out.c_str ());
  fail_unless (out.find ("session ended: s-good (shutdown)") != std::string::npos, "%s", out.c_str ());
  fail_unless_equals_int (table_rows (out, "s-good "), 1);
  fail_unless_equals_int (table_rows (out, "s-garbage "), 1);
  fail_unless (ing.stderr_text ().find ("s-garbage") != std::string::npos, "the failure was not logged");
}
GST_END_TEST;

/* File names from hostile ids; sessions finished by the idle timeout once
 * their speaker is gone, or by the speaker's endSession (no signal). */
GST_START_TEST (test_idle_timeout_and_file_names)
{
  IngestProcess ing;
  ing.start ({ "--idle-timeout", "1" });

  const std::vector<std::string> ids = { "..", "a/b c", "s-plain", "s-eos" };
  std::vector<GstElement *> pipelines;
  for (size_t i = 0; i < ids.size (); i++) /* 1 s each */
    pipelines.push_back (speaker (ing.url (), ids[i], 50, 300 + 100 * (int) i, false,
                                  ids[i] == "s-eos" ? "end-session-on-eos=true" : "end-session-on-eos=false"));
  for (GstElement *p : pipelines)
    fail_if (gst_element_set_state (p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
  wait_all_eos (pipelines, 20000);

  /* Three summaries appear without any signal. */
  auto summaries = [&] {
    std::vector<std::string> out;
    GDir *d = g_dir_open (ing.outdir.c_str (), 0, nullptr);
    if (!d)
      return out;
    const char *name;
    while ((name = g_dir_read_name (d)))
      if (g_str_has_suffix (name, ".json"))
        out.push_back (name);
    g_dir_close (d);
    return out;
  };
  gint64 deadline = now_ms () + 10000;
  while (summaries ().size () < ids.size () && now_ms () < deadline)
    g_usleep (50 * 1000);
  std::vector<std::string> files = summaries ();
  fail_unless_equals_int (files.size (), ids.size ());

  bool seen_dotdot = false;
  for (const auto &f : files)
    {
      JsonObject *o;
      JsonParser *parser = read_summary (path_join (ing.outdir, f), o);
      std::string id = json_object_get_string_member (o, "sessionId");
      std::string stem = f.substr (0, f.size () - 5);
      const char *reason = id == "s-eos" ? "end of stream" : "idle-timeout";
      fail_unless_equals_string (json_object_get_string_member (o, "endReason"), reason);
      const std::string wav_name = stem + ".wav";
      fail_unless_equals_string (json_object_get_string_member (o, "wav"), wav_name.c_str ());
      Wav wav;
      read_wav (path_join (ing.outdir, stem + ".wav"), wav);
      fail_unless (std::fabs (wav.seconds () - 1.0) <= kSecondsTolerance, "%s: %.4f s", f.c_str (),
                   wav.seconds ());
      if (id == "..")
        {
          seen_dotdot = true;
          fail_unless (g_str_has_prefix (stem.c_str (), "session-"), "\"..\" was written as %s", f.c_str ());
        }
      else if (id == "a/b c")
        {
          fail_unless_equals_string (stem.c_str (), "a_b_c");
        }
      else
        {
          fail_unless_equals_string (stem.c_str (), id.c_str ());
        }
      g_object_unref (parser);
    }
  fail_unless (seen_dotdot);
  /* Nothing escaped the output directory. */
  fail_if (g_file_test (path_join (ing.dir, "a").c_str (), G_FILE_TEST_EXISTS));

  ing.stop (SIGINT, 10000);
  fail_unless_equals_int (ing.exit_status, 0);
  std::string out = ing.stdout_text ();
  fail_unless (out.find ("no message for 1 s") != std::string::npos, "%s", out.c_str ());
  fail_unless_equals_int (table_rows (out, "s-plain "), 1);
}
GST_END_TEST;

WSS_CHECK_MAIN (ingest_server, "wssaudiochunk-ingest",
                { "general", 60,
                  WSS_TESTS (test_fifty_concurrent_sessions, test_bad_client_does_not_disturb,
                             test_idle_timeout_and_file_names) });
