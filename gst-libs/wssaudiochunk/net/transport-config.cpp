#include "transport-config.h"

namespace wssac
{

namespace
{
std::string
str_or_empty (const char *s)
{
  return s ? std::string (s) : std::string ();
}

void
append_header_value (HeaderList &out, const char *name, const GValue *v)
{
  if (GST_VALUE_HOLDS_ARRAY (v) || GST_VALUE_HOLDS_LIST (v))
    {
      guint n
          = GST_VALUE_HOLDS_ARRAY (v) ? gst_value_array_get_size (v) : gst_value_list_get_size (v);
      for (guint i = 0; i < n; i++)
        append_header_value (out, name,
                             GST_VALUE_HOLDS_ARRAY (v) ? gst_value_array_get_value (v, i)
                                                       : gst_value_list_get_value (v, i));
      return;
    }
  if (G_VALUE_HOLDS_STRING (v))
    {
      out.emplace_back (name, str_or_empty (g_value_get_string (v)));
      return;
    }
  gchar *s = gst_value_serialize (v);
  out.emplace_back (name, str_or_empty (s));
  g_free (s);
}

gboolean
collect_header (GQuark field, const GValue *value, gpointer data)
{
  append_header_value (*static_cast<HeaderList *> (data), g_quark_to_string (field), value);
  return TRUE;
}
} // namespace

HeaderList
headers_from_structure (const GstStructure *s)
{
  HeaderList out;
  if (s)
    gst_structure_foreach (s, collect_header, &out);
  return out;
}

std::string
location_problem (const std::string &location)
{
  if (location.empty ())
    return "No location set: set the location property to a ws:// or wss:// URI";
  GError *err = nullptr;
  GUri *uri = g_uri_parse (location.c_str (), G_URI_FLAGS_NONE, &err);
  if (!uri)
    {
      std::string why = "Invalid location \"" + redact_uri (location) + "\": " + err->message;
      g_error_free (err);
      return why;
    }
  std::string scheme = str_or_empty (g_uri_get_scheme (uri));
  std::string host = str_or_empty (g_uri_get_host (uri));
  g_uri_unref (uri);
  if (g_ascii_strcasecmp (scheme.c_str (), "ws") != 0
      && g_ascii_strcasecmp (scheme.c_str (), "wss") != 0)
    return "Invalid location \"" + redact_uri (location) + "\": the scheme must be ws:// or wss://";
  if (host.empty ())
    return "Invalid location \"" + redact_uri (location) + "\": no host";
  return std::string ();
}

} // namespace wssac
