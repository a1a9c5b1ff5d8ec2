/* wssaudiochunk receiver: RFC 6455 frames a client sent, read on the server
 * side without any I/O (the ingest server's own WebSocket data path:
 * libsoup 3.2 reads 1 KB per syscall). No extensions are negotiated.
 * Complete frames are unmasked and delivered where they lie in the caller's
 * buffer; only a frame cut by the end of a read and the fragments of an
 * unfinished message are copied. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wssac
{

struct WsReaderConfig
{
  size_t max_message_bytes
      = 128 * 1024;            /* whole message, fragments summed; more: 1009. 0: no limit */
  double pings_per_second = 5; /* token bucket; 0: no limit; more: 1008 */
  double ping_burst = 20;
};

class WsFrameHandler
{
public:
  virtual ~WsFrameHandler () = default;
  /* Each returns true to go on, false to stop: feed () then returns at once
   * and the reader is finished ().
   * A whole message, fragments joined and unmasked; a text message is valid
   * UTF-8. @data is valid during the call only. */
  virtual bool on_message (bool binary, const uint8_t *data, size_t length) = 0;
  virtual bool on_ping (const uint8_t *data, size_t length) = 0;
  virtual bool on_pong (const uint8_t *data, size_t length) = 0;
  /* The peer's close frame (code 1005 when its body was empty). The reader
   * is finished () after it. */
  virtual bool on_close (unsigned short code, const std::string &reason) = 0;
};

class WsFrameReader
{
public:
  explicit WsFrameReader (const WsReaderConfig &config);

  /* Feeds @n bytes the client sent, at @now_us (monotonic µs, for the ping
   * rate). @data is writable: frames are unmasked in place. When no partial
   * frame is held, complete frames are parsed where they lie (no copy) and
   * only an incomplete tail is kept. Returns 0, or the close code the server
   * must send: 1002 protocol error, 1007 invalid UTF-8 (text message or
   * close reason), 1009 message over max_message_bytes (refused from the
   * frame header, before buffering the payload), 1008 ping flood.
   * Once it returned a code it keeps returning it and calls nothing. */
  unsigned short feed (uint8_t *data, size_t n, WsFrameHandler &handler, int64_t now_us);
  unsigned short
  error () const
  {
    return error_;
  }
  /* e.g. "unmasked frame", for the close reason and logs */
  const std::string &
  error_reason () const
  {
    return error_reason_;
  }
  /* after on_close, a handler's false, or an error */
  bool
  finished () const
  {
    return finished_;
  }
  /* bytes held: partial frame + unfinished fragmented message */
  size_t
  buffered () const
  {
    return header_have_ + control_have_ + message_.size ();
  }

private:
  /* A frame's header as read off the wire. */
  struct Frame
  {
    bool fin = false;
    uint8_t opcode = 0;
    uint8_t mask[4] = { 0, 0, 0, 0 };
    uint64_t length = 0;
  };

  /* The header at @h (@avail bytes there): its length, 0 when more bytes
   * are needed, or -1 after refuse (). */
  int parse_header (const uint8_t *h, size_t avail, Frame &frame, int64_t now_us);
  bool check_frame (const Frame &frame, int64_t now_us);
  bool take_ping_token (int64_t now_us);
  /* A frame whose payload (unmasked) is all at @p. */
  bool complete_frame (const Frame &frame, const uint8_t *p, size_t n, WsFrameHandler &handler);
  bool control_frame (uint8_t opcode, const uint8_t *p, size_t n, WsFrameHandler &handler);
  bool deliver (bool binary, const uint8_t *p, size_t n, WsFrameHandler &handler);
  /* Payload bytes of a frame cut by the end of a read. */
  void stream_payload (uint8_t *p, size_t n);
  bool refuse (unsigned short code, std::string reason);
  void finish ();
  void clear_message ();

  WsReaderConfig config_;
  unsigned short error_ = 0;
  std::string error_reason_;
  bool finished_ = false;

  /* A header cut by the end of a read. */
  uint8_t header_[14];
  size_t header_have_ = 0;
  /* A frame whose payload is still coming: its header, bytes left, and
   * where its bytes go (control_ or message_). */
  bool in_payload_ = false;
  Frame frame_;
  uint64_t payload_left_ = 0;
  uint64_t payload_done_ = 0;
  uint8_t control_[125];
  size_t control_have_ = 0;
  /* The message being collected: fragments, or one frame cut by a read. */
  bool fragmented_ = false; /* a non-FIN text/binary frame came, its FIN continuation not yet */
  bool message_binary_ = false;
  std::vector<uint8_t> message_;

  double ping_tokens_ = -1; /* -1: bucket not yet filled */
  int64_t ping_us_ = 0;
};

/* RFC 3629 UTF-8 (U+0000 included, unlike g_utf8_validate ()). */
bool ws_valid_utf8 (const uint8_t *data, size_t length);

/* XORs @n bytes at @p with @mask, starting at byte @phase of the mask. */
void ws_unmask (uint8_t *p, size_t n, const uint8_t mask[4], uint64_t phase);

} // namespace wssac
