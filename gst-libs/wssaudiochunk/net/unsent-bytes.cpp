#include "unsent-bytes.h"

#ifdef __linux__
#include <linux/sockios.h>
#include <sys/ioctl.h>
#endif

namespace wssac
{

int64_t
unsent_bytes (SoupWebsocketConnection *conn)
{
#ifdef __linux__
  GIOStream *stream = soup_websocket_connection_get_io_stream (conn);
  for (int depth = 0; stream && depth < 4; depth++)
    {
      if (G_IS_SOCKET_CONNECTION (stream))
        {
          GSocket *sock = g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream));
          int value = 0;
          if (ioctl (g_socket_get_fd (sock), SIOCOUTQ, &value) == 0)
            return value;
          return -1;
        }
      GObjectClass *klass = G_OBJECT_GET_CLASS (stream);
      const char *prop = g_object_class_find_property (klass, "base-iostream")    ? "base-iostream"
                         : g_object_class_find_property (klass, "base-io-stream") ? "base-io-stream"
                                                                                  : nullptr;
      if (!prop)
        return -1;
      GIOStream *base = nullptr;
      g_object_get (stream, prop, &base, NULL);
      if (base)
        g_object_unref (base); /* still owned by the wrapper */
      stream = base;
    }
#endif
  return -1;
}

} // namespace wssac
