"""The page stage in the parse workers: their rules fetch through the crawl process, once each.

A static audit runs each page's rules in the worker that parsed it (engine/page_audit.py); the
images, robots.txt and feeds the rules ask for are fetched by the crawl process, through its one
fetch policy and cache. These audits are real: a scripted site over loopback HTTP, two workers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from smo_audit.cli import app
from tests.support.scripted_server import ScriptedServer, html, png

PAGES = [f"/p{n}" for n in range(12)]


def _page(n: int, base: str) -> str:
    links = "".join(f'<a href="{p}">{p}</a> ' for p in PAGES)
    image = base + ("/shared.png" if n % 2 else f"/own-{n % 3}.png")
    return (f'<html lang="en"><head><title>Page {n} of the shared-image site</title>'
            f'<meta property="og:title" content="Page {n}"><meta property="og:image" content="{image}">'
            f'<meta property="og:description" content="A page that shares a picture with its siblings.">'
            f'<link rel="canonical" href="{base}/p{n}"></head><body>{links}'
            f'<a href="https://www.facebook.com/sharer/sharer.php?u=/p{n}">Share</a></body></html>')


def _site(base: str) -> dict[str, Any]:
    routes: dict[str, Any] = {"/": html(_page(0, base).replace('/p0"', '/"')),
                              "/shared.png": png(1200, 630), "/robots.txt": "User-agent: *\nAllow: /\n"}
    for n, path in enumerate(PAGES):
        routes[path] = html(_page(n, base))
    for k in range(3):
        routes[f"/own-{k}.png"] = png(1200, 630)
    return routes


def _audit(url: str, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["audit", url, "--format", "json", "--quiet", *args])
    assert result.exit_code in (0, 1), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_worker_rules_fetch_each_resource_once_through_the_crawl_process() -> None:
    with ScriptedServer() as server:
        server.routes.update(_site(server.base_url))
        report = _audit(server.url("/"), "--workers", "2")
        assert len(report["pages"]) == 1 + len(PAGES)
        for path in ("/shared.png", "/own-0.png", "/own-1.png", "/own-2.png"):
            assert server.hits(path) == 1, (path, server.hits(path))
        for path in PAGES:  # the crawl's own fetch; site rules may also ask as facebookexternalhit etc.
            ours = [r for r in server.requests_for(path) if "smo-audit" in r.user_agent]
            assert len(ours) == 1, (path, [r.user_agent for r in server.requests_for(path)])
        shared, own = server.url("/shared.png"), server.url("/own-0.png")
    # The image rules judged the fetched images (not skipped): the answers reached the workers.
    for page in report["pages"]:
        statuses = {f["rule"]: f["status"] for f in page["findings"]}
        assert statuses["og-image-reachable"] == "pass", page["url"]
        assert statuses["og-image-dimensions"] == "pass", page["url"]
    # The HTML report's thumbnails are the images the workers fetched whole, each once.
    assert set(report["thumbnails"]) >= {shared, own}


def test_pages_judged_in_workers_equal_pages_judged_in_process() -> None:
    with ScriptedServer() as server:
        server.routes.update(_site(server.base_url))
        pooled = _audit(server.url("/"), "--workers", "2")
        in_process = _audit(server.url("/"), "--workers", "0")
    assert [p["url"] for p in pooled["pages"]] != []
    strip = ("duration_ms", "elapsed_ms")
    def pages(report: dict[str, Any]) -> dict[str, Any]:
        return {p["url"]: {k: v for k, v in p.items() if k not in strip} for p in report["pages"]}
    assert pages(pooled) == pages(in_process)
    assert pooled["score"] == in_process["score"] and pooled["categories"] == in_process["categories"]
    assert pooled["thumbnails"] == in_process["thumbnails"]


def test_a_plugin_rule_from_a_rules_dir_runs_in_the_workers(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "local.py").write_text('''
from smo_audit.engine.api import page_rule, failed


@page_rule(id="local-title", title="Names the title", category="plugin-checks", severity="info", weight=1)
async def check(ctx):
    """
    ## What it checks
    The title, after fetching the page's og:image through ctx.resources.

    ## Why it matters
    A plugin rule may fetch.

    ## How to fix
    Nothing.
    """
    image = ctx.facts.open_graph.get("og:image")
    resource = await ctx.resources.fetch(image) if image else None
    return failed(f"{ctx.facts.title} / {resource.status if resource else None}")
''')
    with ScriptedServer() as server:
        server.routes.update(_site(server.base_url))
        report = _audit(server.url("/"), "--workers", "2", "--rules-dir", str(rules_dir), "--select", "local-title")
    messages = sorted(p["findings"][0]["message"] for p in report["pages"])
    expected = sorted([f"Page {n} of the shared-image site / 200" for n in range(len(PAGES))]
                      + ["Page 0 of the shared-image site / 200"])  # "/" is page 0 again
    assert messages == expected


def test_rendered_pages_judged_in_workers_equal_pages_judged_in_process() -> None:
    """Rendered mode renders in the crawl process and judges the page in a worker (under the page
    budget): the same findings, scores and rendered facts as judging it in-process."""
    with ScriptedServer() as server:
        routes = _site(server.base_url)
        script = ("<script>var m=document.createElement('meta');m.setAttribute('property','og:video');"
                  "m.setAttribute('content','/v.mp4');document.head.appendChild(m);</script>")
        routes["/p3"] = html(_page(3, server.base_url).replace("</body>", script + "</body>"))
        server.routes.update(routes)
        args = ("--render", "all", "--max-pages", "5", "--viewports", "mobile")
        pooled = _audit(server.url("/"), "--workers", "2", *args)
        in_process = _audit(server.url("/"), "--workers", "0", *args)
    strip = ("duration_ms", "elapsed_ms")

    def pages(report: dict[str, Any]) -> dict[str, Any]:
        return {p["url"]: {k: v for k, v in p.items() if k not in strip} for p in report["pages"]}

    assert len(pooled["pages"]) == 5 and all(p["render"] is not None for p in pooled["pages"])
    assert pages(pooled) == pages(in_process)
    assert pooled["score"] == in_process["score"] and pooled["categories"] == in_process["categories"]
