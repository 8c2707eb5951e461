"""HTTP fetching with hard bounds: size while streaming, decompressed size, time, redirects.

httpx's own decoders inflate a whole network chunk at once (a gzip bomb reaches tens of MB in one
chunk), so the body is read raw and inflated here with an output limit per step. Redirects are
followed by hand so the report can show the chain. Requests go through httpcore's connection
pool directly (wire.py): the policy is all here, and httpx's per-request models cost a third of
the fetch's CPU.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx

from smo_audit import TOOL_URL, __version__
from smo_audit.crawl.addresses import AddressPolicy, AddressRefused
from smo_audit.crawl.backend import PolicyBackend
from smo_audit.crawl.failure import (
    FetchFailure as FetchFailure,  # re-exported: callers name it from here
)
from smo_audit.crawl.models import RawResponse, Redirect
from smo_audit.crawl.wire import Answer, Timeouts, Wire
from smo_audit.errors import printable
from smo_audit.numbers import whole_number

DEFAULT_USER_AGENT = f"smo-audit/{__version__} (+{TOOL_URL})"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def is_html_type(content_type: str) -> bool:
    """True for the media types the crawler parses; "" (no header) counts, the body decides."""
    return content_type in HTML_TYPES or content_type == ""


def looks_like_html(body: bytes) -> bool:
    """Sniff a body served without Content-Type the way browsers would: markup up front."""
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--", b"<meta", b"<title"))


@dataclass(frozen=True, slots=True)
class FetchLimits:
    connect_timeout: float = 10.0
    read_timeout: float = 15.0
    total_timeout: float = 30.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 10

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "total_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"FetchLimits.{name} must be positive")
        if self.max_body_bytes < 1 or self.max_redirects < 0:
            raise ValueError("FetchLimits.max_body_bytes must be >= 1 and max_redirects >= 0")


# Called with each redirect target before it is requested; raises FetchFailure to refuse it.
HopCheck = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Options:
    limit: int
    html_only: bool
    truncate: bool
    stop_redirect: Callable[[str], bool] | None
    check_hop: HopCheck | None


class _Inflater(Protocol):
    """Content decoders that never produce more than `limit + 1` bytes per call.

    `pending` is True when output was held back because of the limit: the body is larger than
    the limit, whatever the size of what came out so far.
    """

    pending: bool

    def feed(self, data: bytes, limit: int) -> bytes: ...
    def flush(self, limit: int) -> bytes: ...


class _Identity:
    pending = False

    def feed(self, data: bytes, limit: int) -> bytes:
        return data

    def flush(self, limit: int) -> bytes:
        return b""


class _Zlib:
    """gzip and deflate (zlib-wrapped or raw, as servers send both under the name "deflate")."""

    def __init__(self, encoding: str) -> None:
        self._raw_fallback = encoding == "deflate"
        self._obj = zlib.decompressobj(47)  # 32 + 15: auto-detect gzip or zlib header
        self._started = False
        self.pending = False

    def feed(self, data: bytes, limit: int) -> bytes:
        try:
            out = self._obj.decompress(data, limit + 1)
        except zlib.error:
            if self._raw_fallback and not self._started:
                self._obj = zlib.decompressobj(-15)
                out = self._obj.decompress(data, limit + 1)
            else:
                raise
        self._started = True
        self.pending = bool(self._obj.unconsumed_tail)
        return out

    def flush(self, limit: int) -> bytes:
        # Only called when nothing is pending: what is left is zlib's small internal window.
        return self._obj.flush()[: limit + 1]


class _Brotli:
    def __init__(self) -> None:
        import brotli  # type: ignore[import-untyped,unused-ignore]

        self._obj = brotli.Decompressor()
        self.pending = False

    def feed(self, data: bytes, limit: int) -> bytes:
        # output_buffer_limit is a soft bound (it may overshoot by one internal block, ~1 MB
        # for a 1 MB limit); the caller's size check turns that into "too-large".
        out: bytes = self._obj.process(data, output_buffer_limit=limit + 1)
        # Brotli stops only once it has passed the limit, so a short output means "needs more
        # input"; unconsumed input means output is still waiting.
        self.pending = len(out) > limit or (
            not self._obj.is_finished() and not self._obj.can_accept_more_data()
        )
        return out

    def flush(self, limit: int) -> bytes:
        if self._obj.is_finished():
            return b""
        out: bytes = self._obj.process(b"", output_buffer_limit=limit + 1)
        return out


def _accept_encoding() -> str:
    try:
        import brotli  # noqa: F401
    except ImportError:
        return "gzip, deflate"
    return "gzip, deflate, br"


def _inflater(content_encoding: str, url: str) -> _Inflater:
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return _Identity()
    if encoding in ("gzip", "x-gzip", "deflate"):
        return _Zlib(encoding)
    if encoding == "br":
        return _Brotli()
    raise FetchFailure(url, "decoding", f"the server used an unsupported content encoding {encoding!r}")


async def _drain(response: Answer, limit: int = 64 * 1024) -> None:
    """Read a small redirect body so the connection goes back to the pool instead of closing."""
    declared = response.headers.get("content-length", "")
    length = whole_number(declared)
    if declared.isdigit() and (length is None or length > limit):  # large, or digits int() refuses
        return
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > limit:
            return


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or HTTP-date), None when absent/bad."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    seconds = whole_number(value)
    if seconds is not None:
        return float(seconds)
    if value.isdigit():
        return None  # too many digits, or not ASCII ones
    try:
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _redirect_target(url: str, base: httpx.URL, location: str) -> str:
    """The absolute URL a redirect points to; a FetchFailure for one that is not http(s).

    A server may redirect to javascript:, data:, file: or a malformed URL; none of them is a page
    to fetch, and the report should say so rather than fail inside httpx.
    """
    shown = printable(location[:120])
    try:
        target = base.join(location.strip())
        if target.scheme in ("http", "https") and target.host:
            target.copy_with()  # what httpx's redirect builder did: raises on a malformed path
    except (httpx.InvalidURL, ValueError):
        raise FetchFailure(url, "bad-redirect", f"{url} redirects to {shown!r}, which is not a valid URL") from None
    if target.scheme not in ("http", "https"):
        raise FetchFailure(url, "bad-redirect", f"{url} redirects to a {printable(target.scheme[:20])}: URL "
                           "(only http and https redirects are followed)")
    if not target.host:
        raise FetchFailure(url, "bad-redirect", f"{url} redirects to {shown!r}, which has no host name")
    if not _port_in_range(target):
        raise FetchFailure(url, "bad-redirect", f"{url} redirects to {shown!r}, whose port is not 1-65535")
    return str(target)


def _port_in_range(url: httpx.URL) -> bool:
    """httpx takes any number for a port: 99999 fails deep in the socket layer (OverflowError in
    an ExceptionGroup) and 0 connects to the scheme's default port."""
    return url.port is None or 0 < url.port < 65536


def _reason(exc: BaseException) -> str:
    """An exception's message, or its class name when it has none ("failed: ." helps nobody)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def classify_transport_error(url: str, exc: BaseException) -> FetchFailure:
    """Turn an httpx/OS exception into a report error kind with one readable sentence."""
    chain: list[BaseException] = []
    cursor: BaseException | None = exc
    while cursor is not None and len(chain) < 8:
        chain.append(cursor)
        cursor = cursor.__cause__ or cursor.__context__
    text = " ".join(str(e) for e in chain).lower()
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return FetchFailure(url, "timeout", f"{url} did not answer in time")
    if any(isinstance(e, socket.gaierror) for e in chain) or "name or service not known" in text or (
        "nodename nor servname" in text or "temporary failure in name resolution" in text
    ):
        return FetchFailure(url, "dns", f"the host of {url} could not be found (DNS lookup failed)")
    if any(isinstance(e, ssl.SSLError) for e in chain) or "certificate" in text:
        return FetchFailure(url, "tls", f"the TLS connection to {url} failed: {_reason(chain[-1])}")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return FetchFailure(url, "invalid-url", f"{url} is not an http(s) URL that can be fetched")
    if isinstance(exc, httpx.ConnectError | ConnectionError | OSError):
        return FetchFailure(url, "connect", f"could not connect to {url} ({_reason(chain[-1])})")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ProtocolError):
        return FetchFailure(url, "protocol", f"{url} sent a broken HTTP response ({_reason(exc)})")
    return FetchFailure(url, "network", f"fetching {url} failed: {_reason(exc)}")


def loop_message(first: str, hops: int, back_to: str) -> str:
    """What a redirect-loop error says (report --merge joins chains the shards split: loop_of)."""
    return f"{first} redirects in a loop ({hops} hop{'' if hops == 1 else 's'}, back to {back_to})"


_LOOP_TAIL = re.compile(r" redirects in a loop \((\d+) hops?, back to (\S+)\)\Z")


def loop_of(message: str) -> tuple[int, str] | None:
    """(hops, URL it came back to) of a loop_message."""
    match = _LOOP_TAIL.search(message)
    return (int(match[1]), match[2]) if match else None


def too_many_message(first: str, limit: int) -> str:
    return f"{first} redirected more than {limit} times"


class Fetcher:
    """One shared connection pool (connection reuse, HTTP/2 when `h2` is installed) with hard limits."""

    def __init__(
        self,
        user_agent: str = DEFAULT_USER_AGENT,
        limits: FetchLimits | None = None,
        *,
        max_connections: int = 16,
        address_policy: AddressPolicy | None = None,
    ) -> None:
        self.user_agent = user_agent
        self.limits = limits or FetchLimits()
        # The private-address rule, applied to every connection (see addresses.py); None allows all.
        self.address_policy = address_policy
        self._max_connections = max_connections
        self._client: Wire | None = None

    def _get_client(self) -> Wire:
        if self._client is None:
            try:
                import h2  # noqa: F401

                http2 = True
            except ImportError:
                http2 = False
            self._client = Wire(
                max_connections=self._max_connections,
                timeouts=Timeouts(connect=self.limits.connect_timeout, read=self.limits.read_timeout,
                                  write=self.limits.read_timeout, pool=self.limits.total_timeout),
                http2=http2,
                # The pool's network backend is where every connection (and so every redirect
                # hop) is made: the private-address rule lives there.
                network_backend=PolicyBackend(self.address_policy) if self.address_policy is not None else None,
                # httpx's client headers (accept and user-agent are set per request).
                default_headers={"accept": "*/*", "accept-encoding": _accept_encoding(),
                                 "connection": "keep-alive", "user-agent": self.user_agent},
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def fetch(
        self,
        url: str,
        *,
        user_agent: str | None = None,
        max_bytes: int | None = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        html_only: bool = False,
        truncate: bool = False,
        stop_redirect: Callable[[str], bool] | None = None,
        check_hop: HopCheck | None = None,
        after: tuple[Redirect, ...] = (),
    ) -> RawResponse:
        """Fetch `url`, following redirects by hand; raise FetchFailure with a report kind.

        html_only: a successful (< 400) answer that is not text/html or application/xhtml+xml
            raises kind "not-html" before its body is read, so a linked 200 MB video costs one
            round trip. An answer without Content-Type is read and sniffed.
        truncate: return the first `max_bytes` instead of failing with "too-large" (robots.txt:
            RFC 9309 asks crawlers to parse at least the first 500 KiB, not to give up).
        stop_redirect: called with each redirect target before it is requested; when it returns
            True the chain stops there and the redirect itself is returned (3xx status, empty
            body, `final_url` = the target not requested). The crawler uses it not to fetch a
            page it has already audited, or one robots.txt disallows, a second time.
        check_hop: awaited with each redirect target before it is requested (after
            stop_redirect); it raises FetchFailure to refuse the hop, which ends the fetch with
            that failure. The fetch policy uses it so every hop passes the checks the first URL
            passed (robots.txt for the agent sent, folder scope); the private-address rule needs
            no hook, it is in every connection.
        after: the redirects that led to `url`, from the chain's first URL (report --merge goes
            on with a chain a shard stopped at another partition's URL): they count towards
            max_redirects and the loop check, start the response's `redirects`, and a loop or an
            overlong chain is reported under that first URL, as when the chain is followed whole.
        """
        limit = self.limits.max_body_bytes if max_bytes is None else max_bytes
        started = time.perf_counter()
        options = _Options(limit, html_only, truncate, stop_redirect, check_hop)
        try:
            async with asyncio.timeout(self.limits.total_timeout):
                return await self._fetch_chain(url, user_agent, options, headers, follow_redirects, started, after)
        except FetchFailure:
            raise
        except AddressRefused as refused:
            raise FetchFailure(url, "private-address", f"{url} was not fetched: {refused}") from None
        except TimeoutError:
            raise FetchFailure(
                url, "timeout", f"{url} took longer than {self.limits.total_timeout:g} s in total"
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
            raise classify_transport_error(url, exc) from None

    async def _fetch_chain(
        self,
        url: str,
        user_agent: str | None,
        options: _Options,
        extra_headers: Mapping[str, str] | None,
        follow_redirects: bool,
        started: float,
        after: tuple[Redirect, ...] = (),
    ) -> RawResponse:
        client = self._get_client()
        request_headers = {"user-agent": user_agent or self.user_agent, "accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
        if extra_headers:
            request_headers.update(extra_headers)
        chain: list[Redirect] = list(after)
        first = after[0].url if after else url  # the URL the chain started from
        seen: set[str] = {url, *(hop.url for hop in after)}
        current = url
        hop = False
        while True:
            # A redirect target is checked here, once the redirect's connection is released: the
            # check may itself fetch (the hop's robots.txt).
            if hop and options.check_hop is not None:
                await options.check_hop(current)
            request_url = httpx.URL(current)
            if not _port_in_range(request_url):  # the first URL: _redirect_target checked the hops
                raise FetchFailure(url, "invalid-url", f"{current} cannot be fetched: its port is not 1-65535")
            async with client.get(request_url, request_headers) as response:
                status = response.status
                location = response.headers.get("location")
                if follow_redirects and status in REDIRECT_STATUSES and location:
                    chain.append(Redirect(current, status))
                    target = _redirect_target(url, response.url, location)
                    if target in seen:
                        raise FetchFailure(url, "redirect-loop", loop_message(first, len(chain), target))
                    if len(chain) > self.limits.max_redirects:
                        raise FetchFailure(url, "too-many-redirects", too_many_message(first, self.limits.max_redirects))
                    if options.stop_redirect is not None and options.stop_redirect(target):
                        await _drain(response)
                        return RawResponse(
                            url=url, final_url=target, status=status, headers=response.headers,
                            body=b"", redirects=tuple(chain),
                            elapsed_ms=(time.perf_counter() - started) * 1000,
                        )
                    await _drain(response)
                    seen.add(target)
                    current = target
                    hop = True
                    continue
                if follow_redirects and status in REDIRECT_STATUSES:  # no Location: a redirect to nowhere
                    raise FetchFailure(url, "bad-redirect", f"{current} answered HTTP {status} without a Location header",
                                       status)
                content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                if options.html_only and status < 400 and not is_html_type(content_type):
                    raise FetchFailure(
                        url, "not-html", f"{current} is {content_type}, not an HTML page", status,
                        final_url=current, content_type=content_type,
                    )
                body = await self._read_body(response, current, options.limit, options.truncate)
                if options.html_only and status < 400 and not content_type and not looks_like_html(body):
                    raise FetchFailure(
                        url, "not-html", f"{current} has no Content-Type and does not look like HTML", status,
                        final_url=current, content_type="",
                    )
                return RawResponse(
                    url=url,
                    final_url=str(response.url),
                    status=status,
                    headers=response.headers,
                    body=body,
                    redirects=tuple(chain),
                    elapsed_ms=(time.perf_counter() - started) * 1000,
                )

    async def _read_body(self, response: Answer, url: str, limit: int, truncate: bool = False) -> bytes:
        if truncate:
            return await self._read_truncated(response, url, limit)
        declared = whole_number(response.headers.get("content-length", ""))
        if declared is not None and declared > limit and not response.headers.get("content-encoding"):
            raise FetchFailure(url, "too-large", f"{url} is {declared:,} bytes, over the {limit:,}-byte limit", response.status)
        inflater = _inflater(response.headers.get("content-encoding", ""), url)
        parts: list[bytes] = []
        size = 0
        raw_size = 0
        try:
            async for chunk in response.aiter_raw():
                raw_size += len(chunk)
                if raw_size > limit:
                    raise self._too_large(url, limit, response.status)
                out = inflater.feed(chunk, limit - size)
                size += len(out)
                if size > limit or inflater.pending:
                    raise self._too_large(url, limit, response.status)
                parts.append(out)
            tail = inflater.flush(limit - size)
        except zlib.error as exc:
            raise FetchFailure(url, "decoding", f"{url} sent a corrupt compressed body ({exc})") from None
        except Exception as exc:  # brotli.error, without importing brotli when it is not used
            if type(exc).__module__.startswith("brotli"):
                raise FetchFailure(url, "decoding", f"{url} sent a corrupt brotli body") from None
            raise
        size += len(tail)
        if size > limit:
            raise self._too_large(url, limit, response.status)
        parts.append(tail)
        return b"".join(parts)

    async def _read_truncated(self, response: Answer, url: str, limit: int) -> bytes:
        """The first `limit` decoded bytes; the rest of the body is not downloaded."""
        inflater = _inflater(response.headers.get("content-encoding", ""), url)
        parts: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_raw():
                out = inflater.feed(chunk, limit - size)
                parts.append(out)
                size += len(out)
                if size >= limit or inflater.pending:
                    break
            else:
                parts.append(inflater.flush(max(limit - size, 0)))
        except zlib.error:
            pass  # keep what decoded cleanly: this mode is for "best effort" text like robots.txt
        except Exception as exc:
            if not type(exc).__module__.startswith("brotli"):
                raise
        return b"".join(parts)[:limit]

    @staticmethod
    def _too_large(url: str, limit: int, status: int) -> FetchFailure:
        return FetchFailure(url, "too-large", f"{url} is larger than the {limit:,}-byte limit", status)
