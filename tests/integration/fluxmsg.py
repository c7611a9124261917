"""A minimal raw client for the broker's local socket, written from RFC 3
rather than from our C++ code, so that the tests check the wire format too.

Framing: one status byte from the broker after connect (0 = welcome); then
each message is a 4-byte magic 0xffee0012 (host order, i.e. little-endian
here), a big-endian uint32 length, and the RFC 3 parts: each part is a
1-byte length (or 0xff + big-endian uint32 length) followed by its bytes.
Parts: [routes..., empty delimiter] if ROUTE, topic if TOPIC, payload if
PAYLOAD, then the 20-byte PROTO block:
  0x8e, version 1, type, flags, userid, rolemask, aux1, aux2 (BE uint32).
"""

import json
import select
import socket
import struct
import time

FRAME_MAGIC = struct.pack("<I", 0xFFEE0012)

REQUEST, RESPONSE, EVENT, CONTROL = 1, 2, 4, 8

F_TOPIC = 0x01
F_PAYLOAD = 0x02
F_NORESPONSE = 0x04
F_ROUTE = 0x08
F_UPSTREAM = 0x10
F_PRIVATE = 0x20
F_STREAMING = 0x40

NODEID_ANY = 0xFFFFFFFF
USERID_UNKNOWN = 0xFFFFFFFF
ROLE_OWNER = 1


class Message:
    def __init__(self, type, topic=None, payload=None, flags=0, userid=USERID_UNKNOWN,
                 rolemask=0, aux1=0, aux2=0, routes=None):
        self.type = type
        self.topic = topic
        self.payload = payload  # bytes or None
        self.flags = flags
        self.userid = userid
        self.rolemask = rolemask
        self.aux1 = aux1
        self.aux2 = aux2
        self.routes = routes  # None, or list, first = original sender

    # aux fields by type
    @property
    def matchtag(self):
        return self.aux2

    @property
    def errnum(self):
        return self.aux1

    @property
    def nodeid(self):
        return self.aux1

    def json(self):
        if self.payload is None:
            return {}
        data = self.payload[:-1] if self.payload.endswith(b"\0") else self.payload
        return json.loads(data.decode())

    def string(self):
        if self.payload is None:
            return ""
        data = self.payload[:-1] if self.payload.endswith(b"\0") else self.payload
        return data.decode(errors="replace")

    def __repr__(self):
        return (f"Message(type={self.type}, topic={self.topic!r}, flags={self.flags:#x}, "
                f"aux1={self.aux1}, aux2={self.aux2}, payload={self.payload!r})")


def request(topic, payload=None, matchtag=0, nodeid=NODEID_ANY, flags=0):
    """A request; payload may be a dict (sent as JSON + NUL) or bytes."""
    if isinstance(payload, (dict, list)):
        payload = json.dumps(payload).encode() + b"\0"
    return Message(REQUEST, topic=topic, payload=payload, flags=flags, aux1=nodeid,
                   aux2=matchtag)


def _part(data):
    if len(data) < 255:
        return bytes([len(data)]) + data
    return b"\xff" + struct.pack(">I", len(data)) + data


def encode(msg):
    """RFC 3 parts (without the frame header)."""
    flags = msg.flags
    parts = []
    if msg.routes is not None:
        flags |= F_ROUTE
        parts.extend(r.encode() for r in reversed(msg.routes))  # most recent first
        parts.append(b"")
    if msg.topic is not None:
        flags |= F_TOPIC
        parts.append(msg.topic.encode())
    if msg.payload is not None:
        flags |= F_PAYLOAD
        parts.append(msg.payload)
    parts.append(struct.pack(">BBBBIIII", 0x8E, 1, msg.type, flags, msg.userid,
                             msg.rolemask, msg.aux1, msg.aux2))
    return b"".join(_part(p) for p in parts)


def frame(msg):
    body = encode(msg)
    return FRAME_MAGIC + struct.pack(">I", len(body)) + body


class ProtocolError(Exception):
    pass


def decode(body):
    parts = []
    off = 0
    while off < len(body):
        n = body[off]
        off += 1
        if n == 0xFF:
            if off + 4 > len(body):
                raise ProtocolError("truncated part length")
            (n,) = struct.unpack_from(">I", body, off)
            off += 4
        if off + n > len(body):
            raise ProtocolError("truncated part")
        parts.append(body[off:off + n])
        off += n
    if not parts or len(parts[-1]) != 20:
        raise ProtocolError(f"bad PROTO part in {body!r}")
    magic, version, type, flags, userid, rolemask, aux1, aux2 = struct.unpack(
        ">BBBBIIII", parts.pop())
    if magic != 0x8E or version != 1:
        raise ProtocolError(f"bad PROTO magic/version {magic:#x}/{version}")
    if type not in (REQUEST, RESPONSE, EVENT, CONTROL):
        raise ProtocolError(f"bad message type {type}")
    msg = Message(type, flags=flags, userid=userid, rolemask=rolemask, aux1=aux1, aux2=aux2)
    if flags & F_ROUTE:
        if b"" not in parts:
            raise ProtocolError("ROUTE flag without a route delimiter")
        i = parts.index(b"")
        msg.routes = [p.decode() for p in reversed(parts[:i])]
        parts = parts[i + 1:]
    if flags & F_TOPIC:
        if not parts:
            raise ProtocolError("TOPIC flag without a topic")
        msg.topic = parts.pop(0).decode()
    if flags & F_PAYLOAD:
        if not parts:
            raise ProtocolError("PAYLOAD flag without a payload")
        msg.payload = parts.pop(0)
    if parts:
        raise ProtocolError(f"extra parts: {parts!r}")
    return msg


class Client:
    """One connection to the broker's local socket."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buf = b""
        status = self._read_exact(1)
        if status != b"\0":
            raise ProtocolError(f"broker refused the connection: status {status!r}")

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, msg):
        self.sock.sendall(frame(msg))

    def send_raw(self, data):
        self.sock.sendall(data)

    def _read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed by the broker")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def recv(self, timeout=10.0):
        """The next message; raises EOFError on disconnect, socket.timeout."""
        self.sock.settimeout(timeout)
        header = self._read_exact(8)
        if header[:4] != FRAME_MAGIC:
            raise ProtocolError(f"bad frame magic {header[:4]!r}")
        (n,) = struct.unpack(">I", header[4:])
        return decode(self._read_exact(n))

    def rpc(self, topic, payload=None, matchtag=1, **kw):
        self.send(request(topic, payload if payload is not None else {}, matchtag=matchtag, **kw))
        return self.recv()

    def wait_closed(self, timeout=10.0):
        """True once the broker closes the connection (reading and discarding
        anything it still sends), False if still open at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return False
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not chunk:
                return True
