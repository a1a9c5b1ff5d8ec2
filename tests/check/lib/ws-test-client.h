/* Test helper: a libsoup WebSocket client on a thread of its own, for tests
 * that must send exactly what they choose (reordered, duplicated, broken). */
#pragma once

#include "context-thread.h"

#include <glib.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

typedef struct _SoupSession SoupSession;
typedef struct _SoupWebsocketConnection SoupWebsocketConnection;

class WsTestClient
{
public:
  WsTestClient ();
  ~WsTestClient ();

  /* Connects and waits (up to 10 s); false with @error on failure. A
   * wss:// server's certificate is accepted whatever it is. */
  bool connect (const std::string &url, std::string &error,
                const std::vector<std::pair<std::string, std::string>> &headers = {});
  /* The HTTP status of a refused upgrade (0 if it was not refused). */
  unsigned refused_status () const { return refused_status_; }
  void send_text (const std::string &text);
  void send_binary (const std::vector<uint8_t> &data);
  void close (unsigned short code = 1000);

  std::vector<std::string> replies () const;
  bool wait_for_replies (size_t n, int64_t timeout_ms) const;
  bool wait_closed (int64_t timeout_ms) const;
  unsigned close_code () const; /* the code the server closed with */

private:
  void run (const std::function<void ()> &fn) { thread_.invoke (fn); }

  wssac::ContextThread thread_;
  SoupSession *session_ = nullptr;
  SoupWebsocketConnection *conn_ = nullptr;

  mutable std::mutex lock_;
  mutable std::condition_variable cond_;
  std::vector<std::string> replies_;
  bool connected_ = false;
  bool connect_done_ = false;
  bool closed_ = false;
  unsigned close_code_ = 0;
  std::string error_;
  unsigned refused_status_ = 0;
};
