/* wssaudiochunk-ingest: reading back (and, after an interrupted recording,
 * repairing) the RIFF/WAVE header wavenc wrote. */
#pragma once

#include "non-copyable.h"

#include <cstdint>
#include <string>
#include <cstddef>

namespace wssac_ingest
{

struct WavInfo
{
  unsigned format_tag = 0; /* 1: PCM */
  unsigned channels = 0;
  unsigned rate = 0;
  unsigned bits = 0;
  uint64_t data_offset = 0; /* where the samples start */
  uint64_t data_bytes = 0;  /* the data chunk's declared size */
  uint64_t file_bytes = 0;
};

/* false (with @error) when @path is missing or not a RIFF/WAVE file with a
 * fmt and a data chunk. */
bool read_wav_info (const std::string &path, WavInfo &info, std::string &error);

/* wavenc writes a placeholder size first and the real one at end-of-stream.
 * When a pipeline stopped without reaching it (an error, a timeout), this
 * sets the RIFF and data sizes to what the file holds. Returns true when the
 * header is consistent afterwards; @repaired tells whether it was rewritten. */
bool repair_wav_header (const std::string &path, bool &repaired, std::string &error);

/* For files WavWriter wrote (the data chunk is the last one): sets the data
 * size to everything after the header, whatever the header said. */
bool complete_wav_sizes (const std::string &path, bool &repaired, std::string &error);

/* A 16 kHz mono S16LE WAV written as the PCM comes: the header is valid from
 * the start (0 samples), and its RIFF/data sizes are brought up to date at
 * most every update_ms (when the owner's tick calls maybe_update()) and at
 * close, so a crash leaves a playable file that lacks at most the last
 * update_ms and a tick (complete_wav_sizes() recovers those). */
class WavWriter : private wssac::NonCopyable
{
public:
  WavWriter () = default;
  ~WavWriter ();

  /* Creates @path (never overwrites). */
  bool open (const std::string &path, std::string &error);
  bool append (const uint8_t *data, size_t size, std::string &error);
  /* Rewrites the sizes if update_ms passed since the last time. */
  void maybe_update (int64_t now_ms);
  bool close (std::string &error);
  bool is_open () const { return fd_ >= 0; }
  uint64_t data_bytes () const { return data_bytes_; }

  static constexpr int64_t update_ms = 1000;

private:
  bool write_sizes ();
  int fd_ = -1;
  uint64_t data_bytes_ = 0;
  int64_t updated_ms_ = 0;
};

} // namespace wssac_ingest
