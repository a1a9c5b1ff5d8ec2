/* Unit tests of the one table of action names (wssac::Action). */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "action.h"

#include <string>

using namespace wssac;

static const Action kAll[]
    = { Action::AudioChunk,    Action::PauseBroadcast,  Action::ResumeBroadcast,
        Action::MuteBroadcast, Action::UnmuteBroadcast, Action::EndSession };

GST_START_TEST (test_wire_names_round_trip)
{
  const char *expected[] = { "audioChunk",    "pauseBroadcast",  "resumeBroadcast",
                             "muteBroadcast", "unmuteBroadcast", "endSession" };
  for (size_t i = 0; i < G_N_ELEMENTS (kAll); i++)
    {
      fail_unless_equals_string (action_name (kAll[i]), expected[i]);
      std::optional<Action> back = action_from_wire_name (expected[i]);
      fail_unless (back && *back == kAll[i], "%s did not map back", expected[i]);
      Action a = Action::AudioChunk;
      fail_unless (action_from_name (expected[i], a) && a == kAll[i]);
    }
}
GST_END_TEST;

GST_START_TEST (test_unknown_names_are_refused)
{
  const char *bad[]
      = { "", "pause", "PauseBroadcast", "ack", "error", "audiochunk", "endSession " };
  for (const char *name : bad)
    {
      fail_if (action_from_wire_name (name).has_value (), "accepted \"%s\"", name);
      Action a = Action::MuteBroadcast;
      fail_if (action_from_name (name, a), "accepted \"%s\"", name);
      fail_unless (a == Action::MuteBroadcast, "changed the output on \"%s\"", name);
    }
}
GST_END_TEST;

GST_START_TEST (test_control_names)
{
  struct
  {
    const char *name;
    Action action;
  } cases[] = {
    { "pause", Action::PauseBroadcast },   { "pauseBroadcast", Action::PauseBroadcast },
    { "resume", Action::ResumeBroadcast }, { "resumeBroadcast", Action::ResumeBroadcast },
    { "mute", Action::MuteBroadcast },     { "muteBroadcast", Action::MuteBroadcast },
    { "unmute", Action::UnmuteBroadcast }, { "unmuteBroadcast", Action::UnmuteBroadcast },
    { "end-session", Action::EndSession }, { "endSession", Action::EndSession },
  };
  for (const auto &c : cases)
    {
      std::optional<Action> a = control_action_from_name (c.name);
      fail_unless (a && *a == c.action, "%s: got %s", c.name, a ? action_name (*a) : "nothing");
    }
  /* Audio is not a control, and names are exact. */
  const char *bad[] = { "audioChunk", "", "Pause", "end", "end_session", "stop" };
  for (const char *name : bad)
    fail_if (control_action_from_name (name).has_value (), "accepted \"%s\"", name);
  fail_unless (action_control_name (Action::AudioChunk) == nullptr);
  fail_unless_equals_string (action_control_name (Action::EndSession), "end-session");
  for (Action a : kAll)
    if (a != Action::AudioChunk)
      {
        std::optional<Action> back = control_action_from_name (action_control_name (a));
        fail_unless (back && *back == a, "%s did not map back", action_control_name (a));
      }
}
GST_END_TEST;

GST_START_TEST (test_opposites)
{
  fail_unless (opposite_action (Action::PauseBroadcast) == Action::ResumeBroadcast);
  fail_unless (opposite_action (Action::MuteBroadcast) == Action::UnmuteBroadcast);
  fail_if (opposite_action (Action::ResumeBroadcast).has_value ());
  fail_if (opposite_action (Action::UnmuteBroadcast).has_value ());
  fail_if (opposite_action (Action::EndSession).has_value ());
  fail_if (opposite_action (Action::AudioChunk).has_value ());
}
GST_END_TEST;

WSS_CHECK_MAIN (action, "action",
                { "general", 0,
                  WSS_TESTS (test_wire_names_round_trip, test_unknown_names_are_refused,
                             test_control_names, test_opposites) });
