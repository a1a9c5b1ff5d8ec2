#include "status-line.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace wssac_speaker
{

std::string
broadcast_word (const SpeakerStatus &s)
{
  if (s.ending)
    return "ending";
  if (!s.started)
    return "starting";
  if (s.paused && s.muted)
    return "paused+muted";
  if (s.paused)
    return "paused";
  if (s.muted)
    return "muted";
  return "transmitting";
}

std::string
clock_text (double seconds)
{
  long total = seconds > 0 ? static_cast<long> (std::floor (seconds)) : 0;
  char buf[32];
  if (total >= 3600)
    snprintf (buf, sizeof buf, "%ld:%02ld:%02ld", total / 3600, (total / 60) % 60, total % 60);
  else
    snprintf (buf, sizeof buf, "%02ld:%02ld", total / 60, total % 60);
  return buf;
}

std::string
format_status (const SpeakerStatus &s, bool bar, int width)
{
  const int level = std::clamp (s.level, 0, 100);
  std::string out = clock_text (s.elapsed_s) + " ";
  char buf[128];
  if (bar)
    {
      const int filled = (level + 5) / 10;
      out += "[" + std::string (filled, '#') + std::string (10 - filled, '.') + "]";
      snprintf (buf, sizeof buf, " %3d", level);
    }
  else
    snprintf (buf, sizeof buf, "level %3d", level);
  out += buf;
  if (s.clipping)
    out += " CLIP";
  out += " | " + broadcast_word (s);
  snprintf (buf, sizeof buf, " | sent %" PRIu64, s.chunks_sent);
  out += buf;
  if (s.chunks_dropped > 0)
    {
      snprintf (buf, sizeof buf, " | dropped %" PRIu64, s.chunks_dropped);
      out += buf;
    }
  snprintf (buf, sizeof buf, " | backlog %" PRIu64 " | ", s.backlog_chunks);
  out += buf + s.connection;
  snprintf (buf, sizeof buf, " | reconnects %" PRIu64, s.reconnects);
  out += buf;
  if (width > 0 && out.size () > static_cast<size_t> (width))
    out.resize (static_cast<size_t> (width));
  return out;
}

std::string
format_summary (const SessionSummary &s)
{
  char buf[256];
  std::string out = "Session summary (" + s.session_id + ")\n";
  out += "  ended:          " + (s.end_reason.empty () ? std::string ("-") : s.end_reason) + "\n";
  snprintf (buf, sizeof buf, "  duration:       %s (%.1f s)\n", clock_text (s.duration_s).c_str (),
            s.duration_s);
  out += buf;
  snprintf (buf, sizeof buf,
            "  chunks sent:    %" PRIu64 "\n  chunks dropped: %" PRIu64
            "\n  reconnects:     %" PRIu64 "\n",
            s.chunks_sent, s.chunks_dropped, s.reconnects);
  out += buf;
  return out;
}

} // namespace wssac_speaker
