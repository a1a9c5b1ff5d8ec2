/* wssaudiochunk: the transports' debug categories, registered on first use
 * (a library has no plugin_init to do it), once however many objects start
 * on however many threads. */
#pragma once

#include <gst/gst.h>

#include <mutex>

namespace wssac
{

inline void
init_debug_category (GstDebugCategory *&category, const char *name, const char *description)
{
  static std::mutex lock;
  std::lock_guard<std::mutex> g (lock);
  if (!category)
    GST_DEBUG_CATEGORY_INIT (category, name, 0, description);
}

} // namespace wssac
