"""One GET over httpcore's connection pool: the part of an HTTP client the fetcher uses.

The fetcher needs a status, the headers and the raw body as a stream; every policy (redirects by
hand, robots.txt and scope per hop, size and time caps, decompression with bomb limits) is its
own. httpx's AsyncClient wraps each exchange in Request/Response models, event hooks, cookie
handling, header normalisation and redirect preparation that the fetcher turns off or redoes:
on the benchmark site that was about 0.25 ms of CPU a page in the crawl process (a third of
the fetch), measured against the same pool driven directly. So the fetcher drives the pool
(the same httpcore connection pool httpx's transport builds, with the same network backend,
timeouts and HTTP/2 setting) through this module.

What stays httpx's: URL parsing and normalisation (`httpx.URL`, so the URLs requested and
reported are exactly those httpx would use), and its exception classes: httpcore's exceptions
are mapped as httpx's transport maps them, so callers classify failures as before.

The TLS context (the CA bundle, ~50-100 ms to load) is built when the first https URL is
requested, not when the fetcher starts: an audit of an http:// site (a dev server, the
benchmarks) never pays it. Plain and TLS connections live in two pools, each bounded by
`max_connections`.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import cast

import httpcore
import httpx

# httpcore exception -> the httpx exception its transport raises instead (httpx/_transports/
# default.py), most specific first: callers see exactly the exceptions they saw through httpx.
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def httpx_errors() -> Iterator[None]:
    """Re-raise httpcore's exceptions as the httpx exceptions httpx's transport would raise."""
    try:
        yield
    except Exception as exc:
        for source, target in _EXCEPTIONS:
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise


def decode_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Response headers as the fetcher reads them: lower-case names, repeated headers joined with
    ", " (what httpx's `Headers.get` returns), decoded as httpx decodes them (ascii, else utf-8,
    else iso-8859-1, one choice for the whole header block)."""
    encoding = "iso-8859-1"
    for candidate in ("ascii", "utf-8"):
        try:
            for name, value in raw:
                name.decode(candidate)
                value.decode(candidate)
        except UnicodeDecodeError:
            continue
        encoding = candidate
        break
    merged: dict[str, str] = {}
    for name, value in raw:
        key = name.decode(encoding).lower()
        text = value.decode(encoding)
        merged[key] = f"{merged[key]}, {text}" if key in merged else text
    return merged


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float
    read: float
    write: float
    pool: float

    def extension(self) -> dict[str, float]:
        return {"connect": self.connect, "read": self.read, "write": self.write, "pool": self.pool}


class Answer:
    """A response whose body has not been read: status, decoded headers, the URL asked for."""

    __slots__ = ("_response", "headers", "status", "url")

    def __init__(self, url: httpx.URL, response: httpcore.Response) -> None:
        self.url = url
        self.status = response.status
        self.headers = decode_headers(response.headers)
        self._response = response

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        """The body as it came off the connection (still content-encoded), chunk by chunk."""
        stream = cast("AsyncIterable[bytes]", self._response.stream)  # an async pool's stream
        with httpx_errors():
            async for chunk in stream:
                if chunk:
                    yield chunk


class Wire:
    """Connection pools (plain and TLS) with one way in: `get(url, headers)`."""

    def __init__(self, *, max_connections: int, timeouts: Timeouts, http2: bool,
                 network_backend: httpcore.AsyncNetworkBackend | None = None,
                 default_headers: Mapping[str, str] | None = None) -> None:
        self._max_connections = max_connections
        self._timeouts = timeouts.extension()
        self._http2 = http2
        self._backend = network_backend
        # Sent with every request unless the request names them itself (httpx's client headers).
        self._default_headers = {k.lower(): v for k, v in (default_headers or {}).items()}
        self._plain: httpcore.AsyncConnectionPool | None = None
        self._tls: httpcore.AsyncConnectionPool | None = None

    def _pool(self, scheme: bytes) -> httpcore.AsyncConnectionPool:
        if scheme == b"https":
            if self._tls is None:
                self._tls = self._new_pool(_tls_context(), http2=self._http2)
            return self._tls
        if self._plain is None:
            # HTTP/2 is negotiated over TLS only (as with httpx's transport): plain stays HTTP/1.1.
            self._plain = self._new_pool(None, http2=False)
        return self._plain

    def _new_pool(self, context: ssl.SSLContext | None, *, http2: bool) -> httpcore.AsyncConnectionPool:
        return httpcore.AsyncConnectionPool(
            ssl_context=context, max_connections=self._max_connections,
            max_keepalive_connections=self._max_connections, http1=True, http2=http2,
            network_backend=self._backend,
        )

    def _request(self, url: httpx.URL, headers: Mapping[str, str]) -> httpcore.Request:
        merged = {**self._default_headers, **{k.lower(): v for k, v in headers.items()}}
        # Host first, then httpx's defaults, then ours (header values must be ASCII: a
        # UnicodeEncodeError is a ValueError, reported like any bad request).
        raw = [(b"Host", url.netloc)]
        raw.extend((name.encode("ascii"), value.encode("ascii")) for name, value in merged.items())
        target = url.raw_path
        return httpcore.Request(
            b"GET",
            httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=target),
            headers=raw,
            extensions={"timeout": self._timeouts},
        )

    @contextlib.asynccontextmanager
    async def get(self, url: httpx.URL, headers: Mapping[str, str]) -> AsyncIterator[Answer]:
        """GET `url`; the connection goes back to the pool (or is closed, if the body was not
        read to the end) when the block exits."""
        request = self._request(url, headers)
        with httpx_errors():
            response = await self._pool(url.raw_scheme).handle_async_request(request)
        try:
            yield Answer(url, response)
        finally:
            with httpx_errors():
                await response.aclose()

    async def aclose(self) -> None:
        for pool in (self._plain, self._tls):
            if pool is not None:
                await pool.aclose()
        self._plain = self._tls = None


def _tls_context() -> ssl.SSLContext:
    """The context httpx builds for verify=True without trust_env: certifi's CA bundle."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
