/* wssaudiochunk: the GSources the transports keep in a member and clear
 * when they fire or stop (timeouts, retries, resumes): one way to make,
 * fire and destroy them. */
#pragma once

#include <glib.h>

#include <algorithm>
#include <cstdint>

namespace wssac
{

/* Calls @func (@data) after @delay_ms (negative: at once) on @context.
 * The returned reference is the caller's. */
inline GSource *
attach_timeout (GMainContext *context, int64_t delay_ms, GSourceFunc func, gpointer data)
{
  GSource *s = g_timeout_source_new (static_cast<guint> (std::max<int64_t> (delay_ms, 0)));
  g_source_set_callback (s, func, data, nullptr);
  g_source_attach (s, context);
  return s;
}

/* Destroys *@source, if any, and forgets it. */
inline void
destroy_source (GSource **source)
{
  if (*source)
    {
      g_source_destroy (*source);
      g_source_unref (*source);
      *source = nullptr;
    }
}

/* The callback of a one-shot source that a @T keeps in @Slot (data: the
 * @T): forgets the source, which is being removed, then calls @Fire. */
template <typename T, GSource *T::*Slot, void (T::*Fire) ()>
gboolean
fire_once (gpointer data)
{
  auto *self = static_cast<T *> (data);
  g_source_unref (self->*Slot);
  self->*Slot = nullptr;
  (self->*Fire) ();
  return G_SOURCE_REMOVE;
}

} // namespace wssac
