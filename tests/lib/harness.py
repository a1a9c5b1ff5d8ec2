"""What the Python test suites (tests/check/speaker, tests/interop) share: a
scratch directory, child processes that are always ended (each in a process
group of its own, ended by that group's id), a hard deadline, polling with a
bound, a free port on 127.0.0.1, and the main() that maps a case onto meson's exit codes (0 passed,
1 failed, 77 skipped).

Standard library only: the tests run on the Python meson found (Debian's).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77  # meson's "skipped" exit code


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then released)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Failure(Exception):
    pass


class DeadlineExceeded(Failure):
    pass


class ProcessHarness:
    """Scratch directory, child processes and deadline of one test case.

    Every child is started in a session (process group) of its own and is
    ended by that group's id at the end, whatever happened: normal exit, a
    failure, the deadline, or meson's SIGTERM on time-out. Subclasses say
    where a child's output goes (spawn) and what to print on failure
    (describe, print_logs)."""

    KEEP_ENV = "TEST_KEEP"  # set it to keep the scratch directory

    def __init__(self, name, deadline_s, prefix="wssac-test"):
        self.name = name
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix="%s-%s-" % (prefix, name))
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

    def popen(self, name, argv, **kw):
        """Starts @argv in a process group of its own, ended by close()."""
        p = subprocess.Popen(argv, start_new_session=True, **kw)
        p.name = name
        self.procs.append(p)
        return p

    def describe(self, proc):
        """What to add to a failure about @proc (its last output)."""
        return ""

    def print_logs(self):
        """Prints what the children said, when the case failed."""

    def wait(self, p, timeout):
        """Waits for @p to exit (bounded); returns its exit status."""
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(p, signal.SIGKILL, 1)
            raise Failure("%s did not exit within %.0f s%s" % (p.name, timeout, self.describe(p)))

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
                raise Failure("%s exited (%s) while waiting for %s%s"
                              % (proc.name, proc.returncode, what, self.describe(proc)))
            time.sleep(interval)
        raise Failure("timed out after %.1f s waiting for %s" % (timeout, what))

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
            self.print_logs()
        if os.environ.get(self.KEEP_ENV):
            print("kept scratch directory", self.dir, flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def run_case(name, make_harness, body):
    """Runs body(make_harness()) and ends everything it started; exits 0 when
    it passed, 77 when it returned SKIP (or exited with it), 1 otherwise."""
    h = None
    ok = skipped = False
    try:
        h = make_harness()
        skipped = body(h) == SKIP
        ok = True
    except Failure as e:
        print("FAIL: %s" % e, flush=True)
    except SystemExit as e:
        if e.code == SKIP:
            ok = skipped = True
        else:
            print("FAIL: %s" % e, flush=True)
    finally:
        if h:
            h.close(ok)
    if skipped:
        sys.exit(SKIP)
    if ok:
        print("PASS: %s" % name, flush=True)
    sys.exit(0 if ok else 1)
