/* wssaudiochunk-join: the files. Finding the parts an ingest server wrote
 * (OUTDIR/STEM.chunks with STEM.webm or STEM.ogg, and STEM.json once the part
 * was finalized), grouping them by session, and writing a joined session:
 * one media file per stream and one WAV (16 kHz mono S16LE) of all streams. */
#pragma once

#include "session-join.h"

#include <cstdint>
#include <string>
#include <vector>

namespace wssac_join
{

struct PartFile
{
  std::string index_path; /* STEM.chunks */
  std::string media_path; /* STEM.webm or STEM.ogg */
  std::string base_stem;  /* STEM without ".partN" */
  bool ogg = false;
  /* From STEM.json; a part without one was cut off (its process died). */
  bool has_summary = false;
  std::string session_id;
  int64_t part_number = 0;
  bool recovered = false;
  ParseResult index;
  Part part;
};

struct SessionParts
{
  std::string session_id; /* from a summary, else the file stem */
  bool id_from_summary = false;
  std::vector<PartFile> parts;
};

/* Reads every part in @dirs and groups them by session: parts with a summary
 * by its sessionId, parts without one with the session whose parts share
 * their stem. Unreadable parts are listed in @problems. */
std::vector<SessionParts> collect_sessions (const std::vector<std::string> &dirs,
                                            std::vector<std::string> &problems);

/* Reads @piece of @parts' media into @out (appending). */
bool read_piece (const std::vector<PartFile> &parts, const Piece &piece, std::string &out,
                 std::string &error);

/* Decodes one stream file to 16 kHz mono S16LE samples (appending). */
bool decode_stream (const std::string &path, bool ogg, std::vector<int16_t> &pcm,
                    std::string &error);

bool write_wav (const std::string &path, const std::vector<int16_t> &pcm, std::string &error);

bool write_file (const std::string &path, const std::string &bytes, std::string &error);

} // namespace wssac_join
