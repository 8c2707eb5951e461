"""A loopback HTTP proxy that puts every request of one browser context through the fetch policy.

Why a proxy rather than Playwright's request interception: with a route registered, Playwright
turns Chromium's HTTP cache off, so every rendered page fetched and parsed its stylesheets,
scripts and images again (the rendered benchmark ran at 0.68x a bare loop because of it), and
interception sees neither WebSockets nor the requests of out-of-process frames and workers. A
proxy sits under all of them: Chromium is told to send everything through it (loopback
included: Playwright passes `<-loopback>`), the HTTP cache keeps working, and the proxy

* asks `admit` about each request before any connection is made: plain HTTP by its full URL,
  anything tunnelled (HTTPS, WebSockets: Chromium sends `ws:` through `CONNECT` too) by
  `CONNECT host:port`, where only the host and port are known;
* connects only to an address `admit` returned: the name is resolved once and the address that
  was checked is the one connected to (a name cannot resolve to a public address for the check
  and to a private one for the connection);
* answers a refusal with `403` and connects nowhere, a request it cannot read with `400`, and an
  upstream it cannot reach or that breaks off before its response head (or an `admit` that fails)
  with `502`; no traceback ever reaches the browser;
* closes both sides of a connection on which no byte has moved either way for `IDLE_TIMEOUT`
  seconds (a silent tunnel or response does not hold a slot);
* closes every connection it holds when told to (`drop`): a page that has been measured keeps
  nothing open into the next one.

Plain HTTP: exactly one request per connection, both ways. The request is forwarded as it was
admitted and nothing more: its head (origin-form target and a `Host` built from the admitted URL,
`Connection: close`), then its body exactly as framed (`Content-Length` bytes, or a chunked body up
to its last chunk, re-chunked), never a further byte: whatever else the browser (or a page's
script, by pipelining or by a body framed two ways) puts on the connection is not sent anywhere,
and a request framed ambiguously (both `Content-Length` and `Transfer-Encoding`, a bad length, a
header line an origin server might split differently) is refused with `400`. The browser's own
`Host` is dropped rather than checked: the URL is what `admit` judged (scope, robots.txt of its
origin), and a `Host` naming another virtual host on the same address would have the server answer
for an origin nobody checked; Chromium always sends the same host as in the URL, so replacing it
changes nothing for real pages. The response gets `Connection: close`, and the browser connection
ends with it (its body is relayed as framed, so a server that ignores `Connection: close` holds
nothing open). A protocol upgrade (`GET` + `Upgrade`, as a client that does not tunnel `ws:` sends
it) keeps copying both ways after a `101`: the upgrade's URL was admitted, and what follows is no
longer HTTP.

Tunnels: the proxy sees only `host:port` (the requests inside are encrypted, or for `ws:` not
parsed), so `admit` judges a tunnel by `https://host:port/`: per-path robots.txt rules cannot be
applied inside `CONNECT` tunnels (HTTPS, `wss:`, and `ws:`, which Chromium tunnels too), only a
rule that keeps the agent off the whole host (SECURITY.md, rendered mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

HEAD_LIMIT = 64 * 1024  # bytes of a request or response head (and of one chunk-size or trailer line)
HEAD_TIMEOUT = 15.0  # seconds to receive a request head, or to connect upstream
IDLE_TIMEOUT = 30.0  # seconds without a byte either way, once connected upstream: both sides are closed
INTERIM_LIMIT = 8  # 1xx responses (103 Early Hints, ...) passed on before the final one
TRAILER_LIMIT = 64  # trailer lines of a chunked request body (read and dropped)
CHUNK = 64 * 1024
# Never forwarded as received: connection-level headers, the proxy's own, and the body framing
# and Host, which the proxy writes itself from what it checked. `Expect: 100-continue` is dropped
# because the body is forwarded without waiting for the server's go-ahead.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authorization",
                         "proxy-authenticate", "te", "trailer"})
_REWRITTEN = _HOP_BY_HOP | {"host", "content-length", "transfer-encoding", "expect"}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token (a header name, a method)
_LENGTH = re.compile(r"[0-9]{1,18}")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,15}")
_CONNECT_TARGET = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):[0-9]{1,5}")
_STATUS_LINE = re.compile(r"HTTP/1\.[01] ([0-9]{3})(?: .*)?")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
CHUNKED = -1  # a body's framing: chunked
UNTIL_CLOSE = -2  # a response body that ends when upstream closes
SWITCHED = -3  # a 101: no more HTTP on this connection


@dataclass(frozen=True, slots=True)
class Admitted:
    """Where an admitted request may connect: the checked addresses, in order of preference."""

    addresses: tuple[str, ...]
    port: int


Admit = Callable[[str, bool], Awaitable["Admitted | str"]]
"""(URL, tunnel) -> Admitted, or why the request is refused. For a tunnel the URL is
`https://host:port/` (the path is not known to the proxy)."""


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    target: str
    headers: list[tuple[str, str]]


class _BadRequest(Exception):
    """The browser's request cannot be forwarded unambiguously: `400`."""


class _BadGateway(Exception):
    """No usable answer from upstream (or from `admit`): `502`."""


class _Idle(Exception):
    """No byte moved either way for IDLE_TIMEOUT seconds: `504` if nothing was answered yet."""


class _Reply:
    """The browser side of one connection, and whether anything has been answered on it yet (an
    error status can only be the first thing sent, never in the middle of a response or tunnel)."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.started = False

    def send(self, data: bytes) -> None:
        self.started = True
        self.writer.write(data)

    def error(self, status: str) -> None:
        if not self.started:
            with contextlib.suppress(Exception):
                self.send(f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())


class _Clock:
    """When a byte last moved on one proxied connection, either way; `expired` ends when it has
    been quiet for IDLE_TIMEOUT (one clock for both directions: a download is not idle just
    because the browser has nothing to say)."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def touch(self) -> None:
        self.last = time.monotonic()

    async def expired(self) -> None:
        while True:
            left = self.last + IDLE_TIMEOUT - time.monotonic()
            if left <= 0:
                raise _Idle
            await asyncio.sleep(left)


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
        """One browser connection: one request (or one tunnel), then it is closed. Every failure
        becomes a status line if nothing was answered yet, never an exception out of here."""
        self._writers.add(writer)
        reply = _Reply(writer)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
            request = _parse_head(head)
            if request.method == "CONNECT":
                await self._tunnel(request, reader, reply)
            else:
                await self._forward(request, reader, reply)
        except (_BadRequest, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            reply.error("400 Bad Request")
        except _Idle:
            reply.error("504 Gateway Timeout")
        except (_BadGateway, OSError, TimeoutError):
            reply.error("502 Bad Gateway")
        except Exception:  # a bug here must cost one request, not leak a traceback to anyone
            log.debug("proxy: request failed", exc_info=True)
            reply.error("502 Bad Gateway")
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _ask(self, url: str, tunnel: bool) -> Admitted | str:
        """`admit`'s answer; a failure of `admit` itself is the gateway's (502), logged for debugging."""
        try:
            return await self._admit(url, tunnel)
        except Exception as exc:
            log.debug("proxy: admit failed for %s", url[:200], exc_info=True)
            raise _BadGateway(url) from exc

    @contextlib.asynccontextmanager
    async def _upstream(self, admitted: Admitted) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
        """A connection to an admitted address, registered so that `drop` cuts it, always closed."""
        up_reader, upstream = await _connect(admitted)
        self._writers.add(upstream)
        try:
            yield up_reader, upstream
        finally:
            self._writers.discard(upstream)
            upstream.close()

    async def _tunnel(self, request: _Request, reader: asyncio.StreamReader, reply: _Reply) -> None:
        """CONNECT host:port: judged by host and port only, then bytes both ways until either side
        closes or the tunnel goes quiet."""
        if not _CONNECT_TARGET.fullmatch(request.target):
            raise _BadRequest(request.target[:100])
        decision = await self._ask(f"https://{request.target}/", True)
        if isinstance(decision, str):
            await _refuse(reply, decision)
            return
        async with self._upstream(decision) as (up_reader, upstream):
            reply.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
            clock = _Clock()
            await _first_of(_copy(reader, upstream, clock), _copy(up_reader, reply.writer, clock), clock.expired())

    async def _forward(self, request: _Request, reader: asyncio.StreamReader, reply: _Reply) -> None:
        """One plain-HTTP request: admitted by its URL, forwarded with its body as framed and
        nothing after it, its response relayed until upstream closes."""
        url = request.target
        path, host = _origin_form(url)
        length = _body_length(request.headers)
        upgrade = any(n.lower() == "upgrade" for n, _ in request.headers)
        decision = await self._ask(url, False)
        if isinstance(decision, str):
            await _refuse(reply, decision)
            return
        async with self._upstream(decision) as (up_reader, upstream):
            upstream.write(_forward_head(request.method, path, host, request.headers, length, upgrade=upgrade))
            clock = _Clock()
            exchange = _exchange(reader, reply, up_reader, upstream, clock, request.method, length, upgrade=upgrade)
            await _first_of(exchange, clock.expired())


async def _exchange(reader: asyncio.StreamReader, reply: _Reply, up_reader: asyncio.StreamReader,
                    upstream: asyncio.StreamWriter, clock: _Clock, method: str, length: int, *, upgrade: bool) -> None:
    """The request body, then the response; after a `101` to an upgrade request, bytes both ways.
    While a response is relayed the browser side is only watched for its close: any byte it sends
    now would be a further request, which this connection does not carry."""
    await _send_body(reader, upstream, length, clock, _BadRequest)

    async def response() -> None:
        framing = await _relay_head(up_reader, reply, clock, method, upgrade=upgrade)
        if framing == SWITCHED:
            await _first_of(_copy(reader, upstream, clock), _copy(up_reader, reply.writer, clock))
        else:
            await _send_body(up_reader, reply.writer, framing, clock, _BadGateway)

    if upgrade:  # the browser side stays readable: after a 101 it is piped upstream
        await response()
    else:
        await _first_of(response(), _until_closed(reader))


def _parse_head(head: bytes) -> _Request:
    """The request line and header fields, refusing anything an origin server might read
    differently: a bad method or version, controls or spaces in the target, a header name that is
    not a token (`Content-Length :`), a folded line, a CR, LF or NUL inside a value."""
    text = head.decode("latin-1")
    request_line, *rest = text[:-4].split("\r\n")
    parts = request_line.split(" ")
    if (len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0") or not _TOKEN.fullmatch(parts[0])
            or not parts[1] or _CONTROL.search(parts[1])):
        raise _BadRequest(request_line[:100])
    headers = []
    for line in rest:
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.fullmatch(name) or any(c in value for c in "\r\n\x00"):
            raise _BadRequest(line[:100])
        headers.append((name, value.strip(" \t")))
    return _Request(parts[0].upper(), parts[1], headers)


def _origin_form(url: str) -> tuple[str, str]:
    """(request target for the origin server, its Host header), both from the admitted URL: the
    target keeps the query of a URL without a path (`http://h?x=1` -> `/?x=1`), the Host is the
    host and port `admit` saw (urlsplit's, as `admit` parses it)."""
    if url[:7].lower() != "http://":
        raise _BadRequest(url[:100])
    rest = url[7:]
    cut = next((i for i, c in enumerate(rest) if c in "/?#"), len(rest))
    tail = rest[cut:].split("#", 1)[0]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _BadRequest(url[:100]) from None
    host = parts.hostname or ""
    if not host:
        raise _BadRequest(url[:100])
    shown = f"[{host}]" if ":" in host else host
    return (tail if tail.startswith("/") else "/" + tail), (shown if port in (None, 80) else f"{shown}:{port}")


def _body_length(headers: list[tuple[str, str]]) -> int:
    """Bytes of request body after the head, or CHUNKED. Framing that two parsers could read two
    ways is refused (RFC 9112 6.3): Content-Length with Transfer-Encoding, a Transfer-Encoding
    other than plain `chunked`, several Content-Lengths, or one that is not a number."""
    lengths = [v for n, v in headers if n.lower() == "content-length"]
    encodings = [v for n, v in headers if n.lower() == "transfer-encoding"]
    if encodings:
        if lengths or len(encodings) != 1 or encodings[0].lower() != "chunked":
            raise _BadRequest("ambiguous body framing")
        return CHUNKED
    if not lengths:
        return 0
    if len(lengths) != 1 or not _LENGTH.fullmatch(lengths[0]):
        raise _BadRequest("bad Content-Length")
    return int(lengths[0])


def _response_length(method: str, code: int, headers: list[tuple[str, str]]) -> int:
    """How the response body ends (RFC 9112 6.3): no body after HEAD, 1xx, 204 and 304; chunked
    when the last transfer coding is; otherwise Content-Length bytes, or when upstream closes.
    A Content-Length that cannot be read one way is the server's fault (502)."""
    if method == "HEAD" or code < 200 or code in (204, 304):
        return 0
    encodings = [v for n, v in headers if n.lower() == "transfer-encoding"]
    if encodings:
        last = encodings[-1].rsplit(",", 1)[-1].strip().lower()
        return CHUNKED if last == "chunked" else UNTIL_CLOSE
    values = {v.strip() for n, value in headers if n.lower() == "content-length" for v in value.split(",")}
    if not values:
        return UNTIL_CLOSE
    if len(values) != 1 or not _LENGTH.fullmatch(next(iter(values))):
        raise _BadGateway("bad Content-Length in the response")
    return int(next(iter(values)))


def _forward_head(method: str, path: str, host: str, headers: list[tuple[str, str]], length: int,
                  *, upgrade: bool) -> bytes:
    """The request as the origin server expects it: origin-form target, the admitted Host, the
    body framing the proxy forwards, no proxy headers, and `Connection: close` (one request per
    connection) unless it is a protocol upgrade."""
    out = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    out += [f"{n}: {v}" for n, v in headers if n.lower() not in _REWRITTEN]
    if length == CHUNKED:
        out.append("Transfer-Encoding: chunked")
    elif length or any(n.lower() == "content-length" for n, _ in headers):
        out.append(f"Content-Length: {length}")
    out.append("Connection: Upgrade" if upgrade else "Connection: close")
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")


async def _send_body(source: asyncio.StreamReader, sink: asyncio.StreamWriter, length: int, clock: _Clock,
                     error: type[Exception]) -> None:
    """Exactly one body as framed (a length, CHUNKED or UNTIL_CLOSE) and not a byte more; a body
    that breaks its framing raises `error` (the request's: 400, the response's: 502)."""
    if length == CHUNKED:
        await _send_chunked(source, sink, clock, error)
    elif length == UNTIL_CLOSE:
        await _copy(source, sink, clock)
    else:
        await _send_exactly(source, sink, length, clock, error)
    await sink.drain()


async def _send_exactly(source: asyncio.StreamReader, sink: asyncio.StreamWriter, count: int, clock: _Clock,
                        error: type[Exception]) -> None:
    while count > 0:
        data = await source.read(min(count, CHUNK))
        if not data:
            raise error("the body ended early")
        clock.touch()
        count -= len(data)
        sink.write(data)
        await sink.drain()


async def _line(source: asyncio.StreamReader, error: type[Exception]) -> bytes:
    """One CRLF-terminated line of a chunked body (at most HEAD_LIMIT bytes)."""
    try:
        return await source.readuntil(b"\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise error("a chunked body broke off") from exc


async def _send_chunked(source: asyncio.StreamReader, sink: asyncio.StreamWriter, clock: _Clock,
                        error: type[Exception]) -> None:
    """A chunked body re-chunked: sizes checked strictly, extensions and trailers dropped (what
    the other side receives can be read only one way), ending at the last chunk."""
    while True:
        size_text = (await _line(source, error))[:-2].split(b";", 1)[0]
        if not _CHUNK_SIZE.fullmatch(size_text):
            raise error("bad chunk size")
        clock.touch()
        size = int(size_text, 16)
        if size == 0:
            break
        sink.write(b"%x\r\n" % size)
        await _send_exactly(source, sink, size, clock, error)
        if await _line(source, error) != b"\r\n":
            raise error("a chunk is longer than its size")
        sink.write(b"\r\n")
    for _ in range(TRAILER_LIMIT):
        if await _line(source, error) == b"\r\n":
            sink.write(b"0\r\n\r\n")
            return
    raise error("too many trailer lines")


async def _relay_head(up_reader: asyncio.StreamReader, reply: _Reply, clock: _Clock, method: str, *,
                      upgrade: bool) -> int:
    """Pass the response head on (interim 1xx heads as they are, the final one with
    `Connection: close`) and say how its body ends; SWITCHED after a `101` to an upgrade request.
    An upstream that closes or talks nonsense before a complete head is a 502."""
    for _ in range(INTERIM_LIMIT + 1):
        try:
            head = await up_reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise _BadGateway("no response head") from exc
        clock.touch()
        status, *lines = head.decode("latin-1")[:-4].split("\r\n")
        match = _STATUS_LINE.fullmatch(status)
        if match is None:
            raise _BadGateway(status[:100])
        code = int(match.group(1))
        if code == 101:
            if not upgrade:
                raise _BadGateway("101 to a request that asked for no upgrade")
            reply.send(head)
            return SWITCHED
        headers = _response_headers(lines)
        if code >= 200:
            length = _response_length(method, code, headers)
            reply.send(_response_head(status, headers, length, final=True))
            return length
        reply.send(_response_head(status, headers, 0, final=False))
    raise _BadGateway("too many interim responses")


def _response_headers(lines: list[str]) -> list[tuple[str, str]]:
    """A response's header fields as the proxy and the browser will both read them: a line with
    a CR, LF or NUL inside is the server's fault (502), one whose name is not a token is dropped
    (neither side then frames the body by it)."""
    headers = []
    for line in lines:
        if any(c in line for c in "\r\n\x00"):
            raise _BadGateway(line[:100])
        name, sep, value = line.partition(":")
        if sep and _TOKEN.fullmatch(name):
            headers.append((name, value.strip(" \t")))
    return headers


def _response_head(status: str, headers: list[tuple[str, str]], length: int, *, final: bool) -> bytes:
    """A response head for the browser: no hop-by-hop headers, no Content-Length beside a
    Transfer-Encoding (the browser must find the body's end where the proxy did), and on the
    final head `Connection: close`."""
    chunked = length == CHUNKED
    kept = [f"{n}: {v}" for n, v in headers
            if n.lower() not in _HOP_BY_HOP and not (chunked and n.lower() == "content-length")]
    return ("\r\n".join([status, *kept, *(["Connection: close"] if final else [])]) + "\r\n\r\n").encode("latin-1")


async def _refuse(reply: _Reply, reason: str) -> None:
    body = f"refused by smo-audit's fetch policy: {reason}"[:500].encode("utf-8", "replace")
    reply.send(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n"
               b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    with contextlib.suppress(Exception):
        await reply.writer.drain()


async def _connect(admitted: Admitted) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    last: Exception = OSError("no address")
    for address in admitted.addresses:
        try:
            return await asyncio.wait_for(asyncio.open_connection(address, admitted.port, limit=HEAD_LIMIT),
                                          HEAD_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            last = exc
    raise last


async def _first_of(*coroutines: Awaitable[None]) -> None:
    """Run them together until the first ends (its exception, if any, is raised); cancel the rest."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
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


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter, clock: _Clock) -> None:
    """Bytes from one side to the other until the source closes (or either side fails)."""
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while True:
            data = await source.read(CHUNK)
            if not data:
                break
            clock.touch()
            sink.write(data)
            await sink.drain()


async def _until_closed(reader: asyncio.StreamReader) -> None:
    """Wait for the browser to close its side, discarding what it sends meanwhile (a further
    request on a one-request connection is never forwarded; the browser sends it again on a new
    connection after this one closes)."""
    with contextlib.suppress(OSError):
        while await reader.read(CHUNK):
            pass
