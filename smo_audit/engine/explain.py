"""The score's explanation in report terms: per category what its rules cost, and what to fix first.

The numbers come from `scoring.SiteScorer`; this module only names them (rule titles, category
titles, why an absent category does not apply) and orders them, so every writer shows the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from smo_audit.engine.scoring import ScoringProfile, SiteScore, absent_reason
from smo_audit.report import model as rm

FIX_FIRST = 5  # rules listed in fix_first
HYGIENE_ONLY = ("no problem found: these checks only take points away (rules/scoring.toml [penalties]), "
                "so a clean result adds nothing to the score")


@dataclass(frozen=True)
class ScoreParts:
    categories: list[rm.CategoryScore]
    fix_first: list[rm.RuleCost]
    basis: rm.ScoreBasis | None


def explain(
    result: SiteScore,
    profile: ScoringProfile,
    *,
    titles: Mapping[str, str],
    selected_categories: Iterable[str],
    findings: Iterable[rm.Finding],
) -> ScoreParts:
    """Build the report's categories (scored ones with their costs, absent ones with a reason)."""
    selected = set(selected_categories)
    skips: dict[str, list[str]] = {}
    clean: set[str] = set()  # unscored categories whose (hygiene) rules passed
    for finding in findings:
        if finding.category in result.categories:
            continue
        if finding.status == "pass":
            clean.add(finding.category)
        elif finding.status == "skip":
            reasons = skips.setdefault(finding.category, [])
            if len(reasons) < 3 and finding.message not in reasons:
                reasons.append(finding.message)
    costs = [
        rm.RuleCost(rule=c.rule, title=titles.get(c.rule, c.rule), category=c.category,
                    scope="site" if c.scope == "site" else "page", points_lost=c.points_lost,
                    pages_affected=c.pages_affected, pages_scored=c.pages_scored)
        for c in result.costs
    ]
    by_category: dict[str, list[rm.RuleCost]] = {}
    for cost in costs:
        by_category.setdefault(cost.category, []).append(cost)
    order = list(profile.categories)
    ids = sorted(set(result.categories) | selected,
                 key=lambda c: (order.index(c) if c in order else len(order), c))
    categories: list[rm.CategoryScore] = []
    for cid in ids:
        title = profile.category(cid).title
        if cid in result.categories:
            categories.append(rm.CategoryScore(
                id=cid, title=title, score=round(result.categories[cid] * 100, 1),
                points_lost=result.category_points_lost.get(cid, 0.0), costs=by_category.get(cid, []),
            ))
        elif result.pages:
            reason = (HYGIENE_ONLY if cid in clean
                      else absent_reason(cid, skips.get(cid, []), cid in selected,
                                      profile.category(cid).absent))
            categories.append(rm.CategoryScore(id=cid, title=title, score=None, reason=reason))
    basis = None
    if result.pages:
        basis = rm.ScoreBasis(pages=result.pages, page_min=result.page_min, page_max=result.page_max,
                              site_rules_points_lost=result.site_points_lost, explanation=_sentence(result))
    return ScoreParts(categories, [c for c in costs if c.points_lost > 0][:FIX_FIRST], basis)


def _sentence(result: SiteScore) -> str:
    """One sentence for every writer. The page lists show each page's own score (its page checks),
    while the pages averaged into the site score count the site-wide checks too, so one page can
    show two numbers (the demo's 404 page: 12 in the list, 38.2 as the range's low end): the
    sentence says which is which, and says nothing of site-wide checks when none was scored
    (site rules ignored, or not run: an interrupted audit, a merge without the site's data)."""
    site = result.site_checks > 0
    counted = " with the site-wide checks counted in" if site else ""
    if result.pages == 1:
        sentence = f"The site score is its one page's score{counted}"
    else:
        sentence = f"The site score is the mean of {result.pages} pages' scores{counted}"
        if result.page_min is not None and result.page_max is not None:
            sentence += f" (from {result.page_min:g} to {result.page_max:g})"
    if site:
        sentence += "; a page's score in the page lists counts its own checks only"
    if result.site_points_lost > 0:
        sentence += f"; failing site-wide checks cost {result.site_points_lost:g} points"
    return sentence + "."
