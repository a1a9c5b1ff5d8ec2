/* The fault suite's stand-in for a gateway that cuts every connection at a
 * fixed age (API Gateway: 2 h, compressed here to seconds) in front of a
 * backend that acks (cumulatively, as our receivers) or never does (the
 * original protocol's backend). A real libsoup WebSocket server on
 * 127.0.0.1 with its own thread. It records every message and, in order,
 * every upgrade and every close (who closed, with which code), so a test
 * can see whether a new connection was upgraded before the old one closed. */
#pragma once

#include "context-thread.h"

#include <glib.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

typedef struct _SoupServer SoupServer;
typedef struct _SoupWebsocketConnection SoupWebsocketConnection;

struct GatewayEvent
{
  enum Kind
  {
    Upgraded,
    Closed,
  } kind;
  unsigned connection = 0; /* 1, 2, ... in upgrade order */
  unsigned code = 0;       /* Closed: the close code the client sent (0: none) */
  bool by_gateway = false; /* Closed: the gateway's age cut, not the client */
};

class GatewayServer
{
public:
  /* @hard_age_ms: every connection is closed with 1001 at this age. */
  GatewayServer (int64_t hard_age_ms, bool acks);
  ~GatewayServer ();

  /* Upgrade attempts @first .. @first + @count - 1 (1-based, in arrival
   * order) are answered 503: a gateway that cannot take a new connection
   * for a while. */
  void
  refuse_upgrades (unsigned first, unsigned count)
  {
    refuse_first_ = first;
    refuse_count_ = count;
  }
  /* Each upgrade resets (TCP RST) the connections that were open before it:
   * a gateway that kills the old connection the moment a new one arrives. */
  void
  reset_older_on_upgrade (bool on)
  {
    reset_older_ = on;
  }

  void start ();
  void stop ();
  std::string url () const;
  bool
  acks () const
  {
    return acks_;
  }

  std::vector<std::string> messages () const;
  std::vector<GatewayEvent> events () const;
  /* Waits until every connection closed. */
  bool wait_for_closed (int64_t timeout_ms) const;

  /* Connections that were upgraded while an older one was still open and
   * whose older one then closed with a code the client sent: the
   * make-before-break handovers, as the server saw them. Returns the codes
   * those older connections were closed with, in order. */
  std::vector<unsigned> overlapping_closes () const;
  unsigned cuts () const; /* connections the gateway's age cut closed */
  unsigned refused () const;

private:
  /* The server thread's callbacks, in the order they run for a connection:
   * the upgrade request (may refuse it), the upgrade, its messages, its age
   * limit, its close. */
  static void on_early (SoupServer *, void *msg, const char *path, GHashTable *, gpointer data);
  static void on_websocket (SoupServer *, void *msg, const char *path,
                            SoupWebsocketConnection *conn, gpointer data);
  static void on_message (SoupWebsocketConnection *, gint type, GBytes *msg, gpointer data);
  static gboolean on_age (gpointer data);
  static void on_closed (SoupWebsocketConnection *, gpointer data);

  void close_connections ();

  struct Conn;

  int64_t hard_age_ms_;
  bool acks_;
  std::unique_ptr<wssac::ContextThread> thread_;
  SoupServer *server_ = nullptr;
  unsigned port_ = 0;
  std::vector<std::unique_ptr<Conn>> open_; /* server thread only */
  unsigned next_id_ = 0;
  std::set<uint64_t> received_; /* chunk indices, for cumulative acks */
  unsigned refuse_first_ = 0, refuse_count_ = 0, attempts_ = 0;
  bool reset_older_ = false;

  mutable std::mutex lock_;
  mutable std::condition_variable cond_;
  std::vector<std::string> messages_;
  std::vector<GatewayEvent> events_;
  unsigned refused_ = 0;
};
