/* Writing an object's members with json-glib: one call a member instead of
 * json_builder_set_member_name () plus an add, for the wire format and the
 * tools' JSON files alike. Header-only: the tools that write JSON but do not
 * link the protocol library include it too. */
#pragma once

#include <json-glib/json-glib.h>

#include <string>

namespace wssac
{
namespace json
{

inline void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

inline void
add_string (JsonBuilder *b, const char *name, const std::string &value)
{
  add_string (b, name, value.c_str ());
}

inline void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

inline void
add_bool (JsonBuilder *b, const char *name, bool value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_boolean_value (b, value);
}

inline void
add_double (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, value);
}

/* @name: @value, or null when @value is empty. */
inline void
add_string_or_null (JsonBuilder *b, const char *name, const std::string &value)
{
  json_builder_set_member_name (b, name);
  if (value.empty ())
    json_builder_add_null_value (b);
  else
    json_builder_add_string_value (b, value.c_str ());
}

/* @name: @value, or null when @value is negative (not known). */
inline void
add_index_or_null (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  if (value >= 0)
    json_builder_add_int_value (b, value);
  else
    json_builder_add_null_value (b);
}

} // namespace json
} // namespace wssac
