/* Case-blind text matching for the speaker tool: device names a user types,
 * error messages from GStreamer and the audio server. */
#pragma once

#include <algorithm>
#include <cctype>
#include <string>

namespace wssac_speaker
{

/* @s in lower case (ASCII letters only; other bytes as they are). */
inline std::string
lower (std::string s)
{
  std::transform (s.begin (), s.end (), s.begin (),
                  [] (unsigned char c) { return std::tolower (c); });
  return s;
}

} // namespace wssac_speaker
