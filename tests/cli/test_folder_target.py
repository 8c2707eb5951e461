"""Folder targets: a static build served on loopback, production URLs mapped onto it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smo_audit.cli import app
from smo_audit.pipeline import production_to_local
from tests.support.images import png

PROD = "https://prod.example"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="canonical" href="{prod}{path}"><meta property="og:url" content="{prod}{path}">
<meta property="og:title" content="{title}"><meta property="og:image" content="{prod}/share.png">
</head><body>{links}</body></html>"""


def _build(root: Path) -> None:
    links = '<a href="/index.html">Home again</a> <a href="/about">About</a> <a href="{p}/about.html">About (production link)</a>'
    (root / "index.html").write_text(PAGE.format(title="Home", prod=PROD, path="/", links=links.format(p=PROD)))
    (root / "about.html").write_text(PAGE.format(title="About", prod=PROD, path="/about.html", links='<a href="/">Home</a>'))
    (root / "share.png").write_bytes(png(1200, 630))
    (root / "robots.txt").write_text(f"User-agent: *\nAllow: /\nSitemap: {PROD}/sitemap.xml\n")
    (root / "sitemap.xml").write_text(
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{PROD}/about.html</loc>'
        "<lastmod>2026-11-01</lastmod></url></urlset>"
    )


def test_folder_audit_maps_production_urls_and_reports_source_files(tmp_path: Path) -> None:
    _build(tmp_path)
    result = CliRunner().invoke(app, ["audit", str(tmp_path), "--base-url", PROD, "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    audited = {p["source_path"]: p for p in report["pages"] if p["duplicate_of"] is None}
    assert set(audited) == {"index.html", "about.html"}, "one page per file, whatever URL reached it"
    duplicates = [p for p in report["pages"] if p["duplicate_of"] is not None]
    assert all(d["duplicate_of"] == audited["index.html"]["url"] for d in duplicates if d["url"].endswith("/index.html"))
    assert report["errors"] == [], "nothing was fetched off-site: production URLs went to the local copy"
    findings = {f["rule"]: f for f in audited["index.html"]["findings"]}
    assert findings["og-image-reachable"]["status"] == "pass"
    assert findings["og-image-dimensions"]["status"] == "pass"
    preview = audited["index.html"]["preview"]["facebook"]
    assert preview["image"]["width"] == 1200 and preview["image"]["height"] == 630
    assert findings["canonical-host"]["status"] == "pass"


def test_empty_folder_is_not_auditable(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no html here")
    result = CliRunner().invoke(app, ["audit", str(tmp_path), "--quiet"])
    assert result.exit_code == 3 and "contains no HTML files" in result.stderr


def test_folder_audit_never_fetches_other_hosts(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="en"><head><title>T</title><meta property="og:title" content="T">'
        '<meta property="og:image" content="https://cdn.somewhere-else.net/a.png">'
        '<link rel="alternate" type="application/rss+xml" href="https://feeds.somewhere-else.net/rss"></head></html>'
    )
    result = CliRunner().invoke(app, ["audit", str(tmp_path), "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    findings = {f["rule"]: f for f in report["pages"][0]["findings"]}
    assert findings["og-image-reachable"]["status"] == "skip"
    assert "not part of the audited folder" in findings["og-image-reachable"]["message"]
    feed = next(f for f in report["site_findings"] if f["rule"] == "feed-valid")
    assert feed["status"] == "skip" and "not fetched" in feed["message"]
    assert report["pages"][0]["preview"]["facebook"]["verdict"] != "broken"
    assert report["errors"] == []


@pytest.mark.parametrize(("url", "local"), [
    ("https://acme.dev/docs/guide/", "http://127.0.0.1:9/guide/"),
    ("https://acme.dev/docs", "http://127.0.0.1:9/"),
    ("HTTPS://ACME.DEV/docs/guide/?page=2#top", "http://127.0.0.1:9/guide/?page=2#top"),
    ("https://acme.dev:443/docs/guide/", "http://127.0.0.1:9/guide/"),
    ("http://acme.dev./docs/", "http://127.0.0.1:9/"),
    ("http://127.0.0.1:9/docs/guide/", "http://127.0.0.1:9/guide/"),  # /docs/guide/ resolved on loopback
    ("http://127.0.0.1:9/guide/", "http://127.0.0.1:9/guide/"),
    ("https://acme.dev/blog/", "https://acme.dev/blog/"),  # production, but not this build
    ("https://acme.dev:8443/docs/", "https://acme.dev:8443/docs/"),
    ("https://dev.to/docs/", "https://dev.to/docs/"),
])
def test_production_urls_under_the_base_path_map_onto_the_folder(url: str, local: str) -> None:
    assert production_to_local("https://acme.dev/docs/", "http://127.0.0.1:9/")(url) == local
