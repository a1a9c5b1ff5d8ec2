/* tcp_sample () on a real loopback connection: the stream position counts
 * what we wrote, and the peer's acknowledgements catch up with it. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"
#include "tcp-evidence.h"

#ifdef __linux__
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#endif

/* A connected TCP pair on 127.0.0.1: our side (client_side) and the peer's. */
struct LoopbackPair
{
  GSocketListener *listener = g_socket_listener_new ();
  GSocketClient *client = g_socket_client_new ();
  GSocketConnection *client_side = NULL;
  GSocketConnection *server_side = NULL;

  LoopbackPair ()
  {
    GError *err = NULL;
    GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    GSocketAddress *addr = g_inet_socket_address_new (lo, 0);
    GSocketAddress *effective = NULL;
    fail_unless (g_socket_listener_add_address (listener, addr, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, &effective, &err),
                 "%s", err ? err->message : "");
    guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
    g_object_unref (effective);
    g_object_unref (addr);
    g_object_unref (lo);
    client_side = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &err);
    fail_unless (client_side != NULL, "%s", err ? err->message : "");
    server_side = g_socket_listener_accept (listener, NULL, NULL, &err);
    fail_unless (server_side != NULL, "%s", err ? err->message : "");
  }
  GSocket *
  socket () const
  {
    return wssac::socket_of_stream (G_IO_STREAM (client_side));
  }
  GOutputStream *
  output () const
  {
    return g_io_stream_get_output_stream (G_IO_STREAM (client_side));
  }
  /* Our side's position in the TCP stream now (tcp_sample ()). */
  uint64_t
  stream_position () const
  {
    wssac::TcpSample s;
    fail_unless (wssac::tcp_sample (socket (), s));
    return wssac::tcp_stream_position (s);
  }
  ~LoopbackPair ()
  {
    g_clear_object (&server_side);
    g_clear_object (&client_side);
    g_object_unref (client);
    g_object_unref (listener);
  }
};

GST_START_TEST (test_bytes_acked_follow_writes)
{
  LoopbackPair pair; /* the peer stays open: its kernel acknowledges */
  GSocketConnection *c = pair.client_side;

  GSocket *sock = wssac::socket_of_stream (G_IO_STREAM (c));
  fail_unless (sock == g_socket_connection_get_socket (c));
  wssac::tcp_harden (sock, 5000, 10);

  wssac::TcpSample before;
  fail_unless (wssac::tcp_sample (sock, before));
  char data[3000];
  memset (data, 'x', sizeof data);
  gsize written = 0;
  fail_unless (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (c)), data,
                                          sizeof data, &written, NULL, NULL));
  wssac::TcpSample after;
  fail_unless (wssac::tcp_sample (sock, after));
  fail_unless_equals_uint64 (wssac::tcp_stream_position (after),
                             wssac::tcp_stream_position (before) + 3000);
  /* The peer's kernel acknowledges without the peer reading. */
  for (int i = 0; i < 500 && after.bytes_acked < wssac::tcp_stream_position (before) + 3000; i++)
    {
      g_usleep (10000);
      fail_unless (wssac::tcp_sample (sock, after));
    }
  fail_unless_equals_uint64 (after.bytes_acked, wssac::tcp_stream_position (before) + 3000);
  fail_unless_equals_uint64 (after.queued, 0);
}
GST_END_TEST;

/* Writes to @sock until the kernel takes no more; returns the bytes taken. */
static uint64_t
fill (GSocket *sock)
{
  static char data[16384];
  uint64_t total = 0;
  for (;;)
    {
      gssize n = g_socket_send (sock, data, sizeof data, NULL, NULL);
      if (n <= 0)
        return total;
      total += (uint64_t)n;
    }
}

GST_START_TEST (test_send_queue_bound_holds)
{
  LoopbackPair pair;
  GSocketConnection *c = pair.client_side;
  GSocketConnection *s = pair.server_side;
  GSocket *sock = wssac::socket_of_stream (G_IO_STREAM (c));
  g_socket_set_blocking (sock, FALSE);

  wssac::TcpSample start;
  fail_unless (wssac::tcp_sample (sock, start));
  const uint64_t base = wssac::tcp_stream_position (start);
  /* A peer that does not read: the queue grows until the kernel refuses. */
  uint64_t ours = base + fill (sock);
  wssac::TcpSample full;
  fail_unless (wssac::tcp_sample (sock, full));
  fail_unless (full.queued > 0);
  /* Nothing written since the sample: the bound is the sample. */
  fail_unless_equals_uint64 (wssac::send_queue_bound (full, ours, ours, 0), full.queued);

  /* The peer reads some; we write more. The bound from the old sample
   * never falls below what the kernel then holds. */
  char buf[65536];
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (s));
  gsize got = 0;
  fail_unless (g_input_stream_read_all (in, buf, sizeof buf, &got, NULL, NULL));
  uint64_t more = fill (sock);
  wssac::TcpSample later;
  fail_unless (wssac::tcp_sample (sock, later));
  fail_unless (wssac::send_queue_bound (full, ours, ours + more, 0) >= later.queued,
               "bound %" G_GUINT64_FORMAT " < queued %" G_GUINT64_FORMAT,
               wssac::send_queue_bound (full, ours, ours + more, 0), later.queued);
  fail_unless_equals_uint64 (wssac::tcp_stream_position (later), ours + more);
  /* Bytes handed to a writer that did not pass them on yet count too. */
  fail_unless_equals_uint64 (
      wssac::send_queue_bound (later, ours + more + 100, ours + more + 100, 0), later.queued + 100);
}
GST_END_TEST;

/* A frame's end learnt from a later sample: the writer's own bytes after
 * it (a pong) push it later, never earlier than the true end, and never past
 * what the kernel holds. */
GST_START_TEST (test_frame_end_from_later_sample)
{
  LoopbackPair pair;
  GSocket *sock = pair.socket ();
  GOutputStream *out = pair.output ();
  const uint64_t base = pair.stream_position ();
  char data[1000];
  memset (data, 'x', sizeof data);
  gsize written = 0;
  /* 40 bytes of the writer's own before our first frame, 30 after it. */
  fail_unless (g_output_stream_write_all (out, data, 40, &written, NULL, NULL));
  fail_unless (g_output_stream_write_all (out, data, 1000, &written, NULL, NULL));
  const uint64_t first_true_end = base + 1040, first_ours = base + 1000;
  fail_unless (g_output_stream_write_all (out, data, 30, &written, NULL, NULL));
  fail_unless (g_output_stream_write_all (out, data, 500, &written, NULL, NULL));
  const uint64_t second_true_end = base + 1570, ours_now = base + 1500;
  wssac::TcpSample later;
  fail_unless (wssac::tcp_sample (sock, later));
  fail_unless_equals_uint64 (wssac::tcp_stream_position (later), second_true_end);

  uint64_t first_end = wssac::frame_end_from_sample (later, first_ours, ours_now);
  fail_unless (first_end >= first_true_end && first_end <= wssac::tcp_stream_position (later),
               "first frame: %" G_GUINT64_FORMAT " not in [%" G_GUINT64_FORMAT
               ", %" G_GUINT64_FORMAT "]",
               first_end, first_true_end, wssac::tcp_stream_position (later));
  fail_unless_equals_uint64 (first_end, base + 1070);
  fail_unless_equals_uint64 (wssac::frame_end_from_sample (later, ours_now, ours_now),
                             second_true_end);
  /* A sample that lags what we handed over (the writer still buffers)
   * adds nothing. */
  fail_unless_equals_uint64 (wssac::frame_end_from_sample (later, ours_now, ours_now + 100),
                             ours_now);
  fail_unless (wssac::tcp_send_buffer (sock) > 0);
}
GST_END_TEST;

#ifdef __linux__
static int
cork_option (GSocket *sock)
{
  int value = -1;
  socklen_t len = sizeof value;
  fail_unless (getsockopt (g_socket_get_fd (sock), IPPROTO_TCP, TCP_CORK, &value, &len) == 0);
  return value;
}
#endif

/* A flush that writes several messages corks the socket (tcp_cork ()):
 * what it writes meanwhile counts in the stream position at once (the
 * delivery evidence stays right), and all of it reaches the peer. */
GST_START_TEST (test_corked_writes_counted_and_released)
{
  LoopbackPair pair;
  GSocket *sock = pair.socket ();
  GOutputStream *out = pair.output ();
  const uint64_t base = pair.stream_position ();
  wssac::tcp_cork (sock, true);
#ifdef __linux__
  fail_unless_equals_int (cork_option (sock), 1);
#endif
  char data[300];
  memset (data, 'c', sizeof data);
  gsize written = 0;
  fail_unless (g_output_stream_write_all (out, data, 100, &written, NULL, NULL));
  fail_unless (g_output_stream_write_all (out, data + 100, 200, &written, NULL, NULL));
  wssac::TcpSample corked;
  fail_unless (wssac::tcp_sample (sock, corked));
  fail_unless_equals_uint64 (wssac::tcp_stream_position (corked), base + 300);
  wssac::tcp_cork (sock, false);
#ifdef __linux__
  fail_unless_equals_int (cork_option (sock), 0);
#endif
  char got[300];
  gsize read = 0;
  fail_unless (
      g_input_stream_read_all (g_io_stream_get_input_stream (G_IO_STREAM (pair.server_side)), got,
                               sizeof got, &read, NULL, NULL));
  fail_unless_equals_int (read, sizeof got);
  fail_unless (memcmp (got, data, sizeof got) == 0);
}
GST_END_TEST;

WSS_CHECK_MAIN (tcp_evidence, "tcp-evidence",
                { "general", 0,
                  WSS_TESTS (test_bytes_acked_follow_writes, test_send_queue_bound_holds,
                             test_frame_end_from_later_sample,
                             test_corked_writes_counted_and_released) });
