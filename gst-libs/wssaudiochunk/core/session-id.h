/* What a sessionId may be, checked the same way by the sink (at start) and
 * the receivers (on every message): 1 to kMaxSessionIdBytes bytes of valid
 * UTF-8 without control characters. A NUL would alias another session in any
 * C-string API, and a huge id would not fit a frame next to the audio. */
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wssac {

inline constexpr std::size_t kMaxSessionIdBytes = 256;

/* Empty when `id` is acceptable, otherwise a sentence saying what is wrong
 * and what is allowed. */
std::string session_id_problem (std::string_view id);

}  // namespace wssac
