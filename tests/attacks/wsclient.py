"""Minimal WebSocket client (stdlib only) for the receiver attack tests."""
import base64
import collections
import os
import socket
import struct

# The RFC 6455 section 1.3 example: this key must be answered with this accept.
RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def connect(port, host="127.0.0.1", path="/ws", headers=None, source=None, timeout=10, extensions=None,
            key=None, method="GET", version="13", omit=(), after=b""):
    """Upgrades a new connection: a WS, or (status, socket, head) when the
    server answers anything but 101. @omit names request headers to leave
    out (lowercase); @after is sent in the same write as the request."""
    s = socket.create_connection((host, port), timeout=timeout, source_address=(source, 0) if source else None)
    key = key or base64.b64encode(os.urandom(16)).decode()
    req = [f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
           f"Sec-WebSocket-Key: {key}", f"Sec-WebSocket-Version: {version}"]
    if extensions:
        req.append(f"Sec-WebSocket-Extensions: {extensions}")
    for k, v in (headers or {}).items():
        req.append(f"{k}: {v}")
    req = [f"{method} {path} HTTP/1.1"] + [h for h in req if h.split(":")[0].lower() not in omit]
    s.sendall(("\r\n".join(req) + "\r\n\r\n").encode() + after)
    resp = b""
    while b"\r\n\r\n" not in resp:
        d = s.recv(4096)
        if not d:
            break
        resp += d
    head, _, rest = resp.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0
    return WS(s, rest, head.decode(errors="replace")) if status == 101 else (status, s, head)


def frame(opcode, payload, fin=True, rsv=0, mask=True, length_size=None):
    """One client frame's bytes. @rsv: the RSV bits (0x40, 0x20, 0x10);
    @length_size forces the length encoding (1, 2 or 8 bytes), else the
    shortest one is used."""
    b0 = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    length_size = length_size or (1 if n < 126 else 2 if n < 65536 else 8)
    m = 0x80 if mask else 0
    if length_size == 1:
        hdr = struct.pack("!BB", b0, m | n)
    elif length_size == 2:
        hdr = struct.pack("!BBH", b0, m | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, m | 127, n)
    if not mask:
        return hdr + payload
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if n < 4096 else _mask(payload, key)
    return hdr + key + masked


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


# What the server sent: fin and rsv bits, opcode, whether it was masked.
Frame = collections.namedtuple("Frame", "fin rsv opcode masked payload")
# The server's frames before its close frame, that close frame (or None), the
# frames after it, and whether the server ended the TCP connection.
Closing = collections.namedtuple("Closing", "before close after ended")


class WS:
    def __init__(self, sock, rest, head):
        self.sock, self.buf, self.head = sock, rest, head
    def send_frame(self, opcode, payload, fin=True, rsv1=False):
        self.sock.sendall(frame(opcode, payload, fin, 0x40 if rsv1 else 0))
    def send_text(self, text):
        self.send_frame(1, text.encode())
    def _read(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("closed")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out
    def recv_frame(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        key = self._read(4) if b1 & 0x80 else None
        payload = self._read(n)
        if key:
            payload = _mask(payload, key)
        return Frame(bool(b0 & 0x80), b0 & 0x70, b0 & 0x0F, key is not None, payload)
    def recv(self):
        """(opcode, payload)"""
        f = self.recv_frame()
        return f.opcode, f.payload
    def close_code(self, timeout=5):
        """Reads until the server's close frame and returns its status code;
        None when the connection ends (or @timeout passes) without one."""
        try:
            self.sock.settimeout(timeout)
            while True:
                op, payload = self.recv()
                if op == 8:
                    return int.from_bytes(payload[:2], "big")
        except (OSError, EOFError):
            return None
    def until_close(self, timeout=5):
        """Reads the server's frames until it ends the TCP connection (or
        @timeout passes): a Closing."""
        c = Closing([], None, [], False)
        self.sock.settimeout(timeout)
        try:
            while True:
                f = self.recv_frame()
                if c.close is None and f.opcode == 8:
                    c = c._replace(close=f)
                else:
                    (c.before if c.close is None else c.after).append(f)
        except (EOFError, ConnectionResetError):
            c = c._replace(ended=True)
        except OSError:
            pass
        return c
    def close(self, wait=False):
        """Sends a close frame; with @wait, reads until the server closed
        its side of the TCP connection."""
        try:
            self.send_frame(8, close_payload(1000))
            if wait:
                self.sock.settimeout(10)
                while self.sock.recv(65536):
                    pass
        except OSError:
            pass
        self.sock.close()

def _mask(payload, mask):
    n = len(payload)
    m = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big")
