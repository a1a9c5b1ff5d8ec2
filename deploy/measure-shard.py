#!/usr/bin/python3
"""How many speakers one wssaudiochunk-ingest shard carries on this machine.

    g++ -O2 -std=c++17 -Ibench/src bench/src/loadgen.cpp -o build/loadgen
    deploy/measure-shard.py build/tools/wssaudiochunk-ingest build/loadgen 25 50 100 200 [-- INGEST-ARGS]

For each N: a shard on 127.0.0.1 (journal and WAV per session, no limit per
address), N simulated speakers from bench/src/loadgen.cpp (one connection
each, 4 real chunks per second, 924-byte messages), 3 s warm-up and 15 s of
load; prints the shard's CPU (share of one core over 13 s, and CPU time per
recorded chunk over the whole run, from /proc/PID/task/*/stat), the ack
latency the speakers saw, and how many chunks the shard had recorded when
stopped, out of those sent. Arguments after "--" go to every shard (e.g.
-- --record webm: the journal only). A shard keeps up while "recorded"
equals "sent" and the p99 latency stays well under a second. Figures for one machine are in docs/architecture.md."""

import json
import os
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "deploy"))
import deploylib  # noqa: E402  (cuts WebM into the chunks a sink sends)


def make_chunks(d):
    webm, out = os.path.join(d, "speech.webm"), os.path.join(d, "chunks.bin")
    subprocess.run(["espeak-ng", "-w", os.path.join(d, "speech.wav"),
                    "The quick brown fox jumps over the lazy dog, then counts from one to ten."], check=True)
    subprocess.run(["gst-launch-1.0", "-q", "filesrc", "location=" + os.path.join(d, "speech.wav"), "!",
                    "wavparse", "!", "audioconvert", "!", "audioresample", "!", "audio/x-raw,rate=16000,channels=1",
                    "!", "opusenc", "bitrate=16000", "!", "webmmux", "streamable=true",
                    "min-cluster-duration=250000000", "!", "filesink", "location=" + webm], check=True)
    with open(webm, "rb") as f:
        header, chunks = deploylib.split_webm(f.read())
    chunks[0] = header + chunks[0]
    with open(out, "wb") as f:  # bench/src/common.h: "WSACCHK1", u32 count, u32 size + bytes each
        f.write(b"WSACCHK1" + struct.pack("<I", len(chunks)))
        for c in chunks:
            f.write(struct.pack("<I", len(c)) + c)
    return out


def cpu_seconds(pid):
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run(ingest, loadgen, chunks, d, n, extra, seconds=15):
    out, portfile, lg_json = (os.path.join(d, x % n) for x in ("rec-%d", "port-%d", "lg-%d.json"))
    log = open(os.path.join(d, "ingest-%d.log" % n), "w")
    shard = subprocess.Popen([ingest, "--port", "0", "--port-file", portfile, "--output-dir", out, "--quiet",
                              "--max-connections-per-address", "0", "--max-messages-per-second", "0"] + extra,
                             stdout=log, stderr=subprocess.STDOUT)
    while not (os.path.exists(portfile) and open(portfile).read().strip()):
        time.sleep(0.1)
    lg = subprocess.Popen([loadgen, "--port", open(portfile).read().strip(), "--chunks", chunks, "--speakers",
                           str(n), "--warmup", "3", "--duration", str(seconds), "--drain", "3", "--out", lg_json],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(5 + n / 50.0)  # connect and warm up
    c0, t0 = cpu_seconds(shard.pid), time.time()
    time.sleep(seconds - 2)
    c1, t1 = cpu_seconds(shard.pid), time.time()
    lg.wait(timeout=300)
    c_total = cpu_seconds(shard.pid)
    shard.terminate()
    shard.wait(timeout=120)
    log.close()
    with open(lg_json) as f:
        g = json.load(f)
    recorded = 0
    with open(os.path.join(d, "ingest-%d.log" % n)) as f:
        for line in f:  # the shard's final table: SESSION FORMAT CHUNKS DELIVERED ...
            p = line.split()
            if len(p) > 3 and p[1] in ("webm-opus", "ogg-opus") and p[3].isdigit():
                recorded += int(p[3])
    # CPU per recorded chunk over the whole run (connect, load, drain): does
    # not depend on where the measuring window fell.
    print("%4d speakers: CPU %3.0f %% of a core in the window, %.0f us per chunk over the run, ack latency "
          "p50 %.0f ms p99 %.0f ms, recorded %d of %d chunks sent, load average %s"
          % (n, 100 * (c1 - c0) / (t1 - t0), 1e6 * c_total / max(1, recorded), g["lat_p50_us"] / 1000,
             g["lat_p99_us"] / 1000, recorded, g["scheduled"], open("/proc/loadavg").read().split()[0]),
          flush=True)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    ingest, loadgen = sys.argv[1:3]
    args = sys.argv[3:]
    extra = args[args.index("--") + 1:] if "--" in args else []
    counts = args[:args.index("--")] if "--" in args else args
    with tempfile.TemporaryDirectory(prefix="wssac-measure-") as d:
        chunks = make_chunks(d)
        for n in counts:
            run(ingest, loadgen, chunks, d, int(n), extra)


if __name__ == "__main__":
    main()
