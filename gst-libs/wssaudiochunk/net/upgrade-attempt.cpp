/* wssaudiochunk: one WebSocket upgrade under way (upgrade-attempt.h). */
#include "upgrade-attempt.h"

#include <algorithm>

namespace wssac
{

UpgradeAttempt::~UpgradeAttempt ()
{
  stop_timer ();
  g_clear_object (&cancellable);
}

void
UpgradeAttempt::start (SoupSession *session, SoupMessage *request, GMainContext *context,
                       int64_t timeout_ms, GAsyncReadyCallback done, gpointer data)
{
  g_clear_object (&cancellable);
  cancellable = g_cancellable_new ();
  msg = request;
  timed_out = false;
  stop_timer ();
  timer = g_timeout_source_new (static_cast<guint> (std::max<int64_t> (timeout_ms, 0)));
  g_source_set_callback (timer, on_timeout, this, nullptr);
  g_source_attach (timer, context);
  soup_session_websocket_connect_async (session, msg, nullptr, nullptr, G_PRIORITY_DEFAULT,
                                        cancellable, done, data);
}

gboolean
UpgradeAttempt::on_timeout (gpointer data)
{
  auto *self = static_cast<UpgradeAttempt *> (data);
  g_source_unref (self->timer);
  self->timer = nullptr;
  self->timed_out = true;
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  return G_SOURCE_REMOVE;
}

SoupWebsocketConnection *
UpgradeAttempt::finish (GObject *session, GAsyncResult *res, GError **error, SoupMessage **request)
{
  SoupWebsocketConnection *c
      = soup_session_websocket_connect_finish (SOUP_SESSION (session), res, error);
  *request = msg;
  msg = nullptr;
  stop_timer ();
  return c;
}

bool
UpgradeAttempt::cancelled (const GError *error) const
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !timed_out;
}

void
UpgradeAttempt::cancel ()
{
  stop_timer ();
  if (cancellable)
    g_cancellable_cancel (cancellable);
}

void
UpgradeAttempt::abandon (GMainContext *context)
{
  cancel ();
  while (under_way ())
    g_main_context_iteration (context, TRUE);
  g_clear_object (&cancellable);
}

void
UpgradeAttempt::stop_timer ()
{
  if (timer)
    {
      g_source_destroy (timer);
      g_source_unref (timer);
      timer = nullptr;
    }
}

} // namespace wssac
