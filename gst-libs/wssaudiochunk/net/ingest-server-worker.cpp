#include "ingest-server-worker.h"
#include "debug-category.h"
#include "soup-server-connection.h"
#include "sources.h"
#include "ws-server-connection.h"

#include <gst/gst.h>

#include <cstring>

GST_DEBUG_CATEGORY_STATIC (wss_worker_debug);
#define GST_CAT_DEFAULT wss_worker_debug

namespace wssac
{

namespace
{
int64_t
now_ms ()
{
  return g_get_monotonic_time () / 1000;
}

std::string
client_address (SoupServerMessage *msg, bool with_port)
{
  return address_of (soup_server_message_get_remote_address (msg), with_port);
}

/* Equal length and content, in time that depends only on the lengths. */
bool
same_secret (const std::string &a, const std::string &b)
{
  unsigned char diff = a.size () != b.size ();
  for (size_t i = 0; i < a.size (); i++)
    diff |= static_cast<unsigned char> (a[i] ^ (i < b.size () ? b[i] : 0));
  return diff == 0;
}

/* The value of @name in the request URI's query, empty if absent. */
std::string
query_param (SoupServerMessage *msg, const char *name)
{
  std::string value;
  if (const char *query = g_uri_get_query (soup_server_message_get_uri (msg)))
    if (GHashTable *params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, nullptr))
      {
        if (const char *v = static_cast<const char *> (g_hash_table_lookup (params, name)))
          value = v;
        g_hash_table_unref (params);
      }
  return value;
}

/* The session the upgrade request names, as the sink puts it there
 * (session-uri.h): ?sessionId=<id>, else <path>/<id>. Only a hint for
 * where to serve the connection: its messages decide. */
std::string
session_in_request (SoupServerMessage *msg, const std::string &path)
{
  std::string id = query_param (msg, "sessionId");
  const char *p = g_uri_get_path (soup_server_message_get_uri (msg));
  if (id.empty () && p && g_str_has_prefix (p, path.c_str ()))
    {
      const char *rest = p + path.size ();
      while (*rest == '/')
        rest++;
      if (*rest && !strchr (rest, '/'))
        if (char *decoded = g_uri_unescape_string (rest, nullptr))
          {
            id = decoded;
            g_free (decoded);
          }
    }
  return id;
}

/* A per-address slot taken when a request's headers passed; it becomes the
 * connection's at the upgrade, and is given back if there is none. */
struct AddressSlot
{
  std::shared_ptr<WorkerShared> shared;
  std::string address;
};
void
release_slot (gpointer p)
{
  auto *slot = static_cast<AddressSlot *> (p);
  slot->shared->open.remove (slot->address);
  delete slot;
}
constexpr char kSlotKey[] = "wssac-address-slot";
} // namespace

IngestWorker::IngestWorker (unsigned index, std::shared_ptr<WorkerShared> shared,
                            WorkerEvents &events)
    : index_ (index), shared_ref_ (std::move (shared)), shared_ (*shared_ref_), events_ (events)
{
  init_debug_category (wss_worker_debug, "wssaudiochunkingest", "wssaudiochunk WebSocket receiver");
}

IngestWorker::~IngestWorker ()
{
  outbox_.detach ();
  arrivals_.detach ();
  destroy_source (&retire_source_);
}

/* The index of the presented token, -1 if none matches. */
int
IngestWorker::token_index (SoupServerMessage *msg) const
{
  const auto &tokens = shared_.config.auth_tokens;
  std::string presented;
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                   "Authorization");
  if (auth && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0)
    presented = auth + 7;
  else
    presented = query_param (msg, "token");
  int found = -1;
  for (size_t i = 0; i < tokens.size (); i++)
    if (same_secret (presented, tokens[i]) && found < 0) /* every token is compared */
      found = static_cast<int> (i);
  return presented.empty () ? -1 : found;
}

/* Runs when the request's headers are in, before the upgrade: refusals
 * here cost no WebSocket and no session. */
void
IngestWorker::on_early (SoupServer *, SoupServerMessage *msg, const char *, GHashTable *,
                        gpointer data)
{
  auto *self = static_cast<IngestWorker *> (data);
  const IngestServerConfig &config = self->shared_.config;
  const int token = config.auth_tokens.empty () ? -1 : self->token_index (msg);
  if (token >= 0)
    /* Who the connection is, for binding sessions: a name, not the secret. */
    g_object_set_data_full (G_OBJECT (msg), "wssac-principal",
                            g_strdup_printf ("token-%d", token + 1), g_free);
  if (!config.auth_tokens.empty () && token < 0)
    {
      self->shared_.auth_refused++;
      GST_INFO ("upgrade refused: missing or wrong token");
      soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, nullptr);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "WWW-Authenticate", "Bearer");
      return;
    }
  if (!config.allowed_origins.empty ())
    {
      const char *origin
          = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Origin");
      bool allowed = origin == nullptr;
      for (const auto &o : config.allowed_origins)
        allowed |= origin && o == origin;
      if (!allowed)
        {
          self->shared_.origin_refused++;
          GST_INFO ("upgrade refused: origin %s not allowed", origin);
          soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, nullptr);
          return;
        }
    }
  if (config.max_connections_per_address > 0)
    {
      const std::string address = client_address (msg, false);
      bool by_address;
      if (!self->shared_.open.try_add (address, config.max_connections_per_address, 0, by_address))
        {
          self->shared_.address_refused++;
          soup_server_message_set_status (msg, 429, "Too Many Connections");
          return;
        }
      g_object_set_data_full (G_OBJECT (msg), kSlotKey,
                              new AddressSlot{ self->shared_ref_, address }, release_slot);
    }
  if (!self->shared_.ack_promise.empty ())
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), kAckPromiseHeader,
                                  self->shared_.ack_promise.c_str ());
}

gboolean
IngestWorker::on_watchdog (gpointer data)
{
  auto *self = static_cast<IngestWorker *> (data);
  const IngestServerConfig &config = self->shared_.config;
  int64_t now = now_ms ();
  int64_t limit = static_cast<int64_t> (config.peer_timeout_s) * 1000;
  int64_t first = static_cast<int64_t> (config.first_message_timeout_s) * 1000;
  std::vector<ServerConnection *> dead, mute;
  for (auto &kv : self->conns_)
    {
      ServerConnection &c = *kv.second;
      if (limit > 0 && now - c.last_rx_ms > limit)
        dead.push_back (&c);
      else if (first > 0 && !c.spoke && now - c.connected_ms > first && c.is_open ())
        mute.push_back (&c);
      else
        c.tick (now);
    }
  for (auto *c : dead)
    {
      GST_INFO ("closing a connection silent for over %u s", config.peer_timeout_s);
      self->shared_.closed_silent++;
      c->drop ();
    }
  for (auto *c : mute)
    {
      self->shared_.closed_no_message++;
      c->close (1008, "no message");
    }
  return G_SOURCE_CONTINUE;
}

void
IngestWorker::upgraded (SoupServerMessage *msg, std::string &peer, std::string &principal,
                        std::function<void ()> &release)
{
  gate_.upgraded (soup_server_message_get_remote_address (msg));
  if (auto *slot = static_cast<AddressSlot *> (g_object_steal_data (G_OBJECT (msg), kSlotKey)))
    {
      /* The connection's now: given back when it is destroyed. */
      release = [shared = slot->shared, address = slot->address] () { shared->open.remove (address); };
      delete slot;
    }
  peer = client_address (msg, true);
  const char *p = static_cast<const char *> (g_object_get_data (G_OBJECT (msg), "wssac-principal"));
  principal = p ? p : "";
}

void
IngestWorker::adopt (std::unique_ptr<ServerConnection> conn, const std::string &peer,
                     const std::string &principal)
{
  connections_++;
  const ConnectionId id = conn->id;
  conns_[id] = std::move (conn);
  GST_DEBUG ("connection %" G_GUINT64_FORMAT " from %s on worker %u", (guint64)id, peer.c_str (),
             index_);
  events_.connected (index_, id, peer, principal);
}

void
IngestWorker::on_websocket (SoupServer *, SoupServerMessage *msg, const char *,
                            SoupWebsocketConnection *conn, gpointer data)
{
  auto *self = static_cast<IngestWorker *> (data);
  const IngestServerConfig &config = self->shared_.config;
  std::string peer, principal;
  std::function<void ()> release;
  self->upgraded (msg, peer, principal, release);
  auto c = std::make_unique<SoupServerConnection> (self->as_owner (), self->shared_.next_id++,
                                                   now_ms (), conn, config.keepalive_interval_s,
                                                   4 * config.max_message_size);
  c->release = std::move (release);
  self->adopt (std::move (c), peer, principal);
}

void
IngestWorker::on_request (SoupServer *, SoupServerMessage *msg, const char *, GHashTable *,
                          gpointer data)
{
  /* No extensions offered; a bad handshake gets its 400 from libsoup. */
  if (soup_websocket_server_process_handshake (msg, nullptr, nullptr, nullptr, nullptr))
    g_signal_connect (msg, "wrote-informational", G_CALLBACK (on_upgrade_written), data);
}


void
IngestWorker::on_upgrade_written (SoupServerMessage *msg, gpointer data)
{
  auto *self = static_cast<IngestWorker *> (data);
  g_signal_handlers_disconnect_by_func (msg, (gpointer)on_upgrade_written, data);
  g_object_ref (msg);
  GIOStream *stream = soup_server_message_steal_connection (msg);
  std::string peer, principal;
  std::function<void ()> release;
  self->upgraded (msg, peer, principal, release);
  const unsigned to = self->events_.worker_for_session (
      self->index_, session_in_request (msg, self->shared_.config.path));
  g_object_unref (msg);
  if (to == self->index_)
    {
      self->serve (stream, peer, principal, std::move (release), false);
      return;
    }
  /* Its session lives on worker @to: read it there, so that none of its
   * messages crosses threads. */
  GIOStream *guard = nullptr;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (stream), "base-iostream"))
    g_object_get (stream, "base-iostream", &guard, nullptr);
  if (guard)
    {
      frame_guard_release_socket (guard);
      g_object_unref (guard);
    }
  ConnectionHandover h;
  h.stream = stream;
  h.peer = std::move (peer);
  h.principal = std::move (principal);
  h.release = std::move (release);
  self->events_.hand_over (to, std::move (h));
}

void
IngestWorker::serve (GIOStream *stream, const std::string &peer, const std::string &principal,
                     std::function<void ()> release, bool steered)
{
  const IngestServerConfig &config = shared_.config;
  /* libsoup's stream wraps the gate's (frame-guard.h), which knows the
   * socket when it is plain TCP in the worker's epoll set. */
  WatchedSocket socket;
  GIOStream *guard = nullptr;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (stream), "base-iostream"))
    g_object_get (stream, "base-iostream", &guard, nullptr);
  if (guard)
    {
      if (steered)
        frame_guard_watch_socket (guard, gate_.readiness (), socket);
      else
        frame_guard_watched_socket (guard, socket);
      g_object_unref (guard);
    }
  WsServerConnectionConfig cc;
  cc.reader.max_message_bytes = config.max_message_size;
  cc.reader.pings_per_second = config.max_pings_per_second;
  cc.keepalive_interval_s = config.keepalive_interval_s;
  auto conn = std::make_unique<WsServerConnection> (as_owner (), shared_.next_id++, now_ms (), cc,
                                                    context_, stream, std::move (socket));
  conn->release = std::move (release);
  if (steered)
    steered_in_++;
  WsServerConnection *started = conn.get ();
  adopt (std::move (conn), peer, principal);
  started->start ();
}

void
IngestWorker::post_adopt (ConnectionHandover &&h)
{
  arrivals_.post (std::move (h));
}

void
IngestWorker::connection_message (ServerConnection &c, bool binary, const char *data, size_t size)
{
  events_.message (index_, c.id, IngestCore::decode (shared_.core_config, binary, data, size));
}

void
IngestWorker::connection_closed (ServerConnection &c)
{
  const ConnectionId id = c.id;
  GST_DEBUG ("connection %" G_GUINT64_FORMAT " closed (%u)", (guint64)id, c.close_code ());
  auto it = conns_.find (id);
  if (it != conns_.end ())
    {
      retired_.push_back (std::move (it->second));
      conns_.erase (it);
      if (!retire_source_)
        retire_source_ = attach_timeout (
            context_, 0,
            fire_once<IngestWorker, &IngestWorker::retire_source_, &IngestWorker::destroy_retired>,
            this);
    }
  events_.closed (index_, id);
}

void
IngestWorker::destroy_retired ()
{
  retired_.clear ();
}

bool
IngestWorker::start (GMainContext *context, GSocket *listener, GTlsCertificate *tls,
                     std::string &error)
{
  const IngestServerConfig &config = shared_.config;
  context_ = g_main_context_ref (context);
  server_ = soup_server_new ("server-header", "wssaudiochunk-ingest", NULL);
  if (!config.permessage_deflate)
    soup_server_remove_websocket_extension (server_, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  soup_server_add_early_handler (server_, config.path.c_str (), on_early, this, nullptr);
  if (config.permessage_deflate)
    soup_server_add_websocket_handler (server_, config.path.c_str (), nullptr, nullptr,
                                       (SoupServerWebsocketCallback)on_websocket, this, nullptr);
  else
    soup_server_add_handler (server_, config.path.c_str (), on_request, this, nullptr);
  GateConfig gc;
  gc.header_timeout_ms = config.header_timeout_ms;
  gc.max_pending_total = config.max_pending_total;
  gc.max_pending_per_address = config.max_pending_per_address;
  gc.fd_reserve = config.fd_reserve;
  gc.tls_certificate = tls;
  /* The whole message, fragments added up (libsoup bounds each frame only). */
  gc.frames.max_message_bytes = config.max_message_size;
  gc.frames.pings_per_second = config.max_pings_per_second;
  gc.frames.inflate = config.permessage_deflate;
  if (!gate_.start (context_, server_, listener, gc, error, shared_.pending))
    {
      g_clear_object (&server_);
      g_main_context_unref (context_);
      context_ = nullptr;
      return false;
    }
  arrivals_.attach (context_, [this] (std::vector<ConnectionHandover> &batch) {
    for (auto &h : batch)
      {
        GIOStream *stream = h.stream;
        h.stream = nullptr;
        serve (stream, h.peer, h.principal, std::move (h.release), true);
        h.release = nullptr;
      }
  });
  outbox_.attach (context_, [this] (std::vector<Outgoing> &batch) {
    for (auto &o : batch)
      if (o.close)
        close (o.id, o.code, o.text);
      else
        send (o.id, o.text);
  });
  /* Always: besides the timeouts it sends our connections' keepalive pings
   * and ends their close handshakes. */
  watchdog_ = g_timeout_source_new_seconds (1);
  g_source_set_callback (watchdog_, on_watchdog, this, nullptr);
  g_source_attach (watchdog_, context_);
  return true;
}

void
IngestWorker::stop ()
{
  if (!server_)
    return;
  destroy_source (&watchdog_);
  /* What the session side answered last (acks of the final chunks) goes
   * out before the connections close. */
  outbox_.flush ();
  outbox_.detach ();
  arrivals_.detach ();
  for (auto &kv : conns_)
    kv.second->stop (SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server stopping");
  conns_.clear ();
  destroy_source (&retire_source_);
  retired_.clear ();
  gate_.stop ();
  soup_server_disconnect (server_);
  g_clear_object (&server_);
  g_main_context_unref (context_);
  context_ = nullptr;
}

ServerConnection *
IngestWorker::open_connection (ConnectionId id) const
{
  auto it = conns_.find (id);
  return it != conns_.end () && it->second->is_open () ? it->second.get () : nullptr;
}

void
IngestWorker::send (ConnectionId id, const std::string &text)
{
  if (ServerConnection *c = open_connection (id))
    c->send_text (text);
}

void
IngestWorker::close (ConnectionId id, unsigned short code, const std::string &reason)
{
  if (ServerConnection *c = open_connection (id))
    {
      GST_INFO ("closing connection %" G_GUINT64_FORMAT ": %u %s", (guint64)id, code,
                reason.c_str ());
      c->close (code, reason);
    }
}

void
IngestWorker::post_send (ConnectionId id, std::string text)
{
  outbox_.post ({ id, false, 0, std::move (text) });
}

void
IngestWorker::post_close (ConnectionId id, unsigned short code, std::string reason)
{
  outbox_.post ({ id, true, code, std::move (reason) });
}

void
IngestWorker::close_all (unsigned short code, const char *reason)
{
  for (auto &kv : conns_)
    kv.second->close (code, reason);
}

GateStats
IngestWorker::gate_stats () const
{
  return gate_.stats ();
}

} // namespace wssac
