#include "batched-poll.h"

#include <atomic>

namespace wssac
{

namespace
{
std::atomic<unsigned> window_us{ 0 };

gint
batched_poll (GPollFD *fds, guint nfds, gint timeout_ms)
{
  const unsigned window = window_us.load (std::memory_order_relaxed);
  if (window > 0 && timeout_ms != 0)
    {
      /* Never past the caller's timeout: a timer due sooner fires on time. */
      gint64 wait = window;
      if (timeout_ms > 0 && static_cast<gint64> (timeout_ms) * 1000 < wait)
        wait = static_cast<gint64> (timeout_ms) * 1000;
      const gint64 start = g_get_monotonic_time ();
      g_usleep (static_cast<gulong> (wait));
      if (timeout_ms > 0)
        {
          const gint64 left_us
              = static_cast<gint64> (timeout_ms) * 1000 - (g_get_monotonic_time () - start);
          timeout_ms = left_us <= 0 ? 0 : static_cast<gint> ((left_us + 999) / 1000);
        }
    }
  return g_poll (fds, nfds, timeout_ms);
}
} // namespace

void
use_batched_poll (GMainContext *context, unsigned window)
{
  window_us.store (window, std::memory_order_relaxed);
  g_main_context_set_poll_func (context, batched_poll);
}

} // namespace wssac
