"""crawl/folder.py: the files of a build, the origin its own tags name, the files nobody links to."""

from __future__ import annotations

from pathlib import Path

import pytest

from smo_audit.crawl.crawler import Crawler, CrawlSettings, CrawlSummary
from smo_audit.crawl.fetcher import Fetcher, FetchLimits
from smo_audit.crawl.folder import (
    Skipped,
    detect_origin,
    html_files,
    list_build,
    orphan_files,
    served_path,
)
from smo_audit.crawl.local_server import serve_folder
from tests.crawl._helpers import Recorder


def _page(root: Path, relative: str, canonical: str | None = None, og_url: str | None = None) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    tags = (f'<link rel="canonical" href="{canonical}">' if canonical else "") + (
        f'<meta property="og:url" content="{og_url}">' if og_url else "")
    path.write_text(f"<!doctype html><html><head><title>t</title>{tags}</head><body>x</body></html>")


def test_html_files_lists_every_page_and_skips_dot_folders_and_escaping_links(tmp_path: Path) -> None:
    root = tmp_path / "public"
    for name in ("index.html", "a/b/index.html", "about.htm", "UPPER.HTML", ".git/x.html", ".draft.html"):
        _page(root, name)
    (root / "style.css").write_text("body{}")
    outside = tmp_path / "secret.html"
    outside.write_text("<html></html>")
    (root / "link.html").symlink_to(outside)
    (root / "inside.html").symlink_to(root / "about.htm")
    assert html_files(root) == ["UPPER.HTML", "a/b/index.html", "about.htm", "index.html", "inside.html"]


def test_a_symlink_loop_is_skipped_with_its_reason(tmp_path: Path) -> None:
    _page(tmp_path, "index.html")
    (tmp_path / "a.html").symlink_to("b.html")
    (tmp_path / "b.html").symlink_to("a.html")
    listing = list_build(tmp_path)
    assert listing.files == ["index.html"]
    assert listing.skipped == [Skipped("a.html", "its symbolic links form a loop"),
                               Skipped("b.html", "its symbolic links form a loop")]


@pytest.mark.parametrize(("relative", "served"), [
    ("index.html", "/"), ("blog/index.html", "/blog/"), ("about.html", "/about.html"),
    ("a b/ü.html", "/a%20b/%C3%BC.html"), ("caf\\xe9.html", "/caf%E9.html"),  # a Latin-1 name, as listed
])
def test_served_path(relative: str, served: str) -> None:
    assert served_path(relative) == served


def test_detect_origin_takes_the_base_most_pages_agree_on(tmp_path: Path) -> None:
    _page(tmp_path, "index.html", "https://example.com/")
    _page(tmp_path, "post/index.html", "https://example.com/post/", "https://example.com/post/")
    _page(tmp_path, "about.html", og_url="https://example.com/about")  # pretty URL of about.html
    _page(tmp_path, "other.html", "https://mirror.example.net/other.html")
    _page(tmp_path, "plain.html")
    detected = detect_origin(tmp_path, html_files(tmp_path))
    assert detected is not None
    assert detected.base_url == "https://example.com/"
    assert (detected.agreeing, detected.tagged, detected.sampled) == (3, 4, 5)
    assert "3 of 4 pages" in detected.evidence()


def test_detect_origin_finds_the_base_path_of_a_site_in_a_subfolder(tmp_path: Path) -> None:
    _page(tmp_path, "index.html", "https://example.com/blog/")
    _page(tmp_path, "post/index.html", "https://example.com/blog/post/")
    _page(tmp_path, "tags/index.html", og_url="https://EXAMPLE.com:443/blog/tags/")
    detected = detect_origin(tmp_path, html_files(tmp_path))
    assert detected is not None and detected.base_url == "https://example.com/blog/"


def test_a_cross_posted_canonical_is_no_origin(tmp_path: Path) -> None:
    # A post republished on dev.to names the copy there as canonical: its path is not the file's
    _page(tmp_path, "index.html")
    _page(tmp_path, "p1/index.html", "https://dev.to/acme/post-1")
    _page(tmp_path, "p2/index.html")
    assert detect_origin(tmp_path, html_files(tmp_path)) is None
    # ... and does not outvote the site's own tags either, even when they are fewer
    _page(tmp_path, "p3/index.html", "https://dev.to/acme/post-3")
    _page(tmp_path, "p2/index.html", og_url="https://acme.example/p2/")
    _page(tmp_path, "café/index.html", "https://acme.example/café/")  # its file, spelled unencoded
    detected = detect_origin(tmp_path, html_files(tmp_path))
    assert detected is not None and detected.base_url == "https://acme.example/"
    assert (detected.agreeing, detected.tagged) == (2, 4)


def test_detect_origin_never_takes_a_development_server_for_production(tmp_path: Path) -> None:
    _page(tmp_path, "index.html", "http://localhost:1313/")
    _page(tmp_path, "a.html", "http://127.0.0.1:8080/a.html")
    _page(tmp_path, "b.html", "/b.html")  # relative: names no origin
    assert detect_origin(tmp_path, html_files(tmp_path)) is None


def test_detect_origin_reads_a_bounded_sample(tmp_path: Path) -> None:
    for i in range(30):
        _page(tmp_path, f"p{i:02}.html", f"https://example.org/p{i:02}.html")
    detected = detect_origin(tmp_path, html_files(tmp_path), sample=7)
    assert detected is not None and detected.sampled == 7 and detected.agreeing == 7


def test_orphans_are_audited_files_nobody_links_to() -> None:
    audited = ["index.html", "a.html", "b.html", "404.html", "sub/404.html"]
    assert orphan_files(audited, linked=["a.html", "index.html"], start="index.html") == ["b.html"]
    assert orphan_files(audited, linked=[], start="index.html") == ["a.html", "b.html"]


# -- the crawler with a build's inventory, over the real folder server ----------------------------

def _small_build(root: Path) -> None:
    def write(relative: str, body: str) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<!doctype html><html><head><title>{relative}</title></head><body>{body}</body></html>")

    write("index.html", '<a href="/about">About</a> <a href="/blog/">Blog</a>')
    write("about.html", '<a href="/">Home</a>')
    write("blog/index.html", '<a href="/blog/post.html">Post</a>')
    write("blog/post.html", "")
    write("unlinked.html", '<a href="/also-unlinked/">Next</a>')
    write("also-unlinked/index.html", "")
    write("404.html", "")


async def _crawl(root: Path, **overrides: object) -> tuple[Recorder, Crawler, CrawlSummary, str]:
    with serve_folder(root) as server:
        inventory = tuple(server.base_url + served_path(f)[1:] for f in html_files(root))
        settings = CrawlSettings(server.base_url, limits=FetchLimits(2.0, 2.0, 4.0), inventory=inventory,
                                 **overrides)  # type: ignore[arg-type]
        recorder = Recorder()
        async with Fetcher(settings.user_agent, settings.limits) as fetcher:
            crawler = Crawler(settings, fetcher, source_root=root)
            summary = await crawler.run(recorder.on_page, recorder.on_error, recorder.on_duplicate)
        return recorder, crawler, summary, server.base_url


async def test_the_inventory_audits_unlinked_files_once_after_the_links(tmp_path: Path) -> None:
    _small_build(tmp_path)
    recorder, crawler, summary, base = await _crawl(tmp_path)
    sources = [recorder.pages[url].source_path or "" for url in recorder.order]
    assert sorted(sources) == sorted(html_files(tmp_path)), "every file, each exactly once"
    linked_first = {"index.html", "about.html", "blog/index.html", "blog/post.html"}
    assert set(sources[:4]) == linked_first, "links are followed before the inventory"
    assert base + "about.html" not in recorder.pages, "about.html was audited as /about: not fetched again"
    # a page linked only from an orphan is linked; the orphan itself and the 404 page are not
    assert crawler.linked_sources() == linked_first | {"also-unlinked/index.html"}  # index.html: from about
    assert orphan_files(sources, crawler.linked_sources(), "index.html") == ["unlinked.html"]
    assert summary.partial is False and summary.inventory_left == 0


async def test_max_pages_bounds_the_inventory_and_counts_what_it_left(tmp_path: Path) -> None:
    _small_build(tmp_path)
    recorder, _, summary, _ = await _crawl(tmp_path, max_pages=5)
    assert len(recorder.pages) == 5
    assert summary.stop_reason == "max-pages" and summary.inventory_left == 2


async def test_exclude_patterns_apply_to_the_inventory(tmp_path: Path) -> None:
    _small_build(tmp_path)
    recorder, _, _, _ = await _crawl(tmp_path, exclude=("/also-unlinked/*", "/unlinked.html"))
    assert {p.source_path for p in recorder.pages.values()} == {
        "index.html", "about.html", "blog/index.html", "blog/post.html", "404.html"}
