"""The rendered-mode benchmark's site: N pages from a handful of templates, served on 127.0.0.1.

    python benchmarks/render_site.py --pages 200 --templates 5     # prints the port once built

Deterministic pages of 12-20 KB in up to five templates (article, product, docs, listing,
account), each with what rendered mode measures: a share bar (Facebook, X, LinkedIn, WhatsApp),
a fixed cookie banner, a stylesheet, one small image and one script that touches the DOM after
load (as share widgets and consent tools do). The account template has a "Sign in with Google"
link and a password form. The home page links to every page, so a crawl finds them all at once.
Served by benchmarks/server.py's protocol in its own process; stops when stdin closes.
"""

from __future__ import annotations

import argparse
import struct
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server import loopback_socket, serve

TEMPLATES = ("article", "product", "docs", "listing", "account")
WORDS = ("share", "preview", "social", "card", "image", "title", "button", "reader", "network", "link",
         "visible", "mobile", "desktop", "template", "audit", "crawler", "render", "widget", "banner", "page")

CSS = """body{font:16px/1.5 sans-serif;margin:0}header,footer{padding:12px;background:#f4f4f4}
main{max-width:760px;margin:0 auto;padding:16px}.share a{display:inline-block;min-width:44px;min-height:44px;
margin:4px;padding:8px;background:#eef}.cookie{position:fixed;left:0;right:0;bottom:0;height:64px;
background:#222;color:#fff;padding:8px}.grid{display:grid;grid-template-columns:repeat(3,1fr);gap:8px}
.toc{float:left;width:180px}.float{position:fixed;right:8px;top:40%}"""

SCRIPT = """document.addEventListener('DOMContentLoaded', () => {
  document.body.classList.add('js');
  const bar = document.querySelector('.share');
  if (bar) { const s = document.createElement('span'); s.className = 'share-count'; s.textContent = '12 shares';
             bar.appendChild(s); }
});"""


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x80\x90\xa0" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def paths(pages: int, templates: int = 5) -> list[str]:
    """Every page's path but the home page's: page i uses template i mod `templates`."""
    return [f"/{TEMPLATES[i % templates]}/{i}" for i in range(pages - 1)]


def _text(seed: int, words: int) -> str:
    return " ".join(WORDS[(seed * 7 + k * 13) % len(WORDS)] for k in range(words))


def _share(base: str, path: str) -> str:
    from urllib.parse import quote
    url = quote(base + path, safe="")
    return ("<div class='share'>"
            f"<a class='s-fb' href='https://www.facebook.com/sharer/sharer.php?u={url}'>Facebook</a>"
            f"<a class='s-x' href='https://x.com/intent/post?url={url}'>X</a>"
            f"<a class='s-li' href='https://www.linkedin.com/sharing/share-offsite/?url={url}'>LinkedIn</a>"
            f"<a class='s-wa' href='https://api.whatsapp.com/send?text={url}'>WhatsApp</a></div>")


def page(base: str, path: str, index: int) -> str:
    kind = path.split("/")[1]
    title = f"{kind.title()} {index}: {_text(index, 4)}"
    paragraphs = "".join(f"<p>{_text(index + k, 60)}</p>" for k in range(12 + index % 8))
    share = _share(base, path)
    bodies = {
        "article": f"<main><article class='post post-{index}'><h1>{title}</h1>{share}{paragraphs}</article></main>",
        "product": (f"<main><div class='product' id='p-{index}'><h1>{title}</h1><img src='/img.png' width=320 "
                    f"height=200 alt='product'><div class='buy'><button>Add to cart</button></div>{share}"
                    f"{paragraphs}</div></main>"),
        "docs": (f"<aside class='toc'><ul>{''.join(f'<li>{_text(k, 2)}</li>' for k in range(8))}</ul></aside>"
                 f"<main class='doc'><section><h1>{title}</h1>{paragraphs}</section></main>"
                 f"<div class='float'>{share}</div>"),
        "listing": (f"<main><h1>{title}</h1><div class='grid'>"
                    + "".join(f"<div class='card'><h3>{_text(index + k, 3)}</h3><p>{_text(k, 20)}</p></div>"
                              for k in range(12)) + f"</div>{share}</main>"),
        "account": (f"<main><h1>{title}</h1><form action='/login' method='post'><input name='email' type='email'>"
                    "<input name='password' type='password'><button>Log in</button></form>"
                    "<a class='google' href='https://accounts.google.com/o/oauth2/v2/auth?client_id=1&amp;"
                    f"response_type=code&amp;scope=openid'>Sign in with Google</a>{share}{paragraphs[:2000]}</main>"),
    }
    head = (f"<meta charset='utf-8'><meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{title}</title><meta property='og:title' content='{title}'>"
            f"<meta property='og:description' content='{_text(index, 12)}'><meta property='og:type' content='article'>"
            f"<meta property='og:url' content='{base}{path}'><meta property='og:image' content='{base}/img.png'>"
            f"<meta name='twitter:card' content='summary_large_image'><link rel='canonical' href='{base}{path}'>"
            "<link rel='stylesheet' href='/site.css'><script src='/app.js' defer></script>")
    return (f"<!doctype html><html lang='en'><head>{head}</head><body><header><nav><a href='/'>Home</a></nav>"
            f"</header>{bodies[kind]}<footer>(c) Example</footer>"
            "<div class='cookie'>We use cookies. <button>OK</button></div></body></html>")


def routes(base: str, pages: int, templates: int, cache_max_age: int = 0) -> dict[bytes, tuple[bytes, list[bytes]]]:
    """The site; with `cache_max_age` its stylesheet, script and image say `Cache-Control: max-age`
    as most sites' static files do (a browser may then reuse them from one page to the next)."""
    html = b"text/html; charset=utf-8"
    # server.py writes the content type into the header as is: a second header line rides along
    cached = f"\r\nCache-Control: public, max-age={cache_max_age}".encode() if cache_max_age > 0 else b""
    all_paths = paths(pages, templates)
    result: dict[bytes, tuple[bytes, list[bytes]]] = {
        p.encode(): (html, [page(base, p, i).encode()]) for i, p in enumerate(all_paths)
    }
    home = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Home</title>"
            "<meta property='og:title' content='Home'></head><body><ul>"
            + "".join(f"<li><a href='{p}'>{p}</a></li>" for p in all_paths) + "</ul></body></html>")
    result[b"/"] = (html, [home.encode()])
    result[b"/site.css"] = (b"text/css" + cached, [CSS.encode()])
    result[b"/app.js"] = (b"text/javascript" + cached, [SCRIPT.encode()])
    result[b"/img.png"] = (b"image/png" + cached, [_png(32, 20)])
    result[b"/robots.txt"] = (b"text/plain", [b"User-agent: *\nAllow: /\n"])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--templates", type=int, default=5, choices=range(1, len(TEMPLATES) + 1))
    parser.add_argument("--cache-max-age", type=int, default=0, help="static files say Cache-Control: max-age=N")
    args = parser.parse_args()
    sock, port = loopback_socket()
    return serve(sock, routes(f"http://127.0.0.1:{port}", args.pages, args.templates, args.cache_max_age))

if __name__ == "__main__":
    raise SystemExit(main())
