/* The scanner shared by the fast paths of the flat messages
 * (audio-chunk-parser.cpp, reply-parser.cpp): not a JSON parser, only the
 * plain shape both senders write. Every helper answers nullptr/false on
 * anything else, and the caller leaves that input to json-glib. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wssac
{
namespace json_scan
{

/* The JSON whitespace; json-glib skips these four too. */
inline bool
is_ws (char c)
{
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

inline const char *
skip_ws (const char *p, const char *end)
{
  while (p < end && is_ws (*p))
    p++;
  return p;
}

/* Printable ASCII other than the quote and the backslash: taken as it is.
 * A table, as strings are nearly all the bytes of a reply: one load and
 * one test a character. */
struct PlainChars
{
  bool plain[256];
  constexpr PlainChars () : plain ()
  {
    for (int c = 0x20; c <= 0x7e; c++)
      plain[c] = c != '"' && c != '\\';
  }
};
constexpr PlainChars kPlainChars;

inline bool
is_plain_char (unsigned char c)
{
  return kPlainChars.plain[c];
}

/* A string of printable ASCII without escapes: what both senders write for
 * every field. Anything else (escapes, UTF-8, control characters) is for
 * json-glib, which knows its own quirks. @p is after the opening quote;
 * answers the closing quote, or nullptr. */
inline const char *
plain_string_end (const char *p, const char *end)
{
  while (p < end && is_plain_char (static_cast<unsigned char> (*p)))
    p++;
  return p < end && *p == '"' ? p : nullptr;
}

/* The closing quote of a string that may hold escapes (each backslash
 * skips the character after it; what the escape means is the caller's to
 * check). @p is after the opening quote; nullptr when unterminated. */
inline const char *
escaped_string_end (const char *p, const char *end)
{
  for (; p < end; p++)
    {
      if (*p == '"')
        return p;
      if (*p == '\\' && ++p == end)
        return nullptr;
    }
  return nullptr;
}

/* -?(0|[1-9][0-9]*), at most 18 digits (exact in int64 for both parsers).
 * A fraction or exponent fails at the caller (the next character is not ','
 * or '}'); "-0" and leading zeros are left to json-glib. */
inline const char *
parse_int (const char *p, const char *end, int64_t &out)
{
  bool negative = false;
  if (p < end && *p == '-')
    {
      negative = true;
      p++;
      if (p == end || *p == '0')
        return nullptr;
    }
  const char *start = p;
  int64_t v = 0;
  while (p < end && *p >= '0' && *p <= '9')
    {
      if (p - start == 18)
        return nullptr;
      v = v * 10 + (*p++ - '0');
    }
  size_t digits = static_cast<size_t> (p - start);
  if (digits == 0 || (digits > 1 && *start == '0'))
    return nullptr;
  out = negative ? -v : v;
  return p;
}

/* The index of @key among a flat object's member @names, or -1. */
template <size_t N>
inline int
member_index (const std::string_view (&names)[N], std::string_view key)
{
  for (size_t i = 0; i < N; i++)
    if (names[i] == key)
      return static_cast<int> (i);
  return -1;
}

/* Walks one flat object, {"key":value,...} and nothing but whitespace
 * around it: every key a plain string, at least one member. @on_member
 * (key, p) reads the value at @p and answers the position after it, or
 * nullptr to give up. false: not that shape (or given up). */
template <typename OnMember>
inline bool
scan_flat_object (const char *p, const char *end, OnMember &&on_member)
{
  p = skip_ws (p, end);
  if (p == end || *p++ != '{')
    return false;
  for (;;)
    {
      p = skip_ws (p, end);
      if (p == end || *p++ != '"')
        return false;
      const char *key_end = plain_string_end (p, end);
      if (!key_end)
        return false;
      std::string_view key (p, static_cast<size_t> (key_end - p));
      p = skip_ws (key_end + 1, end);
      if (p == end || *p++ != ':')
        return false;
      p = on_member (key, skip_ws (p, end));
      if (!p)
        return false;
      p = skip_ws (p, end);
      if (p == end)
        return false;
      char c = *p++;
      if (c == '}')
        break;
      if (c != ',')
        return false;
    }
  return skip_ws (p, end) == end;
}

} // namespace json_scan
} // namespace wssac
