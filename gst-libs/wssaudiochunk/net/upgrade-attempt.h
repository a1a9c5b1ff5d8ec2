/* wssaudiochunk: one WebSocket upgrade of the sink's transport under way,
 * from the request to its answer: the request, what cancels it and its
 * connect timeout. The transport holds two: the current connection's
 * (connect, reconnect) and the next one's (make-before-break). */
#pragma once

#include <libsoup/soup.h>

#include "message-codec.h"

#include <cstdint>

namespace wssac
{

/* Named for the upgrade, not ConnectAttempt (connect-errors.h): that one is
 * what a failed attempt showed, for its error message. */
struct UpgradeAttempt
{
  SoupMessage *msg = nullptr; /* the upgrade request, while under way */
  GCancellable *cancellable = nullptr;
  GSource *timer = nullptr; /* the connect timeout */
  bool timed_out = false;   /* the timer cancelled it */

  UpgradeAttempt () = default;
  UpgradeAttempt (const UpgradeAttempt &) = delete;
  UpgradeAttempt &operator= (const UpgradeAttempt &) = delete;
  ~UpgradeAttempt ();

  bool under_way () const { return msg != nullptr; }
  /* Sends @request (owned from here on) on @session; @done (with @data)
   * gets the answer. After @timeout_ms on @context without one, the
   * attempt is cancelled and timed_out set. */
  void start (SoupSession *session, SoupMessage *request, GMainContext *context, int64_t timeout_ms,
              GAsyncReadyCallback done, gpointer data);
  /* In @done: the upgraded connection, or nullptr and @error. The attempt
   * is over: its timer stops, and its request goes to @request (the
   * caller's to unref) for the response status. */
  SoupWebsocketConnection *finish (GObject *session, GAsyncResult *res, GError **error,
                                   SoupMessage **request);
  /* A failure that was a cancel from outside (a teardown, a dropped
   * connection), not the timeout: whoever cancelled decides what follows. */
  bool cancelled (const GError *error) const;
  /* No timeout any more; @done still runs, with G_IO_ERROR_CANCELLED. */
  void cancel ();
  /* Teardown: cancels, lets @done run on @context before the session
   * goes, and releases the cancellable. */
  void abandon (GMainContext *context);

private:
  void time_out ();
};

/* What the receiver promised of its acks in its upgrade response
 * (kAckPromiseHeader); none without a response. */
AckPromise promised_acks (SoupMessage *upgrade);

} // namespace wssac
