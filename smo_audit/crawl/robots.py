"""robots.txt, read once per origin through the shared Fetcher and interpreted with protego.

What the status of robots.txt means follows RFC 9309 section 2.3.1:

- 2xx: the file is parsed (at most the first 500 KiB, which the RFC requires crawlers to read);
- 4xx (robots.txt "unavailable"): everything is allowed;
- 5xx and 429 after retries ("unreachable"): everything is disallowed, so a struggling server is
  not crawled while it cannot even serve robots.txt;
- a network error (DNS, refused connection, timeout) allows everything. The RFC treats it as
  unreachable too, but an audit tool gains nothing from that: when the host is down the page
  fetches fail with their own, clearer errors (the start URL then ends the run with exit 3), and
  when only robots.txt was flaky we would otherwise report every page as "robots-disallowed".

The raw text is kept: site rules check social-network bots (facebookexternalhit, Twitterbot...)
against the same file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from protego import Protego

from smo_audit.crawl.failure import FetchFailure
from smo_audit.crawl.models import RawResponse

ROBOTS_MAX_BYTES = 500 * 1024
MAX_CRAWL_DELAY = 60.0  # seconds; anything longer is almost always a typo and would stall an audit

RobotsFetch = Callable[[str], Awaitable[RawResponse]]


@dataclass(frozen=True, slots=True)
class RobotsFile:
    """One origin's robots.txt as fetched, with the decision rule it implies."""

    url: str
    status: int | None  # None: it could not be fetched at all
    text: str | None
    disallow_all: bool = False
    note: str = ""  # why the file is treated the way it is, for error messages
    parser: Protego | None = field(default=None, repr=False, compare=False)

    def allowed(self, url: str, user_agent: str) -> bool:
        """May `user_agent` fetch `url` under this file?"""
        if self.disallow_all:
            return False
        if self.parser is None:
            return True
        return bool(self.parser.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float:
        """Seconds between requests asked for by Crawl-delay or Request-rate, capped; 0 if none."""
        if self.parser is None:
            return 0.0
        delay = self.parser.crawl_delay(user_agent) or 0.0
        rate = self.parser.request_rate(user_agent)
        if rate is not None and rate.requests > 0:
            delay = max(delay, rate.seconds / rate.requests)
        return min(float(delay), MAX_CRAWL_DELAY)

    @property
    def sitemaps(self) -> tuple[str, ...]:
        if self.parser is None:
            return ()
        return tuple(self.parser.sitemaps)


def parse_robots(url: str, response: RawResponse | None, failure: FetchFailure | None = None) -> RobotsFile:
    """Interpret a robots.txt answer (or the failure to get one), RFC 9309 style."""
    if response is None:
        reason = failure.message if failure else "it could not be fetched"
        return RobotsFile(url, None, None, note=f"robots.txt could not be fetched ({reason}); all allowed")
    status = response.status
    if 200 <= status < 300:
        text = response.body.decode("utf-8", "replace")
        return RobotsFile(url, status, text, parser=Protego.parse(text))
    if status == 429 or status >= 500:
        return RobotsFile(
            url, status, None, disallow_all=True,
            note=f"{url} answered HTTP {status}, which RFC 9309 treats as disallowing everything",
        )
    return RobotsFile(url, status, None, note=f"{url} answered HTTP {status}; all allowed")


class RobotsCache:
    """robots.txt per origin, fetched once even when many workers ask at the same moment."""

    def __init__(self, fetch: RobotsFetch) -> None:
        self._fetch = fetch
        self._files: dict[str, RobotsFile] = {}
        self._pending: dict[str, asyncio.Future[RobotsFile]] = {}

    def peek(self, origin: str) -> RobotsFile | None:
        """The file for `origin` if it is already known (no I/O)."""
        return self._files.get(origin)

    async def get(self, origin: str) -> RobotsFile:
        """The robots.txt of `origin` ("https://host[:port]"), fetching it on first use."""
        known = self._files.get(origin)
        if known is not None:
            return known
        pending = self._pending.get(origin)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[RobotsFile] = asyncio.get_running_loop().create_future()
        self._pending[origin] = future
        url = origin + "/robots.txt"
        try:
            try:
                robots = parse_robots(url, await self._fetch(url))
            except FetchFailure as failure:
                robots = parse_robots(url, None, failure)
        except BaseException as exc:  # cancelled: a later caller tries again
            del self._pending[origin]
            future.set_exception(exc)
            future.exception()  # mark retrieved so asyncio does not warn
            raise
        self._files[origin] = robots
        del self._pending[origin]
        future.set_result(robots)
        return robots
