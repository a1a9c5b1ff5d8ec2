/* What the message-codec targets share: a decoded audioChunk as the fields
 * the writers take, to send it again and compare. */
#pragma once

#include "message-codec.h"

namespace fuzz
{

/* @m's fields; the byte fields point into @m, which must outlive them. */
inline wssac::AudioChunkFields
fields_of (const wssac::Message &m)
{
  wssac::AudioChunkFields f;
  f.session_id = m.session_id;
  f.timestamp_ms = m.timestamp_ms;
  f.format = m.format;
  f.chunk_index = m.chunk_index;
  f.capture_timestamp_ms = m.capture_timestamp_ms;
  f.stream_id = m.stream_id;
  f.audio = m.audio.data ();
  f.audio_size = m.audio.size ();
  f.stream_header = m.stream_header.data ();
  f.stream_header_size = m.stream_header.size ();
  return f;
}

} // namespace fuzz
