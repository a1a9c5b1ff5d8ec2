"""wssaudiochunk-speaker end to end, one case per meson test (the argument):

  file         --file into the ingest server, no terminal: exit 0, summary,
               WAV as long as the file (0.1 s), chunks > 0, endReason
               "end of stream"; the --token value never printed.
  keys         on a pseudo-terminal: p, p, m, m, q: the receiver's
               controlEvents are pause/resume/mute/unmute in that order, the
               session ends with "Speaker ended session", every status
               line between the tool's acknowledgement of one key and the
               next says the state that key set ("paused", "muted", ...),
               and the terminal's modes are restored at exit.
  ctrl-c       on a pseudo-terminal, Ctrl-C (the terminal's SIGINT) ends
               the session as q does; then SIGTERM without a terminal too.
  unreachable  a closed port: "Server unreachable: ..." and exit 1; a server
               refusing the upgrade with 401 sees "Authorization: Bearer
               <token>" and the tool says "Server rejected the connection";
               the token never printed.
  no-devices   no audio server: --list-devices exits 0 and says there are
               none; --check-mic and live streaming say "No microphone
               found. Please connect a microphone." and exit 1.
  usage        wrong command lines exit 2 with a message.
  tls          a wss:// ingest server with a certificate from a CA made here
               (openssl), requiring a token: --ca-file plus --token-file
               streams (exit 0, the receiver has the chunks, the token never
               printed); without --ca-file the message names --ca-file;
               --insecure streams and warns; ws:// to the TLS port and
               wss:// to a plain server each get the hint for the other
               scheme.
  pulse        a live device: a private PulseAudio with a null sink (skipped
               when PulseAudio is not installed): --list-devices shows its
               monitor, --check-mic reports a level > 0 while a tone plays,
               and a live session with webrtcdsp ends cleanly on SIGINT.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from speaker_harness import (SKIP, PtyProcess, check, free_port, log, parse_status,  # noqa: E402
                             main, wav_seconds, write_speech_wav, write_tone_wav)

TOKEN = "tok-5ecret-7f3a9c1e"
WAV_TOLERANCE_S = 0.1


def no_token(h, text, where):
    check(TOKEN not in text, "the token appears in %s:\n%s" % (where, text))


def summary_figures(text):
    """The summary's lines as a dict (ended, duration, chunks sent, ...)."""
    check("Session summary" in text, "no session summary in:\n%s" % text)
    out = {}
    for line in text[text.rindex("Session summary"):].splitlines()[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def case_file(h):
    url = h.start_ingest()
    speech, origin = write_speech_wav(h.path("speech.wav"),
                                      "Good morning. This is the speaker tool, streaming a file as if it were live.")
    file_s = wav_seconds(speech)
    log("file: %.3f s (%s)" % (file_s, origin))
    t0 = time.monotonic()
    rc, out, err = h.run_speaker("speaker", ["--url", url, "--file", speech, "--session-id", "file-1",
                                             "--token", TOKEN], timeout=file_s + 25)
    took = time.monotonic() - t0
    check(rc == 0, "exit status %d:\n%s%s" % (rc, out, err))
    no_token(h, out + err, "the output")
    fig = summary_figures(out)
    log("summary: %s; ran %.2f s" % (fig, took))
    check(fig.get("ended") == "end of stream", "summary says ended %r" % fig.get("ended"))
    check(int(fig.get("chunks sent", "0")) > 0, "summary: no chunks sent")
    check(fig.get("chunks dropped") == "0", "summary: chunks dropped %r" % fig.get("chunks dropped"))
    # paced in real time by the sink's clock sync, not faster
    check(took >= file_s - 0.2, "streamed %.2f s of audio in %.2f s: not in real time" % (file_s, took))
    # one status line a second without a terminal, no redraws
    statuses = [parse_status(line) for line in out.splitlines() if parse_status(line)]
    check(len(statuses) >= int(file_s) - 1, "%d status lines for %.1f s" % (len(statuses), file_s))
    check("\r" not in out, "carriage returns in output that is not a terminal")
    check(all(s[0] in ("starting", "transmitting") for s in statuses), "states: %s" % statuses)

    h.finish_ingest()
    summary, wav = h.session("file-1")
    got_s = wav_seconds(wav)
    log("received: %d chunks, WAV %.3f s (file %.3f s, difference %+.1f ms), endReason %r"
        % (summary["chunks"], got_s, file_s, (got_s - file_s) * 1000, summary["endReason"]))
    check(summary["chunks"] > 0, "the session has no chunks")
    check(summary["chunks"] == int(fig["chunks sent"]),
          "the receiver has %d chunks, the tool sent %s" % (summary["chunks"], fig["chunks sent"]))
    check(summary["endReason"] == "end of stream", "endReason %r" % summary["endReason"])
    check(abs(got_s - file_s) <= WAV_TOLERANCE_S, "WAV %.3f s, file %.3f s" % (got_s, file_s))
    check(summary["controlEvents"] == [], "controlEvents %s" % summary["controlEvents"])


def wait_status(h, tty, what, pred, after, timeout):
    """The first status line drawn after @after that satisfies pred."""
    def found():
        for s in tty.statuses():
            if s[0] >= after and pred(s):
                return s
        return None
    return h.wait_for(what, found, timeout, proc=tty.proc)


def case_keys(h):
    url = h.start_ingest()
    tone = write_tone_wav(h.path("tone.wav"), 30.0)
    tty = PtyProcess(h, "speaker", [h.speaker, "--url", url, "--file", tone, "--session-id", "keys-1",
                                    "--token", TOKEN], h.env("speaker"))
    try:
        start = wait_status(h, tty, "streaming", lambda s: s[1] == "transmitting" and s[2] >= 2, 0, 15)[0]
        time.sleep(1.0)
        # Each key, the state the status line must reach within 2 s of it.
        pressed = []
        for key, state, after in [("p", "paused", "p"), ("p", "transmitting", "the second p"),
                                  ("m", "muted", "m"), ("m", "transmitting", "the second m")]:
            pressed.append(tty.press(key))
            wait_status(h, tty, "\"%s\" after %s" % (state, after), lambda s, state=state: s[1] == state,
                        pressed[-1], 2)
            time.sleep(1.5)
        t_p1, t_p2, t_m1, t_m2 = pressed
        t_q = tty.press("q")
        rc = h.wait(tty.proc, 20)
        t_exit = time.monotonic()
        time.sleep(0.3)  # the reader's last bytes
    finally:
        tty.save()
    text = tty.text()
    check(rc == 0, "exit status %d:\n%s" % (rc, text[-2000:]))
    no_token(h, text, "the terminal")
    check(tty.terminal_restored(), "the terminal's modes were not restored at exit")
    check("\r" in text and "\x1b[K" in text, "the status line was not redrawn in place on a terminal")
    fig = summary_figures(text)
    check(fig.get("ended") == "Speaker ended session", "summary says ended %r" % fig.get("ended"))

    # What the status line said, and when. The tool acknowledges each key
    # with a line of its own and draws the new state right after it: every
    # status line between two acknowledgements must say the same thing.
    acks = [("Paused:", "paused", t_p1), ("Resumed:", "transmitting", t_p2), ("Muted:", "muted", t_m1),
            ("Unmuted.", "transmitting", t_m2), ("q: ending the session", "ending", t_q)]
    screens = tty.screens()
    segment, want, seen = "before the first key", "transmitting", {}
    order = []
    for t, line in screens:
        ack = next((a for a in acks if line.startswith(a[0])), None)
        if ack:
            check(t - ack[2] < 1.5, "\"%s\" came %.2f s after the key" % (ack[0], t - ack[2]))
            order.append(ack[0])
            segment, want = ack[0], ack[1]
            continue
        st = parse_status(line)
        if st and segment != "q: ending the session":
            seen.setdefault(segment, []).append(st[0])
            ok = st[0] == want or (segment == "before the first key" and st[0] == "starting")
            check(ok, "after %r the status said %r, not %r" % (segment, st[0], want))
    check(order == [a[0] for a in acks], "key acknowledgements %s" % order)
    for a in ["before the first key"] + [a[0] for a in acks[:-1]]:
        check(len(seen.get(a, [])) >= 2, "%d status lines after %r" % (len(seen.get(a, [])), a))
    statuses = tty.statuses()
    check(any(st[1] == "ending" for st in statuses if st[0] >= t_q), "no \"ending\" status after q")
    log("status: %d lines drawn; p at %.1f s, p %.1f, m %.1f, m %.1f, q %.1f; exited %.2f s after q"
        % (len(statuses), t_p1 - start, t_p2 - start, t_m1 - start, t_m2 - start, t_q - start, t_exit - t_q))

    h.finish_ingest()
    summary, wav = h.session("keys-1")
    actions = [c["action"] for c in summary["controlEvents"]]
    log("receiver: controlEvents %s, endReason %r, %d chunks, WAV %.2f s"
        % (actions, summary["endReason"], summary["chunks"], wav_seconds(wav)))
    check(actions == ["pauseBroadcast", "resumeBroadcast", "muteBroadcast", "unmuteBroadcast"],
          "controlEvents %s" % actions)
    check(summary["endReason"] == "Speaker ended session", "endReason %r" % summary["endReason"])
    check(summary["chunks"] == int(fig["chunks sent"]), "receiver %d chunks, tool sent %s"
          % (summary["chunks"], fig["chunks sent"]))
    # Paused audio arrives late but whole; muted audio never does: the
    # session's duration (the summary's, from the stream's start) less the
    # muted time, give or take a cluster at each edge of the mute and the
    # end.
    duration = float(fig["duration"].split("(")[1].split()[0])
    expected = duration - (t_m2 - t_m1)
    got = wav_seconds(wav)
    log("received %.2f s; session %.2f s less %.2f s muted = %.2f s (difference %+.2f s)"
        % (got, duration, t_m2 - t_m1, expected, got - expected))
    check(abs(got - expected) < 0.6, "received %.2f s, expected about %.2f s" % (got, expected))


def case_ctrl_c(h):
    url = h.start_ingest()
    tone = write_tone_wav(h.path("tone.wav"), 20.0)
    tty = PtyProcess(h, "speaker", [h.speaker, "--url", url, "--file", tone, "--session-id", "ctrl-c-1"],
                     h.env("speaker"))
    try:
        wait_status(h, tty, "streaming", lambda s: s[1] == "transmitting" and s[2] >= 4, 0, 15)
        tty.press("\x03")  # the terminal turns it into SIGINT for the tool
        rc = h.wait(tty.proc, 20)
        time.sleep(0.3)
    finally:
        tty.save()
    text = tty.text()
    check(rc == 0, "exit status %d after Ctrl-C:\n%s" % (rc, text[-2000:]))
    check("Ctrl-C: ending the session" in text, "no word of Ctrl-C ending the session")
    check(tty.terminal_restored(), "the terminal's modes were not restored after Ctrl-C")
    fig = summary_figures(text)
    check(fig.get("ended") == "Speaker ended session", "summary says ended %r" % fig.get("ended"))

    # SIGTERM, no terminal at all: the same clean end.
    p = h.spawn("speaker-term", [h.speaker, "--url", url, "--file", tone, "--session-id", "term-1"])
    h.wait_for("a chunk sent", lambda: any((parse_status(line) or ("", 0))[1] >= 4
                                             for line in h.stdout_of("speaker-term").splitlines()), 15, proc=p)
    p.send_signal(signal.SIGTERM)
    rc = h.wait(p, 20)
    check(rc == 0, "exit status %d after SIGTERM:\n%s" % (rc, h.output("speaker-term")))
    check(summary_figures(h.stdout_of("speaker-term")).get("ended") == "Speaker ended session",
          "SIGTERM: not ended by the speaker")

    h.finish_ingest()
    for sid in ("ctrl-c-1", "term-1"):
        summary, wav = h.session(sid)
        log("%s: endReason %r, %d chunks, WAV %.2f s" % (sid, summary["endReason"], summary["chunks"],
                                                          wav_seconds(wav)))
        check(summary["endReason"] == "Speaker ended session", "%s: endReason %r" % (sid, summary["endReason"]))
        check(summary["chunks"] > 0, "%s: no chunks" % sid)


class RefusingServer:
    """Answers every WebSocket upgrade with 401, keeping the requests."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(5)
            data = b""
            try:
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    part = conn.recv(4096)
                    if not part:
                        break
                    data += part
                self.requests.append(data.decode("latin-1"))
                conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
            finally:
                conn.close()

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


def case_unreachable(h):
    tone = write_tone_wav(h.path("tone.wav"), 5.0)
    port = free_port()
    t0 = time.monotonic()
    rc, out, err = h.run_speaker("closed", ["--url", "ws://127.0.0.1:%d/ws" % port, "--file", tone,
                                            "--token", TOKEN], timeout=20)
    took = time.monotonic() - t0
    log("closed port %d: exit %d after %.2f s; stderr: %s" % (port, rc, took, err.strip()))
    check(rc == 1, "exit status %d for a closed port" % rc)
    check("Server unreachable: " in err, "no \"Server unreachable\" on stderr:\n%s" % err)
    check(str(port) in err and "refused" in err.lower(), "the message lacks the URL or the cause:\n%s" % err)
    check("Session summary" not in out, "a summary for a session that never started")
    no_token(h, out + err, "the output")

    server = RefusingServer()
    try:
        rc, out, err = h.run_speaker("refused", ["--url", "ws://127.0.0.1:%d/ws?key=abc" % server.port,
                                                 "--file", tone, "--token", TOKEN], timeout=20)
    finally:
        server.close()
    log("401 server: exit %d; stderr: %s" % (rc, err.strip()))
    check(rc == 1, "exit status %d for a refused upgrade" % rc)
    check(server.requests, "the server got no request")
    headers = [line.lower() for line in server.requests[0].split("\r\n")]
    check("authorization: bearer %s" % TOKEN.lower() in headers,
          "no \"Authorization: Bearer <token>\" in the upgrade request:\n%s" % server.requests[0])
    check("Server rejected the connection" in err and "401" in err, "no word of the 401:\n%s" % err)
    no_token(h, out + err, "the output")
    check("key=abc" not in out + err, "the URL's query was printed")


def make_test_ca(h):
    """A CA and a certificate for 127.0.0.1 signed by it (openssl)."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"]
    def openssl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=h.dir)
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=wssac test CA")
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(h.path("san.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "san.cnf")
    return h.path("ca.pem"), h.path("server.pem"), h.path("server.key")


def case_tls(h):
    if not shutil.which("openssl"):
        print("SKIP: openssl is not installed: no test CA can be made", flush=True)
        return SKIP
    ca, cert, key = make_test_ca(h)
    tone = write_tone_wav(h.path("tone.wav"), 2.0)
    token_file = h.path("token.txt")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")

    # wss:// to a plain server: the TLS handshake gets no answer.
    plain = h.start_ingest()
    rc, out, err = h.run_speaker("wss-to-plain", ["--url", plain.replace("ws://", "wss://"), "--file", tone],
                                 timeout=30)
    log("wss:// to a plain server: exit %d: %s" % (rc, err.strip()))
    check(rc == 1, "exit status %d" % rc)
    check("use ws:// instead of wss://" in err, "no hint to use ws://:\n%s" % err)
    h.finish_ingest()

    url = h.start_ingest(["--tls-cert", cert, "--tls-key", key, "--auth-token-file", token_file])
    wss = url.replace("ws://", "wss://")

    rc, out, err = h.run_speaker("ws-to-tls", ["--url", url, "--file", tone], timeout=30)
    log("ws:// to a TLS server: exit %d: %s" % (rc, err.strip()))
    check(rc == 1, "exit status %d" % rc)
    check("use wss:// instead of ws://" in err, "no hint to use wss://:\n%s" % err)

    rc, out, err = h.run_speaker("untrusted", ["--url", wss, "--file", tone, "--token-file", token_file],
                                 timeout=30)
    log("private CA without --ca-file: exit %d: %s" % (rc, err.strip()))
    check(rc == 1, "exit status %d" % rc)
    check("--ca-file" in err and "not trusted" in err, "does not name --ca-file:\n%s" % err)
    no_token(h, out + err, "the output")

    rc, out, err = h.run_speaker("ca-file", ["--url", wss, "--file", tone, "--session-id", "tls-ca",
                                             "--ca-file", ca, "--token-file", token_file], timeout=30)
    log("--ca-file --token-file: exit %d" % rc)
    check(rc == 0, "exit status %d:\n%s%s" % (rc, out, err))
    no_token(h, out + err, "the output")
    sent_ca = int(summary_figures(out)["chunks sent"])

    rc, out, err = h.run_speaker("insecure", ["--url", wss, "--file", tone, "--session-id", "tls-insecure",
                                              "--insecure", "--token-file", token_file], timeout=30)
    log("--insecure: exit %d" % rc)
    check(rc == 0, "exit status %d:\n%s%s" % (rc, out, err))
    check("certificate validation is disabled" in out + err, "no warning for --insecure:\n%s%s" % (out, err))
    no_token(h, out + err, "the output")

    h.finish_ingest()
    for session, sent in (("tls-ca", sent_ca), ("tls-insecure", None)):
        summary, wav = h.session(session)
        log("%s: %d chunks, WAV %.2f s" % (session, summary["chunks"], wav_seconds(wav)))
        check(summary["chunks"] > 0, "%s: no chunks" % session)
        check(sent is None or summary["chunks"] == sent, "%s: %d chunks received, %s sent"
              % (session, summary["chunks"], sent))
        check(abs(wav_seconds(wav) - 2.0) <= WAV_TOLERANCE_S, "%s: WAV %.3f s" % (session, wav_seconds(wav)))


def no_audio_server_env(h, who):
    """No PulseAudio reachable, and no spawning one."""
    conf = h.path("client.conf")
    with open(conf, "w") as f:
        f.write("autospawn = no\n")
    return h.env(who, {"PULSE_SERVER": "unix:" + h.path("no-such-socket"), "PULSE_CLIENTCONFIG": conf,
                       "PIPEWIRE_REMOTE": h.path("no-such-pipewire")})


def case_no_devices(h):
    rc, out, err = h.run_speaker("list", ["--list-devices", "--token", TOKEN], 20,
                                 env=no_audio_server_env(h, "speaker"))
    log("--list-devices: exit %d: %s" % (rc, out.strip()))
    check(rc == 0, "--list-devices exited %d:\n%s%s" % (rc, out, err))
    check("No audio input devices found" in out, "does not say there are no devices:\n%s" % out)
    no_token(h, out + err, "the output")

    rc, out, err = h.run_speaker("check", ["--check-mic"], 20, env=no_audio_server_env(h, "speaker"))
    log("--check-mic: exit %d: %s" % (rc, err.strip()))
    check(rc == 1, "--check-mic without a microphone exited %d" % rc)
    check("No microphone found. Please connect a microphone." in err, "stderr:\n%s" % err)

    rc, out, err = h.run_speaker("live", ["--url", "ws://127.0.0.1:%d/ws" % free_port(), "--token", TOKEN], 20,
                                 env=no_audio_server_env(h, "speaker"))
    log("streaming without a microphone: exit %d: %s" % (rc, err.strip()))
    check(rc == 1, "streaming without a microphone exited %d" % rc)
    check("No microphone found. Please connect a microphone." in err, "stderr:\n%s" % err)
    no_token(h, out + err, "the output")


def case_usage(h):
    wrong = [
        (["--file", "x.wav"], "no --url"),
        (["--url", "http://127.0.0.1/ws", "--file", "x.wav"], "ws:// or wss://"),
        (["--url", "ws://127.0.0.1:1/ws", "--file", h.path("missing.wav")], "no such file"),
        (["--list-devices", "--check-mic"], "do not go together"),
        (["--check-mic", "--file", "x.wav"], "not a file"),
        (["--tokn=" + TOKEN], "Unknown option"),
        (["stray"], "unexpected argument"),
        (["--url", "ws://127.0.0.1:1/ws", "--insecure"], "is for wss:// URLs"),
        (["--url", "wss://127.0.0.1:1/ws", "--insecure", "--ca-file", "x.pem"], "do not go together"),
        (["--url", "wss://127.0.0.1:1/ws", "--ca-file", h.path("missing.pem")], "no such file"),
        (["--url", "wss://127.0.0.1:1/ws", "--token-file", h.path("missing.txt")], "--token-file"),
        (["--url", "wss://127.0.0.1:1/ws", "--token", TOKEN, "--token-file", h.path("t")],
         "do not go together"),
    ]
    for i, (args, words) in enumerate(wrong):
        rc, out, err = h.run_speaker("usage-%d" % i, args, 10)
        check(rc == 2, "%s: exit %d, not 2" % (args, rc))
        check(words in err, "%s: %r not in stderr:\n%s" % (args, words, err))
        no_token(h, out + err, "the output")
    rc, out, err = h.run_speaker("help", ["--help"], 10)
    check(rc == 0 and "--list-devices" in out and "Keys" in out, "--help: exit %d:\n%s" % (rc, out))


def case_pulse(h):
    missing = [t for t in ("pulseaudio", "pactl", "gst-launch-1.0") if not shutil.which(t)]
    if missing:
        print("SKIP: %s not installed (scripts/install-deps.sh installs PulseAudio): the live-device path "
              "is not tested here" % ", ".join(missing), flush=True)
        return SKIP
    # A private PulseAudio on a socket in the scratch directory (no D-Bus,
    # no autospawn, no default.pa), with a null sink whose monitor is the
    # "microphone".
    home, run = h.path("home"), h.path("run")
    os.mkdir(home)
    os.mkdir(run, 0o700)
    conf = h.path("client.conf")
    with open(conf, "w") as f:
        f.write("autospawn = no\n")
    sock = h.path("native")
    pa = {"HOME": home, "XDG_RUNTIME_DIR": run, "XDG_CONFIG_HOME": os.path.join(home, ".config"),
          "PULSE_SERVER": "unix:" + sock, "PULSE_CLIENTCONFIG": conf, "DBUS_SESSION_BUS_ADDRESS": "disabled:"}
    daemon = h.spawn("pulseaudio", [
        "pulseaudio", "-n", "--daemonize=no", "--system=no", "--exit-idle-time=-1", "--disallow-exit",
        "--use-pid-file=no", "--realtime=no", "--high-priority=no", "--log-target=stderr", "--log-level=error",
        "-L", "module-native-protocol-unix socket=%s auth-anonymous=1" % sock,
        "-L", "module-null-sink sink_name=spk sink_properties=device.description=test-speaker"],
        env=h.env("pulseaudio", pa))

    def ready():
        r = subprocess.run(["pactl", "list", "short", "sources"], env=h.env("pactl", pa),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10)
        return r.returncode == 0 and b"spk.monitor" in r.stdout
    h.wait_for("PulseAudio", ready, 20, proc=daemon, interval=0.2)

    rc, out, err = h.run_speaker("list", ["--list-devices"], 20, env=h.env("speaker", pa))
    log("--list-devices:\n" + out.rstrip())
    check(rc == 0, "--list-devices exited %d:\n%s" % (rc, err))
    check("Monitor of test-speaker" in out and "pulsesrc device=spk.monitor" in out and "--device=spk.monitor" in out,
          "the null sink's monitor is not listed with how to pick it:\n%s" % out)

    # A tone plays into the null sink: its monitor hears it.
    h.spawn("player", ["gst-launch-1.0", "-q", "audiotestsrc", "is-live=true", "volume=0.3", "!",
                       "pulsesink", "device=spk", "client-name=speaker-test-player"], env=h.env("player", pa))
    time.sleep(0.5)
    rc, out, err = h.run_speaker("check", ["--check-mic", "--device=spk.monitor"], 20, env=h.env("speaker", pa))
    log("--check-mic: exit %d: %s%s" % (rc, out.strip(), err.strip()))
    check(rc == 0 and "Microphone OK: input level" in out, "--check-mic: exit %d:\n%s%s" % (rc, out, err))
    level = int(out.split("input level ")[1].split("/")[0])
    check(level > 0, "--check-mic reported level %d with a tone playing" % level)

    url = h.start_ingest()
    p = h.spawn("live", [h.speaker, "--url", url, "--session-id", "live-1", "--device", "0"], env=h.env("speaker", pa))
    h.wait_for("4 chunks sent", lambda: any((parse_status(line) or ("", 0))[1] >= 4
                                            for line in h.stdout_of("live").splitlines()), 20, proc=p)
    p.send_signal(signal.SIGINT)
    rc = h.wait(p, 20)
    out = h.stdout_of("live")
    log("live: exit %d\n%s" % (rc, out.rstrip()))
    check(rc == 0, "live session exited %d:\n%s" % (rc, h.output("live")))
    check("Voice processing: webrtcdsp" in out or "webrtcdsp is not installed" in out,
          "no word of voice processing")
    levels = [int(line.split("level")[1].split("|")[0]) for line in out.splitlines() if parse_status(line)]
    check(max(levels) > 0, "the status line's level stayed 0 with a tone playing: %s" % levels)
    check(summary_figures(out).get("ended") == "Speaker ended session", "not ended by the speaker")
    h.finish_ingest()
    summary, wav = h.session("live-1")
    log("receiver: %d chunks, WAV %.2f s, endReason %r" % (summary["chunks"], wav_seconds(wav), summary["endReason"]))
    check(summary["chunks"] >= 4 and summary["endReason"] == "Speaker ended session", "summary %s" % summary)


if __name__ == "__main__":
    main({"file": case_file, "keys": case_keys, "ctrl-c": case_ctrl_c, "unreachable": case_unreachable,
          "no-devices": case_no_devices, "usage": case_usage, "tls": case_tls, "pulse": case_pulse})
