/* Test helper: a real libsoup WebSocket server on 127.0.0.1, port 0, in a
 * thread with its own main context (gst_harness and the bus polling in the
 * tests run no main loop). Records every text message, and can misbehave on
 * request: refuse the upgrade, close with a code, drop the TCP connection. */
#pragma once

#include "context-thread.h"

#include <glib-object.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <memory>
#include <vector>

typedef struct _SoupServer SoupServer;
typedef struct _SoupWebsocketConnection SoupWebsocketConnection;

/* Makes @server listen on 127.0.0.1 at a free port and returns the port;
 * g_error naming @who if it cannot. Call on the server's context. */
unsigned listen_on_loopback (SoupServer *server, const char *who);

/* The test servers' libsoup server on a thread of its own: starts @thread
 * (named @thread_name), then on it creates @server, runs @add_handlers (the
 * handlers that come before the WebSocket one), adds @on_websocket (a
 * SoupServerWebsocketCallback, called with @data) at @path and listens as
 * listen_on_loopback (@who). Returns the port; g_error when it cannot. */
unsigned start_soup_server (std::unique_ptr<wssac::ContextThread> &thread, SoupServer *&server,
                            const char *thread_name, const char *who, const char *path,
                            GCallback on_websocket, void *data,
                            const std::function<void ()> &add_handlers);
/* Undoes start_soup_server: on the thread, @close_connections and then the
 * server; then the thread. Nothing when it is not running. */
void stop_soup_server (std::unique_ptr<wssac::ContextThread> &thread, SoupServer *&server,
                       const std::function<void ()> &close_connections);

class WsTestServer
{
public:
  WsTestServer ();
  ~WsTestServer ();

  /* Listens on 127.0.0.1 at a free port; WebSocket on @path, plain 404 on
   * every other path (a refused upgrade). */
  void start (const std::string &path = "/ws");
  void stop ();

  unsigned
  port () const
  {
    return port_;
  }
  std::string url (const std::string &path = "/ws") const;

  std::vector<std::string> messages () const;
  size_t message_count () const;
  unsigned connections () const;
  /* Waits until @n messages arrived or @timeout_ms passed. */
  bool wait_for_messages (size_t n, int64_t timeout_ms) const;
  /* Waits until every connection closed. */
  bool wait_for_closed (int64_t timeout_ms) const;
  /* The URI (path and query) of every upgrade request, in order. */
  std::vector<std::string> request_uris () const;
  /* Close codes the clients sent, in order. */
  std::vector<unsigned> close_codes () const;

  /* Runs @fn on the server thread and waits for it. */
  void run_on_server (std::function<void ()> fn);
  /* Misbehaviour, applied to every open connection. */
  void close_all (unsigned short code, const char *reason = nullptr);
  void abort_all (); /* TCP close without a close frame */
  /* Sends @text to every open connection. */
  void send_all (const std::string &text);

  /* A server that crashes: after the @n-th message of a connection is
   * recorded, that connection is reset (TCP RST, no close frame; what sits
   * in its receive buffer is lost) and @on_abort runs on the server thread
   * (e.g. to refuse upgrades for a while). 0: never. */
  void set_abort_every (unsigned n, std::function<void ()> on_abort = nullptr);
  /* A slow reader: the server sleeps this long after every message. */
  void
  set_read_delay_us (unsigned us)
  {
    read_delay_us_ = us;
  }
  unsigned aborts () const;

private:
  static void on_websocket (SoupServer *, void *msg, const char *path,
                            SoupWebsocketConnection *conn, gpointer data);
  static void on_message (SoupWebsocketConnection *, gint type, GBytes *msg, gpointer data);
  static void on_closed (SoupWebsocketConnection *, gpointer data);

  std::unique_ptr<wssac::ContextThread> thread_;
  SoupServer *server_ = nullptr;
  unsigned port_ = 0;
  std::vector<SoupWebsocketConnection *> open_;

  mutable std::mutex lock_;
  mutable std::condition_variable cond_;
  std::vector<std::string> messages_;
  std::vector<unsigned> close_codes_;
  std::vector<std::string> request_uris_;
  unsigned connections_ = 0;
  unsigned open_count_ = 0;
  unsigned abort_every_ = 0;
  unsigned aborts_ = 0;
  std::function<void ()> on_abort_;
  std::vector<std::pair<SoupWebsocketConnection *, unsigned>> per_conn_;
  std::atomic<unsigned> read_delay_us_{ 0 };
};
