/* libFuzzer target: FrameWatch, the frame guard's parser of what a client
 * sends (gst-libs/wssaudiochunk/net/frame-watch.h).
 *
 * Input: one byte of settings (message limit, ping rate, inflate on or
 * off), then the client's bytes. Properties: no crash, leak or sanitizer
 * report, however the bytes are cut; the verdict (0, 1008 or 1009) does not
 * depend on how the stream is split into reads; once broken it stays broken. */
#include "fuzz-util.h"

#include "frame-watch.h"

#include <vector>

using wssac::FrameGuardConfig;
using wssac::FrameWatch;

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  const uint8_t settings = data[0];
  FrameGuardConfig config;
  config.max_message_bytes = (settings & 0x03) == 0 ? 0 : (settings & 0x03) == 1 ? 64 : 128 * 1024;
  config.pings_per_second = (settings & 0x04) ? 0 : 5;
  config.ping_burst = 3;
  config.inflate = (settings & 0x08) != 0;
  /* Bytes 1..: the stream. The cut points come from the bytes themselves
   * (every 1 + settings>>4 bytes), so both feeds see the same stream. */
  const uint8_t *stream = data + 1;
  const size_t n = size - 1;
  const size_t step = 1 + (settings >> 4);

  FrameWatch whole (config);
  unsigned short verdict = whole.feed (stream, n, 0);
  FUZZ_CHECK (verdict == 0 || verdict == 1008 || verdict == 1009, "close code %u", verdict);
  FUZZ_CHECK (whole.violation () == verdict, "violation () disagrees with feed ()");
  if (verdict)
    FUZZ_CHECK (whole.feed (stream, n, 0) == verdict, "a broken stream was forgiven");

  FrameWatch pieces (config);
  unsigned short v = 0;
  for (size_t at = 0; at < n; at += step)
    v = pieces.feed (stream + at, std::min (step, n - at), 0);
  FUZZ_CHECK (v == verdict, "split into %zu-byte reads: %u, in one read: %u", step, v, verdict);
  return 0;
}
