/* Security: wss:// with a certificate from a CA the test makes, a wrong or
 * untrusted certificate, ssl-strict=false; bearer tokens (header and query,
 * refused before any stream, never shown); and each receiver limit. */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>

#include "check-suite.h"
#include "message-codec.h"
#include "receiver.h"
#include "test-util.h"
#include "ws-test-client.h"

#include <string>
#include <vector>

static gchar *tmpdir;

static void
run_cmd (const std::string &cmd)
{
  gchar *out = NULL, *err = NULL;
  gint status = 0;
  fail_unless (g_spawn_command_line_sync (cmd.c_str (), &out, &err, &status, NULL));
  fail_unless (g_spawn_check_wait_status (status, NULL), "%s failed: %s", cmd.c_str (), err);
  g_free (out);
  g_free (err);
}

static std::string
path (const char *name)
{
  gchar *p = g_build_filename (tmpdir, name, NULL);
  std::string s (p);
  g_free (p);
  return s;
}

/* A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated CA. */
static void
make_certificates (void)
{
  tmpdir = g_dir_make_tmp ("wssac-tls-XXXXXX", NULL);
  std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  run_cmd ("openssl req -x509 " + ec + " -keyout " + path ("ca.key") + " -out " + path ("ca.pem")
           + " -days 2 -subj /CN=wssac-test-CA");
  run_cmd ("openssl req -x509 " + ec + " -keyout " + path ("other.key") + " -out " + path ("other.pem")
           + " -days 2 -subj /CN=wssac-other-CA");
  run_cmd ("openssl req " + ec + " -keyout " + path ("server.key") + " -out " + path ("server.csr")
           + " -subj /CN=127.0.0.1");
  g_file_set_contents (path ("ext.cnf").c_str (), "subjectAltName=IP:127.0.0.1,DNS:localhost\n", -1, NULL);
  run_cmd ("openssl x509 -req -in " + path ("server.csr") + " -CA " + path ("ca.pem") + " -CAkey " + path ("ca.key")
           + " -CAcreateserial -out " + path ("server.pem") + " -days 2 -extfile " + path ("ext.cnf"));
}

static void
remove_certificates (void)
{
  const char *names[] = { "ca.key", "ca.pem", "ca.srl", "other.key", "other.pem", "server.key", "server.csr",
    "server.pem", "ext.cnf", "tokens" };
  for (const char *n : names)
    g_unlink (path (n).c_str ());
  g_rmdir (tmpdir);
  g_free (tmpdir);
}

/* 1 s of speech-like audio through the sink; returns the bus log. */
static void
speak (const std::string &url, const std::string &props, BusLog &log)
{
  std::string desc = "audiotestsrc num-buffers=50 samplesperbuffer=320 ! audio/x-raw,rate=16000,channels=1 "
                     "! opusenc bitrate=16000 ! webmmux streamable=true min-cluster-duration=250000000 "
                     "! wssaudiochunksink location=" + url + " session-id=sec sync=false " + props;
  GstElement *p = gst_parse_launch (desc.c_str (), NULL);
  fail_unless (p != NULL);
  run_pipeline (p, 30, log);
  gst_object_unref (p);
}

static std::string
everything_said (const BusLog &log)
{
  std::string all = log.error_message + "\n" + log.error_debug + "\n";
  for (const auto &w : log.warnings)
    all += w + "\n";
  for (auto *s : log.element_messages)
    {
      gchar *t = gst_structure_to_string (s);
      all += std::string (t) + "\n";
      g_free (t);
    }
  return all;
}

GST_START_TEST (test_tls_with_test_ca)
{
  Receiver rx ("tls-certificate-file=" + path ("server.pem") + " tls-key-file=" + path ("server.key"),
               Receiver::Output::kDiscard);
  BusLog log;
  speak (rx.url ("wss"), "ssl-ca-file=" + path ("ca.pem"), log);
  fail_unless (log.eos, "%s | %s", log.error_message.c_str (), log.error_debug.c_str ());
  fail_unless (rx.stat ("chunks") >= 3);
  /* A relative CA path works too (GTlsFileDatabase itself wants an absolute one). */
  gchar *cwd = g_get_current_dir ();
  fail_unless (g_chdir (tmpdir) == 0);
  Receiver rx2 ("tls-certificate-file=server.pem tls-key-file=server.key", Receiver::Output::kDiscard);
  BusLog log2;
  speak (rx2.url ("wss"), "ssl-ca-file=ca.pem", log2);
  fail_unless (g_chdir (cwd) == 0);
  g_free (cwd);
  fail_unless (log2.eos, "%s | %s", log2.error_message.c_str (), log2.error_debug.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_tls_untrusted_certificate)
{
  Receiver rx ("tls-certificate-file=" + path ("server.pem") + " tls-key-file=" + path ("server.key"),
               Receiver::Output::kDiscard);
  /* The system store does not know our CA, nor does another CA. */
  for (std::string props : { std::string (""), "ssl-ca-file=" + path ("other.pem") })
    {
      BusLog log;
      speak (rx.url ("wss"), props, log);
      fail_unless (log.error, "connected to an untrusted server");
      std::string all = log.error_message + " " + log.error_debug;
      fail_unless (all.find ("TLS") != std::string::npos && all.find ("ssl-ca-file") != std::string::npos, "%s",
          all.c_str ());
      fail_unless (all.find (rx.url ("wss")) != std::string::npos, "%s", all.c_str ());
    }
  fail_unless_equals_uint64 (rx.stat ("chunks"), 0);
}
GST_END_TEST;

GST_START_TEST (test_tls_not_strict_warns)
{
  Receiver rx ("tls-certificate-file=" + path ("server.pem") + " tls-key-file=" + path ("server.key"),
               Receiver::Output::kDiscard);
  BusLog log;
  speak (rx.url ("wss"), "ssl-strict=false", log);
  fail_unless (log.eos);
  bool warned = false;
  for (const auto &w : log.warnings)
    warned |= w.find ("TLS certificate validation is disabled") != std::string::npos;
  fail_unless (warned);
}
GST_END_TEST;

/* The two scheme mix-ups get an error that names the fix. */
GST_START_TEST (test_tls_scheme_mixups)
{
  Receiver tls ("tls-certificate-file=" + path ("server.pem") + " tls-key-file=" + path ("server.key"));
  BusLog log;
  speak (tls.url ("ws"), "", log);
  fail_unless (log.error, "a plain upgrade to a TLS port got through");
  std::string all = log.error_message + " | " + log.error_debug;
  fail_unless (all.find ("use wss://") != std::string::npos, "%s", all.c_str ());

  Receiver plain ("");
  BusLog log2;
  speak (plain.url ("wss"), "connect-timeout=2000 ssl-ca-file=" + path ("ca.pem"), log2);
  fail_unless (log2.error, "TLS to a plain server got through");
  all = log2.error_message + " | " + log2.error_debug;
  fail_unless (all.find ("did not speak TLS; use ws://") != std::string::npos, "%s", all.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_tokens)
{
  g_file_set_contents (path ("tokens").c_str (), "gamma-token\n\n", -1, NULL);
  Receiver rx ("auth-tokens=alpha-token,beta-token auth-token-file=" + path ("tokens")
               + " eos-on-end-session=false",
               Receiver::Output::kDiscard);
  {
    BusLog log;
    /* The next run continues the same session: do not end it. */
    speak (rx.url (), "auth-token=beta-token end-session-on-eos=false", log);
    fail_unless (log.eos, "%s", log.error_message.c_str ());
  }
  {
    /* A session is bound to the token that started it (session-bound, a
     * final refusal for the sink): another token gets a receiver of its own. */
    Receiver rx2 ("auth-tokens=alpha-token,beta-token auth-token-file=" + path ("tokens")
                  + " eos-on-end-session=false");
    BusLog log; /* from the file, sent in the query */
    speak (rx2.url (), "auth-token=gamma-token auth-token-mode=query", log);
    fail_unless (log.eos, "%s", log.error_message.c_str ());
    fail_if (everything_said (log).find ("gamma-token") != std::string::npos, "the token was shown");
  }
  const char *bad[] = { "", "auth-token=wrong-secret-123", "auth-token=wrong-secret-123 auth-token-mode=query" };
  for (const char *props : bad)
    {
      BusLog log;
      speak (rx.url (), props, log);
      fail_unless (log.error, "got in with \"%s\"", props);
      std::string all = everything_said (log);
      fail_unless (all.find ("HTTP 401") != std::string::npos, "%s", all.c_str ());
      fail_if (all.find ("wrong-secret-123") != std::string::npos, "the token was shown: %s", all.c_str ());
    }
  fail_unless_equals_uint64 (rx.stat ("auth-refused"), 3);
}
GST_END_TEST;

GST_START_TEST (test_token_redacted_in_location)
{
  /* A token pasted into the location itself is not echoed either. */
  BusLog log;
  speak ("ws://127.0.0.1:9/ws?token=pasted-secret-9", "", log);
  fail_unless (log.error);
  std::string all = everything_said (log);
  fail_if (all.find ("pasted-secret-9") != std::string::npos, "%s", all.c_str ());
  fail_unless (all.find ("token=***") != std::string::npos, "%s", all.c_str ());
}
GST_END_TEST;

static std::string
chunk_message (uint64_t index, size_t bytes = 100)
{
  std::vector<uint8_t> audio (bytes, 7);
  wssac::AudioChunkFields f;
  f.session_id = "limits";
  f.audio = audio.data ();
  f.audio_size = audio.size ();
  f.chunk_index = index;
  return wssac::encode_audio_chunk (f);
}

GST_START_TEST (test_connections_per_address)
{
  Receiver rx ("max-connections-per-address=2", Receiver::Output::kDiscard);
  WsTestClient a, b, c;
  std::string err;
  fail_unless (a.connect (rx.url (), err));
  fail_unless (b.connect (rx.url (), err));
  fail_if (c.connect (rx.url (), err));
  fail_unless_equals_int (c.refused_status (), 429);
  fail_unless_equals_uint64 (rx.stat ("address-refused"), 1);
  /* A place frees up when one leaves. */
  a.close ();
  fail_unless (a.wait_closed (5000));
  WsTestClient d;
  for (int i = 0; i < 50 && !d.connect (rx.url (), err); i++)
    g_usleep (20000);
  fail_unless_equals_int (d.refused_status (), 0);
}
GST_END_TEST;

GST_START_TEST (test_origins)
{
  Receiver rx ("allowed-origins=https://good.example", Receiver::Output::kDiscard);
  WsTestClient evil, good, tool;
  std::string err;
  fail_if (evil.connect (rx.url (), err, { { "Origin", "https://evil.example" } }));
  fail_unless_equals_int (evil.refused_status (), 403);
  fail_unless (good.connect (rx.url (), err, { { "Origin", "https://good.example" } }), "%s", err.c_str ());
  fail_unless (tool.connect (rx.url (), err), "%s", err.c_str ()); /* no Origin: not a browser */
  fail_unless_equals_uint64 (rx.stat ("origin-refused"), 1);
}
GST_END_TEST;

/* A receiver with @props and one client connected to it. */
struct ConnectedClient
{
  Receiver rx;
  WsTestClient client;

  explicit ConnectedClient (const char *props) : rx (props, Receiver::Output::kDiscard)
  {
    std::string err;
    fail_unless (client.connect (rx.url (), err), "%s", err.c_str ());
  }
};

GST_START_TEST (test_rate_limit)
{
  ConnectedClient cc ("max-messages-per-second=20");
  Receiver &rx = cc.rx;
  WsTestClient &c = cc.client;
  std::string m = chunk_message (0);
  /* Duplicates: valid messages that cost the receiver work and nothing else. */
  for (int i = 0; i < 600 && !c.wait_closed (0); i++)
    c.send_text (m);
  fail_unless (c.wait_closed (5000));
  fail_unless_equals_int (c.close_code (), 1008);
  fail_unless_equals_uint64 (rx.stat ("closed-for-rate"), 1);
}
GST_END_TEST;

GST_START_TEST (test_first_message_timeout)
{
  Receiver rx ("first-message-timeout=1000", Receiver::Output::kDiscard);
  WsTestClient idle, talker;
  std::string err;
  fail_unless (idle.connect (rx.url (), err));
  fail_unless (talker.connect (rx.url (), err));
  talker.send_text (chunk_message (0));
  fail_unless (idle.wait_closed (5000));
  fail_unless_equals_int (idle.close_code (), 1008);
  fail_if (talker.wait_closed (500), "a connection that spoke was closed too");
  fail_unless_equals_uint64 (rx.stat ("closed-no-message"), 1);
}
GST_END_TEST;

GST_START_TEST (test_chunk_size_limit)
{
  ConnectedClient cc ("max-chunk-size=1000");
  Receiver &rx = cc.rx;
  WsTestClient &c = cc.client;
  c.send_text (chunk_message (0, 500));
  c.send_text (chunk_message (1, 2000));
  fail_unless (c.wait_for_replies (1, 5000));
  bool refused = false;
  for (const auto &r : c.replies ())
    {
      wssac::Reply reply = wssac::decode_reply (r.data (), r.size ());
      refused |= reply.kind == wssac::Reply::Error && reply.code == "bad-value";
    }
  fail_unless (refused);
  fail_unless_equals_uint64 (rx.stat ("chunks"), 1);
}
GST_END_TEST;

WSS_CHECK_MAIN (security, "security",
                { "tls-and-tokens", 0,
                  WSS_TESTS (test_tls_with_test_ca, test_tls_untrusted_certificate,
                             test_tls_not_strict_warns, test_tls_scheme_mixups, test_tokens,
                             test_token_redacted_in_location),
                  make_certificates, remove_certificates },
                { "limits", 0,
                  WSS_TESTS (test_connections_per_address, test_origins, test_rate_limit,
                             test_first_message_timeout, test_chunk_size_limit) });
