"""A Hugo-like build with absolute production links, audited as a folder without --base-url:
every file audited, the origin detected from the build's own tags, orphans listed, stable URLs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smo_audit.cli import app
from tests.support.scripted_server import png_bytes

BUILD = Path(__file__).resolve().parents[2] / "fixtures" / "crawl" / "hugo-build"
PROD = "https://www.hugo-blog.example/"
FILES = {  # 404.html aside: the host's error page, not a page of the site
    "index.html", "old-home.html", "landing/spring-sale/index.html", "posts/index.html",
    "posts/page/2/index.html", "posts/hello-world/index.html", "posts/second-post/index.html",
    "posts/third-post/index.html", "tags/index.html", "tags/hugo/index.html",
}


def _audit(folder: Path, *args: str) -> tuple[dict[str, Any], str]:
    result = CliRunner().invoke(app, ["audit", str(folder), "--format", "json", "--workers", "0", *args])
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout), result.stderr


def _primaries(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["source_path"]: p for p in report["pages"] if p["duplicate_of"] is None}


def test_every_file_is_audited_and_the_origin_is_detected_and_announced() -> None:
    report, stderr = _audit(BUILD)
    assert set(_primaries(report)) == FILES, "all 10 pages, reachable by production links or not"
    folder = report["folder"]
    assert (folder["html_files"], folder["audited_files"], folder["not_audited"]) == (10, 10, 0)
    assert (folder["origin"], folder["origin_source"]) == (PROD, "detected")
    assert "10 of 10 pages" in folder["origin_evidence"]
    assert f"production origin {PROD} detected" in stderr and "--base-url overrides it" in stderr
    settings = report["settings"]
    assert (settings["base_url"], settings["base_url_source"], settings["target"]) == (PROD, "detected", str(BUILD))
    assert settings["max_pages"] == 500 and settings["rules_run"] > 20
    assert report["errors"] == [], "production links and the feed were read from the folder, nothing off-site"


def test_orphans_are_listed_as_a_notice_that_does_not_change_the_score(tmp_path: Path) -> None:
    report, _ = _audit(BUILD)
    assert report["folder"]["orphans"] == ["landing/spring-sale/index.html", "old-home.html"]
    (notice,) = [f for f in report["site_findings"] if f["rule"] == "folder-orphans"]
    assert (notice["severity"], notice["status"]) == ("info", "warn")
    assert "2 HTML files" in notice["message"] and "old-home.html" in notice["message"]
    assert notice["evidence"] == report["folder"]["orphans"]
    assert all(c["id"] != "crawl" for c in report["categories"])
    # Linking the orphans removes the notice and nothing else: the score is about SMO, not navigation.
    build = tmp_path / "site"
    shutil.copytree(BUILD, build)
    home = build / "index.html"
    home.write_text(home.read_text().replace(
        "</main>", '<a href="https://www.hugo-blog.example/landing/spring-sale/">Sale</a> <a href="/old-home.html">Old</a></main>'))
    linked, _ = _audit(build)
    assert linked["folder"]["orphans"] == []
    assert not [f for f in linked["site_findings"] if f["rule"] == "folder-orphans"]
    assert linked["score"] == report["score"]


def test_page_urls_are_production_urls_and_stable_across_runs() -> None:
    first, _ = _audit(BUILD, "--quiet")
    second, _ = _audit(BUILD, "--quiet")
    urls = [p["url"] for p in first["pages"]]
    assert sorted(urls) == sorted(p["url"] for p in second["pages"])
    assert _primaries(first)["posts/hello-world/index.html"]["url"] == PROD + "posts/hello-world/"
    assert _primaries(first)["index.html"]["final_url"] == PROD
    text = json.dumps(first)
    assert "127.0.0.1" not in text, "no ephemeral loopback URL anywhere in the report"


def test_base_url_overrides_detection(tmp_path: Path) -> None:
    report, stderr = _audit(BUILD, "--base-url", "https://www.hugo-blog.example")
    assert (report["folder"]["origin_source"], report["settings"]["base_url_source"]) == ("option", "option")
    assert "detected" not in stderr
    assert set(_primaries(report)) == FILES


def test_without_any_origin_urls_are_site_paths_and_every_file_is_still_audited(tmp_path: Path) -> None:
    build = tmp_path / "site"
    shutil.copytree(BUILD, build)
    for page in build.rglob("*.html"):  # a build with no canonical or og:url at all
        text = page.read_text()
        lines = [line for line in text.splitlines() if "canonical" not in line and "og:url" not in line]
        page.write_text("\n".join(lines))
    report, stderr = _audit(build)
    assert "detected" not in stderr
    assert report["folder"]["origin"] is None and report["settings"]["base_url"] is None
    pages = _primaries(report)
    assert set(pages) == FILES, "absolute links lead nowhere, the folder listing still finds every file"
    assert pages["posts/hello-world/index.html"]["url"] == "/posts/hello-world/"
    (notice,) = [f for f in report["site_findings"] if f["rule"] == "folder-orphans"]
    assert "no production origin is known" in notice["message"]


def test_max_pages_bounds_the_folder_audit_and_says_so() -> None:
    report, stderr = _audit(BUILD, "--max-pages", "4")
    folder = report["folder"]
    assert folder["audited_files"] == 4 and folder["not_audited"] == 6
    assert report["partial"] is True and report["stop_reason"] == "max-pages"
    assert "audited 4 of 10 HTML files in the folder: --max-pages 4 stopped the audit" in stderr


def test_the_score_is_judged_against_the_detected_origin(tmp_path: Path) -> None:
    build = tmp_path / "site"
    shutil.copytree(BUILD, build)
    good, _ = _audit(build, "--quiet")
    post = build / "posts" / "second-post" / "index.html"
    post.write_text(post.read_text().replace(
        'og:url" content="https://www.hugo-blog.example/', 'og:url" content="https://staging.hugo-blog.example/'))
    bad, _ = _audit(build, "--quiet")
    assert bad["folder"]["origin"] == PROD, "one page on staging does not move the origin most pages agree on"
    page = _primaries(bad)["posts/second-post/index.html"]
    og_url = next(f for f in page["findings"] if f["rule"] == "og-url")
    assert og_url["status"] == "fail" and "staging" in og_url["message"]
    assert page["score"] < _primaries(good)["posts/second-post/index.html"]["score"]
    assert bad["score"] < good["score"]


def test_terminal_and_markdown_reports_show_the_folder_line() -> None:
    for fmt in ("terminal", "markdown"):
        result = CliRunner().invoke(app, ["audit", str(BUILD), "--format", fmt, "--workers", "0", "--quiet"])
        assert result.exit_code == 0, result.stderr
        text = " ".join(result.stdout.replace("\\", "").split())
        assert "Folder: 10 of 10 HTML files audited" in text, text
        assert "production origin https://www.hugo-blog.example/ (detected from canonical/og:url)" in text
        assert "2 orphans (linked from no page): landing/spring-sale/index.html" in text


def test_a_build_without_a_top_index_page_is_audited_from_its_first_page(tmp_path: Path) -> None:
    for name in ("guide/intro.html", "guide/setup.html", "404.html"):
        page = tmp_path / name
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f'<!doctype html><html lang="en"><head><title>{name}</title></head><body>'
                        '<a href="/guide/setup.html">Setup</a></body></html>')
    report, _ = _audit(tmp_path)
    assert set(_primaries(report)) == {"guide/intro.html", "guide/setup.html"}, "404.html is the host's error page"
    assert report["folder"]["orphans"] == [], "the start page is no orphan, setup.html is linked"


def test_a_cross_posted_canonical_does_not_rename_the_site(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text('<!doctype html><html lang="en"><head><title>Home</title></head><body>'
                                         '<a href="/p1/">1</a> <a href="https://dev.to/acme">dev.to</a></body></html>')
    (tmp_path / "p1").mkdir()
    (tmp_path / "p1" / "index.html").write_text(
        '<!doctype html><html lang="en"><head><title>Post</title>'
        '<link rel="canonical" href="https://dev.to/acme/post-1"></head><body>p1</body></html>')
    report, stderr = _audit(tmp_path)
    assert "detected" not in stderr and report["folder"]["origin"] is None
    assert sorted(p["url"] for p in report["pages"]) == ["/", "/p1/"]
    assert report["errors"] == [], "the link to dev.to is not mapped onto the folder as a missing page"


def _base_path_build(root: Path, prod: str) -> None:
    pages = {"index.html": ("Docs", "/docs/", '<a href="/docs/guide/">Guide</a> <a href="/docs">Home</a>'),
             "guide/index.html": ("Guide", "/docs/guide/", '<a href="/docs/">Home</a>')}
    for name, (title, path, links) in pages.items():
        page = root / name
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f'<!doctype html><html lang="en"><head><title>{title}</title>'
                        f'<meta property="og:title" content="{title}"><meta property="og:image" content="{prod}/docs/og.png">'
                        f'<link rel="canonical" href="{prod}{path}"></head><body>{links}</body></html>')
    (root / "og.png").write_bytes(png_bytes(1200, 630))


def test_root_relative_links_under_the_base_path_are_read_from_the_folder(tmp_path: Path) -> None:
    # Jekyll's relative_url, Hugo, Astro's base, Next's basePath, Eleventy's pathPrefix write these
    _base_path_build(tmp_path, "https://acme.dev")
    for args in ((), ("--base-url", "https://acme.dev/docs/")):
        report, _ = _audit(tmp_path, *args)
        assert report["folder"]["origin"] == "https://acme.dev/docs/"
        assert sorted(p["url"] for p in report["pages"] if p["duplicate_of"] is None) == [
            "https://acme.dev/docs/", "https://acme.dev/docs/guide/"]
        assert report["errors"] == [], "no link became a missing page at the loopback root"
        assert report["folder"]["orphans"] == []
        home = _primaries(report)["index.html"]
        reachable = next(f for f in home["findings"] if f["rule"] == "og-image-reachable")
        assert reachable["status"] == "pass", reachable["message"]


def test_a_file_in_a_top_folder_named_like_the_base_path_is_audited_as_itself(tmp_path: Path) -> None:
    # Under the base path /docs/, a build's own docs/other/index.html (Docusaurus's /docs/ route)
    # that no link reaches: its served URL /docs/other/ was rewritten like a link written with the
    # base path, to /other/, and scored as a missing page (0).
    _base_path_build(tmp_path, "https://acme.dev")
    other = tmp_path / "docs" / "other" / "index.html"
    other.parent.mkdir(parents=True)
    other.write_text('<!doctype html><html lang="en"><head><title>Other</title></head><body>Other</body></html>')
    report, _ = _audit(tmp_path)
    assert report["errors"] == [], "the unlinked file is audited, not a 404"
    assert "docs/other/index.html" in _primaries(report)
    assert report["folder"]["not_audited"] == 0


@pytest.mark.parametrize("spelling", ["https://acme.dev:443", "HTTPS://ACME.DEV", "https://Acme.Dev."])
def test_production_links_spelled_otherwise_are_read_from_the_folder(tmp_path: Path, spelling: str) -> None:
    index = '<!doctype html><html lang="en"><head><title>Home</title><link rel="canonical" href="https://acme.dev/">'
    (tmp_path / "index.html").write_text(index + f'</head><body><a href="{spelling}/about/">About</a></body></html>')
    (tmp_path / "about").mkdir()
    (tmp_path / "about" / "index.html").write_text(
        '<!doctype html><html lang="en"><head><title>About</title><link rel="canonical" href="https://acme.dev/about/">'
        "</head><body>About</body></html>")
    report, _ = _audit(tmp_path)
    assert report["folder"]["orphans"] == [], "the link reached about/index.html: it is no orphan"
    assert report["errors"] == []
