#!/usr/bin/python3
"""A Python `websockets` receiver doing what the bench asks of every receiver.

Per text message: json.loads; validate (action is one of the original protocol's; for
audioChunk: sessionId a non-empty string, audioData a non-empty string of
valid standard base64, chunkIndex an integer 0..2^53-1, timestamp and
originalSize integers if present, format a string if present); base64-decode
audioData (binascii, validate=True); check originalSize; one session per
connection; restore chunkIndex order per session (duplicates dropped, up to
16 chunks held for a gap, then the gap is skipped); append the delivered
bytes to the session's stream (emptied every 64 KiB, where a decoder would
take them); every 4th delivered chunk, reply
{"action":"ack","sessionId":...,"chunkIndex":N}. Refusals get
{"action":"error","code":...}.

Defaults of websockets 10 are kept (keepalive pings every 20 s,
permessage-deflate when the client offers it), except max_size (128 KiB, as
our receiver).

Every second it prints a JSON line with CLOCK_MONOTONIC time, its CPU
seconds, RSS and counters. --log FILE: also records every message
(arrival time, text length, audioData length, chunkIndex) and, per
connection, the TCP payload bytes received (TCP_INFO), to measure the bytes
on the wire of a client such as Chromium.

usage: receiver.py [--port P] [--port-file F] [--log F] [--max-seconds S]
"""

import argparse
import asyncio
import binascii
import json
import os
import re
import signal
import socket
import struct
import sys
import time

import websockets

ACTIONS = {"audioChunk", "pauseBroadcast", "resumeBroadcast", "muteBroadcast", "unmuteBroadcast", "endSession"}
B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}\Z")
MAX_INDEX = (1 << 53) - 1
MAX_PENDING = 16
STREAM_CAP = 64 * 1024
ACK_EVERY = 4


class Session:
    __slots__ = ("next", "pending", "stream", "since_ack", "chunks")

    def __init__(self):
        self.next = 0
        self.pending = {}
        self.stream = bytearray()
        self.since_ack = 0
        self.chunks = 0


class Counters:
    msgs = 0
    delivered = 0
    bytes = 0
    rejected = 0
    open = 0
    connections = 0
    discont = 0


C = Counters()
sessions = {}
log_file = None


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def tcp_bytes_received(ws):
    """TCP payload bytes received on this connection (struct tcp_info)."""
    try:
        sock = ws.transport.get_extra_info("socket")
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 160)
        return struct.unpack_from("Q", info, 128)[0]
    except (OSError, AttributeError, struct.error):
        return -1


def is_int(v):
    return (type(v) is int) or (type(v) is float and v.is_integer())


def error(code, index=None):
    d = {"action": "error", "code": code}
    if index is not None:
        d["chunkIndex"] = index
    return json.dumps(d, separators=(",", ":"))


def deliver(s, audio):
    if len(s.stream) + len(audio) > STREAM_CAP:
        s.stream = bytearray()  # handed to the decoder
    s.stream += audio
    s.next += 1
    s.chunks += 1
    s.since_ack += 1
    C.delivered += 1
    C.bytes += len(audio)


async def handler(ws, path=None):
    C.open += 1
    C.connections += 1
    sid = None
    t0_bytes = None
    try:
        async for text in ws:
            C.msgs += 1
            if not isinstance(text, str):
                C.rejected += 1
                await ws.send(error("binary-not-supported"))
                continue
            try:
                m = json.loads(text)
            except ValueError:
                C.rejected += 1
                await ws.send(error("not-json"))
                continue
            if type(m) is not dict:
                C.rejected += 1
                await ws.send(error("not-object"))
                continue
            action = m.get("action")
            if type(action) is not str or action not in ACTIONS:
                C.rejected += 1
                await ws.send(error("unknown-action"))
                continue
            if action != "audioChunk":
                continue
            session_id = m.get("sessionId")
            data = m.get("audioData")
            index = m.get("chunkIndex")
            if type(session_id) is not str or not session_id or type(data) is not str or not data:
                C.rejected += 1
                await ws.send(error("missing-field"))
                continue
            if not is_int(index) or index < 0 or index > MAX_INDEX:
                C.rejected += 1
                await ws.send(error("bad-value"))
                continue
            index = int(index)
            ts = m.get("timestamp")
            size = m.get("originalSize")
            fmt = m.get("format")
            if (ts is not None and not is_int(ts)) or (size is not None and not is_int(size)) or \
                    (fmt is not None and type(fmt) is not str):
                C.rejected += 1
                await ws.send(error("wrong-type", index))
                continue
            if len(data) % 4 or not B64.match(data):
                C.rejected += 1
                await ws.send(error("bad-base64", index))
                continue
            audio = binascii.a2b_base64(data)
            if size is not None and size != len(audio):
                C.rejected += 1
                await ws.send(error("size-mismatch", index))
                continue
            if sid is None:
                sid = session_id
            elif sid != session_id:
                C.rejected += 1
                await ws.send(error("one-session-per-connection", index))
                continue
            s = sessions.get(sid)
            if s is None:
                s = sessions[sid] = Session()
            if log_file is not None:
                if t0_bytes is None:
                    t0_bytes = tcp_bytes_received(ws)
                log_file.write(json.dumps({"t": time.monotonic(), "len": len(text.encode()), "b64": len(data),
                                           "audio": len(audio), "index": index,
                                           "tcp": tcp_bytes_received(ws)}) + "\n")
            if index < s.next or index in s.pending:
                continue  # duplicate
            if index == s.next:
                deliver(s, audio)
            else:
                s.pending[index] = audio
                if len(s.pending) > MAX_PENDING:
                    C.discont += 1
                    s.next = min(s.pending)
            while s.next in s.pending:
                deliver(s, s.pending.pop(s.next))
            if s.since_ack >= ACK_EVERY:
                s.since_ack = 0
                await ws.send(json.dumps({"action": "ack", "sessionId": sid, "chunkIndex": s.next - 1},
                                         separators=(",", ":")))
    except websockets.ConnectionClosed:
        pass
    finally:
        C.open -= 1
        if log_file is not None:
            log_file.write(json.dumps({"connection_closed": time.monotonic(), "session": sid,
                                       "tcp_bytes_received": tcp_bytes_received(ws),
                                       "tcp_bytes_at_first_chunk": t0_bytes,
                                       "extensions": [type(e).__name__ for e in ws.extensions]}) + "\n")
            log_file.flush()


def stats_line(tag):
    cpu = time.process_time()
    print(json.dumps({tag: 1, "mono": time.monotonic(), "cpu": cpu, "rss_kib": rss_kib(), "msgs": C.msgs,
                      "delivered": C.delivered, "bytes": C.bytes, "rejected": C.rejected, "open": C.open,
                      "connections": C.connections, "sessions": len(sessions), "discont": C.discont}),
          flush=True)


async def main():
    global log_file
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--max-seconds", type=float, default=1800)
    a = ap.parse_args()
    if a.log:
        log_file = open(a.log, "w")
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with websockets.serve(handler, "127.0.0.1", a.port, max_size=128 * 1024) as server:
        port = server.sockets[0].getsockname()[1]
        if a.port_file:
            with open(a.port_file + ".tmp", "w") as f:
                f.write("%d\n" % port)
            os.rename(a.port_file + ".tmp", a.port_file)
        print("receiver.py (websockets %s, Python %s) on 127.0.0.1:%d" % (
            websockets.__version__, sys.version.split()[0], port), file=sys.stderr, flush=True)

        async def ticker():
            while True:
                await asyncio.sleep(1)
                stats_line("stats")

        t = asyncio.ensure_future(ticker())
        try:
            await asyncio.wait_for(stop, a.max_seconds)
        except asyncio.TimeoutError:
            pass
        t.cancel()
    stats_line("final")
    if log_file:
        log_file.close()


if __name__ == "__main__":
    asyncio.run(main())
