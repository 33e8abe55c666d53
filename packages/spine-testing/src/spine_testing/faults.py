"""Fault injection for adapter tests: a loopback TCP proxy that misbehaves on command.

Put a :class:`FaultProxy` between a store and its server (``proxy.url_for(server_url)``), use
the store, then make the link fail the way networks and servers do:

- :meth:`~FaultProxy.pass_through` — forward bytes both ways (the start state);
- :meth:`~FaultProxy.stall` — accept connections and bytes but deliver nothing either way
  (a hung server or a black-holed network: sockets stay open, nothing answers);
- :meth:`~FaultProxy.delay` — forward every chunk after a fixed latency;
- :meth:`~FaultProxy.drop` — close new connections as soon as they are accepted;
- :meth:`~FaultProxy.cut` — the next server reply(ies) are cut after a few bytes and both
  sides of that connection are reset (a crash or a network cut mid-reply);
- :meth:`~FaultProxy.cut_all` — reset every live connection now (idle pooled ones too).

Counters say what got through (``bytes_to_server``, ``connections``), so a test can tell a write
that reached the server from one that never left the client.

:func:`hide_modules` makes a driver impossible to import for the rest of a test (as after
``pip install --no-deps``), to check that a store says what to install.

For the kit's own throwaway servers, :func:`spine_testing.services.start_throwaway` gives a
dedicated server a test may ``stop()``, ``pause()`` (SIGSTOP), ``resume()`` and ``restart()``.

Everything here is loopback only (the proxy listens on 127.0.0.1 and refuses a non-loopback
target) and bounded in time: the proxy closes itself after ``lifetime`` seconds, a stall holds
bytes only until the mode changes or the proxy closes, and every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
import threading
from collections.abc import Coroutine
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import pytest

__all__ = ["FaultProxy", "Mode", "hide_modules"]

T = TypeVar("T")
Mode = Literal["pass", "stall", "delay", "drop"]

_CHUNK = 64 * 1024
_CONNECT_TIMEOUT = 5.0
_CONTROL_TIMEOUT = 10.0
_DEFAULT_LIFETIME = 300.0


def _loopback(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST (SO_LINGER 0): what a crashed peer or a cut cable looks like."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter | None = None

    def reset(self) -> None:
        _reset(self.client)
        if self.server is not None:
            _reset(self.server)


class FaultProxy:
    """A loopback TCP proxy to ``target_host:target_port`` that can stall, delay, drop or cut.

    Use it as a context manager (sync or async); it runs on its own thread and event loop,
    so it keeps misbehaving whatever the test's loop is doing, and it closes itself after
    `lifetime` seconds at the latest.
    """

    def __init__(
        self, target_host: str, target_port: int, *, lifetime: float = _DEFAULT_LIFETIME
    ) -> None:
        if not _loopback(target_host):
            raise ValueError(f"fault proxies forward to loopback only, not {target_host!r}")
        if not 0 < lifetime <= 3600:
            raise ValueError("lifetime must be in (0, 3600] seconds")
        self.target = (target_host, int(target_port))
        self.lifetime = lifetime
        self.host = "127.0.0.1"
        self.port = 0
        self.connections = 0
        """Connections accepted so far."""
        self.bytes_to_server = 0
        """Bytes delivered to the server so far (held or dropped bytes do not count)."""
        self.bytes_to_client = 0
        """Bytes delivered to clients so far."""
        self._mode: Mode = "pass"
        self._latency = 0.0
        self._cuts = 0
        self._cut_after = 0
        self._links: set[_Link] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._released: asyncio.Event | None = None
        self._stopped: asyncio.Event | None = None

    @classmethod
    def for_url(cls, url: str, **options: Any) -> FaultProxy:
        """A proxy to the host and port of a ``redis://`` / ``postgresql://`` style URL."""
        parts = urlsplit(url)
        if parts.hostname is None or parts.port is None:
            raise ValueError("the URL must name a host and a port")
        return cls(parts.hostname, parts.port, **options)

    def url_for(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's (credentials and path kept)."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@" if userinfo else ""
        return urlunsplit(parts._replace(netloc=f"{netloc}{self.host}:{self.port}"))

    def __repr__(self) -> str:
        return (
            f"<FaultProxy {self.host}:{self.port} -> {self.target[0]}:{self.target[1]} "
            f"mode={self._mode} connections={self.connections}>"
        )

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        """Listen on a free 127.0.0.1 port (returns at once if already started)."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(ready))
            except BaseException as exc:  # reported to start() if it happens before ready
                failure.append(exc)
            finally:
                ready.set()
                loop.close()

        self._thread = threading.Thread(target=main, name="spine-fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(_CONTROL_TIMEOUT) or failure or not self.port:
            self.close()
            raise RuntimeError(f"fault proxy did not start: {failure[:1]}")
        return self

    async def _serve(self, ready: threading.Event) -> None:
        self._released = asyncio.Event()
        self._released.set()
        self._stopped = asyncio.Event()
        server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), self.lifetime)
            server.close()
            for link in list(self._links):
                link.reset()
            # Let the pumps see their closed transports before the loop goes away.
            await asyncio.sleep(0.05)

    def close(self) -> None:
        """Reset every connection and stop listening (idempotent, bounded)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if self._stopped is not None and not loop.is_closed():
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(self._stopped.set)
        thread.join(_CONTROL_TIMEOUT)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> FaultProxy:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    # -- commands (callable from any thread) -------------------------------------------------
    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self._loop
        if loop is None or self._thread is None or not self._thread.is_alive():
            coro.close()
            raise RuntimeError("the fault proxy is not running")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(_CONTROL_TIMEOUT)

    async def _set(self, mode: Mode, latency: float = 0.0) -> None:
        if self._released is None:
            raise RuntimeError("the fault proxy is not running")
        self._mode, self._latency = mode, latency
        if mode == "stall":
            self._released.clear()
        else:
            self._released.set()

    def pass_through(self) -> None:
        """Forward everything (held bytes are delivered now); cancels any armed cut."""
        self._cuts = 0
        self._call(self._set("pass"))

    def stall(self) -> None:
        """Accept connections and bytes, deliver nothing in either direction until changed."""
        self._call(self._set("stall"))

    def delay(self, seconds: float) -> None:
        """Deliver every chunk `seconds` late (in both directions)."""
        if not 0 <= seconds <= 60:
            raise ValueError("delay must be in [0, 60] seconds")
        self._call(self._set("delay", seconds))

    def drop(self) -> None:
        """Reset each new connection as soon as it is accepted; live ones are left alone."""
        self._call(self._set("drop"))

    def cut(self, *, after_bytes: int = 0, times: int = 1) -> None:
        """Cut the next `times` server replies after `after_bytes` bytes, resetting both sides.

        The request that prompted each reply did reach the server: this is the "did my write
        happen?" fault.
        """
        if after_bytes < 0 or times < 1:
            raise ValueError("after_bytes must be >= 0 and times >= 1")

        async def arm() -> None:
            self._cut_after, self._cuts = after_bytes, times

        self._call(arm())

    def cut_all(self) -> int:
        """Reset every live connection now (idle pooled ones included); return how many."""

        async def cut() -> int:
            links = list(self._links)
            for link in links:
                link.reset()
            return len(links)

        return self._call(cut())

    @property
    def mode(self) -> Mode:
        """The current mode."""
        return self._mode

    # -- forwarding ----------------------------------------------------------------------------
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self._mode == "drop":
            _reset(writer)
            return
        link = _Link(writer)
        self._links.add(link)
        try:
            await self._gate()
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection(*self.target), _CONNECT_TIMEOUT
                )
            except (OSError, TimeoutError):
                _reset(writer)
                return
            link.server = up_writer
            await asyncio.gather(
                self._pump(reader, up_writer, link, to_server=True),
                self._pump(up_reader, writer, link, to_server=False),
            )
        finally:
            self._links.discard(link)
            link.reset()

    async def _gate(self) -> None:
        if self._released is None:
            raise RuntimeError("the fault proxy is not running")
        await self._released.wait()
        if self._mode == "delay" and self._latency:
            await asyncio.sleep(self._latency)

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        link: _Link,
        *,
        to_server: bool,
    ) -> None:
        try:
            while data := await reader.read(_CHUNK):
                await self._gate()
                if not to_server and self._cuts > 0:
                    self._cuts -= 1
                    writer.write(data[: self._cut_after])
                    self.bytes_to_client += min(len(data), self._cut_after)
                    with suppress(OSError):
                        await writer.drain()
                    link.reset()
                    return
                writer.write(data)
                await writer.drain()
                if to_server:
                    self.bytes_to_server += len(data)
                else:
                    self.bytes_to_client += len(data)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            link.reset()


class _Refuse:
    """A meta path finder that refuses some top-level modules and everything below them."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)", name=name)


def hide_modules(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make the top-level modules `names` unimportable until the test ends.

    Loaded copies leave `sys.modules` and imports of them raise `ModuleNotFoundError`, as
    `importlib.util.find_spec` does; `monkeypatch` puts everything back afterwards.
    """
    import sys

    hidden = frozenset(names)
    for loaded in [m for m in sys.modules if m.partition(".")[0] in hidden]:
        monkeypatch.delitem(sys.modules, loaded)
    monkeypatch.setattr(sys, "meta_path", [_Refuse(hidden), *sys.meta_path])
