#include "session-id.h"

namespace wssac {

namespace {

/* Length of the UTF-8 sequence starting at s[i], or 0 if it is not one
 * (overlong forms, surrogates and code points above U+10FFFF refused). */
std::size_t utf8_sequence_length (std::string_view s, std::size_t i, char32_t &cp)
{
  const auto b = [&] (std::size_t k) { return static_cast<unsigned char> (s[i + k]); };
  const unsigned char c = b (0);
  std::size_t len;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size ())
    return 0;
  for (std::size_t k = 1; k < len; k++) {
    if ((b (k) & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (b (k) & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

}  // namespace

std::string session_id_problem (std::string_view id)
{
  if (id.empty ())
    return "the session id is empty";
  if (id.size () > kMaxSessionIdBytes)
    return "the session id is " + std::to_string (id.size ()) + " bytes long; at most " +
           std::to_string (kMaxSessionIdBytes) + " bytes are allowed";
  for (std::size_t i = 0; i < id.size ();) {
    char32_t cp = 0;
    const std::size_t len = utf8_sequence_length (id, i, cp);
    if (len == 0)
      return "the session id is not valid UTF-8 (byte " + std::to_string (i) + ")";
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
      return "the session id contains a control character (byte " + std::to_string (i) +
             "); use printable characters only";
    i += len;
  }
  return {};
}

}  // namespace wssac
