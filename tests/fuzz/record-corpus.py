#!/usr/bin/python3
"""Records the real part of the fuzz seed corpora (tests/fuzz/corpus/*/real-*):

  - the messages wssaudiochunksink really sends (audioChunk with the WebM
    header, later chunks, the re-sent streamHeader/captureTimestamp after a
    reconnect, pause/resume/mute/unmute, endSession), caught by a small
    Python `websockets` server that drops the first connection after a few
    messages so that the sink reconnects;
  - the buffers webmmux really produces (flags, timestamps, bytes), caught
    with an appsink, as a Chunker script.

Needs a built plugin (./scripts/build.sh), Debian's python3-websockets and
python3-gi (run with /usr/bin/python3). The scripts are written in the formats
documented at the top of fuzz_ingest_core.cpp and fuzz_chunker_reassembler.cpp.

usage: /usr/bin/python3 tests/fuzz/record-corpus.py [BUILD_DIR]   (default: build)
"""

import asyncio
import os
import struct
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

import websockets  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "real-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---------------------------------------------------------------- messages

def record_messages():
    received = []  # (connection number, text)
    ready = threading.Event()
    state = {"conns": 0}
    loop = asyncio.new_event_loop()

    async def handler(ws, path=None):
        state["conns"] += 1
        n = state["conns"]
        count = 0
        try:
            async for msg in ws:
                received.append((n, msg if isinstance(msg, str) else msg.decode("latin-1")))
                count += 1
                if n == 1 and count == 4:
                    await ws.close(1011, "seed recorder: reconnect please")
                    return
        except websockets.ConnectionClosed:
            pass

    async def serve():
        async with websockets.serve(handler, "127.0.0.1", 0) as server:
            state["port"] = server.sockets[0].getsockname()[1]
            ready.set()
            await asyncio.Future()

    threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True).start()
    ready.wait(10)

    pipeline = Gst.parse_launch(
        "audiotestsrc is-live=true num-buffers=300 samplesperbuffer=320 wave=sine freq=330 "
        "! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000 "
        "! webmmux streamable=true min-cluster-duration=250000000 "
        "! wssaudiochunksink name=sink location=ws://127.0.0.1:%d/ws session-id=seed-session "
        "end-session-on-eos=true retry-delay=100" % state["port"])
    sink = pipeline.get_by_name("sink")
    mainloop = GLib.MainLoop()
    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message::eos", lambda *a: mainloop.quit())
    bus.connect("message::error", lambda b, m: (print("record-corpus:", m.parse_error()), mainloop.quit()))
    # 300 x 20 ms = 6 s of audio: pause, resume, mute and unmute on the way.
    for at, prop, value in ((2.0, "paused", True), (2.6, "paused", False),
                            (3.4, "muted", True), (4.0, "muted", False)):
        GLib.timeout_add(int(at * 1000), lambda p=prop, v=value: sink.set_property(p, v) or False)
    GLib.timeout_add(20000, lambda: mainloop.quit() or False)
    pipeline.set_state(Gst.State.PLAYING)
    mainloop.run()
    pipeline.set_state(Gst.State.NULL)
    time.sleep(0.5)
    return received


# ---------------------------------------------------------------- muxer buffers

def record_buffers():
    pipeline = Gst.parse_launch(
        "audiotestsrc num-buffers=100 samplesperbuffer=320 wave=sine freq=440 "
        "! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000 "
        "! webmmux streamable=true min-cluster-duration=250000000 ! appsink name=out sync=false")
    out = pipeline.get_by_name("out")
    pipeline.set_state(Gst.State.PLAYING)
    bufs = []
    while True:
        sample = out.emit("pull-sample")
        if sample is None:
            break
        b = sample.get_buffer()
        ok, info = b.map(Gst.MapFlags.READ)
        data = bytes(info.data)
        b.unmap(info)
        bufs.append((b.has_flags(Gst.BufferFlags.HEADER), b.has_flags(Gst.BufferFlags.DELTA_UNIT),
                     b.pts, b.duration, data))
    pipeline.set_state(Gst.State.NULL)
    return bufs


def chunker_script_timed(bufs):
    """The buffers as a Chunker script; each pts advance is the gap to the next pts."""
    NONE = Gst.CLOCK_TIME_NONE
    s = bytearray([0, 0, 0, 0])
    pts_list = [b[2] for b in bufs]
    for i, (header, delta, pts, dur, data) in enumerate(bufs):
        op = 0 if header else (2 if delta else 1)
        has_pts = pts != NONE
        nxt = next((p for p in pts_list[i + 1:] if p != NONE), None)
        adv = 0 if (not has_pts or nxt is None) else max(0, nxt - pts) // 100000
        s += bytes([op, (1 if has_pts else 0) | (2 if dur != NONE else 0)])
        s += struct.pack("<H", min(len(data), 2047)) + data[:2047]
        s += struct.pack("<HH", min(adv, 65535), min(65535, (dur if dur != NONE else 0) // 100000))
    return bytes(s)


def ingest_script(msgs):
    s = bytearray([0, 0, 0, 0])
    current = None
    for conn, text in msgs:
        if conn != current:
            if current is not None:
                s += bytes([1, current - 1])  # DISCONNECT
            s += bytes([0, conn - 1])  # CONNECT
            current = conn
        raw = text.encode()
        s += bytes([6]) + struct.pack("<H", 250)  # ADVANCE 250 ms
        s += bytes([2, conn - 1]) + struct.pack("<H", len(raw)) + raw  # TEXT_RAW
    s += bytes([5]) + struct.pack("<H", 1500)  # TICK
    s += bytes([8])  # FINISH_ALL
    return bytes(s)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    os.environ["GST_PLUGIN_PATH"] = os.path.join(ROOT, build, "ext", "wssaudiochunk")
    os.environ.setdefault("GST_REGISTRY", os.path.join(ROOT, build, "fuzz-seeds.registry"))
    Gst.init(None)

    msgs = record_messages()
    print("record-corpus: %d messages on %d connections" % (len(msgs), len({c for c, _ in msgs})))
    audio = [(c, t) for c, t in msgs if '"audioChunk"' in t]
    controls = [(c, t) for c, t in msgs if '"audioChunk"' not in t]
    picks = {"audio-first": audio[0][1], "audio-next": audio[1][1]}
    # After the reconnect the sink replays what the dead connection may have
    # lost; a chunk with the re-sent streamHeader shows when chunk 0 is not
    # among them.
    resent = [t for c, t in audio if c >= 2 and '"streamHeader"' in t]
    if resent:
        picks["audio-reconnect"] = resent[0]
    for c, t in controls:
        for name in ("pauseBroadcast", "resumeBroadcast", "muteBroadcast", "unmuteBroadcast", "endSession"):
            if '"%s"' % name in t:
                picks.setdefault(name, t)
    for name, text in picks.items():
        write("fuzz_message_codec", name, text)

    # One session as it arrived: the first connection, then the reconnect,
    # trimmed to a few chunks around the controls (seeds stay small).
    keep = []
    for i, (c, t) in enumerate(msgs):
        near_control = any('"audioChunk"' not in msgs[j][1] for j in range(max(0, i - 1), min(len(msgs), i + 2)))
        if c == 1 or len([k for k in keep if k[0] == c]) < 3 or near_control:
            keep.append((c, t))
    write("fuzz_ingest_core", "session", ingest_script(keep))

    bufs = record_buffers()
    print("record-corpus: %d webmmux buffers (%d header, %d cluster starts)"
          % (len(bufs), sum(b[0] for b in bufs), sum(1 for b in bufs if not b[0] and not b[1])))
    write("fuzz_chunker_reassembler", "webmmux", chunker_script_timed(bufs))


if __name__ == "__main__":
    main()
