/* wssaudiochunk plugin: the elements it registers. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

GST_ELEMENT_REGISTER_DECLARE (wssaudiochunksink);
GST_ELEMENT_REGISTER_DECLARE (wssaudiochunksrc);
GST_ELEMENT_REGISTER_DECLARE (wssaudiochunkbin);

G_END_DECLS
