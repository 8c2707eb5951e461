"""What a static build folder holds, before and after it is crawled.

Why this exists: a build is not a website someone navigates from its home page. Hugo, Jekyll and
Eleventy write absolute production links by default (`https://example.com/post/`), so following
links from `index.html` over the loopback server reaches nothing but the start page unless the
production origin is known; and pages no template links to (drafts, landing pages, a forgotten
`old-index.html`) are deployed all the same. So, like html-proofer, a folder audit:

- lists every `.html`/`.htm` file (`html_files`) and audits each one, linked or not;
- detects the production origin from the build's own `<link rel=canonical>` and `og:url` tags
  (`detect_origin`: the base URL most pages agree on) when `--base-url` does not name it;
- reports the files no audited page links to (`orphan_files`).

Reading tags here uses selectolax on the first `HEAD_BYTES` of a sample of files: no regex over
page content, a bounded cost however large the build is.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes, urlsplit

HTML_SUFFIXES = (".html", ".htm")
_URL_SAFE = "/-._~!$&'()*+,;=:@"  # kept as they are in a served path
_ESCAPE = re.compile(r"\\x[0-9a-f]{2}")
_ESCAPE_SPLIT = re.compile(r"(\\x[0-9a-f]{2})")
HEAD_BYTES = 256 * 1024  # canonical and og:url live in <head>: the start of a file is enough
SAMPLE_FILES = 200  # files read to detect the origin, spread evenly over the build
# The host's error page at the top of a build (GitHub Pages, Netlify, Cloudflare Pages, Vercel):
# served with status 404 for missing URLs, never a page of the site, so never audited as one; and
# a 404 page anywhere is linked by nobody on purpose, so never an orphan.
ERROR_PAGES = frozenset({"404.html", "404.htm"})


@dataclass(frozen=True, slots=True)
class Skipped:
    """A part of the build the folder server cannot serve, and why: reported in errors[] and on
    stderr, so the coverage a report claims is the coverage it has."""

    path: str  # relative POSIX path: "a.html", or "drafts/" for a folder
    reason: str  # "its symbolic links form a loop"; a folder's: "Permission denied"
    is_file: bool = True  # an HTML file (counted in folder.html_files), or a folder of unknown content

    def message(self) -> str:
        what = "the folder cannot be read" if not self.is_file else ""
        return f"{self.path} was not audited: " + (f"{what} ({self.reason})" if what else self.reason)


@dataclass(frozen=True, slots=True)
class Listing:
    """The HTML files of a build and what of it could not be listed or served."""

    files: list[str]
    skipped: list[Skipped]


def html_files(root: Path) -> list[str]:
    """Every HTML file the folder server would serve, as sorted POSIX paths relative to `root`."""
    return list_build(root).files


def list_build(root: Path) -> Listing:
    """Every HTML file the folder server would serve (sorted POSIX paths relative to `root`), and
    the files named like pages it could not (a symbolic link loop) and the folders it could not
    read (no permission): those are skipped, not fatal, and reported by the caller.

    Dot-files and dot-folders are skipped (the server refuses them, `.well-known/` aside, which
    holds no pages); symbolic links are followed only when they stay inside the folder, as the
    server does.
    """
    root = root.resolve()
    found: list[str] = []
    skipped: list[Skipped] = []

    def unreadable(error: OSError) -> None:  # os.walk passes over a folder it cannot list
        where = Path(os.fsdecode(error.filename or root))
        relative = where.relative_to(root).as_posix() if where != root else ""
        skipped.append(Skipped(shown_name(relative) + "/" if relative else "./", error.strerror or str(error),
                               is_file=False))

    for directory, folders, files in os.walk(root, onerror=unreadable, followlinks=False):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        here = Path(directory)
        for name in files:
            if name.startswith(".") or not name.lower().endswith(HTML_SUFFIXES):
                continue
            path = here / name
            relative = path.relative_to(root).as_posix()
            if "\\" in relative:  # refused by the server, as a path separator elsewhere
                skipped.append(Skipped(shown_name(relative), "a backslash in its path (the folder server does not serve it)"))
                continue
            try:
                real = path.resolve()
            except (OSError, RuntimeError) as exc:  # Python 3.11 raises RuntimeError on a loop
                skipped.append(Skipped(shown_name(relative), _unresolvable(exc)))
                continue
            if real.is_file() and real.is_relative_to(root):
                found.append(shown_name(relative))
    return Listing(sorted(found), sorted(skipped, key=lambda s: s.path))


def _unresolvable(exc: OSError | RuntimeError) -> str:
    """Why a file's path cannot be followed to a file, in words."""
    if isinstance(exc, RuntimeError) or exc.errno == errno.ELOOP:
        return "its symbolic links form a loop"
    return f"its path cannot be followed ({exc.strerror or exc})"


def served_path(relative: str) -> str:
    """The URL path the folder server serves a file at: `blog/index.html` -> `/blog/`.

    Percent-encodes the file system's own bytes (`caf%E9.html` for a Latin-1 name), which is what
    a static host serves such a file at, and what the folder server maps back to the same file."""
    if relative == "index.html" or relative.endswith("/index.html"):
        relative = relative[: -len("index.html")]
    return "/" + quote(fs_bytes(relative), safe=_URL_SAFE)


def shown_name(fs_name: str) -> str:
    """A relative path as the report names it: a file name that is not UTF-8 (`os.walk` gives its
    bytes as surrogates, which no report can encode) has those bytes escaped, `caf\\xe9.html`.
    A backslash of the name itself is escaped too (`\\x5c`), so an escape never names another
    file: `note\\x41.html` with a real backslash is not `noteA.html`."""
    raw = os.fsencode(fs_name)
    if b"\\" in raw:
        raw = raw.replace(b"\\", b"\\x5c")
    return raw.decode("utf-8", "backslashreplace")


def fs_bytes(shown: str) -> bytes:
    """The file system bytes of a path `shown_name` printed (its `\\xNN` escapes undone)."""
    if "\\x" not in shown:
        return shown.encode("utf-8")
    return b"".join(bytes([int(part[2:], 16)]) if _ESCAPE.fullmatch(part) else part.encode("utf-8")
                    for part in _ESCAPE_SPLIT.split(shown))


def file_of(root: Path, shown: str) -> Path:
    """The file behind a path `shown_name` printed."""
    return root / os.fsdecode(fs_bytes(shown))


@dataclass(frozen=True, slots=True)
class DetectedOrigin:
    """The production base URL a build names itself by, and how many of its pages agree."""

    base_url: str  # "https://example.com/" or "https://example.com/blog/"
    agreeing: int  # sampled pages whose canonical/og:url names this base
    tagged: int  # sampled pages with an absolute canonical or og:url at all
    sampled: int  # files read

    def evidence(self) -> str:
        return (f"the canonical/og:url tags of {self.agreeing} of {self.tagged} pages that have one "
                f"({self.sampled} file{'s' if self.sampled != 1 else ''} read)")


def detect_origin(root: Path, files: Sequence[str], sample: int = SAMPLE_FILES) -> DetectedOrigin | None:
    """The production base URL most sampled pages' canonical/og:url agree on, or None.

    Local and private hosts (`localhost:1313`, `127.0.0.1`) are never taken for production: a
    build made with a development base URL is a finding of the og:url rules, not an origin. The
    base path comes from comparing a tag's path with the file's own path (`/blog/post/` named by
    `post/index.html` means the site lives under `/blog/`). Only a tag whose path ends with the
    file's does vote: a canonical naming a copy elsewhere (a post cross-posted to
    `https://dev.to/acme/post-1`) is the page's own finding, and taken for the origin it renamed
    every page and mapped links to that host onto the folder as missing pages.
    """
    picked = _spread(files, sample)
    votes: Counter[tuple[str, str]] = Counter()  # (origin, base path) -> pages naming it
    tagged = 0
    for relative in picked:
        urls = _self_urls(file_of(root, relative))
        if not urls:
            continue
        tagged += 1
        named: dict[str, str] = {}
        for url in urls:
            found = _origin_and_prefix(url, relative)
            if found is not None and found[1] is not None:
                named.setdefault(found[0], found[1])
        votes.update(named.items())
    origins: Counter[str] = Counter()
    for (origin, _prefix), count in votes.items():
        origins[origin] += count
    if not origins:
        return None
    origin, agreeing = sorted(origins.items(), key=lambda item: (-item[1], item[0]))[0]
    paths = sorted(((p, n) for (o, p), n in votes.items() if o == origin), key=lambda item: (-item[1], item[0]))
    return DetectedOrigin(origin + paths[0][0], agreeing, tagged, len(picked))


def orphan_files(audited: Iterable[str], linked: Iterable[str], start: str | None) -> list[str]:
    """Audited files no audited page links to (the start page and 404 pages are never orphans)."""
    linked_set = set(linked)
    return sorted(
        path for path in set(audited)
        if path not in linked_set and path != start and path.rsplit("/", 1)[-1].lower() not in ERROR_PAGES
    )


def _spread(files: Sequence[str], count: int) -> list[str]:
    """Up to `count` files spread evenly over the sorted list (the home page first)."""
    if len(files) <= count:
        return list(files)
    first = [f for f in files if f in ("index.html", "index.htm")]
    step = len(files) / count
    picked = dict.fromkeys([*first, *(files[int(i * step)] for i in range(count))])
    return list(picked)[:count]


def _self_urls(path: Path) -> list[str]:
    """The canonical and og:url a page names itself by (absolute http(s) URLs only)."""
    from selectolax.lexbor import LexborHTMLParser

    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return []
    tree = LexborHTMLParser(head.decode("utf-8", "replace"))
    urls: list[str] = []
    for node in tree.css('link[rel~="canonical" i][href], meta[property="og:url" i][content]'):
        value = node.attributes.get("href") if node.tag == "link" else node.attributes.get("content")
        if value and value.strip().lower().startswith(("http://", "https://")):
            urls.append(value.strip())
    return urls


def _origin_and_prefix(url: str, relative: str) -> tuple[str, str | None] | None:
    """(origin, base path or None when the tag's path does not match the file) of a public URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or _is_local(host):
        return None
    scheme = parts.scheme.lower()
    default = {"http": 80, "https": 443}[scheme]
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != default:
        netloc += f":{port}"
    origin = f"{scheme}://{netloc}"
    path = quote(unquote_to_bytes(parts.path or "/"), safe=_URL_SAFE)  # /café/ and /caf%C3%A9/ alike
    for candidate in _names_of(relative):
        if path.endswith(candidate) or (candidate.endswith("/") and path == candidate[:-1]):
            cut = path[: len(path) - len(candidate)] if path.endswith(candidate) else ""
            return origin, cut.rstrip("/") + "/"
    return origin, None


def _names_of(relative: str) -> list[str]:
    """The URL paths a file can be named by: `/post/`, `/post/index.html`, `/about`, `/about.html`."""
    served = served_path(relative)
    names = [served, "/" + quote(fs_bytes(relative), safe=_URL_SAFE)]
    if not served.endswith("/"):
        stem = served.rsplit(".", 1)[0]
        names.append(stem)
        names.append(stem + "/")
    return sorted(set(names), key=len, reverse=True)


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified
