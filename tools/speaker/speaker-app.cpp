#include "speaker-app.h"

#include "mic-check.h"
#include "speaker-pipeline.h"
#include "terminal.h"

#include <glib-unix.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <unistd.h>
#include "bus-messages.h"

namespace wssac_speaker
{

namespace
{

/* Seconds from end-session to sending EOS ourselves (a source that does not
 * stop on the sink's EOS flow), then to giving up on a clean end (the
 * sink's drain-timeout is 10000 ms). */
constexpr guint kEosAfterEndSeconds = 5;
constexpr guint kGiveUpAfterEosSeconds = 15;

gint64
now_us ()
{
  return g_get_monotonic_time ();
}

std::string
error_text (GError *err)
{
  return err && err->message ? err->message : "unknown error";
}

uint64_t
stat_u64 (const GstStructure *s, const char *field)
{
  guint64 v = 0;
  return s && gst_structure_get_uint64 (s, field, &v) ? v : 0;
}

} // namespace

SpeakerApp::SpeakerApp (SpeakerOptions options)
    : opt_ (std::move (options)), console_ (isatty (STDOUT_FILENO), opt_.token)
{
}

SpeakerApp::~SpeakerApp ()
{
  terminal_.reset ();
  if (pipeline_)
    {
      gst_element_set_state (pipeline_, GST_STATE_NULL);
      gst_object_unref (pipeline_);
    }
  if (loop_)
    g_main_loop_unref (loop_);
}

int
SpeakerApp::run ()
{
  switch (opt_.mode ())
    {
    case Mode::ListDevices:
      return list_devices ();
    case Mode::CheckMic:
      return check_mic ();
    case Mode::Stream:
      break;
    }
  return stream ();
}

/* ---- --list-devices ---------------------------------------------------- */

int
SpeakerApp::list_devices ()
{
  DeviceList devices;
  devices.probe ();
  console_.block (format_device_list (devices.entries ()));
  return kExitOk;
}

/* ---- --check-mic --------------------------------------------------------- */

int
SpeakerApp::check_mic ()
{
  return check_microphone (console_, opt_, meter_, [this] (GstMessage *msg, ErrorOrigin origin) {
    report_error (msg, origin);
  });
}

/* ---- streaming ----------------------------------------------------------- */

int
SpeakerApp::stream ()
{
  if (!require_elements (console_, { "wssaudiochunksink", "opusenc", "webmmux", "level",
                                     "audioconvert", "audioresample" }))
    return kExitFailure;
  StreamPipeline built;
  if (!build_stream_pipeline (console_, opt_, built))
    return kExitFailure;
  pipeline_ = built.pipeline;
  sink_ = built.sink;
  capture_ = built.capture;
  file_src_ = built.file_src;
  decoder_ = built.decoder;
  input_name_ = built.input_name;

  console_.line ("Streaming " + input_name_ + " to " + display_url (opt_.url) + " as session \""
                 + opt_.session_id + "\"" + (opt_.token.empty () ? "" : " (with a bearer token)")
                 + (opt_.ca_file.empty () ? "" : " (trusting the CA of --ca-file)") + ".");

  loop_ = g_main_loop_new (nullptr, FALSE);
  GstBus *bus = gst_element_get_bus (pipeline_);
  bus_watch_ = gst_bus_add_watch (bus, on_bus, this);
  gst_object_unref (bus);

  /* SIGINT (Ctrl-C), SIGTERM and SIGHUP end the session as q does. */
  static const struct
  {
    int signum;
    const char *name;
  } signals[] = { { SIGINT, "Ctrl-C" }, { SIGTERM, "SIGTERM" }, { SIGHUP, "SIGHUP" } };
  for (int i = 0; i < 3; i++)
    {
      signal_data_[i] = { this, signals[i].name };
      signal_watches_[i] = g_unix_signal_add (signals[i].signum, on_signal, &signal_data_[i]);
    }

  /* Keys only from a terminal we are in the foreground of (in the
   * background, reading it or changing its modes would stop us). */
  if (isatty (STDIN_FILENO) && tcgetpgrp (STDIN_FILENO) == getpgrp ())
    {
      terminal_ = std::make_unique<RawTerminal> (STDIN_FILENO);
      stdin_watch_ = g_unix_fd_add (
          STDIN_FILENO, static_cast<GIOCondition> (G_IO_IN | G_IO_HUP | G_IO_ERR), on_stdin, this);
      console_.line ("Keys: p pause/resume, m mute/unmute, q end the session (Ctrl-C too).");
    }
  tick_ = g_timeout_add (console_.tty () ? 200 : 1000, on_tick, this);

  /* The sink's start() does not wait for the connection (its transport
   * thread connects), so this returns at once. A failure is reported
   * through the bus, which the loop below reads. */
  if (gst_element_set_state (pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    gst_element_post_message (
        pipeline_, gst_message_new_application (GST_OBJECT (pipeline_),
                                                gst_structure_new_empty ("speaker-start-failed")));

  g_main_loop_run (loop_);

  if (!ended_us_)
    ended_us_ = now_us ();
  if (status_.started)
    update_status (); /* the final figures */
  GstStructure *stats = nullptr;
  g_object_get (sink_, "stats", &stats, nullptr);

  for (guint *id : { &bus_watch_, &stdin_watch_, &tick_, &end_timer_, &signal_watches_[0],
                     &signal_watches_[1], &signal_watches_[2] })
    if (*id)
      {
        g_source_remove (*id);
        *id = 0;
      }
  terminal_.reset ();
  gst_element_set_state (pipeline_, GST_STATE_NULL);
  console_.finish_status ();

  if (status_.started)
    {
      SessionSummary sum;
      sum.session_id = opt_.session_id;
      sum.end_reason = eos_ ? end_reason_ : error_seen_ ? "error" : "stopped before the end";
      sum.duration_s = (ended_us_ - started_us_) / 1e6;
      sum.chunks_sent = stat_u64 (stats, "chunks-sent");
      sum.chunks_dropped = stat_u64 (stats, "chunks-dropped");
      sum.reconnects = stat_u64 (stats, "reconnects");
      console_.block (format_summary (sum));
    }
  if (stats)
    gst_structure_free (stats);
  return exit_status_;
}

void
SpeakerApp::quit (int status)
{
  if (exit_status_ == kExitOk)
    exit_status_ = status;
  if (!ended_us_)
    ended_us_ = now_us ();
  if (loop_)
    g_main_loop_quit (loop_);
}

ErrorOrigin
SpeakerApp::origin_of (GstObject *src) const
{
  if (!src)
    return ErrorOrigin::Other;
  if (sink_ && src == GST_OBJECT (sink_))
    return ErrorOrigin::Server;
  if (capture_
      && (src == GST_OBJECT (capture_) || gst_object_has_as_ancestor (src, GST_OBJECT (capture_))))
    return ErrorOrigin::Microphone;
  if ((file_src_ && src == GST_OBJECT (file_src_))
      || (decoder_
          && (src == GST_OBJECT (decoder_)
              || gst_object_has_as_ancestor (src, GST_OBJECT (decoder_)))))
    return ErrorOrigin::File;
  return ErrorOrigin::Other;
}

void
SpeakerApp::on_error (GstMessage *msg)
{
  report_error (msg, origin_of (GST_MESSAGE_SRC (msg)));
}

void
SpeakerApp::report_error (GstMessage *msg, ErrorOrigin origin)
{
  if (error_seen_)
    return; /* the first says why; the rest follow from it */
  error_seen_ = true;
  GError *err = nullptr;
  gchar *debug = nullptr;
  gst_message_parse_error (msg, &err, &debug);
  ErrorInfo info;
  info.origin = origin;
  info.url = opt_.url;
  info.domain = err ? err->domain : 0;
  info.code = err ? err->code : 0;
  info.message = error_text (err);
  info.debug = debug ? debug : "";
  info.file = opt_.file;
  console_.error (friendly_error (info));
  if (opt_.verbose)
    {
      gchar *path = gst_object_get_path_string (GST_MESSAGE_SRC (msg));
      console_.error (std::string ("  from ") + path + ": " + info.message
                      + (debug ? std::string ("\n  ") + debug : ""));
      g_free (path);
    }
  g_clear_error (&err);
  g_free (debug);
}

gboolean
SpeakerApp::on_bus (GstBus *, GstMessage *msg, gpointer data)
{
  auto *self = static_cast<SpeakerApp *> (data);
  switch (GST_MESSAGE_TYPE (msg))
    {
    case GST_MESSAGE_ERROR:
      self->on_error (msg);
      self->quit (kExitFailure);
      break;
    case GST_MESSAGE_WARNING:
      {
        GError *err = nullptr;
        gst_message_parse_warning (msg, &err, nullptr);
        self->console_.line ("Warning: " + error_text (err));
        g_clear_error (&err);
        break;
      }
    case GST_MESSAGE_EOS:
      self->eos_ = true;
      if (self->end_reason_.empty ())
        self->end_reason_ = "end of stream";
      self->quit (kExitOk);
      break;
    case GST_MESSAGE_ELEMENT:
      self->on_element (msg);
      break;
    case GST_MESSAGE_APPLICATION:
      if (gst_message_has_name (msg, "speaker-start-failed") && !self->error_seen_)
        {
          self->error_seen_ = true;
          self->console_.error ("Could not start streaming (the pipeline did not start).");
          self->quit (kExitFailure);
        }
      break;
    default:
      break;
    }
  return G_SOURCE_CONTINUE;
}

void
SpeakerApp::on_level (const GstStructure *s)
{
  feed_level (meter_, s, now_us ());
}

void
SpeakerApp::on_element (GstMessage *msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  if (!s)
    return;
  if (gst_structure_has_name (s, "level"))
    on_level (s);
  else if (gst_structure_has_name (s, wssac::bus::kStreamStart))
    {
      status_.started = true;
      started_us_ = now_us ();
    }
  else if (gst_structure_has_name (s, wssac::bus::kTransmitting))
    {
      gboolean paused = FALSE, muted = FALSE;
      gst_structure_get_boolean (s, "paused", &paused);
      gst_structure_get_boolean (s, "muted", &muted);
      status_.paused = paused;
      status_.muted = muted;
    }
  else if (gst_structure_has_name (s, wssac::bus::kConnection))
    {
      const gchar *state = gst_structure_get_string (s, "state");
      const gchar *detail = gst_structure_get_string (s, "detail");
      const std::string st = state ? state : "";
      const std::string why = detail && *detail ? std::string (" (") + detail + ")" : "";
      status_.connection = st;
      if (st == last_connection_)
        return;
      last_connection_ = st;
      if (st == "connected")
        {
          console_.line (connected_once_ ? "Reconnected."
                                         : "Connected to " + display_url (opt_.url) + ".");
          connected_once_ = true;
        }
      else if (st == "reconnecting")
        console_.line ("Connection lost" + why + ": reconnecting; audio waits in the backlog.");
      else if (st == "failed" && connected_once_)
        console_.line ("Connection failed" + why + "."); /* before: the error says it */
    }
}

void
SpeakerApp::update_status ()
{
  if (!sink_)
    return;
  GstStructure *stats = nullptr;
  g_object_get (sink_, "stats", &stats, nullptr);
  if (stats)
    {
      status_.chunks_sent = stat_u64 (stats, "chunks-sent");
      status_.chunks_dropped = stat_u64 (stats, "chunks-dropped");
      /* Held while paused counts as waiting too. */
      status_.backlog_chunks = stat_u64 (stats, "backlog-chunks") + stat_u64 (stats, "held-chunks");
      status_.reconnects = stat_u64 (stats, "reconnects");
      const gchar *state = gst_structure_get_string (stats, "state");
      if (state && status_.started)
        status_.connection = state;
      gst_structure_free (stats);
    }
  gboolean paused = FALSE, muted = FALSE;
  g_object_get (sink_, "paused", &paused, "muted", &muted, nullptr);
  status_.paused = paused;
  status_.muted = muted;
  status_.level = meter_.level ();
  status_.clipping = meter_.updates () > 0 && meter_.clipping ();
  status_.elapsed_s
      = status_.started ? ((ended_us_ ? ended_us_ : now_us ()) - started_us_) / 1e6 : 0.0;
  console_.status (format_status (status_, console_.tty (), console_.width ()));
}

gboolean
SpeakerApp::on_tick (gpointer data)
{
  static_cast<SpeakerApp *> (data)->update_status ();
  return G_SOURCE_CONTINUE;
}

gboolean
SpeakerApp::on_signal (gpointer data)
{
  auto *d = static_cast<SignalData *> (data);
  d->app->request_end (d->name);
  return G_SOURCE_CONTINUE;
}

gboolean
SpeakerApp::on_stdin (gint fd, GIOCondition, gpointer data)
{
  auto *self = static_cast<SpeakerApp *> (data);
  char buf[64];
  const ssize_t n = read (fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      self->stdin_watch_ = 0; /* end of input: no more keys */
      return G_SOURCE_REMOVE;
    }
  for (ssize_t i = 0; i < n; i++)
    self->on_key (buf[i]);
  return G_SOURCE_CONTINUE;
}

void
SpeakerApp::toggle (const char *property, const char *on_signal, const char *off_signal)
{
  if (ending_)
    return;
  gboolean on = FALSE;
  g_object_get (sink_, property, &on, nullptr);
  g_signal_emit_by_name (sink_, on ? off_signal : on_signal);
  if (g_str_equal (property, "paused"))
    console_.line (on ? "Resumed: the kept audio goes out first."
                      : "Paused: audio is kept (up to 5 s) and sent on resume. Press p to resume.",
                   false);
  else
    console_.line (on ? "Unmuted." : "Muted: no audio is sent (not even later). Press m to unmute.",
                   false);
  update_status (); /* the new state at once, never the old one again */
}

void
SpeakerApp::on_key (char c)
{
  switch (c)
    {
    case 'p':
    case 'P':
      toggle ("paused", "pause", "resume");
      break;
    case 'm':
    case 'M':
      toggle ("muted", "mute", "unmute");
      break;
    case 'q':
    case 'Q':
      request_end ("q");
      break;
    case 'h':
    case 'H':
    case '?':
      console_.line ("Keys: p pause/resume, m mute/unmute, q end the session (Ctrl-C too).");
      break;
    default:
      break;
    }
}

void
SpeakerApp::request_end (const char *why)
{
  if (ending_ || !status_.started)
    {
      /* Twice, or before the session started: stop now. */
      console_.line (
          std::string (why)
          + (ending_ ? " again: stopping now." : ": stopping before the session started."));
      quit (kExitInterrupted);
      return;
    }
  ending_ = true;
  status_.ending = true;
  end_reason_ = kEndReason;
  console_.line (std::string (why) + ": ending the session (the last chunks, then endSession)...",
                 false);
  /* render() returns EOS from now on: the source stops, EOS flows down,
   * the sink drains and posts EOS. */
  g_signal_emit_by_name (sink_, "end-session", kEndReason);
  update_status ();
  end_timer_ = g_timeout_add_seconds (
      kEosAfterEndSeconds,
      [] (gpointer data) -> gboolean {
        auto *self = static_cast<SpeakerApp *> (data);
        /* The source did not stop by itself: end the stream for it. */
        gst_element_send_event (self->pipeline_, gst_event_new_eos ());
        self->end_timer_ = g_timeout_add_seconds (
            kGiveUpAfterEosSeconds,
            [] (gpointer data) -> gboolean {
              auto *self = static_cast<SpeakerApp *> (data);
              self->end_timer_ = 0;
              self->console_.error ("The session did not end in time: stopping.");
              self->quit (kExitFailure);
              return G_SOURCE_REMOVE;
            },
            self);
        return G_SOURCE_REMOVE;
      },
      this);
}

} // namespace wssac_speaker
