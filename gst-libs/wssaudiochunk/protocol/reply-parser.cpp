#include "reply-parser.h"

#include "json-scan.h"

#include <glib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace wssac
{

namespace
{

/* Ordered so that the string members are kSessionId up to kChunkIndex. */
enum ReplyMember
{
  kAction,
  kSessionId,
  kStreamId,
  kCode,
  kMessage,
  kChunkIndex,
  kMemberCount,
};

constexpr std::string_view kReplyMembers[kMemberCount]
    = { "action", "sessionId", "streamId", "code", "message", "chunkIndex" };

/* Four hex digits at @p (the caller made sure there are four), or -1. */
int
hex4 (const char *p)
{
  int v = 0;
  for (int i = 0; i < 4; i++)
    {
      const int d = g_ascii_xdigit_value (p[i]);
      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
  return v;
}

/* The text of the \u escape(s) at @p (after "\u"), as json-glib decodes it:
 * a code point, a surrogate pair combined. Answers the position after it,
 * or nullptr for what json-glib gets wrong (\u0000 cuts its C string; lone
 * surrogates are json_guard ()'s to refuse). */
const char *
unicode_escape (const char *p, const char *end, uint32_t &cp)
{
  if (end - p < 4)
    return nullptr;
  int hi = hex4 (p);
  p += 4;
  if (hi <= 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
    return nullptr;
  if (hi < 0xD800 || hi > 0xDBFF)
    {
      cp = static_cast<uint32_t> (hi);
      return p;
    }
  if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
    return nullptr;
  int lo = hex4 (p + 2);
  if (lo < 0xDC00 || lo > 0xDFFF)
    return nullptr;
  cp = 0x10000 + (static_cast<uint32_t> (hi - 0xD800) << 10) + static_cast<uint32_t> (lo - 0xDC00);
  return p + 6;
}

/* The value of the string whose text (between the quotes) is @raw, as
 * json-glib decodes it, into @out (nullptr: only check it). false: a byte
 * or escape left to json-glib (UTF-8, control characters, unknown escapes).
 * Our receiver's messages quote field names, so \" is common in errors. */
bool
unescape (std::string_view raw, std::string *out)
{
  const char *p = raw.data (), *end = p + raw.size ();
  if (out)
    out->clear ();
  for (;;)
    {
      const char *run = p;
      while (p < end && json_scan::is_plain_char (static_cast<unsigned char> (*p)))
        p++;
      if (out)
        out->append (run, static_cast<size_t> (p - run));
      if (p == end)
        return true;
      if (*p++ != '\\' || p == end)
        return false;
      char c = *p++;
      switch (c)
        {
        case '"':
        case '\\':
        case '/':
          break;
        case 'b':
          c = '\b';
          break;
        case 'f':
          c = '\f';
          break;
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case 't':
          c = '\t';
          break;
        case 'u':
          {
            uint32_t cp;
            if (!(p = unicode_escape (p, end, cp)))
              return false;
            if (out)
              {
                gchar utf8[6];
                out->append (utf8, static_cast<size_t> (g_unichar_to_utf8 (cp, utf8)));
              }
            continue;
          }
        default:
          return false;
        }
      if (out)
        out->push_back (c);
    }
}

} // namespace

bool
decode_reply_fast (const char *text, size_t length, Reply &out)
{
  const char *end = text + length;
  std::string_view str[kMemberCount];
  int64_t index = 0;
  unsigned seen = 0, escaped = 0;

  auto read_member = [&] (std::string_view key, const char *p) -> const char * {
    int id = json_scan::member_index (kReplyMembers, key);
    /* Other members and repeated ones: json-glib decides. */
    if (id < 0 || (seen & (1u << id)))
      return nullptr;
    seen |= 1u << id;
    if (id == kChunkIndex)
      return json_scan::parse_int (p, end, index);
    if (p == end || *p++ != '"')
      return nullptr;
    /* Plain strings (all our receiver writes but an error's quotes) are
     * taken as they are; the rest is decoded once the reply is known. */
    const char *value_end = json_scan::plain_string_end (p, end);
    if (!value_end)
      {
        value_end = json_scan::escaped_string_end (p, end);
        if (!value_end)
          return nullptr;
        escaped |= 1u << id;
      }
    str[id] = std::string_view (p, static_cast<size_t> (value_end - p));
    return value_end + 1;
  };
  if (!json_scan::scan_flat_object (text, end, read_member))
    return false;

  /* The rules of decode_reply_json_glib (), for text json-glib accepts:
   * every string is checked, the ones the reply keeps are decoded. */
  auto value_of = [&] (int id, std::string *into) {
    if (escaped & (1u << id))
      return unescape (str[id], into);
    if (into)
      into->assign (str[id].data (), str[id].size ());
    return true;
  };
  std::string action;
  if (!value_of (kAction, &action))
    return false;
  bool has_action = seen & (1u << kAction);
  bool has_index = has_action && (seen & (1u << kChunkIndex)) && index >= 0;
  Reply::Kind kind = Reply::Other;
  if (has_action && action == "ack" && has_index)
    kind = Reply::Ack;
  else if (has_action && action == "error")
    kind = Reply::Error;
  out = Reply ();
  std::string *keep[kMemberCount] = {};
  if (kind == Reply::Ack)
    keep[kStreamId] = &out.stream_id;
  else if (kind == Reply::Error)
    {
      keep[kCode] = &out.code;
      keep[kMessage] = &out.message;
    }
  for (int id = kSessionId; id < kChunkIndex; id++)
    if (!value_of (id, keep[id]))
      return false;
  out.kind = kind;
  out.has_index = has_index;
  out.chunk_index = has_index ? static_cast<uint64_t> (index) : 0;
  return true;
}

std::string
reply_difference (const Reply &a, const Reply &b)
{
  auto kind = [] (const Reply &r) {
    return r.kind == Reply::Ack ? "ack" : r.kind == Reply::Error ? "error" : "other";
  };
  auto index = [] (const Reply &r) {
    return r.has_index ? std::to_string (r.chunk_index)
                       : "none (" + std::to_string (r.chunk_index) + ")";
  };
  if (a.kind != b.kind)
    return std::string ("kind ") + kind (a) + " vs " + kind (b);
  if (a.has_index != b.has_index || a.chunk_index != b.chunk_index)
    return "chunkIndex " + index (a) + " vs " + index (b);
  const std::pair<const char *, std::string Reply::*> strings[] = {
    { "streamId", &Reply::stream_id }, { "code", &Reply::code }, { "message", &Reply::message }
  };
  for (const auto &[name, field] : strings)
    if (a.*field != b.*field)
      return std::string (name) + " \"" + a.*field + "\" vs \"" + b.*field + "\"";
  return std::string ();
}

Reply
decode_reply (const char *text, size_t length)
{
  Reply reply;
  if (decode_reply_fast (text, length, reply))
    return reply;
  return decode_reply_json_glib (text, length);
}

} // namespace wssac
