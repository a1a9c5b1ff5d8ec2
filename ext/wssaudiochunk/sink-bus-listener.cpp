#include "sink-bus-listener.h"

namespace wssac::sink
{

PipelineBusListener::PipelineBusListener (GstElement *element, Handler handler)
    : handler_ (std::move (handler))
{
  GstObject *top = GST_OBJECT (gst_object_ref (element));
  GstObject *parent;
  while ((parent = gst_object_get_parent (top)))
    {
      gst_object_unref (top);
      top = parent;
    }
  if (GST_IS_ELEMENT (top))
    bus_ = gst_element_get_bus (GST_ELEMENT (top));
  gst_object_unref (top);
  if (!bus_)
    return;
  gst_bus_enable_sync_message_emission (bus_);
  handler_id_
      = g_signal_connect (bus_, "sync-message::application", G_CALLBACK (on_sync_message), this);
}

PipelineBusListener::~PipelineBusListener ()
{
  if (!bus_)
    return;
  g_signal_handler_disconnect (bus_, handler_id_);
  gst_bus_disable_sync_message_emission (bus_);
  gst_object_unref (bus_);
}

void
PipelineBusListener::on_sync_message (GstBus *bus, GstMessage *message, gpointer data)
{
  auto *self = static_cast<PipelineBusListener *> (data);
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_APPLICATION)
    self->handler_ (gst_message_get_structure (message));
}

} // namespace wssac::sink
