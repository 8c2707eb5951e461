"""URL normalisation and scope: the frontier's notion of "the same page" and "part of the site".

Every link of every page passes through here, so the common case is kept cheap: results are
memoised (navigation links repeat on every page), regexes are compiled once, and the
percent-encoding pass only runs when a component actually contains `%` or unsafe characters.

Normalisation (RFC 3986 section 6 plus what crawlers conventionally add):

- the fragment is dropped; scheme and host are lower-cased; default ports are removed;
- an empty path becomes "/", dot segments are resolved;
- percent-encoding is normalised: escapes of unreserved characters are decoded, other escapes are
  upper-cased, characters that must be escaped (spaces, non-ASCII) are escaped as UTF-8;
- query parameters are sorted by name; the sort is stable, so repeated names keep their order
  (`?a=2&a=1` and `?a=1&a=2` can mean different things to an application);
- tracking and session parameters (`strip_params`, shell-style patterns, case-insensitive) are
  dropped, including a `;jsessionid=...` path parameter when "jsessionid" is listed and an ASP.NET
  cookieless session segment (`/(S(...))/`, `/(X(1)S(...))/`) when "aspsessionid*" is.
"""

from __future__ import annotations

import re
from fnmatch import translate
from functools import lru_cache
from typing import Literal
from urllib.parse import quote, urlsplit

Scope = Literal["host", "domain", "prefix"]

DEFAULT_STRIP_PARAMS: tuple[str, ...] = (
    # campaign and click identifiers: the same page reached from an ad or a newsletter
    "utm_*", "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
    "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "li_fat_id",
    "ttclid", "srsltid",
    # session identifiers: a new URL for every visit is the classic crawler trap
    "jsessionid", "phpsessid", "aspsessionid*", "sessionid", "cfid", "cftoken",
)

# Unreserved characters (RFC 3986 2.3): escapes of these are decoded.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# Characters that may stay literal in a path / query component (besides existing escapes).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = "/?:@!$&'()*+,;=-._~%"
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9/:@!$&'()*+,;=\-._~%?]")
_LONE_PERCENT = re.compile(r"%(?![0-9A-F]{2})")
_JSESSIONID = re.compile(r";jsessionid=[^/?#]*", re.IGNORECASE)
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_DIGITS = re.compile(r"\d+")
_QUERY_VALUE = re.compile(r"=[^&]*")

_MAX_URL_LENGTH = 2048


def _fix_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _normalise_component(text: str, safe: str) -> str:
    """Normalise percent-encoding of one component without decoding reserved characters."""
    if _NEEDS_QUOTING.search(text):
        # quote() leaves existing "%XX" alone because '%' is in `safe`; a stray '%' that is not
        # an escape is encoded below.
        text = quote(text, safe=safe)
    if "%" in text:
        text = _ESCAPE.sub(_fix_escape, text)
        if "%" in _ESCAPE.sub("", text):  # a lone '%' that starts no escape
            text = _LONE_PERCENT.sub("%25", text)
    return text


def remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, for absolute URLs that arrive with "./" or "../" in them."""
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
            continue
        if segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
            continue
        output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def cookieless_segment(segment: str) -> bool:
    """An ASP.NET cookieless state segment: `(S(id))`, `(X(1)S(id))`, `(A(id)F(ticket))` ...

    One or more letter(value) groups in parentheses, values without parentheses. String
    scanning, linear in the segment, because hostile pages choose the paths.
    """
    if len(segment) < 5 or segment[0] != "(" or segment[-1] != ")":
        return False
    inner, index = segment[1:-1], 0
    while index < len(inner):
        if inner[index] not in _ASCII_LETTERS or inner[index + 1 : index + 2] != "(":
            return False
        close = inner.find(")", index + 2)
        if close < 0 or "(" in inner[index + 2 : close]:
            return False
        index = close + 1
    return True


def _drop_cookieless(path: str) -> str:
    kept = [segment for segment in path.split("/") if not cookieless_segment(segment)]
    return "/".join(kept) or "/"


@lru_cache(maxsize=64)
def _strip_matcher(strip_params: tuple[str, ...]) -> re.Pattern[str] | None:
    if not strip_params:
        return None
    return re.compile("|".join(translate(p.lower()) for p in strip_params))


def _normalise_query(query: str, strip: re.Pattern[str] | None) -> str:
    pairs: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        name, eq, value = part.partition("=")
        if strip is not None and strip.match(name.lower()):
            continue
        pairs.append((_normalise_component(name, _QUERY_SAFE), eq + _normalise_component(value, _QUERY_SAFE)))
    pairs.sort(key=lambda pair: pair[0])
    return "&".join(name + rest for name, rest in pairs)


@lru_cache(maxsize=4096)
def normalize_url(url: str, strip_params: tuple[str, ...] = DEFAULT_STRIP_PARAMS) -> str:
    """The canonical form of an http(s) URL used for de-duplication.

    Raises ValueError for URLs that are not http(s) or cannot be parsed (bad port, no host).
    Memoised: navigation links repeat on every page of a site.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = parts.hostname  # lower-cased, brackets stripped
    if not host:
        raise ValueError(f"URL without a host: {url!r}")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    port = parts.port  # raises ValueError on a malformed port
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    if "@" in parts.netloc:
        netloc = parts.netloc.rpartition("@")[0] + "@" + netloc
    path = parts.path or "/"
    strip = _strip_matcher(strip_params)
    if ";" in path and strip is not None and strip.match("jsessionid"):
        path = _JSESSIONID.sub("", path)
    if "/(" in path and strip is not None and strip.match("aspsessionid"):
        path = _drop_cookieless(path)
    path = _normalise_component(path, _PATH_SAFE)
    if "/." in path:
        path = remove_dot_segments(path)
    query = _normalise_query(parts.query, strip) if parts.query else ""
    return f"{scheme}://{netloc}{path}?{query}" if query else f"{scheme}://{netloc}{path}"


def try_normalize(url: str, strip_params: tuple[str, ...] = DEFAULT_STRIP_PARAMS) -> str | None:
    """normalize_url, or None for anything that is not a crawlable http(s) URL."""
    if len(url) > _MAX_URL_LENGTH * 2:
        return None
    try:
        return normalize_url(url, strip_params)
    except (ValueError, UnicodeError):
        return None


def split_authority(normalized: str) -> tuple[str, str]:
    """(netloc, path) of a URL produced by normalize_url, without re-parsing it."""
    rest = normalized.split("://", 1)[1]
    slash = rest.find("/")
    return rest[:slash], rest[slash:].split("?", 1)[0]


def origin(normalized: str) -> str:
    """scheme://netloc of a normalised URL: the unit robots.txt and politeness apply to."""
    scheme, rest = normalized.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"


def url_shape(url: str) -> str:
    """A URL with digit runs and query values collapsed: groups calendar and session traps.

    "https://x.org/cal/2024/05?day=3&sid=ab12" -> "/cal/#/#?day&sid"
    """
    _, rest = url.split("://", 1) if "://" in url else ("", url)
    slash = rest.find("/")
    path_query = rest[slash:] if slash >= 0 else "/"
    path, _, query = path_query.partition("?")
    shape = _DIGITS.sub("#", path)
    if query:
        shape += "?" + _QUERY_VALUE.sub("", query)
    return shape


def repeating_path(path: str) -> bool:
    """True for ever-growing paths: a segment (or a run of 2-3) repeated three times at the end.

    `/a/b/a/b/a/b/` comes from a relative link resolved against its own page, over and over.
    """
    segments = [s for s in path.split("/") if s]
    count = len(segments)
    if count > 40:
        return True
    for period in (1, 2, 3):
        if count >= 3 * period:
            tail = segments[-period:]
            if segments[-2 * period : -period] == tail and segments[-3 * period : -2 * period] == tail:
                return True
    return False


def too_long(url: str) -> bool:
    return len(url) > _MAX_URL_LENGTH


_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"})


def site_key(host: str) -> str:
    """The registrable domain, approximately: auth.example.com and www.example.com share
    "example.com"; shop.example.co.uk gives "example.co.uk". Used only to let a few account
    pages on sibling hosts into the audit, so the approximation errs towards fewer hosts."""
    host = host.split("@")[-1].rsplit(":", 1)[0] if not host.startswith("[") else host
    labels = host.split(".")
    if len(labels) <= 2 or host.replace(".", "").isdigit():
        return host
    keep = 3 if len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def registrable_base(host: str) -> str:
    """The domain that --scope domain admits, with its subdomains.

    Without a public-suffix list this is the start host minus a leading "www.": starting at
    www.example.com admits example.com and *.example.com; starting at blog.example.com admits
    blog.example.com and its subdomains only (never the whole of example.com).
    """
    host = host.split("@")[-1]
    if host.startswith("[") or host.count(".") < 2:
        return host
    return host[4:] if host.startswith("www.") else host


class ScopeChecker:
    """Decides whether a normalised URL belongs to the site being audited."""

    def __init__(self, scope: Scope, start_urls: tuple[str, ...]) -> None:
        self.scope = scope
        self._hosts: set[str] = set()
        self._bases: set[str] = set()
        self._prefixes: set[tuple[str, str]] = set()
        for url in start_urls:
            self.add_start(url)

    def add_start(self, normalized: str) -> None:
        """Admit the site of `normalized` (the start URL, or where the start URL redirected)."""
        netloc, path = split_authority(normalized)
        self._hosts.add(netloc)
        hostname = netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc
        self._bases.add(registrable_base(hostname))
        self._prefixes.add((netloc, path[: path.rfind("/") + 1] or "/"))

    def __call__(self, normalized: str) -> bool:
        netloc, path = split_authority(normalized)
        if self.scope == "host":
            return netloc in self._hosts
        if self.scope == "domain":
            hostname = netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc
            return any(hostname == b or hostname.endswith("." + b) for b in self._bases)
        return any(netloc == n and path.startswith(p) for n, p in self._prefixes)


def compile_globs(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for a tuple of fnmatch patterns (matched against the URL path), None if empty."""
    if not patterns:
        return None
    return re.compile("|".join(translate(p) for p in patterns))


# Links to these are never pages; skipping them saves a request each.
NON_PAGE_EXTENSIONS = frozenset({
    "7z", "aac", "apk", "avi", "avif", "bin", "bmp", "bz2", "css", "csv", "dmg", "doc", "docx",
    "eot", "epub", "exe", "flac", "gif", "gz", "heic", "ico", "ics", "iso", "jar", "jpeg",
    "jpg", "js", "json", "m4a", "m4v", "map", "mjs", "mkv", "mov", "mp3", "mp4", "mpeg", "mpg",
    "msi", "odp", "ods", "odt", "oga", "ogg", "ogv", "otf", "pdf", "png", "ppt", "pptx", "ps",
    "rar", "rss", "svg", "swf", "tar", "tgz", "tif", "tiff", "ttf", "txt", "wasm", "wav",
    "webm", "webp", "wmv", "woff", "woff2", "xls", "xlsx", "xz", "zip",
})


def _extension(path: str) -> str:
    """The last path segment's extension, lower-case ("" for none, or for a dot file)."""
    last = path.rsplit("/", 1)[-1]
    dot = last.rfind(".")
    return last[dot + 1 :].lower() if dot > 0 else ""


def looks_like_asset(path: str) -> bool:
    """True when the path's extension says "not a web page" (images, documents, archives...)."""
    return _extension(path) in NON_PAGE_EXTENSIONS


PAGE_EXTENSIONS = frozenset({"html", "htm", "xhtml", "shtml"})


def names_html_page(url: str) -> bool:
    """True when the URL's path ends in a file name that says "HTML page" (`/about.html`): served
    as anything else, the page is broken for visitors (the browser downloads it) and crawlers."""
    return _extension(urlsplit(url).path if "://" in url else url) in PAGE_EXTENSIONS
