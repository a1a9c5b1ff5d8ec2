/* wssaudiochunk core: the messages' "action" values of the original protocol,
 * as one enum with one name table, used by the broadcast state, the wire
 * format, the transport and the elements. Names never travel as strings
 * inside the code; an unknown name is an error for whoever parsed it. */
#pragma once

#include <optional>
#include <string_view>

namespace wssac
{

enum class Action
{
  AudioChunk,
  PauseBroadcast,
  ResumeBroadcast,
  MuteBroadcast,
  UnmuteBroadcast,
  EndSession,
};

/* "audioChunk", "pauseBroadcast", ...: the wire name. */
const char *action_name (Action action);
/* The action named @name on the wire; nullopt when it is not one. */
std::optional<Action> action_from_wire_name (std::string_view name);
/* Compatibility form of action_from_wire_name(): false when @name is not an
 * action of the original protocol. */
bool action_from_name (std::string_view name, Action &action);

/* The control names applications use (signals, the control structure):
 * "pause", "resume", "mute", "unmute", "end-session"; nullptr for audioChunk. */
const char *action_control_name (Action action);
/* A control action from its application name or its wire name ("pause" or
 * "pauseBroadcast"); nullopt for anything else, audioChunk included. */
std::optional<Action> control_action_from_name (std::string_view name);

/* The action that undoes @action (resume for pause, unmute for mute), if any. */
std::optional<Action> opposite_action (Action action);

} // namespace wssac
