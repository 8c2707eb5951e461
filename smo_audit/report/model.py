"""The JSON contract (DESIGN.md). Dashboards depend on these names: add fields, never rename.

`smo-audit schema` prints the JSON Schema generated from these models. Facts are the extraction
dataclasses themselves, so what rules saw and what the report says cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from smo_audit.extract.facts import (
    Feed,
    ProfileLink,
    ShareButton,
    ShareWidget,
    SignIn,
    SocialWidget,
)
from smo_audit.render.facts import RenderSummary, ScriptChanges, ViewportView

SCHEMA_VERSION = "1.4"  # 1.1: score explanation (categories[].costs, fix_first, score_basis); 1.2: settings, folder; 1.3: failed_thresholds; 1.4: thumbnails


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tool(_Model):
    name: str
    version: str


class RuleCost(_Model):
    """What one rule costs the site score (added in 1.1)."""

    rule: str
    title: str
    category: str
    scope: Literal["page", "site"] = Field(description="page rule, or a site-wide rule (counted in every page)")
    points_lost: float = Field(description="site-score points the site would gain if this rule passed everywhere "
                                           "it was scored")
    pages_affected: int = Field(description="pages where it failed or warned (a failing site rule: every page)")
    pages_scored: int = Field(description="pages where it was scored (a site rule: every page)")


class CategoryScore(_Model):
    id: str
    title: str
    score: float | None = Field(description="0..100; null when nothing in the category was scored")
    points_lost: float | None = Field(default=None, description="site-score points the site would gain if every "
                                                                "rule of this category passed (1.1)")
    costs: list[RuleCost] = Field(default_factory=list, description="its rules that failed or warned, most costly "
                                                                    "first (1.1)")
    reason: str | None = Field(default=None, description="why the category has no score: it does not apply (1.1)")


class ScoreBasis(_Model):
    """How the site score was made from the page scores (added in 1.1)."""

    pages: int = Field(description="pages averaged into the site score")
    page_min: float | None = Field(description="lowest page score, site-wide findings included")
    page_max: float | None = Field(description="highest page score, site-wide findings included")
    site_rules_points_lost: float = Field(description="site-score points the failing site-wide rules cost")
    explanation: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule result. A slots dataclass, not a model: a big audit keeps tens of thousands of
    them, and a pydantic instance costs about ten times the memory (~1 KB against ~100 bytes)."""

    rule: str
    category: str
    severity: Literal["error", "warning", "info"]
    status: Literal["pass", "fail", "warn", "skip", "error"]
    message: str
    evidence: list[str] = field(default_factory=list)
    title: str | None = None
    data: dict[str, Any] | None = None


class Facts(_Model):
    """A page's facts: the contract's fields first, then additions (minor-version fields)."""

    title: str | None = None
    canonical: str | None = None
    open_graph: dict[str, str] = Field(default_factory=dict)
    twitter: dict[str, str] = Field(default_factory=dict)
    share_buttons: list[ShareButton] = Field(default_factory=list)
    share_widgets: list[ShareWidget] = Field(default_factory=list)
    profile_links: list[ProfileLink] = Field(default_factory=list)
    sign_in: list[SignIn] = Field(default_factory=list)
    social_widgets: list[SocialWidget] = Field(default_factory=list)
    feeds: list[Feed] = Field(default_factory=list)
    description: str | None = None
    lang: str | None = None
    page_type: str = "other"
    json_ld_types: list[str] = Field(default_factory=list)
    same_as: list[str] = Field(default_factory=list)
    published_time: str | None = None
    modified_time: str | None = None


@dataclass(frozen=True, slots=True)
class PreviewImage:
    url: str
    width: int | None = None
    height: int | None = None
    bytes: int | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class Preview:
    """What one platform would show for the link. (Dataclass, not model: several per page.)"""

    verdict: Literal["ok", "degraded", "broken"]
    title: str | None = None
    description: str | None = None
    image: PreviewImage | None = None
    notes: list[str] = field(default_factory=list)


class PageRender(_Model):
    """Rendered mode's view of a page (`--render`): how it was rendered, per-viewport button
    geometry and visibility, the rendered DOM's facts, and what scripts changed."""

    status: Literal["rendered", "inherited", "static-only"]
    from_url: str | None = Field(None, description="inherited: the page of the same template that was rendered")
    template: str | None = Field(None, description="template signature: layout/controls (--render auto)")
    reason: str | None = Field(None, description="static-only: why the page was not rendered")
    viewports: dict[str, ViewportView] = Field(default_factory=dict)
    facts: Facts | None = Field(None, description="facts of the rendered DOM (rendered pages only)")
    changes: ScriptChanges | None = None
    script_errors: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class Page(_Model):
    url: str
    final_url: str
    status: int
    score: float | None
    source_path: str | None = None
    duplicate_of: str | None = None
    facts: Facts
    preview: dict[str, Preview] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    redirects: list[str] = Field(default_factory=list)
    render: PageRender | None = None


class CrawlError(_Model):
    url: str
    kind: str
    message: str
    status: int | None = None
    referrer: str | None = None


class Settings(_Model):
    """The effective settings an audit ran with (1.2): what a dashboard needs to compare numbers."""

    target: str = Field(description="what was audited, as given")
    base_url: str | None = Field(None, description="the production base URL the audit judged against")
    base_url_source: Literal["option", "detected"] | None = Field(
        None, description="option: --base-url or the config file; detected: from a build folder's canonical/og:url")
    scope: str
    max_pages: int
    max_depth: int
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    select: list[str] = Field(default_factory=list, description="rules or categories selected (empty: all)")
    ignore: list[str] = Field(default_factory=list)
    render: str = "off"
    respect_robots: bool = True
    use_sitemaps: bool = True
    check_profiles: bool = False
    rules_run: int = Field(0, description="page and site rules that ran")


class FolderInfo(_Model):
    """A build folder audit (1.2): what the folder held and what of it was audited."""

    html_files: int = Field(description="every .html/.htm file in the folder (those it cannot serve included; the top 404.html, the host's error page, aside)")
    audited_files: int = Field(description="files audited (each once, whatever URL reached it)")
    not_audited: int = Field(0, description="files --max-pages (or --include/--exclude, robots.txt) left out, or the server cannot serve (errors[], kind unreadable)")
    origin: str | None = Field(None, description="the production base URL production links were mapped from")
    origin_source: Literal["option", "detected"] | None = None
    origin_evidence: str | None = Field(None, description="detected: how many pages' canonical/og:url agree")
    orphans: list[str] = Field(default_factory=list,
                               description="audited files no audited page links to (the start page and 404 pages aside)")


class Report(_Model):
    schema_version: str = SCHEMA_VERSION
    tool: Tool
    target: str
    mode: Literal["static", "rendered"]
    started_at: str
    finished_at: str
    score: float | None
    passed: bool | None = Field(description="the audit passed every configured threshold (fail_under, "
                                "failed_thresholds); null when no threshold was set")
    fail_under: float | None = None
    failed_thresholds: list[str] = Field(default_factory=list, description="why passed is false, one sentence per "
                                         "threshold that failed: fail-under, category-fail-under, max-failures, "
                                         "fail-on, a regression against the baseline (1.3)")
    categories: list[CategoryScore]
    partial: bool = False
    stop_reason: str | None = None
    pages: list[Page]
    site_findings: list[Finding] = Field(default_factory=list)
    errors: list[CrawlError] = Field(default_factory=list)
    fix_first: list[RuleCost] = Field(default_factory=list, description="the rules that cost the site score the "
                                                                        "most points, site-wide (1.1)")
    score_basis: ScoreBasis | None = None
    render: RenderSummary | None = None
    settings: Settings | None = None
    folder: FolderInfo | None = None
    thumbnails: dict[str, str] = Field(
        default_factory=dict,
        description="preview image URL (as the page declares it) -> data: URI of the image, for small raster "
                    "images that were fetched whole; bounded in count and size (1.4)")


def json_schema() -> dict[str, Any]:
    schema = Report.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "smo-audit report"
    schema["$id"] = f"https://smo-audit.dev/schema/report-{SCHEMA_VERSION}.json"
    return schema
