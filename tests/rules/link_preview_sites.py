"""Scripted loopback sites for link-preview rule cases a folder of files cannot express.

Each function takes the server's base URL (known only once it listens) and returns
ScriptedServer routes; cases name them as `routes = "tests.rules.link_preview_sites:<function>"`.
Every URL in them is on the scripted server itself, so nothing leaves 127.0.0.1.
"""

from __future__ import annotations

from tests.support.scripted_server import (
    Reply,
    Route,
    by_user_agent,
    html,
    png,
    png_bytes,
    redirect,
)

TITLE = "Ten waterproof jackets tested in Scottish rain"
DESCRIPTION = "We wore ten waterproof jackets through a wet Highland week; here is what kept us dry."


def preview_page(base: str, path: str, *, image: str = "/img/share.png", title: str = TITLE,
                 tags: bool = True, before_tags: str = "") -> str:
    """A complete page whose og:url/canonical name its own scripted URL."""
    url = base + path
    head = ""
    if tags:
        head = (f'<link rel="canonical" href="{url}">\n'
                f'<meta property="og:title" content="{title}">\n'
                f'<meta property="og:description" content="{DESCRIPTION}">\n'
                f'<meta property="og:url" content="{url}">\n'
                f'<meta property="og:image" content="{base}{image}">\n'
                '<meta name="twitter:card" content="summary_large_image">\n')
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">{before_tags}<title>{title}</title>\n'
            f"{head}</head><body><p>Body.</p></body></html>\n")


def cloaking(base: str) -> dict[str, Route]:
    """Pages that answer facebookexternalhit or Twitterbot differently from a browser."""
    normal = {path: preview_page(base, path) for path in ("/blocked/", "/stripped/", "/retitled/", "/prerendered/")}
    return {
        "/img/share.png": png(1200, 630),
        # a bot-protection rule answering the Facebook crawler with 403
        "/blocked/": by_user_agent({"facebookexternalhit": Reply(403, {"content-type": "text/html"}, "<h1>Denied</h1>")},
                                   default=html(normal["/blocked/"])),
        # Twitterbot gets a challenge page without any preview tags
        "/stripped/": by_user_agent({"twitterbot": html(preview_page(base, "/stripped/", tags=False))},
                                    default=html(normal["/stripped/"])),
        # the Facebook crawler gets another title (cloaking)
        "/retitled/": by_user_agent({"facebookexternalhit": html(preview_page(base, "/retitled/", title="Buy now!"))},
                                    default=html(normal["/retitled/"])),
        # a pre-rendering service: bots get the tags, a browser-like fetch gets an empty shell
        "/prerendered/": by_user_agent(
            {"facebookexternalhit": html(normal["/prerendered/"]), "twitterbot": html(normal["/prerendered/"])},
            default=html(preview_page(base, "/prerendered/", tags=False)),
        ),
    }


def heavy_images(base: str) -> dict[str, Route]:
    """Images that are heavy, huge, or reached through a redirect."""
    return {
        "/whatsapp-heavy/": html(preview_page(base, "/whatsapp-heavy/", image="/img/heavy.png")),
        "/img/heavy.png": png(1200, 630, extra_bytes=400 * 1024),
        "/huge-file/": html(preview_page(base, "/huge-file/", image="/img/nine-megabytes.png")),
        "/img/nine-megabytes.png": Reply(200, {"content-type": "image/png"},
                                         png_bytes(1200, 630, extra_bytes=9 * 1024 * 1024)),
        "/redirected/": html(preview_page(base, "/redirected/", image="/img/old-share.png")),
        "/img/old-share.png": redirect("/img/new-share.png"),
        "/img/new-share.png": png(1200, 630),
    }


def late_tags(base: str) -> dict[str, Route]:
    """A page whose preview tags come after 1.1 MB of inlined CSS."""
    css = "<style>" + "".join(f".c{i}{{margin:{i % 9}px}}" for i in range(75_000)) + "</style>"
    assert len(css) > 1_100_000
    return {
        "/late-for-facebook/": html(preview_page(base, "/late-for-facebook/", before_tags=css)),
        "/img/share.png": png(1200, 630),
    }
