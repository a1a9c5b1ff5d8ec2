#!/usr/bin/env python3
"""RFC 6455 conformance of wssaudiochunk-ingest's WebSocket server side, as
raw frames from a client show it: the handshake, framing, the failures a
server must answer with 1002/1007/1009, the close handshake, ping/pong, and
a third-party client (python3-websockets). Each group starts the program
once, runs its cases on fresh connections (a failing case does not stop the
others; every case says ok or FAIL), and ends with a legitimate speaker that
must still stream with nothing lost. The expectations are the RFC's, not
any implementation's: against libsoup 3.2's data path, "close reason not
UTF-8" fails (libsoup answers 1002; §8.1 and §7.4.1 want 1007).

Usage: rfc6455.py GROUP   (WSSAC_INGEST names the program)
"""
import asyncio
import functools
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attacks  # noqa: E402
import wsclient  # noqa: E402
from attacks import Ingest, audio_msg, check, chunks_of, fail, legit_speaker_ok, wait_for  # noqa: E402
from wsclient import close_payload, frame  # noqa: E402

MAX_MESSAGE = 128 * 1024  # the ingest's default --max-message-size
TEXT, CONT, CLOSE, PING, PONG = 1, 0, 8, 9, 10


def shown(frames):
    return [(f.opcode, f.payload[:100]) for f in frames]


def check_unmasked(frames):
    """§5.1: a server must not mask the frames it sends."""
    masked = [f for f in frames if f and f.masked]
    check(not masked, f"masked frames from the server: {shown(masked)}")


def code_of(close):
    """The status code of a close frame; None for no frame or no code."""
    return int.from_bytes(close.payload[:2], "big") if close and len(close.payload) >= 2 else None


def upgraded(ing, **kw):
    r = wsclient.connect(ing.port, timeout=5, **kw)
    check(isinstance(r, wsclient.WS), f"upgrade refused: {r[0]} {r[2][:300]!r}" if isinstance(r, tuple) else r)
    return r


def first_chunk(stream, session, pad_to=0):
    """A valid audioChunk (chunk 0 of @stream) as text; JSON whitespace at
    the end pads it to @pad_to bytes."""
    msg = audio_msg(session, 0, chunks_of(stream)[0]).encode()
    return msg + b" " * max(0, pad_to - len(msg))


def final_ack(ws, session, errors_ok=False, timeout=5):
    """Ends @session and reads until its final ack, which must name chunk 0:
    the chunk sent before was processed. A close frame,
    the end of the connection or (unless @errors_ok) an error reply fails.
    Returns the frames received up to the ack."""
    ws.send_text(json.dumps({"action": "endSession", "sessionId": session}))
    ws.sock.settimeout(timeout)
    seen = []
    while True:
        try:
            seen.append(ws.recv_frame())
        except (OSError, EOFError) as e:
            fail(f"{session}: no final ack ({e!r}); frames received: {shown(seen)}")
        f = seen[-1]
        check_unmasked([f])
        check(f.opcode != CLOSE, f"{session}: closed ({code_of(f)}) before the ack; frames: {shown(seen)}")
        if f.opcode != TEXT:
            continue
        reply = json.loads(f.payload)
        check(errors_ok or reply.get("action") != "error", f"{session}: error reply {reply}")
        if reply.get("action") == "ack":
            check(reply.get("chunkIndex") == 0, f"{session}: ack {reply}, expected chunk 0")
            return seen


def closed_with(ing, data, code, timeout=3):
    """Sends @data on a new connection: the server must answer a close frame
    with @code and end the TCP connection, sending nothing after it."""
    ws = upgraded(ing)
    try:
        ws.sock.sendall(data)
    except OSError as e:  # the server may already have closed; its answer is still to be read
        print(f"  (send: {e!r})")
    c = ws.until_close(timeout)
    print(f"  close frame {code_of(c.close)} {c.close.payload[2:] if c.close else b''!r}, TCP ended {c.ended}, "
          f"frames before {shown(c.before)}, after {shown(c.after)}")
    check_unmasked(c.before + [c.close] + c.after)
    check(c.close is not None, f"no close frame (TCP ended: {c.ended}; frames: {shown(c.before)})")
    check(code_of(c.close) == code, f"close code {code_of(c.close)}, expected {code}")
    check(c.ended, f"the server did not end the TCP connection within {timeout} s after its close frame")
    check(not c.after, f"frames after the close frame: {shown(c.after)}")
    return c


# --- handshake (section 4.2) -------------------------------------------------

def known_key_accepted(ing, stream):
    """§4.2.2 (the §1.3 example): Sec-WebSocket-Accept for the RFC's key."""
    ws = upgraded(ing, key=wsclient.RFC_KEY)
    headers = (l.split(":", 1) for l in ws.head.split("\r\n")[1:] if ":" in l)
    accept = {k.strip().lower(): v.strip() for k, v in headers}.get("sec-websocket-accept")
    check(accept == wsclient.RFC_ACCEPT, f"Sec-WebSocket-Accept {accept!r}, expected {wsclient.RFC_ACCEPT}: {ws.head}")


def refused_request(ing, stream, **request):
    """§4.2.1/4.2.2: a request that is not a valid upgrade gets a 4xx and
    no upgrade."""
    r = wsclient.connect(ing.port, timeout=5, **request)
    if isinstance(r, wsclient.WS):
        fail(f"upgraded: {r.head}")
    status, sock, head = r
    sock.close()
    print("  " + head.split(b"\r\n")[0].decode(errors="replace"))
    check(400 <= status < 500, f"status {status}: {head[:300]!r}")


def frame_with_request(ing, stream):
    """§4.1/4.2: the client may send its first frame right behind the
    request (one write); the server must not lose it."""
    ws = upgraded(ing, after=frame(TEXT, first_chunk(stream, "with-request")))
    final_ack(ws, "with-request")


# --- framing (section 5) -----------------------------------------------------

def byte_by_byte(ing, stream):
    """§5.2: frame boundaries do not depend on how TCP cuts the bytes."""
    ws = upgraded(ing)
    ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i, b in enumerate(frame(TEXT, first_chunk(stream, "bytewise"))):
        ws.sock.sendall(bytes([b]))
        if i < 16:
            time.sleep(0.01)  # the header in separate segments for sure
    final_ack(ws, "bytewise")


def length_encoding(ing, stream, session, pad_to, length_size):
    """§5.2: payload lengths 126..65535 in 16 bits, larger in 64 bits."""
    msg = first_chunk(stream, session, pad_to)
    check(len(msg) >= 126 and (len(msg) < 65536) == (length_size == 2), f"{len(msg)}-byte message")
    ws = upgraded(ing)
    ws.sock.sendall(frame(TEXT, msg, length_size=length_size))
    final_ack(ws, session)


def fragments_with_ping(ing, stream):
    """§5.4/5.5.2: a message in four fragments with a ping between two of
    them: the pong carries the ping's payload, the message is processed."""
    msg = first_chunk(stream, "fragmented")
    q = len(msg) // 4
    ws = upgraded(ing)
    ws.sock.sendall(frame(TEXT, msg[:q], fin=False) + frame(CONT, msg[q:2 * q], fin=False)
                    + frame(PING, b"between fragments") + frame(CONT, msg[2 * q:3 * q], fin=False)
                    + frame(CONT, msg[3 * q:]))
    pongs = [f.payload for f in final_ack(ws, "fragmented") if f.opcode == PONG]
    check(pongs == [b"between fragments"], f"pongs {pongs}")


def empty_text(ing, stream):
    """§5.6: an empty text message is a valid message: whatever the server
    answers, the connection stays open and usable."""
    ws = upgraded(ing)
    ws.sock.sendall(frame(TEXT, b"") + frame(TEXT, first_chunk(stream, "after-empty")))
    seen = final_ack(ws, "after-empty", errors_ok=True)
    print(f"  frames before the ack: {shown(seen[:-1])}")


# --- failures: 1002, 1007, 1009 (sections 5, 7.4.1, 8.1) -----------------------

def fragments(first, *rest):
    """A text message in fragments: @first, then continuations."""
    return b"".join(frame(TEXT if i == 0 else CONT, p, fin=i == len(rest))
                    for i, p in enumerate((first,) + rest))


PROTOCOL_ERRORS = [
    # §5.1: a server must fail the connection on an unmasked client frame.
    ("unmasked frame", frame(TEXT, b"{}", mask=False)),
    # §5.2: RSV bits without a negotiated extension.
    ("RSV1 set", frame(TEXT, b"{}", rsv=0x40)),
    ("RSV2 set", frame(TEXT, b"{}", rsv=0x20)),
    ("RSV3 set", frame(TEXT, b"{}", rsv=0x10)),
    # §5.2: reserved opcodes.
    ("opcode 3", frame(3, b"x")),
    ("opcode 11", frame(11, b"x")),
    # §5.5: control frames carry at most 125 bytes and are never fragmented.
    ("ping of 126 bytes", frame(PING, b"x" * 126)),
    ("fragmented ping", frame(PING, b"x", fin=False)),
    # §5.4: continuations only inside a fragmented message, which no new
    # message may interrupt.
    ("continuation without a message", frame(CONT, b"{}")),
    ("text inside a fragmented message", frame(TEXT, b'{"a', fin=False) + frame(TEXT, b"{}")),
    # §5.5.1: a close body is empty or holds a 2-byte code.
    ("close with a 1-byte body", frame(CLOSE, b"\x03")),
] + [
    # §7.4.1/7.4.2: codes no endpoint may send (1004-1006 reserved, 1016-2999
    # unassigned, < 1000 and >= 5000 invalid).
    (f"close code {c}", frame(CLOSE, close_payload(c))) for c in (999, 1004, 1005, 1006, 1016, 2999, 5000)
]

INVALID_UTF8 = [
    # §5.6/8.1: text messages are UTF-8, checked over the whole message.
    ("invalid UTF-8 in a text frame", frame(TEXT, b'{"text":"\xff\xfe"}')),
    ("UTF-8 broken across fragments", fragments(b'{"te', b'xt":"\xce', b'a"}')),
    # §5.5.1: a close reason is UTF-8 too.
    ("close reason not UTF-8", frame(CLOSE, close_payload(1000, b"\xff\xfe"))),
]

TOO_BIG = [
    # §7.4.1 (1009) and §10.4: the server's message size limit, on one frame
    # and on the sum of a message's fragments.
    ("one frame over the limit", frame(TEXT, b" " * (MAX_MESSAGE + 1))),
    ("fragments over the limit", fragments(b" " * 50000, b" " * 50000, b" " * (MAX_MESSAGE - 100000 + 1))),
]


def answered_with(table, code):
    return [(name, functools.partial(lambda ing, stream, data: closed_with(ing, data, code), data=data))
            for name, data in table]


def at_the_limit(ing, stream):
    """A message of exactly the size limit is not refused for its size."""
    ws = upgraded(ing)
    msg = first_chunk(stream, "at-limit", MAX_MESSAGE)
    check(len(msg) == MAX_MESSAGE, f"{len(msg)}-byte message")
    ws.sock.sendall(frame(TEXT, msg))
    final_ack(ws, "at-limit")


# --- close handshake (sections 5.5.1, 7) ---------------------------------------

def close_answered(ing, stream, code):
    """§5.5.1/7.4.1: a close with a valid code is answered with a close
    frame that echoes it (or says 1000), not refused, and the server ends
    the TCP connection."""
    ws = upgraded(ing)
    ws.sock.sendall(frame(CLOSE, close_payload(code, b"bye")))
    c = ws.until_close(3)
    print(f"  close {code} answered with {code_of(c.close)}, TCP ended {c.ended}")
    check(c.close is not None and code_of(c.close) in (code, 1000),
          f"close {code} answered with {code_of(c.close)} (frames: {shown(c.before)})")
    check(c.ended, "the server did not end the TCP connection")
    check(not c.before and not c.after, f"other frames: {shown(c.before)} / {shown(c.after)}")


def frames_after_close(ing, stream):
    """§5.5.1: after the client's close, its further frames are not
    processed: no pong, no reply, the chunk not recorded."""
    c = closed_with(ing, frame(CLOSE, close_payload(1000)) + frame(TEXT, first_chunk(stream, "after-close"))
                    + frame(PING, b"after close"), 1000)
    check(not c.before, f"frames before the close frame: {shown(c.before)}")
    time.sleep(0.3)
    journal = os.path.join(ing.outdir, "after-close.webm")
    check(not os.path.exists(journal), f"{journal}: a chunk sent after the close was recorded")


# --- ping / pong (sections 5.5.2, 5.5.3) ---------------------------------------

def ping_answered(ing, stream, payload):
    """§5.5.2/5.5.3: a pong with the ping's payload (0 to 125 bytes)."""
    ws = upgraded(ing)
    ws.send_frame(PING, payload)
    ws.sock.settimeout(5)
    f = ws.recv_frame()
    check_unmasked([f])
    check((f.opcode, f.payload) == (PONG, payload), f"got {shown([f])} for a ping of {len(payload)} bytes")


def unsolicited_pong(ing, stream):
    """§5.5.3: an unsolicited pong needs no answer; the connection goes on."""
    ws = upgraded(ing)
    ws.sock.sendall(frame(PONG, b"unsolicited") + frame(TEXT, first_chunk(stream, "after-pong")))
    final_ack(ws, "after-pong")


# --- a conformant third-party client ------------------------------------------

def third_party_client(ing, stream):
    """python3-websockets streams a short session with its own framing and
    masking, chunk 1 as a fragmented message: every chunk is acked and
    recorded."""
    import websockets
    pieces = chunks_of(stream)
    session = "third-party"

    async def session_run():
        async with websockets.connect(f"ws://127.0.0.1:{ing.port}/ws", compression=None) as ws:
            for i, piece in enumerate(pieces):
                msg = audio_msg(session, i, piece)
                await ws.send([msg[k:k + 300] for k in range(0, len(msg), 300)] if i == 1 else msg)
            await ws.send(json.dumps({"action": "endSession", "sessionId": session}))
            replies = []
            while not replies or replies[-1].get("chunkIndex") != len(pieces) - 1:
                replies.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
                check(replies[-1].get("action") == "ack", f"replies {replies}")
            return replies

    replies = asyncio.run(session_run())
    print(f"  websockets {websockets.__version__}: acks {[r['chunkIndex'] for r in replies]}")
    summary = os.path.join(ing.outdir, session + ".json")
    check(wait_for(summary), f"no summary; log: {ing.output()[-2000:]}")
    s = json.load(open(summary))
    check(s["delivered"] == len(pieces) and s["missing"] == 0, f"{len(pieces)} chunks sent: {s}")


# --- groups --------------------------------------------------------------------

VALID_CLOSE_CODES = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999)

GROUPS = {
    "handshake": [
        ("Sec-WebSocket-Accept for the RFC key", known_key_accepted),
        ("no Sec-WebSocket-Key", functools.partial(refused_request, omit=("sec-websocket-key",))),
        ("Sec-WebSocket-Version 8", functools.partial(refused_request, version="8")),
        ("POST", functools.partial(refused_request, method="POST")),
        ("no Upgrade header", functools.partial(refused_request, omit=("upgrade",))),
        ("first frame in the request's write", frame_with_request),
    ],
    "framing": [
        ("a frame byte by byte", byte_by_byte),
        ("16-bit length", functools.partial(length_encoding, session="len16", pad_to=0, length_size=2)),
        ("64-bit length", functools.partial(length_encoding, session="len64", pad_to=70000, length_size=8)),
        ("4 fragments with a ping between", fragments_with_ping),
        ("empty text message", empty_text),
    ],
    "protocol_errors": answered_with(PROTOCOL_ERRORS, 1002),
    "invalid_utf8": answered_with(INVALID_UTF8, 1007),
    "too_big": answered_with(TOO_BIG, 1009) + [("exactly at the limit", at_the_limit)],
    "close": [(f"close {c} answered", functools.partial(close_answered, code=c)) for c in VALID_CLOSE_CODES]
    + [("frames after the close ignored", frames_after_close)],
    "ping_pong": [
        ("ping of 0 bytes", functools.partial(ping_answered, payload=b"")),
        ("ping of 125 bytes", functools.partial(ping_answered, payload=bytes(range(125)))),
        ("unsolicited pong", unsolicited_pong),
    ],
    "third_party_client": [("python3-websockets session", third_party_client)],
}


def run_group(cases, name, tmp, stream):
    """Runs every case against one server (each says ok or FAIL), then a
    legitimate speaker; fails if any case did or the server died."""
    ing = Ingest(tmp, [])
    failed = []
    for label, case in cases:
        print(f"--- {label}")
        try:
            case(ing, stream)
            print("ok")
        except SystemExit:  # check () printed why
            failed.append(label)
        except Exception as e:  # e.g. EOFError, socket.timeout, websockets' ConnectionClosed
            print(f"FAIL: {e!r}")
            failed.append(label)
        check(ing.proc.poll() is None, f"the server died ({ing.proc.returncode}) after \"{label}\": "
              + ing.output()[-2000:])
    legit_speaker_ok(ing, stream, "after-" + name.replace("_", "-"))
    check(ing.stop() == 0, f"exit status {ing.proc.returncode}")
    print(f"{len(cases) - len(failed)} of {len(cases)} cases passed")
    check(not failed, f"failed: {failed}")


if __name__ == "__main__":
    attacks.run_case({n: functools.partial(run_group, c, n) for n, c in GROUPS.items()}, "rfc6455.py")
