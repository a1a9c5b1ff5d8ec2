/* wssaudiochunk-ingest: decodes one run of a session's WebM/Opus (or
 * Ogg/Opus) byte stream to 16 kHz mono S16LE, on the caller's thread.
 *
 *   [our pad] ! matroskademux|oggdemux ! opusdec ! audioconvert
 *     ! audioresample ! audio/x-raw,format=S16LE,rate=16000,channels=1 ! appsink
 *
 * No element here starts a thread (the demuxers run in push mode, appsink
 * does not sync), and the bin's bus has no file descriptor: a session costs
 * no thread and no descriptor for decoding. push() returns once the bytes
 * went as far as they can, with the PCM already handed to the callback. */
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace wssac_ingest
{

class SessionDecoder
{
public:
  using PcmHandler = std::function<void (const uint8_t *data, size_t size)>;

  SessionDecoder () = default;
  ~SessionDecoder ();
  SessionDecoder (const SessionDecoder &) = delete;
  SessionDecoder &operator= (const SessionDecoder &) = delete;

  /* false (with @error) for a format other than "webm-opus"/"ogg-opus" or a
   * missing plugin. */
  bool start (const std::string &format, PcmHandler on_pcm, std::string &error);
  /* In-order bytes; false once the decoder failed (error () says why). */
  bool push (const uint8_t *data, size_t size, bool discont);
  /* End of the run: drains what the decoder holds into the callback.
   * error () stays readable afterwards. */
  void finish ();
  const std::string &
  error () const
  {
    return error_;
  }
  bool
  running () const
  {
    return bin_ != nullptr;
  }

private:
  static GstBusSyncReply on_bus (GstBus *bus, GstMessage *msg, gpointer data);
  static GstFlowReturn on_sample (GstElement *sink, gpointer data);
  void stop ();

  GstElement *bin_ = nullptr;
  GstPad *src_ = nullptr;
  GstBus *bus_ = nullptr;
  PcmHandler on_pcm_;
  std::string error_;
  bool failed_ = false;
};

} // namespace wssac_ingest
