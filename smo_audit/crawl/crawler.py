"""The site crawler: a bounded, polite frontier over one shared Fetcher.

Pages are handed to the pipeline as they arrive (`on_page` extracts facts and runs page rules,
then returns the page's links), so nothing but the frontier's URL sets stays in memory, and those
are bounded by `max_pages`: a URL is admitted to the frontier only while fewer than `max_pages`
URLs have been admitted, and every admitted URL is fetched at most once (retries aside).

Contract with the pipeline (what the callbacks can rely on):

- `on_page(RawPage)` gets HTML pages only: status < 400 after redirects, Content-Type text/html
  or application/xhtml+xml (or none, and the body looks like HTML). `RawPage.url` is the
  normalised URL that was requested, `final_url` where redirects ended. Calls can overlap (up to
  `concurrency` at once); an exception in `on_page` is reported as a "processing" error for that
  URL and the crawl goes on.
- `on_error(CrawlError)` gets every URL that could not be audited, once: kinds dns, connect, tls,
  timeout, network, protocol, invalid-url, decoding, too-large, redirect-loop,
  too-many-redirects, http-status (with `status`), robots-disallowed, not-html, sitemap (a sitemap
  named in robots.txt that cannot be read), processing, internal; and, once per URL pattern at the
  end, max-depth and crawl-trap (the URL is an example, the message says how many).
  Non-HTML answers are only errors for URLs we were explicitly asked to audit (the start URL and
  `extra_seeds`); a linked PDF or image is simply not a page, and links whose extension says
  "asset" (.pdf, .jpg, .css ...) are not even requested.
- `on_duplicate(url, duplicate_of)` is called
  (a) when a redirect ends at a page already handed to `on_page` (then `url` never reaches
      `on_page`), and
  (b) when an audited page declares a canonical URL that is another audited page which is its
      own canonical (then `url` has already been through `on_page`; the pipeline marks it).
  `duplicate_of` is always the `RawPage.url` of a page `on_page` received. A canonical target is
  never fetched twice; if it has not been seen yet it is queued, and the duplicate is reported
  when it arrives. Canonical chains and cycles are not reported as duplicates.
- Only the start URL can end the run: if it cannot be fetched, is not HTML, answers >= 400 after
  retries or is disallowed by robots.txt, `run` raises TargetError with one sentence. With an
  `inventory` (a folder audit) a start page that cannot be fetched or answers >= 400 is reported
  through `on_error` like any other file of the build, and the crawl goes on.
- Cancellation (task cancelled, Ctrl-C) makes `run` return a summary with partial=True and
  stop_reason "cancelled"; what `on_page` received so far is the partial report.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Literal

from smo_audit.crawl.fetcher import (
    DEFAULT_USER_AGENT,
    REDIRECT_STATUSES,
    Fetcher,
    FetchFailure,
    FetchLimits,
    retry_after_seconds,
)
from smo_audit.crawl.handover import HandedLink, HandedRedirect, Handover, Resume
from smo_audit.crawl.models import CrawlError, PageLinks, RawPage, RawResponse, Redirect
from smo_audit.crawl.robots import ROBOTS_MAX_BYTES, RobotsCache, RobotsFile
from smo_audit.crawl.sessions import SessionIds
from smo_audit.crawl.sessions import message as session_message
from smo_audit.crawl.sitemaps import SITEMAP_MAX_BYTES, SitemapError, parse_sitemap
from smo_audit.crawl.urls import (
    DEFAULT_STRIP_PARAMS,
    ScopeChecker,
    compile_globs,
    looks_like_asset,
    names_html_page,
    origin,
    repeating_path,
    site_key,
    split_authority,
    too_long,
    try_normalize,
    url_shape,
)
from smo_audit.errors import TargetError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Connection-level failures worth another try. Timeouts are not retried: a page that is slow
# once is slow again, and retrying would multiply the worst case of every slow page.
RETRY_KINDS = frozenset({"connect", "network", "protocol"})
MAX_SITEMAP_FILES = 50
MAX_LASTMOD = 5000
MAX_TRAP_PATTERNS = 1000  # distinct URL shapes tracked for the trap report (memory bound)
MAX_TRAPS_REPORTED = 20
PROGRESS_INTERVAL = 0.25  # seconds between on_progress calls


@dataclass
class CrawlSettings:
    """What to crawl and how politely. Defaults match the CLI's documented defaults."""

    start_url: str
    scope: Literal["host", "domain", "prefix"] = "host"
    include: tuple[str, ...] = ()  # fnmatch patterns on the URL path; empty = everything
    exclude: tuple[str, ...] = ()
    max_pages: int = 500  # URLs requested at most (pages, errors and duplicates alike)
    max_depth: int = 10  # link hops from the start URL; sitemap URLs count as one hop
    concurrency: int = 8
    per_host: int = 4
    respect_robots: bool = True
    user_agent: str = DEFAULT_USER_AGENT
    limits: FetchLimits = field(default_factory=FetchLimits)
    retries: int = 2  # extra attempts after the first, for RETRY_STATUSES and RETRY_KINDS
    max_retry_wait: float = 10.0  # seconds of waiting between attempts, per URL, at most
    use_sitemaps: bool = True
    strip_params: tuple[str, ...] = DEFAULT_STRIP_PARAMS
    extra_seeds: tuple[str, ...] = ()  # audited even when out of scope or excluded
    # Folder targets: every file of the build, queued after the link crawl like links of depth 0
    # (scope, include/exclude and max_pages apply); a file already audited under another URL is
    # not fetched again. Non-empty also makes the crawler remember which URLs pages link to.
    inventory: tuple[str, ...] = ()
    max_extra_pages: int = 5  # PageLinks.extra (account pages) audited at most, same site only
    retry_backoff: float = 0.5  # first backoff when the server gives no Retry-After; doubles
    # --shard K/N: the URLs this process audits (a stable hash partition, see smo_audit/shard.py).
    # Other URLs are left to their own shard: never fetched here, so no page is fetched twice.
    owns: Callable[[str], bool] | None = None
    # report --merge: the crawl that goes on from the links the shards handed over (handover.py).
    resume: Resume | None = None

    def __post_init__(self) -> None:
        if self.max_pages < 1 or self.max_depth < 0:
            raise ValueError("max_pages must be >= 1 and max_depth >= 0")
        if self.concurrency < 1 or self.per_host < 1:
            raise ValueError("concurrency and per_host must be >= 1")
        if self.retries < 0 or self.max_retry_wait < 0:
            raise ValueError("retries and max_retry_wait must not be negative")
        if self.scope not in ("host", "domain", "prefix"):
            raise ValueError(f"unknown scope {self.scope!r} (host, domain or prefix)")


@dataclass(frozen=True, slots=True)
class ProgressInfo:
    done: int  # URLs finished (pages, errors, duplicates, skipped)
    queued: int  # URLs admitted and not yet finished
    errors: int
    pages_per_second: float
    pages: int = 0  # pages handed to on_page


@dataclass(frozen=True, slots=True)
class Trap:
    """A family of URLs the crawl did not follow because a bound or a trap heuristic stopped it."""

    reason: Literal["max-depth", "repeating-path", "url-too-long"]
    pattern: str  # URL shape with digits and query values collapsed: "/calendar?month"
    example: str
    count: int  # links of this shape that were not followed (counted per link, not per URL)


@dataclass
class CrawlSummary:
    pages_fetched: int  # pages handed to on_page
    errors: int  # calls of on_error
    duplicates: int  # calls of on_duplicate
    partial: bool  # stopped by max_pages / max_depth / trap / cancellation while URLs remained
    stop_reason: str | None  # "max-pages", "max-depth", "trap", "cancelled"
    robots_txt: str | None  # raw text of the start origin's robots.txt
    robots_url: str | None
    sitemaps: tuple[str, ...]  # sitemap URLs read
    sitemap_lastmod: tuple[tuple[str, str], ...]  # (normalised url, lastmod), at most MAX_LASTMOD
    traps: tuple[Trap, ...] = ()
    start_final_url: str | None = None  # where the start URL's redirects ended
    non_html_skipped: int = 0  # linked URLs that answered with something other than HTML
    offsite_redirects: int = 0  # in-scope URLs that redirected out of scope (not audited)
    inventory_left: int = 0  # folder targets: files of the build max_pages left unaudited
    origin_answered: bool = True  # the start origin answered its robots.txt request (any status)
    start_owned: bool = True  # --shard: the start URL is in this shard's partition
    handover: Handover | None = None  # --shard: links left to other partitions (handover.py)
    elapsed_seconds: float = 0.0
    pages_per_second: float = 0.0


@dataclass(slots=True)
class _Item:
    url: str  # normalised
    depth: int
    referrer: str | None
    explicit: bool = False  # start URL / extra seed: "not-html" is an error
    via: HandedRedirect | None = None  # report --merge: fetch its target, where a shard stopped the chain


_Step = HandedLink | tuple[str, HandedRedirect]  # report --merge: a link, or (URL, redirect) to go on with


# Served as XML, an .html page is still shown by browsers (XHTML): not a broken page.
_XML_TYPES = frozenset(("application/xml", "text/xml", "application/xhtml+xml"))


def _page_served_otherwise(url: str, failure: FetchFailure) -> bool:
    """A link to a URL named like a page (`/about.html`) that ended, after any redirects, at a URL
    named like a page served as something browsers do not show as one (a download): a broken
    page, reported. A link that redirects to a PDF, or any other document, is no page."""
    final = failure.final_url or url
    return names_html_page(url) and names_html_page(final) and failure.content_type not in _XML_TYPES


@dataclass(slots=True)
class _Audited:
    url: str  # RawPage.url of the page handed to on_page
    self_canonical: bool = True
    # its canonical is known (the pipeline is done with it): until then a page naming it waits
    canonical_known: bool = False


@dataclass(slots=True)
class _TrapCount:
    count: int
    example: str


class _Host:
    """Politeness state of one host: concurrent requests and spacing between them."""

    __slots__ = ("delay", "lock", "next_at", "semaphore")

    def __init__(self, per_host: int) -> None:
        self.semaphore = asyncio.Semaphore(per_host)
        self.lock = asyncio.Lock()
        self.delay = 0.0  # Crawl-delay, seconds between request starts
        self.next_at = 0.0  # loop time before which no request may start (Crawl-delay, 429)


OnPage = Callable[[RawPage], Awaitable[PageLinks]]
OnError = Callable[[CrawlError], None]
OnDuplicate = Callable[[str, str], None]


class Crawler:
    """Crawls one site once (`run` is called once). See the module docstring for the contract."""

    def __init__(
        self,
        settings: CrawlSettings,
        fetcher: Fetcher,
        *,
        source_root: Path | None = None,
        on_progress: Callable[[ProgressInfo], None] | None = None,
        source_mapper: Callable[[str], str | None] | None = None,
        rewrite: Callable[[str], str] | None = None,
    ) -> None:
        self.settings = settings
        # Folder targets: production URLs (--base-url) found in pages and sitemaps point at the
        # local server instead, so a static build is crawled whole and never off-site.
        self._rewrite = rewrite
        self._fetcher = fetcher
        self._on_progress = on_progress
        if source_mapper is None and source_root is not None:
            from smo_audit.crawl.local_server import source_path_for

            source_mapper = partial(source_path_for, source_root.resolve())
        self._source = source_mapper
        self._strip = tuple(settings.strip_params)
        self._sessions = SessionIds()
        self._include = compile_globs(settings.include)
        self._exclude = compile_globs(settings.exclude)
        self._robots = RobotsCache(self._fetch_robots)
        self._hosts: dict[str, _Host] = {}
        self._scope = ScopeChecker(settings.scope, ())
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._seen: set[str] = set()
        self._audited: dict[str, _Audited] = {}
        # URLs being fetched as pages now -> set once they are audited or failed: a redirect onto
        # one waits for it instead of fetching it a second time (see _process)
        self._fetching: dict[str, asyncio.Event] = {}
        self._pending_canonical: dict[str, list[str]] = {}
        self._admitted = 0
        self._extra_admitted = 0
        self._handed_off = 0  # URLs seen that belong to another shard
        self._start_owned = True  # --shard: the start URL is this shard's (set in run)
        self._handover = Handover() if settings.owns is not None else None
        self._reached_elsewhere: frozenset[str] = frozenset()  # report --merge: fetched by the shards
        self._later: deque[tuple[int, int, _Step]] = deque()  # report --merge: handed-over steps, by depth
        # report --merge: redirects this crawl stopped at a URL a shard fetched (see _stopped_redirect)
        self.stopped_elsewhere: dict[str, HandedRedirect] = {}
        self._start_site: str | None = None
        self._done = 0
        self._pages = 0
        self._errors = 0
        self._duplicates = 0
        self._non_html = 0
        self._offsite = 0
        self._stop_reason: str | None = None
        self._traps: dict[tuple[str, str], _TrapCount] = {}  # (reason, URL shape) -> count
        self._sitemaps_read: list[str] = []
        self._lastmod: list[tuple[str, str]] = []
        self._robots_file: RobotsFile | None = None
        self._start_final: str | None = None
        self._started = 0.0
        self._last_progress = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._track_links = bool(settings.inventory)
        self._linked: set[str] = set()  # folder targets: normalised URLs some page links to
        self._delivered_sources: set[str] = set()  # folder targets: files handed to on_page
        self._inventory_left = 0  # inventory URLs not admitted (max_pages)
        self._on_page: OnPage | None = None
        self._on_error: OnError | None = None
        self._on_duplicate: OnDuplicate | None = None
        if settings.resume is not None:
            self._resume(settings.resume)

    def _resume(self, resume: Resume) -> None:
        """The merge's crawl: what the shards fetched is seen, their pages are audited already.

        `resume.fetched` holds the pages' URLs too (final and requested): each is normalised once."""
        self._strip = strip = tuple(dict.fromkeys((*self._strip, *resume.strip)))
        self._reached_elsewhere = resume.fetched
        for final, url in resume.audited.items():
            final = try_normalize(final, strip) or final
            self._audited.setdefault(final, _Audited(url, self_canonical=url not in resume.other_canonical,
                                                     canonical_known=True))
        for url in resume.fetched:
            self._seen.add(try_normalize(url, strip) or url)

    # -- public -----------------------------------------------------------------------------

    async def run(self, on_page: OnPage, on_error: OnError, on_duplicate: OnDuplicate) -> CrawlSummary:
        """Crawl the site, calling back as pages arrive; return what happened."""
        self._on_page, self._on_error, self._on_duplicate = on_page, on_error, on_duplicate
        self._started = time.perf_counter()
        try:
            await self._crawl()
        except (asyncio.CancelledError, KeyboardInterrupt):
            # Deliberately swallowed: the caller gets what was crawled as a partial summary.
            # uncancel() so that the caller's own awaits (site rules, writing the report) and
            # asyncio.timeout() blocks around us behave as if nothing was pending.
            self._stop_reason = "cancelled"
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                task.uncancel()
        finally:
            await self._stop_tasks()
        self._report_traps()
        self._progress(force=True)
        return self._summary()

    async def robots_refusal(self, url: str, user_agent: str) -> str | None:
        """The fetch policy's robots check for requests other than pages (images, feeds, bot
        fetches): why robots.txt forbids `url` to `user_agent`, or None. Shares this crawl's
        robots.txt cache; with --ignore-robots nothing is refused."""
        if not self.settings.respect_robots:
            return None
        normalized = try_normalize(url, ())
        if normalized is None:
            return None  # not an http(s) URL: the fetch itself reports it
        robots = await self._robots_for(origin(normalized))
        if robots.allowed(normalized, user_agent):
            return None
        token = user_agent.split("/", 1)[0].split(" ", 1)[0]
        return f"not fetched: {robots.url} disallows it for {token}"

    # -- the crawl ----------------------------------------------------------------------------

    async def _crawl(self) -> None:
        settings = self.settings
        start = try_normalize(settings.start_url, self._strip)
        if start is None:
            raise TargetError(f"{settings.start_url} is not an http(s) URL that can be audited.")
        self._scope.add_start(start)
        self._start_site = site_key(split_authority(start)[0])
        # The start origin's robots.txt is read even with --ignore-robots: site rules check
        # social-network bots against it.
        robots = await self._robots_for(origin(start))
        self._robots_file = robots
        if settings.respect_robots and not robots.allowed(start, settings.user_agent):
            reason = robots.note or f"{robots.url} disallows it for {settings.user_agent.split('/')[0]}"
            raise TargetError(f"{start} may not be crawled: {reason} (use --ignore-robots to audit it anyway).")
        reached = start in self._seen  # report --merge: a shard audited the start page
        self._seen.add(start)
        self._admitted = 1
        self._start_owned = not reached and (settings.owns is None or settings.owns(start))
        if self._start_owned:
            await self._audit_start(_Item(start, 0, None, explicit=True))
        else:
            self._start_final = start  # another shard audits the start page
        self._done = 1
        self._progress(force=True)

        for seed in settings.extra_seeds:
            self._consider(seed, 0, None, explicit=True)
        if settings.resume is not None:
            await self._go_on(settings.resume)
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(settings.concurrency)]
        if settings.use_sitemaps:
            await self._load_sitemaps(robots, start)
        await self._queue.join()
        while self._later:  # report --merge: the handed-over steps the crawl's own depths did not release
            self._release(self._later[0][0])
            await self._queue.join()
        if settings.inventory:
            self._queue_inventory()
            await self._queue.join()

    async def _go_on(self, resume: Resume) -> None:
        """report --merge: queue the handed-over links, in the scope the shards had."""
        for final in resume.start_finals:
            url = try_normalize(final, self._strip)
            if url is not None and not self._scope(url):
                self._scope.add_start(url)  # the start redirected to another host: the site is there
                await self._robots_for(origin(url))
        self._extra_admitted = min(resume.extra_admitted, self.settings.max_extra_pages)  # the shards' account pages
        owns = self.settings.owns
        # Shallowest first, redirects before links of the same depth, each depth queued when the
        # crawl gets there (_release): a link to a redirect's target found first makes the
        # redirect its duplicate, and depths count as in one process's breadth-first crawl.
        steps: list[tuple[int, int, _Step]] = [
            *((r.depth, 0, (url, r)) for url, r in resume.continued if owns is None or owns(r.target)),
            *((link.depth, 1, link) for link in resume.frontier)]
        steps.sort(key=lambda step: (step[0], step[1]))
        self._later.extend(steps)

    def _release(self, depth: int) -> None:
        """report --merge: queue the handed-over steps of `depth` and shallower."""
        later = self._later
        while later and later[0][0] <= depth:
            step = later.popleft()[2]
            if isinstance(step, HandedLink):
                if step.explicit:  # an account page: same site, a few, as for the shard
                    self._consider_extra(step.url, step.depth, step.referrer)
                else:
                    self._consider(step.url, step.depth, step.referrer)
            elif step[1].target in self._seen:
                pass  # a link got there first: the merge lists the redirect as its duplicate after
            elif self._admitted >= self.settings.max_pages:
                self._stop_reason = self._stop_reason or "max-pages"
            else:
                url, redirect = step
                self._seen.add(redirect.target)  # fetched as this redirect's page, not twice
                self._admitted += 1
                self._queue.put_nowait(_Item(url, redirect.depth, redirect.referrer, via=redirect))

    def _queue_inventory(self) -> None:
        """Queue the build's files that links and sitemaps did not reach (see `inventory`)."""
        for position, url in enumerate(self.settings.inventory):
            source = self._source(url) if self._source is not None else None
            if source is not None and source in self._delivered_sources:
                continue
            if self._admitted >= self.settings.max_pages:
                self._stop_reason = self._stop_reason or "max-pages"
                self._inventory_left = sum(
                    1 for u in self.settings.inventory[position:]
                    if self._source is None or self._source(u) not in self._delivered_sources
                )
                return
            self._consider(url, 0, None, served=True)

    async def _audit_start(self, item: _Item) -> None:
        """Audit the start URL; one that cannot be audited ends the run (TargetError), except in a
        folder audit, where the start page is one file of the build's inventory: its failure is
        that page's error, and the other files are audited all the same."""
        try:
            response = await self._fetch_obeying_robots(item.url, self._stop_for_robots, explicit=True, html_only=True)
        except FetchFailure as failure:
            if self.settings.inventory:
                self._error(CrawlError(item.url, failure.kind, failure.message, failure.status))
                return
            raise TargetError(_sentence(failure.message)) from None
        if response.status >= 400:
            if self.settings.inventory:
                self._error(CrawlError(item.url, "http-status", _status_message(item.url, response), response.status))
                return
            raise TargetError(f"{item.url} answered HTTP {_status_text(response.status)}.")
        final = try_normalize(response.final_url, self._strip) or item.url
        if response.status in REDIRECT_STATUSES and final != item.url:  # stopped: robots.txt disallows the hop
            raise TargetError(f"{item.url} redirects to {final}, which may not be crawled: "
                              f"{self._disallow_reason(final)} (use --ignore-robots to audit it anyway).")
        self._start_final = final
        if final != item.url:
            # http -> https, example.com -> www.example.com: the site is where the start lands.
            self._scope.add_start(final)
            self._seen.add(final)
            await self._robots_for(origin(final))
        await self._deliver(item, response, final)

    async def _worker(self) -> None:
        queue = self._queue
        while True:
            item = await queue.get()
            if self._later and self._later[0][0] <= item.depth:
                self._release(item.depth)
            try:
                await self._process(item)
            except Exception as exc:  # a bug must not hang queue.join() or stop the crawl
                self._error(CrawlError(item.url, "internal", f"crawling {item.url} failed: {exc!r}", None, item.referrer))
            finally:
                self._done += 1
                queue.task_done()
                self._progress()

    async def _process(self, item: _Item) -> None:
        if item.url in self._audited:  # already audited as the target of a redirect
            return
        done = self._fetching[item.url] = asyncio.Event()
        try:
            await self._process_page(item, done)
        finally:
            self._release_fetching(item.url, done)

    def _release_fetching(self, url: str, done: asyncio.Event) -> None:
        if self._fetching.get(url) is done:
            del self._fetching[url]
        done.set()

    async def _process_page(self, item: _Item, done: asyncio.Event, *, wait: bool = True) -> None:
        """Fetch and deliver one page. `wait`: a redirect onto a page another item is fetching
        stops there and waits for it (once: the second try follows every redirect)."""
        if item.via is not None:
            if not await self._may_go_on(item, item.via.target):
                return
        elif self.settings.respect_robots:
            robots = await self._robots_for(origin(item.url))
            if not robots.allowed(item.url, self.settings.user_agent):
                self._disallowed(item.url, robots, item.referrer)
                return
        in_flight: list[str] = []  # the page in flight this chain stopped at, if it did
        stop = self._stop_for_robots if item.explicit else \
            partial(self._stop_redirect, fetching=item.url, in_flight=in_flight if wait else None)
        # report --merge: the page of the URL whose redirect chain a shard stopped, from there on
        after = () if item.via is None else tuple(Redirect(url, status) for url, status in item.via.hops)
        try:
            response = await self._fetch_obeying_robots(
                item.url if item.via is None else item.via.target, stop, explicit=item.explicit, html_only=True,
                after=after,
            )
            if item.via is not None:
                response = replace(response, url=item.url)
        except FetchFailure as failure:
            if failure.kind == "not-html" and not item.explicit and not _page_served_otherwise(item.url, failure):
                self._non_html += 1  # a linked PDF, image or download: not a page, not an error
                if self._handover is not None:
                    self._handover.fetched_without_page(item.url)
                return
            self._error(CrawlError(item.url, failure.kind, failure.message, failure.status, item.referrer))
            return
        if response.status >= 400:
            self._error(CrawlError(
                item.url, "http-status", _status_message(item.url, response), response.status, item.referrer
            ))
            return
        final = try_normalize(response.final_url, self._strip) or item.url
        if response.status in REDIRECT_STATUSES and in_flight:  # the chain stopped there (nowhere else)
            final = in_flight[-1]  # as normalised then: a session id found meanwhile changes nothing
            # A redirect onto a page another item was fetching (linked from another page): once
            # that fetch is done this URL is its duplicate, as when it was audited first. This
            # item stops counting as in flight first, so two URLs redirecting to each other cannot
            # wait for one another. If that page was not audited under that URL (its fetch failed,
            # it redirected on, or it was waiting itself), the chain is followed again, to the end
            # this time: its outcome is then this URL's own, as before.
            fetching = self._fetching.get(final)
            if fetching is not None:
                self._release_fetching(item.url, done)
                await fetching.wait()
            if final not in self._audited:
                await self._process_page(item, done, wait=False)
                return
        if response.status in REDIRECT_STATUSES:  # the chain was stopped by _stop_redirect
            self._stopped_redirect(item, final, response.redirects)
            return
        if final != item.url and not self._scope(final) and not item.explicit:
            self._offsite += 1
            if self._handover is not None:
                self._handover.fetched_without_page(item.url)
            return
        await self._deliver(item, response, final)

    async def _may_go_on(self, item: _Item, target: str) -> bool:
        """report --merge: the redirect hop a shard stopped at, checked as a hop of the chain."""
        previous = self._audited.get(target)
        if previous is not None:
            self._duplicate(item.url, previous.url)
            return False
        if self.settings.respect_robots:
            robots = await self._robots_for(origin(target))
            if not robots.allowed(target, self.settings.user_agent):
                self._error(CrawlError(item.url, "robots-disallowed",
                                       f"{item.url} redirects to {target}, which {robots.url} disallows",
                                       None, item.referrer))
                return False
        return True

    def _stop_redirect(self, target: str, fetching: str | None = None, in_flight: list[str] | None = None) -> bool:
        """Don't follow a redirect to a page already audited, out of scope, or disallowed, nor
        (given `in_flight`, where it is then noted) to one another item is fetching now: not
        `fetching`, this chain's own URL (/(S(id))/a -> /a)."""
        url = try_normalize(target, self._strip)
        if url is None:
            return False
        if url in self._audited or not self._scope(url):
            return True
        if in_flight is not None and url != fetching and url in self._fetching:
            in_flight.append(url)  # being fetched as a page now: _process_page waits for it
            return True
        if self.settings.owns is not None and not self.settings.owns(url):
            return True  # --shard: another partition's page (_stopped_redirect hands it over)
        if url in self._reached_elsewhere:
            return True  # report --merge: a shard fetched it (_stopped_redirect)
        return self._robots_stops(url)

    def _stop_for_robots(self, target: str) -> bool:
        """Explicit pages (an account page on a sibling host, a seed) follow redirects anywhere,
        but not onto a path robots.txt disallows, nor to an origin whose robots.txt is unread."""
        url = try_normalize(target, self._strip)
        return url is not None and self._robots_stops(url)

    def _robots_stops(self, url: str) -> bool:
        """True when robots.txt disallows `url`, or its origin's robots.txt is not read yet (the
        chain stops there, so _process reads it before any request goes to that origin)."""
        if not self.settings.respect_robots:
            return False
        robots = self._robots.peek(origin(url))
        return robots is None or not robots.allowed(url, self.settings.user_agent)

    def _stop_sitemap_redirect(self, target: str) -> bool:
        """A sitemap's redirect is followed like the sitemap itself: inside the crawl's scope, and
        onto no path robots.txt disallows (nor to an origin whose robots.txt is unread)."""
        url = try_normalize(target, ())
        return url is None or not self._scope(url) or self._robots_stops(url)

    async def _fetch_obeying_robots(self, url: str, stop: Callable[[str], bool], *, explicit: bool,
                                    html_only: bool = False, max_bytes: int | None = None,
                                    after: tuple[Redirect, ...] = ()) -> RawResponse:
        """`_fetch` whose redirect chain stops where `stop` says. A chain stopped at an origin whose
        robots.txt is unread (in scope, or anywhere for an `explicit` URL) reads it, outside the
        host slot the fetch held, and fetches again: once per origin, so the chain then stops only
        where robots.txt disallows or `stop` refuses. A server that redirects somewhere new on every
        request (another port or host each time) would make that endless: the rounds are capped
        at the redirects a chain may have."""
        rounds = self._fetcher.limits.max_redirects + 1
        for _ in range(rounds):
            response = await self._fetch(url, html_only=html_only, max_bytes=max_bytes, stop_redirect=stop, after=after)
            final = try_normalize(response.final_url, ()) if response.status in REDIRECT_STATUSES else None
            if final is None or not self._robots_unknown(final, explicit):
                return response
            await self._robots_for(origin(final))
        raise FetchFailure(url, "too-many-redirects",
                           f"{url} redirected to a new address on each of {rounds} requests")

    def _disallow_reason(self, url: str) -> str:
        robots = self._robots.peek(origin(url))
        if robots is None:
            return "its robots.txt could not be read"
        return robots.note or f"{robots.url} disallows it for {self.settings.user_agent.split('/')[0]}"

    def _robots_unknown(self, url: str, explicit: bool) -> bool:
        """A redirect target the page may go to whose origin's robots.txt has not been read yet."""
        return (self.settings.respect_robots and url not in self._audited and (explicit or self._scope(url))
                and self._robots.peek(origin(url)) is None)

    def _stopped_redirect(self, item: _Item, final: str, redirects: tuple[Redirect, ...] = ()) -> None:
        owns = self.settings.owns
        previous = None if item.explicit else self._audited.get(final)  # explicit: robots only
        if previous is not None:
            self._duplicate(item.url, previous.url)
        elif final in self._reached_elsewhere:
            # report --merge: a shard fetched it (a page, an error, no page): judged after the crawl
            hops = tuple((hop.url, hop.status) for hop in redirects)
            self.stopped_elsewhere[item.url] = HandedRedirect(final, item.depth, item.referrer, hops)
        elif not self._scope(final) and not item.explicit:
            self._offsite += 1  # e.g. /twitter -> twitter.com: not a page of this site
            if self._handover is not None:
                self._handover.fetched_without_page(item.url)
        elif self._handover is not None and not item.explicit and owns is not None and not owns(final):
            # Another partition's page: its shard (or the merge) audits it, and the merge lists
            # this URL as its duplicate.
            hops = tuple((hop.url, hop.status) for hop in redirects)
            self._handover.redirect(item.url, HandedRedirect(final, item.depth, item.referrer, hops))
        else:
            robots = self._robots.peek(origin(final))
            reason = robots.url if robots else "robots.txt"
            self._error(CrawlError(
                item.url, "robots-disallowed",
                f"{item.url} redirects to {final}, which {reason} disallows", None, item.referrer,
            ))

    async def _deliver(self, item: _Item, response: RawResponse, final: str) -> None:
        """Hand a fetched HTML page to the pipeline (or report it as a duplicate) and grow the frontier."""
        previous = self._audited.get(final)
        if previous is not None:
            self._duplicate(item.url, previous.url)
            return
        entry = _Audited(response.url)
        self._audited[final] = entry  # before any await: a concurrent redirect to `final` is a duplicate
        self._seen.add(final)
        source = self._source(response.final_url) if self._source is not None else None
        if source is not None:
            self._delivered_sources.add(source)
        page = RawPage(response, depth=item.depth, source_path=source, referrer=item.referrer)
        del response
        self._pages += 1
        assert self._on_page is not None
        try:
            links = await self._on_page(page)
        except Exception as exc:
            self._error(CrawlError(item.url, "processing", f"processing {item.url} failed: {exc!r}", None, item.referrer))
            return
        finally:
            del page  # the body can go now; only the pipeline's facts remain
        self._session_ids(links.links)
        self._canonical(item, final, entry, links.canonical)
        depth = item.depth + 1
        consider = self._consider
        for link in links.links:
            consider(link, depth, item.url, linked=self._track_links)
        for link in links.extra:
            self._consider_extra(link, depth, item.url)

    def _session_ids(self, links: tuple[str, ...]) -> None:
        """Session ids in links are always reported, and ignored when URLs are compared (sessions.py)."""
        for param in self._sessions.scan(links):
            if not any(fnmatchcase(param.strip, p.lower()) for p in self._strip):
                self._strip = (*self._strip, param.strip)
            self._error(CrawlError(param.example, "session-id", session_message(param)))

    def _canonical(self, item: _Item, final: str, entry: _Audited, canonical: str | None) -> None:
        url = item.url
        entry.canonical_known = True
        waiting = [*self._pending_canonical.pop(final, ()), *self._pending_canonical.pop(url, ())]
        if canonical and self._rewrite is not None:
            canonical = self._rewrite(canonical)
        canon = try_normalize(canonical, self._strip) if canonical else None
        if canon is None or canon in (final, url):
            # This page is its own canonical: the pages that named it are its duplicates.
            for duplicate in waiting:
                self._duplicate(duplicate, entry.url)
            return
        # Pages naming this one while it names another form a canonical chain: not reported as
        # duplicates (the canonical rules flag chains), so `waiting` is dropped.
        entry.self_canonical = False
        if not self._scope(canon):
            return
        target = self._audited.get(canon)
        if target is not None and target.canonical_known:
            if target.self_canonical:
                self._duplicate(url, target.url)
            return
        # Not audited yet, or still in the pipeline (whether it names yet another page, making a
        # chain, is not known before that): decided when its canonical is.
        self._pending_canonical.setdefault(canon, []).append(url)
        if canon not in self._seen:
            # Queued like a link of this page, at the same depth: it is the page's other name.
            self._consider(canon, item.depth, url)

    def _consider(self, raw: str, depth: int, referrer: str | None, *, explicit: bool = False,
                  linked: bool = False, listed: bool = False, served: bool = False) -> None:
        """Admit a discovered URL to the frontier if it is new, in scope, allowed and within bounds.

        `listed`: a sitemap entry. `served`: a build file's own URL on the folder server, never
        rewritten (under a base path /docs/, the file docs/other/index.html is served at
        /docs/other/, which the rewrite of links written with the base path would make /other/).
        --shard: a URL of another partition is handed over (handover.py) unless a sitemap lists it,
        before or after the link."""
        if self._rewrite is not None and not served:
            raw = self._rewrite(raw)
        url = try_normalize(raw, self._strip)
        if url is None:
            return
        if linked and url != referrer and self._scope(url):
            self._linked.add(url)
        if url in self._seen:
            if listed and self._handover is not None:
                self._handover.listed(url)
            return
        owns = self.settings.owns
        if owns is not None and (explicit or self._scope(url)) and not owns(url):
            # Another partition's page (an out-of-scope URL stays unseen: it may come back as an
            # account page, explicit, which _consider_extra admits).
            self._seen.add(url)
            self._handed_off += 1
            if not listed and self._handover is not None:
                self._handover.hand(HandedLink(url, depth, referrer, explicit))
            return
        if not explicit:
            if not self._scope(url):
                return
            path = split_authority(url)[1]
            if looks_like_asset(path):
                return
            if self._include is not None and not self._include.match(path):
                return
            if self._exclude is not None and self._exclude.match(path):
                return
            if too_long(url):
                self._trap("url-too-long", url)
                return
            if repeating_path(path):
                self._trap("repeating-path", url)
                return
            if depth > self.settings.max_depth:
                self._trap("max-depth", url)
                return
        if self._admitted >= self.settings.max_pages:
            self._stop_reason = self._stop_reason or "max-pages"
            return
        self._seen.add(url)
        if self.settings.respect_robots:
            robots = self._robots.peek(origin(url))
            if robots is not None and not robots.allowed(url, self.settings.user_agent):
                self._disallowed(url, robots, referrer)
                return
        self._admitted += 1
        self._queue.put_nowait(_Item(url, depth, referrer, explicit))

    def _consider_extra(self, raw: str, depth: int, referrer: str | None) -> None:
        """Account pages the sign-in rules want: audited outside the normal scope, on the same
        site only (auth.example.com for www.example.com), and only a few of them."""
        if self._rewrite is not None:
            raw = self._rewrite(raw)
        url = try_normalize(raw, self._strip)
        if url is None or url in self._seen:
            return
        if self._scope(url):
            self._consider(url, depth, referrer)
            return
        if self._extra_admitted >= self.settings.max_extra_pages or self._start_site is None:
            return
        if site_key(split_authority(url)[0]) != self._start_site:
            return
        self._extra_admitted += 1
        self._consider(url, depth, referrer, explicit=True)

    # -- sitemaps -----------------------------------------------------------------------------

    async def _load_sitemaps(self, robots: RobotsFile, start: str) -> None:
        """Seed the frontier from robots.txt Sitemap: lines and /sitemap.xml, indexes included.

        Only sitemaps inside the crawl scope are read. A sitemap named in robots.txt that cannot
        be read is reported (kind "sitemap"); a missing /sitemap.xml that nobody named is not.
        """
        start_origin = origin(start)
        declared = list(robots.sitemaps)
        todo: list[tuple[str, bool]] = [(url, True) for url in declared]
        guess = start_origin + "/sitemap.xml"
        if not any(try_normalize(u, ()) == guess for u in declared):
            todo.append((guess, False))
        done: set[str] = set()
        while todo and len(done) < MAX_SITEMAP_FILES:
            url, named = todo.pop(0)
            if self._rewrite is not None:
                url = self._rewrite(url)
            if url in done:
                continue
            done.add(url)
            normalised = try_normalize(url, ())
            if normalised is None or not self._scope(normalised):
                # A sitemap on another host (often the production domain in a local build's
                # robots.txt) lists pages we would not crawl anyway; don't go off-site for it.
                continue
            if not named and self.settings.respect_robots and not robots.allowed(url, self.settings.user_agent):
                continue
            try:
                response = await self._fetch_obeying_robots(url, self._stop_sitemap_redirect, explicit=False,
                                                       max_bytes=SITEMAP_MAX_BYTES)
            except FetchFailure as failure:
                if named:
                    self._error(CrawlError(url, "sitemap", f"the sitemap {url} could not be read: {failure.message}", failure.status))
                continue
            if response.status in REDIRECT_STATUSES and response.final_url != url:
                if named:  # the chain stopped at a hop out of scope or under a Disallow
                    hop = try_normalize(response.final_url, ()) or "a URL that cannot be fetched"
                    message = f"the sitemap {url} redirects to {hop}, outside the crawl or disallowed by robots.txt"
                    self._error(CrawlError(url, "sitemap", message, response.status))
                continue
            if response.status >= 400:
                if named:
                    self._error(CrawlError(
                        url, "sitemap", f"the sitemap {url} answered HTTP {_status_text(response.status)}", response.status
                    ))
                continue
            try:
                parsed = parse_sitemap(response.body)
            except SitemapError as exc:
                if named or response.headers.get("content-type", "").startswith(("application/xml", "text/xml")):
                    self._error(CrawlError(url, "sitemap", f"the sitemap {url} could not be read: {exc}", response.status))
                continue
            del response
            self._sitemaps_read.append(url)
            todo.extend((child.loc, True) for child in parsed.sitemaps)
            for entry in parsed.urls:
                if entry.lastmod and len(self._lastmod) < MAX_LASTMOD:
                    normalised = try_normalize(entry.loc, self._strip)
                    if normalised is not None:
                        self._lastmod.append((normalised, entry.lastmod))
                self._consider(entry.loc, 1, url, listed=True)
            await asyncio.sleep(0)  # let workers start on what was just queued

    # -- fetching, politeness, retries --------------------------------------------------------

    def _host(self, url: str) -> _Host:
        key = split_authority(url)[0] if "://" in url else url
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(self.settings.per_host)
        return host

    async def _robots_for(self, origin_url: str) -> RobotsFile:
        robots = self._robots.peek(origin_url)
        if robots is None:
            robots = await self._robots.get(origin_url)
            if self.settings.respect_robots:
                self._host(origin_url + "/").delay = robots.crawl_delay(self.settings.user_agent)
        return robots

    async def _fetch_robots(self, url: str) -> RawResponse:
        return await self._fetch(url, max_bytes=ROBOTS_MAX_BYTES, truncate=True)

    async def _fetch(
        self,
        url: str,
        *,
        html_only: bool = False,
        max_bytes: int | None = None,
        truncate: bool = False,
        stop_redirect: Callable[[str], bool] | None = None,
        after: tuple[Redirect, ...] = (),
    ) -> RawResponse:
        """One URL with per-host limits, pacing and bounded retries (count and waiting time)."""
        settings = self.settings
        host = self._host(url)
        waited = 0.0
        attempt = 0
        while True:
            response: RawResponse | None = None
            async with host.semaphore:
                if host.next_at or host.delay:
                    await self._pace(host)
                try:
                    response = await self._fetcher.fetch(
                        url, user_agent=settings.user_agent, html_only=html_only,
                        max_bytes=max_bytes, truncate=truncate, stop_redirect=stop_redirect, after=after,
                    )
                except FetchFailure as failure:
                    if failure.kind not in RETRY_KINDS or attempt >= settings.retries:
                        raise
                    delay = self._backoff(attempt)
                    if waited + delay > settings.max_retry_wait:
                        raise
            if response is not None:
                if response.status not in RETRY_STATUSES or attempt >= settings.retries:
                    return response
                asked = retry_after_seconds(response.headers)
                delay = asked if asked is not None else self._backoff(attempt)
                if waited + delay > settings.max_retry_wait:
                    return response  # reported as http-status with what the server asked for
                if asked is not None and response.status in (429, 503):
                    # The whole host asked us to slow down, not just this URL.
                    loop_time = asyncio.get_running_loop().time()
                    host.next_at = max(host.next_at, loop_time + delay)
            waited += delay
            attempt += 1
            await asyncio.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        return self.settings.retry_backoff * (1 << attempt) * (1 + random.random() * 0.25)

    @staticmethod
    async def _pace(host: _Host) -> None:
        async with host.lock:
            loop = asyncio.get_running_loop()
            wait = host.next_at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            host.next_at = loop.time() + host.delay if host.delay else 0.0

    # -- reporting ----------------------------------------------------------------------------

    def _error(self, error: CrawlError) -> None:
        self._errors += 1
        assert self._on_error is not None
        self._on_error(error)

    def _duplicate(self, url: str, duplicate_of: str) -> None:
        if url == duplicate_of:
            return
        self._duplicates += 1
        assert self._on_duplicate is not None
        self._on_duplicate(url, duplicate_of)

    def _disallowed(self, url: str, robots: RobotsFile, referrer: str | None) -> None:
        reason = robots.note or f"{robots.url} disallows it for {self.settings.user_agent.split('/')[0]}"
        self._error(CrawlError(url, "robots-disallowed", f"{url} was not fetched: {reason}", None, referrer))

    def _trap(self, reason: str, url: str) -> None:
        self._stop_reason = self._stop_reason or ("max-depth" if reason == "max-depth" else "trap")
        key = (reason, url_shape(url))
        record = self._traps.get(key)
        if record is not None:
            record.count += 1
        elif len(self._traps) < MAX_TRAP_PATTERNS:
            self._traps[key] = _TrapCount(1, url)

    def _trap_list(self) -> list[Trap]:
        traps = [
            Trap(reason, shape, record.example, record.count)  # type: ignore[arg-type]
            for (reason, shape), record in self._traps.items()
        ]
        traps.sort(key=lambda t: (-t.count, t.pattern))
        return traps[:MAX_TRAPS_REPORTED]

    def _report_traps(self) -> None:
        for trap in self._trap_list():
            if trap.reason == "max-depth":
                message = (
                    f"{trap.count} link(s) like {trap.pattern} lead deeper than --max-depth "
                    f"{self.settings.max_depth} and were not crawled (a crawler trap, or a deep site)"
                )
                kind = "max-depth"
            else:
                what = "an ever-growing path" if trap.reason == "repeating-path" else "an overlong URL"
                message = f"{trap.count} link(s) like {trap.pattern} have {what} (a crawler trap) and were not crawled"
                kind = "crawl-trap"
            self._error(CrawlError(trap.example, kind, message))

    def _progress(self, force: bool = False) -> None:
        if self._on_progress is None:
            return
        now = time.perf_counter()
        if not force and now - self._last_progress < PROGRESS_INTERVAL:
            return
        self._last_progress = now
        elapsed = max(now - self._started, 1e-9)
        self._on_progress(ProgressInfo(
            done=self._done, queued=self._queue.qsize(), errors=self._errors,
            pages_per_second=self._pages / elapsed, pages=self._pages,
        ))

    async def _stop_tasks(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def linked_sources(self) -> frozenset[str]:
        """Folder targets: the files some audited page links to (each linked URL resolved once)."""
        if self._source is None:
            return frozenset()
        return frozenset(s for url in self._linked if (s := self._source(url)) is not None)

    def _summary(self) -> CrawlSummary:
        elapsed = time.perf_counter() - self._started
        if self._handover is not None:
            self._handover.strip = [p for p in self._strip if p not in self.settings.strip_params]
            self._handover.start_final = self._start_final
            handed = sum(1 for link in self._handover.links.values() if link.explicit)  # the merge counts those
            self._handover.extra_admitted = self._extra_admitted - handed
        robots = self._robots_file
        return CrawlSummary(
            pages_fetched=self._pages,
            errors=self._errors,
            duplicates=self._duplicates,
            partial=self._stop_reason is not None,
            stop_reason=self._stop_reason,
            robots_txt=robots.text if robots else None,
            robots_url=robots.url if robots else None,
            sitemaps=tuple(self._sitemaps_read),
            sitemap_lastmod=tuple(self._lastmod),
            traps=tuple(self._trap_list()),
            start_final_url=self._start_final,
            non_html_skipped=self._non_html,
            offsite_redirects=self._offsite,
            inventory_left=self._inventory_left,
            origin_answered=robots is not None and robots.status is not None,
            start_owned=self._start_owned,
            handover=self._handover,
            elapsed_seconds=elapsed,
            pages_per_second=self._pages / elapsed if elapsed > 0 else 0.0,
        )


def _status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _status_message(url: str, response: RawResponse) -> str:
    message = f"{url} answered HTTP {_status_text(response.status)}"
    asked = retry_after_seconds(response.headers) if response.status in RETRY_STATUSES else None
    if asked is not None:
        message += f" and asked to retry after {asked:g} s"
    return message


def _sentence(message: str) -> str:
    message = message.strip().rstrip(".")
    if message.startswith(("http://", "https://")):
        return message + "."  # a URL keeps its lower-case scheme
    return message[:1].upper() + message[1:] + "."
