"""A linked URL named like an HTML page (`/about.html`) but served as something else is a broken
page: browsers download it, crawlers show no preview. It is reported and counts as a page scoring
0; a linked PDF or image is no page and neither. Real audits of a scripted loopback site."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from smo_audit.cli import app
from tests.support.scripted_server import Reply, html, redirect, text

WEAK = "<!doctype html><html lang='en'><head><title>About us</title></head><body><p>About.</p></body></html>"


def _home(base: str) -> Reply:
    return html(f"""<!doctype html><html lang="en"><head><title>Home</title>
<meta property="og:title" content="Home"><meta property="og:description" content="The home page of the site.">
<meta property="og:url" content="{base}/"><link rel="canonical" href="{base}/"></head>
<body><a href="/about.html">About</a> <a href="/report.pdf">Report</a></body></html>""")


def _audit(url: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["audit", url, "--format", "json", "--quiet", "--workers", "0"])
    assert result.exit_code in (0, 1), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.parametrize("about", ["html", "download", "redirect to a PDF", "XML"])
def test_an_html_url_served_as_a_download_is_a_broken_page(scripted_server, about: str) -> None:
    server = scripted_server({})
    server.routes["/"] = _home(server.base_url.rstrip("/"))
    server.routes["/report.pdf"] = text("%PDF-1.4", "application/pdf")
    server.routes["/about.html"] = {
        "html": html(WEAK), "download": text(WEAK, "application/octet-stream"),
        "redirect to a PDF": redirect(server.url("/report.pdf")),  # a link renamed: the PDF opens
        "XML": text(WEAK, "application/xml"),  # browsers show it
    }[about]
    report = _audit(server.url("/"))
    errors = {e["url"]: e["kind"] for e in report["errors"]}
    assert server.url("/report.pdf") not in errors  # a document, not a page
    pages = {p["url"] for p in report["pages"]}
    if about == "download":
        assert errors == {server.url("/about.html"): "not-html"}
        assert server.url("/about.html") not in pages
    else:
        assert errors == {}
        assert (server.url("/about.html") in pages) == (about == "html")


def test_serving_a_page_as_a_download_never_raises_the_score(scripted_server) -> None:
    """A review's repro: the weak page left the mean when it was served as a download (87.5 -> 98.6)."""
    server = scripted_server({})
    server.routes["/"] = _home(server.base_url.rstrip("/"))
    server.routes["/report.pdf"] = text("%PDF-1.4", "application/pdf")
    server.routes["/about.html"] = html(WEAK)
    served = _audit(server.url("/"))["score"]
    server.routes["/about.html"] = text(WEAK, "application/octet-stream")
    downloaded = _audit(server.url("/"))["score"]
    assert downloaded <= served, (downloaded, served)
