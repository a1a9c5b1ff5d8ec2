/* Checks several fields of a stats struct in one line, naming each one that
 * differs with its actual value:
 *
 *   wss_check::expect_fields ("session s1", { WSS_FIELD (s, chunks),
 *                             WSS_FIELD (s, rejected) }, "chunks=6 rejected=0");
 *
 * Only the fields named in the expectation are checked, in any order; a
 * name that is not a field fails. A getter, WSS_FIELD (r, next_index ()), is
 * named without its parentheses. Numbers compare as std::to_string () spells
 * them (a bool is 0 or 1), strings as they are (no blanks in them).
 * Header only: the core tests use it without the test library. */
#pragma once

#include <gst/check/gstcheck.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace wss_check
{

using Fields = std::vector<std::pair<std::string, std::string>>;

/* A field's value as expect_fields compares it. */
static inline std::string
field_text (const std::string &value)
{
  return value;
}

template <typename T>
std::string
field_text (T value)
{
  return std::to_string (value);
}

static inline void
expect_fields (const std::string &what, const Fields &actual, const std::string &want)
{
  gchar **items = g_strsplit_set (want.c_str (), " \t\n", -1);
  for (gchar **item = items; *item; item++)
    {
      if (**item == '\0')
        continue;
      const char *eq = strchr (*item, '=');
      fail_unless (eq != nullptr, "%s: \"%s\" is not name=value", what.c_str (), *item);
      const std::string name (*item, eq - *item);
      const Fields::value_type *field = nullptr;
      for (const auto &f : actual)
        if (f.first == name || f.first == name + " ()") /* WSS_FIELD (o, count ()) */
          field = &f;
      fail_unless (field != nullptr, "%s: no field \"%s\"", what.c_str (), name.c_str ());
      fail_unless (field->second == eq + 1, "%s: %s is %s, not %s", what.c_str (), name.c_str (),
                   field->second.c_str (), eq + 1);
    }
  g_strfreev (items);
}

} // namespace wss_check

/* {"member", its value as a string} for expect_fields. */
#define WSS_FIELD(object, member)                                                                  \
  wss_check::Fields::value_type (#member, wss_check::field_text ((object).member))
