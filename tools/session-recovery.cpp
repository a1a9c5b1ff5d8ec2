#include "session-recovery.h"
#include "file-names.h"

#include "session-decoder.h"
#include "session-journal.h"
#include "session-writer.h"
#include "wav-file.h"

#include <glib.h>
#include <glib/gstdio.h>

#include <algorithm>
#include <cstring>

namespace wssac_ingest
{

namespace
{

bool
exists (const std::string &path)
{
  return g_file_test (path.c_str (), G_FILE_TEST_EXISTS);
}

/* Decodes the journal's records into a new WAV: one decoder per run. */
bool
decode_journal (const std::string &data_path, const std::string &format,
                const std::vector<JournalRecord> &records, const std::string &wav_path,
                std::string &error)
{
  gchar *bytes = nullptr;
  gsize size = 0;
  if (!g_file_get_contents (data_path.c_str (), &bytes, &size, nullptr))
    {
      error = "cannot read " + data_path;
      return false;
    }
  WavWriter wav;
  if (!wav.open (wav_path, error))
    {
      g_free (bytes);
      return false;
    }
  SessionDecoder decoder;
  std::string stream = "\x01"; /* no run yet */
  for (const auto &r : records)
    {
      bool new_run = r.stream_id != stream;
      if (new_run)
        {
          decoder.finish ();
          stream = r.stream_id;
          std::string err;
          if (!decoder.start (
                  format,
                  [&wav] (const uint8_t *d, size_t n) {
                    std::string e;
                    wav.append (d, n, e);
                  },
                  err))
            {
              error = err;
              break;
            }
        }
      decoder.push (reinterpret_cast<const uint8_t *> (bytes) + r.offset, r.length, false);
    }
  decoder.finish ();
  g_free (bytes);
  std::string err;
  wav.close (err);
  return error.empty ();
}
} // namespace

std::vector<RecoveredPart>
recover_unfinished_parts (const std::string &dir, bool decode)
{
  std::vector<RecoveredPart> out;
  GDir *d = g_dir_open (dir.c_str (), 0, nullptr);
  if (!d)
    return out;
  std::vector<std::string> stems;
  const char *name;
  while ((name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".chunks"))
      stems.emplace_back (name, strlen (name) - strlen (".chunks"));
  g_dir_close (d);
  std::sort (stems.begin (), stems.end ());

  for (const auto &stem : stems)
    {
      if (exists (path_join (dir, stem + ".json")))
        continue;
      RecoveredPart part;
      part.stem = stem;
      std::string format, data_path;
      for (const char *f : { "webm-opus", "ogg-opus", "unknown" })
        if (exists (path_join (dir, stem + journal_extension (f))))
          {
            format = f;
            data_path = path_join (dir, stem + journal_extension (f));
            break;
          }
      gchar *sid = nullptr;
      gsize sid_len = 0;
      if (g_file_get_contents (path_join (dir, stem + ".session").c_str (), &sid, &sid_len, nullptr))
        part.session_id.assign (sid, sid_len);
      else
        part.session_id = stem; /* the safe form is all that is left */
      g_free (sid);

      GStatBuf st;
      uint64_t data_size
          = (!data_path.empty () && g_stat (data_path.c_str (), &st) == 0) ? st.st_size : 0;
      std::vector<JournalRecord> records;
      std::string err;
      read_journal_index (path_join (dir, stem + ".chunks"), data_size, records, err);

      SummaryFields f;
      f.session_id = part.session_id;
      f.format = format == "unknown" ? std::string () : format;
      f.part = stem;
      f.recovered = true;
      f.end_reason = "recovered";
      wssac::SessionStats stats;
      for (const auto &r : records)
        {
          if (f.streams.empty () || r.stream_id != f.streams.back ())
            f.streams.push_back (r.stream_id);
          if (r.header)
            continue;
          stats.chunks++;
          stats.delivered++;
          stats.bytes += r.length;
          if (f.first_index < 0)
            f.first_index = static_cast<int64_t> (r.chunk_index);
          f.last_index = static_cast<int64_t> (r.chunk_index);
        }
      part.chunks = stats.chunks;
      const std::string wav_path = path_join (dir, stem + ".wav");
      if (exists (wav_path))
        {
          bool repaired = false;
          if (!complete_wav_sizes (wav_path, repaired, err))
            part.error = err;
        }
      else if (decode && !records.empty () && (format == "webm-opus" || format == "ogg-opus"))
        {
          if (!decode_journal (data_path, format, records, wav_path, err))
            part.error = err;
        }
      if (exists (wav_path))
        {
          WavInfo info;
          if (read_wav_info (wav_path, info, err))
            f.audio_seconds = static_cast<double> (info.data_bytes) / (16000.0 * 2);
          f.wav_name = stem + ".wav";
        }
      f.error = part.error.empty ()
                    ? "the recording was interrupted (the process ended without finishing it)"
                    : part.error;
      part.audio_seconds = f.audio_seconds;
      if (write_summary_file (path_join (dir, stem + ".json"), f, stats, err))
        g_unlink (path_join (dir, stem + ".session").c_str ());
      else if (part.error.empty ())
        part.error = err;
      out.push_back (std::move (part));
    }
  return out;
}

} // namespace wssac_ingest
