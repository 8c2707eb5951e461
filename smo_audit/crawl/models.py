"""Plain data handed from the crawl stage to extraction: what the server answered, nothing parsed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Redirect:
    """One hop of a redirect chain: the URL that answered and the status it answered with."""

    url: str
    status: int


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A fetched resource. `body` is already decoded from gzip/deflate/br and bounded in size."""

    url: str
    final_url: str
    status: int
    headers: Mapping[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes
    redirects: tuple[Redirect, ...] = ()
    elapsed_ms: float = 0.0

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased ("" when the server sent none)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type, if any."""
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'").lower()
        return None


@dataclass(frozen=True, slots=True)
class RawPage:
    """An HTML page the crawler hands to extraction, with where it came from."""

    response: RawResponse
    depth: int = 0
    source_path: str | None = None  # folder targets: the file behind the page, relative to the folder
    referrer: str | None = None

    @property
    def url(self) -> str:
        return self.response.url

    @property
    def final_url(self) -> str:
        return self.response.final_url


@dataclass(frozen=True, slots=True)
class CrawlError:
    """A URL that could not be audited; it lands in the report's `errors[]` and the run goes on."""

    url: str
    kind: str  # dns | connect | tls | timeout | http-status | too-large | redirect-loop | not-html | ...
    message: str
    status: int | None = None
    referrer: str | None = None


@dataclass(frozen=True, slots=True)
class PageLinks:
    """What extraction tells the crawler about a page so it can grow the frontier without re-parsing."""

    links: tuple[str, ...] = ()
    canonical: str | None = None
    extra: tuple[str, ...] = field(default=())  # e.g. account pages the sign-in rules want audited
