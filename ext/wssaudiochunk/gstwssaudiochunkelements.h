/* wssaudiochunk plugin: the elements it registers. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

GST_ELEMENT_REGISTER_DECLARE (wssaudiochunksink);
GST_ELEMENT_REGISTER_DECLARE (wssaudiochunksrc);

G_END_DECLS
