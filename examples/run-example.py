"""Runs one example (speaker-controls or speaker_controls.py) against the
ingest server, as meson's `examples` suite does:

    run-example.py SESSION PROGRAM [ARGS...]

starts $WSSAC_INGEST on a free port, runs PROGRAM ARGS... URL
--session-id SESSION (bounded), and passes when the example exits 0 and
the server recorded the session: chunks > 0, controlEvents pause, resume,
mute, unmute in that order, endReason "example finished". Exits 77
(skipped) for the Python example when PyGObject is not installed.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77


def main():
    session, argv = sys.argv[1], sys.argv[2:]
    if argv[0].endswith(".py"):
        # Run as documented, by its first line (#!/usr/bin/python3): probe that Python.
        with open(argv[0]) as f:
            interpreter = f.readline()[2:].strip()
        probe = subprocess.run([interpreter, "-c", "import gi; gi.require_version('Gst', '1.0'); "
                                "from gi.repository import Gst"], stderr=subprocess.PIPE)
        if probe.returncode != 0:
            print("SKIP: PyGObject for GStreamer is not installed (python3-gi, gir1.2-gstreamer-1.0: "
                  "scripts/install-deps.sh):\n" + probe.stderr.decode(errors="replace"))
            return SKIP
    tmp = tempfile.mkdtemp(prefix="wssac-example-")
    ingest = None
    try:
        port_file = os.path.join(tmp, "port")
        rec = os.path.join(tmp, "rec")
        env = dict(os.environ)
        env["GST_REGISTRY"] = os.environ.get("GST_REGISTRY", os.path.join(tmp, "registry")) + ".ingest"
        ingest_log = open(os.path.join(tmp, "ingest.log"), "wb")
        ingest = subprocess.Popen([os.environ["WSSAC_INGEST"], "--port", "0", "--port-file", port_file,
                                   "--output-dir", rec], stdout=ingest_log, stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True)
        deadline = time.monotonic() + 15
        port = None
        while time.monotonic() < deadline and port is None:
            try:
                with open(port_file) as f:
                    text = f.read()
                port = int(text) if text.endswith("\n") else None
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        if port is None:
            print("FAIL: the ingest server did not start")
            return 1
        url = "ws://127.0.0.1:%d/ws" % port

        t0 = time.monotonic()
        try:
            r = subprocess.run(argv + [url, "--session-id", session], timeout=40, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            print("FAIL: the example did not finish within 40 s")
            return 1
        print("[example] exit status %d after %.1f s" % (r.returncode, time.monotonic() - t0), flush=True)
        if r.returncode != 0:
            print("FAIL: the example exited with %d" % r.returncode)
            return 1

        os.killpg(ingest.pid, signal.SIGTERM)
        ingest.wait(timeout=20)
        with open(os.path.join(rec, session + ".json")) as f:
            summary = json.load(f)
        actions = [c["action"] for c in summary["controlEvents"]]
        print("[example] server: %d chunks, %.2f s of audio, controlEvents %s, endReason %r"
              % (summary["chunks"], summary["audioSeconds"], actions, summary["endReason"]), flush=True)
        if summary["chunks"] <= 0:
            print("FAIL: no chunks recorded")
            return 1
        if actions != ["pauseBroadcast", "resumeBroadcast", "muteBroadcast", "unmuteBroadcast"]:
            print("FAIL: controlEvents %s" % actions)
            return 1
        if summary["endReason"] != "example finished":
            print("FAIL: endReason %r" % summary["endReason"])
            return 1
        print("PASS")
        return 0
    finally:
        if ingest and ingest.poll() is None:
            os.killpg(ingest.pid, signal.SIGKILL)
            ingest.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
