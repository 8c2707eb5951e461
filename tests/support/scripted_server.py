"""A real HTTP/1.1 server on 127.0.0.1 for tests, scripted with a dict of routes.

Tests talk to it over real loopback TCP (ephemeral port, TCP_NODELAY, keep-alive), so what they
exercise is the code that runs in production, not a mock transport. It runs in a thread because
routes are Python callables (slow drip, fail-then-succeed, answers that depend on the bot's
User-Agent); that is fine for tests, which are I/O-bound. It stops by itself: on `stop()`, at the
end of the `with` block or fixture, and in any case after `max_lifetime` seconds.

    routes = {
        "/": html("<a href='/a'>a</a>"),
        "/a": (200, {"content-type": "text/html"}, "<p>a</p>"),
        "/flaky": fail_then([Reply(500)], html("ok")),
        "/og.png": png(1200, 630),
        "/share": by_user_agent({"facebookexternalhit": html("<meta property=og:title content=x>")},
                                default=html("<p>humans</p>")),
        "/calendar*": lambda req: html(f"<a href='?m={int(req.query_params.get('m', 0)) + 1}'>next</a>"),
    }
    with ScriptedServer(routes) as server:
        httpx.get(server.url("/a"))
        assert server.hits("/a") == 1

A route value is a Reply, a (status, headers, body) tuple, a bare str/bytes body (200, HTML),
or a callable taking the Request and returning any of those. Keys are a path ("/a"), a path with
query ("/a?x=1", matched first), or a glob ("/calendar*", matched last, in insertion order).
"""

from __future__ import annotations

import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeAlias
from urllib.parse import parse_qsl, urlsplit

Body: TypeAlias = bytes | str | Iterable[bytes]


@dataclass
class Reply:
    """One scripted answer. Iterable bodies are sent chunked, `chunk_delay` apart (slow drip)."""

    status: int = 200
    headers: Mapping[str, str] | Sequence[tuple[str, str]] = ()
    body: Body = b""
    delay: float = 0.0  # seconds before the status line is sent (slow server)
    chunk_delay: float = 0.0  # seconds between chunks of an iterable body
    close: bool = False  # close the connection after this answer
    drop: bool = False  # hang up without answering at all (a connection-level failure)


RouteResult: TypeAlias = "Reply | tuple[int, Mapping[str, str], Body] | bytes | str"
Route: TypeAlias = "RouteResult | Callable[[Request], RouteResult]"


@dataclass(frozen=True)
class Request:
    """What the server received, as a route callable and the test's assertions see it."""

    method: str
    target: str  # path and query exactly as sent
    path: str
    query: str
    headers: Mapping[str, str]  # lower-case names
    hit: int  # 1 for the first request that matched this route, 2 for the second, ...
    client_port: int = 0  # the client's source port: equal ports mean a reused connection
    time: float = field(default_factory=time.monotonic)

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent", "")

    @property
    def query_params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))


# -- reply helpers ------------------------------------------------------------------------------


def html(body: str | bytes, status: int = 200, headers: Mapping[str, str] | None = None,
         charset: str | None = "utf-8") -> Reply:
    """An HTML page; `charset=None` sends `text/html` without a charset parameter."""
    ctype = f"text/html; charset={charset}" if charset else "text/html"
    return Reply(status, {"content-type": ctype, **(headers or {})}, body)


def text(body: str | bytes, content_type: str = "text/plain", status: int = 200) -> Reply:
    return Reply(status, {"content-type": content_type}, body)


def redirect(location: str, status: int = 301) -> Reply:
    return Reply(status, {"location": location}, b"")


def drip(chunks: Iterable[bytes], interval: float, content_type: str = "text/html") -> Reply:
    """A body sent chunk by chunk, `interval` seconds apart (a slow page that does answer)."""
    return Reply(200, {"content-type": content_type}, list(chunks), chunk_delay=interval)


def fail_then(failures: Sequence[RouteResult], then: RouteResult) -> Callable[[Request], RouteResult]:
    """Answer `failures` in turn for the first requests, then `then` for every later one."""

    def route(request: Request) -> RouteResult:
        return failures[request.hit - 1] if request.hit <= len(failures) else then

    return route


def by_user_agent(answers: Mapping[str, RouteResult], default: RouteResult) -> Callable[[Request], RouteResult]:
    """Pick the answer by a case-insensitive substring of the User-Agent (first match wins)."""

    def route(request: Request) -> RouteResult:
        agent = request.user_agent.lower()
        for needle, answer in answers.items():
            if needle.lower() in agent:
                return answer
        return default

    return route


def png(width: int, height: int, *, extra_bytes: int = 0) -> Reply:
    """A valid PNG of the given size (one colour), optionally padded to test byte-size rules."""
    return Reply(200, {"content-type": "image/png"}, png_bytes(width, height, extra_bytes=extra_bytes))


def png_bytes(width: int, height: int, *, extra_bytes: int = 0) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = zlib.compress(b"".join(b"\0" + b"\x80" * width for _ in range(height)), 9)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
    if extra_bytes:
        out += chunk(b"tEXt", b"pad\0" + b"x" * extra_bytes)
    return out + chunk(b"IEND", b"")


# -- the server ---------------------------------------------------------------------------------


class ScriptedServer:
    """A threaded HTTP/1.1 server on 127.0.0.1:<ephemeral> answering from `routes`."""

    def __init__(self, routes: Mapping[str, Route] | None = None, *, max_lifetime: float = 120.0,
                 default: Route | None = None, host: str = "127.0.0.1") -> None:
        self.host = host  # another 127.x alias plays a second host (always loopback)
        assert host.startswith("127."), "test servers listen on loopback only"
        self.routes: dict[str, Route] = dict(routes or {})
        self.default: Route = default if default is not None else html("<h1>Not Found</h1>", status=404)
        self.max_lifetime = max_lifetime
        self.requests: list[Request] = []
        self._hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    # lifecycle

    def start(self) -> ScriptedServer:
        httpd = _Server((self.host, 0), _make_handler(self))
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="scripted-server", daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.max_lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if self._timer is not None and threading.current_thread() is not self._timer:
            self._timer.cancel()
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # addresses and bookkeeping

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the server is not running"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def hits(self, path: str) -> int:
        """Requests whose path (query ignored) was `path`, or whose full target was `path`."""
        with self._lock:
            return sum(1 for r in self.requests if path in (r.path, r.target))

    def requests_for(self, path: str) -> list[Request]:
        """The requests counted by hits(path), oldest first."""
        with self._lock:
            return [r for r in self.requests if path in (r.path, r.target)]

    def paths(self) -> list[str]:
        with self._lock:
            return [r.target for r in self.requests]

    # routing (called from handler threads)

    def _match(self, target: str, path: str) -> tuple[str | None, Route]:
        if target in self.routes:
            return target, self.routes[target]
        if path in self.routes:
            return path, self.routes[path]
        for key, route in list(self.routes.items()):
            if "*" in key and (fnmatchcase(target, key) or fnmatchcase(path, key)):
                return key, route
        return None, self.default

    def _answer(self, method: str, target: str, headers: Mapping[str, str], client_port: int = 0) -> Reply:
        parts = urlsplit(target)
        key, route = self._match(target, parts.path)
        with self._lock:
            hit = self._hits[key or ""] = self._hits.get(key or "", 0) + 1
            request = Request(method, target, parts.path, parts.query, headers, hit, client_port)
            self.requests.append(request)
        result = route(request) if callable(route) else route
        return _as_reply(result)


def _as_reply(result: Any) -> Reply:
    if isinstance(result, Reply):
        return result
    if isinstance(result, tuple):
        status, headers, body = result
        return Reply(status, headers, body)
    if isinstance(result, str | bytes):
        return html(result)
    raise TypeError(f"a route returned {type(result).__name__}, not a Reply, tuple or body")


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler asleep in a slow reply must not block stop()
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out on purpose (slow-page tests) hang up mid-reply: not a failure.
        pass


def _make_handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # TCP_NODELAY
        timeout = 10

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            self._reply(send_body=True)

        def do_HEAD(self) -> None:
            self._reply(send_body=False)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            self._reply(send_body=True)

        def _reply(self, send_body: bool) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = server._answer(self.command, self.path, headers, self.client_address[1])
            if reply.delay:
                time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                return
            items = list(reply.headers.items()) if isinstance(reply.headers, Mapping) else list(reply.headers)
            names = {k.lower() for k, _ in items}
            body = reply.body
            streamed = not isinstance(body, bytes | str)
            if isinstance(body, str):
                body = body.encode("utf-8")
            self.send_response(reply.status)
            for name, value in items:
                self.send_header(name, value)
            if streamed:
                if "transfer-encoding" not in names:
                    self.send_header("Transfer-Encoding", "chunked")
            elif "content-length" not in names:
                self.send_header("Content-Length", str(len(body)))  # type: ignore[arg-type]
            if reply.close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if not send_body:
                return
            if not streamed:
                self.wfile.write(body)  # type: ignore[arg-type]
                return
            for chunk in _chunks(body):  # type: ignore[arg-type]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                if reply.chunk_delay:
                    time.sleep(reply.chunk_delay)
            self.wfile.write(b"0\r\n\r\n")

    return Handler


def _chunks(body: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in body:
        if chunk:
            yield chunk
