"""Shared helpers of the interop suite: speech samples, WAV/PCM reading,
20 ms RMS envelopes with lag-searched Pearson correlation, the original
protocol's message schema, and our receiver pipeline (wssaudiochunksrc) run by
gst-launch-1.0, over the process harness the Python suites share
(tests/lib/harness.py: scratch directory, child processes ended by their
process group's id, a hard deadline).

Only the Python standard library is used: the tests run on Debian's Python
(as meson finds it), which has no numpy.
"""

import array
import base64
import json
import math
import os
import re
import shutil
import subprocess
import sys
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from harness import SKIP, Failure, ProcessHarness, free_port, run_case  # noqa: E402,F401

# The browser speaker app's AudioStreamService.sendChunk() message, field by field, with the
# JSON type each value has there (Date.now(), blob.size and a counter are
# integers; the rest are strings).
AUDIO_CHUNK_SCHEMA = {
    "action": str,
    "sessionId": str,
    "audioData": str,
    "timestamp": int,
    "format": str,
    "chunkIndex": int,
    "originalSize": int,
}
# The app's SpeakerService.endSession() sends {action, sessionId, reason};
# our sink adds the timestamp every other message of the app carries.
END_SESSION_SCHEMA = {"action": str, "sessionId": str, "timestamp": int, "reason": str}


def log(*args):
    print("[interop]", *args, flush=True)


def require_tools(*tools):
    """Exit as skipped (77) when a program the test needs is missing."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        print("SKIP: missing " + ", ".join(missing) + " (run scripts/install-deps.sh)", flush=True)
        sys.exit(SKIP)


class Harness(ProcessHarness):
    """One test's harness: each child's standard output and error go to one
    log file, whose last lines a failure shows."""

    KEEP_ENV = "INTEROP_KEEP"

    def __init__(self, name, deadline_s):
        super().__init__(name, deadline_s, prefix="wssac-interop")
        self.logs = {}

    def spawn(self, name, argv, env=None, stdout_path=None, **kw):
        """Starts a child in its own process group; stdout+stderr go to a log file."""
        logpath = stdout_path or self.path(name + ".log")
        out = open(logpath, "wb")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        p = self.popen(name, argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       env=full_env, **kw)
        out.close()
        self.logs[name] = logpath
        return p

    def run(self, name, argv, timeout, env=None, check=True):
        """Runs a child to completion (bounded), returning its exit code."""
        p = self.spawn(name, argv, env=env)
        rc = self.wait(p, timeout)
        if check and rc != 0:
            raise Failure("%s exited with %d:\n%s" % (name, rc, self.tail(name)))
        return rc

    def read_log(self, name):
        try:
            with open(self.logs[name], "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (KeyError, OSError):
            return ""

    def tail(self, name, lines=40):
        return "\n".join(self.read_log(name).splitlines()[-lines:])

    def describe(self, proc):
        return ":\n" + self.tail(proc.name)

    def print_logs(self):
        for name in self.logs:
            # Chromium's complaints about the absent D-Bus are noise here.
            lines = [line for line in self.read_log(name).splitlines()
                     if "dbus/" not in line and "D-Bus" not in line]
            text = "\n".join(lines[-25:])
            if text.strip():
                print("---- %s (last lines) ----\n%s" % (name, text), flush=True)


def main(name, body, deadline_s=240):
    """Runs body(harness) with cleanup; exit 0 on success, 1 on failure."""
    run_case(name, lambda: Harness(name, deadline_s), body)


# ---- sound ----------------------------------------------------------------

SPEECH_TEXT = ("Interoperability test. The quick brown fox jumps over the lazy dog, "
               "then counts one, two, three, four, five.")


def make_speech(h, out_path, text=SPEECH_TEXT, rate=None, lead=0.0, tail=0.0):
    """espeak-ng speech, optionally resampled and padded with silence (sox)."""
    raw = out_path + ".espeak.wav"
    h.run("espeak-ng", ["espeak-ng", "-w", raw, text], timeout=60)
    argv = ["sox", raw, "-b", "16", "-c", "1"]
    if rate:
        argv += ["-r", str(rate)]
    argv += [out_path]
    if lead or tail:
        argv += ["pad", "%.3f" % lead, "%.3f" % tail]
    h.run("sox", argv, timeout=60)
    os.unlink(raw)
    return out_path


def wav_info(path):
    with wave.open(path, "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()


def wav_duration(path):
    rate, _, _, frames = wav_info(path)
    return frames / float(rate)


def read_wav_16k_mono(h, path):
    """Samples of a WAV as 16 kHz mono S16, through sox when it is not already."""
    rate, ch, width, _ = wav_info(path)
    if (rate, ch, width) != (16000, 1, 2):
        conv = path + ".16k.wav"
        h.run("sox-16k", ["sox", path, "-r", "16000", "-c", "1", "-b", "16", conv], timeout=60)
        path = conv
    with wave.open(path, "rb") as w:
        data = w.readframes(w.getnframes())
    return pcm_s16(data)


def pcm_s16(data):
    a = array.array("h")
    a.frombytes(data[: len(data) // 2 * 2])
    if sys.byteorder != "little":
        a.byteswap()
    return a


def rms_envelope(samples, rate=16000, win_ms=20):
    n = rate * win_ms // 1000
    env = []
    for i in range(0, len(samples) - n + 1, n):
        s = 0
        for v in samples[i:i + n]:
            s += v * v
        env.append(math.sqrt(s / n))
    return env


def pearson(a, b):
    n = len(a)
    if n < 2:
        return 0.0
    ma = sum(a) / n
    mb = sum(b) / n
    sab = saa = sbb = 0.0
    for x, y in zip(a, b):
        dx = x - ma
        dy = y - mb
        sab += dx * dy
        saa += dx * dx
        sbb += dy * dy
    if saa == 0 or sbb == 0:
        return 0.0
    return sab / math.sqrt(saa * sbb)


def best_lag_correlation(ref, got, min_lag, max_lag):
    """Pearson r of got[i + lag] against ref[i] over their overlap, for the lag
    (in envelope frames) in [min_lag, max_lag] that maximises it."""
    best = (-2.0, 0)
    for lag in range(min_lag, max_lag + 1):
        lo = max(0, -lag)
        hi = min(len(ref), len(got) - lag)
        if hi - lo < 10:
            continue
        r = pearson(ref[lo:hi], got[lo + lag:hi + lag])
        if r > best[0]:
            best = (r, lag)
    return best


def stats(values):
    if not values:
        return {"n": 0}
    v = sorted(values)
    n = len(v)

    def pct(p):
        return v[min(n - 1, int(round(p * (n - 1))))]
    mean = sum(v) / n
    return {"n": n, "min": v[0], "p50": pct(0.5), "mean": round(mean, 1), "p90": pct(0.9), "max": v[-1]}


# ---- the original protocol ------------------------------------------------

def check_type(value, typ):
    if typ is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, typ)


def check_messages(records, session_id, t_start_ms, t_end_ms, fmt="webm-opus"):
    """Checks recorded messages (dicts with "binary", "text") against the original
    protocol's schema. Returns (chunks, end_session): chunk messages as dicts, in arrival
    order, with their decoded audio under "_audio"."""
    chunks = []
    end = None
    for n, rec in enumerate(records):
        if rec.get("binary"):
            raise Failure("message %d is a binary frame; the original protocol is JSON text" % n)
        try:
            m = json.loads(rec["text"])
        except ValueError as e:
            raise Failure("message %d is not JSON: %s" % (n, e))
        if not isinstance(m, dict):
            raise Failure("message %d is not a JSON object" % n)
        if end is not None:
            raise Failure("message %d arrived after endSession" % n)
        action = m.get("action")
        schema = AUDIO_CHUNK_SCHEMA if action == "audioChunk" else \
            END_SESSION_SCHEMA if action == "endSession" else None
        if schema is None:
            raise Failure("message %d has unexpected action %r" % (n, action))
        # streamId (docs/protocol.md: 32 lowercase hex, random per run) is
        # the one field the sink adds to the original messages.
        if set(m) - {"streamId"} != set(schema):
            raise Failure("message %d (%s) fields %s, expected exactly %s (plus streamId)"
                          % (n, action, sorted(m), sorted(schema)))
        if "streamId" in m and not re.fullmatch(r"[0-9a-f]{32}", str(m["streamId"])):
            raise Failure("message %d streamId %r is not 32 lowercase hex digits" % (n, m["streamId"]))
        for k, typ in schema.items():
            if not check_type(m[k], typ):
                raise Failure("message %d field %s is %r, expected a JSON %s"
                              % (n, k, m[k], "integer" if typ is int else "string"))
        if m["sessionId"] != session_id:
            raise Failure("message %d sessionId %r, expected %r" % (n, m["sessionId"], session_id))
        if not (t_start_ms - 1000 <= m["timestamp"] <= t_end_ms + 1000):
            raise Failure("message %d timestamp %d is not Date.now() during the run (%d..%d)"
                          % (n, m["timestamp"], t_start_ms, t_end_ms))
        if action == "endSession":
            end = m
            continue
        if m["format"] != fmt:
            raise Failure("message %d format %r, expected %r" % (n, m["format"], fmt))
        try:
            audio = base64.b64decode(m["audioData"], validate=True)
        except ValueError as e:
            raise Failure("message %d audioData is not base64: %s" % (n, e))
        if len(audio) != m["originalSize"] or not audio:
            raise Failure("message %d originalSize %d, decoded %d bytes"
                          % (n, m["originalSize"], len(audio)))
        m["_audio"] = audio
        m["_t"] = rec.get("t")
        chunks.append(m)
    indices = [c["chunkIndex"] for c in chunks]
    if indices != list(range(len(chunks))):
        raise Failure("chunk indices are not contiguous from 0: %s" % indices)
    return chunks, end


# ---- our receiver ----------------------------------------------------------

RECEIVER_PIPELINE = ("wssaudiochunksrc name=src port=0 address=127.0.0.1 path=/ws ! tee name=t "
                     "t. ! queue ! matroskademux "
                     "! opusdec ! audioconvert ! audioresample "
                     "! audio/x-raw,format=S16LE,rate=16000,channels=1 ! wavenc ! filesink location={out} "
                     "t. ! queue ! filesink location={raw}")


def start_receiver(h, out_wav, name="receiver"):
    """gst-launch-1.0 running wssaudiochunksrc on 127.0.0.1, a free port; returns
    (process, port) once it listens. It writes the decoded audio to out_wav and
    the stream as received (WebM) to out_wav + ".webm"."""
    argv = ["gst-launch-1.0", "-e", "-m"] + RECEIVER_PIPELINE.format(out=out_wav, raw=out_wav + ".webm").split()
    p = h.spawn(name, argv, env={"GST_DEBUG": os.environ.get("GST_DEBUG", "*:1")})
    pat = re.compile(r"wss-audio-chunk-listening, port=\(uint\)(\d+)")

    def port():
        m = pat.search(h.read_log(name))
        return int(m.group(1)) if m else None
    return p, h.wait_for("the receiver to listen", port, 30, proc=p)


def wait_receiver_eos(h, p, timeout):
    """The receiver ends (EOS after endSession) and wrote its WAV."""
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure("the receiver did not reach EOS within %d s of endSession:\n%s"
                      % (timeout, h.tail(p.name)))
    logtext = h.read_log(p.name)
    if rc != 0 or "Got EOS from element" not in logtext:
        raise Failure("the receiver exited with %d without EOS:\n%s" % (rc, h.tail(p.name)))
    for line in logtext.splitlines():
        if "ERROR" in line or "WARNING" in line or "wss-audio-chunk-gap" in line:
            raise Failure("the receiver reported: %s" % line)
    if "event=(string)ended" not in logtext:
        raise Failure("the receiver did not report the session ended:\n%s" % h.tail(p.name))
    return logtext
