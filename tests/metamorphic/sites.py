"""The metamorphic fixture sites, their features, the mutations, and one real audit of a variant.

A variant of a site is its complete pages (fixtures/metamorphic/<site>/) with some features taken
away from every page, and optionally some worsening edits. It is written to a folder
served over real loopback HTTP by smo-audit's own folder server, and audited as a URL with the
real crawler and pipeline, `--base-url` set to the site's production origin (the pages link to
themselves by their production URLs, as a static build does).
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from smo_audit.config import AuditConfig
from smo_audit.crawl.local_server import serve_folder
from smo_audit.pipeline import Audit, Target
from smo_audit.report.model import Report

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "metamorphic"
ORIGINS = {"blog": "https://blog.example", "shop": "https://shop.example", "docs": "https://docs.example",
           "admin": "https://app.ledgerly.example"}
SITES = tuple(ORIGINS)


def _lines(*prefixes: str) -> Callable[[str], str]:
    pattern = re.compile("|".join(rf"^{re.escape(p)}[^\n]*\n" for p in prefixes), re.MULTILINE)
    return lambda html: pattern.sub("", html)


def _block(tag: str, cls: str) -> Callable[[str], str]:
    pattern = re.compile(rf'^<{tag} class="{cls}"[^\n]*\n(?:[^\n]*\n)*?</{tag}>\n', re.MULTILINE)
    return lambda html: pattern.sub("", html)


def _break_images(html: str) -> str:
    return re.sub(r'(<meta property="og:image" content="[^"]*/img/)', r"\1missing-", html)


# Each feature, as the edit that takes it away from a page. Restoring a feature is an improving
# mutation, taking it away a worsening one.
FEATURES: dict[str, Callable[[str], str]] = {
    "og-title": _lines('<meta property="og:title"'),
    "og-description": _lines('<meta property="og:description"'),
    "og-image": _lines('<meta property="og:image'),
    "working-images": _break_images,  # without it, og:image points at files that do not exist
    "og-url": _lines('<meta property="og:url"'),
    "og-extras": _lines('<meta property="og:type"', '<meta property="og:site_name"', '<meta property="og:locale"'),
    "x-card": _lines('<meta name="twitter:'),
    "canonical": _lines('<link rel="canonical"'),
    "share-buttons": _block("nav", "share"),
    "profiles": _block("footer", "profiles"),
    "identity": _lines('<script type="application/ld+json">{"@context": "https://schema.org", "@graph"'),
}
ALL = frozenset(FEATURES)


def _empty(key: str) -> Callable[[str], str]:
    return lambda html: re.sub(rf'(<meta property="{re.escape(key)}" content=")[^"]*"', r'\1"', html)


def _other_host(html: str) -> str:
    return re.sub(r'(<meta property="og:url" content="https://)', r"\1staging.", html)


def _canonical_to_home(html: str) -> str:
    """The template bug that writes the home page's URL into every page's canonical."""
    return re.sub(r'(<link rel="canonical" href="https?://[^/"]+)/[^"]*"', r'\1/"', html)


def _add_before_head_end(snippet: str) -> Callable[[str], str]:
    return lambda html: html.replace("</head>", snippet + "\n</head>", 1)


def _facebook_only(html: str) -> str:
    return re.sub(r'^<a href="(?!https://www\.facebook\.com/sharer)[^"]*"[^\n]*>Share (?:on|by) [^<]*</a>\n', "",
                  html, flags=re.MULTILINE)


# Worsening edits that are not "take a feature away": emptied tags, og:url on another host, and
# junk added to a page that has no tags (which must not raise its score either).
EDITS: dict[str, Callable[[str], str]] = {
    "empty-og-title": _empty("og:title"),
    "empty-og-description": _empty("og:description"),
    "og-url-other-host": _other_host,
    "canonical-to-home": _canonical_to_home,
    "facebook-only-share-bar": _facebook_only,  # a partial share bar: better than none, worse than all
    "junk-empty-og-title": _add_before_head_end('<meta property="og:title" content="">'),
    "junk-staging-og-url": _add_before_head_end('<meta property="og:url" content="https://staging.example.net/">'),
}


@dataclass(frozen=True)
class Variant:
    site: str
    features: frozenset[str] = ALL
    edits: tuple[str, ...] = ()

    def render(self, html: str) -> str:
        for name, remove in FEATURES.items():
            if name not in self.features:
                html = remove(html)
        for edit in self.edits:
            html = EDITS[edit](html)
        return html


class Auditor:
    """Audits variants for real: one loopback folder server per site (its folder rewritten for each
    variant), one real pipeline run per variant, results cached (the hypothesis test revisits the
    same states often)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._stack = ExitStack()
        self._servers: dict[str, str] = {}
        self._cache: dict[Variant, Report] = {}

    def close(self) -> None:
        self._stack.close()

    def _served(self, site: str) -> tuple[Path, str]:
        root = self.workdir / site
        if site not in self._servers:
            shutil.copytree(FIXTURES / site, root)
            self._servers[site] = self._stack.enter_context(serve_folder(root)).base_url
        return root, self._servers[site]

    def audit(self, variant: Variant) -> Report:
        cached = self._cache.get(variant)
        if cached is not None:
            return cached
        root, url = self._served(variant.site)
        source = FIXTURES / variant.site
        for path in source.rglob("*.html"):
            (root / path.relative_to(source)).write_text(variant.render(path.read_text("utf-8")), "utf-8")
        # workers=0: pages are parsed in this process (the same extraction code, no worker pool to
        # start for each of the ~100 audits these tests run).
        config = AuditConfig(base_url=ORIGINS[variant.site], max_pages=20, timeout=10, retries=0, quiet=True,
                             workers=0)
        report = asyncio.run(Audit(Target(url, url=url), config).run())
        assert not report.errors, [e.message for e in report.errors]
        self._cache[variant] = report
        return report

    def score(self, variant: Variant) -> float:
        value = self.audit(variant).score
        assert value is not None, f"{variant} was not scored"
        return value

    def page_scores(self, variant: Variant) -> dict[str, float]:
        """Page path -> score."""
        return {p.url.split("/", 3)[-1]: p.score for p in self.audit(variant).pages
                if p.score is not None and p.duplicate_of is None}


def without(variant: Variant, names: Iterable[str]) -> Variant:
    return Variant(variant.site, variant.features - frozenset(names), variant.edits)
