/* wssaudiochunksink: the element messages and warnings it posts on the bus.
 * The structure names are in bus-messages.h; every field is listed in the
 * element's gst-inspect text. Any thread; never with a lock held. */
#pragma once

#include "gstwssaudiochunksink.h"

#include "backlog.h"
#include "wss-client-transport.h"

#include <string>

namespace wssac::sink
{

/* The `stats` property: wss-audio-chunk-sink-stats. */
GstStructure *stats_structure (const TransportStats &t, const std::string &session_id);

void post_sent (GstWssAudioChunkSink *self, const SentInfo &info);
void post_connection (GstWssAudioChunkSink *self, ConnectionState state, const std::string &detail);
void post_stream_start (GstWssAudioChunkSink *self, const std::string &session_id,
                        const std::string &location);
void post_stream_stop (GstWssAudioChunkSink *self, const std::string &session_id,
                       const TransportStats &t, const char *reason);
/* Only on a change of @transmitting (the browser speaker app's
 * setTransmitting()). */
void post_transmitting (GstWssAudioChunkSink *self, bool transmitting, bool paused, bool muted);
/* A warning per loss episode naming the chunk indices and the reason,
 * details wss-audio-chunk-dropped. */
void post_dropped (GstWssAudioChunkSink *self, const DropEpisode &e);
/* The error of a failed first connection, mapped as souphttpsrc maps HTTP
 * statuses (401/403 NOT_AUTHORIZED, 404 NOT_FOUND, else OPEN_WRITE), with
 * connect-error and http-status-code in its details. */
void post_connect_error (GstWssAudioChunkSink *self, const ConnectError &e);
/* A warning: the receiver refused a message (its code and text). */
void post_refused (GstWssAudioChunkSink *self, const std::string &code, const std::string &message);

} // namespace wssac::sink
