/* The sink's audioChunk encoder without json-glib: one pass into one
 * buffer, base64 written in place. Its output is byte for byte what the
 * json-glib encoder writes for the same fields (same member order, same
 * escaping, quirks included), checked by tests/check/core/audio-chunk-codec.cpp.
 */
#pragma once

#include "message-codec.h"

#include <string>

namespace wssac
{

/* Replaces @out with the message (its capacity is reused). */
void write_audio_chunk (const AudioChunkFields &fields, std::string &out);

/* The json-glib encoder (message-codec.cpp): the reference for the tests
 * and the bench. encode_audio_chunk () uses write_audio_chunk (). */
std::string encode_audio_chunk_json_glib (const AudioChunkFields &fields);

} // namespace wssac
