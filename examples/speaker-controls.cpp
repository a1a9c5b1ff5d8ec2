/* speaker-controls: wssaudiochunksink embedded in an application.
 *
 *   speaker-controls ws://127.0.0.1:8080/ws [--session-id ID] [--file PATH] [--seconds N]
 *
 * Streams a live test tone (or a file, paced in real time) and, on a
 * timeline counted from the start of the stream, drives the broadcast
 * controls both ways the element offers:
 *
 *   1 s  pause    (action signal "pause")
 *   2 s  resume   (property paused=false)
 *   3 s  mute     (property muted=true)
 *   4 s  unmute   (action signal "unmute")
 *   N s  end the session (action signal "end-session", reason "example finished")
 *
 * It prints the element's bus messages as they come (wss-audio-chunk-sent,
 * -transmitting, -connection, -stream-start/-stop) and its stats property
 * once a second, and exits 0 when the session ended cleanly with every
 * control seen on the bus (transmitting: yes, no, yes, no, yes, no), 1
 * otherwise. Build: meson (examples/meson.build); run it with
 * GST_PLUGIN_PATH=build/ext/wssaudiochunk, or inside `meson devenv -C build`.
 */
#include <gst/gst.h>

#include <cstdio>
#include <string>
#include <vector>

namespace
{

struct App
{
  GMainLoop *loop = nullptr;
  GstElement *pipeline = nullptr;
  GstElement *sink = nullptr;
  int seconds = 6;
  bool started = false;
  bool eos = false;
  bool error = false;
  guint64 chunks_seen = 0;
  std::vector<bool> transmitting; /* wss-audio-chunk-transmitting, in order */
  std::vector<guint> timers;
};

void
print_stats (App *app)
{
  /* A GstStructure owned by the caller: every counter of the sink. */
  GstStructure *stats = nullptr;
  g_object_get (app->sink, "stats", &stats, nullptr);
  if (!stats)
    return;
  guint64 sent = 0, dropped = 0, backlog = 0, reconnects = 0;
  gst_structure_get_uint64 (stats, "chunks-sent", &sent);
  gst_structure_get_uint64 (stats, "chunks-dropped", &dropped);
  gst_structure_get_uint64 (stats, "backlog-chunks", &backlog);
  gst_structure_get_uint64 (stats, "reconnects", &reconnects);
  gboolean paused = FALSE, muted = FALSE;
  g_object_get (app->sink, "paused", &paused, "muted", &muted, nullptr);
  g_print ("stats: state=%s chunks-sent=%" G_GUINT64_FORMAT " chunks-dropped=%" G_GUINT64_FORMAT
           " backlog-chunks=%" G_GUINT64_FORMAT " reconnects=%" G_GUINT64_FORMAT
           " paused=%d muted=%d last-error=\"%s\"\n",
           gst_structure_get_string (stats, "state"), sent, dropped, backlog, reconnects, paused,
           muted, gst_structure_get_string (stats, "last-error"));
  gst_structure_free (stats);
}

/* One step of the timeline. */
struct Step
{
  guint at_ms;
  const char *what;
  void (*run) (GstElement *sink);
};

const Step kSteps[] = {
  { 1000, "pause (signal)", [] (GstElement *s) { g_signal_emit_by_name (s, "pause"); } },
  { 2000, "resume (property paused=false)",
    [] (GstElement *s) { g_object_set (s, "paused", FALSE, nullptr); } },
  { 3000, "mute (property muted=true)",
    [] (GstElement *s) { g_object_set (s, "muted", TRUE, nullptr); } },
  { 4000, "unmute (signal)", [] (GstElement *s) { g_signal_emit_by_name (s, "unmute"); } },
};

struct StepCall
{
  App *app;
  const Step *step;
};

void
start_timeline (App *app)
{
  for (const Step &step : kSteps)
    {
      auto *call = new StepCall{ app, &step };
      app->timers.push_back (g_timeout_add_full (
          G_PRIORITY_DEFAULT, step.at_ms,
          [] (gpointer data) -> gboolean {
            auto *c = static_cast<StepCall *> (data);
            g_print ("-> %s\n", c->step->what);
            c->step->run (c->app->sink);
            return G_SOURCE_REMOVE;
          },
          call, [] (gpointer data) { delete static_cast<StepCall *> (data); }));
    }
  app->timers.push_back (g_timeout_add (
      static_cast<guint> (app->seconds) * 1000,
      [] (gpointer data) -> gboolean {
        auto *a = static_cast<App *> (data);
        g_print ("-> end-session (signal, reason \"example finished\")\n");
        /* The element sends what is queued, then endSession, then closes; it
         * takes no more audio, so the pipeline reaches EOS. */
        g_signal_emit_by_name (a->sink, "end-session", "example finished");
        return G_SOURCE_REMOVE;
      },
      app));
  app->timers.push_back (g_timeout_add_seconds (
      1,
      [] (gpointer data) -> gboolean {
        print_stats (static_cast<App *> (data));
        return G_SOURCE_CONTINUE;
      },
      app));
}

gboolean
on_bus (GstBus *, GstMessage *msg, gpointer data)
{
  auto *app = static_cast<App *> (data);
  switch (GST_MESSAGE_TYPE (msg))
    {
    case GST_MESSAGE_ELEMENT:
      {
        const GstStructure *s = gst_message_get_structure (msg);
        if (gst_structure_has_name (s, "wss-audio-chunk-sent"))
          {
            guint64 index = 0;
            guint size = 0, encoded = 0;
            gst_structure_get_uint64 (s, "chunk-index", &index);
            gst_structure_get_uint (s, "size", &size);
            gst_structure_get_uint (s, "encoded-size", &encoded);
            g_print ("sent: chunk %" G_GUINT64_FORMAT ", %u bytes of audio, %u bytes of JSON\n",
                     index, size, encoded);
            app->chunks_seen++;
          }
        else if (gst_structure_has_name (s, "wss-audio-chunk-transmitting"))
          {
            gboolean t = FALSE, paused = FALSE, muted = FALSE;
            gst_structure_get_boolean (s, "transmitting", &t);
            gst_structure_get_boolean (s, "paused", &paused);
            gst_structure_get_boolean (s, "muted", &muted);
            g_print ("transmitting: %s (paused=%d muted=%d)\n", t ? "yes" : "no", paused, muted);
            app->transmitting.push_back (t);
          }
        else if (gst_structure_has_name (s, "wss-audio-chunk-connection"))
          g_print ("connection: %s %s\n", gst_structure_get_string (s, "state"),
                   gst_structure_get_string (s, "detail"));
        else if (gst_structure_has_name (s, "wss-audio-chunk-stream-start"))
          {
            g_print ("stream started: session %s\n", gst_structure_get_string (s, "session-id"));
            if (!app->started)
              {
                app->started = true;
                start_timeline (app);
              }
          }
        else if (gst_structure_has_name (s, "wss-audio-chunk-stream-stop"))
          g_print ("stream stopped: %s\n", gst_structure_get_string (s, "reason"));
        break;
      }
    case GST_MESSAGE_WARNING:
      {
        GError *err = nullptr;
        gst_message_parse_warning (msg, &err, nullptr);
        g_printerr ("warning: %s\n", err->message);
        g_error_free (err);
        break;
      }
    case GST_MESSAGE_ERROR:
      {
        /* The sink reports an unreachable server as RESOURCE OPEN_WRITE,
         * with the URI and the cause in the message. */
        GError *err = nullptr;
        gchar *debug = nullptr;
        gst_message_parse_error (msg, &err, &debug);
        g_printerr ("error from %s: %s\n(%s)\n", GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)),
                    err->message, debug ? debug : "");
        g_error_free (err);
        g_free (debug);
        app->error = true;
        g_main_loop_quit (app->loop);
        break;
      }
    case GST_MESSAGE_EOS:
      app->eos = true;
      g_main_loop_quit (app->loop);
      break;
    default:
      break;
    }
  return G_SOURCE_CONTINUE;
}

} // namespace

int
main (int argc, char **argv)
{
  gchar *session_id = nullptr, *file = nullptr;
  int seconds = 6;
  GOptionEntry entries[] = {
    { "session-id", 's', 0, G_OPTION_ARG_STRING, &session_id,
      "Session id (default: speaker-controls-example)", "ID" },
    { "file", 'f', 0, G_OPTION_ARG_FILENAME, &file, "Stream this audio file instead of a test tone",
      "PATH" },
    { "seconds", 'n', 0, G_OPTION_ARG_INT, &seconds,
      "End the session after this many seconds (>= 5, default 6)", "N" },
    { nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr },
  };
  GOptionContext *ctx
      = g_option_context_new ("URL - drive wssaudiochunksink's pause/mute controls");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  GError *err = nullptr;
  if (!g_option_context_parse (ctx, &argc, &argv, &err) || argc != 2 || seconds < 5)
    {
      g_printerr (
          "%s\nUsage: %s ws://HOST:PORT/PATH [--session-id ID] [--file PATH] [--seconds N]\n",
          err ? err->message : "", argv[0]);
      g_clear_error (&err);
      g_option_context_free (ctx);
      return 2;
    }
  g_option_context_free (ctx);
  gst_init (nullptr, nullptr);

  if (GstElementFactory *f = gst_element_factory_find ("wssaudiochunksink"))
    gst_object_unref (f);
  else
    {
      g_printerr ("wssaudiochunksink not found: set GST_PLUGIN_PATH to the plugin's directory "
                  "(build/ext/wssaudiochunk)\n");
      return 2;
    }

  /* The capture side of the browser speaker app: 16 kHz mono, Opus at 16 kbit/s in
   * WebM with 250 ms clusters. A live source, or a file paced by the sink's
   * clock sync. */
  const std::string source = file ? "filesrc name=file ! decodebin ! audioconvert ! audioresample"
                                  : "audiotestsrc is-live=true wave=sine freq=440 volume=0.3";
  const std::string description = source
                                  + " ! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000 "
                                    "! webmmux streamable=true min-cluster-duration=250000000 "
                                    "! wssaudiochunksink name=sink post-messages=true";
  App app;
  app.seconds = seconds;
  app.pipeline = gst_parse_launch (description.c_str (), &err);
  if (!app.pipeline)
    {
      g_printerr ("pipeline: %s\n", err->message);
      g_error_free (err);
      return 1;
    }
  if (file)
    {
      GstElement *src = gst_bin_get_by_name (GST_BIN (app.pipeline), "file");
      g_object_set (src, "location", file, nullptr);
      gst_object_unref (src);
    }
  app.sink = gst_bin_get_by_name (GST_BIN (app.pipeline), "sink");
  g_object_set (app.sink, "location", argv[1], "session-id",
                session_id ? session_id : "speaker-controls-example", nullptr);
  /* A token would go in extra-headers, one field per header:
   *   GstStructure *h = gst_structure_new ("headers", "Authorization", G_TYPE_STRING, "Bearer ...",
   * NULL); g_object_set (app.sink, "extra-headers", h, NULL); */

  app.loop = g_main_loop_new (nullptr, FALSE);
  GstBus *bus = gst_element_get_bus (app.pipeline);
  guint watch = gst_bus_add_watch (bus, on_bus, &app);

  int status = 1;
  /* The sink connects while going to PAUSED: an unreachable server fails
   * here, with its error on the bus. */
  if (gst_element_set_state (app.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
      if (m)
        {
          on_bus (bus, m, &app);
          gst_message_unref (m);
        }
      g_printerr ("could not start streaming\n");
    }
  else
    {
      g_main_loop_run (app.loop);
      print_stats (&app);
      const std::vector<bool> expected = { true, false, true, false, true, false };
      if (app.error)
        g_printerr ("FAILED: the pipeline posted an error\n");
      else if (!app.eos)
        g_printerr ("FAILED: no end of stream\n");
      else if (app.chunks_seen == 0)
        g_printerr ("FAILED: no chunk sent\n");
      else if (app.transmitting != expected)
        g_printerr ("FAILED: %zu transmitting changes, expected yes/no/yes/no/yes/no\n",
                    app.transmitting.size ());
      else
        {
          g_print ("OK: %" G_GUINT64_FORMAT
                   " chunks sent; pause, resume, mute, unmute and end-session applied\n",
                   app.chunks_seen);
          status = 0;
        }
    }

  for (guint id : app.timers)
    if (GSource *src = g_main_context_find_source_by_id (nullptr, id))
      g_source_destroy (src); /* those still pending */
  g_source_remove (watch);
  gst_object_unref (bus);
  gst_element_set_state (app.pipeline, GST_STATE_NULL);
  gst_object_unref (app.sink);
  gst_object_unref (app.pipeline);
  g_main_loop_unref (app.loop);
  g_free (session_id);
  g_free (file);
  return status;
}
