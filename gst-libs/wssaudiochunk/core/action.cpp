#include "action.h"

namespace wssac
{

namespace
{
struct ActionNames
{
  Action action;
  const char *wire;    /* the original protocol's */
  const char *control; /* what applications say; nullptr: not a control */
};

constexpr ActionNames kActions[] = {
  { Action::AudioChunk, "audioChunk", nullptr },
  { Action::PauseBroadcast, "pauseBroadcast", "pause" },
  { Action::ResumeBroadcast, "resumeBroadcast", "resume" },
  { Action::MuteBroadcast, "muteBroadcast", "mute" },
  { Action::UnmuteBroadcast, "unmuteBroadcast", "unmute" },
  { Action::EndSession, "endSession", "end-session" },
};

const ActionNames *
find (Action action)
{
  for (const auto &a : kActions)
    if (a.action == action)
      return &a;
  return nullptr;
}
} // namespace

const char *
action_name (Action action)
{
  const ActionNames *a = find (action);
  return a ? a->wire : "unknown";
}

std::optional<Action>
action_from_wire_name (std::string_view name)
{
  for (const auto &a : kActions)
    if (name == a.wire)
      return a.action;
  return std::nullopt;
}

bool
action_from_name (std::string_view name, Action &action)
{
  std::optional<Action> a = action_from_wire_name (name);
  if (a)
    action = *a;
  return a.has_value ();
}

const char *
action_control_name (Action action)
{
  const ActionNames *a = find (action);
  return a ? a->control : nullptr;
}

std::optional<Action>
control_action_from_name (std::string_view name)
{
  for (const auto &a : kActions)
    if (a.control && (name == a.control || name == a.wire))
      return a.action;
  return std::nullopt;
}

std::optional<Action>
opposite_action (Action action)
{
  switch (action)
    {
    case Action::PauseBroadcast:
      return Action::ResumeBroadcast;
    case Action::MuteBroadcast:
      return Action::UnmuteBroadcast;
    default:
      return std::nullopt;
    }
}

} // namespace wssac
