#include "file-names.h"

#include <glib.h>

namespace wssac_ingest
{

namespace
{

constexpr size_t kMaxStem = 200; /* leaves room for "-NN.json" under NAME_MAX */

std::string
short_hash (const std::string &s)
{
  gchar *hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, reinterpret_cast<const guchar *> (s.data ()),
                                            s.size ());
  std::string out (hex, 16);
  g_free (hex);
  return out;
}

bool
keep (char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
         || c == '-';
}

} // namespace

std::string
sanitize_session_id (const std::string &session_id)
{
  std::string out;
  out.reserve (session_id.size ());
  for (char c : session_id)
    out.push_back (keep (c) ? c : '_');
  if (out.empty () || out == "." || out == "..")
    return "session-" + short_hash (session_id);
  if (out.size () > kMaxStem)
    {
      out.resize (kMaxStem - 17);
      out += "-" + short_hash (session_id);
    }
  return out;
}

std::string
path_join (const std::string &dir, const std::string &name)
{
  gchar *p = g_build_filename (dir.c_str (), name.c_str (), nullptr);
  std::string out (p);
  g_free (p);
  return out;
}

} // namespace wssac_ingest
