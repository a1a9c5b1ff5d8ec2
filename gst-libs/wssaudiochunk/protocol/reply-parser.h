/* The sink's fast path for what the receiver says back: the flat ack and
 * error objects (encode_ack (), encode_error ()), one every few chunks.
 *
 * A strict purpose-built scanner over json-scan.h, like the receivers'
 * audioChunk fast path (audio-chunk-parser.h): it accepts only flat objects
 * of the reply's members (each once, strings with the escapes JSON knows,
 * integer chunkIndex without fraction or exponent) and leaves everything
 * else to json-glib, so that decode_reply () answers exactly as the
 * json-glib path does. tests/fuzz/fuzz_audio_chunk_differential.cpp checks
 * that on arbitrary input.
 */
#pragma once

#include "message-codec.h"

#include <cstddef>
#include <string>

namespace wssac
{

/* true: @out is what decode_reply_json_glib () answers for @text. false:
 * not the plain shape: @out is unspecified, ask decode_reply_json_glib (). */
bool decode_reply_fast (const char *text, size_t length, Reply &out);

/* The json-glib decoder of replies (message-codec.cpp): the reference the
 * fast path must match, and its fallback. decode_reply () tries
 * decode_reply_fast () first. */
Reply decode_reply_json_glib (const char *text, size_t length);

/* The first field in which @a and @b differ, with both values ("kind ack
 * vs other"), or "" when they are the same: what the differential tests
 * print. */
std::string reply_difference (const Reply &a, const Reply &b);

} // namespace wssac
