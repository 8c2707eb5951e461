"""The Fetcher over real loopback HTTP: bounds on size, time and redirects, and error kinds."""

from __future__ import annotations

import gzip
import socket
import time
import tracemalloc
import zlib
from collections.abc import Callable

import brotli  # type: ignore[import-untyped,unused-ignore]
import pytest

from smo_audit.crawl.fetcher import (
    DEFAULT_USER_AGENT,
    Fetcher,
    FetchFailure,
    FetchLimits,
    classify_transport_error,
    retry_after_seconds,
)
from smo_audit.crawl.models import Redirect
from tests.support.scripted_server import Reply, ScriptedServer, drip, html, redirect, text

Start = Callable[..., ScriptedServer]
FAST = FetchLimits(connect_timeout=1.0, read_timeout=0.5, total_timeout=1.0, max_body_bytes=1024 * 1024)


async def _fail(fetcher: Fetcher, url: str, **options: object) -> FetchFailure:
    with pytest.raises(FetchFailure) as caught:
        await fetcher.fetch(url, **options)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as the RFC says
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as IIS sends it
        ("br", brotli.compress),
    ],
)
async def test_compressed_bodies_are_decoded(scripted_server: Start, encoding: str, encode: Callable[[bytes], bytes]) -> None:
    page = b"<!doctype html><p>" + b"hello " * 5000 + b"</p>"
    server = scripted_server({"/": Reply(200, {"content-type": "text/html", "content-encoding": encoding}, encode(page))})
    async with Fetcher(limits=FAST) as fetcher:
        response = await fetcher.fetch(server.url("/"))
    assert response.body == page
    assert response.status == 200
    assert response.content_type == "text/html"


@pytest.mark.parametrize(
    ("encoding", "encode"), [("gzip", gzip.compress), ("br", lambda data: brotli.compress(data, quality=4))]
)
async def test_compression_bombs_stop_at_the_limit(scripted_server: Start, encoding: str, encode: Callable[[bytes], bytes]) -> None:
    bomb = encode(b"\0" * (64 * 1024 * 1024))  # 64 MB of zeros in a few KB
    assert len(bomb) < 100_000
    server = scripted_server({"/bomb": Reply(200, {"content-type": "text/html", "content-encoding": encoding}, bomb)})
    async with Fetcher(limits=FAST) as fetcher:
        await fetcher.fetch(server.url("/missing"))  # warm up: client and connection exist
        tracemalloc.start()
        try:
            failure = await _fail(fetcher, server.url("/bomb"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert failure.kind == "too-large"
    assert peak < 8 * 1024 * 1024, f"inflating the bomb allocated {peak:,} bytes"


def test_inflaters_flag_withheld_output() -> None:
    from smo_audit.crawl.fetcher import _Brotli, _Zlib

    data = b"<p>" + b"a" * 100_000
    for inflater, compressed in ((_Zlib("gzip"), gzip.compress(data)), (_Brotli(), brotli.compress(data))):
        out = inflater.feed(compressed, 1000)
        assert inflater.pending, type(inflater).__name__  # more output exists than was returned
        assert len(out) < len(data)
    whole = _Brotli()
    assert whole.feed(brotli.compress(data), len(data)) == data and not whole.pending
    assert whole.flush(10) == b""


async def test_declared_length_over_limit_fails_before_reading(scripted_server: Start) -> None:
    server = scripted_server({"/big": html("x" * 2_000_000)})
    async with Fetcher(limits=FAST) as fetcher:
        failure = await _fail(fetcher, server.url("/big"))
    assert failure.kind == "too-large"
    assert failure.status == 200
    assert "2,000,0" in failure.message


async def test_streamed_body_over_limit_is_cut_off(scripted_server: Start) -> None:
    chunks = [b"x" * 65536] * 40  # 2.5 MB, chunked, no Content-Length
    server = scripted_server({"/stream": Reply(200, {"content-type": "text/html"}, chunks)})
    async with Fetcher(limits=FAST) as fetcher:
        failure = await _fail(fetcher, server.url("/stream"))
    assert failure.kind == "too-large"


async def test_corrupt_gzip_is_a_decoding_error(scripted_server: Start) -> None:
    server = scripted_server({"/": Reply(200, {"content-type": "text/html", "content-encoding": "gzip"}, b"not gzip at all")})
    async with Fetcher(limits=FAST) as fetcher:
        failure = await _fail(fetcher, server.url("/"))
    assert failure.kind == "decoding"


async def test_redirect_chain_is_recorded(scripted_server: Start) -> None:
    server = scripted_server({"/a": redirect("/b", 301), "/b": redirect("/c", 302), "/c": html("<p>c</p>")})
    async with Fetcher(limits=FAST) as fetcher:
        response = await fetcher.fetch(server.url("/a"))
    assert response.url == server.url("/a")
    assert response.final_url == server.url("/c")
    assert response.redirects == (Redirect(server.url("/a"), 301), Redirect(server.url("/b"), 302))
    assert response.body == b"<p>c</p>"


async def test_redirect_loop(scripted_server: Start) -> None:
    server = scripted_server({"/a": redirect("/b"), "/b": redirect("/a")})
    async with Fetcher(limits=FAST) as fetcher:
        failure = await _fail(fetcher, server.url("/a"))
    assert failure.kind == "redirect-loop"
    assert server.hits("/a") == 1 and server.hits("/b") == 1


async def test_redirect_cap_counts_hops(scripted_server: Start) -> None:
    routes = {f"/r{i}": redirect(f"/r{i + 1}") for i in range(5)}
    routes["/r3"] = html("<p>three hops</p>")
    server = scripted_server(routes)
    limits = FetchLimits(1.0, 0.5, 1.0, max_redirects=3)
    async with Fetcher(limits=limits) as fetcher:
        ok = await fetcher.fetch(server.url("/r0"))  # exactly 3 hops: allowed
        assert len(ok.redirects) == 3
        routes["/r3"] = redirect("/r4")
        server.routes.update(routes)
        failure = await _fail(fetcher, server.url("/r0"))
    assert failure.kind == "too-many-redirects"
    assert server.hits("/r5") == 0


async def test_stop_redirect_returns_the_redirect_unfollowed(scripted_server: Start) -> None:
    server = scripted_server({"/old": redirect("/seen", 308), "/seen": html("<p>seen</p>")})
    async with Fetcher(limits=FAST) as fetcher:
        response = await fetcher.fetch(server.url("/old"), stop_redirect=lambda target: target.endswith("/seen"))
    assert response.status == 308
    assert response.final_url == server.url("/seen")
    assert response.redirects == (Redirect(server.url("/old"), 308),)
    assert server.hits("/seen") == 0


async def test_slow_headers_hit_the_read_timeout(scripted_server: Start) -> None:
    server = scripted_server({"/slow": Reply(200, {"content-type": "text/html"}, "late", delay=3)})
    started = time.monotonic()
    async with Fetcher(limits=FetchLimits(1.0, 0.3, 5.0)) as fetcher:
        failure = await _fail(fetcher, server.url("/slow"))
    assert failure.kind == "timeout"
    assert time.monotonic() - started < 2.5  # the headers come after 3 s: well before, even on a busy machine


async def test_slow_drip_hits_the_total_timeout(scripted_server: Start) -> None:
    # Each chunk arrives well within the read timeout; only the total bound stops it.
    server = scripted_server({"/drip": drip([b"<p>.</p>"] * 50, interval=0.1)})
    started = time.monotonic()
    async with Fetcher(limits=FetchLimits(1.0, 0.5, 0.8)) as fetcher:
        failure = await _fail(fetcher, server.url("/drip"))
    assert failure.kind == "timeout"
    assert "in total" in failure.message
    assert time.monotonic() - started < 3.0  # the drip lasts 5 s: stopped well before, even on a busy machine


async def test_connection_refused_is_connect() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens
    async with Fetcher(limits=FAST) as fetcher:
        failure = await _fail(fetcher, f"http://127.0.0.1:{port}/")
    assert failure.kind == "connect"


async def test_html_only_refuses_other_types_without_reading_them(scripted_server: Start) -> None:
    server = scripted_server({
        "/data": text('{"a": 1}', "application/json"),
        "/huge.bin": Reply(200, {"content-type": "application/octet-stream"}, [b"\0" * 65536] * 200),
        "/missing-json": Reply(404, {"content-type": "application/json"}, b"{}"),
    })
    async with Fetcher(limits=FAST) as fetcher:
        assert (await _fail(fetcher, server.url("/data"), html_only=True)).kind == "not-html"
        # 13 MB over the 1 MB cap: "not-html" (decided on headers), never "too-large"
        assert (await _fail(fetcher, server.url("/huge.bin"), html_only=True)).kind == "not-html"
        # an error status is the status, whatever the type
        assert (await fetcher.fetch(server.url("/missing-json"), html_only=True)).status == 404
        # without html_only anything goes
        assert (await fetcher.fetch(server.url("/data"))).body == b'{"a": 1}'


async def test_missing_content_type_is_sniffed(scripted_server: Start) -> None:
    server = scripted_server({
        "/page": Reply(200, {}, b"\n  <!DOCTYPE html><title>t</title>"),
        "/blob": Reply(200, {}, b"\x89PNG\r\n\x1a\n...."),
    })
    async with Fetcher(limits=FAST) as fetcher:
        assert (await fetcher.fetch(server.url("/page"), html_only=True)).status == 200
        assert (await _fail(fetcher, server.url("/blob"), html_only=True)).kind == "not-html"


async def test_truncate_keeps_the_first_bytes(scripted_server: Start) -> None:
    body = b"User-agent: *\nDisallow: /x\n" + b"# filler\n" * 50_000
    server = scripted_server({"/robots.txt": Reply(200, {"content-type": "text/plain", "content-encoding": "gzip"}, gzip.compress(body))})
    async with Fetcher(limits=FAST) as fetcher:
        response = await fetcher.fetch(server.url("/robots.txt"), max_bytes=1000, truncate=True)
    assert response.body == body[:1000]


async def test_user_agent_headers_and_connection_reuse(scripted_server: Start) -> None:
    server = scripted_server({"/": Reply(200, [("content-type", "text/html"), ("x-a", "1"), ("X-A", "2")], b"ok")})
    async with Fetcher(limits=FAST) as fetcher:
        first = await fetcher.fetch(server.url("/"))
        await fetcher.fetch(server.url("/"), user_agent="facebookexternalhit/1.1")
    assert first.headers["x-a"] == "1, 2"
    requests = server.requests_for("/")
    assert requests[0].user_agent == DEFAULT_USER_AGENT
    assert requests[1].user_agent == "facebookexternalhit/1.1"
    assert requests[0].client_port == requests[1].client_port  # keep-alive: one connection


def test_retry_after_parsing() -> None:
    assert retry_after_seconds({"retry-after": "7"}) == 7.0
    now = 1_700_000_000.0
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + 30))
    assert retry_after_seconds({"retry-after": date}, now=now) == pytest.approx(30.0)
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_dns_failures_are_classified() -> None:
    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as inner:
            raise OSError("connect failed") from inner
    except OSError as exc:
        failure = classify_transport_error("https://nowhere.invalid/", exc)
    assert failure.kind == "dns"


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        FetchLimits(read_timeout=0)
    with pytest.raises(ValueError):
        FetchLimits(max_body_bytes=0)
