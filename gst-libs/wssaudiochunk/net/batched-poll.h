/* wssaudiochunk receiver: a main-loop poll that waits a little before it
 * blocks, so that one wake-up serves many sockets.
 *
 * Every iteration of a GMainContext costs time in proportion to its
 * sources (g_main_context_query and _check walk them all; poll() asks the
 * kernel about every descriptor). A receiver with thousands of speakers
 * that each send a small message four times a second wakes up for almost
 * every message, so that fixed cost, not the message, is most of its CPU
 * (docs/performance.md). Waiting up to a window before each blocking poll
 * lets the messages of that window arrive and be served by one iteration:
 * the cost per iteration is shared by all of them, and a message waits at
 * most the window. An idle loop still blocks in poll(); a poll that would
 * not block (work is pending) does not wait.
 */
#pragma once

#include <glib.h>

namespace wssac
{

/* Makes @context poll through the batching poll. The window is one for the
 * process (GPollFunc has no user data): the last value set applies to every
 * context set up so; 0 turns waiting off. Call before the context runs. */
void use_batched_poll (GMainContext *context, unsigned window_us);

} // namespace wssac
