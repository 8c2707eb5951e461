"""A fixture site for sharded audits, and how their reports are compared.

Posts with and without share buttons and og:image, a sign-in form on one (a site rule reads it),
a feed, a share image, robots.txt naming a sitemap of every page. `comparable` keeps what a
merged report must share with the one-process report: pages, findings, scores, site findings,
errors (timestamps and timings aside).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tests.support.scripted_server import ScriptedServer, html, png, text


def _page(base: str, path: str, index: int, count: int) -> str:
    share = "" if index % 5 == 0 else (
        f'<a href="https://www.facebook.com/sharer/sharer.php?u={base}{path}">Share on Facebook</a>'
        f'<a href="https://twitter.com/intent/tweet?url={base}{path}">Post on X</a>')
    image = "" if index % 4 == 0 else f'<meta property="og:image" content="{base}/og.png">'
    signin = '<form method="post"><input name="u"><input type="password" name="p"></form>' if index == 3 else ""
    return (f'<!doctype html><html lang="en"><head><title>Post {index}</title>'
            f'<link rel="canonical" href="{base}{path}">'
            f'<meta property="og:title" content="Post {index}"><meta property="og:type" content="article">'
            f'<meta property="og:url" content="{base}{path}">{image}'
            f'<meta name="twitter:card" content="summary_large_image">'
            f'<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body><main>'
            f'<article><h1>Post {index}</h1><p>{"Words. " * 40}</p>{share}</article>{signin}'
            f'<a href="/post-{(index + 1) % count}/">next</a></main>'
            f'<footer><a href="https://x.com/northwind">X</a> <a href="https://www.instagram.com/northwind/">Instagram'
            f'</a></footer></body></html>')


def build_site(server: ScriptedServer, posts: int) -> list[str]:
    """Route the site on `server`; return the paths of its HTML pages (home first)."""
    base = server.base_url.rstrip("/")
    paths = [f"/post-{i}/" for i in range(posts)]
    server.routes["/"] = html(_page(base, "/", 99, posts).replace("Post 99", "Home"))
    for index, path in enumerate(paths):
        server.routes[path] = html(_page(base, path, index, posts))
    urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in ["/", *paths])
    server.routes["/sitemap.xml"] = text(f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                                         f'sitemap/0.9">{urls}</urlset>', "application/xml")
    server.routes["/robots.txt"] = text(f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n")
    server.routes["/og.png"] = png(1200, 630)
    server.routes["/feed.xml"] = text('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
                                      "application/rss+xml")
    return ["/", *paths]


def page_hits(server: ScriptedServer, since: int, pages: list[str]) -> Counter[str]:
    """How often the crawler (not the site rules' bot fetches) requested each page since request `since`."""
    wanted = set(pages)
    return Counter(r.path for r in server.requests[since:] if r.path in wanted and r.method == "GET"
                   and "smo-audit" in r.user_agent)


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    pages = {p["url"]: (p["score"], p["status"], p["duplicate_of"],
                        sorted((f["rule"], f["status"], f["message"]) for f in p["findings"]), p["facts"])
             for p in report["pages"]}
    return {
        "pages": pages, "score": report["score"], "categories": report["categories"],
        # evidence lists pages in audit order, which differs between one crawl and merged parts
        "site_findings": sorted(json.dumps({**f, "evidence": sorted(f["evidence"])}, sort_keys=True)
                                for f in report["site_findings"]),
        "fix_first": report["fix_first"], "errors": sorted(json.dumps(e, sort_keys=True) for e in report["errors"]),
        "partial": report["partial"],
    }
