"""`smo-audit compare A.json B.json [C.json ...]`: sites side by side, the first as the reference.

From each saved report: the score and category scores, the networks its share buttons offer, the
networks it has profiles on, how complete its link previews are, its social sign-in providers and
its feeds; then, for every other site, what it does that the first one does not. Terminal,
Markdown and HTML writers share one model (`SiteSummary`, `Comparison`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from smo_audit.report.model import Report
from smo_audit.report.summary import clean

if TYPE_CHECKING:
    from rich.console import Console

PREVIEW_FIELDS = ("og:title", "og:description", "og:image", "twitter:card")
BETTER_BY = 5.0  # category points before "scores higher" is worth saying


@dataclass
class SiteSummary:
    name: str
    target: str
    pages: int
    score: float | None
    categories: dict[str, tuple[str, float | None]]  # id -> (title, score)
    share_networks: list[str]
    profiles: dict[str, list[str]]  # network -> handles
    preview_fields: dict[str, float]  # tag -> share of pages that have it (0..1)
    preview_ok: dict[str, float]  # platform -> share of pages whose card is "ok"
    sign_in: list[str]
    feeds: list[str]  # "rss", "atom", "json" (with counts of distinct feed URLs)

    @property
    def preview_complete(self) -> float:
        """Share of pages with every one of PREVIEW_FIELDS."""
        return min(self.preview_fields.values()) if self.preview_fields else 0.0


def _host(url: str | None) -> str | None:
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return None
    return parts.hostname.removeprefix("www.") if parts.scheme in ("http", "https") and parts.hostname else None


def _name(report: Report) -> str:
    """The site's host: the target URL's, or for a build folder the production host its first
    page names (og:url, canonical), else the folder's name."""
    host = _host(report.target)
    if host:
        return host
    for page in report.pages[:1]:
        for candidate in (page.facts.open_graph.get("og:url"), page.facts.canonical):
            host = _host(candidate)
            if host and host not in ("localhost", "127.0.0.1"):
                return host
    return report.target.rstrip("/").rsplit("/", 1)[-1] or report.target


def summarise(report: Report) -> SiteSummary:
    pages = [p for p in report.pages if p.duplicate_of is None and p.status and 200 <= p.status < 300]
    total = max(len(pages), 1)
    share: set[str] = set()
    profiles: dict[str, set[str]] = {}
    sign_in: set[str] = set()
    feeds: dict[str, set[str]] = {}
    field_counts = dict.fromkeys(PREVIEW_FIELDS, 0)
    ok_counts: dict[str, int] = {}
    for page in pages:
        facts = page.facts
        share.update(b.network for b in facts.share_buttons if not b.problems or b.network)
        for widget in facts.share_widgets:
            if not widget.dead:
                share.update(widget.networks)
        for link in facts.profile_links:
            profiles.setdefault(link.network, set()).add(link.handle or link.url)
        sign_in.update(s.provider for s in facts.sign_in if not s.dead)
        for feed in facts.feeds:
            feeds.setdefault(feed.type, set()).add(feed.url)
        for key in PREVIEW_FIELDS:
            table = facts.twitter if key.startswith("twitter:") else facts.open_graph
            field_counts[key] += bool((table.get(key) or "").strip())
        for platform, preview in page.preview.items():
            ok_counts[platform] = ok_counts.get(platform, 0) + (preview.verdict == "ok")
    return SiteSummary(
        name=clean(_name(report), 80), target=clean(report.target, 300), pages=len(pages), score=report.score,
        categories={c.id: (clean(c.title, 60), c.score) for c in report.categories},
        share_networks=sorted(clean(n, 30) for n in share),
        profiles={clean(n, 30): sorted(clean(h, 80) for h in handles) for n, handles in sorted(profiles.items())},
        preview_fields={k: v / total for k, v in field_counts.items()},
        preview_ok={k: v / total for k, v in sorted(ok_counts.items())},
        sign_in=sorted(clean(s, 30) for s in sign_in),
        feeds=[f"{clean(kind, 10)} ({len(urls)})" if len(urls) > 1 else clean(kind, 10) for kind, urls in sorted(feeds.items())],
    )


@dataclass
class Comparison:
    sites: list[SiteSummary]
    category_ids: list[str]
    advantages: dict[int, list[str]] = field(default_factory=dict)  # site index (>0) -> sentences


def _networks(names: Sequence[str]) -> str:
    return ", ".join(names)


def compare(reports: Sequence[Report]) -> Comparison:
    sites = [summarise(r) for r in reports]
    category_ids: list[str] = []
    for site in sites:
        for cid in site.categories:
            if cid not in category_ids:
                category_ids.append(cid)
    first = sites[0]
    result = Comparison(sites, category_ids)
    for index, site in enumerate(sites[1:], 1):
        found: list[str] = []
        extra_share = [n for n in site.share_networks if n not in first.share_networks]
        if extra_share:
            found.append(f"offers share buttons for {_networks(extra_share)}")
        extra_profiles = [n for n in site.profiles if n not in first.profiles]
        if extra_profiles:
            found.append(f"links to its profiles on {_networks(extra_profiles)}")
        extra_sign_in = [p for p in site.sign_in if p not in first.sign_in]
        if extra_sign_in:
            found.append(f"offers sign-in with {_networks(extra_sign_in)}")
        extra_feeds = [f.split(" ")[0] for f in site.feeds if f.split(" ")[0] not in {g.split(" ")[0] for g in first.feeds}]
        if extra_feeds:
            found.append(f"publishes {_networks(extra_feeds)} feeds")
        if site.preview_complete > first.preview_complete + 0.05:
            found.append(f"has complete link previews on {site.preview_complete:.0%} of its pages "
                         f"(against {first.preview_complete:.0%})")
        for cid in category_ids:
            mine = site.categories.get(cid, ("", None))
            theirs = first.categories.get(cid, ("", None))
            if mine[1] is not None and (theirs[1] is None or mine[1] >= theirs[1] + BETTER_BY):
                against = "not scored" if theirs[1] is None else f"{theirs[1]:.0f}"
                found.append(f"scores {mine[1]:.0f} in {mine[0]} (against {against})")
        result.advantages[index] = found
    return result


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def _category_title(comparison: Comparison, cid: str) -> str:
    for site in comparison.sites:
        if cid in site.categories:
            return site.categories[cid][0]
    return cid


def rows(comparison: Comparison) -> list[tuple[str, list[str]]]:
    """The side-by-side table as plain text cells: (row label, one cell per site)."""
    sites = comparison.sites
    table: list[tuple[str, list[str]]] = [
        ("Score", [_score(s.score) for s in sites]),
        ("Pages audited", [str(s.pages) for s in sites]),
    ]
    table += [(_category_title(comparison, cid), [_score(s.categories.get(cid, ("", None))[1]) for s in sites])
              for cid in comparison.category_ids]
    table += [
        ("Share buttons for", [_networks(s.share_networks) or "none" for s in sites]),
        ("Profiles on", [_networks(list(s.profiles)) or "none" for s in sites]),
        ("Complete previews", [f"{s.preview_complete:.0%} of pages" for s in sites]),
        ("Sign-in with", [_networks(s.sign_in) or "none" for s in sites]),
        ("Feeds", [_networks(s.feeds) or "none" for s in sites]),
    ]
    return table


def render_terminal(comparison: Comparison, console: Console) -> None:
    from smo_audit.report.terminal import command_safe

    with command_safe(console):
        _render_terminal(comparison, console)


def _render_terminal(comparison: Comparison, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Sites side by side (the first is the reference)", title_justify="left", header_style="bold")
    table.add_column("", no_wrap=True, max_width=22, overflow="ellipsis")
    for site in comparison.sites:
        table.add_column(Text(clean(site.name, 80)), overflow="fold")
    for label, cells in rows(comparison):  # saved reports are untrusted: Text, never rich markup
        table.add_row(Text(clean(label, 60)), *(Text(clean(cell, 300)) for cell in cells))
    console.print(table)
    first = comparison.sites[0].name
    for index, found in comparison.advantages.items():
        site = comparison.sites[index]
        head = Text(f"What {site.name} does that {first} does not:", style="bold")
        console.print(head)
        for sentence in found or ["nothing measured here"]:
            console.print(Text(f"  - {clean(sentence, 400)}"))


def to_markdown(comparison: Comparison) -> str:
    from smo_audit.report.markdown import md

    sites = comparison.sites
    lines = ["## smo-audit: sites compared", "", f"The first site, {md(sites[0].name)}, is the reference.", ""]
    lines.append("| | " + " | ".join(md(s.name, 60) for s in sites) + " |")
    lines.append("|---|" + "---|" * len(sites))
    for label, cells in rows(comparison):
        lines.append(f"| {md(label, 60)} | " + " | ".join(md(c, 300) for c in cells) + " |")
    lines.append("")
    for index, found in comparison.advantages.items():
        lines += [f"### What {md(sites[index].name)} does that {md(sites[0].name)} does not", ""]
        lines += [f"- {md(sentence, 400)}" for sentence in found] or ["- nothing measured here"]
        lines.append("")
    return "\n".join(lines)


def to_html(comparison: Comparison) -> str:
    from smo_audit.report.html import environment

    return environment().get_template("compare.html.j2").render(
        sites=comparison.sites, rows=rows(comparison), advantages=comparison.advantages,
    )
