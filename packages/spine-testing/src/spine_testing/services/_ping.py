"""Probes: stdlib sockets, protocol-level, never sending a password."""

from __future__ import annotations

import getpass
import socket
import struct
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from ._service import _describe


def _tls(sock: socket.socket, host: str | None) -> socket.socket:
    import ssl

    ctx = ssl.create_default_context()
    # A liveness probe only: the driver under test does the real certificate verification.
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(sock, server_hostname=host)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed mid-reply")
        data += chunk
    return data


def _redis_ping(url: str, timeout: float = 2.0) -> str | None:
    """Send ``PING``; ``None`` when a Redis server answers (``-NOAUTH`` counts: it is there)."""
    parts = urlsplit(url)
    try:
        if parts.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(parts.path)
        elif parts.scheme in ("redis", "rediss"):
            address = (parts.hostname or "localhost", parts.port or 6379)
            sock = socket.create_connection(address, timeout)
            if parts.scheme == "rediss":
                sock = _tls(sock, parts.hostname)
        else:
            return f"not a Redis URL (scheme {parts.scheme!r})"
        with sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(128)
    except (OSError, ValueError) as exc:
        return _describe(exc)
    if reply.startswith((b"+PONG", b"-NOAUTH")):
        return None
    return f"unexpected reply to PING: {reply[:80]!r}"


def _postgres_ping(url: str, timeout: float = 2.0) -> str | None:
    """Send a v3 StartupMessage; ``None`` when PostgreSQL answers with an authentication message.

    An authentication *request* counts as alive: we never send the password, the driver does.
    An ``ErrorResponse`` (still starting up, unknown database, ...) is returned as the reason.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        return f"not a PostgreSQL URL (scheme {parts.scheme!r})"
    query = dict(parse_qsl(parts.query))
    try:
        host = parts.hostname or query.get("host") or "localhost"
        port = parts.port or int(query.get("port", "5432"))
        user = unquote(parts.username or "") or query.get("user") or getpass.getuser()
        dbname = unquote(parts.path.lstrip("/")) or query.get("dbname") or user
        if host.startswith("/"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(f"{host}/.s.PGSQL.{port}")
        else:
            sock = socket.create_connection((host, port), timeout)
        with sock:
            if query.get("sslmode") in ("require", "verify-ca", "verify-full"):
                sock.sendall(struct.pack("!ii", 8, 80877103))  # SSLRequest
                if sock.recv(1) != b"S":
                    return "server does not accept TLS but the URL requires it"
                sock = _tls(sock, host)
            body = f"user\0{user}\0database\0{dbname}\0\0".encode()
            sock.sendall(struct.pack("!ii", 8 + len(body), 196608) + body)
            head = _recv_exact(sock, 5)
            tag, size = head[:1], struct.unpack("!i", head[1:])[0]
            payload = _recv_exact(sock, min(max(size - 4, 0), 8192))
            if tag == b"R" and payload[:4] == b"\0\0\0\0":
                sock.sendall(b"X\0\0\0\x04")  # Terminate, so the server logs no broken connection
            sock.close()
    except (OSError, ValueError, struct.error) as exc:
        return _describe(exc)
    if tag == b"R":
        return None
    if tag == b"E":
        fields = {f[:1]: f[1:].decode(errors="replace") for f in payload.split(b"\0") if f}
        return f"server said: {fields.get(b'M', 'unknown error')}"
    return f"unexpected reply to StartupMessage: {tag!r}"


def _qdrant_ping(url: str, timeout: float = 2.0) -> str | None:
    """GET the root of the REST API; any HTTP answer from Qdrant (even 401) means it is there."""
    parts = urlsplit(url)
    scheme = {"qdrant": "http", "qdrants": "https"}.get(parts.scheme, parts.scheme)
    if scheme not in ("http", "https"):
        return f"not a Qdrant URL (scheme {parts.scheme!r})"
    netloc = parts.netloc.rpartition("@")[2]
    if parts.port is None and parts.scheme in ("qdrant", "qdrants"):
        netloc += ":6333"
    # No proxies: test servers live on this machine, and a proxy would answer for a dead one.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urlunsplit((scheme, netloc, "/", "", "")), timeout=timeout) as resp:
            body = resp.read(4096)
    except urllib.error.HTTPError as exc:
        return None if exc.code in (401, 403) else _describe(exc)
    except (OSError, ValueError) as exc:
        return _describe(exc)
    return None if b"qdrant" in body.lower() else f"not Qdrant: {body[:80]!r}"
