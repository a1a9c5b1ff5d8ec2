#include "session-writer.h"
#include "file-names.h"
#include "json-members.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <utility>

namespace wssac_ingest
{

namespace
{
constexpr double kWavBytesPerSecond = 16000.0 * 2; /* S16LE mono 16 kHz */

} // namespace

SessionWriter::SessionWriter (std::string session_id, std::string output_dir, std::string base,
                              WriterOptions options)
    : session_id_ (std::move (session_id)), output_dir_ (std::move (output_dir)),
      base_ (std::move (base)), options_ (options)
{
  context_ = options_.done_context ? g_main_context_ref (options_.done_context)
                                   : g_main_context_ref_thread_default ();
}

SessionWriter::~SessionWriter ()
{
  decoder_.finish ();
  close_files ();
  if (idle_done_)
    {
      g_source_destroy (idle_done_);
      g_source_unref (idle_done_);
    }
  g_main_context_unref (context_);
}

bool
SessionWriter::open (const std::string &format, std::string &error)
{
  format_ = format;
  if (!journal_.open (output_dir_, base_, format, options_.sync, error))
    return false;
  wav_path_ = path_join (output_dir_, stem () + ".wav");
  json_path_ = path_join (output_dir_, stem () + ".json");
  /* The raw session id for a recovery after a crash (the stem is only its
   * safe form); removed once the summary holds it. */
  GError *err = nullptr;
  if (!g_file_set_contents (path_join (output_dir_, stem () + ".session").c_str (), session_id_.data (),
                            static_cast<gssize> (session_id_.size ()), &err))
    {
      error = err->message;
      g_error_free (err);
      return false;
    }
  return true;
}

void
SessionWriter::set_error (const std::string &message)
{
  /* The first error is the cause; later ones are consequences (and would
   * repeat once per chunk). */
  if (!error_.empty ())
    return;
  error_ = message;
  gchar *id = g_strescape (session_id_.c_str (), nullptr);
  g_printerr ("wssaudiochunk-ingest: session \"%s\": %s\n", id, message.c_str ());
  g_free (id);
}

bool
SessionWriter::push (wssac::IngestEvent &ev)
{
  if (done_)
    {
      dropped_bytes_ += ev.bytes.size ();
      return false;
    }
  /* Decoded first: the journal takes the bytes. Once the journal failed,
   * nothing more is decoded either: the session's audio stops there. */
  if (options_.decode && !journal_.failed ())
    decode (ev);
  std::string err;
  const bool starts_batch = journal_.pending_records () == 0;
  if (!journal_.append (std::move (ev.bytes), ev.header_size, ev.chunk_index, ev.stream_id, err))
    {
      set_error (err);
      return false;
    }
  if (starts_batch)
    uncommitted_since_ms_ = g_get_monotonic_time () / 1000;
  if (streams_.empty () || ev.new_stream)
    streams_.push_back (ev.stream_id);
  if (first_index_ < 0)
    first_index_ = static_cast<int64_t> (ev.chunk_index);
  last_index_ = static_cast<int64_t> (ev.chunk_index);
  return true;
}

bool
SessionWriter::commit ()
{
  std::string err;
  if (journal_.commit (err))
    return true;
  set_error (err);
  return false;
}

void
SessionWriter::decode (const wssac::IngestEvent &ev)
{
  if (ev.new_stream && decoder_.running ())
    finish_decoder (); /* the earlier run ends here; its tail goes to the WAV */
  if (ev.new_stream)
    decoding_failed_ = false; /* a new run brings its own header */
  if (decoding_failed_)
    return;
  std::string err;
  if (!wav_.is_open ())
    {
      if (!wav_.open (wav_path_, err))
        {
          set_error (err);
          decoding_failed_ = true;
          return;
        }
      wav_created_ = true;
    }
  if (!decoder_.running ())
    {
      auto on_pcm = [this] (const uint8_t *data, size_t size) {
        std::string e;
        if (!wav_.append (data, size, e))
          set_error (e);
      };
      if (!decoder_.start (format_, on_pcm, err))
        {
          set_error (err);
          decoding_failed_ = true;
          return;
        }
    }
  if (!decoder_.push (ev.bytes.data (), ev.bytes.size (), ev.discont))
    {
      set_error (decoder_.error () + " (the journal " + journal_path () + " keeps the audio)");
      decoder_.finish ();
      decoding_failed_ = true;
    }
}

void
SessionWriter::finish_decoder ()
{
  if (!decoder_.running ())
    return;
  decoder_.finish ();
  if (!decoder_.error ().empty ())
    set_error (decoder_.error () + " (the journal " + journal_path () + " keeps the audio)");
}

void
SessionWriter::control (wssac::Action action, int64_t timestamp_ms)
{
  controls_.push_back ({ wssac::action_name (action), timestamp_ms });
}

void
SessionWriter::tick (int64_t now_ms)
{
  wav_.maybe_update (now_ms);
  if (journal_.pending_records () > 0 && now_ms - uncommitted_since_ms_ >= kMaxUncommittedMs)
    commit ();
}

void
SessionWriter::close_files ()
{
  std::string err;
  if (wav_.is_open ())
    {
      if (!wav_.close (err))
        set_error (err);
      audio_seconds_ = static_cast<double> (wav_.data_bytes ()) / kWavBytesPerSecond;
      if (wav_.data_bytes () == 0)
        {
          /* Nothing decoded: a header alone is no recording. */
          g_unlink (wav_path_.c_str ());
          wav_created_ = false;
        }
    }
  if (!journal_.close (err))
    set_error (err);
}

void
SessionWriter::finish (const std::string &reason, DoneHandler done)
{
  if (done_)
    return;
  end_reason_ = reason;
  on_done_ = std::move (done);
  finish_decoder ();
  close_files ();
  done_ = true;
  if (dropped_bytes () > 0 && !error_.empty ())
    error_ += " [" + std::to_string (dropped_bytes ()) + " bytes of audio not recorded]";
  if (on_done_ && !idle_done_)
    {
      idle_done_ = g_idle_source_new ();
      g_source_set_callback (idle_done_, on_idle_done, this, nullptr);
      g_source_attach (idle_done_, context_);
    }
}

void
SessionWriter::abort (const std::string &why)
{
  finish (end_reason_.empty () ? why : end_reason_, std::move (on_done_));
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

bool
SessionWriter::write_summary (const wssac::SessionStats &stats, std::string &error)
{
  SummaryFields f;
  f.session_id = session_id_;
  f.format = format_.empty () ? stats.format : format_;
  f.part = stem ();
  if (wav_created_)
    {
      gchar *base = g_path_get_basename (wav_path_.c_str ());
      f.wav_name = base;
      g_free (base);
    }
  f.end_reason = end_reason_;
  f.error = error_;
  f.first_index = first_index_;
  f.last_index = last_index_;
  f.streams = streams_;
  f.audio_seconds = audio_seconds_;
  f.controls = controls_;
  if (!write_summary_file (json_path_, f, stats, error))
    return false;
  g_unlink (path_join (output_dir_, stem () + ".session").c_str ());
  return true;
}

bool
write_summary_file (const std::string &path, const SummaryFields &f,
                    const wssac::SessionStats &stats, std::string &error)
{
  using namespace wssac::json;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "sessionId", f.session_id);
  add_string (b, "part", f.part);
  add_string (b, "format", f.format);
  add_string_or_null (b, "wav", f.wav_name);
  /* The session's counts, as docs/protocol.md names them. */
  const std::pair<const char *, uint64_t> counts[] = {
    { "chunks", stats.chunks },       { "bytes", stats.bytes },
    { "delivered", stats.delivered }, { "duplicates", stats.duplicates },
    { "late", stats.late },           { "gaps", stats.gaps },
    { "missing", stats.missing },     { "rejected", stats.rejected },
    { "controls", stats.controls },   { "takeovers", stats.takeovers },
    { "staleStreamChunks", stats.stale_stream },
    { "refusedOtherToken", stats.refused_other_principal },
  };
  for (const auto &c : counts)
    add_int (b, c.first, static_cast<gint64> (c.second));
  add_index_or_null (b, "firstChunkIndex", f.first_index);
  add_index_or_null (b, "lastChunkIndex", f.last_index);
  json_builder_set_member_name (b, "streams");
  json_builder_begin_array (b);
  for (const auto &s : f.streams)
    if (s.empty ())
      json_builder_add_null_value (b);
    else
      json_builder_add_string_value (b, s.c_str ());
  json_builder_end_array (b);
  add_bool (b, "recovered", f.recovered);
  add_double (b, "audioSeconds", f.audio_seconds);
  add_string (b, "endReason", f.end_reason);
  json_builder_set_member_name (b, "controlEvents");
  json_builder_begin_array (b);
  for (const auto &c : f.controls)
    {
      json_builder_begin_object (b);
      add_string (b, "action", c.action);
      add_int (b, "timestamp", c.timestamp_ms);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  if (!f.error.empty ())
    add_string (b, "error", f.error);
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
  if (!g_file_set_contents (path.c_str (), contents.c_str (),
                            static_cast<gssize> (contents.size ()), &err))
    {
      error = err->message;
      g_error_free (err);
      return false;
    }
  return true;
}

} // namespace wssac_ingest
