"""A deterministic benchmark site: N realistic HTML pages, a sitemap, robots.txt and share images.

Same N, same bytes, every run. Each article page is 30-60 KB of HTML with what real pages carry:
a head full of Open Graph / X tags, JSON-LD (Article, BreadcrumbList, Organization with sameAs),
analytics and consent scripts (inline and external), an inline stylesheet, a navigation bar, a
share bar (Facebook, X, LinkedIn, WhatsApp, e-mail), related links, a profile footer, a comment
thread on some pages, a sign-in link on some, and on every tenth page an Open Graph tag injected by
JavaScript (which static mode cannot see). Every twentieth page has no og:image (a real finding).

Pages are stored as lists of byte chunks that share the big, repeated parts (paragraphs, the
stylesheet, the footer), so a 10,000-page site costs the server process tens of MB, not 450 MB,
and serving a page is one `writelines` call: the server is never the bottleneck.

Site layout for N pages (N counts every HTML page, home and sections included):
  /                    home: links to every section
  /s/<k>/              SECTIONS section pages, each listing its articles
  /p/<i>.html          N - 1 - SECTIONS articles
  /sitemap.xml         every HTML page;  /robots.txt names it
  /img/share-<k>.png   a few 1200x630 PNGs (og:image)
"""

from __future__ import annotations

import struct
import zlib

SECTIONS = 40
IMAGES = 4
PARAGRAPH_VARIANTS = 64
HOST_PLACEHOLDER = "http://bench.invalid"  # replaced by the server's base URL at build time

_WORDS = ["share", "preview", "title", "description", "image", "card", "link", "social", "network", "audience", "click", "caption", "brand", "profile", "follow", "comment", "thread", "article", "publish", "author", "editor", "newsletter", "reader", "campaign", "launch", "product", "story", "photo", "video", "stream", "community", "event", "update", "release", "coffee", "garden", "travel", "recipe"]


def _paragraph(seed: int) -> bytes:
    """About 1 KB of deterministic prose with a couple of inline links and emphasis."""
    words = [_WORDS[(seed * 31 + k * 17 + (k * k) % 7) % len(_WORDS)] for k in range(150)]
    words[20] = f'<a href="/s/{seed % SECTIONS}/">{words[20]}</a>'
    words[75] = f"<strong>{words[75]}</strong>"
    words[110] = f'<a href="https://en.wikipedia.org/wiki/{words[110].title()}" rel="noopener">{words[110]}</a>'
    text = " ".join(words)
    return f'<p class="body-text">{text[0].upper()}{text[1:]}.</p>\n'.encode()


_STYLE = (
    "<style>"
    + "".join(
        f".c{k}{{margin:{k % 7}px {k % 5}px;padding:{k % 3}px;color:#{(k * 2654435761) % 0xFFFFFF:06x};"
        f"font:{12 + k % 6}px/1.{k % 9} system-ui,sans-serif}}"
        for k in range(60)
    )
    + "</style>\n"
).encode()

_ANALYTICS = (
    "<script>(function(w,d){w.dataLayer=w.dataLayer||[];function g(){dataLayer.push(arguments)}"
    "g('js',new Date());g('config','G-BENCH0001',{anonymize_ip:true});"
    + "".join(f"w._q{k}=function(e){{return e&&e.target&&e.target.dataset['k{k}']}};" for k in range(30))
    + "})(window,document);</script>\n"
    '<script async src="https://www.googletagmanager.com/gtag/js?id=G-BENCH0001"></script>\n'
    '<script src="/assets/app.3f9c2a.js" defer></script>\n'
    '<script src="https://cdn.cookielaw.org/scripttemplates/otSDKStub.js" data-domain-script="bench"></script>\n'
).encode()

_NAV = (
    '<header class="site-header"><a class="logo" href="/">Northwind Bench</a><nav><ul>'
    + "".join(f'<li><a href="/s/{s}/">Section {s}</a></li>' for s in range(SECTIONS))
    + '</ul></nav></header>\n'
).encode()

_FOOTER = (
    b'<footer class="site-footer"><div class="follow">Follow us: '
    b'<a href="https://www.instagram.com/northwindbench/" rel="me noopener" target="_blank" aria-label="Instagram">'
    b'<svg aria-hidden="true"></svg></a>'
    b'<a href="https://www.facebook.com/northwindbench" rel="me noopener" target="_blank" aria-label="Facebook">'
    b'<svg aria-hidden="true"></svg></a>'
    b'<a href="https://x.com/northwindbench" rel="me noopener" target="_blank" aria-label="X">'
    b'<svg aria-hidden="true"></svg></a>'
    b'<a href="https://www.linkedin.com/company/northwindbench/" rel="me noopener" target="_blank" aria-label="LinkedIn">'
    b'<svg aria-hidden="true"></svg></a>'
    b'<a href="https://www.youtube.com/@northwindbench" rel="me noopener" target="_blank" aria-label="YouTube">'
    b'<svg aria-hidden="true"></svg></a></div>'
    b'<ul class="legal"><li><a href="/feed.xml">RSS</a></li>'
    b'<li><a href="https://status.northwindbench.example/">Status</a></li></ul></footer>\n'
)

_ORG_LD = (
    '<script type="application/ld+json">{"@context":"https://schema.org","@type":"Organization",'
    '"name":"Northwind Bench","url":"' + HOST_PLACEHOLDER + '/","logo":"' + HOST_PLACEHOLDER + '/img/share-0.png",'
    '"sameAs":["https://www.instagram.com/northwindbench/","https://www.facebook.com/northwindbench",'
    '"https://x.com/northwindbench","https://www.linkedin.com/company/northwindbench/"]}</script>\n'
)


def _png(width: int, height: int, shade: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = zlib.compress((b"\x00" + bytes([shade, 0x80, 0x40]) * width) * height, 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


class Site:
    """The generated site for one base URL: `path -> list of byte chunks` plus content types."""

    def __init__(self, pages: int, base_url: str, *, sitemap: bool = True) -> None:
        if pages < SECTIONS + 2:
            raise ValueError(f"a benchmark site needs at least {SECTIONS + 2} pages")
        self.pages = pages
        self.base = base_url.rstrip("/")
        self.articles = pages - 1 - SECTIONS
        self.paragraphs = [_paragraph(k) for k in range(PARAGRAPH_VARIANTS)]
        self.org_ld = _ORG_LD.replace(HOST_PLACEHOLDER, self.base).encode()
        self.routes: dict[bytes, tuple[bytes, list[bytes]]] = {}
        self.sitemap = sitemap  # False: no sitemap, robots.txt names none (links are the only way in)
        self._build()

    def html_paths(self) -> list[str]:
        return ["/"] + [f"/s/{s}/" for s in range(SECTIONS)] + [f"/p/{i}.html" for i in range(self.articles)]

    def _add(self, path: str, content_type: str, chunks: list[bytes]) -> None:
        self.routes[path.encode()] = (content_type.encode(), chunks)

    def _build(self) -> None:
        html = "text/html; charset=utf-8"
        self._add("/", html, self._home())
        for s in range(SECTIONS):
            self._add(f"/s/{s}/", html, self._section(s))
        for i in range(self.articles):
            self._add(f"/p/{i}.html", html, self.article(i))
        for k in range(IMAGES):
            self._add(f"/img/share-{k}.png", "image/png", [_png(1200, 630, 40 * k)])
        sitemap = "".join(f"<url><loc>{self.base}{p}</loc><lastmod>2026-11-{1 + n % 28:02d}</lastmod></url>"
                          for n, p in enumerate(self.html_paths()))
        self._add("/sitemap.xml", "application/xml",
                  [b'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
                   sitemap.encode(), b"</urlset>\n"])
        self._add("/assets/app.3f9c2a.js", "text/javascript", [b"document.documentElement.className+=' js';\n" * 200])
        self._add("/favicon.ico", "image/png", [_png(32, 32, 200)])
        self._add("/apple-touch-icon.png", "image/png", [_png(180, 180, 200)])
        feed = "".join(f"<item><title>Story {i}</title><link>{self.base}/p/{i}.html</link></item>" for i in range(20))
        self._add("/feed.xml", "application/rss+xml",
                  [f'<?xml version="1.0"?><rss version="2.0"><channel><title>Northwind Bench</title>{feed}</channel></rss>'.encode()])
        named = f"Sitemap: {self.base}/sitemap.xml\n" if self.sitemap else ""
        self._add("/robots.txt", "text/plain", [f"User-agent: *\nAllow: /\n{named}".encode()])
        if not self.sitemap:
            del self.routes[b"/sitemap.xml"]

    def _page(self, head: str, body: list[bytes]) -> list[bytes]:
        return [b'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
                b'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                b'<link rel="icon" href="/favicon.ico"><link rel="apple-touch-icon" href="/apple-touch-icon.png">\n',
                head.encode(), _STYLE, _ANALYTICS, self.org_ld, b"</head>\n<body>\n", _NAV, *body, _FOOTER,
                b"</body></html>\n"]

    def _home(self) -> list[bytes]:
        head = (f"<title>Northwind Bench: stories and recipes</title>\n"
                f'<meta name="description" content="Stories, recipes and guides from the Northwind Bench team.">\n'
                f'<meta property="og:title" content="Northwind Bench">\n'
                f'<meta property="og:description" content="Stories, recipes and guides.">\n'
                f'<meta property="og:type" content="website"><meta property="og:url" content="{self.base}/">\n'
                f'<meta property="og:image" content="{self.base}/img/share-0.png">\n'
                f'<meta name="twitter:card" content="summary_large_image"><meta name="twitter:site" content="@northwindbench">\n'
                f'<link rel="canonical" href="{self.base}/">\n'
                f'<link rel="alternate" type="application/rss+xml" title="Northwind Bench" href="{self.base}/feed.xml">\n')
        links = "".join(f'<li><a href="/s/{s}/">Section {s}</a></li>' for s in range(SECTIONS))
        return self._page(head, [f"<main><h1>Northwind Bench</h1><ul>{links}</ul>".encode(),
                                 *self.paragraphs[:20], b"</main>\n"])

    def _section(self, s: int) -> list[bytes]:
        members = "".join(f'<li><a href="/p/{i}.html">Story {i}</a></li>' for i in range(s, self.articles, SECTIONS))
        head = (f"<title>Section {s} | Northwind Bench</title>\n"
                f'<meta name="description" content="Every story in section {s}.">\n'
                f'<meta property="og:title" content="Section {s}"><meta property="og:type" content="website">\n'
                f'<meta property="og:description" content="Every story in section {s}.">\n'
                f'<meta property="og:url" content="{self.base}/s/{s}/">\n'
                f'<meta property="og:image" content="{self.base}/img/share-{s % IMAGES}.png">\n'
                f'<meta name="twitter:card" content="summary_large_image">\n'
                f'<link rel="canonical" href="{self.base}/s/{s}/">\n')
        return self._page(head, [f"<main><h1>Section {s}</h1><ul>{members}</ul>".encode(),
                                 *self.paragraphs[s % 8: s % 8 + 10], b"</main>\n"])

    def article(self, i: int) -> list[bytes]:
        url = f"{self.base}/p/{i}.html"
        quoted = url.replace(":", "%3A").replace("/", "%2F")
        image = "" if i % 20 == 7 else (
            f'<meta property="og:image" content="{self.base}/img/share-{i % IMAGES}.png">\n'
            '<meta property="og:image:width" content="1200"><meta property="og:image:height" content="630">\n'
            f'<meta property="og:image:alt" content="Illustration for story {i}">\n')
        head = (f"<title>Story {i}: a guide to sharing | Northwind Bench</title>\n"
                f'<meta name="description" content="Story {i} explains how a shared link becomes a preview card.">\n'
                f'<meta property="og:title" content="Story {i}: a guide to sharing">\n'
                f'<meta property="og:description" content="How a shared link becomes a preview card, part {i}.">\n'
                f'<meta property="og:type" content="article"><meta property="og:url" content="{url}">\n'
                f'<meta property="og:site_name" content="Northwind Bench">\n{image}'
                f'<meta property="article:published_time" content="2026-{1 + i % 12:02d}-{1 + i % 28:02d}T08:00:00Z">\n'
                f'<meta name="twitter:card" content="summary_large_image"><meta name="twitter:site" content="@northwindbench">\n'
                f'<link rel="canonical" href="{url}">\n'
                f'<link rel="alternate" type="application/rss+xml" title="Northwind Bench" href="{self.base}/feed.xml">\n'
                '<script type="application/ld+json">{"@context":"https://schema.org","@type":"Article",'
                f'"headline":"Story {i}: a guide to sharing","datePublished":"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",'
                f'"author":{{"@type":"Person","name":"Author {i % 50}"}},"image":"{self.base}/img/share-{i % IMAGES}.png",'
                f'"mainEntityOfPage":"{url}"}}</script>\n'
                '<script type="application/ld+json">{"@context":"https://schema.org","@type":"BreadcrumbList",'
                f'"itemListElement":[{{"@type":"ListItem","position":1,"name":"Section {i % SECTIONS}",'
                f'"item":"{self.base}/s/{i % SECTIONS}/"}},{{"@type":"ListItem","position":2,"name":"Story {i}"}}]}}</script>\n')
        if i % 10 == 3:
            head += ('<script>var m=document.createElement("meta");m.setAttribute("property","og:video");'
                     f'm.content="{self.base}/v/{i}.mp4";document.head.appendChild(m);</script>\n')
        share = (
            '<div class="share-bar" aria-label="Share this story">'
            f'<a class="share facebook" href="https://www.facebook.com/sharer/sharer.php?u={quoted}" target="_blank" rel="noopener" aria-label="Share on Facebook"><svg aria-hidden="true"></svg></a>'
            f'<a class="share x" href="https://x.com/intent/tweet?url={quoted}&amp;text=Story%20{i}" target="_blank" rel="noopener" aria-label="Share on X"><svg aria-hidden="true"></svg></a>'
            f'<a class="share linkedin" href="https://www.linkedin.com/sharing/share-offsite/?url={quoted}" target="_blank" rel="noopener" aria-label="Share on LinkedIn"><svg aria-hidden="true"></svg></a>'
            f'<a class="share whatsapp" href="https://wa.me/?text={quoted}" target="_blank" rel="noopener" aria-label="Share on WhatsApp"><svg aria-hidden="true"></svg></a>'
            f'<a class="share email" href="mailto:?subject=Story%20{i}&amp;body={quoted}" aria-label="Share by e-mail"><svg aria-hidden="true"></svg></a>'
            "</div>\n"
        )
        related = "".join(f'<li><a href="/p/{(i * 7919 + k * 104729) % self.articles}.html">Related story {k}</a></li>'
                          for k in range(12))
        count = 14 + (i * 37) % 25  # 14-38 paragraphs of ~1.2 KB: 30-60 KB pages
        body = [self.paragraphs[(i + k * 13) % PARAGRAPH_VARIANTS] for k in range(count)]
        tail = [f'<aside><h2>Related</h2><ul>{related}</ul><a href="/p/{(i + 1) % self.articles}.html?utm_source=bench#top">Next</a></aside>\n'.encode()]
        if i % 4 == 0:
            tail.append(b'<section class="comments"><div id="disqus_thread"></div>'
                        b'<script src="https://northwindbench.disqus.com/embed.js" async></script></section>\n')
        if i % 50 == 1:
            tail.append(b'<p><a class="btn" href="https://accounts.google.com/o/oauth2/v2/auth?client_id=bench&amp;'
                        b'response_type=code">Sign in with Google</a></p>\n')
        return self._page(head, [f'<main><article><h1>Story {i}: a guide to sharing</h1><p class="byline">By Author {i % 50}</p>'.encode(),
                                 share.encode(), *body, b"</article>\n", *tail, b"</main>\n"])


def page_size(chunks: list[bytes]) -> int:
    return sum(len(c) for c in chunks)
