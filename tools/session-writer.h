/* wssaudiochunk-ingest: one recording part (this process's recording of one
 * session). Every in-order chunk is gathered by the part's journal
 * (session-journal.h); commit() returns once write() returned for all of
 * them, and only then may they be acknowledged. With record=wav the same
 * bytes are also decoded, as they come (session-decoder.h, on this thread,
 * no thread of its own), into <stem>.wav, 16 kHz mono S16LE, whose header
 * is kept valid as it grows.
 * A later run of the session (a new streamId) gets a fresh decoder, and its
 * audio continues the same WAV. At the end <stem>.json is the summary.
 *
 * A writer is used by one thread at a time (the program locks it). The
 * completion callback comes from the options' done_context (the program's
 * main loop), never from inside push() or finish(). A decoding error only
 * ends the WAV: the journal goes on. */
#pragma once

#include "ingest-core.h"
#include "session-decoder.h"
#include "session-journal.h"
#include "wav-file.h"

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

struct WriterOptions
{
  bool decode = true; /* --record wav; false: --record webm (journal only) */
  bool sync = false;  /* --fsync: fdatasync the journal at each commit (before each ack) */
  /* Where finish()'s completion is called; nullptr: the thread default
   * context when the writer is created. */
  GMainContext *done_context = nullptr;
};

class SessionWriter
{
public:
  using DoneHandler = std::function<void (SessionWriter &)>;

  /* @base: the session's safe file name; the part's stem is claimed from it. */
  SessionWriter (std::string session_id, std::string output_dir, std::string base,
                 WriterOptions options);
  ~SessionWriter ();
  SessionWriter (const SessionWriter &) = delete;
  SessionWriter &operator= (const SessionWriter &) = delete;

  /* Claims the stem and creates the journal for @format. */
  bool open (const std::string &format, std::string &error);

  const std::string &
  session_id () const
  {
    return session_id_;
  }
  const std::string &
  stem () const
  {
    return journal_.stem ();
  }
  const std::string &
  wav_path () const
  {
    return wav_path_;
  }
  const std::string &
  json_path () const
  {
    return json_path_;
  }
  const std::string &
  journal_path () const
  {
    return journal_.data_path ();
  }

  /* One delivered chunk (IngestEvent Audio), gathered for the next
   * commit(); takes @ev's bytes. false: it will not be on disk, and must not
   * be acknowledged. */
  bool push (wssac::IngestEvent &ev);
  /* Writes what push() gathered. false: it is not on disk (nor anything
   * later), and must not be acknowledged. */
  bool commit ();
  void control (wssac::Action action, int64_t timestamp_ms);
  /* Periodic (@now_ms: g_get_monotonic_time () / 1000): brings the WAV
   * header up to date, and commits chunks gathered kMaxUncommittedMs ago or
   * earlier that no ack asked for (a sender that went quiet or away). */
  void tick (int64_t now_ms);
  static constexpr int64_t kMaxUncommittedMs = 1000;

  /* End of session: the decoder drains, files close, then @done (from the
   * main loop). */
  void finish (const std::string &reason, DoneHandler done);
  void abort (const std::string &why);
  bool
  done () const
  {
    return done_;
  }

  /* After done: writes the summary JSON. */
  bool write_summary (const wssac::SessionStats &stats, std::string &error);

  const std::string &
  format () const
  {
    return format_;
  }
  const std::string &
  end_reason () const
  {
    return end_reason_;
  }
  const std::string &
  error () const
  {
    return error_;
  }
  bool
  has_wav () const
  {
    return wav_created_;
  }
  double
  audio_seconds () const
  {
    return audio_seconds_;
  }
  uint64_t
  dropped_bytes () const
  {
    return dropped_bytes_ + journal_.discarded_bytes ();
  }

private:
  void set_error (const std::string &message);
  void decode (const wssac::IngestEvent &ev);
  void finish_decoder ();
  void close_files ();
  static gboolean on_idle_done (gpointer data);

  std::string session_id_;
  std::string output_dir_;
  std::string base_;
  WriterOptions options_;
  std::string wav_path_;
  std::string json_path_;

  SessionJournal journal_;
  SessionDecoder decoder_;
  WavWriter wav_;
  bool decoding_failed_ = false;

  std::string format_;
  std::string end_reason_;
  std::string error_;
  std::vector<ControlRecord> controls_;
  std::vector<std::string> streams_;
  int64_t first_index_ = -1, last_index_ = -1;
  int64_t uncommitted_since_ms_ = 0; /* when the journal's pending records began */
  DoneHandler on_done_;
  GMainContext *context_ = nullptr;
  GSource *idle_done_ = nullptr;
  bool done_ = false;
  bool wav_created_ = false;
  double audio_seconds_ = 0.0;
  uint64_t dropped_bytes_ = 0; /* pushed after the end; the journal counts its own */
};

/* The summary, as written by write_summary() and by the recovery at start. */
struct SummaryFields
{
  std::string session_id, format, part, wav_name, end_reason, error;
  int64_t first_index = -1, last_index = -1;
  std::vector<std::string> streams;
  bool recovered = false;
  double audio_seconds = 0.0;
  std::vector<ControlRecord> controls;
};
bool write_summary_file (const std::string &path, const SummaryFields &f,
                         const wssac::SessionStats &stats, std::string &error);

} // namespace wssac_ingest
