/* wssaudiochunk: the names of an enum's values, from one table in the
 * enum's order.
 *
 *   static const char *const names[] = { "steady", "opening", ... };
 *   WSSAC_NAMES_COVER (names, HandoverPhase::Retiring);
 *   return enum_value_name (phase, names);
 *
 * WSSAC_NAMES_COVER fails the build when the table and the enum (up to its
 * last value) differ in length: a value added at the end without a name. */
#pragma once

#include <cstddef>

namespace wssac
{

template <typename E, size_t N>
constexpr const char *
enum_value_name (E value, const char *const (&names)[N])
{
  const auto i = static_cast<size_t> (value);
  return i < N ? names[i] : "unknown";
}

#define WSSAC_NAMES_COVER(names, last)                                                             \
  static_assert (sizeof (names) / sizeof ((names)[0]) == static_cast<size_t> (last) + 1,           \
                 "one name per value of the enum, in its order")

} // namespace wssac
