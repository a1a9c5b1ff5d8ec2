/* The name of an enum value as the test spells it, for failure messages:
 *
 *   WSS_ENUM_NAME (r, PushResult::Accepted, PushResult::Late)
 *
 * is "Accepted" when r is PushResult::Accepted, "Late" for ::Late and "?"
 * for a value not listed. The order of the enum does not matter. */
#pragma once

#include "spelled-names.h"

#include <initializer_list>
#include <string>

namespace wss_check
{

template <typename E>
const char *
enum_name (E value, std::initializer_list<E> values, const char *spelled)
{
  const std::vector<const char *> names = split_spelled_names (spelled);
  size_t i = 0;
  for (E v : values)
    {
      if (v == value && i < names.size ())
        {
          const char *name = names[i];
          const char *scope_end = g_strrstr (name, "::");
          return scope_end ? scope_end + 2 : name;
        }
      i++;
    }
  return "?";
}

} // namespace wss_check

#define WSS_ENUM_NAME(value, ...) wss_check::enum_name (value, { __VA_ARGS__ }, #__VA_ARGS__)
