/* wssaudiochunk plugin: registers the elements, nothing else. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwssaudiochunkelements.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ret = FALSE;
  ret |= GST_ELEMENT_REGISTER (wssaudiochunksink, plugin);
  ret |= GST_ELEMENT_REGISTER (wssaudiochunksrc, plugin);
  ret |= GST_ELEMENT_REGISTER (wssaudiochunkbin, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, wssaudiochunk,
                   "Live speech to and from WebSocket backends in WebM/Opus chunks", plugin_init,
                   VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
