/* The transport's free functions: state and error names, the upgrade
 * request's headers, the location check (wss-client-transport.h). */
#include "wss-client-transport.h"
#include "enum-names.h"

#include "transport-config.h"

#include "message-codec.h"

namespace wssac
{

const char *
connection_state_name (ConnectionState state)
{
  static const char *const names[] = { "disconnected", "connecting", "connected", "reconnecting",
                                       "closing",      "closed",     "failed" };
  WSSAC_NAMES_COVER (names, ConnectionState::Failed);
  return enum_value_name (state, names);
}

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

const char *
connect_error_kind_name (ConnectErrorKind kind)
{
  static const char *const names[]
      = { "invalid-uri",    "timeout",      "http-status", "tls-certificate",
          "tls-not-spoken", "tls-expected", "tls",         "network" };
  WSSAC_NAMES_COVER (names, ConnectErrorKind::Network);
  return enum_value_name (kind, names);
}

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

std::string
connect_uri_of (const TransportConfig &config)
{
  std::string uri = uri_with_session (config.uri, config.session_id, config.session_in_uri);
  if (!config.auth_token.empty () && config.auth_token_in_query)
    {
      gchar *escaped = g_uri_escape_string (config.auth_token.c_str (), nullptr, FALSE);
      uri += (uri.find ('?') == std::string::npos ? "?token=" : "&token=") + std::string (escaped);
      g_free (escaped);
    }
  return uri;
}

bool
tls_database_of (const TransportConfig &config, GTlsDatabase **out, std::string &error)
{
  if (config.tls_database)
    *out = G_TLS_DATABASE (g_object_ref (config.tls_database));
  else if (!config.tls_ca_file.empty ())
    {
      GError *err = nullptr;
      /* GTlsFileDatabase wants an absolute path. */
      gchar *abs = g_canonicalize_filename (config.tls_ca_file.c_str (), nullptr);
      *out = g_tls_file_database_new (abs, &err);
      g_free (abs);
      if (!*out)
        {
          error = "Could not read the CA file \"" + config.tls_ca_file
                  + "\": " + (err ? err->message : "?");
          g_clear_error (&err);
          return false;
        }
    }
  return true;
}

DeliveryConfig
delivery_config_of (const TransportConfig &config)
{
  DeliveryConfig d;
  d.ledger = config.ledger;
  d.max_send_rate = config.max_send_rate;
  d.tls = g_ascii_strncasecmp (config.uri.c_str (), "wss:", 4) == 0;
  d.refusal_timeout_ms = config.refusal_timeout_ms;
  d.session_id = config.session_id;
  d.tcp_user_timeout_ms = (config.keepalive_timeout_s > 0 ? config.keepalive_timeout_s : 30) * 1000;
  d.tcp_keepalive_s = config.keepalive_interval_s > 0 ? config.keepalive_interval_s : 10;
  return d;
}

std::string
encode_outgoing (const Outgoing &item, const TransportConfig &config, const std::string &format,
                 const std::vector<uint8_t> &header, int64_t now_ms)
{
  if (item.kind != OutgoingKind::AudioChunk)
    return encode_control (item.action, config.session_id, item.created_ms, item.reason,
                           config.stream_id);
  AudioChunkFields f;
  f.format = format;
  f.session_id = config.session_id;
  f.audio = item.audio.data ();
  f.audio_size = item.audio.size ();
  f.timestamp_ms = now_ms;
  f.chunk_index = item.chunk_index;
  f.stream_header = header.data ();
  f.stream_header_size = header.size ();
  f.stream_id = config.stream_id;
  /* After an outage (or a replay) the send time is not the capture time:
   * the capture time travels unchanged. */
  if (now_ms - item.created_ms > 1000)
    f.capture_timestamp_ms = item.created_ms;
  return config.binary_framing ? encode_binary_audio_chunk (f) : encode_audio_chunk (f);
}

std::string
session_id_room_problem (const TransportConfig &config)
{
  AudioChunkFields f;
  f.session_id = config.session_id;
  f.stream_id = config.stream_id;
  /* A stream header is up to 4 KB, base64 in the JSON framing. */
  size_t needed = encode_audio_chunk (f).size () + 4096 * 4 / 3 + 1024 * 4 / 3;
  if (needed > config.max_message_size)
    return "session-id of " + std::to_string (config.session_id.size ())
           + " bytes leaves no room for audio in max-message-size ("
           + std::to_string (config.max_message_size) + " bytes): use a shorter session-id";
  return std::string ();
}

} // namespace wssac
