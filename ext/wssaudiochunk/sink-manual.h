/* wssaudiochunksink: the manual gst-inspect-1.0 prints. gst-inspect shows
 * an element's metadata, property blurbs and signal names, not its
 * documentation comments: what a user must know to use the element from a
 * pipeline description (examples, the bus messages, the control structure,
 * the stats fields) goes into metadata entries printed under "Factory
 * Details". The SECTION comment in gstwssaudiochunksink.cpp says the same
 * for the generated documentation. */
#pragma once

namespace wssac::sink::manual
{

inline constexpr char kExamplesKey[] = "examples";
inline constexpr char kExamples[] =
    "\n"
    "    Every duration property is in milliseconds (chunk-duration=250); the muxers'\n"
    "    min-cluster-duration and max-page-delay are in nanoseconds.\n"
    "    WebM/Opus, 250 ms chunks (clusters must match chunk-duration):\n"
    "      pulsesrc ! audioconvert ! audioresample ! audio/x-raw,rate=16000,channels=1\n"
    "        ! opusenc bitrate=16000 frame-size=10\n"
    "        ! webmmux streamable=true min-cluster-duration=250000000\n"
    "        ! wssaudiochunksink location=ws://127.0.0.1:8080/ws session-id=demo\n"
    "    Ogg/Opus (format ogg-opus):\n"
    "      … ! opusenc bitrate=16000 frame-size=10 ! oggmux max-page-delay=250000000\n"
    "        ! wssaudiochunksink location=ws://127.0.0.1:8080/ws session-id=demo\n"
    "    AWS API Gateway, token in the query (shown as token=***):\n"
    "      … ! wssaudiochunksink location=wss://abc123.execute-api.eu-west-1.amazonaws.com/prod\n"
    "          auth-token=\"$TOKEN\" auth-token-mode=query session-id=demo\n"
    "    URI shorthand (a random UUID session id; read it from stats):\n"
    "      … ! webmmux streamable=true min-cluster-duration=250000000 ! ws://127.0.0.1:8080/ws";

inline constexpr char kMessagesKey[] = "bus-messages";
inline constexpr char kMessages[] =
    "\n"
    "    Element messages (structure name: fields):\n"
    "      wss-audio-chunk-stream-start: session-id (string), location (string, credentials\n"
    "        shown as ***); once connected (at start with async-connect)\n"
    "      wss-audio-chunk-stream-stop: session-id (string), chunks-sent, chunks-dropped\n"
    "        (guint64), reason (string: eos, stopped, error)\n"
    "      wss-audio-chunk-connection: state (string: connecting, connected, reconnecting,\n"
    "        closing, closed, failed), detail (string)\n"
    "      wss-audio-chunk-transmitting: transmitting, paused, muted (gboolean); on change\n"
    "      wss-audio-chunk-sent (only with post-messages=true): chunk-index (guint64), size\n"
    "        (guint, audio bytes), encoded-size (guint, frame bytes), timestamp (gint64,\n"
    "        ms since the epoch)\n"
    "    Warnings: lost chunks (RESOURCE WRITE, per episode, at most one a second per\n"
    "      reason; details first-index, last-index, count, bytes, duration (ns), reason:\n"
    "      backlog, paused, oversize, given-up, refused, unconfirmed); error replies from\n"
    "      the receiver (RESOURCE WRITE, details code, message; once a second per code);\n"
    "      chunks unconfirmed at EOS after drain-timeout; chunks off chunk-duration by\n"
    "      > 20 % (STREAM FORMAT, once, naming the muxer property to set)\n"
    "    Errors: first connection failed without async-connect: RESOURCE NOT_AUTHORIZED\n"
    "      (HTTP 401/403), NOT_FOUND (404), OPEN_WRITE (others); details http-status-code\n"
    "      (guint) and connect-error (string: timeout, http-status, tls-certificate,\n"
    "      tls-not-spoken, tls-expected, tls, network, invalid-uri). Connection lost for\n"
    "      good (max-retries): RESOURCE WRITE. Final refusals (wrong-session,\n"
    "      session-ended, invalid-session-id, unauthorized, session-bound) or refusals for\n"
    "      refusal-timeout: RESOURCE WRITE naming the cause and the fix";

inline constexpr char kControlsKey[] = "controls";
inline constexpr char kControls[] =
    "\n"
    "    Action signals pause, resume, mute, unmute, end-session (reason); properties\n"
    "    paused and muted; or this structure as an application message on the pipeline\n"
    "    bus, or as a custom downstream event (applied between the buffers around it):\n"
    "      wss-audio-chunk-control, action=(string)pause\n"
    "    action: pause, resume, mute, unmute, end-session (or pauseBroadcast,\n"
    "    resumeBroadcast, muteBroadcast, unmuteBroadcast, endSession); optional\n"
    "    reason=(string) for end-session, target=(string)<element name>. An unknown\n"
    "    action is a warning.";

inline constexpr char kStatsKey[] = "stats";
inline constexpr char kStats[] =
    "\n"
    "    The stats property (wss-audio-chunk-sink-stats): session-id (string), state\n"
    "    (string), chunks-queued, chunks-sent (first writes), chunks-replayed (further\n"
    "    writes), chunks-likely-duplicated, chunks-confirmed, chunks-dropped (all reasons),\n"
    "    chunks-dropped-backlog, chunks-dropped-paused, chunks-dropped-oversize,\n"
    "    chunks-given-up, chunks-refused, chunks-unconfirmed, in-flight-window,\n"
    "    held-chunks (kept while paused), controls-sent, reconnects, handovers,\n"
    "    server-errors,\n"
    "    unacked-chunks (written, not confirmed), backlog-chunks (counts, guint64),\n"
    "    acked-index (guint64), peer-acks, acks-promised (gboolean), bytes-sent (frame bytes),\n"
    "    audio-bytes-sent, backlog-bytes (audio bytes), backlog-time (ns of audio),\n"
    "    latency-p50, latency-p95, latency-p99 (gint64 microseconds from a chunk's\n"
    "    completion to its hand-off to the socket, last 1024 chunks), last-error (string)";

} // namespace wssac::sink::manual
