"""Helpers of the speaker tests: the ingest server as receiver, test WAV
files, and the tool run on a pseudo-terminal, over the process harness the
Python suites share (tests/lib/harness.py: scratch directory, child processes
ended by their process group's id, a hard deadline).

The paths of the programs come from the environment meson sets:
WSSAC_SPEAKER (build/tools/speaker/wssaudiochunk-speaker) and WSSAC_INGEST
(build/tools/wssaudiochunk-ingest). Standard library only.
"""

import errno
import fcntl
import json
import math
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
import wave

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from harness import SKIP, Failure, ProcessHarness, free_port, run_case  # noqa: E402,F401


def log(*args):
    print("[speaker]", *args, flush=True)


def check(cond, message):
    if not cond:
        raise Failure(message)


def write_tone_wav(path, seconds, rate=22050, channels=2, freq=330.0):
    """A tone whose loudness swells every second (so the level meter moves),
    at a rate and channel count the tool must convert."""
    n = int(round(seconds * rate))
    frames = bytearray()
    for i in range(n):
        t = i / rate
        amp = 0.05 + 0.35 * (0.5 + 0.5 * math.sin(2 * math.pi * t))
        v = int(32767 * amp * math.sin(2 * math.pi * freq * t))
        frames += struct.pack("<h", v) * channels
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


def write_speech_wav(path, text):
    """espeak-ng's voice when it is installed, else a 4 s generated tone."""
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-w", path, text], check=True, timeout=30,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return path, "espeak-ng"
    return write_tone_wav(path, 4.0), "generated tone (no espeak-ng)"


def wav_seconds(path):
    with wave.open(path, "rb") as w:
        return w.getnframes() / float(w.getframerate())


STATUS_RE = re.compile(r"^(\d\d:\d\d) .*?\| (starting|transmitting|paused\+muted|paused|muted|ending) "
                       r"\| sent (\d+) .*\| (\w+) \| reconnects (\d+)")


def parse_status(line):
    """(state word, chunks sent, connection) of a status line, or None."""
    m = STATUS_RE.match(line)
    if not m:
        return None
    return m.group(2), int(m.group(3)), m.group(4)


class Harness(ProcessHarness):
    KEEP_ENV = "SPEAKER_TEST_KEEP"

    def __init__(self, name, deadline_s=55):
        super().__init__(name, deadline_s, prefix="wssac-speaker")
        self.fds = []
        self.speaker = os.environ.get("WSSAC_SPEAKER", "")
        self.ingest_exe = os.environ.get("WSSAC_INGEST", "")
        check(os.access(self.speaker, os.X_OK), "WSSAC_SPEAKER is not an executable: %r" % self.speaker)
        self.registry = os.environ.get("GST_REGISTRY", self.path("registry"))

    def env(self, who, extra=None):
        """The environment of a child: a GStreamer registry per @who (two
        processes writing one registry file at once would race; children
        that run one after the other share one)."""
        e = dict(os.environ)
        e["GST_REGISTRY"] = self.registry + "." + who
        if extra:
            e.update(extra)
        return e

    def spawn(self, name, argv, env=None, **kw):
        out = open(self.path(name + ".out"), "wb")
        err = open(self.path(name + ".err"), "wb")
        p = self.popen(name, argv, stdout=out, stderr=err, stdin=kw.pop("stdin", subprocess.DEVNULL),
                       env=env or self.env(name), **kw)
        out.close()
        err.close()
        return p

    def output(self, name):
        text = ""
        for ext in (".out", ".err"):
            try:
                with open(self.path(name + ext), "rb") as f:
                    text += f.read().decode("utf-8", "replace")
            except OSError:
                pass
        return text

    def describe(self, proc):
        return ":\n" + self.output(proc.name)[-3000:]

    def stdout_of(self, name):
        with open(self.path(name + ".out"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stderr_of(self, name):
        with open(self.path(name + ".err"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    # --- the receiver ---------------------------------------------------

    def start_ingest(self, args=()):
        """wssaudiochunk-ingest on a free port, with @args added; returns its
        ws:// URL."""
        check(os.access(self.ingest_exe, os.X_OK), "WSSAC_INGEST is not an executable: %r" % self.ingest_exe)
        self.recordings = self.path("rec")
        port_file = self.path("ingest.port")
        if os.path.exists(port_file):
            os.remove(port_file)  # a previous server's
        self.ingest = self.spawn("ingest", [self.ingest_exe, "--port", "0", "--port-file", port_file,
                                            "--output-dir", self.recordings] + list(args))

        def port():
            try:
                with open(port_file) as f:
                    t = f.read()
                return int(t) if t.endswith("\n") else None
            except (OSError, ValueError):
                return None
        p = self.wait_for("the ingest server's port file", port, 15, proc=self.ingest)
        return "ws://127.0.0.1:%d/ws" % p

    def finish_ingest(self):
        """SIGTERM: the server finalizes every session and exits."""
        self.ingest.send_signal(signal.SIGTERM)
        rc = self.wait(self.ingest, 20)
        check(rc == 0, "the ingest server exited with %d:\n%s" % (rc, self.output("ingest")))

    def session(self, session_id):
        """The session's JSON summary and WAV path."""
        path = os.path.join(self.recordings, session_id + ".json")
        check(os.path.exists(path), "no %s; ingest said:\n%s" % (path, self.output("ingest")))
        with open(path) as f:
            return json.load(f), os.path.join(self.recordings, session_id + ".wav")

    # --- the tool -------------------------------------------------------

    def run_speaker(self, name, args, timeout, env=None):
        """Runs the tool without a terminal; returns (exit status, stdout, stderr)."""
        p = self.spawn(name, [self.speaker] + args, env=env or self.env("speaker"))
        rc = self.wait(p, timeout)
        return rc, self.stdout_of(name), self.stderr_of(name)

    def close(self, ok):
        super().close(ok)
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass

    def print_logs(self):
        for f in sorted(os.listdir(self.dir)):
            if f.endswith((".out", ".err", ".tty")):
                with open(self.path(f), "rb") as fh:
                    text = fh.read().decode("utf-8", "replace")
                if text.strip():
                    print("---- %s (last 3000 characters) ----\n%s" % (f, text[-3000:]), flush=True)


class PtyProcess:
    """The tool with a pseudo-terminal as its standard input, output and error
    (its controlling terminal, in a session of its own), as a person runs it.
    A thread reads everything it writes, with the time it arrived."""

    def __init__(self, h, name, argv, env, rows=30, cols=120):
        self.h = h
        self.name = name
        try:
            self.master, self.slave = os.openpty()
        except OSError as e:
            # A chroot without /dev/pts (a fresh-machine check) has no
            # pseudo-terminals: the keys cannot be tested there, say so.
            print("SKIP: no pseudo-terminal available (%s); mount devpts to run this case" % e, flush=True)
            sys.exit(SKIP)
        h.fds += [self.master, self.slave]
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.initial_attrs = termios.tcgetattr(self.slave)
        self.chunks = []  # (monotonic time, text)
        self.lock = threading.Lock()

        def become_terminal_owner():
            # After setsid (start_new_session) the child has no terminal:
            # its stdin, the pty's slave, becomes the controlling one.
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = h.popen(name, argv, stdin=self.slave, stdout=self.slave, stderr=self.slave, env=env,
                            preexec_fn=become_terminal_owner)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            try:
                r, _, _ = select.select([self.master], [], [], 0.1)
            except (OSError, ValueError):
                return
            if r:
                try:
                    data = os.read(self.master, 65536)
                except OSError as e:
                    if e.errno == errno.EIO:
                        return
                    raise
                if not data:
                    return
                with self.lock:
                    self.chunks.append((time.monotonic(), data.decode("utf-8", "replace")))
            elif self.proc.poll() is not None:
                # exited, and nothing more to read
                return

    def press(self, key):
        os.write(self.master, key.encode())
        return time.monotonic()

    def text(self):
        with self.lock:
            return "".join(c for _, c in self.chunks)

    def screens(self):
        """Every line or redraw, with the time its text arrived: the stream
        split at \\r and \\n, erase-line sequences removed."""
        out = []
        with self.lock:
            chunks = list(self.chunks)
        pending, pending_t = "", None
        for t, c in chunks:
            for piece in re.split(r"(\r|\n)", c):
                if piece in ("\r", "\n"):
                    if pending.strip():
                        out.append((pending_t, pending))
                    pending, pending_t = "", None
                else:
                    piece = piece.replace("\x1b[K", "")
                    if piece:
                        if pending_t is None:
                            pending_t = t
                        pending += piece
        if pending.strip():
            out.append((pending_t, pending))
        return out

    def statuses(self):
        """(time, state word, chunks sent, connection) of every status line drawn."""
        out = []
        for t, line in self.screens():
            s = parse_status(line)
            if s:
                out.append((t,) + s)
        return out

    def save(self):
        with open(self.h.path(self.name + ".tty"), "w") as f:
            f.write(self.text())

    def terminal_restored(self):
        """Whether the terminal has its canonical mode and echo back."""
        now = termios.tcgetattr(self.slave)
        flags = termios.ICANON | termios.ECHO | termios.ISIG
        return (now[3] & flags) == (self.initial_attrs[3] & flags)


def main(cases):
    """Runs the case named by argv[1]: exit 0 passed, 1 failed, 77 skipped."""
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in cases:
        print("usage: %s {%s}" % (sys.argv[0], "|".join(sorted(cases))))
        sys.exit(2)
    run_case(name, lambda: Harness(name), cases[name])
