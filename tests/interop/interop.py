"""Shared helpers of the interop suite: a scratch directory and child processes
that are always cleaned up, a hard deadline, speech samples, WAV/PCM reading,
20 ms RMS envelopes with lag-searched Pearson correlation, the seed's message
schema, and our receiver pipeline (wssaudiochunksrc) run by gst-launch-1.0.

Only the Python standard library is used: the tests run on Debian's
/usr/bin/python3, which has no numpy.
"""

import array
import base64
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77  # meson's "skipped" exit code

# The seed's AudioStreamService.sendChunk() message, field by field, with the
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
# The seed's SpeakerService.endSession() sends {action, sessionId, reason};
# our sink adds the timestamp every other seed message carries.
END_SESSION_SCHEMA = {"action": str, "sessionId": str, "timestamp": int, "reason": str}


class Failure(Exception):
    pass


class DeadlineExceeded(Exception):
    pass


def log(*args):
    print("[interop]", *args, flush=True)


def require_tools(*tools):
    """Exit as skipped (77) when a program the test needs is missing."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        print("SKIP: missing " + ", ".join(missing) + " (run scripts/install-deps.sh)", flush=True)
        sys.exit(SKIP)


class Harness:
    """Scratch directory, child processes and deadline of one test.

    Every child is started in a session (process group) of its own and is
    ended by that group's id at the end, whatever happened: normal exit, a
    failure, the deadline, or meson's SIGTERM on time-out.
    """

    def __init__(self, name, deadline_s):
        self.name = name
        self.procs = []
        self.logs = {}
        self.dir = tempfile.mkdtemp(prefix="wssac-interop-%s-" % name)
        self.t0 = time.monotonic()
        self.deadline_s = deadline_s
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGALRM, self._on_alarm)
        signal.alarm(int(deadline_s))

    def _on_signal(self, signum, frame):
        raise SystemExit("interrupted by signal %d" % signum)

    def _on_alarm(self, signum, frame):
        raise DeadlineExceeded("%s: deadline of %d s exceeded" % (self.name, self.deadline_s))

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def spawn(self, name, argv, env=None, stdout_path=None, **kw):
        """Starts a child in its own process group; stdout+stderr go to a log file."""
        logpath = stdout_path or self.path(name + ".log")
        out = open(logpath, "wb")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=full_env, start_new_session=True, **kw)
        out.close()
        p.name = name
        self.procs.append(p)
        self.logs[name] = logpath
        return p

    def run(self, name, argv, timeout, env=None, check=True):
        """Runs a child to completion (bounded), returning its exit code."""
        p = self.spawn(name, argv, env=env)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(p)
            raise Failure("%s did not finish within %d s" % (name, timeout))
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

    def wait_for(self, what, predicate, timeout, proc=None, interval=0.05):
        """Polls predicate() until it returns a true value; fails early if proc died."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            v = predicate()
            if v:
                return v
            if proc is not None and proc.poll() is not None:
                v = predicate()
                if v:
                    return v
                raise Failure("%s exited (%s) while waiting for %s:\n%s"
                              % (proc.name, proc.returncode, what, self.tail(proc.name)))
            time.sleep(interval)
        raise Failure("timed out after %.0f s waiting for %s" % (timeout, what))

    def stop(self, p, sig=signal.SIGTERM, grace=5.0):
        """Ends one child's process group by its id: sig, then SIGKILL after grace."""
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # Kill leftovers of the group (e.g. Chromium's renderers) in any case.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def close(self, ok):
        signal.alarm(0)
        for p in reversed(self.procs):
            self.stop(p, grace=3.0)
        if not ok:
            for name in self.logs:
                # Chromium's complaints about the absent D-Bus are noise here.
                lines = [line for line in self.read_log(name).splitlines()
                         if "dbus/" not in line and "D-Bus" not in line]
                text = "\n".join(lines[-25:])
                if text.strip():
                    print("---- %s (last lines) ----\n%s" % (name, text), flush=True)
        if os.environ.get("INTEROP_KEEP"):
            log("kept scratch directory", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def main(name, body, deadline_s=240):
    """Runs body(harness) with cleanup; exit 0 on success, 1 on failure."""
    h = Harness(name, deadline_s)
    ok = False
    try:
        body(h)
        ok = True
    except (Failure, DeadlineExceeded) as e:
        print("FAIL: %s" % e, flush=True)
    except SystemExit as e:
        print("FAIL: %s" % e, flush=True)
    finally:
        h.close(ok)
    if ok:
        print("PASS: %s" % name, flush=True)
    sys.exit(0 if ok else 1)


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


# ---- the seed's wire format ------------------------------------------------

def check_type(value, typ):
    if typ is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, typ)


def check_messages(records, session_id, t_start_ms, t_end_ms, fmt="webm-opus"):
    """Checks recorded messages (dicts with "binary", "text") against the seed's
    schema. Returns (chunks, end_session): chunk messages as dicts, in arrival
    order, with their decoded audio under "_audio"."""
    chunks = []
    end = None
    for n, rec in enumerate(records):
        if rec.get("binary"):
            raise Failure("message %d is a binary frame; the seed sends JSON text" % n)
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
