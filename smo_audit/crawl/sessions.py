"""Session identifiers in links: found, ignored for de-duplication, and always reported.

A site that puts a session id in its URLs (`?PHPSESSID=...`, `;jsessionid=...`, ASP.NET's
cookieless `/(S(...))/` path segment, or a parameter of its own such as `?sid=8f3a...`) gives every visit a new set of URLs: the classic crawler trap,
and for social networks and search engines a page that is never the same URL twice (shares and
previews split across them). The crawler already drops the well-known names when it normalises
URLs; this module makes sure the site hears about it every time, and finds the site's own names:

- a well-known session parameter (the session part of urls.DEFAULT_STRIP_PARAMS) in any link,
  a `;jsessionid=` path parameter in any segment, an ASP.NET cookieless segment;
- an unknown parameter whose token-like value (16-128 characters of letters *and* digits) is the
  same on links to two different paths of one page. A product id (`?id=...`) names one product,
  so it differs from path to path; a session id is the visitor's, so it repeats on every link.

Each finding is reported once per parameter name (every cookieless form counts as one), the
first time a page's links carry it, whatever the order pages arrive in. Everything here is string splitting over a
bounded number of links (no regex over page content), so a hostile page cannot make it slow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from smo_audit.crawl.urls import cookieless_segment

COOKIELESS = "(S(...))"  # the name every ASP.NET cookieless segment is reported under
KNOWN_SESSION_PARAMS = ("jsessionid", "phpsessid", "aspsessionid*", "sessionid", "cfid", "cftoken")
MAX_LINKS_SCANNED = 2000  # per page
MAX_TRACKED = 10_000  # (name, value) pairs remembered per page scan
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _token_like(value: str) -> bool:
    return (16 <= len(value) <= 128 and all(ch in _TOKEN_CHARS for ch in value)
            and any(ch.isdigit() for ch in value) and any(ch.isalpha() for ch in value))


def _known(name: str) -> bool:
    lowered = name.lower()
    return any(fnmatchcase(lowered, pattern) for pattern in KNOWN_SESSION_PARAMS)


@dataclass(frozen=True)
class SessionParam:
    name: str  # as the site spells it
    example: str  # a link that carried it
    known: bool  # a well-known name (already ignored) rather than one found by its values
    strip: str  # the urls.normalize_url strip pattern that ignores it from here on


@dataclass
class SessionIds:
    """Remembers which session parameters were already reported during one crawl."""

    reported: set[str] = field(default_factory=set)  # lower-cased names

    def scan(self, links: Iterable[str]) -> list[SessionParam]:
        """New session parameters in one page's links (each name is returned once per crawl)."""
        found: dict[str, SessionParam] = {}
        paths_by_value: dict[tuple[str, str], tuple[str, str]] = {}  # (name, value) -> (first path, link)
        for count, link in enumerate(links):
            if count >= MAX_LINKS_SCANNED:
                break
            if ";" in link and ";jsessionid=" in link.lower():
                self._add(found, "jsessionid", link, known=True)
            if "/(" in link and _has_cookieless_segment(link):
                self._add(found, COOKIELESS, link, known=True, strip="aspsessionid")
            if "?" not in link:
                continue
            try:
                parts = urlsplit(link)
            except ValueError:
                continue
            for pair in parts.query.split("&"):
                name, _, value = pair.partition("=")
                if not name:
                    continue
                if _known(name):
                    self._add(found, name, link, known=True)
                elif _token_like(value):
                    key = (name.lower(), value)
                    first = paths_by_value.get(key)
                    if first is None:
                        if len(paths_by_value) < MAX_TRACKED:
                            paths_by_value[key] = (parts.path, link)
                    elif first[0] != parts.path:
                        self._add(found, name, first[1], known=False)
        return list(found.values())

    def _add(self, found: dict[str, SessionParam], name: str, link: str, *, known: bool, strip: str = "") -> None:
        key = name.lower()
        if key in self.reported:
            return
        self.reported.add(key)
        found[key] = SessionParam(name, link, known, strip or key)


def _has_cookieless_segment(link: str) -> bool:
    try:
        path = urlsplit(link).path
    except ValueError:
        return False
    return any(cookieless_segment(segment) for segment in path.split("/"))


def message(param: SessionParam) -> str:
    """One sentence for the report."""
    why = ("a new URL for every visit: a crawler trap, and shares and previews split across URLs; "
           "remove it from links (keep sessions in cookies)")
    if param.name == COOKIELESS:
        return (f"links carry an ASP.NET cookieless session id in the path {param.name!r} (e.g. {param.example[:200]}): "
                f"{why}; the segment was ignored")
    how = "was ignored" if param.known else "was ignored from here on (its value repeats on links to different pages)"
    return f"links carry a session id in {param.name!r} (e.g. {param.example[:200]}): {why}; the parameter {how}"


__all__ = ["COOKIELESS", "KNOWN_SESSION_PARAMS", "SessionIds", "SessionParam", "message"]
