"""The fetcher's HTTP exchange over httpcore's pool (crawl/wire.py), over real loopback HTTP:
what goes on the wire, how answers are read, which exceptions come out, and that an http-only
audit never builds a TLS context. The fetch policy on top (redirects, caps, decoding) is
tested through the Fetcher in test_fetcher.py."""

from __future__ import annotations

import gzip
import socket
from collections.abc import Callable

import httpx
import pytest

from smo_audit.crawl.fetcher import Fetcher, FetchFailure, FetchLimits
from smo_audit.crawl.wire import Timeouts, Wire, decode_headers
from tests.support.scripted_server import Reply, ScriptedServer, html, redirect

Start = Callable[..., ScriptedServer]
TIMEOUTS = Timeouts(connect=1.0, read=1.0, write=1.0, pool=1.0)


def _wire(**options: object) -> Wire:
    return Wire(max_connections=4, timeouts=TIMEOUTS, http2=False, **options)  # type: ignore[arg-type]


def test_headers_are_joined_and_decoded_like_httpx() -> None:
    assert decode_headers([(b"X-A", b"1"), (b"x-a", b"2"), (b"Content-Type", b"text/html")]) == {
        "x-a": "1, 2", "content-type": "text/html"}
    assert decode_headers([(b"x-name", "café".encode())]) == {"x-name": "café"}  # utf-8 when ascii fails
    assert decode_headers([(b"x-name", b"caf\xe9")]) == {"x-name": "café"}  # iso-8859-1 when utf-8 fails
    # One encoding for the whole block, as httpx decides it: a latin-1 byte anywhere decides all.
    assert decode_headers([(b"x-a", "é".encode()), (b"x-b", b"\xe9")]) == {"x-a": "Ã©", "x-b": "é"}
    raw = [(b"X-A", b"1"), (b"x-a", b"2"), (b"x-b", b"caf\xe9")]
    assert decode_headers(raw) == {k.lower(): v for k, v in httpx.Headers(raw).items()}


async def test_request_headers_on_the_wire(scripted_server: Start) -> None:
    server = scripted_server({"/a": html("<p>a</p>")})
    wire = _wire(default_headers={"accept": "*/*", "accept-encoding": "gzip", "connection": "keep-alive",
                                  "user-agent": "default-agent"})
    try:
        async with wire.get(httpx.URL(server.url("/a?q=1 2")), {"User-Agent": "bot/1", "X-Extra": "yes"}) as answer:
            assert answer.status == 200
            assert answer.headers["content-type"].startswith("text/html")
            assert b"".join([chunk async for chunk in answer.aiter_raw()]) == b"<p>a</p>"
    finally:
        await wire.aclose()
    (request,) = server.requests_for("/a")
    assert request.target == "/a?q=1%202"  # httpx's URL normalisation, as before
    assert request.headers["host"] == f"127.0.0.1:{server.port}"
    assert request.headers["user-agent"] == "bot/1"  # the request's own value wins, whatever its case
    assert request.headers["accept-encoding"] == "gzip"
    assert request.headers["connection"] == "keep-alive"
    assert request.headers["x-extra"] == "yes"


async def test_the_body_comes_raw_and_connections_are_reused(scripted_server: Start) -> None:
    packed = gzip.compress(b"<p>hello</p>" * 100)
    server = scripted_server({"/z": Reply(200, {"content-type": "text/html", "content-encoding": "gzip"}, packed)})
    wire = _wire()
    try:
        for _ in range(2):
            async with wire.get(httpx.URL(server.url("/z")), {}) as answer:
                body = b"".join([chunk async for chunk in answer.aiter_raw()])
            assert body == packed  # decoding (with its bomb limits) is the fetcher's job
    finally:
        await wire.aclose()
    first, second = server.requests_for("/z")
    assert first.client_port == second.client_port


async def test_httpcore_errors_come_out_as_httpx_errors() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    wire = _wire()
    try:
        with pytest.raises(httpx.ConnectError):
            async with wire.get(httpx.URL(f"http://127.0.0.1:{port}/"), {}):
                pass
        with pytest.raises(httpx.UnsupportedProtocol):
            async with wire.get(httpx.URL("ftp://127.0.0.1/x"), {}):
                pass
    finally:
        await wire.aclose()


async def test_an_http_only_fetcher_builds_no_tls_context(scripted_server: Start) -> None:
    server = scripted_server({"/": html("<p>hi</p>")})
    async with Fetcher(limits=FetchLimits(total_timeout=2.0)) as fetcher:
        response = await fetcher.fetch(server.url("/"))
        wire = fetcher._get_client()
        assert response.body == b"<p>hi</p>"
        assert wire._plain is not None and wire._tls is None  # the CA bundle was never loaded


async def test_redirect_targets_are_normalised_and_unfollowable_ones_refused(scripted_server: Start) -> None:
    server = scripted_server({
        "/start": redirect("/next page?x=ä", 302),
        "/next%20page?x=%C3%A4": html("<p>there</p>"),
        "/bad": redirect("http://[::1", 302),
    })
    async with Fetcher(limits=FetchLimits(total_timeout=2.0)) as fetcher:
        response = await fetcher.fetch(server.url("/start"))
        assert response.final_url == server.url("/next%20page?x=%C3%A4")
        assert response.body == b"<p>there</p>"
        with pytest.raises(FetchFailure) as caught:
            await fetcher.fetch(server.url("/bad"))
    assert caught.value.kind == "bad-redirect"
