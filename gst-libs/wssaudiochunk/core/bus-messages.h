/* The names of the element messages and structures the elements post and
 * obey: one place, so the elements, the tools and the tests cannot drift. Each
 * is documented in the element's gst-inspect text and in docs/. */
#pragma once

namespace wssac::bus {

/* Both elements */
inline constexpr char kControl[] = "wss-audio-chunk-control";
inline constexpr char kSession[] = "wss-audio-chunk-session";
/* wssaudiochunksink */
inline constexpr char kSent[] = "wss-audio-chunk-sent";
inline constexpr char kTransmitting[] = "wss-audio-chunk-transmitting";
inline constexpr char kStreamStart[] = "wss-audio-chunk-stream-start";
inline constexpr char kStreamStop[] = "wss-audio-chunk-stream-stop";
inline constexpr char kConnection[] = "wss-audio-chunk-connection";
inline constexpr char kDropped[] = "wss-audio-chunk-dropped";
inline constexpr char kSinkStats[] = "wss-audio-chunk-sink-stats";
/* wssaudiochunksrc */
inline constexpr char kGap[] = "wss-audio-chunk-gap";
inline constexpr char kListening[] = "wss-audio-chunk-listening";
inline constexpr char kSrcStats[] = "wss-audio-chunk-src-stats";

}  // namespace wssac::bus
