/* Names as a macro's #__VA_ARGS__ spelled them ("a, b::c, d"), for the
 * helpers that pair a list of values with their names (check-suite.h,
 * enum-name.h). Header only: the core tests use it without the test library. */
#pragma once

#include <glib.h>

#include <string>
#include <vector>

namespace wss_check
{

/* One name an item, blanks trimmed; interned, so each lives as long as the
 * program (check keeps the test name pointer it is given). */
static inline std::vector<const char *>
split_spelled_names (const char *spelled)
{
  std::vector<const char *> names;
  const std::string all (spelled);
  size_t start = 0;
  while (start <= all.size ())
    {
      size_t end = all.find (',', start);
      if (end == std::string::npos)
        end = all.size ();
      std::string item = all.substr (start, end - start);
      const size_t first = item.find_first_not_of (" \t\n");
      if (first != std::string::npos)
        item = item.substr (first, item.find_last_not_of (" \t\n") - first + 1);
      names.push_back (g_intern_string (item.c_str ()));
      start = end + 1;
    }
  return names;
}

} // namespace wss_check
