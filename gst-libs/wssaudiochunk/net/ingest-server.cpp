#include "ingest-server.h"

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <map>
#include <set>
#include <sys/socket.h>
#include <memory>
#include <mutex>

GST_DEBUG_CATEGORY_STATIC (wss_ingest_debug);
#define GST_CAT_DEFAULT wss_ingest_debug

namespace wssac
{

struct IngestServer::Impl
{
  IngestServerConfig config;
  EventHandler on_event;
  GMainContext *context = nullptr;
  SoupServer *server = nullptr;
  ConnectionGate gate;
  GSource *deadline = nullptr;
  unsigned port = 0;
  std::unique_ptr<IngestCore> core;
  ConnectionId next_id = 1;
  std::map<ConnectionId, SoupWebsocketConnection *> conns;

  static int64_t now_ms () { return g_get_monotonic_time () / 1000; }

  struct ConnData
  {
    Impl *impl;
    ConnectionId id;
    int64_t last_rx_ms;
    int64_t connected_ms;
    bool spoke;
    std::string address;
  };
  IngestServerStats sstats;
  std::map<std::string, unsigned> per_address; /* open connections by client IP */

  /* Equal length and content, in time that depends only on the lengths. */
  static bool same_secret (const std::string &a, const std::string &b)
  {
    unsigned char diff = a.size () != b.size ();
    for (size_t i = 0; i < a.size (); i++)
      diff |= static_cast<unsigned char> (a[i] ^ (i < b.size () ? b[i] : 0));
    return diff == 0;
  }

  /* The index of the presented token, -1 if none matches. */
  int token_index (SoupServerMessage *msg) const
  {
    std::string presented;
    const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");
    if (auth && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0)
      presented = auth + 7;
    else if (const char *query = g_uri_get_query (soup_server_message_get_uri (msg)))
      {
        GHashTable *params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, nullptr);
        if (params)
          {
            const char *t = static_cast<const char *> (g_hash_table_lookup (params, "token"));
            if (t)
              presented = t;
            g_hash_table_unref (params);
          }
      }
    int found = -1;
    for (size_t i = 0; i < config.auth_tokens.size (); i++)
      if (same_secret (presented, config.auth_tokens[i]) && found < 0) /* every token is compared */
        found = static_cast<int> (i);
    return presented.empty () ? -1 : found;
  }

  static std::string client_address (SoupServerMessage *msg)
  {
    GSocketAddress *addr = soup_server_message_get_remote_address (msg);
    if (!addr || !G_IS_INET_SOCKET_ADDRESS (addr))
      return std::string ();
    gchar *ip = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (addr)));
    std::string out (ip);
    g_free (ip);
    return out;
  }

  /* Runs when the request's headers are in, before the upgrade: refusals
   * here cost no WebSocket and no session. */
  static void on_early (SoupServer *, SoupServerMessage *msg, const char *, GHashTable *, gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    const int token = self->config.auth_tokens.empty () ? -1 : self->token_index (msg);
    if (token >= 0)
      /* Who the connection is, for binding sessions: a name, not the secret. */
      g_object_set_data_full (G_OBJECT (msg), "wssac-principal", g_strdup_printf ("token-%d", token + 1), g_free);
    if (!self->config.auth_tokens.empty () && token < 0)
      {
        self->sstats.auth_refused++;
        GST_INFO ("upgrade refused: missing or wrong token");
        soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, nullptr);
        soup_message_headers_replace (soup_server_message_get_response_headers (msg), "WWW-Authenticate", "Bearer");
        return;
      }
    if (!self->config.allowed_origins.empty ())
      {
        const char *origin = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Origin");
        bool allowed = origin == nullptr;
        for (const auto &o : self->config.allowed_origins)
          allowed |= origin && o == origin;
        if (!allowed)
          {
            self->sstats.origin_refused++;
            GST_INFO ("upgrade refused: origin %s not allowed", origin);
            soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, nullptr);
            return;
          }
      }
    if (self->config.max_connections_per_address > 0)
      {
        auto it = self->per_address.find (client_address (msg));
        if (it != self->per_address.end () && it->second >= self->config.max_connections_per_address)
          {
            self->sstats.address_refused++;
            soup_server_message_set_status (msg, 429, "Too Many Connections");
            return;
          }
      }
  }
  GSource *watchdog = nullptr;

  static gboolean on_watchdog (gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    int64_t now = now_ms ();
    int64_t limit = static_cast<int64_t> (self->config.peer_timeout_s) * 1000;
    int64_t first = static_cast<int64_t> (self->config.first_message_timeout_s) * 1000;
    std::vector<SoupWebsocketConnection *> dead, mute;
    for (auto &kv : self->conns)
      {
        auto *cd = static_cast<ConnData *> (g_object_get_data (G_OBJECT (kv.second), "wssac-conn"));
        if (!cd)
          continue;
        if (limit > 0 && now - cd->last_rx_ms > limit)
          dead.push_back (kv.second);
        else if (first > 0 && !cd->spoke && now - cd->connected_ms > first
                 && soup_websocket_connection_get_state (kv.second) == SOUP_WEBSOCKET_STATE_OPEN)
          mute.push_back (kv.second);
      }
    for (auto *c : dead)
      {
        GST_INFO ("closing a connection silent for over %u s", self->config.peer_timeout_s);
        self->sstats.closed_silent++;
        g_io_stream_close (soup_websocket_connection_get_io_stream (c), nullptr, nullptr);
      }
    for (auto *c : mute)
      {
        self->sstats.closed_no_message++;
        soup_websocket_connection_close (c, 1008, "no message");
      }
    return G_SOURCE_CONTINUE;
  }

  static void on_pong (SoupWebsocketConnection *, GBytes *, gpointer data)
  {
    static_cast<ConnData *> (data)->last_rx_ms = now_ms ();
  }

  /* Sessions whose audio could not be stored: acks are cumulative, so none
   * may be sent for them again until they end. */
  std::set<std::string> withheld;

  void apply (IngestOutput &out)
  {
    /* Events first: the handler stores the audio (the ingest program's
     * journal) before the acks that stand for it leave. */
    std::vector<std::string> ended;
    for (auto &e : out.events)
      {
        if (e.kind == IngestEventKind::SessionEnded)
          ended.push_back (e.session_id);
        if (on_event)
          on_event (std::move (e));
      }
    for (auto &r : out.replies)
      {
        if (!r.ack_session.empty () && withheld.count (r.ack_session))
          continue;
        if (r.text.find ("\"code\":\"session-bound\"") != std::string::npos)
          GST_WARNING ("connection %" G_GUINT64_FORMAT " refused: %s", (guint64) r.connection, r.text.c_str ());
        auto it = conns.find (r.connection);
        if (it != conns.end ()
            && soup_websocket_connection_get_state (it->second) == SOUP_WEBSOCKET_STATE_OPEN)
          soup_websocket_connection_send_text (it->second, r.text.c_str ());
      }
    for (const auto &id : ended)
      withheld.erase (id);
    for (auto &c : out.closes)
      {
        auto it = conns.find (c.connection);
        if (it != conns.end ()
            && soup_websocket_connection_get_state (it->second) == SOUP_WEBSOCKET_STATE_OPEN)
          {
            GST_INFO ("closing connection %" G_GUINT64_FORMAT ": %u %s", (guint64) c.connection, c.code,
                      c.reason.c_str ());
            soup_websocket_connection_close (it->second, c.code, c.reason.c_str ());
          }
      }
    out.clear ();
    arm_deadline ();
  }

  /* One timer for the earliest reorder deadline over all sessions. */
  void arm_deadline ()
  {
    int64_t d = core->next_deadline_ms ();
    if (deadline)
      {
        g_source_destroy (deadline);
        g_source_unref (deadline);
        deadline = nullptr;
      }
    if (d < 0)
      return;
    int64_t wait = d - now_ms ();
    deadline = g_timeout_source_new (static_cast<guint> (wait < 0 ? 0 : wait));
    g_source_set_callback (deadline, on_deadline, this, nullptr);
    g_source_attach (deadline, context);
  }

  static gboolean on_deadline (gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    g_source_unref (self->deadline);
    self->deadline = nullptr;
    IngestOutput out;
    self->core->tick (now_ms (), out);
    self->apply (out);
    return G_SOURCE_REMOVE;
  }

  static void on_websocket (SoupServer *, SoupServerMessage *msg, const char *, SoupWebsocketConnection *conn,
                            gpointer data)
  {
    auto *self = static_cast<Impl *> (data);
    self->gate.upgraded (soup_server_message_get_remote_address (msg));
    ConnectionId id = self->next_id++;
    g_object_ref (conn);
    soup_websocket_connection_set_max_incoming_payload_size (conn, 4 * self->config.max_message_size);
    self->conns[id] = conn;
    auto *cd = new ConnData{ self, id, now_ms (), now_ms (), false, client_address (msg) };
    self->per_address[cd->address]++;
    soup_websocket_connection_set_keepalive_interval (conn, self->config.keepalive_interval_s);
    g_signal_connect (conn, "pong", G_CALLBACK (on_pong), cd);
    g_object_set_data_full (G_OBJECT (conn), "wssac-conn", cd, [] (gpointer p) { delete static_cast<ConnData *> (p); });
    g_signal_connect (conn, "message", G_CALLBACK (on_message), cd);
    g_signal_connect (conn, "closed", G_CALLBACK (on_closed), cd);

    std::string peer;
    GSocketAddress *addr = soup_server_message_get_remote_address (msg);
    if (addr && G_IS_INET_SOCKET_ADDRESS (addr))
      {
        gchar *ip = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (addr)));
        peer = std::string (ip) + ":" + std::to_string (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (addr)));
        g_free (ip);
      }
    GST_DEBUG ("connection %" G_GUINT64_FORMAT " from %s", (guint64) id, peer.c_str ());
    const char *principal = static_cast<const char *> (g_object_get_data (G_OBJECT (msg), "wssac-principal"));
    self->core->on_connect (id, peer, principal ? principal : "");
  }

  static void on_message (SoupWebsocketConnection *, gint type, GBytes *message, gpointer data)
  {
    auto *cd = static_cast<ConnData *> (data);
    Impl *self = cd->impl;
    cd->last_rx_ms = now_ms ();
    cd->spoke = true;
    gsize size = 0;
    const char *bytes = static_cast<const char *> (g_bytes_get_data (message, &size));
    IngestOutput out;
    if (type == SOUP_WEBSOCKET_DATA_TEXT)
      self->core->on_text (cd->id, bytes ? bytes : "", size, now_ms (), out);
    else
      self->core->on_binary (cd->id, reinterpret_cast<const uint8_t *> (bytes), size, now_ms (), out);
    self->apply (out);
  }

  static void on_closed (SoupWebsocketConnection *conn, gpointer data)
  {
    auto *cd = static_cast<ConnData *> (data);
    Impl *self = cd->impl;
    ConnectionId id = cd->id;
    GST_DEBUG ("connection %" G_GUINT64_FORMAT " closed (%u)", (guint64) id,
               soup_websocket_connection_get_close_code (conn));
    IngestOutput out;
    self->core->on_disconnect (id, now_ms (), out);
    self->conns.erase (id);
    auto pa = self->per_address.find (cd->address);
    if (pa != self->per_address.end () && --pa->second == 0)
      self->per_address.erase (pa);
    g_signal_handlers_disconnect_by_data (conn, cd);
    g_object_unref (conn); /* frees cd */
    self->apply (out);
  }
};

IngestServer::IngestServer () : impl_ (new Impl ())
{
  static std::once_flag once;
  std::call_once (once, [] {
    GST_DEBUG_CATEGORY_INIT (wss_ingest_debug, "wssaudiochunkingest", 0, "wssaudiochunk WebSocket receiver");
  });
}

IngestServer::~IngestServer ()
{
  stop ();
  delete impl_;
}

bool
IngestServer::start (GMainContext *context, const IngestServerConfig &config, EventHandler on_event,
                     std::string &error)
{
  Impl *p = impl_;
  p->config = config;
  p->on_event = std::move (on_event);
  p->context = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  IngestConfig core_config = config.core;
  core_config.max_message_size = config.max_message_size;
  core_config.bind_session_to_principal = !config.auth_tokens.empty () && config.bind_session_to_token;
  p->core = std::make_unique<IngestCore> (core_config);
  p->server = soup_server_new ("server-header", "wssaudiochunk-ingest", NULL);
  if (!config.permessage_deflate)
    soup_server_remove_websocket_extension (p->server, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  GTlsCertificate *tls_cert = nullptr;
  p->sstats = IngestServerStats ();
  p->per_address.clear ();
  const bool tls = !config.tls_cert_file.empty ();
  if (tls)
    {
      GError *terr = nullptr;
      GTlsCertificate *cert = g_tls_certificate_new_from_files (config.tls_cert_file.c_str (),
          config.tls_key_file.empty () ? config.tls_cert_file.c_str () : config.tls_key_file.c_str (), &terr);
      if (!cert)
        {
          error = "could not load the TLS certificate \"" + config.tls_cert_file + "\" and key \""
                  + config.tls_key_file + "\": " + (terr ? terr->message : "?");
          g_clear_error (&terr);
          g_clear_object (&p->server);
          return false;
        }
      tls_cert = cert;
    }
  soup_server_add_early_handler (p->server, config.path.c_str (), Impl::on_early, p, nullptr);
  soup_server_add_websocket_handler (p->server, config.path.c_str (), nullptr, nullptr,
                                     (SoupServerWebsocketCallback) Impl::on_websocket, p, nullptr);

  GError *err = nullptr;
  GInetAddress *ia = g_inet_address_new_from_string (config.address.c_str ());
  if (!ia)
    {
      error = "\"" + config.address + "\" is not an IP address";
      g_clear_object (&tls_cert);
      g_clear_object (&p->server);
      return false;
    }
  GSocketAddress *addr = g_inet_socket_address_new (ia, config.port);
  /* Our own socket: soup_server_listen() keeps GLib's listen backlog of 10,
   * which makes thousands of speakers reconnecting at once wait seconds;
   * and our own accepting (connection-gate.h). */
  GSocket *sock = g_socket_new (g_inet_address_get_family (ia), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &err);
  g_object_unref (ia);
  gboolean ok = sock != nullptr;
  if (ok)
    {
      g_socket_set_listen_backlog (sock, SOMAXCONN);
      ok = g_socket_bind (sock, addr, TRUE, &err) && g_socket_listen (sock, &err);
    }
  g_object_unref (addr);
  if (!ok)
    {
      error = "could not listen on " + config.address + ":" + std::to_string (config.port) + ": " + err->message;
      g_error_free (err);
      g_clear_object (&sock);
      g_clear_object (&tls_cert);
      g_clear_object (&p->server);
      return false;
    }
  GSocketAddress *bound = g_socket_get_local_address (sock, nullptr);
  p->port = bound ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)) : config.port;
  g_clear_object (&bound);
  GateConfig gc;
  gc.header_timeout_ms = config.header_timeout_ms;
  gc.max_pending_total = config.max_pending_total;
  gc.max_pending_per_address = config.max_pending_per_address;
  gc.fd_reserve = config.fd_reserve;
  gc.tls_certificate = tls_cert;
  /* The whole message, fragments added up (libsoup bounds each frame only). */
  gc.frames.max_message_bytes = config.max_message_size;
  gc.frames.pings_per_second = config.max_pings_per_second;
  gc.frames.inflate = config.permessage_deflate;
  ok = p->gate.start (p->context, p->server, sock, gc, error);
  g_object_unref (sock);
  g_clear_object (&tls_cert);
  if (!ok)
    {
      g_clear_object (&p->server);
      return false;
    }
  GST_INFO ("listening on ws://%s:%u%s", config.address.c_str (), p->port, config.path.c_str ());
  if (config.peer_timeout_s > 0 || config.first_message_timeout_s > 0)
    {
      p->watchdog = g_timeout_source_new_seconds (1);
      g_source_set_callback (p->watchdog, Impl::on_watchdog, p, nullptr);
      g_source_attach (p->watchdog, p->context);
    }
  return true;
}

void
IngestServer::stop ()
{
  Impl *p = impl_;
  if (!p->server)
    return;
  for (GSource **src : { &p->deadline, &p->watchdog })
    if (*src)
      {
        g_source_destroy (*src);
        g_source_unref (*src);
        *src = nullptr;
      }
  auto conns = p->conns;
  for (auto &kv : conns)
    {
      g_signal_handlers_disconnect_matched (kv.second, G_SIGNAL_MATCH_FUNC, 0, 0, nullptr,
                                            (gpointer) Impl::on_message, nullptr);
      if (soup_websocket_connection_get_state (kv.second) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (kv.second, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server stopping");
    }
  for (auto &kv : conns)
    {
      g_signal_handlers_disconnect_matched (kv.second, G_SIGNAL_MATCH_FUNC, 0, 0, nullptr,
                                            (gpointer) Impl::on_closed, nullptr);
      g_object_unref (kv.second);
    }
  p->conns.clear ();
  p->gate.stop ();
  soup_server_disconnect (p->server);
  g_clear_object (&p->server);
  g_main_context_unref (p->context);
  p->context = nullptr;
}

void
IngestServer::close_all (unsigned short code, const char *reason)
{
  for (auto &kv : impl_->conns)
    if (soup_websocket_connection_get_state (kv.second) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (kv.second, code, reason);
}

unsigned
IngestServer::port () const
{
  return impl_->port;
}

void
IngestServer::finish_all (const std::string &reason)
{
  IngestOutput out;
  impl_->core->finish_all (reason, out);
  impl_->apply (out);
}

void
IngestServer::finish_session (const std::string &session_id, const std::string &reason)
{
  IngestOutput out;
  impl_->core->finish_session (session_id, reason, out);
  impl_->apply (out);
}

void
IngestServer::withhold_acks (const std::string &session_id)
{
  impl_->withheld.insert (session_id);
}

IngestServerStats
IngestServer::server_stats () const
{
  IngestServerStats s = impl_->sstats;
  s.gate = impl_->gate.stats ();
  return s;
}

const IngestCore &
IngestServer::core () const
{
  return *impl_->core;
}

} // namespace wssac
