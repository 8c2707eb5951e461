"""Metamorphic score tests: the direction of the score under mutations of every page, on four
fixture sites (blog, shop, admin app, docs) audited for real over loopback HTTP.

Properties (issue 10, README "Scoring"): taking a feature away from every page, emptying a tag,
pointing og:url at another host, or adding junk to a bare page never raises the site score or any
page's score; giving features back never lowers them (also in random order: hypothesis); a site
with no social tags scores below 30, the complete site above 90, and a stripped site never
outranks a tagged one.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.metamorphic.sites import ALL, FEATURES, SITES, Auditor, Variant, without
from tests.support.properties import examples

STRIPPED = frozenset[str]()
# Features whose loss must cost points on every site (share buttons only where there are content
# pages; the others are visible on every page).
MUST_COST = ("og-title", "og-description", "og-image", "working-images", "og-url", "x-card", "canonical",
             "profiles", "identity")
CONTENT_SITES = ("blog", "shop", "docs")
EPSILON = 0.05  # scores have one decimal


def _no_page_rises(auditor: Auditor, better: Variant, worse: Variant) -> None:
    good, bad = auditor.page_scores(better), auditor.page_scores(worse)
    assert good.keys() == bad.keys()
    risen = {page: (good[page], bad[page]) for page in good if bad[page] > good[page] + EPSILON}
    assert not risen, f"{worse} raised page scores over {better}: {risen}"


@pytest.mark.parametrize("site", SITES)
def test_taking_any_feature_away_never_raises_a_score(auditor: Auditor, site: str) -> None:
    full = Variant(site)
    base = auditor.score(full)
    for feature in FEATURES:
        worse = without(full, [feature])
        assert auditor.score(worse) <= base, f"removing {feature} raised the {site} score"
        _no_page_rises(auditor, full, worse)
        if feature in MUST_COST or (feature == "share-buttons" and site in CONTENT_SITES):
            assert auditor.score(worse) < base, f"removing {feature} from {site} cost nothing"


@pytest.mark.parametrize("site", SITES)
@pytest.mark.parametrize("edit", ["empty-og-title", "empty-og-description", "og-url-other-host", "canonical-to-home"])
def test_damaging_a_tag_on_every_page_lowers_the_score(auditor: Auditor, site: str, edit: str) -> None:
    full = Variant(site)
    damaged = Variant(site, edits=(edit,))
    assert auditor.score(damaged) < auditor.score(full)
    _no_page_rises(auditor, full, damaged)


@pytest.mark.parametrize("site", SITES)
@pytest.mark.parametrize("edit", ["junk-empty-og-title", "junk-staging-og-url"])
def test_junk_tags_on_a_bare_site_do_not_raise_it(auditor: Auditor, site: str, edit: str) -> None:
    """An empty og:title or a staging og:url used to turn og-in-head/og-duplicates from
    not-applicable into passes (and og-url accepted any absolute URL): +4-6 points for junk."""
    bare = Variant(site, STRIPPED)
    junk = Variant(site, STRIPPED, (edit,))
    assert auditor.score(junk) <= auditor.score(bare)
    _no_page_rises(auditor, bare, junk)


def test_a_missing_image_counts_against_preview_images(auditor: Auditor) -> None:
    """Deleting og:image used to drop the preview-image category and raise the score by ~11."""
    full = Variant("blog")
    no_image = without(full, ["og-image"])
    broken = without(full, ["working-images"])
    assert auditor.score(no_image) <= auditor.score(broken) < auditor.score(full)
    categories = {c.id: c for c in auditor.audit(no_image).categories}
    assert categories["preview-image"].score == 0.0
    assert categories["preview-image"].costs[0].rule == "og-image-reachable"


@pytest.mark.parametrize("site", SITES)
def test_ordering_bare_below_30_complete_above_90(auditor: Auditor, site: str) -> None:
    bare, full = auditor.score(Variant(site, STRIPPED)), auditor.score(Variant(site))
    assert bare < 30, f"{site} with no social tags scores {bare}"
    assert full > 90, f"complete {site} scores {full}"
    for feature in FEATURES:  # one feature missing is still tagged: it outranks the bare site
        assert auditor.score(without(Variant(site), [feature])) > bare


@pytest.mark.parametrize("site", SITES)
def test_the_report_explains_the_bare_site(auditor: Auditor, site: str) -> None:
    report = auditor.audit(Variant(site, STRIPPED))
    assert report.fix_first, "a bare site has rules that cost points"
    costs = [c.points_lost for c in report.fix_first]
    assert costs == sorted(costs, reverse=True) and costs[0] > 5
    assert {c.rule for c in report.fix_first} & {"og-image-reachable", "og-title", "og-image"}
    basis = report.score_basis
    assert basis is not None and basis.page_min is not None and basis.page_max is not None
    assert report.score is not None and basis.page_min <= report.score <= basis.page_max
    for category in report.categories:
        assert (category.score is None) == (category.reason is not None), category
    reasons = {c.id: c.reason for c in report.categories if c.score is None}
    assert all(r != "none of its rules applied to the audited pages" for r in reasons.values()), reasons
    if "conversation" in reasons:
        assert "comment system" in (reasons["conversation"] or "")


@settings(max_examples=examples(4), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(site=st.sampled_from(SITES), order=st.permutations(sorted(FEATURES)))
def test_improving_mutations_in_any_order_never_lower_a_score(auditor: Auditor, site: str,
                                                               order: list[str]) -> None:
    """From the bare site, give features back one at a time, in a random order."""
    current = Variant(site, STRIPPED)
    for feature in order:
        better = Variant(site, current.features | {feature})
        assert auditor.score(better) >= auditor.score(current), f"adding {feature} to {sorted(current.features)}"
        _no_page_rises(auditor, better, current)
        current = better
    assert current.features == ALL


def test_no_bare_site_outranks_a_tagged_site_of_another_shape(auditor: Auditor) -> None:
    """The issue's admin template without tags (59) outranked a tagged Hugo blog (55)."""
    bare = {site: auditor.score(Variant(site, STRIPPED)) for site in SITES}
    tagged = {(site, feature): auditor.score(without(Variant(site), [feature]))
              for site in SITES for feature in FEATURES}
    assert max(bare.values()) < min(tagged.values()), (bare, min(tagged.items(), key=lambda kv: kv[1]))


@pytest.mark.parametrize("site", CONTENT_SITES)
def test_a_partial_share_bar_is_better_than_none(auditor: Auditor, site: str) -> None:
    """A content page without share buttons fails its share category (share-coverage is its gate),
    so adding even one working share link raises the page instead of bringing in a category
    that scores below the rest of the page."""
    full = Variant(site)
    none = without(full, ["share-buttons"])
    partial = Variant(site, edits=("facebook-only-share-bar",))
    assert auditor.score(none) < auditor.score(partial) < auditor.score(full)
    _no_page_rises(auditor, partial, none)
    _no_page_rises(auditor, full, partial)
    coverage = [f.status for p in auditor.audit(partial).pages for f in p.findings if f.rule == "share-coverage"]
    assert coverage and set(coverage) <= {"warn", "fail"}, coverage
