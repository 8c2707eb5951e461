"""Files of a build that are no pages of the site: the host's 404 page, and paths a `_redirects`
file moves. Neither is scored as a page, and a site that gains one scores the same. Real audits
through the CLI of folders written to tmp_path. (Redirect stubs, an instant <meta http-equiv=
"refresh">, are still audited as pages: see the README's crawl section.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from smo_audit.cli import app

PROD = "https://acme.dev/"
HOME = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme</title>'
        f'<meta property="og:title" content="Acme"><meta property="og:description" content="The Acme site.">'
        f'<meta property="og:url" content="{PROD}"><link rel="canonical" href="{PROD}"></head>'
        '<body><a href="/guide/">Guide</a></body></html>')
GUIDE = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Guide</title>'
         f'<meta property="og:title" content="Guide"><meta property="og:description" content="How to use Acme.">'
         f'<meta property="og:url" content="{PROD}guide/"><link rel="canonical" href="{PROD}guide/"></head>'
         '<body>Guide</body></html>')
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


def test_a_link_to_a_path_the_redirects_file_moves_is_no_missing_page(tmp_path: Path) -> None:
    home = HOME.replace('<a href="/guide/">Guide</a>', '<a href="/docs/guide">Guide</a>')
    _write(tmp_path / "plain", {"index.html": HOME, "guide/index.html": GUIDE})
    _write(tmp_path / "moved", {"index.html": home, "guide/index.html": GUIDE, "_redirects": "/docs/guide /guide/ 301\n"})
    plain, moved = _audit(tmp_path / "plain"), _audit(tmp_path / "moved")
    assert moved["errors"] == [], "Netlify and Cloudflare Pages answer /docs/guide with a redirect, not a 404"
    assert _primaries(moved) == {"index.html", "guide/index.html"}, "the redirect's target, audited once"
    assert moved["score"] == plain["score"] and moved["folder"]["orphans"] == []
