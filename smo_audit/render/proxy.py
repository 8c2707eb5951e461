"""A loopback HTTP proxy that puts every request of one browser context through the fetch policy.

Why a proxy rather than Playwright's request interception: with a route registered, Playwright
turns Chromium's HTTP cache off, so every rendered page fetched and parsed its stylesheets,
scripts and images again (the rendered benchmark ran at 0.68x a bare loop because of it), and
interception sees neither WebSockets nor the requests of out-of-process frames and workers. A
proxy sits under all of them: Chromium is told to send everything through it (loopback
included: Playwright passes `<-loopback>`), the HTTP cache keeps working, and the proxy

* asks `admit` about each request before any connection is made: plain HTTP by its full URL,
  anything tunnelled (HTTPS, WebSockets) by `CONNECT host:port`, where only the host and port
  are known;
* connects only to an address `admit` returned: the name is resolved once and the address that
  was checked is the one connected to (a name cannot resolve to a public address for the check
  and to a private one for the connection);
* answers a refusal with `403` and connects nowhere;
* closes every connection it holds when told to (`drop`): a page that has been measured keeps
  nothing open into the next one.

Plain HTTP requests are forwarded one per connection (`Connection: close` both ways), which keeps
the proxy small: it never has to find where one response ends and the next begins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

HEAD_LIMIT = 64 * 1024  # bytes of a request or response head
HEAD_TIMEOUT = 15.0  # seconds to receive a request head, or to connect upstream
CHUNK = 64 * 1024
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authorization",
                         "proxy-authenticate", "te", "trailer"})


@dataclass(frozen=True, slots=True)
class Admitted:
    """Where an admitted request may connect: the checked addresses, in order of preference."""

    addresses: tuple[str, ...]
    port: int


Admit = Callable[[str, bool], Awaitable["Admitted | str"]]
"""(URL, tunnel) -> Admitted, or why the request is refused. For a tunnel the URL is
`https://host:port/` (the path is not known to the proxy)."""


class _BadRequest(Exception):
    pass


class PolicyProxy:
    """`proxy = await PolicyProxy.start(admit)`; Chromium gets `proxy.server`; `await proxy.close()`."""

    def __init__(self, admit: Admit) -> None:
        self._admit = admit
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @classmethod
    async def start(cls, admit: Admit) -> PolicyProxy:
        proxy = cls(admit)
        proxy._server = await asyncio.start_server(proxy._serve, "127.0.0.1", 0, limit=HEAD_LIMIT)
        proxy.port = int(proxy._server.sockets[0].getsockname()[1])
        return proxy

    @property
    def server(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def drop(self) -> None:
        """Close every connection now open, from the browser and to servers."""
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self.drop()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)

    # -- one connection from the browser ----------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        upstream: asyncio.StreamWriter | None = None
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
            method, target, lines = _parse_head(head)
            tunnel = method == "CONNECT"
            url = f"https://{target}/" if tunnel else target
            if not tunnel and not target.startswith("http://"):
                raise _BadRequest(target)
            decision = await self._admit(url, tunnel)
            if isinstance(decision, str):
                await _refuse(writer, decision)
                return
            up_reader, upstream = await _connect(decision)
            self._writers.add(upstream)
            if tunnel:
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                upstream.write(_forward_head(method, target, lines))
            await _pipe_both(reader, writer, up_reader, upstream, rewrite=not tunnel)
        except (_BadRequest, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            with contextlib.suppress(Exception):
                writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except (OSError, TimeoutError):
            with contextlib.suppress(Exception):
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        finally:
            for w in (upstream, writer):
                if w is not None:
                    self._writers.discard(w)
                    w.close()


def _parse_head(head: bytes) -> tuple[str, str, list[tuple[str, str]]]:
    text = head.decode("latin-1")
    request_line, *rest = text.split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(request_line[:100])
    lines = []
    for line in rest:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise _BadRequest(line[:100])
        lines.append((name.strip(), value.strip()))
    return parts[0].upper(), parts[1], lines


def _forward_head(method: str, url: str, lines: list[tuple[str, str]]) -> bytes:
    """The request as the origin server expects it: origin-form target, no proxy headers, and
    `Connection: close` (one request per connection) unless it is a protocol upgrade."""
    rest = url[len("http://"):]
    slash = rest.find("/")
    path = rest[slash:] if slash >= 0 else "/"
    upgrade = any(n.lower() == "upgrade" for n, _ in lines)
    out = [f"{method} {path} HTTP/1.1"]
    out += [f"{n}: {v}" for n, v in lines if n.lower() not in _HOP_BY_HOP]
    out.append("Connection: Upgrade" if upgrade else "Connection: close")
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")


async def _refuse(writer: asyncio.StreamWriter, reason: str) -> None:
    body = f"refused by smo-audit's fetch policy: {reason}"[:500].encode("utf-8", "replace")
    writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    with contextlib.suppress(Exception):
        await writer.drain()


async def _connect(admitted: Admitted) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    last: Exception = OSError("no address")
    for address in admitted.addresses:
        try:
            return await asyncio.wait_for(asyncio.open_connection(address, admitted.port, limit=HEAD_LIMIT),
                                          HEAD_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            last = exc
    raise last


async def _pipe_both(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, up_reader: asyncio.StreamReader,
                     upstream: asyncio.StreamWriter, *, rewrite: bool) -> None:
    """Copy both ways until either side closes (then both are closed: a browser that has read a
    `Connection: close` response closes its side, whether or not the server closes its own)."""

    async def to_browser() -> None:
        if rewrite:  # the response head says `Connection: close`: this connection carries one response
            head = await up_reader.readuntil(b"\r\n\r\n")
            writer.write(_close_response_head(head))
        await _copy(up_reader, writer)

    tasks = [asyncio.ensure_future(_copy(reader, upstream)), asyncio.ensure_future(to_browser())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


def _close_response_head(head: bytes) -> bytes:
    status, *lines = head.decode("latin-1").split("\r\n")
    if " 101 " in f"{status} ":
        return head  # switching protocols: pass the upgrade through untouched
    kept = [line for line in lines if line and line.partition(":")[0].strip().lower() not in _HOP_BY_HOP]
    return ("\r\n".join([status, *kept, "Connection: close"]) + "\r\n\r\n").encode("latin-1")


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while True:
            data = await source.read(CHUNK)
            if not data:
                break
            sink.write(data)
            await sink.drain()
