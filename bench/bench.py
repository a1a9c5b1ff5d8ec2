#!/usr/bin/python3
"""wssaudiochunk benchmarks against what users would pick instead.

Run through bench/run.sh (which installs what is missing and builds the
programs). Parts, in the order they run (--only PART,PART runs a subset and
keeps the other parts' last results in bench/out/results.json):

  sink      per-chunk cost of the sink's work (sinkbench: wall ns, callgrind
            instructions) and of the receiver's per-message work
  pipeline  CPU of a whole speaker pipeline with wssaudiochunksink vs the same
            with fakesink (gst-launch-1.0, sync=false, faster than real time),
            plus callgrind instruction counts of both
  sinkcpu   the issue's sink CPU measurement from outside: an hour of WebM
            through matroskademux ! webmmux ! wssaudiochunksink sync=false
            to our receiver vs the same into fakesink, user+sys per chunk
  latency   real-time speech through the sink to our receiver: added latency
            per chunk, sink stats, end-to-end delivery on loopback
  speaker   a whole speaker in real time: gst-launch-1.0 vs headless Chromium
            running the browser speaker app's client, CPU and memory per minute of audio
  scale     N simulated speakers against our receiver, a Node `ws` receiver
            and a Python `websockets` receiver, each pinned to core 0
  wire      bytes on the wire per second of audio (computed; no run)
  shard     the whole wssaudiochunk-ingest program (--record webm) with
            --workers 1 and 2 against Node ws at 2,000 speakers (messages per
            CPU-second, ack latency, RSS and descriptors per 1,000 sessions),
            and 5,000 speakers connecting at 500 per second
  capacity  the same program saturated: each worker gets a fixed share of a
            core (a cpu cgroup's quota, summed over its threads), the load
            generator offers more than that can take, and what it acknowledged
            in the window is the throughput; 2 workers with 2 shares vs 1
            worker with 1 share is the 2-core scaling the load generator
            otherwise leaves no core to measure

Then it draws the figures (docs/img/perf-*.png), writes docs/performance.md
and prints the summary table. Everything listens on and talks to 127.0.0.1
only, every loop is bounded, and every process it starts is ended by its own
process-group id.
"""

import argparse
import asyncio
import functools
import http.server
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
MAIN_BUILD = os.path.join(OUT, "build")
BUILD = os.path.join(MAIN_BUILD, "bench")
FX = os.path.join(OUT, "fixture")
IMG = os.path.join(ROOT, "docs", "img")
DOC = os.path.join(ROOT, "docs", "performance.md")
RESULTS = os.path.join(OUT, "results.json")
PLUGIN_PATH = os.path.join(MAIN_BUILD, "ext", "wssaudiochunk")

SESSION_ID_LEN = 36
SPEECH_TEXT = (
    "Good morning everyone, and welcome to the weekly update. Today we will talk about the new audio "
    "pipeline, the way chunks travel from the speaker to the backend, and what happens when the network "
    "drops for a few seconds. First, the speaker captures sound from the microphone and encodes it with "
    "Opus at sixteen kilobits per second. Every quarter of a second a small piece of the stream is sent as "
    "a JSON message over a WebSocket. The backend puts the pieces back in order, decodes them, and hands "
    "the audio to the speech service. Questions are welcome at the end.")
ENC = ("opusenc bitrate=16000 ! webmmux streamable=true min-cluster-duration=250000000")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

T0 = time.monotonic()


def log(*a):
    print("[bench %5.0fs]" % (time.monotonic() - T0), *a, flush=True)


def rel(p):
    return os.path.relpath(p, ROOT)


# ---------------------------------------------------------------- processes

class Procs:
    """Children in process groups of their own, each ended by its own id."""

    def __init__(self):
        self.live = []

    def spawn(self, argv, stdout=None, stderr=None, env=None, cpu=None):
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu)] + list(argv)
        full_env = dict(os.environ)
        full_env.update(env or {})
        p = subprocess.Popen(argv, stdout=stdout or subprocess.DEVNULL, stderr=stderr or subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL, env=full_env, start_new_session=True)
        self.live.append(p)
        return p

    def stop(self, p, grace=5.0):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(5)
        else:
            # the leader exited: end what it left in its group
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if p in self.live:
            self.live.remove(p)

    def stop_all(self):
        for p in list(self.live):
            self.stop(p, grace=2.0)


PROCS = Procs()


def gst_env():
    return {"GST_PLUGIN_PATH": PLUGIN_PATH, "GST_REGISTRY": os.path.join(OUT, "gst-registry.bin"),
            "GST_DEBUG": "0"}


def run_rusage(argv, env=None, timeout=900, cpu=None):
    """Runs argv to the end; returns (exit code, wall s, cpu s, max rss KiB)."""
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu)] + list(argv)
    full_env = dict(os.environ)
    full_env.update(env or {})
    t = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=full_env, start_new_session=True)
    PROCS.live.append(p)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        if time.monotonic() > deadline:
            PROCS.stop(p)
            raise RuntimeError("%s: timed out" % argv[0])
        time.sleep(0.02)
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode("utf-8", "replace")
    PROCS.live.remove(p)
    run_rusage.last = (ru.ru_utime, ru.ru_stime)
    return p.returncode, time.monotonic() - t, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, err


def wait_file(path, timeout, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path):
            with open(path) as f:
                s = f.read().strip()
            if s:
                return s
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError("%s did not appear" % path)


def pct(values, q):
    v = sorted(values)
    if not v:
        return None
    return v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))]


def med_min_max(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "values": values}


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---------------------------------------------------------------- fixture

def make_fixture(minutes_needed):
    os.makedirs(FX, exist_ok=True)
    speech = os.path.join(FX, "speech.wav")
    if not os.path.exists(speech):
        raw = os.path.join(FX, "speech-espeak.wav")
        subprocess.run(["espeak-ng", "-w", raw, SPEECH_TEXT], check=True)
        subprocess.run(["sox", raw, "-r", "48000", "-b", "16", "-c", "1", speech, "pad", "0.3", "0.3"], check=True)
    if not os.path.exists(os.path.join(FX, "chunks.bin")):
        out = subprocess.run([os.path.join(BUILD, "sinkbench"), "capture", "--wav", speech, "--out", FX],
                             check=True, capture_output=True, text=True, env={**os.environ, **gst_env()})
        log("captured", out.stdout.strip())
    for m in sorted(set(minutes_needed)):
        p = speech_minutes(m)
        if not os.path.exists(p):
            dur = float(subprocess.run(["soxi", "-D", speech], capture_output=True, text=True).stdout)
            repeats = int(m * 60 / dur) + 1
            subprocess.run(["sox", speech, p, "repeat", str(repeats), "trim", "0", str(m * 60)], check=True)
    return speech


def speech_minutes(m):
    return os.path.join(FX, "speech-%gmin.wav" % m)


# ---------------------------------------------------------------- part: sink

def callgrind_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                v = int(line.split()[1])
                if v:
                    return v
    return 0


def callgrind_top(path, n=14):
    """Inclusive top functions (callgrind_annotate), as (instructions, name)."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", path], capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        name = m.group(2)
        name = re.sub(r"\s*\[[^\]]*\]$", "", name)
        name = re.sub(r"^.*?:(?=[A-Za-z_~(])", "", name, count=1) if "???" in name or "/" in name else name
        rows.append((int(m.group(1).replace(",", "")), name[:110]))
    return rows[:n]


def callgrind_inclusive(path, names):
    """Inclusive instructions of functions whose name contains each of @names (largest entry)."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path], capture_output=True,
                         text=True).stdout
    found = {n: 0 for n in names}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \(", line)
        if not m:
            continue
        v = int(m.group(1).replace(",", ""))
        for n in names:
            if n in line:
                found[n] = max(found[n], v)
    return found


def part_sink(res, args):
    sb = os.path.join(BUILD, "sinkbench")
    env = {**os.environ, **gst_env()}
    r = {"variants": {}, "rx": {}, "commands": {}}
    chunks, repeats = 2000, args.repeats
    for v in ["full", "chunker", "encode", "base64", "queue", "direct"]:
        cmd = [sb, "sink", "--in", FX, "--variant", v, "--chunks", str(chunks), "--repeats", str(repeats)]
        d = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)
        cg = os.path.join(OUT, "callgrind-sink-%s.out" % v)
        cgcmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=" + cg,
                 sb, "sink", "--in", FX, "--variant", v, "--chunks", "500", "--repeats", "1", "--callgrind"]
        subprocess.run(cgcmd, check=True, capture_output=True, env=env)
        r["variants"][v] = {**med_min_max(d["ns_per_chunk"]), "instructions": callgrind_total(cg) / 500}
        r["commands"][v] = " ".join(rel(c) if c.startswith(ROOT) else c for c in cmd)
        log("sink %-8s median %8.0f ns/chunk (min %.0f, max %.0f), %8.0f instructions/chunk" % (
            v, r["variants"][v]["median"], r["variants"][v]["min"], r["variants"][v]["max"],
            r["variants"][v]["instructions"]))
    r["callgrind_command"] = ("valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=OUT "
                              "bench/out/build/bench/sinkbench sink --in bench/out/fixture --variant V "
                              "--chunks 500 --repeats 1 --callgrind")
    r["top_encode"] = callgrind_top(os.path.join(OUT, "callgrind-sink-encode.out"))
    r["top_full"] = callgrind_top(os.path.join(OUT, "callgrind-sink-full.out"))
    for v in ["parse", "decode", "core"]:
        cmd = [sb, "rx", "--in", FX, "--variant", v, "--messages", "20000", "--sessions", "1000",
               "--repeats", str(repeats)]
        d = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)
        cg = os.path.join(OUT, "callgrind-rx-%s.out" % v)
        subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=" + cg,
                        sb, "rx", "--in", FX, "--variant", v, "--messages", "2000", "--sessions", "100",
                        "--repeats", "1", "--callgrind"], check=True, capture_output=True, env=env)
        r["rx"][v] = {**med_min_max(d["ns_per_message"]), "instructions": callgrind_total(cg) / 2000}
        r["commands"]["rx-" + v] = " ".join(rel(c) if c.startswith(ROOT) else c for c in cmd)
        log("rx   %-8s median %8.0f ns/message (min %.0f, max %.0f), %8.0f instructions/message" % (
            v, r["rx"][v]["median"], r["rx"][v]["min"], r["rx"][v]["max"], r["rx"][v]["instructions"]))
    r["top_rx_core"] = callgrind_top(os.path.join(OUT, "callgrind-rx-core.out"), 18)
    res["sink"] = r


# ---------------------------------------------------------------- receivers

def start_receiver(kind, tag, cpu=None, extra=()):
    """Starts a receiver; returns (proc, port, stdout path)."""
    port_file = os.path.join(OUT, "port-%s-%s" % (kind, tag))
    if os.path.exists(port_file):
        os.remove(port_file)
    stdout_path = os.path.join(OUT, "rx-%s-%s.log" % (kind, tag))
    stderr_path = stdout_path + ".err"
    if kind == "ours":
        argv = [os.path.join(BUILD, "ingestbench"), "--port-file", port_file] + list(extra)
    elif kind == "node":
        argv = ["node", os.path.join(HERE, "node", "receiver.js"), "--port-file", port_file] + list(extra)
    elif kind == "python":
        argv = [sys.executable, os.path.join(HERE, "py", "receiver.py"), "--port-file", port_file] + list(extra)
    else:
        raise ValueError(kind)
    env = gst_env()
    if kind == "node" and not os.path.isdir(os.path.join(HERE, "node", "node_modules", "ws")):
        env["NODE_PATH"] = "/usr/share/nodejs"  # Debian's node-ws
    p = PROCS.spawn(argv, stdout=open(stdout_path, "w"), stderr=open(stderr_path, "w"), env=env, cpu=cpu)
    port = int(wait_file(port_file, 30, p))
    return p, port, stdout_path


def read_lines(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    return rows


# ---------------------------------------------------------------- part: pipeline

def part_pipeline(res, args):
    minutes = args.pipeline_minutes
    nbuf = int(minutes * 60 * 50)
    chunks = int(minutes * 60 / 0.26)
    src = ("audiotestsrc wave=pink-noise volume=0.3 num-buffers=%d samplesperbuffer=320 "
           "! audio/x-raw,rate=16000,channels=1 ! %s" % (nbuf, ENC))
    rx, port, _ = start_receiver("ours", "pipeline", extra=["--no-rate-limit"])
    sinks = {
        "fakesink": "fakesink sync=false",
        "wssaudiochunksink": "wssaudiochunksink sync=false location=ws://127.0.0.1:%d/ws session-id=SID" % port,
        "wssaudiochunksink post-messages=true":
            "wssaudiochunksink sync=false post-messages=true location=ws://127.0.0.1:%d/ws session-id=SID" % port,
    }
    runs = {k: [] for k in sinks}
    sys_s = {k: [] for k in sinks}
    rss = {k: [] for k in sinks}
    cmds = {}
    try:
        for rep in range(args.pipeline_repeats):
            for variant, (k, sink) in enumerate(sinks.items()):
                # One session per run: a session id that ended is refused (session-ended).
                desc = src + " ! " + sink.replace("SID", "pipe-%d-%d-%d" % (os.getpid(), rep, variant))
                argv = ["gst-launch-1.0", "-q"] + desc.split()
                cmds[k] = "gst-launch-1.0 -q " + src + " ! " + sink.replace("SID", "pipe").replace(
                    ":%d/" % port, ":PORT/")
                rc, wall, cpu, maxrss, err = run_rusage(argv, env=gst_env(), timeout=300)
                if rc != 0:
                    raise RuntimeError("pipeline failed: %s\n%s" % (desc, err[-2000:]))
                runs[k].append(cpu)
                sys_s[k].append(run_rusage.last[1])
                rss[k].append(maxrss)
        # callgrind: instructions of the same pipelines, 30 s of audio
        cg_minutes = 0.5
        cg_src = src.replace("num-buffers=%d" % nbuf, "num-buffers=%d" % int(cg_minutes * 60 * 50))
        cg = {}
        for k in ["fakesink", "wssaudiochunksink"]:
            out = os.path.join(OUT, "callgrind-pipeline-%s.out" % k)
            desc = cg_src + " ! " + sinks[k].replace("SID", "pipe-cg-%d" % os.getpid())
            argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, "gst-launch-1.0", "-q"] + desc.split()
            rc, wall, cpu, maxrss, err = run_rusage(argv, env=gst_env(), timeout=300)
            cg[k] = callgrind_total(out)
        cg_fn = callgrind_inclusive(os.path.join(OUT, "callgrind-pipeline-wssaudiochunksink.out"), [
            "gst_wss_audio_chunk_sink_render", "WssClientTransport::Impl::flush(", "WssClientTransport::Impl::send(",
            "decode_reply", "encode_audio_chunk", "soup_websocket_connection_send_text",
            "unsent_bytes", "gst_element_post_message", "Chunker::push", "WssClientTransport::start",
            "opus_multistream_encode"])
    finally:
        PROCS.stop(rx)
    base = statistics.median(runs["fakesink"])
    r = {"minutes": minutes, "chunks": chunks, "repeats": args.pipeline_repeats, "commands": cmds,
         "cpu": {k: med_min_max(v) for k, v in runs.items()}, "max_rss_kib": {k: max(v) for k, v in rss.items()},
         "sys": {k: med_min_max(v) for k, v in sys_s.items()},
         "callgrind": {"minutes": cg_minutes, "chunks": int(cg_minutes * 60 / 0.26), "instructions": cg,
                       "functions": cg_fn}}
    for k in sinks:
        if k == "fakesink":
            continue
        m = statistics.median(runs[k])
        r["cpu"][k]["sink_us_per_chunk"] = (m - base) / chunks * 1e6
        r["cpu"][k]["sink_share"] = (m - base) / m
        # same-run pairs: rep i of the sink against rep i of fakesink
        r["cpu"][k]["paired_share"] = med_min_max([(a - b) / a for a, b in zip(runs[k], runs["fakesink"])])
    ci = r["callgrind"]
    ci["sink_instructions_per_chunk"] = (cg["wssaudiochunksink"] - cg["fakesink"]) / ci["chunks"]
    ci["sink_share"] = (cg["wssaudiochunksink"] - cg["fakesink"]) / cg["wssaudiochunksink"]
    per_chunk = (cg_fn["gst_wss_audio_chunk_sink_render"] + cg_fn["WssClientTransport::Impl::flush("]
                 + cg_fn["decode_reply"]) / ci["chunks"]
    ci["steady_instructions_per_chunk"] = per_chunk
    ci["opus_share"] = cg_fn["opus_multistream_encode"] / max(1, cg["wssaudiochunksink"])
    log("pipeline: fakesink %.3f s, sink %.3f s CPU per %g min (median of %d); callgrind share %.1f %%" % (
        base, statistics.median(runs["wssaudiochunksink"]), minutes, args.pipeline_repeats, 100 * ci["sink_share"]))
    res["pipeline"] = r


# ---------------------------------------------------------------- part: latency

def part_latency(res, args):
    minutes = args.latency_minutes
    wav = speech_minutes(minutes)
    arrivals = os.path.join(OUT, "latency-arrivals.txt")
    spk_json = os.path.join(OUT, "latency-speaker.json")
    rx, port, rx_log = start_receiver("ours", "latency", extra=["--arrivals", arrivals])
    desc = ("filesrc location=%s ! wavparse ! audiobuffersplit output-buffer-duration=1/50 ! identity sync=true "
            "! audioconvert ! audioresample ! audio/x-raw,rate=16000,channels=1 ! %s "
            "! wssaudiochunksink name=s sync=false post-messages=true location=ws://127.0.0.1:%d/ws session-id=latency-%d" % (
                wav, ENC, port, os.getpid()))
    la0 = loadavg()
    try:
        p = subprocess.run([os.path.join(BUILD, "speaker"), "--out", spk_json, "--pipeline", desc,
                            "--timeout", str(int(minutes * 60 + 120))], capture_output=True, text=True,
                           env={**os.environ, **gst_env()})
        if p.returncode != 0:
            raise RuntimeError("speaker failed: " + p.stderr[-2000:])
        time.sleep(0.5)
    finally:
        PROCS.stop(rx)
    la1 = loadavg()
    # the machine's floor: one thread waking another through g_main_context_invoke() after 100 ms idle
    wake = json.loads(subprocess.run([os.path.join(BUILD, "sinkbench"), "wake", "--n", "50", "--period-us", "100000"],
                                     capture_output=True, text=True, check=True).stdout)
    d = json.load(open(spk_json))
    arr = {}
    with open(arrivals) as f:
        for line in f:
            s, i, t, b = line.split()
            arr[int(i)] = int(t)
    c, last, sent = d["complete_us"], d["last_us"], d["sent_us"]
    series = {"complete_to_socket": [], "last_to_socket": [], "socket_to_receiver": [], "complete_to_receiver": [],
              "last_to_complete": []}
    for k in range(len(c)):
        if k < len(sent) and sent[k] > 0:
            series["complete_to_socket"].append(sent[k] - c[k])
            if last[k] > 0:
                series["last_to_socket"].append(sent[k] - last[k])
            if k in arr:
                series["socket_to_receiver"].append(arr[k] - sent[k])
        if k in arr:
            series["complete_to_receiver"].append(arr[k] - c[k])
        if last[k] > 0:
            series["last_to_complete"].append(c[k] - last[k])
    summary = {k: {"p50": pct(v, 0.5), "p99": pct(v, 0.99), "max": max(v) if v else None, "n": len(v)}
               for k, v in series.items()}
    r = {"minutes": minutes, "command": "bench/out/build/bench/speaker --out OUT.json --pipeline '%s'" % desc.replace(
        wav, rel(wav)).replace("session-id=latency-%d" % os.getpid(), "session-id=latency").replace(
        ":%d/" % port, ":PORT/"),
        "receiver": "bench/out/build/bench/ingestbench --arrivals FILE", "summary": summary,
        "sink_stats": d.get("stats", {}), "chunks": len(c), "received": len(arr), "loadavg_before": la0,
        "loadavg_after": la1, "wake": wake, "series": {k: v for k, v in series.items()}, "cpu_s": d.get("cpu_s"),
        "wall_s": d.get("wall_s"), "max_rss_kib": d.get("max_rss_kib"), "sent_encoded": d.get("sent_encoded"),
        "sent_size": d.get("sent_size")}
    log("latency: completion->socket p50 %s us p99 %s us; ->receiver p50 %s p99 %s; sink stats %s" % (
        summary["complete_to_socket"]["p50"], summary["complete_to_socket"]["p99"],
        summary["complete_to_receiver"]["p50"], summary["complete_to_receiver"]["p99"], d.get("stats")))
    res["latency"] = r


# ---------------------------------------------------------------- part: sinkcpu

def make_webm(minutes):
    """minutes of the speech fixture as WebM/Opus, made by the project's own encoder settings."""
    path = os.path.join(FX, "speech-%gmin.webm" % minutes)
    if os.path.exists(path):
        return path
    speech = os.path.join(FX, "speech.wav")
    wav = os.path.join(FX, "speech-%gmin-16k.wav" % minutes)
    dur = float(subprocess.run(["soxi", "-D", speech], capture_output=True, text=True).stdout)
    subprocess.run(["sox", speech, "-r", "16000", "-c", "1", wav, "repeat", str(int(minutes * 60 / dur) + 1),
                    "trim", "0", str(minutes * 60)], check=True)
    subprocess.run(["gst-launch-1.0", "-q", "filesrc", "location=" + wav, "!", "wavparse", "!", "audioconvert", "!",
                    "audio/x-raw,rate=16000,channels=1", "!"] + ENC.split() + ["!", "filesink",
                                                                                 "location=" + path + ".tmp"],
                   check=True, env={**os.environ, **gst_env()})
    os.rename(path + ".tmp", path)
    os.remove(wav)
    return path


def rx_delivered(path):
    rows = [r for r in read_lines(path) if "delivered" in r]
    return rows[-1]["delivered"] if rows else 0


def part_sinkcpu(res, args):
    """The issue's measurement from outside: whole-process CPU (user + sys) of an hour of WebM through
    matroskademux ! webmmux into wssaudiochunksink vs into fakesink, per chunk."""
    minutes = args.sinkcpu_minutes
    webm = make_webm(minutes)
    rx, port, rx_log = start_receiver("ours", "sinkcpu", extra=["--no-rate-limit"])
    src = "filesrc location=%s ! matroskademux ! %s" % (webm, ENC.split(" ! ", 1)[1])
    sinks = {"fakesink": "fakesink sync=false",
             "wssaudiochunksink": "wssaudiochunksink sync=false location=ws://127.0.0.1:%d/ws session-id=SID" % port}
    user = {k: [] for k in sinks}
    sys_ = {k: [] for k in sinks}
    chunks = []
    la0 = loadavg()
    try:
        for rep in range(args.sinkcpu_repeats):
            for k, sink in sinks.items():
                before = rx_delivered(rx_log)
                desc = src + " ! " + sink.replace("SID", "cpu-%d-%d" % (os.getpid(), rep))
                rc, wall, cpu, maxrss, err = run_rusage(["gst-launch-1.0", "-q"] + desc.split(), env=gst_env(),
                                                        timeout=1800)
                if rc != 0:
                    raise RuntimeError("pipeline failed: %s\n%s" % (desc, err[-2000:]))
                user[k].append(run_rusage.last[0])
                sys_[k].append(run_rusage.last[1])
                if k == "wssaudiochunksink":
                    time.sleep(1.5)  # the receiver prints its counters once a second
                    chunks.append(rx_delivered(rx_log) - before)
                log("sinkcpu %d %-18s user %.2f s sys %.2f s" % (rep, k, user[k][-1], sys_[k][-1]))
    finally:
        PROCS.stop(rx)
    n = statistics.median(chunks)
    tot = {k: [u + s for u, s in zip(user[k], sys_[k])] for k in sinks}
    med = {k: statistics.median(v) for k, v in tot.items()}
    r = {"minutes": minutes, "repeats": args.sinkcpu_repeats, "chunks": n, "chunks_runs": chunks,
         "user": {k: med_min_max(v) for k, v in user.items()}, "sys": {k: med_min_max(v) for k, v in sys_.items()},
         "cpu": {k: med_min_max(v) for k, v in tot.items()},
         "us_per_chunk": (med["wssaudiochunksink"] - med["fakesink"]) / n * 1e6,
         "user_us_per_chunk": (statistics.median(user["wssaudiochunksink"]) - statistics.median(user["fakesink"]))
         / n * 1e6,
         "sys_us_per_chunk": (statistics.median(sys_["wssaudiochunksink"]) - statistics.median(sys_["fakesink"]))
         / n * 1e6,
         "paired_us_per_chunk": med_min_max([(a - b) / n * 1e6 for a, b in zip(tot["wssaudiochunksink"],
                                                                              tot["fakesink"])]),
         "loadavg_before": la0, "loadavg_after": loadavg(),
         "command": "gst-launch-1.0 -q " + src.replace(webm, rel(webm)) + " ! " + sinks["wssaudiochunksink"].replace(
             ":%d/" % port, ":PORT/").replace("SID", "cpu"),
         "receiver": "bench/out/build/bench/ingestbench --no-rate-limit"}
    log("sinkcpu: %.1f us per chunk (user %.1f, sys %.1f; %d chunks, medians of %d)" % (
        r["us_per_chunk"], r["user_us_per_chunk"], r["sys_us_per_chunk"], n, args.sinkcpu_repeats))
    res["sinkcpu"] = r


# ---------------------------------------------------------------- part: speaker

def proc_tree(root_pid):
    """pid -> (ppid, utime+stime ticks, rss pages) for root_pid and its descendants."""
    info = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        info[int(name)] = (int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[21]))
    keep = {root_pid}
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _, _) in info.items():
            if ppid in keep and pid not in keep:
                keep.add(pid)
                changed = True
    return {pid: info[pid] for pid in keep if pid in info}


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeSampler:
    """Samples CPU and memory of a process tree until stopped."""

    def __init__(self, pid, interval=0.5):
        self.pid = pid
        self.interval = interval
        self.cpu_ticks = {}
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_procs = 0
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def sample(self):
        tree = proc_tree(self.pid)
        page = os.sysconf("SC_PAGE_SIZE") // 1024
        rss = sum(v[2] for v in tree.values()) * page
        pss = sum(pss_kib(p) for p in tree)
        with self.lock:
            for pid, (_, ticks, _) in tree.items():
                self.cpu_ticks[pid] = max(ticks, self.cpu_ticks.get(pid, 0))
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_procs = max(self.peak_procs, len(tree))

    def run(self):
        while not self.stop_ev.is_set():
            self.sample()
            self.stop_ev.wait(self.interval)

    def cpu_s(self):
        self.sample()
        with self.lock:
            return sum(self.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.stop_ev.set()
        self.t.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *a):
        pass


async def cdp_eval(ws_url, expressions, timeout):
    import websockets
    results = []
    async with websockets.connect(ws_url, max_size=16 * 1024 * 1024) as ws:
        next_id = 0

        async def call(method, params=None, t=30):
            nonlocal next_id
            next_id += 1
            my = next_id
            await ws.send(json.dumps({"id": my, "method": method, "params": params or {}}))
            end = time.monotonic() + t
            while time.monotonic() < end:
                msg = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, end - time.monotonic())))
                if msg.get("id") == my:
                    if "error" in msg:
                        raise RuntimeError("DevTools %s: %s" % (method, msg["error"]))
                    return msg["result"]
            raise RuntimeError("DevTools %s timed out" % method)

        for _ in range(100):
            r = await call("Runtime.evaluate", {"expression": "document.readyState === 'complete' && "
                                                              "typeof startSpeaker", "returnByValue": True})
            if r["result"].get("value") == "function":
                break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError("the page did not load")
        for expr in expressions:
            if callable(expr):
                expr = expr()
                if expr is None:
                    continue
            r = await call("Runtime.evaluate", {"expression": expr, "awaitPromise": True, "returnByValue": True},
                           t=timeout)
            if "exceptionDetails" in r:
                raise RuntimeError("page: %s" % json.dumps(r["exceptionDetails"])[:500])
            results.append(r["result"].get("value"))
    return results


def run_chromium_speaker(seconds, wav, rx_port, tag):
    # The repository root: the page loads the browser speaker app's client from tests/interop/chromium (one transcription).
    page_dir = ROOT
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=page_dir))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="wssac-bench-chromium-")
    url = "http://127.0.0.1:%d/bench/chromium/index.html" % httpd.server_address[1]
    argv = (["chromium"] + CHROMIUM_FLAGS + ["--mute-audio", "--user-data-dir=" + profile,
                                             "--remote-debugging-port=0", "--use-fake-ui-for-media-stream",
                                             "--use-fake-device-for-media-stream",
                                             "--use-file-for-fake-audio-capture=" + wav, url])
    chrome_log = os.path.join(OUT, "chromium-%s.log" % tag)
    t_launch = time.monotonic()
    browser = PROCS.spawn(argv, stdout=open(chrome_log, "w"), stderr=subprocess.STDOUT,
                          env={"HOME": profile})
    sampler = TreeSampler(browser.pid)
    try:
        port_line = wait_file(os.path.join(profile, "DevToolsActivePort"), 60, browser)
        devport = int(port_line.splitlines()[0])
        page_ws = None
        for _ in range(100):
            with urllib.request.urlopen("http://127.0.0.1:%d/json" % devport, timeout=5) as f:
                targets = json.load(f)
            pages = [t for t in targets if t.get("type") == "page" and t.get("url", "").startswith(url[:25])]
            if pages:
                page_ws = pages[0]["webSocketDebuggerUrl"]
                break
            time.sleep(0.1)
        if not page_ws:
            raise RuntimeError("no page target")
        marks = {}

        def mark(name, expr):
            def f():
                marks[name] = (time.monotonic(), sampler.cpu_s())
                return expr
            return f

        def wait_then(expr):
            def f():
                time.sleep(seconds)
                marks["stop"] = (time.monotonic(), sampler.cpu_s())
                return expr
            return f

        results = asyncio.run(cdp_eval(page_ws, [
            "startSpeaker('ws://127.0.0.1:%d/ws', 'chromium-%s')" % (rx_port, tag),
            mark("start", "1"),
            wait_then("stopSpeaker()"),
        ], timeout=seconds + 60))
        total_cpu = sampler.cpu_s()
        t_end = time.monotonic()
    finally:
        sampler.stop()
        PROCS.stop(browser)
        httpd.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    steady_cpu = marks["stop"][1] - marks["start"][1]
    steady_s = marks["stop"][0] - marks["start"][0]
    return {"started": results[0], "stopped": results[2], "total_cpu_s": total_cpu, "total_wall_s": t_end - t_launch,
            "steady_cpu_s": steady_cpu, "steady_s": steady_s, "peak_rss_sum_kib": sampler.peak_rss,
            "peak_pss_sum_kib": sampler.peak_pss, "processes": sampler.peak_procs,
            "command": " ".join(argv).replace(profile, "PROFILE").replace(wav, rel(wav)).replace(
                str(httpd.server_address[1]), "HTTPPORT")}


def part_speaker(res, args):
    minutes = args.speaker_minutes
    wav = speech_minutes(minutes)
    r = {"minutes": minutes}
    rx, port, _ = start_receiver("ours", "speaker")
    desc = ("filesrc location=%s ! wavparse ! audiobuffersplit output-buffer-duration=1/50 ! identity sync=true "
            "! audioconvert ! audioresample ! audio/x-raw,rate=16000,channels=1 ! %s "
            "! wssaudiochunksink sync=false location=ws://127.0.0.1:%d/ws session-id=speaker-%d" % (
                wav, ENC, port, os.getpid()))
    try:
        rc, wall, cpu, maxrss, err = run_rusage(["gst-launch-1.0", "-q"] + desc.split(), env=gst_env(),
                                                timeout=minutes * 60 + 120)
        if rc != 0:
            raise RuntimeError("gst speaker failed: " + err[-2000:])
    finally:
        PROCS.stop(rx)
    r["gst"] = {"cpu_s": cpu, "wall_s": wall, "max_rss_kib": maxrss,
                "command": "gst-launch-1.0 -q " + desc.replace(wav, rel(wav)).replace(
                    "session-id=speaker-%d" % os.getpid(), "session-id=speaker").replace(":%d/" % port, ":PORT/")}
    log("speaker gst-launch: %.2f s CPU, %d KiB peak RSS for %g min" % (cpu, maxrss, minutes))

    # Chromium sends to the Python receiver in logging mode (the bytes it puts on the wire)
    chrome_log = os.path.join(OUT, "chromium-messages.jsonl")
    rx, port, _ = start_receiver("python", "chromium", extra=["--log", chrome_log])
    try:
        c = run_chromium_speaker(minutes * 60, wav, port, "speaker")
        time.sleep(0.5)
    finally:
        PROCS.stop(rx)
    msgs = [json.loads(line) for line in open(chrome_log)]
    chunks = [m for m in msgs if "len" in m]
    closes = [m for m in msgs if "connection_closed" in m]
    c["messages"] = len(chunks)
    c["json_bytes"] = sum(m["len"] for m in chunks)
    c["audio_bytes"] = sum(m["audio"] for m in chunks)
    c["chunk_sizes"] = [m["audio"] for m in chunks]
    if len(chunks) > 1:
        iv = [b["t"] - a["t"] for a, b in zip(chunks, chunks[1:])]
        c["interval_ms_median"] = 1000 * statistics.median(iv)
    if closes:
        c["extensions"] = closes[-1]["extensions"]
    tcp = [(m["t"], m["tcp"]) for m in chunks if m.get("tcp", -1) > 0]
    if len(tcp) > 1:
        # TCP payload bytes from the first chunk's arrival to the last one's, per second
        c["tcp_bytes_per_s"] = (tcp[-1][1] - tcp[0][1]) / (tcp[-1][0] - tcp[0][0])
    r["chromium"] = c
    g = r["gst"]
    r["ratio_cpu_total"] = c["total_cpu_s"] / g["cpu_s"]
    r["ratio_cpu_steady"] = c["steady_cpu_s"] / g["cpu_s"]
    r["ratio_pss"] = c["peak_pss_sum_kib"] / g["max_rss_kib"]
    log("speaker chromium: %.2f s CPU in total, %.2f s while recording %.0f s; peak PSS %d KiB (RSS sum %d) "
        "in %d processes; %d messages" % (c["total_cpu_s"], c["steady_cpu_s"], c["steady_s"], c["peak_pss_sum_kib"],
                                          c["peak_rss_sum_kib"], c["processes"], c["messages"]))
    res["speaker"] = r


# ---------------------------------------------------------------- part: scale

def scale_run(kind, n, idx, args, profile=False):
    tag = "%s-%d%s" % (kind, n, "-perf" if profile else "")
    rx, port, rx_log = start_receiver(kind, tag, cpu=0)
    lg_json = os.path.join(OUT, "loadgen-%s.json" % tag)
    argv = [os.path.join(BUILD, "loadgen"), "--port", str(port), "--chunks", os.path.join(FX, "chunks.bin"),
            "--speakers", str(n), "--src-ip", "127.0.%d.%d" % (1 + idx // 200, 10 + idx % 200),
            "--warmup", str(args.scale_warmup), "--duration", str(args.scale_duration), "--drain", "4",
            "--connect-timeout", "60", "--tag", tag, "--out", lg_json]
    cmd = ("taskset -c 1 bench/out/build/bench/loadgen --port PORT --chunks bench/out/fixture/chunks.bin "
           "--speakers %d --warmup %s --duration %s --drain 4" % (n, args.scale_warmup, args.scale_duration))
    perf = None
    try:
        lg = PROCS.spawn(argv, stdout=subprocess.DEVNULL, stderr=open(lg_json + ".err", "w"), cpu=1)
        if profile:
            # a CPU profile of our receiver in the middle of the measuring window
            time.sleep(min(20, 3 + n / 500) + args.scale_warmup + 1)
            perf_data = os.path.join(OUT, "perf-ingestbench-%d.data" % n)
            perf = PROCS.spawn(["perf", "record", "-F", "999", "-g", "-p", str(rx.pid), "-o", perf_data, "--",
                                "sleep", "4"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            lg.wait(timeout=60 + args.scale_warmup + args.scale_duration + 30)
        except subprocess.TimeoutExpired:
            PROCS.stop(lg)
            raise RuntimeError("loadgen did not finish")
        PROCS.stop(lg)
        if perf is not None:
            perf.wait(10)
            PROCS.stop(perf)
        time.sleep(1.2)  # one more stats line
    finally:
        alive = rx.poll() is None
        PROCS.stop(rx)
    g = json.load(open(lg_json))
    lines = read_lines(rx_log)
    stats = [l for l in lines if "stats" in l]
    final = [l for l in lines if "final" in l]
    last = final[-1] if final else (stats[-1] if stats else {})
    win = [l for l in stats if g["window_start_mono"] <= l["mono"] <= g["window_end_mono"] + 0.5]
    whole_run = len(win) < 2
    if not whole_run:
        a, b = win[0], win[-1]
    elif len(stats) >= 2:
        # the receiver did not report during the window (its event loop was starved): whole run instead
        a, b = stats[0], stats[-1]
    else:
        a, b = {"msgs": 0, "cpu": 0, "mono": 0}, {"msgs": 0, "cpu": 0, "mono": 1}
    dm, dc, dt = b["msgs"] - a["msgs"], b["cpu"] - a["cpu"], max(1e-9, b["mono"] - a["mono"])
    received = last.get("msgs", 0)
    loss = max(0, g["scheduled"] - received)
    r = {"receiver": kind, "speakers": n, "open": g["open_at_start"], "connect_s": g["connect_s"],
         "connect_ms_p99": g["connect_ms_p99"], "connect_fail": g["connect_fail"],
         "msgs_per_cpu_s": dm / dc if dc > 0 else None, "cpu_util": dc / dt, "rate_in_window": dm / dt,
         "rss_kib": max([l.get("rss_kib", 0) for l in win] or [last.get("rss_kib", 0)]),
         "lat_p50_ms": g["lat_p50_us"] / 1000, "lat_p99_ms": g["lat_p99_us"] / 1000, "lat_samples": g["lat_samples"],
         "scheduled": g["scheduled"], "received": received, "loss": loss, "skipped": g["skipped"],
         "errors": g["errors"], "server_closes": g["server_closes"], "alive": alive,
         "gen_max_late_ms": g["max_send_late_us"] / 1000, "gen_cpu_s": g["gen_cpu_s"], "command": cmd,
         "loadavg": loadavg(), "whole_run_figures": whole_run}
    if perf is not None:
        r["perf_top"] = perf_top(os.path.join(OUT, "perf-ingestbench-%d.data" % n))
    log("scale %-6s N=%5d: %5d open, %7.0f msgs/CPU-s, CPU %3.0f %%, RSS %6.0f MiB, p50 %7.1f ms, p99 %7.1f ms, "
        "loss %d of %d, connect p99 %.0f ms" % (kind, n, r["open"], r["msgs_per_cpu_s"] or 0, 100 * r["cpu_util"],
                                                 r["rss_kib"] / 1024, r["lat_p50_ms"], r["lat_p99_ms"], loss,
                                                 g["scheduled"], g["connect_ms_p99"]))
    return r


def perf_top(path, n=16):
    """Self time by shared object and symbol, from a perf.data file."""
    out = subprocess.run(["perf", "report", "-i", path, "--no-children", "--sort", "dso,sym", "--stdio", "-g", "none"],
                         capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[.\]\s+(.*)", line)
        if m:
            rows.append((float(m.group(1)), m.group(2), m.group(3).strip()[:90]))
    return rows[:n]


def part_scale(res, args):
    runs = []
    idx = 0
    for n in args.speakers:
        for kind in args.receivers:
            try:
                runs.append(scale_run(kind, n, idx, args))
            except (RuntimeError, OSError, ValueError) as e:
                log("scale %s N=%d failed: %s" % (kind, n, e))
                runs.append({"receiver": kind, "speakers": n, "failed": str(e)})
            idx += 1
    res["scale"] = {"runs": runs, "warmup_s": args.scale_warmup, "duration_s": args.scale_duration,
                    "versions": receiver_versions()}
    # a separate run of ours under perf (not one of the measured points: perf slows what it samples)
    if "ours" in args.receivers and args.profile_speakers > 0 and shutil.which("perf"):
        try:
            p = scale_run("ours", args.profile_speakers, idx, args, profile=True)
            res["scale"]["profile"] = {"speakers": args.profile_speakers, "perf_top": p.get("perf_top", []),
                                       "command": "perf record -F 999 -g -p PID -- sleep 4 (ingestbench, "
                                                  "mid-window of a separate run)"}
        except (RuntimeError, OSError, ValueError) as e:
            log("profile run failed: %s" % e)


# ---------------------------------------------------------------- part: shard

INGEST = os.path.join(MAIN_BUILD, "tools", "wssaudiochunk-ingest")


class ProcSampler(threading.Thread):
    """CPU seconds, RSS and descriptors of one process every 0.2 s, stamped
    with CLOCK_MONOTONIC (the load generator's clock)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.rows, self.halt = pid, [], threading.Event()
        self.tick = os.sysconf("SC_CLK_TCK")

    def sample(self):
        try:
            with open("/proc/%d/stat" % self.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / self.tick
            rss = 0
            for line in open("/proc/%d/status" % self.pid):
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
            fds = len(os.listdir("/proc/%d/fd" % self.pid))
            return {"mono": time.monotonic(), "cpu": cpu, "rss_kib": rss, "fds": fds}
        except (OSError, IndexError, ValueError):
            return None

    def run(self):
        while not self.halt.is_set():
            r = self.sample()
            if r:
                self.rows.append(r)
            self.halt.wait(0.2)


CGROUP_V1_CPU = "/sys/fs/cgroup/cpu"
CGROUP_V2 = "/sys/fs/cgroup"


def cpu_cgroup(name):
    """A cgroup for a CPU quota (cgroup_limit), none yet; the path of its
    procs file, or None when the machine has no writable one (v1 cpu
    controller, or v2)."""
    try:
        if os.path.isdir(CGROUP_V1_CPU):
            path = os.path.join(CGROUP_V1_CPU, name)
            os.makedirs(path, exist_ok=True)
            return os.path.join(path, "cgroup.procs")
        if os.path.exists(os.path.join(CGROUP_V2, "cgroup.controllers")):
            try:
                open(os.path.join(CGROUP_V2, "cgroup.subtree_control"), "w").write("+cpu")
            except OSError:
                pass
            path = os.path.join(CGROUP_V2, name)
            os.makedirs(path, exist_ok=True)
            return os.path.join(path, "cgroup.procs")
    except OSError as e:
        log("no cpu cgroup (%s)" % e)
    return None


def write_file(path, text):
    with open(path, "w") as f:  # closed here: a refused value raises here
        f.write(text)


def cgroup_limit(procs, quota_us, period_us):
    """From now on the cgroup's tasks get at most quota_us of CPU time per
    period_us, summed over their threads (the kernel's least quota is 1 ms)."""
    d = os.path.dirname(procs)
    if os.path.exists(os.path.join(d, "cpu.cfs_quota_us")):
        write_file(os.path.join(d, "cpu.cfs_period_us"), str(period_us))
        write_file(os.path.join(d, "cpu.cfs_quota_us"), str(quota_us))
    else:
        write_file(os.path.join(d, "cpu.max"), "%d %d" % (quota_us, period_us))


def cgroup_unlimit(procs):
    """Lifts the quota (the program then finishes its sessions at full speed)."""
    d = os.path.dirname(procs)
    try:
        if os.path.exists(os.path.join(d, "cpu.cfs_quota_us")):
            open(os.path.join(d, "cpu.cfs_quota_us"), "w").write("-1")
        else:
            open(os.path.join(d, "cpu.max"), "w").write("max")
    except OSError:
        pass


def cgroup_throttled(procs):
    """(periods, throttled periods) of the cgroup so far."""
    st = {}
    try:
        for line in open(os.path.join(os.path.dirname(procs), "cpu.stat")):
            k, v = line.split()
            st[k] = int(v)
    except (OSError, ValueError):
        pass
    return st.get("nr_periods", 0), st.get("nr_throttled", 0)


def cgroup_remove(procs):
    try:
        os.rmdir(os.path.dirname(procs))
    except OSError:
        pass


def start_ingest(tag, workers, cpus, extra=(), cgroup=None):
    port_file = os.path.join(OUT, "port-ingest-%s" % tag)
    if os.path.exists(port_file):
        os.remove(port_file)
    outdir = tempfile.mkdtemp(prefix="rec-%s-" % tag, dir=OUT)
    log_path = os.path.join(OUT, "rx-ingest-%s.log" % tag)
    argv = [INGEST, "--port", "0", "--port-file", port_file, "--output-dir", outdir, "--record", "webm",
            "--workers", str(workers), "--max-connections-per-address", "0", "--max-new-sessions-per-second", "0",
            "--idle-timeout", "0", "--quiet"] + list(extra)
    argv = ["taskset", "-c", cpus] + argv
    if cgroup:
        # into the cgroup before exec: every thread it starts is in it too
        argv = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', cgroup] + argv
    p = PROCS.spawn(argv, stdout=open(log_path, "w"), stderr=open(log_path + ".err", "w"), env=gst_env())
    port = int(wait_file(port_file, 30, p))
    return p, port, log_path, outdir


def stop_ingest(rx):
    """SIGTERM: every session finishes, then the table; given time for it."""
    if rx.poll() is None:
        os.killpg(rx.pid, signal.SIGTERM)
        try:
            rx.wait(120)
        except subprocess.TimeoutExpired:
            pass
    PROCS.stop(rx)


def ingest_table_chunks(log_path):
    """The CHUNKS column of the program's final table, summed."""
    total, seen = 0, False
    for line in open(log_path, errors="replace"):
        cols = line.split()
        if cols[:3] == ["SESSION", "FORMAT", "CHUNKS"]:
            seen = True
            continue
        if seen and len(cols) >= 3 and cols[2].isdigit():
            total += int(cols[2])
    return total if seen else None


def shard_run(label, kind, n, workers, args, cpus="0", connect_rate=0, warmup=None, duration=None, extra=()):
    tag = "%s-%d%s" % (label, n, "-burst" if connect_rate else "")
    warmup = args.scale_warmup if warmup is None else warmup
    duration = args.scale_duration if duration is None else duration
    outdir = None
    if kind == "ours":
        rx, port, rx_log, outdir = start_ingest(tag, workers, cpus, extra)
    else:
        # the same work as ours: each session's journal on disk, written before the ack
        outdir = tempfile.mkdtemp(prefix="rec-%s-" % tag, dir=OUT)
        rx, port, rx_log = start_receiver("node", tag, cpu=cpus, extra=["--journal-dir", outdir])
    time.sleep(0.5)
    sampler = ProcSampler(rx.pid)
    idle = sampler.sample()
    sampler.start()
    lg_json = os.path.join(OUT, "loadgen-%s.json" % tag)
    argv = [os.path.join(BUILD, "loadgen"), "--port", str(port), "--chunks", os.path.join(FX, "chunks.bin"),
            "--speakers", str(n), "--warmup", str(warmup), "--duration", str(duration), "--drain", "4",
            "--connect-timeout", "60", "--tag", tag, "--out", lg_json]
    if connect_rate:
        argv += ["--connect-rate", str(connect_rate), "--concurrency", str(n)]
    loss_from_table = None
    try:
        lg = PROCS.spawn(argv, stdout=subprocess.DEVNULL, stderr=open(lg_json + ".err", "w"), cpu=1)
        try:
            lg.wait(timeout=60 + warmup + duration + 30)
        except subprocess.TimeoutExpired:
            PROCS.stop(lg)
            raise RuntimeError("loadgen did not finish")
        PROCS.stop(lg)
        time.sleep(1.2)
    finally:
        sampler.halt.set()
        sampler.join()
        alive = rx.poll() is None
        if kind == "ours":
            stop_ingest(rx)
        else:
            PROCS.stop(rx)
    g = json.load(open(lg_json))
    rows = sampler.rows
    win = [r for r in rows if g["window_start_mono"] <= r["mono"] <= g["window_end_mono"]]
    if len(win) < 2:
        win = rows[-2:] if len(rows) >= 2 else rows
    sent_win = g["window_scheduled"] - g["window_skipped"]
    dc = (win[-1]["cpu"] - win[0]["cpu"]) if len(win) >= 2 else 0
    dt = max(1e-9, (win[-1]["mono"] - win[0]["mono"]) if len(win) >= 2 else 1)
    # messages sent in the sampled span of the window
    span = dt / max(1e-9, g["window_s"])
    if kind == "ours":
        received = ingest_table_chunks(rx_log)
    else:
        fin = [l for l in read_lines(rx_log) if "final" in l or "stats" in l]
        received = fin[-1].get("msgs") if fin else None
    loss = max(0, g["sent"] - received) if received is not None else None
    peak = max(win, key=lambda r: r["rss_kib"]) if win else {"rss_kib": 0, "fds": 0}
    live = max(1, g["open_at_start"])
    r = {"label": label, "receiver": kind, "workers": workers, "cpus": cpus, "speakers": n,
         "open": g["open_at_start"], "connect_rate": connect_rate,
         "connect_ms_p50": g["connect_ms_p50"], "connect_ms_p99": g["connect_ms_p99"],
         "connect_ms_max": g["connect_ms_max"], "connect_s": g["connect_s"],
         "msgs_per_cpu_s": sent_win * span / dc if dc > 0 else None, "cpu_util": dc / dt,
         "lat_p50_ms": g["lat_p50_us"] / 1000, "lat_p99_ms": g["lat_p99_us"] / 1000,
         "lat_samples": g["lat_samples"], "acks": g["acks"], "sent": g["sent"], "received": received, "loss": loss, "errors": g["errors"],
         "server_closes": g["server_closes"], "alive": alive,
         "rss_mib_per_1000": (peak["rss_kib"] - (idle or peak)["rss_kib"]) / 1024 * 1000 / live,
         "fds_per_1000": (peak["fds"] - (idle or peak)["fds"]) * 1000 / live, "loadavg": loadavg()}
    if outdir:
        shutil.rmtree(outdir, ignore_errors=True)
    log("shard %-8s N=%5d rate=%s: %5d open, connect p99 %.0f ms, %s msgs/CPU-s, CPU %.0f %%, ack p99 %.1f ms, "
        "loss %s of %d, RSS %.1f MiB and %.0f fds per 1000" % (
            label, n, connect_rate or "-", r["open"], r["connect_ms_p99"], fmt(r["msgs_per_cpu_s"]),
            100 * r["cpu_util"], r["lat_p99_ms"], loss, g["sent"], r["rss_mib_per_1000"], r["fds_per_1000"]))
    return r


def part_shard(res, args):
    n = args.shard_speakers
    S = {"speakers": n, "started": time.strftime("%Y-%m-%d %H:%M:%S"), "loadavg": loadavg(),
         "git": subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                               text=True).stdout.strip(),
         "rx_command": "taskset -c CPUS build/tools/wssaudiochunk-ingest --port 0 --record webm --workers W "
                       "--max-connections-per-address 0 --max-new-sessions-per-second 0 --idle-timeout 0 --quiet",
         "lg_command": "taskset -c 1 bench/out/build/bench/loadgen --port PORT --chunks bench/out/fixture/chunks.bin "
                       "--speakers N --warmup %s --duration %s --drain 4 [--connect-rate 500 --concurrency N]" % (
                           args.scale_warmup, args.scale_duration),
         "throughput": [], "connect": []}
    # ours-1-libsoup: the same program with libsoup's WebSocket data path
    # (--permessage-deflate keeps the connections with libsoup; the load
    # generator does not ask for compression, so nothing is compressed), to
    # show what our own data path buys. ours-1-unbatched: polling at once
    # (--batch-wait-us 0), to show what batching wake-ups buys.
    plan = [("ours-1", "ours", 1, "0", ()), ("ours-1-libsoup", "ours", 1, "0", ("--permessage-deflate",)),
            ("ours-1-unbatched", "ours", 1, "0", ("--batch-wait-us", "0")),
            ("ours-2", "ours", 2, "0,1", ()), ("node", "node", 1, "0", ())]
    for label, kind, workers, cpus, extra in plan:
        try:
            S["throughput"].append(shard_run(label, kind, n, workers, args, cpus=cpus, extra=extra))
        except (RuntimeError, OSError, ValueError, KeyError) as e:
            log("shard %s failed: %s" % (label, e))
            S["throughput"].append({"label": label, "failed": str(e)})
    # The target's ratio, ours-1 against node, in pairs run back to back
    # (which goes first alternates), so that a busy moment of this shared
    # machine falls on both sides of a pair, not on one side of the ratio.
    S["pairs"] = []
    for i in range(args.shard_pairs):
        pair = {}
        order = [("ours-1", "ours"), ("node", "node")]
        for label, kind in (order if i % 2 == 0 else order[::-1]):
            try:
                pair[label] = shard_run(label, kind, n, 1, args, cpus="0")
            except (RuntimeError, OSError, ValueError, KeyError) as e:
                log("shard pair %d %s failed: %s" % (i + 1, label, e))
        if all(pair.get(k, {}).get("msgs_per_cpu_s") for k in ("ours-1", "node")):
            S["pairs"].append({"ours": pair["ours-1"]["msgs_per_cpu_s"], "node": pair["node"]["msgs_per_cpu_s"],
                               "ours_loss": pair["ours-1"]["loss"], "ours_sent": pair["ours-1"]["sent"], "first": order[i % 2 == 1][0]})
            log("shard pair %d: ours-1 %.0f, node %.0f msgs/CPU-s: %.2fx" % (
                i + 1, S["pairs"][-1]["ours"], S["pairs"][-1]["node"], S["pairs"][-1]["ours"] / S["pairs"][-1]["node"]))
    for label, kind, workers, cpus, extra in plan:
        if extra:
            continue
        try:
            S["connect"].append(shard_run(label, kind, args.burst_speakers, workers, args, cpus=cpus,
                                          connect_rate=args.burst_rate, warmup=1.0, duration=2.0, extra=extra))
        except (RuntimeError, OSError, ValueError, KeyError) as e:
            log("shard burst %s failed: %s" % (label, e))
            S["connect"].append({"label": label, "failed": str(e)})
    res["shard"] = S


def part_capacity(res, args):
    n = args.capacity_speakers
    period = 100000
    C = {"speakers": n, "rate": args.capacity_rate, "share": args.capacity_share, "period_us": period,
         "started": time.strftime("%Y-%m-%d %H:%M:%S"), "loadavg": loadavg(),
         "git": subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                               text=True).stdout.strip(),
         "command": "cpu cgroup quota W x %d%% of a core (period %d us); taskset -c CPUS "
                    "build/tools/wssaudiochunk-ingest --record webm --workers W ...; loadgen --speakers %d --rate %g "
                    "--warmup 3 --duration 8 --drain 2, the quota set once all are connected; throughput = chunks acknowledged in the window / 8 s" % (
                        round(100 * args.capacity_share), period, n, args.capacity_rate),
         "runs": []}
    # ours-2: two workers with a share each, on two CPUs (the 2-core
    # scaling); ours-2-same-quota: two workers sharing one share (the cost
    # per message of splitting the work, apart from having more CPU).
    plan = [("ours-1", 1, "0", 1), ("ours-2", 2, "0,1", 2), ("ours-2-same-quota", 2, "0,1", 1)] \
        * args.capacity_repeats
    for i, (label, workers, cpus, shares) in enumerate(plan):
        quota = int(args.capacity_share * shares * period)
        cg = cpu_cgroup("wssac-bench-%s" % label)
        if not cg:
            C["skipped"] = "no writable cpu cgroup on this machine"
            break
        tag = "cap-%s-%d" % (label, i)
        rx = None
        try:
            rx, port, rx_log, outdir = start_ingest(tag, workers, cpus, cgroup=cg)
            time.sleep(0.5)
            lg_json = os.path.join(OUT, "loadgen-%s.json" % tag)
            argv = [os.path.join(BUILD, "loadgen"), "--port", str(port), "--chunks", os.path.join(FX, "chunks.bin"),
                    "--speakers", str(n), "--rate", str(args.capacity_rate), "--warmup", "3", "--duration", "8",
                    "--drain", "2", "--connect-timeout", "60", "--tag", tag, "--out", lg_json]
            lg = PROCS.spawn(argv, stdout=subprocess.DEVNULL, stderr=open(lg_json + ".err", "w"), cpu=1)
            # The quota once every speaker is connected: the 3 s warm-up
            # then builds the backlog the window is measured in.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and lg.poll() is None:
                if "connected in" in open(lg_json + ".err", errors="replace").read():
                    break
                time.sleep(0.05)
            cgroup_limit(cg, quota, period)
            p0 = cgroup_throttled(cg)
            try:
                lg.wait(timeout=120)
            except subprocess.TimeoutExpired:
                PROCS.stop(lg)
                raise RuntimeError("loadgen did not finish")
            p1 = cgroup_throttled(cg)
            g = json.load(open(lg_json))
            offered = g["window_scheduled"] / g["window_s"]
            got = g["window_acked"] / g["window_s"]
            r = {"label": label, "workers": workers, "cpus": cpus, "quota_us": quota, "shares": shares,
                 "open": g["open_at_start"],
                 "offered_per_s": offered, "acked_per_s": got, "skipped": g["skipped"], "errors": g["errors"],
                 "server_closes": g["server_closes"],
                 "throttled_share": (p1[1] - p0[1]) / max(1, p1[0] - p0[0]),
                 # the quota, not the load, bounded it: it took clearly less than offered
                 "saturated": got < 0.9 * offered}
            C["runs"].append(r)
            log("capacity %-17s %d worker(s), %.0f %% of a core: %s chunks/s acknowledged of %s offered, throttled "
                "in %.0f %% of the periods%s" % (label, workers, 100 * args.capacity_share * shares, fmt(got),
                                                 fmt(offered),
                                      100 * r["throttled_share"], "" if r["saturated"] else " (NOT saturated)"))
        except (RuntimeError, OSError, ValueError, KeyError) as e:
            log("capacity %s failed: %s" % (label, e))
            C["runs"].append({"label": label, "failed": str(e)})
        finally:
            if rx is not None:
                cgroup_unlimit(cg)
                stop_ingest(rx)
                shutil.rmtree(outdir, ignore_errors=True)
            cgroup_remove(cg)
    res["capacity"] = C


def receiver_versions():
    v = {}
    try:
        v["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        pkg = os.path.join(HERE, "node", "node_modules", "ws", "package.json")
        if not os.path.exists(pkg):
            pkg = "/usr/share/nodejs/ws/package.json"
        v["ws"] = json.load(open(pkg))["version"]
    except (OSError, ValueError):
        pass
    try:
        v["websockets"] = subprocess.run([sys.executable, "-c", "import websockets;print(websockets.__version__)"],
                                         capture_output=True, text=True).stdout.strip()
        v["python"] = subprocess.run([sys.executable, "--version"], capture_output=True, text=True).stdout.split()[-1]
    except OSError:
        pass
    return v


# ---------------------------------------------------------------- part: wire

def ws_client_header(n):
    return 6 if n < 126 else (8 if n < 65536 else 14)


def part_wire(res, args):
    sizes = json.load(open(os.path.join(FX, "sizes.json")))
    ch = [c for c in sizes["chunks"] if not c["header"] and c["duration_ns"] > 0]
    secs = sum(c["duration_ns"] for c in ch) / 1e9
    opus = sum(c["opus"] for c in ch)
    webm = sum(c["webm"] for c in ch)
    n = len(ch)
    # the sink's JSON frames (encode_audio_chunk with a 36-character sessionId), as WebSocket client frames
    json_frames = sum(c["json"] + ws_client_header(c["json"]) for c in ch)
    idx_digits = 4
    ts_digits = 13
    sid = SESSION_ID_LEN
    hdr_json = len('{"action":"audioChunk","sessionId":"","chunkIndex":,"timestamp":,"format":"webm-opus"}') + \
        sid + idx_digits + ts_digits
    opts = {}
    # (a) a small JSON text frame, then a binary frame with the WebM bytes
    opts["a"] = sum(hdr_json + ws_client_header(hdr_json) + c["webm"] + ws_client_header(c["webm"]) for c in ch)
    # (b) one binary frame: 2-byte header length, the same JSON header, the WebM bytes
    opts["b"] = sum(2 + hdr_json + c["webm"] + ws_client_header(2 + hdr_json + c["webm"]) for c in ch)
    # (c) one binary frame: 12-byte fixed header (chunkIndex u64, flags u16, length u16), WebM bytes;
    #     the sessionId is said once per connection
    opts["c"] = sum(12 + c["webm"] + ws_client_header(12 + c["webm"]) for c in ch)
    # (d) one binary frame: the 12-byte header, then the Opus packets with a 2-byte length each (no WebM)
    per_chunk_pkts = sizes["opus_packets"] / max(1, len(sizes["chunks"]))
    opts["d"] = sum(12 + c["opus"] + 2 * per_chunk_pkts + ws_client_header(12 + c["opus"]) for c in ch)
    r = {"seconds": secs, "chunks": n, "per_second": {
        "opus": opus / secs, "webm": webm / secs, "json": json_frames / secs,
        "bin_a": opts["a"] / secs, "bin_b": opts["b"] / secs, "bin_c": opts["c"] / secs, "bin_d": opts["d"] / secs},
        "header_json_bytes": hdr_json, "packets_per_chunk": per_chunk_pkts,
        "source": rel(os.path.join(FX, "sizes.json"))}
    lat = res.get("latency")
    if lat and lat.get("sent_encoded"):
        enc = [e for e in lat["sent_encoded"][1:] if e and e > 0]
        aud = [a for a in lat["sent_size"][1:] if a and a > 0]
        m = lat["minutes"] * 60
        r["sink_measured"] = {"json_frames_per_s": sum(e + ws_client_header(e) for e in enc) / m,
                              "webm_per_s": sum(aud) / m, "chunks": len(enc)}
    sp = res.get("speaker", {}).get("chromium")
    if sp and sp.get("messages"):
        s = sp["steady_s"]
        r["chromium"] = {"json_per_s": (sp["json_bytes"] + 8 * sp["messages"]) / s,
                         "webm_per_s": sp["audio_bytes"] / s, "messages": sp["messages"], "seconds": s,
                         "extensions": sp.get("extensions")}
        if sp.get("tcp_bytes_per_s"):
            r["chromium"]["tcp_per_s"] = sp["tcp_bytes_per_s"]
    res["wire"] = r
    log("wire: opus %.0f B/s, webm %.0f, JSON %.0f, binary a %.0f b %.0f c %.0f d %.0f" % tuple(
        r["per_second"][k] for k in ["opus", "webm", "json", "bin_a", "bin_b", "bin_c", "bin_d"]))


# ---------------------------------------------------------------- figures

def figures(res):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(IMG, exist_ok=True)
    made = {}

    def save(fig, part, file_name):
        """Writes @fig to docs/img/@file_name for @part's section of the report."""
        fig.tight_layout()
        path = os.path.join(IMG, file_name)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made[part] = path

    if "sink" in res:
        s = res["sink"]
        names = ["full", "chunker", "queue", "base64", "encode", "direct"]
        labels = ["whole sink path\n(no socket)", "Chunker::push", "Broadcast+\nBacklog", "g_base64_\nencode",
                  "encode_audio_\nchunk", "hand-written\nencoder"]
        med = [s["variants"][k]["median"] / 1000 for k in names]
        lo = [m - s["variants"][k]["min"] / 1000 for m, k in zip(med, names)]
        hi = [s["variants"][k]["max"] / 1000 - m for m, k in zip(med, names)]
        ins = [s["variants"][k]["instructions"] / 1000 for k in names]
        fig, ax = plt.subplots(1, 2, figsize=(11, 4))
        ax[0].bar(labels, med, yerr=[lo, hi], capsize=4, color=["#4c72b0"] + ["#8c8c8c"] * 4 + ["#55a868"])
        ax[0].axhline(5, color="r", ls="--", lw=1)
        ax[0].text(5.4, 5.2, "target 5 µs", color="r", ha="right", fontsize=8)
        ax[0].set_ylabel("µs per chunk (median, min-max)")
        ax[0].tick_params(axis="x", labelsize=7)
        ax[1].bar(labels, ins, color=["#4c72b0"] + ["#8c8c8c"] * 4 + ["#55a868"])
        ax[1].set_ylabel("thousand instructions per chunk (callgrind)")
        ax[1].tick_params(axis="x", labelsize=7)
        fig.suptitle("Sink cost per 250 ms chunk (real webmmux buffers of speech)")
        save(fig, "sink", "perf-sink-cost.png")

    if "latency" in res:
        L = res["latency"]
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for k, lab in [("complete_to_socket", "chunk complete → handed to socket (sink)"),
                       ("complete_to_receiver", "chunk complete → receiver has it (loopback)"),
                       ("last_to_socket", "chunk's last buffer → handed to socket")]:
            v = sorted(x / 1000 for x in L["series"][k])
            if v:
                ax.plot(v, [i / len(v) for i in range(len(v))], label=lab)
        ax.set_xscale("log")
        ax.set_xlabel("ms (log)")
        ax.set_ylabel("fraction of chunks")
        ax.axvline(1, color="r", ls="--", lw=1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title("Added latency per chunk, %g min of real-time speech" % L["minutes"])
        save(fig, "latency", "perf-latency.png")

    if "scale" in res:
        runs = [r for r in res["scale"]["runs"] if "failed" not in r]
        fig, ax = plt.subplots(2, 2, figsize=(11, 8))
        colors = {"ours": "#4c72b0", "node": "#55a868", "python": "#c44e52"}
        names = {"ours": "ours (IngestServer)", "node": "Node ws", "python": "Python websockets"}
        for kind in ["ours", "node", "python"]:
            rr = sorted([r for r in runs if r["receiver"] == kind], key=lambda r: r["speakers"])
            if not rr:
                continue
            x = [r["speakers"] for r in rr]
            ax[0][0].plot(x, [r["msgs_per_cpu_s"] or 0 for r in rr], "o-", color=colors[kind], label=names[kind])
            ax[0][1].plot(x, [100 * r["cpu_util"] for r in rr], "o-", color=colors[kind], label=names[kind])
            ax[1][0].plot(x, [max(0.01, r["lat_p99_ms"]) for r in rr], "o-", color=colors[kind], label=names[kind])
            ax[1][1].plot(x, [r["rss_kib"] / 1024 for r in rr], "o-", color=colors[kind], label=names[kind])
            for r in rr:
                if r["loss"] > 0:
                    ax[1][0].annotate("loss %.1f%%" % (100 * r["loss"] / max(1, r["scheduled"])),
                                      (r["speakers"], max(0.01, r["lat_p99_ms"])), fontsize=7, color=colors[kind])
        ax[0][0].set_ylabel("messages per CPU-second")
        ax[0][1].set_ylabel("CPU of core 0 (%)")
        ax[1][0].set_ylabel("p99 ingest latency, ms (log)")
        ax[1][0].set_yscale("log")
        ax[1][1].set_ylabel("RSS, MiB")
        for a in ax.flat:
            a.set_xlabel("speakers (4 messages/s each)")
            a.set_xscale("log")
            a.grid(alpha=0.3)
            a.legend(fontsize=8)
        fig.suptitle("Receivers on one core (taskset -c 0), load from core 1")
        save(fig, "scale", "perf-receiver-scale.png")

    if "speaker" in res:
        S = res["speaker"]
        g, c = S["gst"], S["chromium"]
        m = S["minutes"]
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        ax[0].bar(["gst-launch\n(opusenc ! webmmux !\nwssaudiochunksink)", "Chromium, browser app's\nclient (total)",
                   "Chromium\n(while recording)"],
                  [g["cpu_s"] / m, c["total_cpu_s"] / m, c["steady_cpu_s"] / (c["steady_s"] / 60)],
                  color=["#4c72b0", "#c44e52", "#dd8452"])
        ax[0].set_ylabel("CPU seconds per minute of audio")
        ax[0].tick_params(axis="x", labelsize=7)
        ax[1].bar(["gst-launch\n(peak RSS)", "Chromium\n(peak PSS sum)", "Chromium\n(peak RSS sum)"],
                  [g["max_rss_kib"] / 1024, c["peak_pss_sum_kib"] / 1024, c["peak_rss_sum_kib"] / 1024],
                  color=["#4c72b0", "#c44e52", "#dd8452"])
        ax[1].set_ylabel("MiB")
        ax[1].tick_params(axis="x", labelsize=7)
        fig.suptitle("A whole speaker, %g min of the same speech file in real time" % m)
        save(fig, "speaker", "perf-speaker.png")

    if "wire" in res:
        W = res["wire"]["per_second"]
        labels = ["Opus\npayload", "WebM", "ours: JSON/\nbase64 frames", "(a) JSON text +\nbinary WebM",
                  "(b) one binary:\nJSON hdr+WebM", "(c) binary: 12 B\nhdr + WebM", "(d) binary: 12 B\nhdr + Opus"]
        vals = [W["opus"], W["webm"], W["json"], W["bin_a"], W["bin_b"], W["bin_c"], W["bin_d"]]
        fig, ax = plt.subplots(figsize=(10, 4.2))
        bars = ax.bar(labels, vals, color=["#8c8c8c", "#8c8c8c", "#4c72b0"] + ["#55a868"] * 4)
        for b, v in zip(bars, vals):
            ax.text(b.get_x() + b.get_width() / 2, v, "%+.0f%%" % (100 * (v / W["opus"] - 1)), ha="center",
                    va="bottom", fontsize=8)
        ax.axhline(W["opus"] * 1.15, color="r", ls="--", lw=1)
        ax.set_ylabel("bytes per second of audio")
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title("Bytes on the wire (WebSocket frames) per second of speech, 16 kbps Opus; "
                     "binary options computed, not implemented", fontsize=9)
        save(fig, "wire", "perf-wire.png")

    if "pipeline" in res:
        P = res["pipeline"]
        ks = list(P["cpu"].keys())
        med = [P["cpu"][k]["median"] / P["minutes"] for k in ks]
        lo = [m - P["cpu"][k]["min"] / P["minutes"] for m, k in zip(med, ks)]
        hi = [P["cpu"][k]["max"] / P["minutes"] - m for m, k in zip(med, ks)]
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.bar([k.replace(" ", "\n") for k in ks], med, yerr=[lo, hi], capsize=4,
               color=["#8c8c8c", "#4c72b0", "#55a868"])
        ax.set_ylabel("CPU seconds per minute of audio")
        ax.set_title("audiotestsrc ! opusenc ! webmmux ! SINK, sync=false (%d runs each)" % P["repeats"], fontsize=9)
        save(fig, "pipeline", "perf-pipeline.png")
    return made


# ---------------------------------------------------------------- report

def fmt(v, nd=0):
    if v is None:
        return "-"
    return ("{:,.%df}" % nd).format(v)


def summary_rows(res):
    """(measure, target, measured, met?) rows for the table."""
    rows = []
    if "sink" in res:
        f = res["sink"]["variants"]["full"]
        rows.append(("Sink cost per chunk (Chunker + queue + base64 + JSON, no socket)", "<= 5 us",
                     "%s us median (min %s, max %s); %s instructions" % (
                         fmt(f["median"] / 1000, 1), fmt(f["min"] / 1000, 1), fmt(f["max"] / 1000, 1),
                         fmt(f["instructions"])), f["median"] <= 5000))
        e = res["sink"]["variants"]["encode"]
        rows.append(("  of which the encode step (`encode_audio_chunk`, the audioChunk writer)", "-",
                     "%s us, %s instructions (json-glib's builder took 10.9 us, 75,655)" % (
                         fmt(e["median"] / 1000, 2), fmt(e["instructions"])), None))
    if "pipeline" in res:
        P = res["pipeline"]
        k = "wssaudiochunksink"
        rows.append(("Sink's share of speaker pipeline CPU (sync=false)", "-",
                     "callgrind: %.1f %% of instructions (%s per chunk in steady state; opusenc %.0f %%); "
                     "CPU time: %+.1f %% (noisy: fakesink runs alone spread %.0f %%)" % (
                         100 * P["callgrind"]["sink_share"], fmt(P["callgrind"].get("steady_instructions_per_chunk")),
                         100 * P["callgrind"].get("opus_share", 0), 100 * P["cpu"][k]["sink_share"],
                         100 * (P["cpu"]["fakesink"]["max"] - P["cpu"]["fakesink"]["min"])
                         / P["cpu"]["fakesink"]["median"]),
                     None))
    if "sinkcpu" in res:
        C = res["sinkcpu"]
        rows.append(("Sink: whole-process CPU added per chunk, %g min of WebM into the sink vs fakesink" % C["minutes"],
                     "<= 20 us", "%s us (user %s, system %s; medians of %d interleaved runs, load %s)" % (
                         fmt(C["us_per_chunk"], 1), fmt(C["user_us_per_chunk"], 1), fmt(C["sys_us_per_chunk"], 1),
                         C["repeats"], C["loadavg_before"].split()[0]), C["us_per_chunk"] <= 20))
    if "latency" in res:
        L = res["latency"]["summary"]
        st = res["latency"]["sink_stats"]
        rows.append(("Added latency, chunk complete -> socket (p50 / p99)", "p99 <= 1 ms",
                     "%s / %s ms (sink stats: p50 %s, p99 %s ms)" % (
                         fmt(L["complete_to_socket"]["p50"] / 1000, 2), fmt(L["complete_to_socket"]["p99"] / 1000, 2),
                         fmt(st.get("latency-p50", 0) / 1000, 2), fmt(st.get("latency-p99", 0) / 1000, 2)),
                     L["complete_to_socket"]["p99"] <= 1000))
        rows.append(("  chunk's last buffer -> socket (p50 / p99)", "-", "%s / %s ms" % (
            fmt(L["last_to_socket"]["p50"] / 1000, 1), fmt(L["last_to_socket"]["p99"] / 1000, 1)), None))
        rows.append(("  end to end, complete -> receiver on loopback (p50 / p99)", "-", "%s / %s ms (%g min)" % (
            fmt(L["complete_to_receiver"]["p50"] / 1000, 2), fmt(L["complete_to_receiver"]["p99"] / 1000, 2),
            res["latency"]["minutes"]), None))
    if "scale" in res:
        runs = [r for r in res["scale"]["runs"] if "failed" not in r]
        ours = {r["speakers"]: r for r in runs if r["receiver"] == "ours"}
        node = {r["speakers"]: r for r in runs if r["receiver"] == "node"}
        ok = [n for n, r in ours.items() if r["loss"] == 0 and r["open"] == n and r["cpu_util"] < 0.95]
        best = max(ok) if ok else 0
        detail = ""
        if best:
            b = ours[best]
            detail = "; at that N: CPU %.0f %%, latency p99 %s ms, connect p99 %s ms" % (
                100 * b["cpu_util"], fmt(b["lat_p99_ms"]), fmt(b["connect_ms_p99"]))
        rows.append(("Receiver: speakers on one core with zero loss", ">= 2,000",
                     "%s (largest N tested with no loss, all connected, CPU < 95 %%)%s" % (fmt(best), detail),
                     best >= 2000))
        ratios = []
        for n in sorted(ours):
            if n in node and ours[n].get("msgs_per_cpu_s") and node[n].get("msgs_per_cpu_s"):
                ratios.append((n, ours[n]["msgs_per_cpu_s"] / node[n]["msgs_per_cpu_s"]))
        if ratios:
            rows.append(("Receiver: messages per CPU-second, ours / Node ws", ">= 3x",
                         ", ".join("N=%d: %.2fx" % r for r in ratios), all(r[1] >= 3 for r in ratios)))
    if "shard" in res:
        from report import shard_rows  # bench/report.py
        rows.extend(shard_rows(res))
    if "speaker" in res:
        S = res["speaker"]
        rows.append(("Whole speaker CPU, Chromium / gst-launch", ">= 20x",
                     "%.1fx while recording (%.1fx incl. browser start); memory %.1fx (PSS sum vs RSS)" % (
                         S["ratio_cpu_steady"], S["ratio_cpu_total"], S["ratio_pss"]), S["ratio_cpu_steady"] >= 20))
    if "wire" in res:
        W = res["wire"]["per_second"]
        rows.append(("Wire bytes vs Opus payload: ours (JSON/base64)", "-", "+%.0f %%" % (100 * (W["json"] / W["opus"] - 1)),
                     None))
        best = min(("a", W["bin_a"]), ("b", W["bin_b"]), ("c", W["bin_c"]), key=lambda x: x[1])
        rows.append(("Binary framing of WebM chunks (`framing=binary` is option (b); section 6)", "<= 15 %",
                     "(b) +%.0f %% (measured once: +57 %%); best WebM option (%s): +%.0f %%; Opus packets without "
                     "WebM (d): +%.0f %%" % (
                         100 * (W["bin_b"] / W["opus"] - 1), best[0], 100 * (best[1] / W["opus"] - 1),
                         100 * (W["bin_d"] / W["opus"] - 1)),
                     best[1] <= 1.15 * W["opus"]))
    return rows


def print_table(res):
    rows = summary_rows(res)
    w0 = max(len(r[0]) for r in rows) if rows else 10
    w1 = max(len(r[1]) for r in rows) if rows else 6
    print()
    print("%-*s  %-*s  %-4s  %s" % (w0, "measure", w1, "target", "met", "measured"))
    print("-" * (w0 + w1 + 60))
    for m, t, v, ok in rows:
        print("%-*s  %-*s  %-4s  %s" % (w0, m, w1, t, "-" if ok is None else ("yes" if ok else "NO"), v))
    print()


def write_doc(res, made, meta):
    from report import write_performance_md  # bench/report.py
    write_performance_md(DOC, res, made, meta, summary_rows(res))


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="", help="comma-separated parts: sink,pipeline,sinkcpu,latency,speaker,scale,wire,shard")
    ap.add_argument("--full", action="store_true", help="the issue's full sizes: 10 min latency run")
    ap.add_argument("--report-only", action="store_true",
                    help="measure nothing: rewrite the figures and docs/performance.md from bench/out/results.json")
    ap.add_argument("--latency-minutes", type=float, default=2.0)
    ap.add_argument("--speaker-minutes", type=float, default=1.0)
    ap.add_argument("--pipeline-minutes", type=float, default=5.0)
    ap.add_argument("--pipeline-repeats", type=int, default=5)
    ap.add_argument("--sinkcpu-minutes", type=float, default=60.0, help="sinkcpu: minutes of WebM (the issue: 60)")
    ap.add_argument("--sinkcpu-repeats", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--speakers", default="100,500,1000,2000,5000")
    ap.add_argument("--receivers", default="ours,node,python")
    ap.add_argument("--scale-warmup", type=float, default=2.0)
    ap.add_argument("--scale-duration", type=float, default=8.0)
    ap.add_argument("--shard-speakers", type=int, default=2000)
    ap.add_argument("--shard-pairs", type=int, default=4,
                    help="interleaved ours-1/node pairs for the 2x ratio (shard part)")
    ap.add_argument("--burst-speakers", type=int, default=5000)
    ap.add_argument("--burst-rate", type=int, default=500)
    ap.add_argument("--capacity-speakers", type=int, default=2000)
    ap.add_argument("--capacity-rate", type=float, default=24,
                    help="chunks per second per speaker in the capacity part (more than the quota can take)")
    ap.add_argument("--capacity-share", type=float, default=0.10,
                    help="the share of a core each worker gets in the capacity part")
    ap.add_argument("--capacity-repeats", type=int, default=2)
    ap.add_argument("--profile-speakers", type=int, default=1000, help="perf-profile our receiver at this N")
    args = ap.parse_args()
    if args.full:
        args.latency_minutes = 10.0
    args.speakers = [int(x) for x in args.speakers.split(",") if x]
    args.receivers = [x for x in args.receivers.split(",") if x]
    parts = ["sink", "pipeline", "sinkcpu", "latency", "speaker", "scale", "wire", "shard", "capacity"]
    only = [p for p in args.only.split(",") if p] or parts
    for p in only:
        if p not in parts:
            sys.exit("unknown part %s" % p)

    signal.signal(signal.SIGTERM, lambda *a: sys.exit("terminated"))
    os.makedirs(OUT, exist_ok=True)
    res = {}
    if os.path.exists(RESULTS):
        try:
            res = json.load(open(RESULTS))
        except ValueError:
            res = {}
    meta = res.get("meta", {})
    if args.report_only:
        sys.path.insert(0, HERE)
        write_doc(res, figures(res), meta)
        print_table(res)
        return
    full_run = set(only) == set(parts)
    meta["last_invocation"] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "parts": only}
    git = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                         text=True).stdout.strip()
    if full_run:
        meta.update({"started": time.strftime("%Y-%m-%d %H:%M:%S"), "loadavg_start": loadavg(), "git": git})
    meta.update({
                 "cpu": cpu_model(), "nproc": os.cpu_count(), "argv": " ".join(sys.argv[1:]),
                 "versions": {
                     "gstreamer": subprocess.run(["gst-launch-1.0", "--gst-version"], capture_output=True,
                                                 text=True).stdout.strip(),
                     "libsoup": subprocess.run(["pkg-config", "--modversion", "libsoup-3.0"], capture_output=True,
                                               text=True).stdout.strip(),
                     "json-glib": subprocess.run(["pkg-config", "--modversion", "json-glib-1.0"],
                                                 capture_output=True, text=True).stdout.strip(),
                     "chromium": subprocess.run(["chromium", "--version"], capture_output=True,
                                                text=True).stdout.strip() if shutil.which("chromium") else ""}})
    try:
        make_fixture([args.latency_minutes, args.speaker_minutes])
        timings = meta.setdefault("part_seconds", {})
        for p in parts:
            if p not in only:
                continue
            t = time.monotonic()
            meta.setdefault("part_started", {})[p] = time.strftime("%Y-%m-%d %H:%M:%S")
            meta.setdefault("part_git", {})[p] = git
            log("== %s" % p)
            globals()["part_" + p](res, args)
            timings[p] = round(time.monotonic() - t, 1)
            res["meta"] = meta
            with open(RESULTS, "w") as f:
                json.dump(res, f)
    finally:
        PROCS.stop_all()
    if full_run:
        meta["loadavg_end"] = loadavg()
        meta["seconds"] = round(time.monotonic() - T0, 1)
    res["meta"] = meta
    with open(RESULTS, "w") as f:
        json.dump(res, f)
    sys.path.insert(0, HERE)
    if set(only) <= {"shard", "capacity"} and not all(p in res for p in ("sink", "scale")):
        # the other parts' results are not here: edit the page in place
        from report import update_shard
        update_shard(DOC, res)
        print_table(res)
        return
    made = figures(res)
    write_doc(res, made, meta)
    print_table(res)
    log("results: %s, figures: %s, report: %s (%.0f s)" % (rel(RESULTS), ", ".join(rel(p) for p in made.values()),
                                                           rel(DOC), time.monotonic() - T0))


if __name__ == "__main__":
    main()
