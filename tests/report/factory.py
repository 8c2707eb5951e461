"""Synthetic reports of any size, for size bounds and snapshots (pure data, no crawl)."""

from __future__ import annotations

from smo_audit.report.model import CategoryScore, Facts, Finding, Page, Report, Tool

RULES = (
    ("og-image", "open-graph", "error", "Open Graph image"),
    ("og-title-length", "open-graph", "warning", "Preview title length"),
    ("share-coverage", "share-buttons", "warning", "Share buttons cover the networks that matter"),
    ("site-icons", "identity", "warning", "Favicon and touch icon"),
)


def synthetic_report(pages: int, *, fail_under: float | None = 80.0) -> Report:
    """`pages` pages under https://shop.example/, each failing or warning on every rule in RULES."""
    page_list = []
    for n in range(pages):
        findings = [
            Finding(rule=rule, category=category, severity=severity,  # type: ignore[arg-type]
                    status="fail" if severity == "error" or n % 3 == 0 else "warn",
                    message=f"{title} problem on product {n}: a long explanation of what is wrong " * 2,
                    evidence=[f'<meta property="og:title" content="Product {n}">'], title=title)
            for rule, category, severity, title in RULES
        ]
        findings.append(Finding(rule="og-title", category="open-graph", severity="error", status="pass",
                                message="og:title is set", title="Open Graph title"))
        url = f"https://shop.example/products/{n:05d}-a-rather-long-product-slug-for-the-catalogue"
        page_list.append(Page(url=url, final_url=url, status=200, score=40.0 + n % 60, facts=Facts(title=f"Product {n}"),
                              findings=findings))
    site = [Finding(rule="profile-links-present", category="profiles", severity="warning", status="fail",
                    message="no page links to a social profile of the brand", title="Links to the brand's social profiles")]
    return Report(
        tool=Tool(name="smo-audit", version="9.9.9"), target="https://shop.example/", mode="static",
        started_at="2026-12-04T20:00:00+00:00", finished_at="2026-12-04T20:05:00+00:00",
        score=61.5, passed=False, fail_under=fail_under,
        categories=[CategoryScore(id="open-graph", title="Open Graph", score=55.0),
                    CategoryScore(id="share-buttons", title="Share buttons", score=70.0),
                    CategoryScore(id="identity", title="Structured identity", score=None)],
        pages=page_list, site_findings=site,
    )
