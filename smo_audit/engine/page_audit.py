"""One page's audit once it is parsed: page rules, preview cards, score, and its report entry.

It runs where the page's Document is. In a static audit that is a parse worker (extract/workers.py):
the Document, the page rules and the report entry stay there, and the crawl process gets back the
page's finished NDJSON line, its facts and its scored findings, so the process that fetches does
little else. In rendered mode (the browser lives in the crawl process) and with --debug it runs
in the crawl process. Both build the auditor from the same `PageAuditSpec`, so a page is judged
the same wherever it is audited.

Rules reach the network only through `resources` (engine/resources.py): in a worker that is a
proxy whose every request is made by the crawl process, through its one fetch policy and cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from smo_audit.config import AuditConfig, rule_set_arguments
from smo_audit.engine.api import AuditSettings, PageContext
from smo_audit.engine.registry import LoadedRules, load_rules
from smo_audit.engine.runner import RuleRunner, RuleSet, scored
from smo_audit.engine.scoring import Scored, ScoringProfile, page_score
from smo_audit.extract.facts import Document, PageFacts
from smo_audit.preview import page_previews
from smo_audit.report import model as rm
from smo_audit.report.spool import ndjson_page_line

if TYPE_CHECKING:
    from smo_audit.crawl.models import PageLinks, RawPage
    from smo_audit.engine.resources import Resources
    from smo_audit.preview import ImageFetch
    from smo_audit.render.facts import RenderedPage
    from smo_audit.report.published import Published

ThumbnailSink = Callable[[str, "ImageFetch"], None]  # offered each preview image fetched whole


@dataclass(frozen=True)
class PageAuditSpec:
    """Everything needed to audit pages as the audit's own process would (picklable)."""

    config: AuditConfig
    profile: ScoringProfile
    settings: AuditSettings
    published: Published | None = None  # folder targets: how the report names the served pages
    rules_dirs: tuple[Path, ...] = ()  # where the audit loaded its --rules-dir rules from
    rule_ids: tuple[str, ...] = ()  # the rules it loaded: a worker checks it loaded the same


@dataclass(frozen=True, slots=True)
class AuditedPage:
    """A page's audit as its report entry and what the site-wide stages need of it."""

    page: rm.Page  # with folder targets: production URLs, not the loopback server's
    facts: PageFacts  # the facts the rules judged (the site rules' record is built from these)
    values: tuple[Scored, ...]  # the scored findings, for the site score
    skips: tuple[rm.Finding, ...]  # the skip findings: "why is this category absent"

    def worked(self, links: PageLinks, notes: tuple[str, ...], *,
               thumbnails: tuple[tuple[str, ImageFetch], ...] = (), keep_model: bool = False) -> WorkedPage:
        """What the crawl process keeps of this page (the model itself only when audited there)."""
        return WorkedPage(ndjson_page_line(self.page), self.facts, self.values, self.skips, links, notes,
                          thumbnails, self.page if keep_model else None)


@dataclass(frozen=True, slots=True)
class WorkedPage:
    """A page done by the page stage, as the crawl process keeps it (and as a worker sends it)."""

    line: str  # the page's NDJSON line (the spool's and the report's entry)
    facts: PageFacts
    values: tuple[Scored, ...]
    skips: tuple[rm.Finding, ...]
    links: PageLinks
    notes: tuple[str, ...] = ()  # limits that cut the page's markup short
    thumbnails: tuple[tuple[str, ImageFetch], ...] = ()  # small preview images fetched whole
    page: rm.Page | None = None  # audited in this process: the model itself (never sent)


class PageAuditor:
    """The page rules (and per-URL overrides) of one audit, applied page by page."""

    def __init__(self, loaded: LoadedRules, spec: PageAuditSpec) -> None:
        config = spec.config
        self.spec = spec
        self.mode = spec.settings.mode
        self.rule_set = RuleSet.build(loaded.rules, spec.profile, **rule_set_arguments(config, loaded.rules))
        self.runner = RuleRunner(self.rule_set, mode=self.mode, debug=config.debug)
        self._overrides = [
            (o, RuleRunner(RuleSet.build(loaded.rules, spec.profile, **rule_set_arguments(config, loaded.rules, o)),
                           mode=self.mode, debug=config.debug))
            for o in config.overrides
        ]
        # The preview cards read the same cached image fetches as the preview-image rules (one
        # request per distinct image); with those rules turned off no image is requested.
        self._fetch_images = any(r.category == "preview-image" for r in self.rule_set.page_rules)

    @classmethod
    def from_spec(cls, spec: PageAuditSpec) -> PageAuditor:
        """Load the rules the audit loaded (built-ins, plugins, --rules-dir) and build the auditor."""
        loaded = load_rules(rules_dirs=spec.rules_dirs, skip_broken=spec.config.skip_broken_plugins)
        ids = tuple(rule.id for rule in loaded.rules)
        if spec.rule_ids and ids != spec.rule_ids:
            missing = sorted(set(spec.rule_ids) - set(ids)) or sorted(set(ids) - set(spec.rule_ids))
            raise RuntimeError(f"a page worker loaded other rules than the audit ({', '.join(missing[:5])})")
        return cls(loaded, spec)

    def override_rule_sets(self) -> list[RuleSet]:
        return [runner.rule_set for _, runner in self._overrides]

    def _page_runner(self, url: str, source_path: str | None) -> tuple[RuleRunner, AuditSettings]:
        """The rules and settings for one page: those of the first override that matches it."""
        settings = self.spec.settings
        if self._overrides:
            path = urlsplit(url).path or "/"
            for override, runner in self._overrides:
                if override.applies_to(path, source_path):
                    if override.base_url is not None:
                        settings = replace(settings, base_url=override.base_url)
                    return runner, settings
        return self.runner, settings

    async def audit(
        self,
        raw: RawPage,
        facts: PageFacts,
        doc: Document,
        source_path: str | None,
        resources: Resources,
        *,
        thumbnails: ThumbnailSink | None = None,
        rendered: RenderedPage | None = None,
        report_facts: PageFacts | None = None,
    ) -> AuditedPage:
        """Run the page rules over one page and build its report entry.

        `facts` are what the rules judge; `report_facts` what the report shows as the page's
        static facts (rendered mode: the static ones, while the rules judge the effective ones).
        """
        final = raw.final_url
        runner, page_settings = self._page_runner(raw.url, source_path)
        ctx = PageContext(
            url=raw.url, final_url=final, status=raw.response.status, headers=raw.response.headers,
            facts=facts, doc=doc, options={}, settings=page_settings, resources=resources, rendered=rendered,
        )
        findings = await runner.run_page(ctx)
        preview = await page_previews(facts, final, base_url=self.spec.settings.base_url,
                                      resources=resources if self._fetch_images else None, thumbnails=thumbnails)
        values = tuple(scored(findings, runner.rule_set.weights))
        score, _ = page_score(values, self.spec.profile)
        # model_construct: every value was built by our own typed code; validating it again for
        # every page cost more memory and time than the rules themselves.
        page = rm.Page.model_construct(
            url=raw.url, final_url=final, status=raw.response.status, score=score, source_path=source_path,
            duplicate_of=None, facts=facts_model(report_facts or facts), preview=preview, findings=findings,
            redirects=[r.url for r in raw.response.redirects],
            render=None if rendered is None else render_model(rendered),
        )
        if self.spec.published is not None:
            page = self.spec.published.page(page)
        skips = tuple(f for f in page.findings if f.status == "skip")
        return AuditedPage(page, facts, values, skips)


@dataclass
class ThumbnailOffers:
    """The preview images a worker fetched whole, each offered to the crawl process once."""

    offered: set[str] = field(default_factory=set)
    pending: list[tuple[str, ImageFetch]] = field(default_factory=list)

    def __call__(self, url: str, fetch: ImageFetch) -> None:
        if url not in self.offered and len(self.offered) < 10_000:
            self.offered.add(url)
            self.pending.append((url, fetch))

    def take(self) -> tuple[tuple[str, ImageFetch], ...]:
        taken, self.pending = tuple(self.pending), []
        return taken


def facts_model(facts: PageFacts) -> rm.Facts:
    return rm.Facts.model_construct(
        title=facts.title, canonical=facts.canonical, open_graph=facts.open_graph, twitter=facts.twitter,
        share_buttons=list(facts.share_buttons), share_widgets=list(facts.share_widgets),
        profile_links=list(facts.profile_links), sign_in=list(facts.sign_in),
        social_widgets=list(facts.social_widgets), feeds=list(facts.feeds), description=facts.description,
        lang=facts.lang, page_type=facts.page_type, json_ld_types=list(facts.json_ld_types),
        same_as=list(facts.same_as), published_time=facts.published_time, modified_time=facts.modified_time,
    )


def render_model(rendered: RenderedPage) -> rm.PageRender:
    return rm.PageRender(
        status=rendered.status, from_url=rendered.from_url, template=rendered.template, reason=rendered.reason,
        viewports={v.name: v for v in rendered.viewports},
        facts=facts_model(rendered.facts) if rendered.facts is not None and rendered.status == "rendered" else None,
        changes=rendered.changes if rendered.status != "static-only" else None,
        script_errors=list(rendered.script_errors), notes=list(rendered.notes),
    )
