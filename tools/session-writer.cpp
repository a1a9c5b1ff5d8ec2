#include "session-writer.h"

#include "wav-file.h"

#include <gst/app/gstappsrc.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <utility>

namespace wssac_ingest
{

namespace
{

constexpr double kWavBytesPerSecond = 16000.0 * 2; /* S16LE mono 16 kHz */

std::string
message_error_text (GstMessage *msg)
{
  GError *err = nullptr;
  gchar *debug = nullptr;
  gst_message_parse_error (msg, &err, &debug);
  std::string text = std::string (GST_OBJECT_NAME (GST_MESSAGE_SRC (msg))) + ": "
                     + (err ? err->message : "unknown error");
  if (debug && *debug)
    text += " (" + std::string (debug) + ")";
  g_clear_error (&err);
  g_free (debug);
  for (char &c : text)
    if (c == '\n' || c == '\r')
      c = ' '; /* one log line, one summary string */
  return text;
}

} // namespace

SessionWriter::SessionWriter (std::string session_id, std::string output_dir, std::string stem,
                              int64_t eos_timeout_ms)
    : session_id_ (std::move (session_id)), output_dir_ (std::move (output_dir)), eos_timeout_ms_ (eos_timeout_ms)
{
  gchar *wav = g_build_filename (output_dir_.c_str (), (stem + ".wav").c_str (), nullptr);
  gchar *json = g_build_filename (output_dir_.c_str (), (stem + ".json").c_str (), nullptr);
  wav_path_ = wav;
  json_path_ = json;
  g_free (wav);
  g_free (json);
  context_ = g_main_context_ref_thread_default ();
}

SessionWriter::~SessionWriter ()
{
  stop_pipeline ();
  for (GSource **s : { &timeout_, &idle_done_ })
    if (*s)
      {
        g_source_destroy (*s);
        g_source_unref (*s);
        *s = nullptr;
      }
  g_main_context_unref (context_);
}

void
SessionWriter::set_error (const std::string &message)
{
  /* The first error is the cause; later ones are consequences. */
  if (error_.empty ())
    error_ = message;
  g_printerr ("wssaudiochunk-ingest: session \"%s\": %s\n", session_id_.c_str (), message.c_str ());
}

bool
SessionWriter::build_pipeline (const std::string &format)
{
  const char *caps_name, *demux;
  if (format == "webm-opus")
    {
      caps_name = "audio/webm";
      demux = "matroskademux";
    }
  else if (format == "ogg-opus")
    {
      caps_name = "audio/ogg";
      demux = "oggdemux";
    }
  else
    {
      set_error ("unsupported format \"" + format + "\": its audio is not recorded");
      return false;
    }

  gchar *desc = g_strdup_printf ("appsrc name=src is-live=true format=bytes ! %s ! opusdec ! audioconvert "
                                 "! audioresample ! audio/x-raw,format=S16LE,rate=16000,channels=1 ! wavenc "
                                 "! filesink name=out",
                                 demux);
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!pipeline || err)
    {
      set_error (std::string ("cannot build the pipeline: ") + (err ? err->message : "unknown error"));
      g_clear_error (&err);
      if (pipeline)
        gst_object_unref (pipeline);
      return false;
    }
  pipeline_ = pipeline;
  appsrc_ = gst_bin_get_by_name (GST_BIN (pipeline_), "src");
  GstElement *out = gst_bin_get_by_name (GST_BIN (pipeline_), "out");
  GstCaps *caps = gst_caps_new_empty_simple (caps_name);
  g_object_set (appsrc_, "caps", caps, nullptr);
  gst_caps_unref (caps);
  g_object_set (out, "location", wav_path_.c_str (), nullptr);
  gst_object_unref (out);

  GstBus *bus = gst_element_get_bus (pipeline_);
  bus_watch_ = gst_bus_create_watch (bus);
  gst_object_unref (bus);
  g_source_set_callback (bus_watch_, G_SOURCE_FUNC (on_bus), this, nullptr);
  g_source_attach (bus_watch_, context_);

  if (gst_element_set_state (pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      std::string why = "cannot start the pipeline";
      GstBus *b = gst_element_get_bus (pipeline_);
      GstMessage *m = gst_bus_pop_filtered (b, GST_MESSAGE_ERROR);
      if (m)
        {
          why += ": " + message_error_text (m);
          gst_message_unref (m);
        }
      gst_object_unref (b);
      set_error (why);
      stop_pipeline ();
      return false;
    }
  return true;
}

void
SessionWriter::stop_pipeline ()
{
  if (bus_watch_)
    {
      g_source_destroy (bus_watch_);
      g_source_unref (bus_watch_);
      bus_watch_ = nullptr;
    }
  if (!pipeline_)
    return;
  gst_element_set_state (pipeline_, GST_STATE_NULL);
  gst_clear_object (&appsrc_);
  gst_clear_object (&pipeline_);
  measure_wav ();
}

void
SessionWriter::measure_wav ()
{
  GStatBuf st;
  if (g_stat (wav_path_.c_str (), &st) != 0)
    return;
  if (st.st_size == 0)
    {
      /* Nothing was decoded: no header either. Not a WAV; don't leave it. */
      g_unlink (wav_path_.c_str ());
      return;
    }
  wav_created_ = true;
  std::string err;
  bool repaired = false;
  if (!repair_wav_header (wav_path_, repaired, err))
    {
      set_error ("unreadable WAV: " + err);
      return;
    }
  if (repaired)
    g_printerr ("wssaudiochunk-ingest: session \"%s\": WAV header completed after an interrupted recording\n",
                session_id_.c_str ());
  WavInfo info;
  if (!read_wav_info (wav_path_, info, err))
    {
      set_error ("unreadable WAV: " + err);
      return;
    }
  audio_seconds_ = static_cast<double> (info.data_bytes) / kWavBytesPerSecond;
}

void
SessionWriter::push (const std::string &format, const std::vector<uint8_t> &bytes, bool discont)
{
  if (state_ != State::Running || pipeline_failed_)
    {
      dropped_bytes_ += bytes.size ();
      return;
    }
  if (!pipeline_)
    {
      format_ = format;
      if (!build_pipeline (format))
        {
          pipeline_failed_ = true;
          dropped_bytes_ += bytes.size ();
          return;
        }
    }
  GstBuffer *buf = gst_buffer_new_memdup (bytes.data (), bytes.size ());
  if (discont)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  GstFlowReturn ret = gst_app_src_push_buffer (GST_APP_SRC (appsrc_), buf);
  if (ret != GST_FLOW_OK)
    dropped_bytes_ += bytes.size (); /* an error is on its way to the bus */
  else
    pushed_bytes_ += bytes.size ();
}

void
SessionWriter::control (wssac::Action action, int64_t timestamp_ms)
{
  controls_.push_back ({ wssac::action_name (action), timestamp_ms });
}

void
SessionWriter::finish (const std::string &reason, DoneHandler done)
{
  if (state_ != State::Running)
    return;
  end_reason_ = reason;
  on_done_ = std::move (done);
  if (!pipeline_)
    {
      complete ();
      return;
    }
  state_ = State::Finishing;
  gst_app_src_end_of_stream (GST_APP_SRC (appsrc_));
  timeout_ = g_timeout_source_new (static_cast<guint> (eos_timeout_ms_));
  g_source_set_callback (timeout_, on_timeout, this, nullptr);
  g_source_attach (timeout_, context_);
}

void
SessionWriter::abort (const std::string &why)
{
  if (state_ == State::Done)
    return;
  if (end_reason_.empty ())
    end_reason_ = why;
  if (pipeline_)
    {
      set_error ("recording cut short: " + why);
      stop_pipeline ();
    }
  complete ();
}

void
SessionWriter::complete ()
{
  state_ = State::Done;
  if (timeout_)
    {
      g_source_destroy (timeout_);
      g_source_unref (timeout_);
      timeout_ = nullptr;
    }
  if (dropped_bytes_ > 0 && !error_.empty ())
    error_ += " [" + std::to_string (dropped_bytes_) + " bytes of audio not recorded]";
  if (on_done_ && !idle_done_)
    {
      idle_done_ = g_idle_source_new ();
      g_source_set_callback (idle_done_, on_idle_done, this, nullptr);
      g_source_attach (idle_done_, context_);
    }
}

gboolean
SessionWriter::on_idle_done (gpointer data)
{
  auto *self = static_cast<SessionWriter *> (data);
  g_source_unref (self->idle_done_);
  self->idle_done_ = nullptr;
  DoneHandler done = std::move (self->on_done_);
  self->on_done_ = nullptr;
  if (done)
    done (*self); /* may destroy self */
  return G_SOURCE_REMOVE;
}

gboolean
SessionWriter::on_timeout (gpointer data)
{
  auto *self = static_cast<SessionWriter *> (data);
  g_source_unref (self->timeout_);
  self->timeout_ = nullptr;
  self->set_error ("no end-of-stream within " + std::to_string (self->eos_timeout_ms_) + " ms");
  self->stop_pipeline ();
  self->complete ();
  return G_SOURCE_REMOVE;
}

gboolean
SessionWriter::on_bus (GstBus *, GstMessage *msg, gpointer data)
{
  auto *self = static_cast<SessionWriter *> (data);
  switch (GST_MESSAGE_TYPE (msg))
    {
    case GST_MESSAGE_ERROR:
      self->set_error (message_error_text (msg));
      self->pipeline_failed_ = true;
      self->stop_pipeline (); /* destroys this watch */
      if (self->state_ == State::Finishing)
        self->complete ();
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_EOS:
      if (self->state_ != State::Finishing)
        return G_SOURCE_CONTINUE;
      self->stop_pipeline ();
      self->complete ();
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_WARNING:
      {
        GError *err = nullptr;
        gst_message_parse_warning (msg, &err, nullptr);
        g_printerr ("wssaudiochunk-ingest: session \"%s\": warning from %s: %s\n", self->session_id_.c_str (),
                    GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err ? err->message : "");
        g_clear_error (&err);
        return G_SOURCE_CONTINUE;
      }
    default:
      return G_SOURCE_CONTINUE;
    }
}

bool
SessionWriter::write_summary (const wssac::SessionStats &stats, std::string &error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  auto str = [&] (const char *name, const std::string &value) {
    json_builder_set_member_name (b, name);
    json_builder_add_string_value (b, value.c_str ());
  };
  auto num = [&] (const char *name, uint64_t value) {
    json_builder_set_member_name (b, name);
    json_builder_add_int_value (b, static_cast<gint64> (value));
  };
  str ("sessionId", session_id_);
  str ("format", format_.empty () ? stats.format : format_);
  json_builder_set_member_name (b, "wav");
  if (wav_created_)
    {
      gchar *base = g_path_get_basename (wav_path_.c_str ());
      json_builder_add_string_value (b, base);
      g_free (base);
    }
  else
    json_builder_add_null_value (b);
  num ("chunks", stats.chunks);
  num ("bytes", stats.bytes);
  num ("delivered", stats.delivered);
  num ("duplicates", stats.duplicates);
  num ("late", stats.late);
  num ("gaps", stats.gaps);
  num ("missing", stats.missing);
  num ("rejected", stats.rejected);
  num ("controls", stats.controls);
  num ("takeovers", stats.takeovers);
  json_builder_set_member_name (b, "audioSeconds");
  json_builder_add_double_value (b, audio_seconds_);
  str ("endReason", end_reason_);
  json_builder_set_member_name (b, "controlEvents");
  json_builder_begin_array (b);
  for (const auto &c : controls_)
    {
      json_builder_begin_object (b);
      str ("action", c.action);
      json_builder_set_member_name (b, "timestamp");
      json_builder_add_int_value (b, c.timestamp_ms);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  if (!error_.empty ())
    str ("error", error_);
  json_builder_end_object (b);

  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  gsize length = 0;
  gchar *text = json_generator_to_data (gen, &length);
  std::string contents (text, length);
  g_free (text);
  contents += "\n";
  GError *err = nullptr;
  if (!g_file_set_contents (json_path_.c_str (), contents.c_str (), static_cast<gssize> (contents.size ()), &err))
    {
      error = err->message;
      g_error_free (err);
      return false;
    }
  return true;
}

} // namespace wssac_ingest
