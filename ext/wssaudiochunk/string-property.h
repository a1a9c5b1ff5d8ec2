/* The elements' one rule for string properties: a std::string in the
 * settings, where an unset (NULL) value is stored as "" and "" reads back as
 * NULL, so gst-inspect and g_object_get show "unset" rather than an empty
 * string. */
#pragma once

#include <glib-object.h>

#include <string>

namespace wssac
{

/* The string @value holds, or "" for NULL. */
inline std::string
string_from_value (const GValue *value)
{
  const gchar *s = g_value_get_string (value);
  return s ? std::string (s) : std::string ();
}

/* Sets @value to @s, or to NULL when @s is empty. */
inline void
value_set_string_or_null (GValue *value, const std::string &s)
{
  g_value_set_string (value, s.empty () ? nullptr : s.c_str ());
}

} // namespace wssac
