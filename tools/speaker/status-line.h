/* wssaudiochunk-speaker: the live status line and the final summary, as
 * text (the app decides where and how often it goes). */
#pragma once

#include <cstdint>
#include <string>

namespace wssac_speaker
{

struct SpeakerStatus
{
  double elapsed_s = 0.0; /* since the stream started */
  int level = 0;          /* 0-100, LevelMeter */
  bool clipping = false;
  bool started = false; /* the sink posted wss-audio-chunk-stream-start */
  bool paused = false;
  bool muted = false;
  bool ending = false; /* end-session requested, draining */
  uint64_t chunks_sent = 0;
  uint64_t chunks_dropped = 0;
  uint64_t backlog_chunks = 0;
  uint64_t reconnects = 0;
  std::string connection = "connecting"; /* the sink's stats "state" */
};

/* "starting", "transmitting", "paused", "muted", "paused+muted" or
 * "ending": what the broadcast does. */
std::string broadcast_word (const SpeakerStatus &s);

/* "mm:ss" (or "h:mm:ss"). */
std::string clock_text (double seconds);

/* One line, no newline, at most @width columns when @width > 0:
 *   "00:12 [######....]  58 | transmitting | sent 48 | backlog 0 | connected | reconnects 0"
 * With @bar false (output that is not a terminal) the bar is left out:
 *   "00:12 level  58 | transmitting | sent 48 | backlog 0 | connected | reconnects 0"
 * "dropped N" follows "sent" once something was dropped, and "CLIP" the
 * level while the input reaches full scale. */
std::string format_status (const SpeakerStatus &s, bool bar, int width = 0);

struct SessionSummary
{
  std::string session_id;
  std::string end_reason;
  double duration_s = 0.0;
  uint64_t chunks_sent = 0;
  uint64_t chunks_dropped = 0;
  uint64_t reconnects = 0;
};

/* Several lines, each ending in a newline:
 *   Session summary (demo)
 *     ended:          Speaker ended session
 *     duration:       00:08 (8.4 s)
 *     chunks sent:    33
 *     chunks dropped: 0
 *     reconnects:     0                                                   */
std::string format_summary (const SessionSummary &s);

} // namespace wssac_speaker
