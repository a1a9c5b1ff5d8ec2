/* wssaudiochunksink's private parts, shared by the element file and its
 * helpers (sink-controls, sink-messages): the property values (Settings,
 * under the object lock), the per-run state (State, under the stream lock,
 * reset by assignment at start) and what the transport thread reads
 * (atomics). */
#pragma once

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwssaudiochunksink.h"

#include "broadcast-state.h"
#include "cadence-check.h"
#include "chunker.h"
#include "wss-client-transport.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

GST_DEBUG_CATEGORY_EXTERN (gst_wss_audio_chunk_sink_debug);
#define GST_CAT_DEFAULT gst_wss_audio_chunk_sink_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_SESSION_ID NULL
/* Every duration is in milliseconds (sink-properties.h). */
#define DEFAULT_CHUNK_DURATION 250
#define DEFAULT_FORMAT NULL
#define DEFAULT_USER_AGENT "GStreamer wssaudiochunksink " VERSION
#define DEFAULT_CONNECT_TIMEOUT 10000
#define DEFAULT_DRAIN_TIMEOUT 10000
#define DEFAULT_KEEPALIVE_INTERVAL 10000
#define DEFAULT_KEEPALIVE_TIMEOUT 25000
#define DEFAULT_ASYNC_CONNECT FALSE
#define DEFAULT_MAX_IN_FLIGHT (64 * 1024)
#define DEFAULT_BACKLOG_POLICY GST_WSS_AUDIO_CHUNK_SINK_BACKLOG_DROP_OLDEST
#define DEFAULT_RETRY_DELAY 500
#define DEFAULT_MAX_RETRY_DELAY 30000
#define DEFAULT_MAX_RETRIES -1
#define DEFAULT_MAX_BACKLOG_TIME 30000
#define DEFAULT_MAX_BACKLOG_BYTES 0
#define DEFAULT_REPLAY_WINDOW 5000
#define DEFAULT_MAX_MESSAGE_SIZE (32 * 1024)
#define DEFAULT_POST_MESSAGES FALSE
#define DEFAULT_END_SESSION_ON_EOS TRUE
#define DEFAULT_MAX_PAUSE_TIME 5000
#define DEFAULT_AUTH_TOKEN_MODE GST_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_HEADER
#define DEFAULT_SSL_STRICT TRUE
#define DEFAULT_FRAMING GST_WSS_AUDIO_CHUNK_SINK_FRAMING_JSON
#define DEFAULT_MAX_ATTEMPTS 8
#define DEFAULT_MAX_SEND_RATE 3.0
#define DEFAULT_REFUSAL_TIMEOUT 5000
/* Just under API Gateway's 2 h cut: 1 h 58 min, in ms. */
#define DEFAULT_MAX_CONNECTION_AGE (118 * 60 * 1000)
#define DEFAULT_SESSION_IN_URI GST_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI_QUERY

/* Smallest non-zero values, in ms. The four that counted seconds before
 * 0.1 refuse 1..999, so that a value typed in seconds (keepalive-interval=30)
 * is refused rather than taken as 30 ms. */
#define MIN_CHUNK_DURATION 20
#define MIN_SECONDS_SCALE 1000 /* connect-, drain-, keepalive-timeout, -interval */
#define MIN_MAX_CONNECTION_AGE 1000
#define MIN_SHORT_DURATION 100 /* backlog and pause bounds, refusal-timeout */
/* Largest: 24 h, so a value in nanoseconds (max-backlog-time=2000000000)
 * is out of range rather than 23 days. */
#define MAX_LONG_DURATION (24 * 3600 * 1000)

typedef enum
{
  GST_WSS_AUDIO_CHUNK_SINK_BACKLOG_DROP_OLDEST,
  GST_WSS_AUDIO_CHUNK_SINK_BACKLOG_DROP_NEWEST,
} GstWssAudioChunkSinkBacklogPolicy;

typedef enum
{
  GST_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_HEADER,
  GST_WSS_AUDIO_CHUNK_SINK_AUTH_TOKEN_QUERY,
} GstWssAudioChunkSinkAuthTokenMode;

typedef enum
{
  GST_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI_QUERY,
  GST_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI_PATH,
  GST_WSS_AUDIO_CHUNK_SINK_SESSION_IN_URI_NONE,
} GstWssAudioChunkSinkSessionInUri;

typedef enum
{
  GST_WSS_AUDIO_CHUNK_SINK_FRAMING_JSON,
  GST_WSS_AUDIO_CHUNK_SINK_FRAMING_BINARY,
} GstWssAudioChunkSinkFraming;

namespace wssac::sink
{

/* Property values, under the object lock; copied at start(). */
struct Settings
{
  std::string location;
  std::string session_id;
  guint chunk_duration = DEFAULT_CHUNK_DURATION;
  std::string format;
  GstStructure *extra_headers = nullptr;
  std::string user_agent = DEFAULT_USER_AGENT;
  guint connect_timeout = DEFAULT_CONNECT_TIMEOUT;
  guint drain_timeout = DEFAULT_DRAIN_TIMEOUT;
  guint keepalive_interval = DEFAULT_KEEPALIVE_INTERVAL;
  guint keepalive_timeout = DEFAULT_KEEPALIVE_TIMEOUT;
  gboolean async_connect = DEFAULT_ASYNC_CONNECT;
  guint max_in_flight = DEFAULT_MAX_IN_FLIGHT;
  gint backlog_policy = DEFAULT_BACKLOG_POLICY;
  guint retry_delay = DEFAULT_RETRY_DELAY;
  guint max_retry_delay = DEFAULT_MAX_RETRY_DELAY;
  gint max_retries = DEFAULT_MAX_RETRIES;
  guint max_backlog_time = DEFAULT_MAX_BACKLOG_TIME;
  guint64 max_backlog_bytes = DEFAULT_MAX_BACKLOG_BYTES;
  guint replay_window = DEFAULT_REPLAY_WINDOW;
  guint max_message_size = DEFAULT_MAX_MESSAGE_SIZE;
  gboolean post_messages = DEFAULT_POST_MESSAGES;
  gboolean end_session_on_eos = DEFAULT_END_SESSION_ON_EOS;
  /* Requested before start (applied by start()), or the current state. */
  gboolean paused = FALSE;
  gboolean muted = FALSE;
  guint max_pause_time = DEFAULT_MAX_PAUSE_TIME;
  std::string auth_token;
  gint auth_token_mode = DEFAULT_AUTH_TOKEN_MODE;
  gboolean ssl_strict = DEFAULT_SSL_STRICT;
  std::string ssl_ca_file;
  GTlsDatabase *tls_database = nullptr;
  gint framing = DEFAULT_FRAMING;
  guint max_attempts = DEFAULT_MAX_ATTEMPTS;
  gdouble max_send_rate = DEFAULT_MAX_SEND_RATE;
  guint refusal_timeout = DEFAULT_REFUSAL_TIMEOUT;
  guint max_connection_age = DEFAULT_MAX_CONNECTION_AGE;
  gint session_in_uri = DEFAULT_SESSION_IN_URI;
};

class PipelineBusListener;

/* One run, from start() to the next start(): replaced as a whole. */
struct State
{
  std::unique_ptr<Chunker> chunker;
  /* Shared so that stats can be read without holding the stream lock while
   * the transport works (its callbacks post messages). Kept after stop()
   * for the final stats. */
  std::shared_ptr<WssClientTransport> transport;
  BroadcastState broadcast;
  CadenceCheck cadence; /* one warning when chunks miss chunk-duration */
  std::string caps_format;
  std::string session_id;
  std::string location; /* redacted: what bus messages show */
  bool warned_time_cuts = false;
  bool stream_stopped = false;
  bool header_passed = false; /* the transport has the stream header */
  int upstream_live = -1;     /* -1: not asked yet */
  int64_t last_chunk_us = 0;  /* monotonic, when the last chunk was submitted */
};

} // namespace wssac::sink

struct _GstWssAudioChunkSinkPrivate
{
  wssac::sink::Settings settings; /* GST_OBJECT_LOCK */

  /* The streaming thread and the control paths (signals, properties, bus,
   * events) take turns on the chunker, the broadcast state and the order of
   * what enters the transport. */
  std::mutex stream_lock;
  wssac::sink::State state;

  guint64 next_index = 0; /* chunkIndex, for the life of the element */

  /* Read on the transport thread. */
  std::atomic<bool> post_messages{ DEFAULT_POST_MESSAGES };
  std::atomic<bool> fatal{ false };
  std::atomic<bool> stream_started{ false };  /* wss-audio-chunk-stream-start posted */
  std::atomic<int> posted_transmitting{ -1 }; /* last value posted, -1 none */

  /* Control messages on the pipeline bus, while started. */
  std::unique_ptr<wssac::sink::PipelineBusListener> bus_listener;
};

namespace wssac::sink
{
/* The transport, if started (any thread). */
std::shared_ptr<WssClientTransport> transport (GstWssAudioChunkSink *self);
} // namespace wssac::sink
