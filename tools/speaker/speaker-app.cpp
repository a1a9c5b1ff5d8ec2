#include "speaker-app.h"

#include "terminal.h"

#include <glib-unix.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <unistd.h>
#include "bus-messages.h"

namespace wssac_speaker
{

namespace
{

/* Seconds from end-session to sending EOS ourselves (a source that does not
 * stop on the sink's EOS flow), then to giving up on a clean end (the
 * sink's drain-timeout is 10 s). */
constexpr guint kEosAfterEndSeconds = 5;
constexpr guint kGiveUpAfterEosSeconds = 15;

const char *const kEncodeChain
    = "opusenc bitrate=16000 ! webmmux streamable=true min-cluster-duration=250000000 "
      "! wssaudiochunksink name=sink end-session-on-eos=true";

/* 16 kHz mono S16LE: what opusenc, webrtcdsp and the receiver's Phase 2
 * want. level measures the input before any voice processing. */
const char *const kCaptureChain
    = "audioconvert ! audioresample "
      "! audio/x-raw,format=S16LE,layout=interleaved,rate=16000,channels=1 "
      "! level name=level interval=100000000 post-messages=true";

const char *const kDspElement
    = "webrtcdsp name=dsp echo-cancel=false noise-suppression=true gain-control=true";

gint64
now_us ()
{
  return g_get_monotonic_time ();
}

G_GNUC_BEGIN_IGNORE_DEPRECATIONS
/* The loudest channel of a `level` field (a GValueArray of doubles in
 * GStreamer 1.22). */
double
loudest (const GstStructure *s, const char *field)
{
  double best = -INFINITY;
  const GValue *v = gst_structure_get_value (s, field);
  if (!v || !G_VALUE_HOLDS (v, g_value_array_get_type ()))
    return best;
  const GValueArray *arr = static_cast<const GValueArray *> (g_value_get_boxed (v));
  for (guint i = 0; arr && i < arr->n_values; i++)
    {
      const GValue *c = g_value_array_get_nth (const_cast<GValueArray *> (arr), i);
      if (G_VALUE_HOLDS_DOUBLE (c))
        best = std::max (best, g_value_get_double (c));
    }
  return best;
}
G_GNUC_END_IGNORE_DEPRECATIONS

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
  if (sink_)
    gst_object_unref (sink_);
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

bool
SpeakerApp::require_elements (std::initializer_list<const char *> factories)
{
  for (const char *f : factories)
    {
      GstElementFactory *factory = gst_element_factory_find (f);
      if (factory)
        {
          gst_object_unref (factory);
          continue;
        }
      if (g_str_equal (f, "wssaudiochunksink"))
        console_.error (
            "The wssaudiochunksink element is not installed: install the wssaudiochunk plugin, or "
            "point GST_PLUGIN_PATH at its build directory (build/ext/wssaudiochunk).");
      else
        console_.error (std::string ("The GStreamer element \"") + f
                        + "\" is missing: install gstreamer1.0-plugins-base, -good and -bad "
                          "(scripts/install-deps.sh).");
      return false;
    }
  return true;
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

GstElement *
SpeakerApp::open_device (std::string &name)
{
  DeviceList devices;
  devices.probe ();
  std::string error;
  int index = pick_device (devices.entries (), opt_.device, error);
  if (index < 0)
    {
      console_.error (error);
      return nullptr;
    }
  const DeviceEntry &e = devices.entries ()[static_cast<size_t> (index)];
  name = e.display_name;
  GstElement *src = devices.create_element (index, "mic");
  if (!src)
    {
      console_.error ("Could not open the microphone \"" + name
                      + "\": its provider made no element for it.");
      return nullptr;
    }
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (src), "client-name"))
    g_object_set (src, "client-name", "wssaudiochunk-speaker", nullptr);
  if (opt_.verbose)
    console_.line ("Device " + std::to_string (index) + ": " + e.element);
  return src;
}

/* ---- --check-mic --------------------------------------------------------- */

int
SpeakerApp::check_mic ()
{
  if (!require_elements ({ "audioconvert", "audioresample", "level", "fakesink" }))
    return kExitFailure;
  std::string name;
  GstElement *src = open_device (name);
  if (!src)
    return kExitFailure;

  GError *err = nullptr;
  GstElement *rest = gst_parse_bin_from_description (
      (std::string (kCaptureChain) + " ! fakesink sync=false").c_str (), TRUE, &err);
  if (!rest)
    {
      console_.error ("Cannot build the check pipeline: " + error_text (err));
      g_clear_error (&err);
      gst_object_unref (gst_object_ref_sink (src));
      return kExitFailure;
    }
  pipeline_ = gst_pipeline_new ("check-mic");
  gst_bin_add_many (GST_BIN (pipeline_), src, rest, nullptr);
  capture_ = src;
  if (!gst_element_link (src, rest))
    {
      console_.error ("The microphone \"" + name
                      + "\" gives no audio that can be converted to 16 kHz mono.");
      return kExitFailure;
    }

  console_.line ("Checking the microphone \"" + name + "\" for 1 s...");
  gst_element_set_state (pipeline_, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (pipeline_);
  const gint64 t0 = now_us ();
  gint64 deadline = t0 + 6 * G_USEC_PER_SEC; /* until the first level message */
  bool measuring = false;
  int status = -1;
  while (status < 0)
    {
      const gint64 left = deadline - now_us ();
      if (left <= 0)
        break;
      GstMessage *msg = gst_bus_timed_pop (bus, static_cast<GstClockTime> (left) * GST_USECOND);
      if (!msg)
        break;
      switch (GST_MESSAGE_TYPE (msg))
        {
        case GST_MESSAGE_ERROR:
          on_error (msg);
          status = kExitFailure;
          break;
        case GST_MESSAGE_ELEMENT:
          {
            const GstStructure *s = gst_message_get_structure (msg);
            if (s && gst_structure_has_name (s, "level"))
              {
                on_level (s);
                if (!measuring)
                  {
                    measuring = true;
                    deadline = now_us () + G_USEC_PER_SEC;
                  }
              }
            break;
          }
        case GST_MESSAGE_EOS:
          deadline = 0;
          break;
        default:
          break;
        }
      gst_message_unref (msg);
    }
  gst_object_unref (bus);
  gst_element_set_state (pipeline_, GST_STATE_NULL);
  if (status >= 0)
    return status;

  if (meter_.updates () == 0)
    {
      console_.error ("The microphone \"" + name
                      + "\" opened but delivered no audio in 6 s: it may be in use, suspended, or "
                        "disconnected.");
      return kExitFailure;
    }
  char figures[96];
  g_snprintf (figures, sizeof figures, "input level %d/100 (RMS %.1f dBFS, peak %.1f dBFS)",
              meter_.max_level (), std::max (meter_.max_rms_db (), -200.0),
              std::max (meter_.max_peak_db (), -200.0));
  if (meter_.max_rms_db () < -100.0)
    {
      console_.error ("The microphone \"" + name + "\" records only silence, " + figures
                      + ": it is probably muted. Unmute it in the mixer (pavucontrol, alsamixer) "
                        "and try again.");
      return kExitFailure;
    }
  if (meter_.max_level () == 0)
    console_.line ("Microphone works, but it is very quiet: " + std::string (figures)
                   + ". Speak into it, or raise its volume in the mixer.");
  else
    console_.line ("Microphone OK: " + std::string (figures) + ".");
  return kExitOk;
}

/* ---- streaming ----------------------------------------------------------- */

std::string
SpeakerApp::stream_description (bool dsp) const
{
  std::string d = kCaptureChain;
  d += " ! ";
  if (dsp)
    d += std::string (kDspElement) + " ! ";
  return d + kEncodeChain;
}

GstElement *
SpeakerApp::build_pipeline ()
{
  GError *err = nullptr;
  GstElement *pipeline = nullptr;
  if (!opt_.file.empty ())
    {
      if (!require_elements ({ "filesrc", "decodebin" }))
        return nullptr;
      /* Files are streamed as they are: no voice processing. */
      std::string d = "filesrc name=file ! decodebin name=decoder caps=audio/x-raw "
                      "expose-all-streams=false ! "
                      + stream_description (false);
      pipeline = gst_parse_launch (d.c_str (), &err);
      if (pipeline)
        {
          file_src_ = gst_bin_get_by_name (GST_BIN (pipeline), "file");
          decoder_ = gst_bin_get_by_name (GST_BIN (pipeline), "decoder");
          g_object_set (file_src_, "location", opt_.file.c_str (), nullptr);
          /* not kept: the pipeline holds them */
          gst_object_unref (file_src_);
          gst_object_unref (decoder_);
          gchar *base = g_path_get_basename (opt_.file.c_str ());
          input_name_ = std::string ("file \"") + base + "\"";
          g_free (base);
        }
      if (opt_.verbose && pipeline)
        console_.line ("Pipeline: " + d);
    }
  else
    {
      std::string name;
      GstElement *src = open_device (name);
      if (!src)
        return nullptr;
      bool dsp = false;
      if (opt_.no_dsp)
        console_.line ("Voice processing off (--no-dsp).");
      else if (GstElementFactory *f = gst_element_factory_find ("webrtcdsp"))
        {
          gst_object_unref (f);
          dsp = true;
          console_.line (
              "Voice processing: webrtcdsp noise suppression and gain control "
              "(no echo cancellation: it needs the playback signal; see docs/speaker.md).");
        }
      else
        console_.line (
            "Note: webrtcdsp is not installed (gstreamer1.0-plugins-bad): streaming without noise "
            "suppression or gain control.");
      const std::string d = stream_description (dsp);
      GstElement *rest = gst_parse_bin_from_description (d.c_str (), TRUE, &err);
      if (rest)
        {
          pipeline = gst_pipeline_new ("speaker");
          gst_bin_add_many (GST_BIN (pipeline), src, rest, nullptr);
          capture_ = src;
          if (!gst_element_link (src, rest))
            {
              console_.error ("The microphone \"" + name
                              + "\" gives no audio that can be converted to 16 kHz mono.");
              gst_object_unref (pipeline);
              exit_status_ = kExitFailure;
              return nullptr;
            }
          input_name_ = "microphone \"" + name + "\"";
        }
      else
        gst_object_unref (gst_object_ref_sink (src));
      if (opt_.verbose && pipeline)
        console_.line ("Pipeline: <device> ! " + d);
    }
  if (!pipeline)
    {
      console_.error ("Cannot build the pipeline: " + error_text (err));
      g_clear_error (&err);
      return nullptr;
    }
  g_clear_error (&err);
  return pipeline;
}

int
SpeakerApp::stream ()
{
  if (!require_elements (
          { "wssaudiochunksink", "opusenc", "webmmux", "level", "audioconvert", "audioresample" }))
    return kExitFailure;
  pipeline_ = build_pipeline ();
  if (!pipeline_)
    return kExitFailure;
  sink_ = gst_bin_get_by_name (GST_BIN (pipeline_), "sink");
  /* Set here, never in a description that could be printed. */
  g_object_set (sink_, "location", opt_.url.c_str (), "session-id", opt_.session_id.c_str (),
                nullptr);
  if (!opt_.token.empty ())
    {
      GstStructure *headers = gst_structure_new_empty ("extra-headers");
      const std::string value = "Bearer " + opt_.token;
      gst_structure_set (headers, "Authorization", G_TYPE_STRING, value.c_str (), nullptr);
      g_object_set (sink_, "extra-headers", headers, nullptr);
      gst_structure_free (headers);
    }

  console_.line ("Streaming " + input_name_ + " to " + display_url (opt_.url) + " as session \""
                 + opt_.session_id + "\"" + (opt_.token.empty () ? "" : " (with a bearer token)")
                 + ".");

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

  /* The sink connects while going to PAUSED (up to its connect-timeout):
   * off the main thread, so that the keys and signals still work. */
  gst_element_call_async (
      pipeline_,
      [] (GstElement *p, gpointer) {
        if (gst_element_set_state (p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
          gst_element_post_message (
              p, gst_message_new_application (GST_OBJECT (p),
                                              gst_structure_new_empty ("speaker-start-failed")));
      },
      nullptr, nullptr);

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
  if (error_seen_)
    return; /* the first says why; the rest follow from it */
  error_seen_ = true;
  GError *err = nullptr;
  gchar *debug = nullptr;
  gst_message_parse_error (msg, &err, &debug);
  ErrorInfo info;
  info.origin = origin_of (GST_MESSAGE_SRC (msg));
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
  meter_.update (loudest (s, "rms"), loudest (s, "peak"), now_us ());
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
