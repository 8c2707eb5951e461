"""The audit pipeline: target -> crawl -> extract -> page rules -> site rules -> scored Report.

Pages are processed as they arrive and only their facts and findings are kept (the DOM and the
Document die inside `_on_page`), so memory grows with the number of pages, not their size.
The CLI only wires options into `run_audit`; everything else happens here.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from smo_audit import TOOL_NAME, __version__
from smo_audit.config import AuditConfig, rule_set_arguments
from smo_audit.crawl.addresses import PrivateMode
from smo_audit.crawl.crawler import Crawler, CrawlSettings, CrawlSummary, ProgressInfo
from smo_audit.crawl.fetcher import DEFAULT_USER_AGENT, Fetcher, FetchLimits
from smo_audit.crawl.folder import (
    ERROR_PAGES,
    Skipped,
    detect_origin,
    list_build,
    orphan_files,
    served_path,
)
from smo_audit.crawl.handover import HandedRedirect, Handover, Resume
from smo_audit.crawl.models import CrawlError, PageLinks, RawPage
from smo_audit.crawl.policy import FetchPolicy, address_policy_for
from smo_audit.crawl.settle import (
    MergedPages,
    canonical_duplicates,
    other_canonicals,
    settle_redirects,
)
from smo_audit.crawl.urls import DEFAULT_STRIP_PARAMS, try_normalize
from smo_audit.engine.api import AuditSettings, PageRecord, SiteContext, SiteInfo
from smo_audit.engine.explain import explain
from smo_audit.engine.page_audit import PageAuditor, PageAuditSpec, WorkedPage
from smo_audit.engine.records import compact_record
from smo_audit.engine.registry import BUILTIN_SOURCE, LoadedRules, load_rules
from smo_audit.engine.resources import ResourceCache
from smo_audit.engine.runner import RuleRunner, RuleSet, scored
from smo_audit.engine.scoring import Scored, ScoringProfile, SiteScorer, broken_page
from smo_audit.engine.site_records import SiteRecords
from smo_audit.errors import TargetError, UsageError
from smo_audit.extract import Extractor
from smo_audit.extract.facts import PageFacts
from smo_audit.extract.workers import ExtractionPool, ProcessingTimeout
from smo_audit.gate.thresholds import PROBLEM_STATUSES, Tally, Thresholds, evaluate
from smo_audit.preview import Thumbnails
from smo_audit.report import model as rm
from smo_audit.report.published import Published
from smo_audit.report.spool import (
    PageEntry,
    PageSpool,
    ndjson_page_line,
    page_json,
    report_page_text,
)
from smo_audit.report.wording import plural

if TYPE_CHECKING:
    from smo_audit.render.facts import RenderedPage
    from smo_audit.render.session import Renderer
    from smo_audit.shard import Shard

_HOSTNAME = re.compile(r"^(localhost|[a-z0-9-]+(\.[a-z0-9-]+)+)(:\d+)?(/.*)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """What the user asked to audit, resolved: a URL, or a folder served on loopback."""

    text: str
    url: str | None = None
    folder: Path | None = None


def resolve_target(text: str) -> Target:
    """Turn the TARGET argument into a URL or a folder, or one clear sentence (exit 3).

    An empty TARGET is a usage error (exit 2), not the working directory: `"$BUILD_DIR"` with the
    variable unset in CI would otherwise audit the repository's checkout and pass."""
    stripped = text.strip()
    if not stripped:
        raise UsageError("TARGET is empty: give a URL or the folder of a built site (an unset variable in the command?)")
    if "://" in stripped:
        try:
            parts = urlsplit(stripped)
        except ValueError:  # "http://[::1/": an unclosed IPv6 bracket
            raise TargetError(f"{text!r} is not a valid URL (its host cannot be read)") from None
        if parts.scheme.lower() not in ("http", "https"):
            raise TargetError(f"{text!r} is not an http(s) URL: smo-audit audits web pages over HTTP")
        try:
            port_ok = parts.port is None or 0 < parts.port < 65536
        except ValueError:
            port_ok = False
        if not parts.hostname or not port_ok:
            raise TargetError(f"{text!r} is not a valid URL (no host name, or a bad port)")
        return Target(text, url=stripped)
    path = Path(stripped).expanduser()
    if path.is_dir():
        return Target(text, folder=path.resolve())
    if path.is_file():
        raise TargetError(f"{text!r} is a file: give the folder that contains your built site (e.g. ./public)")
    if _HOSTNAME.match(stripped) and not stripped.startswith((".", "/", "~")):
        return Target(text, url="https://" + stripped)
    raise TargetError(f"{text!r} is neither an http(s) URL nor an existing folder")


@dataclass
class _Collected:
    """What an audit keeps per page: a compact record for the site rules and its scored findings.

    The pages themselves (facts, findings, previews: the bulk of a report) go to the spool on disk
    when there is one (the CLI), else to `pages` (library callers, tests).
    """

    pages: list[rm.Page] = field(default_factory=list)
    records: SiteRecords = field(default_factory=SiteRecords)  # lean unless a plugin site rule may read anything
    scored: list[tuple[Scored, ...]] = field(default_factory=list)  # per page, shared tuples
    errors: list[rm.CrawlError] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)  # page url -> position in records/scored/pages
    # Per position, a hash of what the page shows when shared (`_likeness`, 8 bytes a page): a page
    # whose canonical names another page is its duplicate only when they match (Audit._on_duplicate).
    likeness: array[int] = field(default_factory=lambda: array("q"))


ProgressCallback = Callable[[ProgressInfo], None]
PageCallback = Callable[[PageEntry], None]  # each audited page, as its report line (model on demand)
NoticeCallback = Callable[[str], None]  # one sentence for the user's terminal (the CLI: stderr)


@dataclass
class _Folder:
    """A build folder audit in progress: its files, its production origin, what links reached."""

    files: list[str]  # the pages to audit
    listed: int = 0  # every .html/.htm file but the host's 404 page, those the server cannot serve included
    origin: str | None = None
    origin_source: Literal["option", "detected"] | None = None
    origin_evidence: str | None = None
    start_source: str | None = None
    linked: frozenset[str] = frozenset()
    done: bool = False  # the crawl ended: `linked` is complete and orphans can be named


class Audit:
    """One audit run. Build it, `await run()`, get a Report; `snapshot()` works mid-run."""

    def __init__(
        self,
        target: Target,
        config: AuditConfig,
        *,
        rules: LoadedRules | None = None,
        profile: ScoringProfile | None = None,
        on_progress: ProgressCallback | None = None,
        on_page: PageCallback | None = None,
        spool: PageSpool | None = None,
        on_notice: NoticeCallback | None = None,
        shard: Shard | None = None,
    ) -> None:
        self.target = target
        self.shard = shard  # --shard K/N: audit one partition of the site's URLs (smo_audit/shard.py)
        self.site_info: SiteInfo | None = None  # what the crawl learned of robots.txt and sitemaps
        # --shard: another shard owns the start page, and the site answered (robots.txt, any status):
        # finding no page of this partition is then an empty part, not a target that failed.
        self.empty_partition_ok = False
        self.handover: Handover | None = None  # --shard: links left to other partitions (crawl/handover.py)
        # report --merge: page URL -> (its canonical as written, its final URL) for the merged
        # pages and those the merge's own crawl audits whose canonical may name another URL (see
        # other_canonicals), and the parameters the crawl strips (the shards' session ids too)
        self.merged_canonicals: dict[str, tuple[str, str | None]] = {}
        self.merged_strip: tuple[str, ...] = DEFAULT_STRIP_PARAMS
        # report --merge: the pages its own crawl audited (None outside that crawl), whose
        # canonicals are noted too
        self._crawled_on: list[str] | None = None
        self.config = config
        self.profile = profile or ScoringProfile.load()
        self.loaded = rules or load_rules(rules_dirs=config.rules_dirs, skip_broken=config.skip_broken_plugins)
        self.rule_set = RuleSet.build(self.loaded.rules, self.profile, **rule_set_arguments(config, self.loaded.rules))
        self._titles = {r.id: r.title for r in (*self.rule_set.page_rules, *self.rule_set.site_rules)}
        self.mode: str = "rendered" if config.render != "off" else "static"
        self.runner = RuleRunner(self.rule_set, mode=self.mode, debug=config.debug)
        self.extractor = Extractor()
        # Parsing runs in worker processes with a time budget per page (see extract/workers.py);
        # --debug parses in-process so a classifier's exception surfaces as itself.
        # Built-in page rules read facts and the small parts of the Document, never its anchors:
        # the workers keep those (most of a page's transfer cost) unless a plugin rule may read them.
        self.pool = ExtractionPool(size=0 if config.debug else config.workers, budget=config.page_budget,
                                   extract_in_process=self.extractor.extract,
                                   keep_anchors=any(rule.source != BUILTIN_SOURCE for rule in self.loaded.rules))
        self.on_progress = on_progress
        self.on_page_done = on_page
        self.on_notice = on_notice
        self.notices: list[str] = []  # what was announced (folder origin, files left out)
        self.folder: _Folder | None = None
        self._inventory: tuple[str, ...] = ()
        self._published: Published | None = None  # folder targets: loopback URLs -> stable ones
        self.collected = _Collected(records=SiteRecords(lean=all(
            rule.source == BUILTIN_SOURCE for rule in self.loaded.rules if rule.scope == "site")))
        self._thumbnails = Thumbnails()  # small preview images for the HTML report
        self.spool = spool
        self._scored_tuples: dict[tuple[Scored, ...], tuple[Scored, ...]] = {}  # pages share equal ones
        self._skips: dict[str, list[rm.Finding]] = {}  # category -> first distinct skip findings (<= 3)
        self.site_findings: list[rm.Finding] = []
        self.started_at = datetime.now(UTC)
        self.partial = False
        self.stop_reason: str | None = None
        # A signal stopped this process (a merged part's stop reason is not one): no more fetches.
        self.signalled = False
        self._source_path: Callable[[str], str | None] = lambda url: None
        self._resources: ResourceCache | None = None
        self.fetch_policy: FetchPolicy | None = None  # set in run(); render sub-requests ask its refusal
        self._debug_error: Exception | None = None
        self._rewrite: Callable[[str], str] | None = None
        self._pages_by_source: dict[str, str] = {}
        self._renderer: Renderer | None = None  # rendered mode: opened in run()
        self._settings = AuditSettings(mode="rendered" if config.render != "off" else "static", base_url=config.base_url,
                                       target=target.text, check_profiles=config.check_profiles,
                                       local_copy=target.folder is not None)
        for source, problem in self.loaded.problems:
            self.collected.errors.append(rm.CrawlError(url=source, kind="plugin", message=problem))
        # The page rules (with per-URL overrides); rebuilt in run() once a folder's origin is known.
        self._auditor = PageAuditor(self.loaded, self._audit_spec())
        # Static audits run the page rules in the parse workers, next to the Document, when the
        # workers can load the same rules themselves (rules given as objects cannot travel).
        self._rules_reloadable = self.loaded.rules_dirs is not None
        self.thresholds = Thresholds.from_config(config)
        self.baseline_reasons: tuple[str, ...] = ()  # set by the caller after comparing with --baseline

    def _audit_spec(self) -> PageAuditSpec:
        return PageAuditSpec(self.config, self.profile, self._settings, self._published,
                             rules_dirs=self.loaded.rules_dirs or (), rule_ids=tuple(r.id for r in self.loaded.rules))

    # -- the crawl callbacks ------------------------------------------------------------------
    async def _on_page(self, raw: RawPage) -> PageLinks:
        source = raw.source_path or self._source_path(raw.final_url)
        if source in ERROR_PAGES and self.folder is not None:
            return PageLinks()  # a link to /404.html: the host's error page is no page (_start_folder)
        if source is not None:
            # Folder targets: "/" and "/index.html" (or "/about" and "/about.html") are one file.
            first = self._pages_by_source.setdefault(source, raw.url)
            if first != raw.url:
                self._on_duplicate(raw.url, first)
                return PageLinks()
        try:
            return await self._process(raw)
        except Exception as exc:
            # The crawler turns this into a "processing" error for the URL; --debug wants it raw.
            if self.config.debug and self._debug_error is None:
                self._debug_error = exc
            raise

    async def _process(self, raw: RawPage) -> PageLinks:
        source_path = raw.source_path or self._source_path(raw.final_url)
        assert self._resources is not None
        try:
            if self._renderer is None and self.pool.size and self._rules_reloadable:
                worked = await self.pool.audit(raw, source_path, self._auditor.spec, self._resources)
            elif self.pool.size and self._rules_reloadable:
                worked = await self._render_then_audit(raw, source_path)
            else:
                worked = await self._audit_here(raw, source_path)
        except ProcessingTimeout as exc:  # a pathological page: skipped, the audit goes on
            self._on_error(CrawlError(raw.url, "processing-timeout", str(exc), raw.response.status, raw.referrer))
            return PageLinks()
        for note in worked.notes:  # a cap cut this page's markup short: say so, keep the page
            self._on_error(CrawlError(raw.url, "page-limit", f"{raw.url}: {note}", raw.response.status, raw.referrer))
        for url, fetch in worked.thumbnails:
            self._thumbnails.add(url, fetch)
        if self._crawled_on is not None:
            self._crawled_on.append(raw.url)
            self._note_canonical(raw.url, raw.final_url, worked.facts.canonical)
        record = compact_record(raw.url, raw.final_url, raw.response.status, worked.facts, source_path)
        self._add_entry(PageEntry(worked.line, worked.page), record, self._intern(worked.values), worked.skips)
        return worked.links

    async def _render_then_audit(self, raw: RawPage, source_path: str | None) -> WorkedPage:
        """Rendered mode: extract in a worker, render here, then judge in the same worker (budgeted),
        which kept the page's parse."""
        assert self._resources is not None
        extracted, kept = await self.pool.extract_kept(raw)
        return await self.pool.audit(raw, source_path, self._auditor.spec, self._resources,
                                     rendered=await self._render(raw, extracted.facts), kept=kept)

    async def _render(self, raw: RawPage, static: PageFacts) -> tuple[RenderedPage, PageFacts, PageFacts]:
        """(rendered view, facts the rules judge, facts the report keeps); a render error is recorded.

        The rules judge the effective facts (static tags, rendered controls); the report keeps the
        static facts and the rendered ones side by side."""
        from smo_audit.render.pipeline_glue import render_page

        assert self._renderer is not None
        rendered, facts, report_facts, error = await render_page(self._renderer, raw, static)
        if error is not None:
            self.collected.errors.append(error)
        return rendered, facts, report_facts

    async def _audit_here(self, raw: RawPage, source_path: str | None) -> WorkedPage:
        """Extract (in a worker, or here with --debug), render if asked, and run the page rules here."""
        extracted = await self.pool.extract(raw)
        assert self._resources is not None
        rendered, facts, report_facts = None, extracted.facts, extracted.facts
        if self._renderer is not None:
            rendered, facts, report_facts = await self._render(raw, extracted.facts)
        audited = await self._auditor.audit(raw, facts, extracted.document, source_path, self._resources,
                                            thumbnails=self._thumbnails.add, rendered=rendered,
                                            report_facts=report_facts)
        return audited.worked(extracted.links, extracted.notes, keep_model=True)

    def _intern(self, values: tuple[Scored, ...]) -> tuple[Scored, ...]:
        """Most pages of a site score alike: one shared tuple per distinct outcome keeps memory flat."""
        if len(self._scored_tuples) > 4096:
            self._scored_tuples.clear()
        return self._scored_tuples.setdefault(values, values)

    def _add_page(self, page: rm.Page, record: PageRecord, values: tuple[Scored, ...] = ()) -> None:
        """A page whose model is at hand (merged shard parts)."""
        if self._published is not None:
            page = self._published.page(page)
        skips = tuple(f for f in page.findings if f.status == "skip")
        self._add_entry(PageEntry(ndjson_page_line(page), page), record, values, skips)

    def _add_entry(self, entry: PageEntry, record: PageRecord, values: tuple[Scored, ...],
                   skips: tuple[rm.Finding, ...]) -> None:
        self.collected.index[record.url] = len(self.collected.records)
        if self.spool is not None:
            self.spool.append_line(entry.line)
        else:
            self.collected.pages.append(entry.page())
        self.collected.records.append(record)
        self.collected.likeness.append(hash(_likeness(record.facts)))
        self.collected.scored.append(values)
        for finding in skips:  # the score explanation's "why is this category absent"
            kept = self._skips.setdefault(finding.category, [])
            if len(kept) < 3 and all(k.message != finding.message for k in kept):
                kept.append(finding)
        if self.on_page_done is not None:
            self.on_page_done(entry)

    def _on_error(self, error: CrawlError) -> None:
        public = self._published.text if self._published is not None else _same
        self.collected.errors.append(rm.CrawlError(
            url=public(error.url), kind=error.kind, message=public(error.message), status=error.status,
            referrer=None if error.referrer is None else public(error.referrer),
        ))

    def _on_duplicate(self, url: str, duplicate_of: str) -> None:
        """The crawler found `url` to be another name of the audited page `duplicate_of`.

        A canonical duplicate was audited before its canonical was known: it stays in the report,
        marked, and no longer counts towards the site score or the site rules. Only when the two
        pages would be shared alike, though (`_likeness`: the same og:title, og:description and
        og:image, or the same title on pages without them): a canonical naming another page (every
        page's canonical set to the home page by a template bug, page 2 of a list naming page 1)
        is a wrong canonical, not another name of that page. Marked a duplicate, such a page would
        leave the score with everything wrong on it, and a site would score higher for the bug;
        it stays a page of its own, and the canonical rules judge its canonical. A redirect to an
        audited page was never fetched twice: it is listed with no facts.
        """
        collected = self.collected
        target = collected.index.get(duplicate_of)
        if target is not None and collected.records[target].duplicate_of == url:
            return  # the other page was already found to be this one's duplicate: keep one primary
        position = collected.index.get(url)
        if position is not None:
            if target is None:
                # The crawler names a page only once the pipeline is done with it (its canonical
                # is known then): one not in the report failed its processing, nothing to duplicate.
                return
            if collected.likeness[position] != collected.likeness[target]:
                collected.records.mark_canonical_of(position, duplicate_of)  # canonical-collapse counts it
                return  # not the same page under another name (see above)
        public = self._published.text if self._published is not None else _same
        if position is not None:
            if self.spool is not None:
                self.spool.patch(position, duplicate_of=public(duplicate_of))
            else:
                page = self.collected.pages[position]
                self.collected.pages[position] = page.model_copy(update={"duplicate_of": public(duplicate_of)})
            self.collected.records.mark_duplicate(position, duplicate_of)
            return
        self.collected.index[url] = len(self.collected.records)
        page = rm.Page(url=public(url), final_url=public(duplicate_of), status=0, score=None,
                       duplicate_of=public(duplicate_of), facts=rm.Facts())
        if self.spool is not None:
            self.spool.append(page)
        else:
            self.collected.pages.append(page)
        self.collected.records.append(PageRecord(url, duplicate_of, 0, PageFacts(), None, duplicate_of))
        self.collected.likeness.append(hash(_likeness(PageFacts())))
        self.collected.scored.append(())

    # -- the run --------------------------------------------------------------------------------
    def _crawl_settings(self, start_url: str) -> CrawlSettings:
        c = self.config
        return CrawlSettings(
            start_url=start_url, scope=c.scope, include=tuple(c.include), exclude=tuple(c.exclude),
            max_pages=c.max_pages, max_depth=c.max_depth, concurrency=c.concurrency,
            per_host=c.per_host or c.concurrency,
            respect_robots=not c.ignore_robots, user_agent=c.user_agent or DEFAULT_USER_AGENT,
            limits=self._limits(), retries=c.retries, use_sitemaps=c.use_sitemaps, inventory=self._inventory,
            owns=None if self.shard is None else self.shard.owns,
        )

    def _limits(self) -> FetchLimits:
        c = self.config
        return FetchLimits(
            connect_timeout=min(10.0, c.timeout), read_timeout=min(15.0, c.timeout), total_timeout=c.timeout,
            max_body_bytes=c.max_body_bytes, max_redirects=c.max_redirects,
        )

    async def run(self) -> rm.Report:
        """Audit and return the whole report (pages in memory): for library callers and tests."""
        await self.execute()
        return self.snapshot(finished=True)

    async def execute(self) -> None:
        """Audit; the results stay on this object (`summary()`, `page_lines()`, `snapshot()`).

        Returns nothing on purpose: `asyncio.run` formats the finished task's result in an error
        path on exit, which cost seconds for a big report.
        """
        async with AsyncExitStack() as stack:
            start_url, source_root = self._start(stack)
            self._auditor = PageAuditor(self.loaded, self._audit_spec())  # the folder's origin and names
            self.pool.start()
            agent = self.config.user_agent or DEFAULT_USER_AGENT
            # One fetch policy for every request (crawl/policy.py): private addresses checked in
            # the Fetcher's connections, robots.txt and folder scope before any resource fetch.
            addresses = await address_policy_for(self.target.url, PrivateMode(self.config.private_addresses),
                                                 folder=self.target.folder is not None)
            fetcher = Fetcher(agent, self._limits(), max_connections=max(self.config.concurrency * 2, 8),
                              address_policy=addresses)
            refuse = _off_target_for_folders if self.target.folder is not None else None
            self.fetch_policy = FetchPolicy(addresses, agent, off_target=refuse)
            self._resources = ResourceCache(fetcher, rewrite=self._rewrite, policy=self.fetch_policy)
            summary: CrawlSummary | None = None
            if self.config.render != "off":
                from smo_audit.render.pipeline_glue import open_renderer

                self._renderer = await stack.enter_async_context(
                    open_renderer(self.config, self.extractor, start_url, folder=self.target.folder is not None,
                                  policy=self.fetch_policy,
                                  extract_text=self.pool.extract_text if self.pool.size else None))
            try:
                crawler = Crawler(self._crawl_settings(start_url), fetcher, source_root=source_root,
                                  on_progress=self.on_progress, rewrite=self._rewrite,
                                  source_mapper=self._source_path if source_root is not None else None)
                self.fetch_policy.robots = crawler.robots_refusal
                try:
                    summary = await crawler.run(self._on_page, self._on_error, self._on_duplicate)
                except TargetError:
                    if self._debug_error is not None:
                        raise self._debug_error from None
                    raise
                if self._debug_error is not None:
                    raise self._debug_error
                if summary is not None:
                    self.partial = self.partial or summary.partial
                    self.stop_reason = self.stop_reason or summary.stop_reason
                    self.empty_partition_ok = summary.origin_answered and not summary.start_owned
                    self.handover = summary.handover
                if self.folder is not None:
                    self._folder_done(crawler, summary)
                site = SiteInfo(
                    start_url=start_url,
                    robots_txt=summary.robots_txt if summary else None,
                    robots_url=summary.robots_url if summary else None,
                    sitemaps=summary.sitemaps if summary else (),
                    sitemap_lastmod=summary.sitemap_lastmod if summary else (),
                )
                self.site_info = site
                # A shard's site rules would judge a partition: they run once, on the merged parts.
                if self.collected.records and not self.interrupted and self.shard is None:
                    await self._site_rules(site)
            finally:
                self.pool.close()
                await fetcher.aclose()

    def _start(self, stack: AsyncExitStack) -> tuple[str, Path | None]:
        if self.target.folder is not None:
            return self._start_folder(stack, self.target.folder)
        assert self.target.url is not None
        return self.target.url, None

    def _start_folder(self, stack: AsyncExitStack, folder: Path) -> tuple[str, Path]:
        """Serve the build, learn its production origin, and list its pages for the crawl."""
        from smo_audit.crawl.local_server import serve_folder

        listing = list_build(folder)
        # The host's error page (404.html at the top) is served for missing URLs, never as a page
        # of the site: scored, it was a weak page dragging every build's score down.
        pages = [f for f in listing.files if f not in ERROR_PAGES]
        if not pages:
            unread = "".join(f" ({s.reason})" for s in listing.skipped if s.path == "./")
            error_page = " but the host's 404 page" if listing.files else ""
            raise TargetError(f"the folder {folder} cannot be read{unread}" if unread
                              else f"the folder {folder} contains no HTML files to audit{error_page}")
        self.folder = state = _Folder(pages, listed=len(pages) + sum(1 for s in listing.skipped if s.is_file))
        if self.config.base_url:
            state.origin, state.origin_source = self.config.base_url, "option"
        elif (detected := detect_origin(folder, pages)) is not None:
            state.origin, state.origin_source, state.origin_evidence = detected.base_url, "detected", detected.evidence()
            # The rules judge og:url and canonical against it, as if --base-url had named it.
            self._settings = replace(self._settings, base_url=detected.base_url)
            self._notice(f"production origin {detected.base_url} detected from {detected.evidence()}; "
                         "production links are audited from the folder (--base-url overrides it)")
        server = stack.enter_context(serve_folder(folder))
        self._source_path = server.source_path
        if state.origin:
            self._rewrite = production_to_local(state.origin, server.base_url)
        state.start_source = server.source_path(server.base_url)
        # Reports name pages by their production URLs (or site paths), never the ephemeral port.
        self._published = Published(server.base_url, (state.origin or "").rstrip("/") + "/")
        self._skipped(listing.skipped, server.base_url)
        # Every page of the build is audited, linked or not (crawl/folder.py).
        self._inventory = tuple(server.base_url + served_path(f)[1:] for f in pages)
        start = server.base_url
        if state.start_source is None:  # no index.html at the top: start at the build's first page
            start, state.start_source = server.base_url + served_path(pages[0])[1:], pages[0]
        return start, folder

    def _skipped(self, skipped: list[Skipped], served: str) -> None:
        """Parts of the build the server cannot serve: each an errors[] entry (named by its public
        URL, out of the score: the build, not the site, is at fault) and one stderr line for all."""
        if not skipped:
            return
        for part in skipped:
            url = served + served_path(part.path.removeprefix("./"))[1:]
            self._on_error(CrawlError(url, "unreadable", part.message()))
        files = [part for part in skipped if part.is_file]
        if files:
            self._notice(f"skipped {plural(len(files), 'file')} the folder server cannot serve: {_listed(files)}")
        folders = [part for part in skipped if not part.is_file]
        if folders:
            self._notice(f"could not read {plural(len(folders), 'folder')}: {_listed(folders)}; "
                         f"{'its' if len(folders) == 1 else 'their'} files were not audited")

    def _notice(self, text: str) -> None:
        self.notices.append(text)
        if self.on_notice is not None:
            self.on_notice(text)

    def _folder_done(self, crawler: Crawler, summary: CrawlSummary | None) -> None:
        """After the crawl of a build folder: which files links reached, which were left out."""
        assert self.folder is not None
        state = self.folder
        state.linked = crawler.linked_sources()
        audited = self._audited_files()
        state.done = True
        if summary is not None and summary.inventory_left:
            self._notice(f"audited {len(audited)} of {plural(len(state.files), 'HTML file')} in the folder: "
                         f"--max-pages {self.config.max_pages} stopped the audit")

    def _audited_files(self) -> set[str]:
        return {r.source_path for r in self.collected.records if r.duplicate_of is None and r.source_path}

    def _folder_report(self) -> tuple[rm.FolderInfo | None, list[rm.Finding]]:
        """The report's `folder` object and the orphan notice (a site finding kept out of the score)."""
        state = self.folder
        if state is None:
            return None, []
        audited = self._audited_files()
        orphans = orphan_files(audited, state.linked, state.start_source) if state.done else []
        info = rm.FolderInfo(
            html_files=state.listed, audited_files=len(audited),
            not_audited=state.listed - len(audited),
            origin=state.origin, origin_source=state.origin_source,
            origin_evidence=state.origin_evidence, orphans=orphans,
        )
        if not orphans:
            return info, []
        shown = ", ".join(orphans[:5]) + (f" and {len(orphans) - 5} more" if len(orphans) > 5 else "")
        unknown = "" if state.origin else (" (no production origin is known: absolute links to the production "
                                           "host could not be followed; give --base-url)")
        finding = rm.Finding(
            rule=ORPHAN_RULE, category="crawl", severity="info", status="warn", title="Files no page links to",
            message=(f"{plural(len(orphans), 'HTML file')} in the folder {'is' if len(orphans) == 1 else 'are'} "
                     f"linked from no audited page: {shown}{unknown}. Audited anyway; link "
                     f"{'it' if len(orphans) == 1 else 'them'} from a page or leave {'it' if len(orphans) == 1 else 'them'} "
                     "out of the build"),
            evidence=orphans[:50], data={"orphans": len(orphans)},
        )
        return info, [finding]

    def _public_findings(self, findings: list[rm.Finding]) -> list[rm.Finding]:
        if self._published is None:
            return list(findings)
        return [self._published.finding(f) for f in findings]

    def _effective_settings(self) -> rm.Settings:
        c = self.config
        state = self.folder
        if state is not None:
            base, source = state.origin, state.origin_source
        else:
            base, source = c.base_url, ("option" if c.base_url else None)
        return rm.Settings(
            target=self.target.text, base_url=base, base_url_source=source,
            scope=c.scope, max_pages=c.max_pages, max_depth=c.max_depth, include=list(c.include),
            exclude=list(c.exclude), select=list(c.select), ignore=list(c.ignore), render=c.render,
            respect_robots=not c.ignore_robots, use_sitemaps=c.use_sitemaps, check_profiles=c.check_profiles,
            rules_run=len(self.rule_set.page_rules) + len(self.rule_set.site_rules),
        )

    async def _site_rules(self, site: SiteInfo) -> None:
        assert self._resources is not None
        records = self.collected.records
        ctx = SiteContext(pages=records.primaries(), site=site, options={}, settings=self._settings,
                          resources=self._resources, duplicates=records.duplicates())
        self.site_findings = await self.runner.run_site(ctx)

    def _all_findings(self) -> Iterator[rm.Finding]:
        """What the score explanation reads: the pages' skip reasons (kept as they streamed by) and
        the site findings; the pages themselves are on the spool."""
        for kept in self._skips.values():
            yield from kept
        yield from self.site_findings

    @property
    def audited(self) -> int:
        """Pages in the report so far (duplicates included)."""
        return len(self.collected.records)

    @property
    def primaries(self) -> int:
        """Pages in the report that are not duplicates of another."""
        return sum(1 for record in self.collected.records if record.duplicate_of is None)

    def stop(self, reason: str) -> None:
        """Mark the audit as cut short (interrupted, terminated, crashed): the report says so."""
        self.partial = True
        self.stop_reason = reason
        self.signalled = self.signalled or reason in ("interrupted", "terminated")

    def fail(self, message: str) -> None:
        """The target could not be audited at all: the report says why (it replaces an earlier one)."""
        self.stop("not-auditable")
        url = self.target.url or self.target.text
        self.collected.errors.append(rm.CrawlError(url=url, kind="not-auditable", message=message))

    @property
    def interrupted(self) -> bool:
        """A signal (SIGINT/SIGTERM) stopped the audit, or (report --merge) one of its parts: no
        further crawling. `signalled` says whether the signal came to this process."""
        return self.stop_reason in ("interrupted", "terminated")

    def add_merged_page(self, line: str, extras: dict[str, tuple[bool, bool]],
                        landed: Mapping[str, str] | None = None) -> None:
        """One page line of a shard part (`report --merge`): spooled as is, its record rebuilt.

        `landed`: URLs whose page another part holds under another name, that name (the start
        page's: see shard._start_landed); the page is left out and its duplicates point to that
        name, as in one process. Raises ValueError (pydantic's ValidationError) on a damaged line."""
        page = rm.Page.model_validate_json(report_page_text(line))
        if page.url in self.collected.index:
            return  # a line repeated in a part (edited by hand): the page once, as one process
        if landed:
            if page.url in landed:
                return
            if page.duplicate_of is not None and page.duplicate_of in landed:
                name = landed[page.duplicate_of]
                page = page.model_copy(update={"duplicate_of": name, "final_url": name if page.final_url in landed
                                               else page.final_url})
        password, account = extras.get(page.url, (False, False))
        facts = _page_facts(page.facts, has_password_form=password, is_account_page=account)
        if page.duplicate_of is not None:
            record = PageRecord(page.url, page.final_url, page.status, facts, page.source_path, page.duplicate_of)
            values: tuple[Scored, ...] = ()
        else:
            self._note_canonical(page.url, page.final_url, page.facts.canonical)
            record = compact_record(page.url, page.final_url, page.status, facts, page.source_path)
            values = self._intern(tuple(scored(page.findings, self.rule_set.weights)))
        self._add_page(page, record, values)

    def _note_canonical(self, url: str, final_url: str | None, canonical: str | None) -> None:
        """report --merge: note a page whose canonical may name another URL. Compared with the
        default parameters stripped only: stripping the session ids the shards found as well can
        make it name the page itself (other_canonicals), never the other way round."""
        if not canonical:
            return
        named = try_normalize(canonical, DEFAULT_STRIP_PARAMS)
        if named is not None and named not in (url, try_normalize(final_url or url, DEFAULT_STRIP_PARAMS)):
            self.merged_canonicals[url] = (canonical, final_url)

    def _canonical_duplicates(self) -> None:
        """report --merge: mark the pages whose canonical names another partition's page (settle.py)."""
        others = other_canonicals(self.merged_canonicals, self.merged_strip)
        if not others:
            return
        records = self.collected.records
        pages = ((r.url, r.final_url or r.url) for r in records if r.duplicate_of is None)
        crawled_on = self._crawled_on or ()
        for url, page in canonical_duplicates(others, pages, crawled_on, self._is_page, self.merged_strip):
            self._on_duplicate(url, page)

    def _is_page(self, url: str) -> bool:
        """An entry of the report that is a page, not a duplicate."""
        position = self.collected.index.get(url)
        return position is not None and self.collected.records[position].duplicate_of is None

    def _entry_named(self, url: str) -> str | None:
        """The page an entry of the report names: itself, or the page it is a duplicate of."""
        position = self.collected.index.get(url)
        return None if position is None else (self.collected.records[position].duplicate_of or url)

    def reached_urls(self) -> tuple[dict[str, str], set[str]]:
        """report --merge: final URL -> URL of every merged page, and the URL of every entry."""
        audited: dict[str, str] = {}
        entries: set[str] = set()
        for record in self.collected.records:
            entries.add(record.url)
            if record.duplicate_of is None:
                audited.setdefault(record.final_url or record.url, record.url)
        return audited, entries

    async def execute_merged(self, site: SiteInfo, resume: Resume | None = None,
                             owns: Callable[[str], bool] | None = None) -> None:
        """The site rules over the merged pages of a sharded audit, fetching like a single audit.

        `resume`: pages the shards linked to and none of them audited (crawl/handover.py) are
        audited here first, crawling on from them like one process would have (`owns`: the
        URLs that crawl may fetch, when parts are missing)."""
        agent = self.config.user_agent or DEFAULT_USER_AGENT
        addresses = await address_policy_for(self.target.url, PrivateMode(self.config.private_addresses), folder=False)
        fetcher = Fetcher(agent, self._limits(), max_connections=max(self.config.concurrency * 2, 8),
                          address_policy=addresses)
        going_on = resume is not None and bool(resume.frontier or resume.continued)
        settings = replace(self._crawl_settings(site.start_url), use_sitemaps=False,
                           resume=resume if going_on else None, owns=owns)
        try:
            crawler = Crawler(settings, fetcher, on_progress=self.on_progress)  # also the policy's robots.txt cache
            self.fetch_policy = FetchPolicy(addresses, agent, robots=crawler.robots_refusal)
            self._resources = ResourceCache(fetcher, rewrite=None, policy=self.fetch_policy)
            self.site_info = site
            if going_on and not self.interrupted:  # parts a signal stopped (--dask's Ctrl-C): no crawl
                await self._crawl_on(crawler)
            if resume is not None and (resume.redirects or crawler.stopped_elsewhere):
                continued = {redirect.target: url for url, redirect in resume.continued}
                self._redirected({**resume.redirects, **crawler.stopped_elsewhere}, continued)
            if self.merged_canonicals:
                self._canonical_duplicates()
            if self.collected.records and not self.signalled:  # the parts' pages are judged whatever stopped them
                await self._site_rules(site)
        finally:
            await fetcher.aclose()

    def _redirected(self, redirects: Mapping[str, HandedRedirect], continued: Mapping[str, str]) -> None:
        """report --merge: settle the redirects the shards handed over (settle.py), then apply."""
        audited, _entries = self.reached_urls()
        failed: dict[str, rm.CrawlError] = {}
        for reported in self.collected.errors:
            failed.setdefault(reported.url, reported)
        merged = MergedPages(self._entry_named, audited, failed)
        duplicates, errors = settle_redirects(redirects, continued, merged, self.config.max_redirects)
        for url, page in duplicates:
            self._on_duplicate(url, page)
        self.collected.errors.extend(errors)

    async def _crawl_on(self, crawler: Crawler) -> None:
        """The merge's crawl from the handed-over links (its pages join the merged ones)."""
        self._crawled_on = []
        self.pool.start()
        try:
            summary = await crawler.run(self._on_page, self._on_error, self._on_duplicate)
        except TargetError as exc:  # the start page, no shard's: it answers no more
            self.collected.errors.append(rm.CrawlError(url=self.target.text, kind="not-auditable", message=str(exc)))
            return
        finally:
            self.pool.close()
        if summary.partial:
            self.partial = True
            self.stop_reason = self.stop_reason or summary.stop_reason

    def _pages_in_memory(self) -> list[rm.Page]:
        """The pages kept in memory (no spool), by URL as the spool reads them back: audits finish
        pages in any order, and the same audit must write the same report."""
        return sorted(self.collected.pages, key=lambda page: page.url)

    def page_lines_ndjson(self) -> Iterator[str]:
        """Every audited page as an NDJSON page line, by URL."""
        if self.spool is not None:
            yield from self.spool.ndjson_lines()
        else:
            for page in self._pages_in_memory():
                yield ndjson_page_line(page)

    def page_lines(self) -> Iterator[str]:
        """Every audited page as JSON text, by URL: from the spool, or dumped from memory."""
        if self.spool is not None:
            yield from self.spool.lines()
        else:
            for page in self._pages_in_memory():
                yield page_json(page)

    def snapshot(self, *, finished: bool = False) -> rm.Report:
        """The report as it stands, pages included: valid JSON-contract data even mid-crawl."""
        head = self.summary(finished=finished)
        pages = list(self.spool.pages()) if self.spool is not None else self._pages_in_memory()
        return head.model_copy(update={"pages": pages})

    def _tally(self) -> Tally:
        """Problems per rule and severity for max-failures and fail-on; counted only when asked."""
        tally = Tally(errors=sum(1 for e in self.collected.errors if e.kind != "plugin"))
        if not (self.thresholds.max_failures or self.thresholds.fail_on):
            return tally
        severity = {r.id: r.severity.value for r in (*self.rule_set.page_rules, *self.rule_set.site_rules)}
        for rule_set in self._auditor.override_rule_sets():
            for other in (*rule_set.page_rules, *rule_set.site_rules):
                severity.setdefault(other.id, other.severity.value)
        counts: Counter[tuple[str, str]] = Counter()
        for record, values in zip(self.collected.records, self.collected.scored, strict=True):
            if record.duplicate_of is None:
                counts.update((v.rule, v.status) for v in values if v.status in PROBLEM_STATUSES)
        for (rule_id, status), count in counts.items():
            tally.add(rule_id, severity.get(rule_id, "warning"), status, count)
        tally.add_findings(self.site_findings)
        return tally

    def summary(self, *, finished: bool = False) -> rm.Report:
        """The report without its pages (`pages=[]`): scores, errors, site findings; cheap.

        Writers stream the pages from `page_lines()`; mid-crawl it is partial, stop_reason
        "in-progress".
        """
        scorer = SiteScorer(self.profile)
        # Pages that scored alike share one tuple (see _intern): count them by identity, so a
        # snapshot of 10,000 pages hashes a few hundred tuples of findings, not 10,000.
        alike: dict[int, tuple[tuple[Scored, ...], int]] = {}
        for record, values in zip(self.collected.records, self.collected.scored, strict=True):
            if record.duplicate_of is None:
                known = alike.get(id(values))
                alike[id(values)] = (values, 1 if known is None else known[1] + 1)
        for values, count in alike.values():
            scorer.add(values, count)
        scorer.add_broken(len({error.url for error in self.collected.errors if broken_page(error.kind, error.url)}))
        scorer.add_site(scored(self.site_findings, self.rule_set.weights))
        result = scorer.result()
        score = result.score
        parts = explain(result, self.profile, titles=self._titles,
                        selected_categories={r.category for r in (*self.rule_set.page_rules, *self.rule_set.site_rules)},
                        findings=self._all_findings())
        folder, notices = self._folder_report()
        threshold = self.config.fail_under
        # The score is rounded once (one decimal, in scoring) and that same number is compared
        # and displayed. No threshold: nothing was judged, so passed is null, not true.
        verdict = evaluate(self.thresholds, score, {c.id: c.score for c in parts.categories}, self._tally())
        reasons = (*verdict.reasons, *self.baseline_reasons)
        passed = None if verdict.passed is None and self.config.baseline is None else not reasons
        return rm.Report(
            tool=rm.Tool(name=TOOL_NAME, version=__version__),
            target=self.target.text,
            mode="rendered" if self.config.render != "off" else "static",
            started_at=self.started_at.isoformat(timespec="seconds"),
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            score=score,
            passed=passed,
            fail_under=threshold,
            failed_thresholds=list(reasons),
            categories=parts.categories,
            fix_first=parts.fix_first,
            score_basis=parts.basis,
            partial=self.partial or not finished,
            stop_reason=self.stop_reason if finished else (self.stop_reason or "in-progress"),
            pages=[],
            site_findings=[*self._public_findings(self.site_findings), *notices],
            errors=list(self.collected.errors),
            render=self._renderer.summary() if self._renderer is not None else None,
            settings=self._effective_settings(),
            folder=folder,
            thumbnails=self._thumbnails.as_dict(),
        )


def _listed(parts: list[Skipped]) -> str:
    """`a.html (reason), b.html (reason) and 3 more`: the first few skipped parts of a build."""
    shown = ", ".join(f"{part.path} ({part.reason})" for part in parts[:5])
    return shown + (f" and {len(parts) - 5} more" if len(parts) > 5 else "")


def _same(text: str) -> str:
    return text


ORPHAN_RULE = "folder-orphans"  # not a rule of the catalogue: a notice about the build, never scored

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


def _off_target_for_folders(url: str) -> str | None:
    """Auditing a local build never reaches the internet: only loopback URLs are fetched."""
    host = (urlsplit(url).hostname or "").lower()
    if host in _LOOPBACK_HOSTS:
        return None
    return (f"not fetched: {host or url[:80]} is not part of the audited folder "
            "(auditing a folder never reaches other hosts; --base-url maps production URLs onto the folder)")


_DEFAULT_PORTS = {"http": 80, "https": 443}


def production_to_local(base_url: str, served_url: str) -> Callable[[str], str]:
    """Map production URLs (--base-url, or the detected origin) onto the local server that serves
    the build folder.

    A static build links to itself by its production address (canonical, og:image, sitemap);
    crawling and fetching those from the folder audits the build, not the live site. Production
    is recognised however a URL spells it (`HTTPS://EXAMPLE.COM`, `:443`, http or https, a
    trailing dot), as normalisation would; only its base path maps onto the folder's root. A site
    under a base path (`https://acme.dev/docs/`) also writes root-relative links with it (`/docs/guide/`:
    Jekyll's relative_url, Astro's base, Next's basePath, Eleventy's pathPrefix), which the page
    resolves against the loopback root: those lose the base path too.
    """
    base = urlsplit(base_url)
    host = (base.hostname or "").lower().rstrip(".")
    port = base.port
    prefix = base.path.rstrip("/") + "/"  # "/" or "/docs/"
    served = served_url.rstrip("/") + "/"
    exact = f"{base.scheme.lower()}://{base.netloc.lower()}{prefix}"  # the common spelling: no parsing

    def local(path: str, rest: str) -> str | None:
        if path.startswith(prefix):
            return served + path[len(prefix):] + rest
        return served.rstrip("/") + "/" + rest if path + "/" == prefix else None

    def rewrite(url: str) -> str:
        if url.startswith(exact):
            return served + url[len(exact):]
        if url.startswith(served):
            if prefix == "/":
                return url
        elif host not in url.lower():
            return url  # another site: most links of a page, told apart without parsing them
        try:
            parts = urlsplit(url)
            link_port = parts.port
        except ValueError:
            return url
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            return url
        rest = ("?" + parts.query if parts.query else "") + ("#" + parts.fragment if parts.fragment else "")
        if url.startswith(served):  # a root-relative link written with the base path, resolved here
            return local(parts.path or "/", rest) or url
        if (parts.hostname or "").lower().rstrip(".") != host:
            return url
        if (port is None and link_port not in (None, _DEFAULT_PORTS[scheme])) or (port is not None and link_port != port):
            return url
        return local(parts.path or "/", rest) or url

    return rewrite


def _likeness(facts: PageFacts) -> tuple[str | None, ...]:
    """What a page shows when shared: its og:title, og:description and og:image, or its title when it
    has none of them. Another name of a page (a print view, a tracking URL) shows the same; a page
    that only names another as canonical (wrongly) does not, even on a site with one title."""
    tags = facts.open_graph
    preview = (tags.get("og:title"), tags.get("og:description"), tags.get("og:image"))
    return preview if any(preview) else (facts.title,)


def _page_facts(facts: rm.Facts, *, has_password_form: bool, is_account_page: bool) -> PageFacts:
    """A report page's facts as the extraction's PageFacts again (merging shard parts)."""
    return PageFacts(
        title=facts.title, canonical=facts.canonical, lang=facts.lang, description=facts.description,
        open_graph=dict(facts.open_graph), twitter=dict(facts.twitter), share_buttons=tuple(facts.share_buttons),
        share_widgets=tuple(facts.share_widgets), profile_links=tuple(facts.profile_links),
        sign_in=tuple(facts.sign_in), social_widgets=tuple(facts.social_widgets), feeds=tuple(facts.feeds),
        json_ld_types=tuple(facts.json_ld_types), same_as=tuple(facts.same_as),
        has_password_form=has_password_form, is_account_page=is_account_page, page_type=facts.page_type,
        published_time=facts.published_time, modified_time=facts.modified_time,
    )
