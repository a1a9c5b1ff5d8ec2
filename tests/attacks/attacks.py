#!/usr/bin/env python3
"""Attacks on wssaudiochunk-ingest, the real program, as a hostile client
would make them (issue 12), each followed by a legitimate speaker that must
still stream with nothing lost. The server runs with RLIMIT_NOFILE 1024
(soft and hard: the default of a Linux account), on 127.0.0.1; the second
address 127.0.0.2 plays another client. Bounded in time and count.

Usage: attacks.py CASE   (WSSAC_INGEST names the program)
"""
import base64
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wsclient  # noqa: E402

INGEST = os.environ.get("WSSAC_INGEST", "")
FD_LIMIT = 1024


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def webm_stream(tmp, seconds=3.0):
    """A real WebM/Opus stream (speech-like tone) from GStreamer."""
    path = os.path.join(tmp, "speech.webm")
    buffers = int(seconds * 50)
    # Only GStreamer's own elements: without our plugin's path, so that an
    # ASan build of it (scripts/sanitize.sh) is not loaded into this
    # uninstrumented gst-launch-1.0.
    env = {k: v for k, v in os.environ.items() if k != "GST_PLUGIN_PATH_1_0"}
    env["GST_REGISTRY"] = os.path.join(tmp, "registry-fixture.bin")
    subprocess.run(["gst-launch-1.0", "-q", "audiotestsrc", f"num-buffers={buffers}", "samplesperbuffer=320",
                    "!", "audio/x-raw,rate=16000,channels=1", "!", "opusenc", "bitrate=16000",
                    "!", "webmmux", "streamable=true", "!", "filesink", f"location={path}"], check=True,
                   timeout=60, env=env)
    with open(path, "rb") as f:
        return f.read()


def chunks_of(data, size=900):
    return [data[i:i + size] for i in range(0, len(data), size)]


def audio_msg(session, index, audio, stream_id=None):
    m = {"action": "audioChunk", "sessionId": session, "audioData": base64.b64encode(audio).decode(),
         "timestamp": int(time.time() * 1000), "format": "webm-opus", "chunkIndex": index,
         "originalSize": len(audio)}
    if stream_id:
        m["streamId"] = stream_id
    return json.dumps(m)


class Ingest:
    def __init__(self, tmp, extra=(), outdir=None, fd_limit=FD_LIMIT):
        self.tmp = tmp
        self.outdir = outdir or os.path.join(tmp, "rec")
        port_file = os.path.join(tmp, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.log = open(os.path.join(tmp, "ingest.log"), "ab")

        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))
        env = dict(os.environ)
        env["GST_REGISTRY"] = os.path.join(tmp, "registry.bin")
        self.proc = subprocess.Popen([INGEST, "--port", "0", "--port-file", port_file, "--output-dir", self.outdir,
                                      "--max-connections-per-address", "0"] + list(extra)
                                     # e.g. "--workers 1": the suite on another worker count
                                     + os.environ.get("WSSAC_INGEST_ARGS", "").split(),
                                     stdout=self.log, stderr=self.log, preexec_fn=limit, env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            if os.path.exists(port_file):
                text = open(port_file).read()
                if text.endswith("\n"):
                    self.port = int(text)
                    return
            check(self.proc.poll() is None, "the server exited at start: " + self.output())
            time.sleep(0.05)
        fail("no port file")

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def rss_kb(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def threads(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/task"))

    def output(self):
        self.log.flush()
        return open(os.path.join(self.tmp, "ingest.log"), errors="replace").read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def speak(port, session, stream, source=None, headers=None, stream_id=None, stop_after=None, acks=None,
          connect_timeout=10):
    """Streams @stream as chunks, waits for the last ack. Returns the acked
    index (or raises)."""
    ws = wsclient.connect(port, source=source, headers=headers, timeout=connect_timeout)
    check(isinstance(ws, wsclient.WS), f"speaker refused: {ws[0] if isinstance(ws, tuple) else ws}")
    pieces = chunks_of(stream)
    n = len(pieces) if stop_after is None else stop_after
    for i in range(n):
        ws.send_text(audio_msg(session, i, pieces[i], stream_id))
    last = -1
    ws.sock.settimeout(10)
    # The receiver acks every 4th chunk (and at the end of the session).
    while last < (n // 4) * 4 - 1:
        op, payload = ws.recv()
        if op == 1:
            reply = json.loads(payload)
            check(reply.get("action") == "ack", f"unexpected reply {reply}")
            last = reply["chunkIndex"]
            if acks is not None:
                acks.append(last)
    return ws, last


def end_session(ws, session):
    """Ends the session; returns the final ack's index."""
    ws.send_text(json.dumps({"action": "endSession", "sessionId": session}))
    last = -1
    try:
        while True:
            op, payload = ws.recv()
            if op == 1 and json.loads(payload).get("action") == "ack":
                last = json.loads(payload)["chunkIndex"]
            if op == 8 or last >= 0:
                break
    except (OSError, EOFError):
        pass
    ws.close()
    return last


def wait_for(path, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if os.path.exists(path):
            time.sleep(0.1)
            return True
        time.sleep(0.05)
    return False


def wav_seconds(path):
    with open(path, "rb") as f:
        b = f.read()
    check(b[:4] == b"RIFF" and b[8:12] == b"WAVE", f"{path}: not a WAV")
    riff = int.from_bytes(b[4:8], "little")
    data = int.from_bytes(b[40:44], "little")
    check(riff == len(b) - 8 and data == len(b) - 44, f"{path}: header sizes {riff}/{data}, file {len(b)}")
    return data / 32000.0


def legit_speaker_ok(ing, stream, session, source=None, headers=None):
    t0 = time.time()
    ws, last = speak(ing.port, session, stream, source=source, headers=headers)
    elapsed = time.time() - t0
    last = max(last, end_session(ws, session))
    check(last == len(chunks_of(stream)) - 1, f"{session}: acked up to {last}")
    summary = os.path.join(ing.outdir, session + ".json")
    check(wait_for(summary), f"{session}: no summary; log: {ing.output()[-2000:]}")
    s = json.load(open(summary))
    check(s["delivered"] == len(chunks_of(stream)) and s["missing"] == 0, f"{session}: {s}")
    secs = wav_seconds(os.path.join(ing.outdir, session + ".wav"))
    check(abs(secs - s["audioSeconds"]) < 1e-6 and secs > 2.5, f"{session}: WAV {secs} s")
    return elapsed


# --- cases ------------------------------------------------------------------

def case_refused_upgrades(tmp, stream):
    """1,100 refused upgrades (no token) leak nothing; a speaker with the
    token then streams."""
    tokens = os.path.join(tmp, "tokens")
    open(tokens, "w").write("secret-token\n")
    ing = Ingest(tmp, ["--auth-token-file", tokens])
    start = ing.fds()
    for i in range(1100):
        r = wsclient.connect(ing.port)
        check(isinstance(r, tuple) and r[0] == 401, f"refusal {i}: {r}")
        r[1].close()
    time.sleep(0.5)
    after = ing.fds()
    print(f"fds: {start} at start, {after} after 1,100 refused upgrades")
    check(after <= start + 3, f"{after - start} descriptors leaked")
    legit_speaker_ok(ing, stream, "after-refusals", headers={"Authorization": "Bearer secret-token"})
    check(ing.stop() == 0, "exit status")


def case_slowloris(tmp, stream):
    """1,100 connections from 127.0.0.1 send half a request and hold it; a
    speaker from 127.0.0.2 is served meanwhile, and after the header timeout
    the server is clean."""
    ing = Ingest(tmp, ["--header-timeout-ms", "3000"])
    start = ing.fds()
    held = []
    for i in range(1100):
        s = socket.create_connection(("127.0.0.1", ing.port), timeout=5)
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
        held.append(s)
    during = ing.fds()
    t = legit_speaker_ok(ing, stream, "beside-slowloris", source="127.0.0.2")
    print(f"fds: {start} at start, {during} with 1,100 half requests held; speaker from 127.0.0.2 "
          f"streamed {len(chunks_of(stream))} chunks in {t:.2f} s")
    check(during < FD_LIMIT // 2, f"{during} descriptors held by the attack")
    deadline = time.time() + 15
    while time.time() < deadline and ing.fds() > start + 3:
        time.sleep(0.2)
    print(f"fds: {ing.fds()} after the header timeout (attacker still holding its sockets)")
    check(ing.fds() <= start + 3, "half requests were not closed by the header timeout")
    for s in held:
        s.close()
    legit_speaker_ok(ing, stream, "after-slowloris")
    check(ing.stop() == 0, "exit status")


def case_fd_exhaustion(tmp, stream):
    """Upgraded connections from four addresses use up the descriptors of a
    server limited to 128: it answers 503 or pauses accepting, and once they
    close it accepts again."""
    ing = Ingest(tmp, [], fd_limit=128)
    conns = []
    refused = 0
    for i in range(200):
        try:
            r = wsclient.connect(ing.port, source=f"127.0.0.{1 + i % 4}", timeout=3)
        except (OSError, socket.timeout):
            refused += 1
            continue
        if isinstance(r, wsclient.WS):
            conns.append(r)
        else:
            refused += 1
            r[1].close()
    print(f"{len(conns)} connections held, {refused} refused (503 or closed), server fds {ing.fds()}")
    check(refused > 0, "the server never refused at its descriptor limit")
    for c in conns:
        c.sock.close()
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            legit_speaker_ok(ing, stream, "after-exhaustion")
            break
        except (OSError, EOFError, SystemExit):
            time.sleep(0.5)
    else:
        fail("the server did not accept again after the descriptors were freed: " + ing.output()[-2000:])
    check(ing.stop() == 0, "exit status")


def case_deflate_off(tmp, stream):
    """permessage-deflate is not offered by default: a compressed frame
    closes the connection instead of inflating."""
    ing = Ingest(tmp, [])
    ws = wsclient.connect(ing.port, extensions="permessage-deflate")
    check(isinstance(ws, wsclient.WS), "upgrade refused")
    check("permessage-deflate" not in ws.head.lower(), "deflate was negotiated: " + ws.head)
    import zlib
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = comp.compress(b"\0" * (50 * 1024 * 1024)) + comp.flush(zlib.Z_SYNC_FLUSH)
    rss0 = ing.rss_kb()
    try:
        ws.send_frame(1, bomb[:-4], rsv1=True)
        ws.close_code()
    except OSError:
        pass
    rss1 = ing.rss_kb()
    print(f"compressed frame of {len(bomb)} bytes (50 MB inflated): RSS {rss0} -> {rss1} kB")
    check(rss1 - rss0 < 20 * 1024, "the server inflated the bomb")
    legit_speaker_ok(ing, stream, "after-bomb")
    check(ing.stop() == 0, "exit status")


def case_fragments(tmp, stream):
    """A message sent in 64 KB fragments that never ends: closed with 1009
    as soon as the fragments pass the 128 KB message limit."""
    ing = Ingest(tmp, [])
    ws = wsclient.connect(ing.port)
    rss0 = ing.rss_kb()
    sent = 0
    try:
        ws.send_frame(1, b"{" + b" " * (64 * 1024 - 1), fin=False)
        sent += 64 * 1024
        for i in range(4000):  # up to 256 MB
            ws.send_frame(0, b" " * (64 * 1024), fin=False)
            sent += 64 * 1024
    except OSError:
        pass
    code = ws.close_code()
    rss1 = ing.rss_kb()
    print(f"fragments: {sent // 1024} KB sent before the server closed (code {code}); RSS {rss0} -> {rss1} kB")
    check(code == 1009, f"close code {code}")
    check(sent < 16 * 1024 * 1024, "the server read on")
    check(rss1 - rss0 < 20 * 1024, "the server buffered the fragments")
    legit_speaker_ok(ing, stream, "after-fragments")
    check(ing.stop() == 0, "exit status")


def case_ping_flood(tmp, stream):
    """Pings as fast as a client can send them: closed with 1008 after the
    burst, instead of answered without limit."""
    ing = Ingest(tmp, [])
    ws = wsclient.connect(ing.port)
    sent = 0
    try:
        for i in range(100000):
            ws.send_frame(9, b"x")
            sent += 1
    except OSError:
        pass
    code = ws.close_code()
    print(f"ping flood: {sent} pings sent before the connection closed (code {code})")
    check(code == 1008, f"close code {code}")
    legit_speaker_ok(ing, stream, "after-pings")
    check(ing.stop() == 0, "exit status")


def case_deflate_bomb(tmp, stream):
    """With --permessage-deflate on, the inflated size is bounded too: a
    50 KB frame inflating to 50 MB is closed with 1009, and a compressed
    message under the limit is recorded."""
    import zlib
    ing = Ingest(tmp, ["--permessage-deflate"])
    ws = wsclient.connect(ing.port, extensions="permessage-deflate")
    check(isinstance(ws, wsclient.WS) and "permessage-deflate" in ws.head.lower(), "deflate not negotiated")
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    # A real chunk, compressed (context takeover: one compressor for the connection).
    msg = audio_msg("squeezed", 0, chunks_of(stream)[0]).encode()
    data = comp.compress(msg) + comp.flush(zlib.Z_SYNC_FLUSH)
    ws.send_frame(1, data[:-4], rsv1=True)
    # Then the bomb, in the same compression context.
    bomb = comp.compress(b"{" + b" " * (50 * 1024 * 1024)) + comp.flush(zlib.Z_SYNC_FLUSH)
    rss0 = ing.rss_kb()
    code = None
    try:
        ws.send_frame(1, bomb[:-4], rsv1=True)
        code = ws.close_code()
    except OSError:
        pass
    rss1 = ing.rss_kb()
    print(f"deflate on: {len(bomb)}-byte frame (50 MB inflated) closed with {code}; RSS {rss0} -> {rss1} kB")
    check(code == 1009, f"close code {code}")
    check(rss1 - rss0 < 20 * 1024, "the server inflated the bomb")
    check(ing.stop() == 0, "exit status")
    s = json.load(open(os.path.join(ing.outdir, "squeezed.json")))
    check(s["delivered"] == 1, f"the compressed chunk was not recorded: {s}")


def case_invalid_session_id(tmp, stream):
    ing = Ingest(tmp, [])
    ws, _ = speak(ing.port, "a", stream, stop_after=4)
    other = wsclient.connect(ing.port)
    other.send_text('{"action":"audioChunk","sessionId":"a\\u0000b","audioData":"AQID","chunkIndex":9}')
    op, payload = other.recv()
    reply = json.loads(payload)
    check(reply.get("code") == "invalid-session-id", f"reply {reply}")
    other.close()
    end_session(ws, "a")
    check(wait_for(os.path.join(ing.outdir, "a.json")), "no summary")
    s = json.load(open(os.path.join(ing.outdir, "a.json")))
    check(s["delivered"] == 4 and s["rejected"] == 0, f"{s}")
    check(ing.stop() == 0, "exit status")


def case_sessions_rss(tmp, stream, record="webm"):
    """1,000 sessions from one address over sequential connections: RSS,
    threads and descriptors per 1,000 sessions, and after they ended."""
    ing = Ingest(tmp, ["--record", record, "--max-new-sessions-per-second", "0"], fd_limit=20000)
    one = chunks_of(stream)[0]
    rss0, fds0, thr0 = ing.rss_kb(), ing.fds(), ing.threads()
    open_ws = []
    for i in range(1000):
        ws = wsclient.connect(ing.port)
        check(isinstance(ws, wsclient.WS), f"session {i}: refused {ws}")
        ws.send_text(audio_msg(f"s{i}", 0, one))
        open_ws.append(ws)
    time.sleep(1)
    rss1, fds1, thr1 = ing.rss_kb(), ing.fds(), ing.threads()
    for i, ws in enumerate(open_ws):
        end_session(ws, f"s{i}")
    deadline = time.time() + 30
    while time.time() < deadline and len([f for f in os.listdir(ing.outdir) if f.endswith(".json")]) < 1000:
        time.sleep(0.2)
    time.sleep(1)
    rss2, fds2, thr2 = ing.rss_kb(), ing.fds(), ing.threads()
    print(f"1,000 live sessions (--record {record}): RSS {rss0} -> {rss1} kB, fds {fds0} -> {fds1}, threads {thr0} -> {thr1}; "
          f"after they ended: RSS {rss2} kB, fds {fds2}, threads {thr2}")
    check(thr1 - thr0 < 10, f"{thr1 - thr0} threads for 1,000 sessions")
    check(fds2 <= fds0 + 3, f"{fds2 - fds0} descriptors left after the sessions ended")
    check(ing.stop() == 0, "exit status")


def case_sessions_rss_wav(tmp, stream):
    case_sessions_rss(tmp, stream, "wav")


def case_takeover_other_token(tmp, stream):
    """With tokens, a session belongs to the token that started it: a client
    with another valid token is refused, counted and logged; the speaker's
    recording is complete."""
    tokens = os.path.join(tmp, "tokens")
    open(tokens, "w").write("token-of-speaker\ntoken-of-intruder\n")
    ing = Ingest(tmp, ["--auth-token-file", tokens])
    pieces = chunks_of(stream)
    ws, _ = speak(ing.port, "victim", stream, headers={"Authorization": "Bearer token-of-speaker"},
                  stop_after=4)
    ws.close()  # the speaker's connection drops: a takeover would be possible now
    time.sleep(0.2)
    bad = wsclient.connect(ing.port, headers={"Authorization": "Bearer token-of-intruder"})
    check(isinstance(bad, wsclient.WS), "intruder not upgraded")
    for i in range(4, 7):
        bad.send_text(audio_msg("victim", i, b"\x00" * 50))
        op, payload = bad.recv()
        reply = json.loads(payload)
        check(reply.get("code") == "session-bound", f"intruder got {reply}")
    bad.close()
    ws = wsclient.connect(ing.port, headers={"Authorization": "Bearer token-of-speaker"})
    for i in range(4, len(pieces)):
        ws.send_text(audio_msg("victim", i, pieces[i]))
    end_session(ws, "victim")
    check(wait_for(os.path.join(ing.outdir, "victim.json")), "no summary")
    s = json.load(open(os.path.join(ing.outdir, "victim.json")))
    check(s["delivered"] == len(pieces) and s["refusedOtherToken"] == 3 and s["rejected"] == 3, f"{s}")
    ing.stop()
    check("session-bound" in ing.output(), "the refusals were not logged")
    print(f"intruder refused 3 times; summary: delivered {s['delivered']}, refusedOtherToken {s['refusedOtherToken']}")


def case_session_flood(tmp, stream):
    """One address starting sessions as fast as it can is held to the
    per-address rate; a speaker from another address is not."""
    ing = Ingest(tmp, [])
    one = chunks_of(stream)[0]
    refused = 0
    t0 = time.time()
    for i in range(300):
        c = wsclient.connect(ing.port)
        c.send_text(audio_msg(f"flood{i}", 0, one))
        c.send_text(json.dumps({"action": "endSession", "sessionId": f"flood{i}"}))
        c.sock.settimeout(5)
        op, payload = c.recv()  # an error, or the ack of the ended session
        if op == 1 and json.loads(payload).get("code") == "too-many-new-sessions":
            refused += 1
        c.close()
    elapsed = time.time() - t0
    allowed = 50 + 10 * elapsed  # the burst, then 10 per second
    print(f"300 sessions started from 127.0.0.1 in {elapsed:.1f} s: {refused} refused (too-many-new-sessions)")
    check(300 - refused <= allowed + 1, f"{300 - refused} sessions started, the rate allows {allowed:.0f}")
    check(refused > 0, "none refused")
    legit_speaker_ok(ing, stream, "other-address", source="127.0.0.2")
    check(ing.stop() == 0, "exit status")


def case_crash_recovery(tmp, stream):
    """kill -9 mid-session: the journal and the WAV on disk hold at least
    every acknowledged chunk; the next start writes the missing summary."""
    ing = Ingest(tmp, [])
    pieces = chunks_of(stream)
    acks = []
    ws, last = speak(ing.port, "crash", stream, stop_after=len(pieces) * 2 // 3, acks=acks)
    ing.proc.kill()
    ing.proc.wait()
    ws.sock.close()
    acked = max(acks)
    index = [l.split() for l in open(os.path.join(ing.outdir, "crash.chunks"))]
    journal = open(os.path.join(ing.outdir, "crash.webm"), "rb").read()
    chunk_lines = [l for l in index if l[0] == "C"]
    check(len(chunk_lines) >= acked + 1, f"acked up to {acked}, journal holds {len(chunk_lines)} chunks")
    for l in chunk_lines:
        i, off, n = int(l[1]), int(l[2]), int(l[3])
        check(journal[off:off + n] == pieces[i], f"chunk {i} differs in the journal")
    check(not os.path.exists(os.path.join(ing.outdir, "crash.json")), "summary after kill -9?")
    with open(os.path.join(ing.outdir, "crash.wav"), "rb") as f:
        head = f.read(44)
    check(head[:4] == b"RIFF", "no WAV header")
    print(f"after kill -9: acked 0..{acked}, journal {len(chunk_lines)} chunks ({len(journal)} bytes)")
    ing2 = Ingest(tmp, [])
    s = json.load(open(os.path.join(ing.outdir, "crash.json")))
    check(s["recovered"] is True and s["sessionId"] == "crash", f"{s}")
    check(s["lastChunkIndex"] >= acked and s["firstChunkIndex"] == 0, f"{s}")
    secs = wav_seconds(os.path.join(ing.outdir, "crash.wav"))
    print(f"recovered: {s['chunks']} chunks, WAV {secs:.3f} s, summary {s['part']}.json")
    check(secs > 0.5, "empty WAV after recovery")
    check("recovered an unfinished recording: crash" in ing2.output(), "recovery not logged")
    check(ing2.stop() == 0, "exit status")


def case_shutdown_many_sessions(tmp, stream):
    """SIGTERM with more live sessions on one worker than the receiver keeps
    the figures of once ended (4,096): every session's summary still has its
    own counts (the program takes them from the session's end event)."""
    n = 4200
    ing = Ingest(tmp, ["--record", "webm", "--max-new-sessions-per-second", "0", "--idle-timeout", "0",
                       "--workers", "1"], fd_limit=20000)
    pieces = chunks_of(stream)
    open_ws = []
    for i in range(n):
        ws = wsclient.connect(ing.port)
        check(isinstance(ws, wsclient.WS), f"session {i}: refused {ws}")
        ws.send_text(audio_msg(f"m{i}", 0, pieces[0]))
        ws.send_text(audio_msg(f"m{i}", 1, pieces[1]))
        open_ws.append(ws)
    deadline = time.time() + 60
    while time.time() < deadline and len([f for f in os.listdir(ing.outdir) if f.endswith(".chunks")]) < n:
        time.sleep(0.2)
    time.sleep(1)
    check(ing.stop() == 0, "exit status")
    for ws in open_ws:
        ws.sock.close()
    wrong = []
    for i in range(n):
        s = json.load(open(os.path.join(ing.outdir, f"m{i}.json")))
        if s["chunks"] != 2 or s["delivered"] != 2 or s["lastChunkIndex"] != 1:
            wrong.append((i, s["chunks"], s["delivered"], s["lastChunkIndex"]))
    print(f"{n} sessions ended by SIGTERM: {n - len(wrong)} summaries with their counts")
    check(not wrong, f"{len(wrong)} summaries without their counts, e.g. {wrong[:3]}")


def case_two_runs(tmp, stream):
    """The same session id run twice (the first run does not end the
    session): the recording holds both runs, one after the other."""
    ing = Ingest(tmp, [])
    ws, _ = speak(ing.port, "twice", stream, stream_id="a" * 32)
    ws.close(wait=True)
    # The server may not have let go of the first connection yet: its first
    # chunk is then refused (session-claimed, nothing changes) and the run
    # tries again, as a sink would. An accepted chunk 0 is acked within the
    # receiver's promise (1 s).
    pieces = chunks_of(stream)
    for attempt in range(50):
        ws = wsclient.connect(ing.port)
        ws.send_text(audio_msg("twice", 0, pieces[0], "b" * 32))
        ws.sock.settimeout(5)
        op, payload = ws.recv()
        reply = json.loads(payload)
        if reply.get("action") == "ack":
            check(reply.get("chunkIndex") == 0 and reply.get("streamId") == "b" * 32, f"reply {payload}")
            break
        check(reply.get("code") == "session-claimed", f"reply {payload}")
        ws.sock.close()
        time.sleep(0.1)
    else:
        fail("the second run was never accepted")
    for i in range(1, len(pieces)):
        ws.send_text(audio_msg("twice", i, pieces[i], "b" * 32))
    end_session(ws, "twice")
    check(wait_for(os.path.join(ing.outdir, "twice.json")), "no summary")
    s = json.load(open(os.path.join(ing.outdir, "twice.json")))
    n = len(chunks_of(stream))
    check(s["delivered"] == 2 * n and s["duplicates"] == 0, f"{s}")
    check(s["streams"] == ["a" * 32, "b" * 32], f"{s['streams']}")
    secs = wav_seconds(os.path.join(ing.outdir, "twice.wav"))
    one = 3.0
    print(f"two runs of {n} chunks: WAV {secs:.3f} s")
    check(secs > 2 * one - 0.2, f"WAV {secs} s does not hold both runs")
    runs = [l.split()[-1] for l in open(os.path.join(ing.outdir, "twice.chunks"))]
    check(runs == ["a" * 32] * n + ["b" * 32] * n, "index lines do not name the runs in order")
    check(ing.stop() == 0, "exit status")


SINK_BUFFERS = 100  # 20 ms each: 2 s of audio per run


def sink_run(ing, session, extra=()):
    """One run of the real wssaudiochunksink (gst-launch-1.0, live source):
    returns (exit status, output)."""
    env = dict(os.environ)
    env["GST_REGISTRY"] = os.path.join(ing.tmp, "registry.bin")
    cmd = ["gst-launch-1.0", "audiotestsrc", "is-live=true", f"num-buffers={SINK_BUFFERS}",
           "samplesperbuffer=320", "wave=sine", "!", "audio/x-raw,rate=16000,channels=1",
           "!", "opusenc", "bitrate=16000", "!", "webmmux", "streamable=true",
           "min-cluster-duration=250000000", "!", "wssaudiochunksink",
           f"location=ws://127.0.0.1:{ing.port}/ws", f"session-id={session}"] + list(extra)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace")


def case_two_runs_sink(tmp, stream):
    """The real sink run twice with one session id (the first run keeps the
    session open; each run sends its own random streamId): the recording
    holds both runs' audio, the summary lists two streams."""
    ing = Ingest(tmp, [])
    rc, out = sink_run(ing, "again", ["end-session-on-eos=false"])
    check(rc == 0, f"run 1 exit {rc}: {out[-2000:]}")
    rc, out = sink_run(ing, "again")
    check(rc == 0, f"run 2 exit {rc}: {out[-2000:]}")
    check(wait_for(os.path.join(ing.outdir, "again.json")), f"no summary; log: {ing.output()[-2000:]}")
    s = json.load(open(os.path.join(ing.outdir, "again.json")))
    check(len(s["streams"]) == 2 and s["streams"][0] != s["streams"][1], f"streams {s['streams']}")
    check(s["duplicates"] == 0 and s["missing"] == 0, f"{s}")
    secs = wav_seconds(os.path.join(ing.outdir, "again.wav"))
    sent = 2 * SINK_BUFFERS * 0.020
    print(f"two sink runs of {sent / 2:.2f} s: WAV {secs:.3f} s, streams {s['streams']}")
    # Within two 20 ms Opus frames per run (encoder delay, last partial frame).
    check(abs(secs - sent) <= 2 * 2 * 0.020, f"WAV {secs:.3f} s, both runs sent {sent:.2f} s")
    check(ing.stop() == 0, "exit status")


def case_rerun_ended_session(tmp, stream):
    """The first run ends the session (the default at EOS): a second run
    with the same id fails, saying the session was ended by the server and
    to use a new session-id."""
    ing = Ingest(tmp, [])
    rc, out = sink_run(ing, "ended")
    check(rc == 0, f"run 1 exit {rc}: {out[-2000:]}")
    check(wait_for(os.path.join(ing.outdir, "ended.json")), f"no summary; log: {ing.output()[-2000:]}")
    rc, out = sink_run(ing, "ended")
    print(f"rerun of an ended session: exit {rc}")
    check(rc != 0, f"the rerun exited 0: {out[-2000:]}")
    check('session "ended" was ended by the server' in out, f"no such error: {out[-2000:]}")
    check("use a new session-id" in out, f"no hint: {out[-2000:]}")
    check(ing.stop() == 0, "exit status")


def run_case(cases, script):
    """The command line of a case file: SCRIPT CASE runs cases[CASE] with a
    fresh temporary folder and a real WebM stream."""
    if len(sys.argv) != 2 or sys.argv[1] not in cases:
        print(f"usage: {script} " + "|".join(sorted(cases)))
        sys.exit(2)
    if not INGEST:
        fail("WSSAC_INGEST is not set")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    with tempfile.TemporaryDirectory(prefix="wssac-attack-") as tmp:
        stream = webm_stream(tmp)
        cases[sys.argv[1]](tmp, stream)
    print("PASS")


if __name__ == "__main__":
    run_case({name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}, "attacks.py")
