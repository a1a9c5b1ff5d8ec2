/* Shared helpers of the libFuzzer targets (tests/fuzz/README.md).
 *
 * Reader consumes the fuzz input from the front, one field at a time, and
 * answers zeros once it is exhausted, so every input is a valid script and a
 * seed written by gen-corpus.cpp or record-corpus.py reads back as written.
 * FUZZ_CHECK aborts with a message: libFuzzer reports it as a crash and
 * keeps the input as the reproducer. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define FUZZ_CHECK(cond, ...)                                                                                  \
  do                                                                                                           \
    {                                                                                                          \
      if (!(cond))                                                                                             \
        {                                                                                                      \
          std::fprintf (stderr, "\nFUZZ_CHECK failed at %s:%d: %s\n  ", __FILE__, __LINE__, #cond);           \
          std::fprintf (stderr, __VA_ARGS__);                                                                  \
          std::fprintf (stderr, "\n");                                                                         \
          std::abort ();                                                                                       \
        }                                                                                                      \
    }                                                                                                          \
  while (0)

namespace fuzz
{

/* Feed the inputs of the json-glib issues below too: message-codec's
 * json_guard() now refuses them before json-glib sees them, so every
 * property is checked on them. FUZZ_LENIENT=1 restores the old filter. */
inline bool
strict ()
{
  static const bool s = std::getenv ("FUZZ_LENIENT") == nullptr;
  return s;
}

/* Known issues of json-glib 1.6.6 (Debian 12) that hostile input reaches
 * through decode_message/decode_reply, reported in
 * docs/security-testing.md ("Findings"), all three now fixed (json_guard ()
 * and g_utf8_make_valid () in message-codec.cpp); their reproducers are
 * regression seeds (corpus/<target>/regress-ki*). With FUZZ_LENIENT=1 the
 * targets leave out the inputs that trigger them, as they did while the
 * issues were open (tests/fuzz/known-issues/ held the reproducers, which
 * scripts/fuzz.sh replays: the way to park a future issue).
 *   KI-1 "trailing-value": json_parser_load_from_data() accepts text with
 *        more JSON values after the first, keeps the first as the root and
 *        leaks the others (a valid audioChunk followed by a 100 KB value
 *        is accepted, and leaks 100 KB, every time).
 *   KI-2 "surrogate": a \u escape of a surrogate followed by another \u
 *        escape, the two not high + low: the parse fails and leaks the
 *        string read so far (up to the whole message). json-glib also
 *        reads \u escapes that are not 4 hex digits inconsistently; they
 *        are left out with it. A lone surrogate is accepted as invalid
 *        UTF-8 (CESU-8): message-codec.cpp refuses such strings since
 *        commit e8ad0c9 (before, they went into acks and error replies,
 *        which libsoup then refused to send), so that case is fuzzed.
 * And one of ours, in the same family:
 *   KI-3 "error-detail": decode_message's "not-json" detail quotes
 *        json-glib's parse error, which quotes the offending string as
 *        json-glib decoded it: "\ud83d" in a string json-glib then refuses
 *        puts invalid UTF-8 into the error reply, which libsoup refuses to
 *        send. The targets check every reply and detail is UTF-8 (but
 *        "not-json" ones with FUZZ_LENIENT). */
enum class KnownIssue
{
  None,
  TrailingValue,
  Surrogate,
};

inline const char *
known_issue_name (KnownIssue k)
{
  return k == KnownIssue::TrailingValue ? "KI-1 trailing-value" : k == KnownIssue::Surrogate ? "KI-2 surrogate" : "none";
}

/* json-glib's scanner stops at a NUL byte, as at the end of the text. */
inline KnownIssue
json_known_issue (const char *s, size_t n)
{
  size_t end = 0;
  while (end < n && s[end] != '\0')
    end++;
  n = end;

  /* KI-2. json-glib 1.6 is lenient and inconsistent with \u escapes that
   * are not 4 hex digits, and leaks when a surrogate is followed by a \u
   * escape and the two are not high + low. Left out: every \u escape that
   * is not 4 hex digits, and every surrogate followed by "\u" unless the
   * two are high + low. A lone surrogate otherwise (no leak; decodes to
   * invalid UTF-8, which the codec refuses since e8ad0c9) stays in. Every
   * backslash starts an escape (outside strings it is a parse error
   * anyway), so escapes are paired up left to right. */
  auto hexval = [] (char c) {
    return (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
  };
  auto unit = [&] (size_t i, unsigned &v) { /* i: the first character after "\u" */
    if (i + 4 > n)
      return false;
    v = 0;
    for (size_t k = 0; k < 4; k++)
      {
        int d = hexval (s[i + k]);
        if (d < 0)
          return false;
        v = v * 16 + static_cast<unsigned> (d);
      }
    return true;
  };
  for (size_t i = 0; i + 1 < n; i++)
    {
      if (s[i] != '\\')
        continue;
      if (s[i + 1] != 'u')
        {
          i++;
          continue;
        }
      unsigned u = 0, low = 0;
      if (!unit (i + 2, u))
        return KnownIssue::Surrogate; /* not 4 hex digits */
      /* json-glib pairs any surrogate, low ones too, with a following \u,
       * and only high + low parses */
      if (u >= 0xd800 && u <= 0xdfff && i + 7 < n && s[i + 6] == '\\' && s[i + 7] == 'u')
        {
          if (u >= 0xdc00 || !unit (i + 8, low) || low < 0xdc00 || low > 0xdfff)
            return KnownIssue::Surrogate; /* the leak */
          i += 11;
          continue;
        }
      i += 5;
    }

  /* KI-1: skip the first value (strings, nesting and the C comments
   * json-glib 1.6 accepts: enough to find where it ends in text json-glib
   * could parse); another object or array after it is the leak (a scalar
   * after it is refused without one). */
  auto ws = [] (char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  size_t i = 0;
  auto skip_blank = [&] () {
    for (;;)
      {
        while (i < n && ws (s[i]))
          i++;
        if (i + 1 < n && s[i] == '/' && s[i + 1] == '*')
          {
            size_t close = i + 2;
            while (close + 1 < n && !(s[close] == '*' && s[close + 1] == '/'))
              close++;
            if (close + 1 >= n)
              return false; /* unterminated comment: a parse error */
            i = close + 2;
            continue;
          }
        return true;
      }
  };
  auto skip_string = [&] () {
    i++;
    while (i < n && s[i] != '"')
      i += s[i] == '\\' ? 2 : 1;
    if (i >= n)
      return false;
    i++;
    return true;
  };
  if (!skip_blank () || i >= n)
    return KnownIssue::None;
  if (s[i] == '"')
    {
      if (!skip_string ())
        return KnownIssue::None;
    }
  else if (s[i] == '{' || s[i] == '[')
    {
      int depth = 0;
      while (i < n)
        {
          if (!skip_blank () || i >= n)
            return KnownIssue::None;
          if (s[i] == '"')
            {
              if (!skip_string ())
                return KnownIssue::None;
              continue;
            }
          if (s[i] == '{' || s[i] == '[')
            depth++;
          else if (s[i] == '}' || s[i] == ']')
            depth--;
          i++;
          if (depth == 0)
            break;
        }
      if (depth != 0)
        return KnownIssue::None;
    }
  else
    {
      while (i < n && !ws (s[i]) && std::strchr ("{}[],:\"/", s[i]) == nullptr)
        i++;
    }
  if (!skip_blank () || i >= n)
    return KnownIssue::None;
  return (s[i] == '{' || s[i] == '[') ? KnownIssue::TrailingValue : KnownIssue::None;
}

class Reader
{
public:
  Reader (const uint8_t *data, size_t size) : data_ (data), size_ (size) {}

  bool empty () const { return pos_ >= size_; }
  size_t remaining () const { return size_ - pos_; }

  uint8_t u8 ()
  {
    return pos_ < size_ ? data_[pos_++] : 0;
  }
  uint16_t u16 () /* little-endian */
  {
    uint16_t lo = u8 ();
    return static_cast<uint16_t> (lo | (u8 () << 8));
  }
  uint32_t u32 ()
  {
    uint32_t lo = u16 ();
    return lo | (static_cast<uint32_t> (u16 ()) << 16);
  }
  /* Up to @n bytes (fewer at the end of the input). */
  std::vector<uint8_t> bytes (size_t n)
  {
    size_t take = n < remaining () ? n : remaining ();
    std::vector<uint8_t> out (data_ + pos_, data_ + pos_ + take);
    pos_ += take;
    return out;
  }
  std::string str (size_t n)
  {
    std::vector<uint8_t> b = bytes (n);
    return std::string (b.begin (), b.end ());
  }

private:
  const uint8_t *data_;
  size_t size_;
  size_t pos_ = 0;
};

/* The writing side, for the corpus generator. */
class Writer
{
public:
  void u8 (uint8_t v) { out.push_back (v); }
  void u16 (uint16_t v)
  {
    u8 (static_cast<uint8_t> (v & 0xff));
    u8 (static_cast<uint8_t> (v >> 8));
  }
  void u32 (uint32_t v)
  {
    u16 (static_cast<uint16_t> (v & 0xffff));
    u16 (static_cast<uint16_t> (v >> 16));
  }
  void bytes (const void *p, size_t n)
  {
    const uint8_t *b = static_cast<const uint8_t *> (p);
    out.insert (out.end (), b, b + n);
  }
  void str (const std::string &s) { bytes (s.data (), s.size ()); }
  std::vector<uint8_t> out;
};

} // namespace fuzz
