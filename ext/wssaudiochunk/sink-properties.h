/* wssaudiochunksink's properties: the specifications (sink-property-specs.cpp),
 * get/set and the transport configuration (sink-properties.cpp). */
#pragma once

#include "gstwssaudiochunksink.h"

#include "wss-client-transport.h"

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_SESSION_ID,
  PROP_CHUNK_DURATION,
  PROP_FORMAT,
  PROP_EXTRA_HEADERS,
  PROP_USER_AGENT,
  PROP_CONNECT_TIMEOUT,
  PROP_DRAIN_TIMEOUT,
  PROP_KEEPALIVE_INTERVAL,
  PROP_KEEPALIVE_TIMEOUT,
  PROP_ASYNC_CONNECT,
  PROP_MAX_IN_FLIGHT,
  PROP_BACKLOG_POLICY,
  PROP_RETRY_DELAY,
  PROP_MAX_RETRY_DELAY,
  PROP_MAX_RETRIES,
  PROP_MAX_BACKLOG_TIME,
  PROP_MAX_BACKLOG_BYTES,
  PROP_REPLAY_WINDOW,
  PROP_MAX_MESSAGE_SIZE,
  PROP_POST_MESSAGES,
  PROP_END_SESSION_ON_EOS,
  PROP_PAUSED,
  PROP_MUTED,
  PROP_AUTH_TOKEN,
  PROP_AUTH_TOKEN_MODE,
  PROP_SSL_STRICT,
  PROP_SSL_CA_FILE,
  PROP_TLS_DATABASE,
  PROP_FRAMING,
  PROP_SESSION_IN_URI,
  PROP_MAX_PAUSE_TIME,
  PROP_MAX_ATTEMPTS,
  PROP_MAX_SEND_RATE,
  PROP_REFUSAL_TIMEOUT,
  PROP_MAX_CONNECTION_AGE,
  PROP_STATS,
};

#define GST_TYPE_WSS_AUDIO_CHUNK_SINK_BACKLOG_POLICY                                               \
  (gst_wss_audio_chunk_sink_backlog_policy_get_type ())
GType gst_wss_audio_chunk_sink_backlog_policy_get_type (void);
#define GST_TYPE_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_MODE                                              \
  (gst_wss_audio_chunk_sink_auth_token_mode_get_type ())
GType gst_wss_audio_chunk_sink_auth_token_mode_get_type (void);
#define GST_TYPE_WSS_AUDIO_CHUNK_SINK_FRAMING (gst_wss_audio_chunk_sink_framing_get_type ())
GType gst_wss_audio_chunk_sink_framing_get_type (void);
#define GST_TYPE_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI                                               \
  (gst_wss_audio_chunk_sink_session_in_uri_get_type ())
GType gst_wss_audio_chunk_sink_session_in_uri_get_type (void);

void gst_wss_audio_chunk_sink_set_property (GObject *object, guint prop_id, const GValue *value,
                                            GParamSpec *pspec);
void gst_wss_audio_chunk_sink_get_property (GObject *object, guint prop_id, GValue *value,
                                            GParamSpec *pspec);

namespace wssac::sink
{

struct Settings;

/* Installs every property of the element, with its documentation. */
void install_properties (GObjectClass *gobject_class);

/* The transport's configuration from the property values (object lock
 * held). The TLS database is a new reference the caller releases. */
TransportConfig transport_config (const Settings &s);

} // namespace wssac::sink
