/* wssaudiochunksink's properties at run time: get/set on the Settings under
 * the object lock (refusing durations too short to be meant), and the
 * transport configuration they make at start(). The specifications are in
 * sink-property-specs.cpp. */
#include "sink-properties.h"

#include "duration-property.h"
#include "sink-controls.h"
#include "sink-messages.h"
#include "sink-private.h"
#include "string-property.h"

#include <string>

using namespace wssac;
using namespace wssac::sink;

void
gst_wss_audio_chunk_sink_set_property (GObject *object, guint prop_id, const GValue *value,
                                       GParamSpec *pspec)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (object);
  GstWssAudioChunkSinkPrivate *priv = self->priv;
  if (prop_id == PROP_PAUSED || prop_id == PROP_MUTED)
    {
      /* control() takes the stream lock and records the state itself. */
      gboolean on = g_value_get_boolean (value);
      control (self,
               prop_id == PROP_PAUSED ? (on ? Action::PauseBroadcast : Action::ResumeBroadcast)
                                      : (on ? Action::MuteBroadcast : Action::UnmuteBroadcast),
               "");
      return;
    }
  GST_OBJECT_LOCK (self);
  Settings &s = priv->settings;

  switch (prop_id)
    {
    case PROP_LOCATION:
      s.location = string_from_value (value);
      break;
    case PROP_SESSION_ID:
      s.session_id = string_from_value (value);
      break;
    case PROP_CHUNK_DURATION:
      set_duration_ms (object, pspec, value, s.chunk_duration, MIN_CHUNK_DURATION);
      break;
    case PROP_FORMAT:
      s.format = string_from_value (value);
      break;
    case PROP_EXTRA_HEADERS:
      {
        const GstStructure *st = gst_value_get_structure (value);
        if (s.extra_headers)
          gst_structure_free (s.extra_headers);
        s.extra_headers = st ? gst_structure_copy (st) : nullptr;
        break;
      }
    case PROP_USER_AGENT:
      s.user_agent = string_from_value (value);
      break;
    case PROP_CONNECT_TIMEOUT:
      set_duration_ms (object, pspec, value, s.connect_timeout, MIN_SECONDS_SCALE);
      break;
    case PROP_DRAIN_TIMEOUT:
      set_duration_ms (object, pspec, value, s.drain_timeout, MIN_SECONDS_SCALE);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      set_duration_ms (object, pspec, value, s.keepalive_interval, MIN_SECONDS_SCALE);
      break;
    case PROP_KEEPALIVE_TIMEOUT:
      set_duration_ms (object, pspec, value, s.keepalive_timeout, MIN_SECONDS_SCALE);
      break;
    case PROP_ASYNC_CONNECT:
      s.async_connect = g_value_get_boolean (value);
      break;
    case PROP_MAX_IN_FLIGHT:
      s.max_in_flight = g_value_get_uint (value);
      break;
    case PROP_BACKLOG_POLICY:
      s.backlog_policy = g_value_get_enum (value);
      break;
    case PROP_RETRY_DELAY:
      s.retry_delay = g_value_get_uint (value);
      break;
    case PROP_MAX_RETRY_DELAY:
      s.max_retry_delay = g_value_get_uint (value);
      break;
    case PROP_MAX_RETRIES:
      s.max_retries = g_value_get_int (value);
      break;
    case PROP_MAX_BACKLOG_TIME:
      set_duration_ms (object, pspec, value, s.max_backlog_time, MIN_SHORT_DURATION);
      break;
    case PROP_MAX_BACKLOG_BYTES:
      s.max_backlog_bytes = g_value_get_uint64 (value);
      break;
    case PROP_REPLAY_WINDOW:
      s.replay_window = g_value_get_uint (value); /* ignored */
      break;
    case PROP_MAX_ATTEMPTS:
      s.max_attempts = g_value_get_uint (value);
      break;
    case PROP_MAX_SEND_RATE:
      s.max_send_rate = g_value_get_double (value);
      break;
    case PROP_REFUSAL_TIMEOUT:
      set_duration_ms (object, pspec, value, s.refusal_timeout, MIN_SHORT_DURATION);
      break;
    case PROP_MAX_CONNECTION_AGE:
      set_duration_ms (object, pspec, value, s.max_connection_age, MIN_MAX_CONNECTION_AGE);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      s.max_message_size = g_value_get_uint (value);
      break;
    case PROP_POST_MESSAGES:
      s.post_messages = g_value_get_boolean (value);
      priv->post_messages = s.post_messages;
      break;
    case PROP_END_SESSION_ON_EOS:
      s.end_session_on_eos = g_value_get_boolean (value);
      break;
    case PROP_MAX_PAUSE_TIME:
      set_duration_ms (object, pspec, value, s.max_pause_time, MIN_SHORT_DURATION);
      break;
    case PROP_AUTH_TOKEN:
      s.auth_token = string_from_value (value);
      break;
    case PROP_AUTH_TOKEN_MODE:
      s.auth_token_mode = g_value_get_enum (value);
      break;
    case PROP_SSL_STRICT:
      s.ssl_strict = g_value_get_boolean (value);
      break;
    case PROP_SSL_CA_FILE:
      s.ssl_ca_file = string_from_value (value);
      break;
    case PROP_SESSION_IN_URI:
      s.session_in_uri = g_value_get_enum (value);
      break;
    case PROP_FRAMING:
      s.framing = g_value_get_enum (value);
      break;
    case PROP_TLS_DATABASE:
      g_clear_object (&s.tls_database);
      s.tls_database = static_cast<GTlsDatabase *> (g_value_dup_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
  GST_OBJECT_UNLOCK (self);
}

void
gst_wss_audio_chunk_sink_get_property (GObject *object, guint prop_id, GValue *value,
                                       GParamSpec *pspec)
{
  GstWssAudioChunkSink *self = GST_WSS_AUDIO_CHUNK_SINK (object);
  GstWssAudioChunkSinkPrivate *priv = self->priv;

  if (prop_id == PROP_STATS)
    {
      std::shared_ptr<WssClientTransport> t = transport (self);
      GST_OBJECT_LOCK (self);
      std::string session_id = priv->settings.session_id;
      GST_OBJECT_UNLOCK (self);
      guint64 held;
      {
        std::lock_guard<std::mutex> g (priv->stream_lock);
        held = priv->state.broadcast.held_chunks ();
      }
      GstStructure *st = stats_structure (t ? t->stats () : TransportStats (), session_id);
      /* Audio kept while paused: not in the backlog yet, but not sent. */
      gst_structure_set (st, "held-chunks", G_TYPE_UINT64, held, NULL);
      g_value_take_boxed (value, st);
      return;
    }

  GST_OBJECT_LOCK (self);
  const Settings &s = priv->settings;
  switch (prop_id)
    {
    case PROP_LOCATION:
      value_set_string_or_null (value, s.location);
      break;
    case PROP_SESSION_ID:
      value_set_string_or_null (value, s.session_id);
      break;
    case PROP_CHUNK_DURATION:
      g_value_set_uint (value, s.chunk_duration);
      break;
    case PROP_FORMAT:
      value_set_string_or_null (value, s.format);
      break;
    case PROP_EXTRA_HEADERS:
      gst_value_set_structure (value, s.extra_headers);
      break;
    case PROP_USER_AGENT:
      value_set_string_or_null (value, s.user_agent);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, s.connect_timeout);
      break;
    case PROP_DRAIN_TIMEOUT:
      g_value_set_uint (value, s.drain_timeout);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      g_value_set_uint (value, s.keepalive_interval);
      break;
    case PROP_KEEPALIVE_TIMEOUT:
      g_value_set_uint (value, s.keepalive_timeout);
      break;
    case PROP_ASYNC_CONNECT:
      g_value_set_boolean (value, s.async_connect);
      break;
    case PROP_MAX_IN_FLIGHT:
      g_value_set_uint (value, s.max_in_flight);
      break;
    case PROP_BACKLOG_POLICY:
      g_value_set_enum (value, s.backlog_policy);
      break;
    case PROP_RETRY_DELAY:
      g_value_set_uint (value, s.retry_delay);
      break;
    case PROP_MAX_RETRY_DELAY:
      g_value_set_uint (value, s.max_retry_delay);
      break;
    case PROP_MAX_RETRIES:
      g_value_set_int (value, s.max_retries);
      break;
    case PROP_MAX_BACKLOG_TIME:
      g_value_set_uint (value, s.max_backlog_time);
      break;
    case PROP_MAX_BACKLOG_BYTES:
      g_value_set_uint64 (value, s.max_backlog_bytes);
      break;
    case PROP_REPLAY_WINDOW:
      g_value_set_uint (value, s.replay_window);
      break;
    case PROP_MAX_ATTEMPTS:
      g_value_set_uint (value, s.max_attempts);
      break;
    case PROP_MAX_SEND_RATE:
      g_value_set_double (value, s.max_send_rate);
      break;
    case PROP_REFUSAL_TIMEOUT:
      g_value_set_uint (value, s.refusal_timeout);
      break;
    case PROP_MAX_CONNECTION_AGE:
      g_value_set_uint (value, s.max_connection_age);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint (value, s.max_message_size);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, s.post_messages);
      break;
    case PROP_END_SESSION_ON_EOS:
      g_value_set_boolean (value, s.end_session_on_eos);
      break;
    case PROP_MAX_PAUSE_TIME:
      g_value_set_uint (value, s.max_pause_time);
      break;
    case PROP_AUTH_TOKEN_MODE:
      g_value_set_enum (value, s.auth_token_mode);
      break;
    case PROP_SSL_STRICT:
      g_value_set_boolean (value, s.ssl_strict);
      break;
    case PROP_SSL_CA_FILE:
      value_set_string_or_null (value, s.ssl_ca_file);
      break;
    case PROP_TLS_DATABASE:
      g_value_set_object (value, s.tls_database);
      break;
    case PROP_SESSION_IN_URI:
      g_value_set_enum (value, s.session_in_uri);
      break;
    case PROP_FRAMING:
      g_value_set_enum (value, s.framing);
      break;
    case PROP_PAUSED:
      g_value_set_boolean (value, s.paused);
      break;
    case PROP_MUTED:
      g_value_set_boolean (value, s.muted);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
  GST_OBJECT_UNLOCK (self);
}

static unsigned
ms_to_whole_seconds (guint ms)
{
  return ms / 1000 + (ms % 1000 != 0);
}

TransportConfig
wssac::sink::transport_config (const Settings &s)
{
  TransportConfig config;
  config.uri = s.location;
  config.session_id = s.session_id;
  /* The format may still come from the caps: patched in set_caps(). */
  config.format = s.format.empty () ? "webm-opus" : s.format;
  config.headers = headers_from_structure (s.extra_headers);
  config.user_agent = s.user_agent;
  /* libsoup's timeout and pings count whole seconds: rounded up. */
  config.connect_timeout_s = ms_to_whole_seconds (s.connect_timeout);
  config.keepalive_interval_s = ms_to_whole_seconds (s.keepalive_interval);
  config.keepalive_timeout_s = ms_to_whole_seconds (s.keepalive_timeout);
  config.async_connect = s.async_connect;
  config.max_in_flight = s.max_in_flight;
  config.backlog.drop_newest = s.backlog_policy == GST_WSS_AUDIO_CHUNK_SINK_BACKLOG_DROP_NEWEST;
  config.retry.initial_delay_ms = s.retry_delay;
  config.retry.max_delay_ms = s.max_retry_delay;
  config.retry.max_retries = s.max_retries;
  config.backlog.max_time = static_cast<int64_t> (s.max_backlog_time) * GST_MSECOND;
  config.backlog.max_bytes = s.max_backlog_bytes;
  config.ledger.max_attempts = static_cast<int> (s.max_attempts);
  config.max_send_rate = s.max_send_rate;
  config.refusal_timeout_ms = s.refusal_timeout;
  config.max_connection_age_ms = s.max_connection_age;
  config.max_message_size = s.max_message_size;
  config.auth_token = s.auth_token;
  config.auth_token_in_query = s.auth_token_mode == GST_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_QUERY;
  config.ssl_strict = s.ssl_strict;
  config.binary_framing = s.framing == GST_WSS_AUDIO_CHUNK_SINK_FRAMING_BINARY;
  config.session_in_uri
      = s.session_in_uri == GST_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI_PATH   ? SessionInUri::Path
        : s.session_in_uri == GST_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI_NONE ? SessionInUri::None
                                                                           : SessionInUri::Query;
  config.tls_ca_file = s.ssl_ca_file;
  config.tls_database = s.tls_database ? G_TLS_DATABASE (g_object_ref (s.tls_database)) : nullptr;
  return config;
}
