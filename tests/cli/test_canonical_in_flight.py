"""A page naming as canonical a page still being audited waits for that page's own canonical: when
that one names yet another page (a chain), the first is not its duplicate. Before, the crawler
took a page in the pipeline for its own canonical, so X became Y's duplicate or not depending on
timing (a review's repro; here Y's preview image is slow, and X comes while Y waits for it)."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from smo_audit.cli import app
from tests.support.scripted_server import Reply, html, png


def _page(base: str, title: str, canonical: str, extra: str = "") -> Reply:
    return html(f'<!doctype html><html lang="en"><head><title>{title}</title>'
                f'<meta property="og:title" content="{title}"><link rel="canonical" href="{base}{canonical}">'
                f'{extra}</head><body><main><h1>{title}</h1><p>{"Words. " * 30}</p></main></body></html>')


def test_a_page_naming_a_page_in_the_pipeline_waits_for_its_canonical(scripted_server) -> None:
    server = scripted_server({})
    base = server.base_url.rstrip("/")
    server.routes["/"] = html('<!doctype html><html lang="en"><head><title>Home</title></head><body>'
                              '<a href="/y">Y</a> <a href="/x">X</a> <a href="/z">Z</a></body></html>')
    # X and Y look alike when shared; Y names Z, so X -> Y -> Z is a chain, not a duplicate
    server.routes["/y"] = _page(base, "Same", "/z", f'<meta name="twitter:image" content="{base}/slow.png">')
    server.routes["/x"] = _page(base, "Same", "/y")
    server.routes["/x"].delay = 0.5  # fetched while Y's rules wait for its image
    server.routes["/z"] = _page(base, "Zed", "/z")
    image = png(1200, 630)
    image.delay = 2.0
    server.routes["/slow.png"] = image
    result = CliRunner().invoke(app, ["audit", server.url("/"), "--format", "json", "--quiet", "--workers", "0"])
    assert result.exit_code in (0, 1), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    duplicates = {p["url"]: p["duplicate_of"] for p in report["pages"] if p["duplicate_of"]}
    assert duplicates == {}
    assert {p["url"] for p in report["pages"]} >= {server.url("/x"), server.url("/y")}
