/* wssaudiochunk-ingest: one session's recording. Decodes the session's
 * WebM/Opus (or Ogg/Opus) byte stream with a GStreamer pipeline into a
 * 16 kHz mono S16LE WAV, and writes the session's JSON summary next to it.
 *
 *   appsrc ! matroskademux|oggdemux ! opusdec ! audioconvert ! audioresample
 *     ! audio/x-raw,format=S16LE,rate=16000,channels=1 ! wavenc ! filesink
 *
 * Everything runs on the thread of the GMainContext that is the thread
 * default when the writer is created (the program's main loop): the bus is
 * watched there, and the completion callback is called from there, never
 * from inside push(), control() or finish(). A pipeline error only ends this
 * session's recording: it is logged, kept for the summary, and later audio
 * of the session is dropped. */
#pragma once

#include "ingest-core.h"

#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace wssac_ingest
{

struct ControlRecord
{
  std::string action;
  int64_t timestamp_ms = -1;
};

class SessionWriter
{
public:
  using DoneHandler = std::function<void (SessionWriter &)>;

  /* @stem: the file name without extension (already sanitized and unique). */
  SessionWriter (std::string session_id, std::string output_dir, std::string stem, int64_t eos_timeout_ms);
  ~SessionWriter ();
  SessionWriter (const SessionWriter &) = delete;
  SessionWriter &operator= (const SessionWriter &) = delete;

  const std::string &session_id () const { return session_id_; }
  const std::string &wav_path () const { return wav_path_; }
  const std::string &json_path () const { return json_path_; }

  /* In-order bytes of the container stream; the pipeline is built on the
   * first call, for @format ("webm-opus" or "ogg-opus"). */
  void push (const std::string &format, const std::vector<uint8_t> &bytes, bool discont);
  void control (wssac::Action action, int64_t timestamp_ms);

  /* End of session: end-of-stream into the pipeline, then @done once the
   * WAV is final (EOS reached, an error, or eos_timeout_ms passed). */
  void finish (const std::string &reason, DoneHandler done);
  /* Stops the pipeline now (a second signal): @done comes at once. */
  void abort (const std::string &why);
  bool done () const { return state_ == State::Done; }

  /* After done: writes the summary JSON. */
  bool write_summary (const wssac::SessionStats &stats, std::string &error);

  /* Figures for the progress line and the table, valid after done. */
  const std::string &format () const { return format_; }
  const std::string &end_reason () const { return end_reason_; }
  const std::string &error () const { return error_; }
  bool has_wav () const { return wav_created_; }
  double audio_seconds () const { return audio_seconds_; }
  uint64_t dropped_bytes () const { return dropped_bytes_; }

private:
  enum class State
  {
    Running,
    Finishing,
    Done,
  };

  bool build_pipeline (const std::string &format);
  void set_error (const std::string &message);
  void stop_pipeline ();
  void complete ();
  void measure_wav ();
  static gboolean on_bus (GstBus *bus, GstMessage *msg, gpointer data);
  static gboolean on_timeout (gpointer data);
  static gboolean on_idle_done (gpointer data);

  std::string session_id_;
  std::string output_dir_;
  std::string wav_path_;
  std::string json_path_;
  int64_t eos_timeout_ms_;

  State state_ = State::Running;
  std::string format_;
  std::string end_reason_;
  std::string error_;
  std::vector<ControlRecord> controls_;
  DoneHandler on_done_;

  GstElement *pipeline_ = nullptr;
  GstElement *appsrc_ = nullptr;
  GMainContext *context_ = nullptr;
  GSource *bus_watch_ = nullptr;
  GSource *timeout_ = nullptr;
  GSource *idle_done_ = nullptr;
  bool pipeline_failed_ = false;
  bool wav_created_ = false;
  double audio_seconds_ = 0.0;
  uint64_t pushed_bytes_ = 0;
  uint64_t dropped_bytes_ = 0;
};

} // namespace wssac_ingest
