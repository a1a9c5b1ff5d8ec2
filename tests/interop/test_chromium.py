"""Interop 2: the browser speaker app's browser client, in Debian's headless Chromium, streams
to our receiver.

A page served from 127.0.0.1 runs the browser speaker app's AudioStreamService unchanged
(getUserMedia, MediaRecorder 'audio/webm;codecs=opus' at 16 kbps, timeslice
250 ms, FileReader base64, the browser speaker app's JSON), with Chromium's fake microphone
playing a speech WAV once. The page is driven over the DevTools protocol (a
small client on Python `websockets`): it starts the service, waits for the
speech to play, stops it and sends endSession. Our receiver pipeline
(wssaudiochunksrc ! matroskademux ! opusdec ! ... ! wavenc) writes a WAV.

Checks: the received WAV lasts as long as the speech file within 300 ms, and
its 20 ms RMS envelope, aligned by cross-correlation within +-500 ms, follows
the speech's with Pearson r >= 0.7; the receiver refused nothing, saw no gap
and output exactly the bytes the page sent, which ffmpeg (the browser speaker app's Phase 2
tool) decodes. Chromium's real chunk sizes and intervals are printed (RESULT
line); docs/interop.md has the figures.
"""

import asyncio
import functools
import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402
from interop import Failure, log  # noqa: E402

import websockets  # noqa: E402

DURATION_TOLERANCE_S = 0.300
MIN_R = 0.7
LEAD_S = 0.5   # silence before the speech in the fake microphone's file
TAIL_S = 0.5   # and after it
# The browser speaker app's stop() drops the recorder's last chunk (up to one ~300 ms
# timeslice, two when stop() falls on a timeslice boundary), so the received
# audio ends at the last chunk delivered before stop() minus what Chromium
# still holds in its encoder (55-85 ms measured). The page waits until the
# file is STOP_BEFORE_END_S from its end, then for the next chunk, and stops
# STOP_AFTER_CHUNK_MS after it (mid-timeslice): the received audio then ends
# within about +-150 ms of the file's end, whatever the chunk phase.
STOP_BEFORE_END_S = 0.080
STOP_AFTER_CHUNK_MS = 150
# INTEROP_FAKE_LOOP=1 (no '%noloop') and INTEROP_END_ORDER=app (endSession
# before stopping, as the app's SpeakerService.endSession() does) are for
# experiments.

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-default-browser-check", "--disable-extensions", "--mute-audio"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass


def serve_page(h):
    """A static HTTP server for tests/interop/chromium on 127.0.0.1, a free port."""
    handler = functools.partial(QuietHandler, directory=os.path.join(interop.HERE, "chromium"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


class Cdp:
    """Just enough of the Chrome DevTools protocol: commands, and console output."""

    def __init__(self, ws, console):
        self.ws = ws
        self.next_id = 0
        self.pending = {}
        self.console = console
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self):
        async for raw in self.ws:
            msg = json.loads(raw)
            if "id" in msg:
                fut = self.pending.pop(msg["id"], None)
                if fut and not fut.done():
                    fut.set_result(msg)
            elif msg.get("method") == "Runtime.consoleAPICalled":
                p = msg["params"]
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                self.console.append("%s: %s" % (p.get("type"), text))
            elif msg.get("method") == "Runtime.exceptionThrown":
                self.console.append("exception: %s" % json.dumps(msg["params"])[:500])

    async def call(self, method, params=None, timeout=30):
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = fut
        await self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        msg = await asyncio.wait_for(fut, timeout)
        if "error" in msg:
            raise Failure("DevTools %s failed: %s" % (method, msg["error"]))
        return msg["result"]


async def drive_page(ws_url, expression, timeout, console):
    async with websockets.connect(ws_url, max_size=64 * 1024 * 1024) as ws:
        cdp = Cdp(ws, console)
        await cdp.call("Runtime.enable")
        # The scripts are loaded once the page's load event has fired.
        for _ in range(100):
            r = await cdp.call("Runtime.evaluate", {
                "expression": "document.readyState === 'complete' && typeof runAppClient",
                "returnByValue": True})
            if r["result"].get("value") == "function":
                break
            await asyncio.sleep(0.1)
        else:
            raise Failure("the page did not load its scripts")
        r = await cdp.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, timeout=timeout)
        if "exceptionDetails" in r:
            raise Failure("the page threw: %s" % json.dumps(r["exceptionDetails"])[:1000])
        return r["result"]["value"]


def body(h):
    # The fake microphone's file: speech between two short silences, 48 kHz
    # (Chromium's capture rate) mono 16-bit.
    speech = interop.make_speech(h, h.path("speech.wav"), rate=48000, lead=LEAD_S, tail=TAIL_S)
    speech_s = interop.wav_duration(speech)
    log("speech file: %.3f s (%.1f s silence, speech, %.1f s silence)" % (speech_s, LEAD_S, TAIL_S))

    out_wav = h.path("received.wav")
    receiver, port = interop.start_receiver(h, out_wav)
    log("receiver listening on ws://127.0.0.1:%d/ws" % port)

    httpd = serve_page(h)
    try:
        page_url = "http://127.0.0.1:%d/index.html" % httpd.server_address[1]
        profile = h.path("profile")
        os.mkdir(profile)
        # '%noloop': the fake device plays the file once, then silence
        # (without it, Chromium loops the file).
        argv = (["chromium"] + CHROMIUM_FLAGS +
                ["--user-data-dir=" + profile, "--remote-debugging-port=0",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 "--use-file-for-fake-audio-capture=%s%s" % (
                     speech, "" if os.environ.get("INTEROP_FAKE_LOOP") else "%noloop"),
                 page_url])
        browser = h.spawn("chromium", argv, env={"HOME": h.path("home")})
        active = os.path.join(profile, "DevToolsActivePort")
        devtools_port = int(h.wait_for("Chromium's DevTools port", lambda: os.path.exists(active) and
                                       open(active).read().split("\n")[0].strip(), 60, proc=browser))

        def page_target():
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % devtools_port, timeout=5) as f:
                for t in json.load(f):
                    if t.get("type") == "page" and t.get("url", "").startswith(page_url):
                        return t["webSocketDebuggerUrl"]
            return None
        target = h.wait_for("the page's DevTools target", page_target, 30, proc=browser)
        with urllib.request.urlopen("http://127.0.0.1:%d/json/version" % devtools_port, timeout=5) as f:
            version = json.load(f).get("Browser")
        log("%s driven over the DevTools protocol" % version)

        session = "interop-chromium-%d" % os.getpid()
        opts = {"wsUrl": "ws://127.0.0.1:%d/ws" % port, "sessionId": session,
                "recordMs": int((speech_s - STOP_BEFORE_END_S) * 1000),
                "stopAfterChunkMs": STOP_AFTER_CHUNK_MS,
                "endSessionOrder": os.environ.get("INTEROP_END_ORDER", "stop-first")}
        console = []
        result = asyncio.run(drive_page(target, "runAppClient(%s)" % json.dumps(opts),
                                        timeout=speech_s + 30, console=console))
        with open(h.path("page-console.log"), "w") as f:
            f.write("\n".join(console))
        for line in console:
            if line.startswith(("error", "exception")):
                raise Failure("the page logged: %s" % line)
    finally:
        httpd.shutdown()
        httpd.server_close()

    interop.wait_receiver_eos(h, receiver, timeout=30)
    h.stop(browser)

    log("MediaRecorder mimeType %r; track settings %s" % (result["mimeType"], result["trackSettings"]))
    if result["errors"]:
        raise Failure("the service reported errors: %s" % result["errors"])
    # The browser speaker app's client ignores what the server says; the receiver may send
    # acks, but must refuse nothing.
    replies = [e["data"] for e in result["events"] if e["what"] == "server says"]
    refusals = [r for r in replies if '"error"' in r]
    if refusals:
        raise Failure("the receiver refused messages: %s" % refusals)
    if replies:
        log("the receiver sent %d messages back (ignored by the browser speaker app's client), e.g. %s"
            % (len(replies), replies[0]))
    if not result["mimeType"].startswith("audio/webm"):
        raise Failure("MediaRecorder did not record WebM: %r" % result["mimeType"])
    sent = result["sent"]
    produced = result["produced"]
    log("MediaRecorder produced %d chunks; the service sent %d; %d left in its buffer at stop"
        % (len(produced), len(sent), result["chunksBufferedAtEnd"]))
    if not sent:
        raise Failure("the page sent no chunk")

    # The receiver's output byte stream is exactly what the page sent.
    raw = out_wav + ".webm"
    sent_bytes = sum(c["size"] for c in sent)
    if os.path.getsize(raw) != sent_bytes:
        raise Failure("the receiver output %d bytes of WebM; the page sent %d"
                      % (os.path.getsize(raw), sent_bytes))
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                            "stream=codec_name,sample_rate,channels", "-of", "compact", raw],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60).stdout.decode().strip()
    log("Chromium's WebM as received (%d bytes): %s" % (sent_bytes, probe))
    # The browser speaker app's Phase 2 tool decodes it. Its last chunk can end inside a
    # WebM element (Chromium cuts chunks anywhere, and the chunk after it is
    # the one the browser speaker app's stop() drops): ffmpeg then says "File ended
    # prematurely", which is the browser speaker app's doing and allowed; nothing else is.
    rc = h.run("ffmpeg", ["ffmpeg", "-nostdin", "-v", "error", "-i", raw, "-f", "s16le", "-ar", "16000",
                          "-ac", "1", h.path("ffmpeg.pcm")], timeout=60, check=False)
    said = [line for line in h.read_log("ffmpeg").splitlines() if line.strip()]
    truncated = [line for line in said if "File ended prematurely" in line]
    if rc != 0 or len(said) != len(truncated):
        raise Failure("ffmpeg exited with %d and said:\n%s" % (rc, "\n".join(said)))
    ffmpeg_s = os.path.getsize(h.path("ffmpeg.pcm")) / 32000.0
    log("ffmpeg decodes it to %.3f s%s" % (ffmpeg_s, "; it notes the stream ends inside an element"
                                          if truncated else ", silently"))

    received_s = interop.wav_duration(out_wav)
    diff = received_s - speech_s
    log("received WAV %.3f s; speech file %.3f s; difference %+.0f ms (recorded %.3f s, getUserMedia to "
        "recorder start %.0f ms)" % (received_s, speech_s, diff * 1000,
                                     (result["tStop"] - result["tRecorderStart"]) / 1000.0,
                                     result["tRecorderStart"] - result["tGetUserMedia"]))
    if abs(diff) > DURATION_TOLERANCE_S:
        raise Failure("received %.3f s, speech file %.3f s: more than %d ms apart"
                      % (received_s, speech_s, DURATION_TOLERANCE_S * 1000))

    env_ref = interop.rms_envelope(interop.read_wav_16k_mono(h, speech))
    env_got = interop.rms_envelope(interop.read_wav_16k_mono(h, out_wav))
    r, lag = interop.best_lag_correlation(env_ref, env_got, -25, 25)
    log("20 ms RMS envelopes: Pearson r = %.3f at lag %+d ms" % (r, lag * 20))
    if r < MIN_R:
        raise Failure("envelope correlation r = %.3f < %.1f" % (r, MIN_R))

    sizes = [c["size"] for c in produced]
    times = [c["t"] for c in produced]
    intervals = [round(b - a) for a, b in zip(times, times[1:])]
    first_after_start = round(times[0] - result["tRecorderStart"]) if times else None
    log("Chromium chunk sizes (bytes): all %s" % interop.stats(sizes))
    log("Chromium chunk sizes (bytes) from chunk 1: %s" % interop.stats(sizes[1:]))
    log("Chromium dataavailable intervals (ms): %s; first chunk %s ms after start()"
        % (interop.stats(intervals), first_after_start))
    print("RESULT " + json.dumps({
        "test": "chromium", "browser": version, "mimeType": result["mimeType"],
        "trackSettings": result["trackSettings"], "speech_s": round(speech_s, 3),
        "received_s": round(received_s, 3), "diff_ms": round(diff * 1000), "r": round(r, 3),
        "lag_ms": lag * 20, "ffmpeg_s": round(ffmpeg_s, 3), "ffmpeg_truncated": bool(truncated), "produced": len(produced), "sent": len(sent),
        "dropped_at_stop": result["chunksBufferedAtEnd"], "sizes": sizes,
        "intervals_ms": intervals, "first_chunk_ms": first_after_start}), flush=True)


if __name__ == "__main__":
    interop.require_tools("gst-launch-1.0", "chromium", "espeak-ng", "sox", "ffmpeg", "ffprobe")
    interop.main("chromium", body, deadline_s=240)
