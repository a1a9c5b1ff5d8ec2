/* The receivers' fast path for the one message that matters for speed: the
 * flat audioChunk object, as our sink and the browser speaker app send it.
 *
 * A strict purpose-built scanner, not a JSON parser: it accepts only the
 * plain shape (known members, each once, strings of printable ASCII without
 * escapes, integers without fraction or exponent) and base64-decodes
 * audioData straight into the message's buffer. Anything else, including
 * every refusal, goes to the json-glib decoder, so that decode_message ()
 * answers exactly as the json-glib path does: the same message, or the same
 * error and detail. tests/fuzz/fuzz_audio_chunk_differential.cpp checks that
 * on arbitrary input.
 */
#pragma once

#include "message-codec.h"

#include <cstddef>

namespace wssac
{

/* true: @text is an acceptable audioChunk and @out holds it, exactly as
 * decode_message_json_glib () would decode it. false: not the plain shape
 * (or refused): @out is unspecified, ask decode_message_json_glib (). */
bool decode_audio_chunk_fast (const char *text, size_t length, const DecodeLimits &limits,
                              Message &out);

/* The json-glib decoder of every text message (message-codec.cpp): the
 * reference the fast path must match, and its fallback. decode_message ()
 * tries decode_audio_chunk_fast () first. */
DecodeResult decode_message_json_glib (const char *text, size_t length,
                                       const DecodeLimits &limits = DecodeLimits ());

} // namespace wssac
