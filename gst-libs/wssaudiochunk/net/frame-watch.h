/* wssaudiochunk receiver: the client's byte stream as the frame guard
 * (frame-guard.h) reads it, without any I/O: the HTTP request passes, then
 * WebSocket frame headers are parsed as the bytes go by; the fragments of a
 * message are added up (inflated, with permessage-deflate), pings counted.
 * Plain C++ (zlib only), so that it can be fuzzed on its own. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace wssac
{

struct FrameGuardConfig
{
  uint64_t max_message_bytes = 128 * 1024; /* 0: no limit */
  double pings_per_second = 5;             /* 0: no limit */
  double ping_burst = 20;
  /* The server offers permessage-deflate: compressed messages are inflated
   * on the side (output discarded) to bound their inflated size too. */
  bool inflate = false;
};

class FrameWatch
{
public:
  explicit FrameWatch (const FrameGuardConfig &config);
  ~FrameWatch ();
  FrameWatch (const FrameWatch &) = delete;
  FrameWatch &operator= (const FrameWatch &) = delete;

  /* Feeds bytes the client sent (at @now_us, monotonic, for the ping rate).
   * Returns 0, or the close code once a limit is broken (1009: message too
   * big, 1008: ping flood); it stays broken. */
  unsigned short feed (const uint8_t *data, size_t n, int64_t now_us);
  unsigned short violation () const;

  struct State;

private:
  std::unique_ptr<State> s_;
};

} // namespace wssac
