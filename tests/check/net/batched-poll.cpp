/* use_batched_poll (): a loop that waits before it polls still serves every
 * descriptor and every timer, and never holds a timer past its due time
 * for the sake of the window. */
#include <gst/check/gstcheck.h>

#include "batched-poll.h"
#include "check-suite.h"

#include <glib-unix.h>
#include <unistd.h>

static gboolean
count_call (gpointer data)
{
  (*static_cast<int *> (data))++;
  return G_SOURCE_REMOVE;
}

static gboolean
on_readable (gint fd, GIOCondition, gpointer data)
{
  char buf[16];
  fail_unless (read (fd, buf, sizeof buf) > 0);
  (*static_cast<int *> (data))++;
  return G_SOURCE_CONTINUE;
}

GST_START_TEST (test_descriptors_and_timers_served)
{
  GMainContext *ctx = g_main_context_new ();
  wssac::use_batched_poll (ctx, 2000);
  int fds[2];
  fail_unless (pipe (fds) == 0);
  int reads = 0, timers = 0;
  GSource *watch = g_unix_fd_source_new (fds[0], G_IO_IN);
  g_source_set_callback (watch, (GSourceFunc)(void (*) ())on_readable, &reads, nullptr);
  g_source_attach (watch, ctx);
  for (int i = 0; i < 5; i++)
    {
      fail_unless (write (fds[1], "x", 1) == 1);
      while (reads < i + 1)
        g_main_context_iteration (ctx, TRUE); /* the test's timeout bounds a lost wake-up */
    }
  GSource *timer = g_timeout_source_new (5);
  g_source_set_callback (timer, count_call, &timers, nullptr);
  g_source_attach (timer, ctx);
  while (timers == 0)
    g_main_context_iteration (ctx, TRUE);
  fail_unless_equals_int (reads, 5);
  fail_unless_equals_int (timers, 1);
  g_source_destroy (timer);
  g_source_unref (timer);
  g_source_destroy (watch);
  g_source_unref (watch);
  close (fds[0]);
  close (fds[1]);
  wssac::use_batched_poll (ctx, 0);
  g_main_context_unref (ctx);
}
GST_END_TEST;

/* A window of half a second must not hold a 10 ms timer for half a second:
 * the wait is cut to the time the loop was asked to block at most. */
GST_START_TEST (test_window_never_delays_a_timer)
{
  GMainContext *ctx = g_main_context_new ();
  wssac::use_batched_poll (ctx, 500000);
  int timers = 0;
  GSource *timer = g_timeout_source_new (10);
  g_source_set_callback (timer, count_call, &timers, nullptr);
  g_source_attach (timer, ctx);
  const gint64 start = g_get_monotonic_time ();
  while (timers == 0)
    g_main_context_iteration (ctx, TRUE);
  const gint64 waited_ms = (g_get_monotonic_time () - start) / 1000;
  fail_unless (waited_ms < 400, "a 10 ms timer fired after %" G_GINT64_FORMAT " ms", waited_ms);
  g_source_unref (timer);
  wssac::use_batched_poll (ctx, 0);
  g_main_context_unref (ctx);
}
GST_END_TEST;

WSS_CHECK_MAIN (batched_poll, "batched-poll",
                { "general", 0,
                  WSS_TESTS (test_descriptors_and_timers_served, test_window_never_delays_a_timer) });
