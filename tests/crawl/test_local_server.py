"""Folder targets: the static-host server and crawling a build folder with source paths."""

from __future__ import annotations

import http.client
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smo_audit.crawl.crawler import Crawler, CrawlSettings
from smo_audit.crawl.fetcher import Fetcher, FetchLimits
from smo_audit.crawl.local_server import (
    FolderServer,
    Resolution,
    load_redirects,
    resolve_request,
    serve_folder,
    source_path_for,
)
from smo_audit.errors import TargetError
from tests.crawl._helpers import FIXTURES, Recorder

FOLDER = FIXTURES / "folder"


@pytest.fixture(scope="module")
def served() -> Iterator[FolderServer]:
    with serve_folder(FOLDER) as server:
        yield server


def _get(server: FolderServer, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    host, port = server.base_url.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("path", "status", "ctype", "needle"),
    [
        ("/", 200, "text/html", b"Folder site"),
        ("/index.html", 200, "text/html", b"Folder site"),
        ("/about", 200, "text/html", b"<title>About"),  # about.html, as static hosts do
        ("/about.html", 200, "text/html", b"<title>About"),
        ("/blog/", 200, "text/html", b"<title>Blog"),
        ("/blog/hello-world", 200, "text/html", b"Hello world"),
        ("/assets/style.css", 200, "text/css", b"font-family"),
        ("/assets/logo.png", 200, "image/png", b"\x89PNG"),
        ("/feed.xml", 200, "application/xml", b"<rss"),
        ("/robots.txt", 200, "text/plain", b"User-agent"),
        ("/gone", 404, "text/html", b"This page does not exist"),  # the folder's 404.html
        ("/.env", 404, "text/html", b"does not exist"),  # dot-files are never served
        ("/../pyproject.toml", 404, "text/html", b"does not exist"),
        ("/%2e%2e/pyproject.toml", 404, "text/html", b"does not exist"),
        ("/assets/", 404, "text/html", b"does not exist"),  # no directory listings
    ],
)
def test_static_host_behaviour(served: FolderServer, path: str, status: int, ctype: str, needle: bytes) -> None:
    got_status, headers, body = _get(served, path)
    assert (got_status, headers["content-type"]) == (status, ctype)
    assert needle in body
    assert int(headers["content-length"]) == len(body)


def test_folder_without_slash_redirects(served: FolderServer) -> None:
    status, headers, _ = _get(served, "/docs?x=1")
    assert status == 301
    assert headers["location"] == "/docs/?x=1"


def test_head_has_headers_and_no_body(served: FolderServer) -> None:
    status, headers, body = _get(served, "/about", "HEAD")
    assert status == 200 and int(headers["content-length"]) > 0 and body == b""


def test_keep_alive_and_no_nagle_delay(served: FolderServer) -> None:
    # Headers and body go out in two writes; with Nagle's algorithm and delayed ACKs every
    # request on a kept-alive connection would stall ~40 ms. 30 requests must take far less.
    host, port = served.base_url.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        started = time.monotonic()
        for _ in range(30):
            connection.request("GET", "/about")
            response = connection.getresponse()
            assert response.status == 200
            response.read()
        elapsed = time.monotonic() - started
        sock = connection.sock
        assert sock is not None  # still the same, open connection
    finally:
        connection.close()
    assert elapsed < 0.6, f"30 keep-alive requests took {elapsed:.2f} s"


def test_binds_loopback_only(served: FolderServer) -> None:
    assert served.base_url.startswith("http://127.0.0.1:")
    assert served.base_url.endswith("/")


def test_source_paths(served: FolderServer) -> None:
    base = served.base_url
    assert served.source_path(base) == "index.html"
    assert served.source_path(base + "about") == "about.html"
    assert served.source_path(base + "blog/hello-world?x=1#f") == "blog/hello-world.html"
    assert served.source_path(base + "docs") == "docs/index.html"
    assert served.source_path(base + "gone") is None
    assert served.source_path("http://127.0.0.1:1/about") is None  # another server
    assert served.url_for("blog/index.html") == base + "blog/"
    assert source_path_for(FOLDER, "http://anywhere/about.html") == "about.html"


def test_resolution_refuses_symlinks_out_of_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (tmp_path / "secret.html").write_text("secret")
    (root / "leak.html").symlink_to(tmp_path / "secret.html")
    assert resolve_request(root.resolve(), "/leak.html").kind == "missing"


def test_server_stops_on_exit(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>hi</p>")
    with serve_folder(tmp_path) as server:
        assert _get(server, "/")[0] == 200
        process = server.process
    assert process.poll() is not None
    with pytest.raises(OSError):
        _get(server, "/")


def test_not_a_folder_is_a_target_error(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="not a folder"), serve_folder(tmp_path / "nope"):
        pass


async def test_crawling_a_folder_reports_source_paths(served: FolderServer) -> None:
    settings = CrawlSettings(served.base_url, limits=FetchLimits(1.0, 1.0, 2.0))
    recorder = Recorder()
    async with Fetcher(settings.user_agent, settings.limits) as fetcher:
        crawler = Crawler(settings, fetcher, source_root=FOLDER)
        summary = await crawler.run(recorder.on_page, recorder.on_error, recorder.on_duplicate)
    base = served.base_url.rstrip("/")
    assert {p.url.removeprefix(base): p.source_path for p in recorder.pages.values()} == {
        "/": "index.html",
        "/about": "about.html",
        "/blog/": "blog/index.html",
        "/blog/hello-world": "blog/hello-world.html",
        "/docs": "docs/index.html",  # redirected to /docs/
    }
    assert recorder.pages[base + "/docs"].final_url == base + "/docs/"
    assert recorder.error_kinds(base) == {"/gone": "http-status"}
    assert summary.non_html_skipped == 1  # feed.xml; logo.png is never requested
    # robots.txt names a sitemap on the production domain: not fetched, not an error
    assert summary.sitemaps == (base + "/sitemap.xml",)


def test_a_file_name_that_is_not_utf8_is_served_at_its_percent_encoded_bytes(tmp_path: Path) -> None:
    (tmp_path / os.fsdecode(b"caf\xe9.html")).write_text("<title>Cafe</title>")
    (tmp_path / "café.html").write_text("<title>Café</title>")  # the UTF-8 spelling is another file
    root = tmp_path.resolve()
    latin = resolve_request(root, "/caf%E9.html")
    assert latin.kind == "file" and latin.file is not None and latin.file.read_text() == "<title>Cafe</title>"
    assert source_path_for(root, "http://127.0.0.1:1/caf%E9.html") == "caf\\xe9.html"
    assert source_path_for(root, "http://127.0.0.1:1/caf%C3%A9.html") == "café.html"
    with serve_folder(tmp_path) as server:
        assert server.url_for("caf\\xe9.html") == server.base_url + "caf%E9.html"
        status, _, body = _get(server, "/caf%E9.html")
        assert (status, body) == (200, b"<title>Cafe</title>")


def test_simple_redirects_lines_are_answered_and_the_rest_left_out(tmp_path: Path) -> None:
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "index.html").write_text("<title>New</title>")
    (tmp_path / "kept.html").write_text("<title>Kept</title>")
    (tmp_path / "_redirects").write_text(
        "# Netlify / Cloudflare Pages\n"
        "/older /new/ 301\n/moved /new/   # no status: 301\n/temp https://acme.dev/new/ 302\n"
        "/kept /new/ 301\n"  # a file serves /kept: it wins, as on the hosts by default
        "/blog/* /new/ 301\n/:year/post /new/ 301\n/app/ /index.html 200\n/forced /new/ 301!\n"
        "/store id=:id /new/ 301\n"
        # never another host: a URL, a protocol-relative one, a backslash form; a status int() refuses
        "/away //127.0.0.2/x 302\n/back /\\127.0.0.2/x 302\n/odd /new/ \u00b2\n/long /new/ " + "3" * 5000 + "\n")
    root = tmp_path.resolve()
    redirects = load_redirects(root)
    assert redirects == {"/older": ("/new/", 301), "/moved": ("/new/", 301), "/kept": ("/new/", 301)}
    assert resolve_request(root, "/older/", redirects) == Resolution("redirect", location="/new/", status=301)
    assert resolve_request(root, "/kept", redirects).kind == "file"
    assert resolve_request(root, "/forced", redirects).kind == "missing"
    with serve_folder(tmp_path) as server:  # a status of "²" once stopped the server from starting
        assert _get(server, "/temp")[0] == 404 and _get(server, "/away")[0] == 404
        status, headers, _ = _get(server, "/older")
        assert (status, headers["location"]) == (301, "/new/")


def test_a_404_page_linked_out_of_the_folder_is_not_served(tmp_path: Path) -> None:
    outside = tmp_path / "outside.html"
    outside.write_text("SECRET-OUTSIDE")
    build = tmp_path / "build"
    build.mkdir()
    (build / "index.html").write_text("<title>Home</title>")
    (build / "404.html").symlink_to(outside)
    with serve_folder(build) as server:
        status, _, body = _get(server, "/nope")
    assert status == 404 and b"SECRET-OUTSIDE" not in body
