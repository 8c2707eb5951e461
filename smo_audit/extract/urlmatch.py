"""Catalogue URL patterns ("connect.facebook.net/*/sdk.js", "*.disqus.com/embed.js") matched fast.

Classifiers run on every link and script of every page, so a pattern list is compiled once into
an index by host: a URL costs one dict lookup (plus a walk up its parent domains for "*.host"
patterns) and a few anchored regexes for the paths registered under that host, never a regex
per pattern per link. Hosts compare lower-cased and without a leading "www.".

Also here: `site_key`, the "same site" test the sign-in rules need (auth.example.com belongs to
www.example.com) without shipping the public-suffix list.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar
from urllib.parse import SplitResult, urljoin, urlsplit

from smo_audit.crawl.urls import site_key as crawl_site_key

T = TypeVar("T")

_HTTP_URL = re.compile(
    r"https?://(?:[^@/?#]*@)?(\[[^\]/?#]*\]|[^/?#:]*)(?::[0-9]*)?([^?#]*)(?:\?([^#]*))?(?:#(.*))?\Z",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class HttpParts:
    """The pieces of an absolute http(s) URL classifiers need, from one regex match."""

    host: str  # lower-case, no port, no trailing dot ("www." kept)
    path: str  # as written ("" when absent)
    query: str
    fragment: str


@lru_cache(maxsize=2048)
def split_http(url: str) -> HttpParts | None:
    """Split an absolute http(s) URL; None for other schemes or no host.

    About five times faster than urllib's urlsplit + hostname, which matters because it runs for
    every link of every page in three classifiers; cached (the parts are immutable) because those
    classifiers ask for the same link in turn, and navigation links repeat on every page.
    """
    match = _HTTP_URL.match(url)
    if match is None or not match.group(1):
        return None
    host, path, query, fragment = match.groups()
    return HttpParts(host.lower().rstrip("."), path, query or "", fragment or "")


def join_url(base: str, href: str) -> str | None:
    """urljoin for URLs read from a page: None where urllib raises (an unclosed IPv6 bracket,
    "http://[::1"), which would otherwise fail the whole page or rule over one attribute."""
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def split_url(url: str) -> SplitResult:
    """urlsplit for URLs read from a page: an unparsable one ("http://[::1") splits as the empty
    URL (no scheme, no host), which the rules judge as not absolute instead of crashing on."""
    try:
        return urlsplit(url)
    except ValueError:
        return urlsplit("")


def normalise_host(host: str) -> str:
    """Lower-case, no port, no trailing dot, no leading "www."."""
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def url_host_path(url: str) -> tuple[str, str] | None:
    """(normalised host, path) of an absolute http(s) URL, None for anything else."""
    parts = split_http(url)
    if parts is None:
        return None
    return normalise_host(parts.host), parts.path or "/"


@lru_cache(maxsize=4096)
def site_key(host: str) -> str:
    """The registrable part of a host: www.example.com, auth.example.com -> example.com.

    The crawler's definition (the one that admits account pages on sibling hosts), cached by
    host because classifiers ask for every link.
    """
    return crawl_site_key(host.lower().rstrip("."))


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    path: re.Pattern[str] | None  # None: any path
    value: T


def _compile_path(glob: str) -> re.Pattern[str] | None:
    if glob in ("", "/", "/*", "*"):
        return None
    if not glob.startswith(("/", "*")):
        glob = "/" + glob
    return re.compile(fnmatch.translate(glob.lower()))


class UrlPatterns(Generic[T]):
    """A host-indexed set of "host/path-glob" patterns, each carrying a value."""

    def __init__(self, entries: Iterable[tuple[str, T]] = ()) -> None:
        self._exact: dict[str, list[_Entry[T]]] = {}
        self._suffix: dict[str, list[_Entry[T]]] = {}  # "*.disqus.com" -> key "disqus.com"
        self._any: list[_Entry[T]] = []  # host "*"
        for pattern, value in entries:
            self.add(pattern, value)

    def add(self, pattern: str, value: T) -> None:
        pattern = pattern.strip()
        if "://" in pattern:
            pattern = pattern.split("://", 1)[1]
        host, slash, path = pattern.partition("/")
        entry = _Entry(_compile_path(slash + path), value)
        host = host.lower()
        if host == "*":
            self._any.append(entry)
        elif host.startswith("*."):
            self._suffix.setdefault(normalise_host(host[2:]), []).append(entry)
        else:
            self._exact.setdefault(normalise_host(host), []).append(entry)

    def __bool__(self) -> bool:
        return bool(self._exact or self._suffix or self._any)

    def match_parts(self, host: str, path: str) -> list[T]:
        """Values of every pattern matching an already normalised host and a path."""
        path = path.lower() or "/"
        found = [e.value for e in self._exact.get(host, ()) if e.path is None or e.path.match(path)]
        if self._suffix:
            parent = host
            while "." in parent:
                parent = parent.split(".", 1)[1]
                for entry in self._suffix.get(parent, ()):
                    if entry.path is None or entry.path.match(path):
                        found.append(entry.value)
        for entry in self._any:
            if entry.path is None or entry.path.match(path):
                found.append(entry.value)
        return found

    def match(self, url: str | None) -> list[T]:
        """Values of every pattern matching `url` (an absolute http(s) URL); [] otherwise."""
        if not url:
            return []
        split = url_host_path(url)
        if split is None:
            return []
        return self.match_parts(*split)

    def first(self, url: str | None) -> T | None:
        found = self.match(url)
        return found[0] if found else None
