/* One way to register a gst-check suite: the suite function and main() of
 * every test program, from a list of test cases (TCases).
 *
 *   WSS_CHECK_MAIN (controls, "controls",
 *                   { "controls", 120, WSS_TESTS (test_a, test_b, test_c) });
 *
 * defines controls_suite () and the main () of GST_CHECK_MAIN (controls).
 * Tests are added as tcase_add_test () adds them (through gst-check's
 * _tcase_add_test, so GST_CHECKS, GST_CHECKS_IGNORE and --list-tests work
 * on the same names); CK_RUN_SUITE and CK_RUN_CASE see the same names.
 * Header only: the core tests use it without the test library. */
#pragma once

#include <gst/check/gstcheck.h>

#include "spelled-names.h"

#include <vector>

namespace wss_check
{

/* One TCase. */
struct Case
{
  const char *name;
  /* Seconds; 0 keeps check's default (CK_DEFAULT_TIMEOUT). */
  int timeout_s;
  std::vector<TFun> tests;
  /* The tests' names as WSS_TESTS spelled them: "test_a, test_b". */
  const char *test_names;
  SFun unchecked_setup = nullptr;
  SFun unchecked_teardown = nullptr;
};

static inline Suite *
make_suite (const char *suite_name, const std::vector<Case> &cases)
{
  Suite *s = suite_create (suite_name);
  for (const Case &c : cases)
    {
      TCase *tc = tcase_create (c.name);
      if (c.timeout_s > 0)
        tcase_set_timeout (tc, c.timeout_s);
      if (c.unchecked_setup || c.unchecked_teardown)
        tcase_add_unchecked_fixture (tc, c.unchecked_setup, c.unchecked_teardown);
      suite_add_tcase (s, tc);
      const std::vector<const char *> names = split_spelled_names (c.test_names);
      g_assert_cmpuint (names.size (), ==, c.tests.size ());
      for (size_t i = 0; i < c.tests.size (); i++)
        _tcase_add_test (tc, c.tests[i], names[i], 0, 0, 0, 1);
    }
  return s;
}

} // namespace wss_check

/* A Case's tests: the functions and, for check, their names. */
#define WSS_TESTS(...) std::vector<TFun>{ __VA_ARGS__ }, #__VA_ARGS__

/* The suite function NAME_suite () and main (): a suite called
 * SUITE_NAME made of the Cases that follow. */
#define WSS_CHECK_MAIN(name, suite_name, ...)                                                      \
  static Suite *name##_suite (void)                                                                \
  {                                                                                                \
    return wss_check::make_suite (suite_name, { __VA_ARGS__ });                                    \
  }                                                                                                \
  GST_CHECK_MAIN (name)
