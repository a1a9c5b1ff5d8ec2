/* Unit tests for wssac::ConnectionHandover: when the next connection is
 * opened, when sending moves to it, when the old one may close, backoff
 * after a failed attempt, and a lost connection during a handover. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "connection-handover.h"

using wssac::ConnectionHandover;
using wssac::HandoverConfig;
using wssac::HandoverPhase;

static ConnectionHandover
make (int64_t max_age_ms)
{
  HandoverConfig c;
  c.max_age_ms = max_age_ms;
  c.retry.initial_delay_ms = 100;
  c.retry.max_delay_ms = 1000;
  c.retry.jitter = 0;
  c.retry.max_retries = 1; /* ignored: the old connection still works */
  return ConnectionHandover (c, 1);
}

/* max-age 2 s, the current connection opened at 0: at 2000 the next one is
 * being opened. */
static ConnectionHandover
opening_the_next ()
{
  ConnectionHandover h = make (2000);
  h.current_opened (0);
  fail_unless (h.should_open_next (2000, false));
  return h;
}

GST_START_TEST (test_opens_the_next_at_the_age)
{
  ConnectionHandover h = make (2000);
  fail_if (h.should_open_next (5000, false)); /* no connection yet */
  h.current_opened (1000);
  fail_unless_equals_int (h.next_check_ms (), 3000);
  fail_if (h.should_open_next (2999, false));
  fail_unless (h.should_open_next (3000, false));
  fail_unless (h.phase () == HandoverPhase::Opening);
  /* Once: the attempt is under way. */
  fail_if (h.should_open_next (3001, false));
  fail_unless_equals_int (h.next_check_ms (), -1);
}
GST_END_TEST;

GST_START_TEST (test_never_with_age_zero_or_while_draining)
{
  ConnectionHandover off = make (0);
  off.current_opened (0);
  fail_if (off.should_open_next (INT64_MAX / 2, false));
  fail_unless_equals_int (off.next_check_ms (), -1);

  ConnectionHandover h = make (2000);
  h.current_opened (0);
  fail_if (h.should_open_next (10000, true));
  fail_unless (h.phase () == HandoverPhase::Steady);
}
GST_END_TEST;

GST_START_TEST (test_switch_then_old_closes_once_confirmed)
{
  ConnectionHandover h = opening_the_next ();
  fail_unless (h.next_opened (2100));
  fail_unless (h.phase () == HandoverPhase::Retiring);
  fail_unless_equals_int (h.handovers (), 1);
  fail_if (h.may_close_retired (3));
  fail_unless (h.may_close_retired (0));
  /* No third connection while one retires, however old the current. */
  fail_if (h.should_open_next (10000, false));
  h.retired_gone ();
  fail_unless (h.phase () == HandoverPhase::Steady);
  fail_if (h.may_close_retired (0));
  /* The new connection's age counts from its upgrade. */
  fail_unless_equals_int (h.next_check_ms (), 4100);
  fail_unless (h.should_open_next (4100, false));
}
GST_END_TEST;

GST_START_TEST (test_failed_attempt_backs_off_and_old_keeps_sending)
{
  ConnectionHandover h = opening_the_next ();
  fail_unless_equals_int (h.next_failed (2050), 100);
  fail_unless (h.phase () == HandoverPhase::Backoff);
  fail_if (h.should_open_next (2149, false));
  fail_unless (h.should_open_next (2150, false));
  fail_unless_equals_int (h.next_failed (2200), 200);
  fail_unless (h.should_open_next (2400, false));
  /* Past max_retries: still tried (the old connection works meanwhile). */
  fail_unless_equals_int (h.next_failed (2400), 400);
  fail_unless_equals_int (h.failed_attempts (), 3);
  fail_unless (h.should_open_next (2800, false));
  fail_unless (h.next_opened (2900));
  /* Success starts the backoff over. */
  h.retired_gone ();
  fail_unless (h.should_open_next (4900, false));
  fail_unless_equals_int (h.next_failed (4900), 100);
}
GST_END_TEST;

GST_START_TEST (test_old_lost_while_opening_makes_it_a_reconnect)
{
  ConnectionHandover h = opening_the_next ();
  /* The gateway cut the old one first: the attempt under way is the
   * reconnect. */
  fail_unless (h.current_lost ());
  fail_if (h.next_opened (2100));
  fail_unless (h.phase () == HandoverPhase::Steady);
  fail_unless_equals_int (h.handovers (), 0);
  fail_unless (h.has_current ());

  /* The same, but the attempt fails: the reconnect path takes over. */
  fail_unless (h.should_open_next (4100, false));
  h.current_lost ();
  fail_unless_equals_int (h.next_failed (4200), -1);
  fail_unless (h.phase () == HandoverPhase::Steady);
  fail_if (h.should_open_next (9999, false));
}
GST_END_TEST;

GST_START_TEST (test_old_lost_during_backoff)
{
  ConnectionHandover h = opening_the_next ();
  h.next_failed (2000);
  /* No attempt under way: the reconnect path connects. */
  fail_if (h.current_lost ());
  fail_unless (h.phase () == HandoverPhase::Steady);
  h.current_opened (3000);
  fail_unless_equals_int (h.next_check_ms (), 5000);
}
GST_END_TEST;

GST_START_TEST (test_new_lost_while_old_retires)
{
  ConnectionHandover h = opening_the_next ();
  fail_unless (h.next_opened (2000));
  fail_if (h.current_lost ());
  fail_unless (h.phase () == HandoverPhase::Retiring);
  h.current_opened (2500); /* reconnected */
  fail_if (h.should_open_next (4500, false));
  h.retired_gone ();
  fail_unless (h.should_open_next (4500, false));
}
GST_END_TEST;

WSS_CHECK_MAIN (connection_handover, "connection-handover",
                { "general", 0,
                  WSS_TESTS (test_opens_the_next_at_the_age,
                             test_never_with_age_zero_or_while_draining,
                             test_switch_then_old_closes_once_confirmed,
                             test_failed_attempt_backs_off_and_old_keeps_sending,
                             test_old_lost_while_opening_makes_it_a_reconnect,
                             test_old_lost_during_backoff, test_new_lost_while_old_retires) });
