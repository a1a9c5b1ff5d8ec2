#include "redact-uri.h"

#include <cctype>

namespace wssac
{

namespace
{
bool
equal_ignoring_case (std::string_view a, std::string_view b)
{
  if (a.size () != b.size ())
    return false;
  for (size_t i = 0; i < a.size (); i++)
    if (std::tolower (static_cast<unsigned char> (a[i]))
        != std::tolower (static_cast<unsigned char> (b[i])))
      return false;
  return true;
}
} // namespace

bool
is_secret_query_parameter (std::string_view name)
{
  static constexpr std::string_view kSecret[] = {
    "token",           "access_token",    "auth", "authorization", "key",    "api_key",
    "apikey",          "signature",       "sig",  "password",      "secret", "x-amz-security-token",
    "x-amz-signature", "x-amz-credential"
  };
  for (std::string_view s : kSecret)
    if (equal_ignoring_case (name, s))
      return true;
  return false;
}

std::string
redact_uri (std::string_view uri)
{
  size_t q = uri.find ('?');
  if (q == std::string_view::npos)
    return std::string (uri);
  size_t end = uri.find ('#', q);
  if (end == std::string_view::npos)
    end = uri.size ();

  std::string out (uri.substr (0, q + 1));
  std::string_view query = uri.substr (q + 1, end - q - 1);
  size_t pos = 0;
  while (true)
    {
      size_t amp = query.find ('&', pos);
      std::string_view pair
          = query.substr (pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
      size_t eq = pair.find ('=');
      if (eq != std::string_view::npos && is_secret_query_parameter (pair.substr (0, eq)))
        {
          out += pair.substr (0, eq);
          out += "=***";
        }
      else
        out += pair;
      if (amp == std::string_view::npos)
        break;
      out += '&';
      pos = amp + 1;
    }
  out += uri.substr (end);
  return out;
}

} // namespace wssac
