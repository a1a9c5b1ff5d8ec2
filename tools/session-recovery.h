/* wssaudiochunk-ingest: at start, finishes the recording parts a crash (kill
 * -9, power loss) left unfinished in the output directory: a <stem>.chunks
 * journal index without its <stem>.json summary. The WAV's header gets the
 * sizes of what the file holds (or, when there is no WAV and decoding is on,
 * the WAV is decoded from the journal), and the summary is written from the
 * journal with "recovered": true. */
#pragma once

#include <string>
#include <vector>

namespace wssac_ingest
{

struct RecoveredPart
{
  std::string stem;
  std::string session_id;
  size_t chunks = 0;
  double audio_seconds = 0.0;
  std::string error;
};

std::vector<RecoveredPart> recover_unfinished_parts (const std::string &dir, bool decode);

} // namespace wssac_ingest
