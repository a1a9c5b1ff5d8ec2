#include "session-uri.h"

namespace wssac
{

std::string
percent_encode (std::string_view s)
{
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s)
    {
      bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                        || c == '-' || c == '.' || c == '_' || c == '~';
      if (unreserved)
        out += static_cast<char> (c);
      else
        {
          out += '%';
          out += hex[c >> 4];
          out += hex[c & 0xF];
        }
    }
  return out;
}

namespace
{
bool
query_has_session (std::string_view query)
{
  size_t pos = 0;
  while (pos <= query.size ())
    {
      size_t amp = query.find ('&', pos);
      std::string_view pair
          = query.substr (pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
      std::string_view name = pair.substr (0, pair.find ('='));
      if (name == "sessionId")
        return true;
      if (amp == std::string_view::npos)
        break;
      pos = amp + 1;
    }
  return false;
}
} // namespace

std::string
uri_with_session (std::string_view uri, std::string_view session_id, SessionInUri mode)
{
  if (mode == SessionInUri::None || session_id.empty ())
    return std::string (uri);
  size_t hash = uri.find ('#');
  std::string_view fragment
      = hash == std::string_view::npos ? std::string_view () : uri.substr (hash);
  std::string_view rest = uri.substr (0, hash);
  size_t q = rest.find ('?');
  std::string_view before_query = rest.substr (0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view () : rest.substr (q + 1);
  std::string out;
  if (mode == SessionInUri::Query)
    {
      if (query_has_session (query))
        return std::string (uri);
      out = std::string (rest);
      if (q == std::string_view::npos)
        out += '?';
      else if (!query.empty ())
        out += '&';
      out += "sessionId=" + percent_encode (session_id);
    }
  else
    {
      out = std::string (before_query);
      /* An authority without a path ("ws://host") gets one. */
      size_t scheme_end = out.find ("://");
      size_t path_start
          = scheme_end == std::string::npos ? std::string::npos : out.find ('/', scheme_end + 3);
      if (path_start == std::string::npos || out.back () != '/')
        out += '/';
      out += percent_encode (session_id);
      if (q != std::string_view::npos)
        {
          out += '?';
          out += query;
        }
    }
  out += fragment;
  return out;
}

} // namespace wssac
