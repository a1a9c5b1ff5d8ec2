/* wssaudiochunksink: listening for control messages on the pipeline's bus.
 *
 * Applications and broadcast toolchains drive the sink by posting an
 * application message on the pipeline bus,
 *   wss-audio-chunk-control, action=(string)pause [, reason=..., target=<name>]
 * which is how a gst-launch-style application reaches an element it never
 * looked up. The listener sees such messages as they are posted (the bus's
 * sync emission), whatever thread posts them and whether or not the
 * application runs a main loop or has a bus watch of its own.
 */
#pragma once

#include <gst/gst.h>

#include <functional>

namespace wssac::sink
{

class PipelineBusListener
{
public:
  using Handler = std::function<void (const GstStructure *)>;

  /* Listens on the bus of @element's top-level bin (none when @element has
   * no bus); @handler gets each application message's structure. */
  PipelineBusListener (GstElement *element, Handler handler);
  ~PipelineBusListener ();
  PipelineBusListener (const PipelineBusListener &) = delete;
  PipelineBusListener &operator= (const PipelineBusListener &) = delete;

  bool
  listening () const
  {
    return bus_ != nullptr;
  }

private:
  static void on_sync_message (GstBus *bus, GstMessage *message, gpointer data);

  Handler handler_;
  GstBus *bus_ = nullptr;
  gulong handler_id_ = 0;
};

} // namespace wssac::sink
