"""Scripted loopback sites for profile, distribution and sign-in rule cases.

Each function takes the server's base URL and returns ScriptedServer routes; cases name them as
`routes = "tests.rules.social_sites:<function>"`. Every URL in them is on the scripted server
itself (profiles are fediverse-style /@name links with rel="me"), so nothing leaves 127.0.0.1.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.scripted_server import Route, html, png, redirect, text


def _page(title: str, body: str, head: str = "", footer: str = "") -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>\n{head}'
            f"</head><body><main><h1>{title}</h1>{body}</main><footer>{footer}</footer></body></html>\n")


def _profile_page(*handles: str) -> str:
    links = " ".join(f'<a rel="me" href="/@{h}">Mastodon {h}</a>' for h in handles)
    return _page("ACME", "<p>Welcome.</p>", footer=links)


def profiles_to_verify(base: str) -> dict[str, Route]:
    """Profiles that exist (/@acme), are gone (/@gone) or sit behind a login wall (/@walled)."""
    return {
        "/ok/": html(_profile_page("acme")),
        "/gone/": html(_profile_page("gone")),
        "/walled/": html(_profile_page("walled")),
        "/@acme": html(_page("acme on Mastodon", "<p>Posts.</p>")),
        "/@gone": html(_page("Not found", ""), status=404),
        "/@walled": redirect(base + "/auth/sign_in", status=302),
        "/auth/sign_in": html(_page("Log in", '<form><input type="password" name="p"></form>')),
    }


def _sitemap(entries: list[tuple[str, str]]) -> str:
    urls = "".join(f"<url><loc>{loc}</loc><lastmod>{lastmod}</lastmod></url>" for loc, lastmod in entries)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'


def _days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


def _sitemap_site(base: str, lastmods: list[str]) -> dict[str, Route]:
    entries = [(f"{base}/page-{i}/", lastmod) for i, lastmod in enumerate(lastmods)]
    routes: dict[str, Route] = {
        "/": html(_page("Home", "<p>Home.</p>")),
        "/robots.txt": text(f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n"),
        "/sitemap.xml": text(_sitemap(entries), "application/xml"),
    }
    routes.update({f"/page-{i}/": html(_page(f"Page {i}", "")) for i in range(len(lastmods))})
    return routes


def sitemap_fresh(base: str) -> dict[str, Route]:
    return _sitemap_site(base, [_days_ago(3), _days_ago(40), _days_ago(400)])


def sitemap_stale(base: str) -> dict[str, Route]:
    return _sitemap_site(base, ["2019-05-01", "2018-01-01T10:00:00+00:00"])


def sitemap_build_stamp(base: str) -> dict[str, Route]:
    stamp = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat()
    return _sitemap_site(base, [stamp] * 6)


def rss_absolute(base: str) -> dict[str, Route]:
    """An RSS 2.0 feed with absolute item links, one to a page without og:image."""
    def article(title: str, image: bool) -> str:
        head = (f'<meta property="og:type" content="article"><meta property="og:title" content="{title}">'
                '<link rel="alternate" type="application/rss+xml" href="/feed.rss">')
        if image:
            head += f'<meta property="og:image" content="{base}/img.png">'
        return _page(title, "<p>Text.</p>", head)

    feed = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>ACME</title><link>{base}/</link>'
            f"<item><title>With image</title><link>{base}/posts/with-image/</link></item>"
            f"<item><title>Without image</title><link>{base}/posts/without-image/</link></item>"
            "<item><title>Elsewhere</title><link>https://example.com/posts/elsewhere/</link></item>"
            "</channel></rss>")
    return {
        "/": html(_page("ACME blog", '<a href="/posts/with-image/">1</a> <a href="/posts/without-image/">2</a>',
                        '<link rel="alternate" type="application/rss+xml" href="/feed.rss">')),
        "/posts/with-image/": html(article("With image", True)),
        "/posts/without-image/": html(article("Without image", False)),
        "/feed.rss": text(feed, "application/rss+xml"),
        "/img.png": png(1200, 630),
    }


def feed_as_html(base: str) -> dict[str, Route]:
    """A valid RSS feed served as text/html."""
    feed = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>ACME</title>'
            f"<item><title>A</title><link>{base}/a/</link></item></channel></rss>")
    return {
        "/": html(_page("ACME blog", "", '<link rel="alternate" type="application/rss+xml" href="/feed">')),
        "/feed": html(feed),
    }
