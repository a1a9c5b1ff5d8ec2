/* wssaudiochunk plugin: registers the elements, nothing else. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwssaudiochunkelements.h"

/**
 * plugin-wssaudiochunk:
 *
 * Live speech to and from WebSocket backends, in the original protocol of a
 * browser speaker app: JSON `audioChunk` messages carrying WebM/Opus (or
 * Ogg/Opus) chunks of about 250 ms, and the controls pauseBroadcast,
 * resumeBroadcast, muteBroadcast, unmuteBroadcast and endSession.
 * wssaudiochunksink streams a muxed stream to a ws:// or wss:// server
 * (reconnecting, with a bounded backlog and replay); wssaudiochunksrc is a
 * WebSocket server that receives such sessions and outputs the stream.
 * Network I/O uses libsoup 3 on threads of the elements' own.
 *
 * Since: 0.1
 */

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ret = FALSE;
  ret |= GST_ELEMENT_REGISTER (wssaudiochunksink, plugin);
  ret |= GST_ELEMENT_REGISTER (wssaudiochunksrc, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, wssaudiochunk,
                   "Live speech to and from WebSocket backends in WebM/Opus chunks", plugin_init,
                   VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
