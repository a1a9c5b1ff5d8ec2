/* wssaudiochunk-ingest: reading back (and, after an interrupted recording,
 * repairing) the RIFF/WAVE header wavenc wrote. */
#pragma once

#include <cstdint>
#include <string>

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

} // namespace wssac_ingest
