"""Minimal WebSocket client (stdlib only) for the receiver attack tests."""
import base64
import os
import socket
import struct

def connect(port, host="127.0.0.1", path="/ws", headers=None, source=None, timeout=10, extensions=None):
    s = socket.create_connection((host, port), timeout=timeout, source_address=(source, 0) if source else None)
    key = base64.b64encode(os.urandom(16)).decode()
    req = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
           f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if extensions:
        req.append(f"Sec-WebSocket-Extensions: {extensions}")
    for k, v in (headers or {}).items():
        req.append(f"{k}: {v}")
    s.sendall(("\r\n".join(req) + "\r\n\r\n").encode())
    resp = b""
    while b"\r\n\r\n" not in resp:
        d = s.recv(4096)
        if not d:
            break
        resp += d
    head, _, rest = resp.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0
    return WS(s, rest, head.decode(errors="replace")) if status == 101 else (status, s, head)

class WS:
    def __init__(self, sock, rest, head):
        self.sock, self.buf, self.head = sock, rest, head
    def send_frame(self, opcode, payload, fin=True, rsv1=False):
        b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", b0, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, 0x80 | 127, n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else _mask(payload, mask)
        self.sock.sendall(hdr + mask + masked)
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
    def recv(self):
        """(opcode, payload)"""
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        return b0 & 0x0F, self._read(n)
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
    def close(self, wait=False):
        """Sends a close frame; with @wait, reads until the server closed
        its side of the TCP connection."""
        try:
            self.send_frame(8, struct.pack("!H", 1000))
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
