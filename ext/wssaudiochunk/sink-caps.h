/* wssaudiochunksink: what the messages take from the caps. */
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <string>
#include <vector>

namespace wssac::sink
{

/* The messages' format field for caps @s: "ogg-opus" or "webm-opus". */
std::string format_from_caps (const GstStructure *s);
/* The muxer's streamheader buffers, joined (empty when the caps have none):
 * what a new connection's first chunk carries. */
std::vector<uint8_t> stream_header_from_caps (const GstStructure *s);

} // namespace wssac::sink
