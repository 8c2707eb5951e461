"""Files of a build that are no pages of the site: the host's 404 page and redirect stubs (Hugo
aliases, Jekyll redirect_from: an instant <meta http-equiv="refresh">). Neither is scored as a
page, and a site that gains one scores the same. Real audits through the CLI of folders written to
tmp_path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from smo_audit.cli import app
from tests.support.scripted_server import html

PROD = "https://acme.dev/"
HOME = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme</title>'
        f'<meta property="og:title" content="Acme"><meta property="og:description" content="The Acme site.">'
        f'<meta property="og:url" content="{PROD}"><link rel="canonical" href="{PROD}"></head>'
        '<body><a href="/guide/">Guide</a></body></html>')
GUIDE = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Guide</title>'
         f'<meta property="og:title" content="Guide"><meta property="og:description" content="How to use Acme.">'
         f'<meta property="og:url" content="{PROD}guide/"><link rel="canonical" href="{PROD}guide/"></head>'
         '<body>Guide</body></html>')
# What Hugo writes for an alias (and jekyll-redirect-from for redirect_from) of /guide/
STUB = (f'<!DOCTYPE html><html lang="en-us"><head><title>{PROD}guide/</title>'
        f'<link rel="canonical" href="{PROD}guide/"><meta name="robots" content="noindex"><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0; url={PROD}guide/"></head></html>')
NOT_FOUND = '<!doctype html><html lang="en"><head><title>Not found</title></head><body>Nothing here.</body></html>'


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _audit(folder: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["audit", str(folder), "--format", "json", "--workers", "0", "--quiet"])
    assert result.exit_code == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _primaries(report: dict[str, Any]) -> set[str]:
    return {p["source_path"] for p in report["pages"] if p["duplicate_of"] is None}


def test_the_hosts_404_page_is_not_scored_as_a_page(tmp_path: Path) -> None:
    _write(tmp_path / "plain", {"index.html": HOME, "guide/index.html": GUIDE})
    _write(tmp_path / "with-404", {"index.html": HOME, "guide/index.html": GUIDE, "404.html": NOT_FOUND})
    plain, with_404 = _audit(tmp_path / "plain"), _audit(tmp_path / "with-404")
    assert _primaries(with_404) == {"index.html", "guide/index.html"}
    assert with_404["score"] == plain["score"], "the error page of the host is not a weak page of the site"
    assert with_404["folder"]["not_audited"] == 0 and with_404["folder"]["orphans"] == []


def test_a_redirect_stub_counts_as_a_redirect_to_its_target(tmp_path: Path) -> None:
    _write(tmp_path / "plain", {"index.html": HOME, "guide/index.html": GUIDE})
    _write(tmp_path / "stub", {"index.html": HOME, "guide/index.html": GUIDE, "old-guide/index.html": STUB})
    plain, stubbed = _audit(tmp_path / "plain"), _audit(tmp_path / "stub")
    assert _primaries(stubbed) == {"index.html", "guide/index.html"}
    (stub,) = [p for p in stubbed["pages"] if p["url"] == PROD + "old-guide/"]
    assert stub["duplicate_of"] == PROD + "guide/" and stub["score"] is None
    assert stubbed["score"] == plain["score"], "a site that gains an alias of a page does not lose score"
    folder = stubbed["folder"]
    assert (folder["audited_files"], folder["not_audited"], folder["orphans"]) == (3, 0, [])


def test_a_stub_to_a_page_no_link_reaches_still_audits_the_page(tmp_path: Path) -> None:
    # Relative target, single-quoted, no space: the forms Jekyll and hand-written stubs use
    stub = STUB.replace(f"0; url={PROD}guide/", "0;URL='/guide/'")
    home = HOME.replace('<a href="/guide/">Guide</a>', "")
    _write(tmp_path, {"index.html": home, "guide/index.html": GUIDE, "old.html": stub})
    report = _audit(tmp_path)
    assert _primaries(report) == {"index.html", "guide/index.html"}
    assert [p["duplicate_of"] for p in report["pages"] if p["url"] == PROD + "old.html"] == [PROD + "guide/"]


def test_a_refresh_after_a_delay_is_a_page(tmp_path: Path) -> None:
    # A page shown for ten seconds before it moves on is seen and shared: it stays a page
    slow = GUIDE.replace("<title>Guide</title>", f'<title>Guide</title><meta http-equiv="refresh" content="10; url={PROD}">')
    _write(tmp_path, {"index.html": HOME, "guide/index.html": slow})
    assert _primaries(_audit(tmp_path)) == {"index.html", "guide/index.html"}


def test_a_live_sites_redirect_stub_is_a_redirect_too(scripted_server) -> None:
    server = scripted_server({})
    home = HOME.replace(PROD, server.url("/")).replace('<a href="/guide/">Guide</a>', '<a href="/old/">Guide</a>')
    server.routes["/"] = html(home)
    server.routes["/old/"] = html(STUB.replace(PROD, server.url("/")))
    server.routes["/guide/"] = html(GUIDE.replace(PROD, server.url("/")))
    result = CliRunner().invoke(app, ["audit", server.url("/"), "--format", "json", "--workers", "0", "--quiet"])
    assert result.exit_code == 0, result.stderr
    pages = {p["url"]: p for p in json.loads(result.stdout)["pages"]}
    assert pages[server.url("/old/")]["duplicate_of"] == server.url("/guide/")
    assert pages[server.url("/guide/")]["duplicate_of"] is None and pages[server.url("/guide/")]["score"] is not None


def test_a_link_to_a_path_the_redirects_file_moves_is_no_missing_page(tmp_path: Path) -> None:
    home = HOME.replace('<a href="/guide/">Guide</a>', '<a href="/docs/guide">Guide</a>')
    _write(tmp_path / "plain", {"index.html": HOME, "guide/index.html": GUIDE})
    _write(tmp_path / "moved", {"index.html": home, "guide/index.html": GUIDE, "_redirects": "/docs/guide /guide/ 301\n"})
    plain, moved = _audit(tmp_path / "plain"), _audit(tmp_path / "moved")
    assert moved["errors"] == [], "Netlify and Cloudflare Pages answer /docs/guide with a redirect, not a 404"
    assert _primaries(moved) == {"index.html", "guide/index.html"}, "the redirect's target, audited once"
    assert moved["score"] == plain["score"] and moved["folder"]["orphans"] == []
