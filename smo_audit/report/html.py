"""The HTML report: one self-contained file a person reads (desktop or phone, online or not).

This module turns the Report into plain view data (numbers computed, texts cut, previews laid
out per platform); the layout lives in report_templates/report.html.j2. jinja2 autoescapes every
value, so page content (titles, URLs, share-button labels) is always text, never markup. On top
of that the file declares a Content-Security-Policy that allows no script, no request and no
form: even a bug in escaping could neither run code nor call home.

Interaction without JavaScript: the page table is sorted and filtered with radio buttons and CSS
(`:checked ~`), each row carrying its sort positions as CSS custom properties. Categories in CSS
selectors are indexes (c0, c1...), never text from a report.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from markupsafe import Markup, escape

from smo_audit.report.model import Finding, Page, Preview, Report
from smo_audit.report.summary import (
    RuleInfo,
    clean,
    fix_first,
    page_label,
    problem_groups,
    rule_infos,
)
from smo_audit.report.wording import below_fail_under, score_text

if TYPE_CHECKING:
    from jinja2 import Environment

    from smo_audit.engine.api import Rule

DETAILED_PAGES = 200  # pages with full detail (worst first); the table lists every page
CARD_PLATFORMS = ("facebook", "x", "linkedin", "slack", "whatsapp")
SEVERITIES = ("error", "warning", "info")
_SAFE_SCHEMES = ("http", "https")


def safe_href(url: str | None) -> str | None:
    """The URL when it is a plain http(s) link, else None (javascript:, data:, relative...)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES or not parts.hostname:
        return None
    return url.strip()


def cut(text: str | None, limit: int | None) -> tuple[str, bool]:
    """(text as a card shows it, whether it was cut)."""
    value = clean(text, 5000)
    if limit is None or len(value) <= limit:
        return value, False
    return value[: max(limit - 1, 1)].rstrip() + "…", True


def docs_html(text: str) -> Markup:
    """A rule's docs (a little Markdown) as safe HTML: paragraphs, `code`, fenced blocks."""
    out: list[str] = []
    for block in text.strip().split("\n\n"):
        if block.startswith("```"):
            body = block.strip("`").split("\n", 1)[-1] if "\n" in block else block.strip("`")
            out.append(f"<pre>{escape(body.rstrip('`').rstrip())}</pre>")
            continue
        parts = block.split("`")
        html = "".join(str(escape(part)) if i % 2 == 0 else f"<code>{escape(part)}</code>" for i, part in enumerate(parts))
        out.append(f"<p>{html}</p>")
    return Markup("".join(out))


def score_class(score: float | None) -> str:
    if score is None:
        return "na"
    return "good" if score >= 90 else "ok" if score >= 50 else "bad"


def gauge(score: float | None, size: int = 160) -> dict[str, Any]:
    """An arc gauge's geometry: a 270° track and the filled part, as SVG path data (numbers only)."""
    r = size / 2 - 12
    c = size / 2

    def point(fraction: float) -> tuple[float, float]:
        angle = math.radians(135 + 270 * fraction)
        return round(c + r * math.cos(angle), 2), round(c + r * math.sin(angle), 2)

    def arc(fraction: float) -> str:
        x0, y0 = point(0)
        x1, y1 = point(fraction)
        large = 1 if 270 * fraction > 180 else 0
        return f"M {x0} {y0} A {r:.2f} {r:.2f} 0 {large} 1 {x1} {y1}"

    fraction = 0.0 if score is None else max(0.0, min(score, 100.0)) / 100
    return {"size": size, "track": arc(1.0), "value": arc(fraction) if fraction > 0.001 else "",
            "label": score_text(score), "cls": score_class(score)}


@dataclass(frozen=True, slots=True)
class Layout:
    """How a platform draws a link card: image box and where the image sits."""

    name: str
    aspect: float  # width / height of the image box
    image: str  # "top" (large image above the text) | "side" (small square beside it)
    title_chars: int | None
    description_chars: int | None
    shows_description: bool = True


@cache
def layouts() -> dict[str, Layout]:
    from smo_audit.platforms import platform

    table: dict[str, Layout] = {}
    for pid in CARD_PLATFORMS:
        p = platform(pid)
        if p is None:
            continue
        table[pid] = Layout(p.name, p.image.aspect or 1.91, "top", p.shown_title_chars, p.shown_description_chars)
    if "x" in table:
        x = table["x"]
        table["x"] = Layout("X (summary_large_image)", 2.0, "top", x.title_chars, x.description_chars, shows_description=False)
        table["x-summary"] = Layout("X (summary)", 1.0, "side", x.title_chars, x.description_chars)
    if "whatsapp" in table:
        w = table["whatsapp"]
        table["whatsapp"] = Layout(w.name, 1.0, "side", w.title_chars, w.description_chars)
    if "slack" in table:
        s = table["slack"]
        table["slack"] = Layout(s.name, 1.91, "top", s.title_chars, s.description_chars)
    return table


@dataclass
class Card:
    platform: str
    name: str
    layout: str
    aspect: str
    verdict: str
    title: str
    title_cut: bool
    description: str
    description_cut: bool
    shows_description: bool
    domain: str
    image: str  # "thumb" | "placeholder" | "missing" | "broken"
    image_note: str
    thumb_class: str | None
    notes: list[str]


@dataclass
class PageView:
    index: int
    label: str
    url: str
    href: str | None
    score: float | None
    score_text: str
    score_cls: str
    fails: int
    warns: int
    worst: str
    categories: list[int]  # indexes into the report's category list with problems on this page
    severities: list[str]
    order_desc: int = 0
    order_name: int = 0
    detailed: bool = False
    cards: list[Card] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    share_buttons: list[dict[str, Any]] = field(default_factory=list)
    share_widgets: list[str] = field(default_factory=list)
    duplicate_of: str | None = None
    screenshots: list[Shot] = field(default_factory=list)
    screenshots_from: str | None = None  # inherited: the page of the same template they show


@dataclass(frozen=True, slots=True)
class Shot:
    """One rendered screenshot (`--screenshots DIR`) as the report embeds it."""

    src: str  # relative to the HTML file's folder, percent-encoded
    viewport: str
    caption: str


def screenshot_src(path: str, output: Path | None) -> str | None:
    """The JPEG at `path` (as the JSON report names it: relative paths are relative to the folder
    the audit ran in) as a link relative to the HTML report's folder, percent-encoded so that no
    character of a file name can end the attribute or become a scheme; None for anything that is
    not a JPEG file path."""
    if not path or "\x00" in path or not path.lower().endswith((".jpg", ".jpeg")) or "://" in path:
        return None
    base = (output.parent if output is not None else Path()).resolve()
    try:
        relative = os.path.relpath(Path(path).resolve(), base)
    except ValueError:  # another drive (Windows): no relative path exists
        return None
    return quote(Path(relative).as_posix(), safe="/")


def _shots(page: Page, output: Path | None) -> list[Shot]:
    if page.render is None or page.render.status == "static-only":
        return []
    shots = []
    for name, viewport in page.render.viewports.items():
        src = screenshot_src(viewport.screenshot or "", output)
        if src is not None:
            shots.append(Shot(src, clean(name, 20), clean(f"{name} {viewport.width}x{viewport.height}", 60)))
    return shots


def _domain(page: Page) -> str:
    for candidate in (page.facts.open_graph.get("og:url"), page.facts.canonical, page.final_url, page.url):
        href = safe_href(candidate)
        if href:
            host = urlsplit(href).hostname or ""
            return host.removeprefix("www.").upper() if host else ""
    return ""


def _card(pid: str, layout_id: str, preview: Preview | None, page: Page, thumbs: Mapping[str, str]) -> Card:
    layout = layouts()[layout_id]
    if preview is None:
        return Card(pid, layout.name, layout.image, f"{layout.aspect:.3f}", "broken", "", False, "", False,
                    layout.shows_description, _domain(page), "missing", "no preview data", None, ["not in the report"])
    title, title_cut = cut(preview.title, layout.title_chars)
    description, description_cut = cut(preview.description, layout.description_chars)
    image = preview.image
    broken_image = any(n.startswith("the image cannot be loaded") or "no image is shown" in n or "is not accepted" in n
                       for n in preview.notes)
    if image is None:
        kind, note, thumb = "missing", "no image", None
    elif broken_image:
        kind, note, thumb = "broken", "image not shown", None
    elif image.url in thumbs:
        kind, note, thumb = "thumb", "", thumbs[image.url]
    else:
        size = f"{image.width}x{image.height}" if image.width and image.height else "size unknown"
        kind, note, thumb = "placeholder", f"{size} {(image.type or '').removeprefix('image/')}".strip(), None
    return Card(
        platform=pid, name=layout.name, layout=layout.image, aspect=f"{layout.aspect:.3f}", verdict=preview.verdict,
        title=title, title_cut=title_cut, description=description, description_cut=description_cut,
        shows_description=layout.shows_description, domain=_domain(page), image=kind, image_note=note,
        thumb_class=thumb, notes=[clean(n, 300) for n in preview.notes[:8]],
    )


def _cards(page: Page, thumbs: Mapping[str, str]) -> list[Card]:
    cards: list[Card] = []
    for pid in CARD_PLATFORMS:
        if pid not in layouts():
            continue
        layout_id = pid
        if pid == "x":
            card_type = (page.facts.twitter.get("twitter:card") or "").strip().lower()
            layout_id = "x" if card_type == "summary_large_image" else "x-summary"
        cards.append(_card(pid, layout_id, page.preview.get(pid), page, thumbs))
    return cards


def _finding_view(finding: Finding, info: RuleInfo) -> dict[str, Any]:
    return {"rule": info.id, "title": clean(info.title, 200), "status": finding.status, "severity": finding.severity,
            "message": clean(finding.message, 1000), "evidence": [clean(e, 500) for e in finding.evidence[:10]]}


def _pages(report: Report, infos: Mapping[str, RuleInfo], category_index: Mapping[str, int],
           thumbs: Mapping[str, str], detailed: int, output: Path | None = None) -> list[PageView]:
    views: list[PageView] = []
    for page in report.pages:
        problems = [f for f in page.findings if f.status in ("fail", "warn")]
        severities: list[str] = sorted({str(f.severity) for f in problems}, key=SEVERITIES.index)
        views.append(PageView(
            index=0, label=clean(page_label(page, report), 300), url=clean(page.url, 500), href=safe_href(page.url),
            score=page.score, score_text="n/a" if page.score is None else f"{page.score:.0f}",
            score_cls=score_class(page.score),
            fails=sum(f.status == "fail" for f in problems), warns=sum(f.status == "warn" for f in problems),
            worst=severities[0] if severities else "none",
            categories=sorted({category_index[f.category] for f in problems if f.category in category_index}),
            severities=severities, duplicate_of=clean(page.duplicate_of, 500) if page.duplicate_of else None,
        ))
        view = views[-1]
        view.findings = [_finding_view(f, infos.get(f.rule) or RuleInfo.from_finding(f)) for f in
                         sorted(problems, key=lambda f: (f.status != "fail", SEVERITIES.index(f.severity), f.rule))]
        view.share_buttons = [
            {"network": clean(b.network, 40), "label": clean(b.label or b.text or "", 120),
             "mechanism": clean(b.mechanism, 40), "problems": [clean(p, 200) for p in b.problems[:3]],
             "visible": b.visible}
            for b in page.facts.share_buttons[:40]
        ]
        view.share_widgets = [clean(w.provider + (" (shut down)" if w.dead else ""), 80) for w in page.facts.share_widgets[:10]]
        view.cards = _cards(page, thumbs)
        view.screenshots = _shots(page, output)
        if view.screenshots and page.render is not None and page.render.status == "inherited":
            view.screenshots_from = clean(page.render.from_url, 500) if page.render.from_url else None
    # Worst first (unscored last), then by name; the other orders are CSS `order` values.
    key_score = [(v.score if v.score is not None else 101.0, v.label) for v in views]
    ordered = sorted(range(len(views)), key=lambda i: key_score[i])
    for position, i in enumerate(sorted(range(len(views)), key=lambda i: (-(views[i].score or -1.0), views[i].label))):
        views[i].order_desc = position
    for position, i in enumerate(sorted(range(len(views)), key=lambda i: views[i].label)):
        views[i].order_name = position
    result = [views[i] for i in ordered]
    for position, view in enumerate(result):
        view.index = position
        view.detailed = position < detailed and view.duplicate_of is None
    return result


def thumbnail_classes(report: Report) -> dict[str, str]:
    """Image URL -> CSS class of its inlined thumbnail (each data: URI written once, in <style>)."""
    valid = [url for url in report.thumbnails if _data_uri(report, url)]
    return {url: f"t{i}" for i, url in enumerate(valid)}


def view(report: Report, rules: Mapping[str, Rule] | None = None, *, detailed: int = DETAILED_PAGES,
         output: Path | None = None) -> dict[str, Any]:
    """Everything the template shows, computed once. `output`: where the HTML file is written
    (screenshots are linked relative to it; None: relative to the working folder)."""
    infos = rule_infos(report, rules)
    groups = problem_groups(report, infos)
    category_index = {c.id: i for i, c in enumerate(report.categories)}
    for _page, finding in ((None, f) for p in report.pages for f in p.findings):
        category_index.setdefault(finding.category, len(category_index))
    thumbs = thumbnail_classes(report)
    pages = _pages(report, infos, category_index, thumbs, detailed, output)
    titles = {c.id: c.title for c in report.categories}
    failing_rules = [g.rule for g in groups]
    return {
        "report": report,
        "target": clean(report.target, 500),
        "target_href": safe_href(report.target),
        "gauge": gauge(report.score),
        "score_text": score_text(report.score),  # one decimal: the number --fail-under compares
        "categories": [
            {"index": category_index[c.id], "title": clean(c.title, 100), "score": c.score,
             "score_text": "n/a" if c.score is None else f"{c.score:.0f}", "cls": score_class(c.score),
             "points_lost": c.points_lost, "reason": clean(c.reason, 300) if c.reason else None,
             "width": 0 if c.score is None else max(0.0, min(c.score, 100.0))}
            for c in report.categories
        ],
        "filter_categories": [{"index": i, "title": clean(titles.get(cid, cid), 100)}
                              for cid, i in sorted(category_index.items(), key=lambda item: item[1])],
        "fix_first": fix_first(report, groups, 10),
        "pages": pages,
        "detailed_count": sum(1 for p in pages if p.detailed),
        "rules": failing_rules,
        "groups": groups,
        "site_findings": [_finding_view(f, infos.get(f.rule) or RuleInfo.from_finding(f))
                          for f in report.site_findings if f.status in ("fail", "warn")],
        "errors": [{"url": clean(e.url, 300), "kind": clean(e.kind, 40), "message": clean(e.message, 300)}
                   for e in report.errors[:200]],
        "error_count": len(report.errors),
        "severities": SEVERITIES,
        "thumbs": [{"cls": cls, "uri": _data_uri(report, url)} for url, cls in thumbs.items()],
        "docs_html": docs_html,
        # The gate's verdict: fail-under is said as "below the threshold", the others listed.
        "failed_thresholds": report.failed_thresholds,
        "below_fail_under": report.fail_under is not None and (
            not report.failed_thresholds or any(below_fail_under(r) for r in report.failed_thresholds)),
        "other_thresholds": [clean(r, 500) for r in report.failed_thresholds if not below_fail_under(r)][:20],
        # Screenshots are files beside the report: only then may images come from its own origin.
        "img_self": any(p.screenshots for p in pages if p.detailed),
    }


def _data_uri(report: Report, url: str) -> str:
    """A thumbnail's data: URI, only when it is a base64 raster image (nothing else reaches CSS)."""
    value = str(report.thumbnails.get(url, ""))
    allowed = ("data:image/png;base64,", "data:image/jpeg;base64,", "data:image/webp;base64,", "data:image/gif;base64,")
    if not value.startswith(allowed):
        return ""
    payload = value.split(",", 1)[1]
    if not payload or any(ch not in _BASE64 for ch in payload):
        return ""
    return value


_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


@cache
def environment() -> Environment:
    """The templates' environment: autoescape on for every template, undefined names are errors."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("smo_audit_templates", "."), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def to_html(report: Report, rules: Mapping[str, Rule] | None = None, *, detailed: int = DETAILED_PAGES,
            output: Path | None = None) -> str:
    """The report as one HTML document, self-contained but for the rendered screenshots it shows
    (`--screenshots DIR`: JPEG files linked relative to `output`, the file being written)."""
    return environment().get_template("report.html.j2").render(**view(report, rules, detailed=detailed, output=output))


__all__: Sequence[str] = ("gauge", "safe_href", "to_html", "view")
