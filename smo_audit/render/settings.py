"""Rendered mode's settings and viewports (plain data: importing this never imports Playwright)."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from smo_audit import __version__

if TYPE_CHECKING:  # crawl.addresses imports httpcore: plain data here, no import at run time
    from smo_audit.crawl.addresses import AddressPolicy


@dataclass(frozen=True, slots=True)
class Viewport:
    name: str
    width: int
    height: int
    mobile: bool
    user_agent: str


_CHROME = "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0"
VIEWPORTS: dict[str, Viewport] = {
    "desktop": Viewport("desktop", 1366, 768, False,
                        f"Mozilla/5.0 (X11; Linux x86_64) {_CHROME} Safari/537.36 smo-audit/{__version__}"),
    # A mid-size phone (iPhone 14/15 class): 390x844 CSS px, touch, a mobile user agent so that
    # sites serving a mobile layout by user agent serve it.
    "mobile": Viewport("mobile", 390, 844, True,
                       f"Mozilla/5.0 (Linux; Android 14; Pixel 8) {_CHROME} Mobile Safari/537.36 smo-audit/{__version__}"),
}


@dataclass(frozen=True, slots=True)
class RenderSettings:
    mode: Literal["auto", "all"] = "auto"
    viewports: tuple[str, ...] = ("desktop", "mobile")
    concurrency: int = 2  # pages (x viewports) open at once: one browser context each
    samples: int = 2  # --render auto: pages rendered per template and set of controls
    navigation_timeout: float = 15.0  # seconds until the document has been parsed (DOMContentLoaded)
    settle: float = 2.0  # at most this long waiting for `load` and for the DOM to go quiet
    quiet: float = 0.05  # after `load`, the DOM counts as settled once this long has passed since it last changed
    page_timeout: float = 30.0  # hard bound for one page, every viewport included
    screenshots: Path | None = None
    chromium: str | None = None
    local_target: bool = False  # the audited site is on loopback/private addresses (or a folder)
    only_local: bool = False  # folder audits: the browser, like the crawler, reaches loopback only
    # The audit's fetch policy for the browser's own requests, applied by the slot's proxy
    # (render/proxy.py): `check_url` (crawl/policy.py FetchPolicy.refusal: robots.txt, folder
    # scope) says why a URL is refused, or None; `addresses` (the private-address rule) judges every
    # address a name resolves to, and the proxy connects only to an address it judged.
    check_url: Callable[[str], Awaitable[str | None]] | None = field(default=None, compare=False)
    addresses: AddressPolicy | None = field(default=None, compare=False)

    def viewport_list(self) -> tuple[Viewport, ...]:
        return tuple(VIEWPORTS[name] for name in self.viewports)


def parse_viewports(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """`desktop,mobile` (or repeated flags) -> known names, in order; ValueError naming a bad one."""
    names: list[str] = []
    for value in values:
        for part in str(value).split(","):
            name = part.strip().lower()
            if not name:
                continue
            if name not in VIEWPORTS:
                raise ValueError(f"unknown viewport {name!r} (known: {', '.join(VIEWPORTS)})")
            if name not in names:
                names.append(name)
    if not names:
        raise ValueError(f"no viewport given (known: {', '.join(VIEWPORTS)})")
    return tuple(names)


def _is_local_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def is_local_url(url: str) -> bool:
    """The URL names a loopback, private or otherwise non-public host literally."""
    try:
        return _is_local_host(urlsplit(url).hostname or "")
    except ValueError:
        return False


def subrequest_allowed(url: str, *, local_target: bool, only_local: bool = False) -> bool:
    """The browser's own requests (scripts, styles, images, frames) follow the audit's address
    rule: a public site's page may not make the auditing machine reach private addresses.

    Chromium resolves host names itself, so only literal addresses and `localhost` are checked
    here; `data:`/`blob:` URLs never leave the browser.
    """
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("data", "blob", "about"):
        return True
    if scheme not in ("http", "https"):
        return False
    if only_local:
        return is_local_url(url)
    return local_target or not is_local_url(url)
