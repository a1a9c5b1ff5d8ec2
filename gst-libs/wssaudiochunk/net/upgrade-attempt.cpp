/* wssaudiochunk: one WebSocket upgrade under way (upgrade-attempt.h). */
#include "upgrade-attempt.h"

#include "sources.h"

namespace wssac
{

UpgradeAttempt::~UpgradeAttempt ()
{
  destroy_source (&timer);
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
  destroy_source (&timer);
  timer = attach_timeout (
      context, timeout_ms,
      fire_once<UpgradeAttempt, &UpgradeAttempt::timer, &UpgradeAttempt::time_out>, this);
  soup_session_websocket_connect_async (session, msg, nullptr, nullptr, G_PRIORITY_DEFAULT,
                                        cancellable, done, data);
}

void
UpgradeAttempt::time_out ()
{
  timed_out = true;
  if (cancellable)
    g_cancellable_cancel (cancellable);
}

SoupWebsocketConnection *
UpgradeAttempt::finish (GObject *session, GAsyncResult *res, GError **error, SoupMessage **request)
{
  SoupWebsocketConnection *c
      = soup_session_websocket_connect_finish (SOUP_SESSION (session), res, error);
  *request = msg;
  msg = nullptr;
  destroy_source (&timer);
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
  destroy_source (&timer);
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

AckPromise
promised_acks (SoupMessage *upgrade)
{
  if (!upgrade)
    return AckPromise ();
  return parse_ack_promise (
      soup_message_headers_get_one (soup_message_get_response_headers (upgrade), kAckPromiseHeader));
}

} // namespace wssac
