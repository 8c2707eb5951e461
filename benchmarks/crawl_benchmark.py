"""Crawl speed and memory: our Crawler against a bare httpx + selectolax loop, same site, same run.

    .venv/bin/python benchmarks/crawl_benchmark.py                # 5,000 pages, concurrency 8
    .venv/bin/python benchmarks/crawl_benchmark.py --pages 20000 --repeat 3

What it does:

- generates a site of N pages (100 sections, cross links, a nav repeated on every page, ~7 KB
  of HTML each) and serves it from memory with a minimal asyncio HTTP/1.1 server in a separate
  process, so the server does not share the clients' GIL;
- (a) "bare": one httpx.AsyncClient, `concurrency` workers, GET + LexborHTMLParser + a[href],
  a set of seen URLs: the least a crawler can do;
- (b) "crawler": smo_audit.crawl.Crawler over the shared Fetcher (robots.txt, sitemap probe,
  normalisation, scope, politeness, bounded bodies) with an `on_page` that parses with
  selectolax and returns the links. Other pipelines plug in through PIPELINES (a function that
  returns an on_page), e.g. the full extract + page-rules pipeline;
- each client runs in its own child process so ru_maxrss (peak RSS) belongs to that client
  alone; (b) also runs at --small pages to show that peak memory does not grow with the site.

Prints one line per run and the ratio crawler/bare (target >= 0.6).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SECTIONS = 100
LOREM = (
    "Social previews decide whether a shared link gets a click. This paragraph is filler text "
    "so that pages have a realistic size and the parser has some work to do. "
)

# -- the site -------------------------------------------------------------------------------------


def page_html(index: int, pages: int) -> bytes:
    """Page `index` of the generated site: deterministic, ~7 KB, ~40 links (half repeated nav)."""
    nav = "".join(f'<li><a href="/s/{s}/">Section {s}</a></li>' for s in range(0, SECTIONS, 5))
    cross = "".join(
        f'<li><a href="/p/{(index * 7919 + k * 104729) % pages}.html">Related {k}</a></li>' for k in range(12)
    )
    tracking = f'<a href="/p/{(index + 1) % pages}.html?utm_source=bench#top">next</a>'
    body = "".join(f"<p>{LOREM * 2}</p>" for _ in range(10))
    share = (
        f"<div class=share><a href='https://www.facebook.com/sharer/sharer.php?u=%2Fp%2F{index}.html' aria-label=Facebook>f</a>"
        f"<a href='https://x.com/intent/tweet?url=%2Fp%2F{index}.html'>X</a>"
        f"<a href='mailto:?subject=Page&amp;body=%2Fp%2F{index}.html'>Email</a></div>"
    )
    profiles = (
        "<a href='https://www.instagram.com/benchbrand/' rel=me target=_blank>Instagram</a>"
        "<a href='https://www.facebook.com/benchbrand' target=_blank rel=noopener>Facebook</a>"
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Page {index}</title><meta name=description content='Page {index} of the benchmark'>"
        f"<meta property=og:title content='Page {index}'><meta property=og:description content='About page {index}'>"
        "<meta property=og:type content=article><meta property=og:image content='/img/share.png'>"
        f"<meta property=og:url content='/p/{index}.html'><meta name=twitter:card content=summary_large_image>"
        "<link rel=alternate type='application/rss+xml' href='/feed.xml'>"
        f"<link rel=canonical href='/p/{index}.html'></head><body><header><ul>{nav}</ul></header>"
        f"<main><h1>Page {index}</h1>{body}<ul>{cross}</ul>{tracking}{share}</main>"
        f"<footer><a href='/'>Home</a> <a href='/about.pdf'>PDF</a>{profiles}</footer></body></html>"
    ).encode()


def section_html(section: int, pages: int) -> bytes:
    members = "".join(
        f'<li><a href="/p/{i}.html">Page {i}</a></li>' for i in range(section, pages, SECTIONS)
    )
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>Section {section}</title></head>"
        f"<body><ul>{members}</ul><a href='/'>Home</a></body></html>"
    ).encode()


def build_site(pages: int) -> dict[bytes, bytes]:
    site: dict[bytes, bytes] = {}
    home = "".join(f'<li><a href="/s/{s}/">Section {s}</a></li>' for s in range(SECTIONS))
    site[b"/"] = f"<!doctype html><html><head><meta charset=utf-8><title>Home</title></head><body><ul>{home}</ul></body></html>".encode()
    for s in range(SECTIONS):
        site[f"/s/{s}/".encode()] = section_html(s, pages)
    for i in range(pages):
        site[f"/p/{i}.html".encode()] = page_html(i, pages)
    site[b"/img/share.png"] = _png(1200, 630)
    return site


def _png(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = zlib.compress((b"\x00" + b"\x80" * 3 * width) * height, 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


class _Http(asyncio.Protocol):
    """Just enough HTTP/1.1: GET, keep-alive, Content-Length; 404 for anything unknown."""

    site: dict[bytes, bytes] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            target = head.split(b" ", 2)[1]
            path = target.split(b"?", 1)[0]
            body = self.site.get(path)
            if body is None:
                body, status = b"not found", b"404 Not Found"
                ctype = b"text/plain"
            else:
                status = b"200 OK"
                ctype = b"image/png" if path.endswith(b".png") else b"text/html; charset=utf-8"
            self.transport.write(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype
                + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )


def serve(pages: int) -> None:
    """Child process: serve the generated site until stdin closes."""
    _Http.site = build_site(pages)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Http, "127.0.0.1", 0, backlog=512)
        print(server.sockets[0].getsockname()[1], flush=True)
        await loop.run_in_executor(None, sys.stdin.read)  # returns at EOF: the parent is done
        server.close()

    asyncio.run(main())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"  server CPU time: {usage.ru_utime + usage.ru_stime:.2f} s", file=sys.stderr)


# -- the clients ----------------------------------------------------------------------------------


async def bare_loop(base: str, max_pages: int, concurrency: int) -> int:
    """(a) the least a crawler can do: fetch, parse, collect links, dedupe by string."""
    import httpx
    from selectolax.lexbor import LexborHTMLParser

    seen = {base + "/"}
    queue: asyncio.Queue[str] = asyncio.Queue()
    queue.put_nowait(base + "/")
    pages = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:

        async def worker() -> None:
            nonlocal pages
            while True:
                url = await queue.get()
                try:
                    response = await client.get(url)
                    if response.status_code == 200 and "html" in response.headers.get("content-type", ""):
                        pages += 1
                        tree = LexborHTMLParser(response.text)
                        for node in tree.css("a[href]"):
                            # Same URL set as the crawler's: fragment and (tracking) query dropped.
                            link = urljoin(url, node.attributes.get("href") or "").split("#", 1)[0].split("?", 1)[0]
                            if link.startswith(base) and link not in seen and len(seen) < max_pages:
                                seen.add(link)
                                queue.put_nowait(link)
                finally:
                    queue.task_done()

        workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
        await queue.join()
        for task in workers:
            task.cancel()
    return pages


def links_on_page() -> Callable[[Any], Awaitable[Any]]:
    """(b)'s default pipeline: decode as the extractor does, parse, return links + canonical."""
    from selectolax.lexbor import LexborHTMLParser

    from smo_audit.crawl.models import PageLinks, RawPage
    from smo_audit.extract.decode import decode_html

    async def on_page(page: RawPage) -> PageLinks:
        text, _ = decode_html(page.response.body, page.response.charset)
        tree = LexborHTMLParser(text)
        base = page.final_url
        links = tuple(urljoin(base, n.attributes.get("href") or "") for n in tree.css("a[href]"))
        canonical = tree.css_first("link[rel=canonical]")
        href = canonical.attributes.get("href") if canonical is not None else None
        return PageLinks(links=links, canonical=urljoin(base, href) if href else None)

    return on_page


# The lead adds the full pipeline here, e.g. "full": full_pipeline_on_page.
PIPELINES: dict[str, Callable[[], Callable[[Any], Awaitable[Any]]]] = {"links": links_on_page}


async def crawl_with(
    on_page: Callable[[Any], Awaitable[Any]], base: str, max_pages: int, concurrency: int
) -> int:
    """(b) our Crawler with any on_page; returns the number of pages handed to it."""
    from smo_audit.crawl.crawler import Crawler, CrawlSettings
    from smo_audit.crawl.fetcher import Fetcher

    settings = CrawlSettings(
        base + "/", max_pages=max_pages, max_depth=50, concurrency=concurrency, per_host=concurrency
    )
    errors: list[Any] = []
    async with Fetcher(settings.user_agent, settings.limits, max_connections=concurrency) as fetcher:
        crawler = Crawler(settings, fetcher)
        summary = await crawler.run(on_page, errors.append, lambda url, dup: None)
    if errors:
        print(f"  crawler errors: {len(errors)}, first: {errors[0]}", file=sys.stderr)
    return summary.pages_fetched


async def audit_with(base: str, max_pages: int, concurrency: int) -> int:
    """(c) the whole product: smo_audit.pipeline.Audit, every built-in rule, site rules, report."""
    from smo_audit.config import AuditConfig
    from smo_audit.pipeline import Audit, Target

    config = AuditConfig(max_pages=max_pages, max_depth=50, concurrency=concurrency, quiet=True)
    report = await Audit(Target(base + "/", url=base + "/"), config).run()
    if report.errors:
        print(f"  audit errors: {len(report.errors)}, first: {report.errors[0]}", file=sys.stderr)
    return len(report.pages)


def client(mode: str, base: str, max_pages: int, concurrency: int, pipeline: str) -> None:
    """Child process: run one client, print a JSON line with its numbers."""
    import httpx  # noqa: F401 - imported before measuring the baseline, like the crawler's imports
    from selectolax.lexbor import LexborHTMLParser  # noqa: F401

    import smo_audit.crawl.crawler

    if mode == "audit":
        import smo_audit.pipeline  # noqa: F401 - rules and models load before the baseline too
        from smo_audit.engine.registry import load_rules

        load_rules()

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if mode == "bare":
        pages = asyncio.run(bare_loop(base, max_pages, concurrency))
    elif mode == "audit":
        pages = asyncio.run(audit_with(base, max_pages, concurrency))
    else:
        pages = asyncio.run(crawl_with(PIPELINES[pipeline](), base, max_pages, concurrency))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "mode": mode, "pages": pages, "seconds": seconds, "pages_per_second": pages / seconds,
        "baseline_rss_mb": baseline / 1024, "peak_rss_mb": peak / 1024,
    }))


def _run_client(mode: str, base: str, pages: int, concurrency: int, pipeline: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--client", mode, "--base", base, "--pages", str(pages),
         "--concurrency", str(concurrency), "--pipeline", pipeline],
        check=True, capture_output=True, text=True,
    )
    if out.stderr.strip():
        print(out.stderr.strip(), file=sys.stderr)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--small", type=int, default=1000, help="site size for the memory comparison")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1, help="runs per client; the best is kept")
    parser.add_argument("--pipeline", default="links", choices=sorted(PIPELINES))
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=["bare", "crawler", "audit"], help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return 0
    if args.client:
        client(args.client, args.base, args.pages, args.concurrency, args.pipeline)
        return 0

    def start_server(pages: int) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen([sys.executable, __file__, "--serve", str(pages)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        return proc, f"http://127.0.0.1:{int(proc.stdout.readline())}"

    total = args.pages + SECTIONS + 1  # pages + section pages + home
    print(f"site: {args.pages} pages + {SECTIONS} sections + home, concurrency {args.concurrency}, "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    results: dict[str, dict[str, Any]] = {}
    server, base = start_server(args.pages)
    try:
        for mode in ("bare", "crawler", "audit"):
            runs = [_run_client(mode, base, total, args.concurrency, args.pipeline) for _ in range(args.repeat)]
            best = max(runs, key=lambda r: r["pages_per_second"])
            results[mode] = best
            print(f"({'abc'[('bare', 'crawler', 'audit').index(mode)]}) {mode:8s} {best['pages']:6d} pages  "
                  f"{best['seconds']:6.2f} s  {best['pages_per_second']:7.0f} pages/s  "
                  f"peak RSS {best['peak_rss_mb']:6.1f} MB (baseline {best['baseline_rss_mb']:.1f} MB)")
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=10)
    ratio = results["crawler"]["pages_per_second"] / results["bare"]["pages_per_second"]
    print(f"crawler / bare throughput: {ratio:.2f}x")
    audit_ratio = results["audit"]["pages_per_second"] / results["bare"]["pages_per_second"]
    print(f"full audit / bare throughput: {audit_ratio:.2f}x (target >= 0.6x)")

    small_server, small_base = start_server(args.small)
    try:
        small = _run_client("crawler", small_base, args.small + SECTIONS + 1, args.concurrency, args.pipeline)
        small_audit = _run_client("audit", small_base, args.small + SECTIONS + 1, args.concurrency, args.pipeline)
    finally:
        assert small_server.stdin is not None
        small_server.stdin.close()
        small_server.wait(timeout=10)
    big = results["crawler"]
    growth_small = small["peak_rss_mb"] - small["baseline_rss_mb"]
    growth_big = big["peak_rss_mb"] - big["baseline_rss_mb"]
    print(f"crawler peak RSS growth over baseline: {small['pages']} pages {growth_small:.1f} MB, "
          f"{big['pages']} pages {growth_big:.1f} MB")
    big_audit = results["audit"]
    audit_small = small_audit["peak_rss_mb"] - small_audit["baseline_rss_mb"]
    audit_big = big_audit["peak_rss_mb"] - big_audit["baseline_rss_mb"]
    per_page = (audit_big - audit_small) * 1024 / max(big_audit["pages"] - small_audit["pages"], 1)
    print(f"full audit peak RSS growth over baseline: {small_audit['pages']} pages {audit_small:.1f} MB, "
          f"{big_audit['pages']} pages {audit_big:.1f} MB (~{per_page:.1f} KB kept per page: facts and findings)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
