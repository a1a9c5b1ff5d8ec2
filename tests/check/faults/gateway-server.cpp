#include "gateway-server.h"
#include "locked-getter.h"

#include "message-codec.h"
#include "ws-test-server.h"

#include <libsoup/soup.h>

#include <sys/socket.h>

#include <algorithm>
#include <chrono>

struct GatewayServer::Conn
{
  GatewayServer *server = nullptr;
  SoupWebsocketConnection *ws = nullptr;
  unsigned id = 0;
  GSource *age = nullptr;
  bool cut = false;
};

GatewayServer::GatewayServer (int64_t hard_age_ms, bool acks)
    : hard_age_ms_ (hard_age_ms), acks_ (acks)
{
}

GatewayServer::~GatewayServer ()
{
  stop ();
}

void
GatewayServer::start ()
{
  port_ = start_soup_server (thread_, server_, "gateway-server", "gateway server", "/ws",
                             G_CALLBACK (on_websocket), this, [this] {
                               soup_server_add_early_handler (
                                   server_, "/ws", (SoupServerCallback)on_early, this, nullptr);
                             });
}

void
GatewayServer::stop ()
{
  stop_soup_server (thread_, server_, [this] { close_connections (); });
}

/* On the server's thread. */
void
GatewayServer::close_connections ()
{
  for (auto &c : open_)
    {
      g_signal_handlers_disconnect_by_data (c->ws, c.get ());
      if (c->age)
        {
          g_source_destroy (c->age);
          g_source_unref (c->age);
        }
      g_object_unref (c->ws);
    }
  open_.clear ();
}

std::string
GatewayServer::url () const
{
  return "ws://127.0.0.1:" + std::to_string (port_) + "/ws";
}

void
GatewayServer::on_early (SoupServer *, void *msg, const char *, GHashTable *, gpointer data)
{
  auto *self = static_cast<GatewayServer *> (data);
  unsigned n = ++self->attempts_;
  if (self->refuse_count_ == 0 || n < self->refuse_first_
      || n >= self->refuse_first_ + self->refuse_count_)
    return;
  soup_server_message_set_status (static_cast<SoupServerMessage *> (msg),
                                  SOUP_STATUS_SERVICE_UNAVAILABLE, nullptr);
  std::lock_guard<std::mutex> g (self->lock_);
  self->refused_++;
}

/* SO_LINGER 0 turns the close into an RST, as when a gateway drops a
 * connection without a word. */
static void
reset_connection (SoupWebsocketConnection *ws)
{
  GIOStream *io = soup_websocket_connection_get_io_stream (ws);
  if (G_IS_SOCKET_CONNECTION (io))
    {
      GSocket *sock = g_socket_connection_get_socket (G_SOCKET_CONNECTION (io));
      struct linger l = { 1, 0 };
      setsockopt (g_socket_get_fd (sock), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
  g_io_stream_close (io, nullptr, nullptr);
}

void
GatewayServer::on_websocket (SoupServer *, void *, const char *, SoupWebsocketConnection *ws,
                             gpointer data)
{
  auto *self = static_cast<GatewayServer *> (data);
  auto c = std::make_unique<Conn> ();
  c->server = self;
  c->ws = ws;
  c->id = ++self->next_id_;
  g_object_ref (ws);
  soup_websocket_connection_set_max_incoming_payload_size (ws, 1024 * 1024);
  g_signal_connect (ws, "message", G_CALLBACK (on_message), c.get ());
  g_signal_connect (ws, "closed", G_CALLBACK (on_closed), c.get ());
  c->age = g_timeout_source_new (static_cast<guint> (self->hard_age_ms_));
  g_source_set_callback (c->age, on_age, c.get (), nullptr);
  g_source_attach (c->age, g_main_context_get_thread_default ());
  {
    std::lock_guard<std::mutex> g (self->lock_);
    self->events_.push_back ({ GatewayEvent::Upgraded, c->id, 0, false });
  }
  if (self->reset_older_)
    for (auto &older : self->open_)
      reset_connection (older->ws);
  self->open_.push_back (std::move (c));
}

gboolean
GatewayServer::on_age (gpointer data)
{
  auto *c = static_cast<Conn *> (data);
  g_source_unref (c->age);
  c->age = nullptr;
  if (soup_websocket_connection_get_state (c->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    {
      c->cut = true;
      soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "connection age");
    }
  return G_SOURCE_REMOVE;
}

void
GatewayServer::on_message (SoupWebsocketConnection *ws, gint, GBytes *msg, gpointer data)
{
  auto *c = static_cast<Conn *> (data);
  GatewayServer *self = c->server;
  gsize size = 0;
  const char *text = static_cast<const char *> (g_bytes_get_data (msg, &size));
  std::string ack;
  {
    std::lock_guard<std::mutex> g (self->lock_);
    self->messages_.emplace_back (text ? text : "", size);
  }
  if (!self->acks_ || !text)
    return;
  wssac::DecodeResult r = wssac::decode_message (text, size);
  if (!r.ok () || r.message.action != wssac::Action::AudioChunk)
    return;
  /* Cumulative, as our receivers: everything up to the ack arrived. */
  self->received_.insert (r.message.chunk_index);
  if (!self->received_.count (0))
    return;
  uint64_t upto = 0;
  while (self->received_.count (upto + 1))
    upto++;
  ack = wssac::encode_ack (r.message.session_id, upto, r.message.stream_id);
  soup_websocket_connection_send_text (ws, ack.c_str ());
}

void
GatewayServer::on_closed (SoupWebsocketConnection *ws, gpointer data)
{
  auto *c = static_cast<Conn *> (data);
  GatewayServer *self = c->server;
  GatewayEvent e{ GatewayEvent::Closed, c->id, soup_websocket_connection_get_close_code (ws),
                  c->cut };
  g_signal_handlers_disconnect_by_data (ws, c);
  if (c->age)
    {
      g_source_destroy (c->age);
      g_source_unref (c->age);
      c->age = nullptr;
    }
  g_object_unref (ws);
  self->open_.erase (std::find_if (self->open_.begin (), self->open_.end (),
                                   [c] (const std::unique_ptr<Conn> &p) { return p.get () == c; }));
  std::lock_guard<std::mutex> g (self->lock_);
  self->events_.push_back (e);
  self->cond_.notify_all ();
}

WSS_LOCKED_GETTER (GatewayServer, messages, messages_, std::vector<std::string>)

WSS_LOCKED_GETTER (GatewayServer, events, events_, std::vector<GatewayEvent>)

bool
GatewayServer::wait_for_closed (int64_t timeout_ms) const
{
  std::unique_lock<std::mutex> g (lock_);
  return cond_.wait_for (g, std::chrono::milliseconds (timeout_ms), [this] {
    size_t up = 0, down = 0;
    for (const auto &e : events_)
      (e.kind == GatewayEvent::Upgraded ? up : down)++;
    return up > 0 && up == down;
  });
}

std::vector<unsigned>
GatewayServer::overlapping_closes () const
{
  std::lock_guard<std::mutex> g (lock_);
  std::vector<unsigned> codes;
  std::set<unsigned> open;
  std::set<unsigned> overlapped; /* open when a newer one was upgraded */
  for (const auto &e : events_)
    {
      if (e.kind == GatewayEvent::Upgraded)
        {
          overlapped.insert (open.begin (), open.end ());
          open.insert (e.connection);
          continue;
        }
      open.erase (e.connection);
      if (overlapped.count (e.connection) && !e.by_gateway)
        codes.push_back (e.code);
    }
  return codes;
}

WSS_LOCKED_GETTER (GatewayServer, refused, refused_, unsigned)

unsigned
GatewayServer::cuts () const
{
  std::lock_guard<std::mutex> g (lock_);
  return std::count_if (events_.begin (), events_.end (), [] (const GatewayEvent &e) {
    return e.kind == GatewayEvent::Closed && e.by_gateway;
  });
}
