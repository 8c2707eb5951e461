"""Per-button visibility facts and the rendered rules, measured by real headless Chromium.

One crawl of a loopback fixture site renders every page (one browser for the whole module);
each test reads one page's facts: the per-viewport button measurements, `visible`, and the rule
findings that judge them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from smo_audit.config import AuditConfig
from smo_audit.pipeline import Audit, Target
from smo_audit.report.model import Page, Report
from tests.render.sites import VISIBILITY_PAGES, visibility_routes
from tests.support.scripted_server import ScriptedServer


def rendered_audit(url: str, **settings: Any) -> Report:
    values: dict[str, Any] = {"render": "all", "max_pages": 60, "timeout": 10, "retries": 0, "quiet": True,
                              "use_sitemaps": False, "render_timeout": 20}
    values.update(settings)
    return asyncio.run(Audit(Target(url, url=url), AuditConfig(**values)).run())


@pytest.fixture(scope="module")
def report() -> Iterator[Report]:
    with ScriptedServer(visibility_routes()) as server:
        yield rendered_audit(server.url("/"))


def page_at(report: Report, path: str) -> Page:
    return next(p for p in report.pages if p.url.endswith(path))


def button(report: Report, path: str, viewport: str) -> Any:
    page = page_at(report, path)
    assert page.render is not None and page.render.status == "rendered", page.render
    view = page.render.viewports[viewport]
    found = [b for b in view.buttons if b.selector == "a#target"]
    assert len(found) == 1, view.buttons
    return found[0]


def finding(report: Report, path: str, rule: str) -> Any:
    found = [f for f in page_at(report, path).findings if f.rule == rule]
    assert len(found) == 1, [(f.rule, f.status) for f in page_at(report, path).findings]
    return found[0]


def test_every_page_was_rendered_in_both_viewports(report: Report) -> None:
    assert report.mode == "rendered"
    assert report.render is not None and report.render.mode == "all"
    assert report.render.rendered == len(VISIBILITY_PAGES) + 1 and report.render.static_only == 0
    for page in report.pages:
        assert page.render is not None and set(page.render.viewports) == {"desktop", "mobile"}
    assert not report.errors


def test_a_plain_share_button_is_visible_and_passes(report: Report) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, "/good", viewport)
        assert b.visible and b.displayed and b.in_first_viewport and not b.covered_by
        assert b.box is not None and b.box.width >= 48 and b.box.height >= 48
        assert b.tap_ok and b.tap_recommended and b.accessible_name == "Share on Facebook"
    facts_button = next(s for s in page_at(report, "/good").facts.share_buttons if s.network == "facebook")
    assert facts_button.visible is True  # the static facts get `visible` filled in
    for rule in ("share-visible-mobile", "share-visible-desktop", "share-reachable", "share-tap-target",
                 "share-not-covered"):
        assert finding(report, "/good", rule).status == "pass", rule


@pytest.mark.parametrize(("path", "reason"), [
    ("/display-none", "display:none"),
    ("/visibility-hidden", "visibility:hidden"),
    ("/zero-size", "zero size"),
    ("/off-screen", "off-screen"),
    ("/transparent", "opacity:0"),
    ("/clipped", "clipped"),
    ("/clip-path", "clipped"),
    ("/fixed-below", "off-screen"),
    ("/no-side-scroll", "off-screen"),
    ("/body-clips", "clipped"),
    ("/filter-opacity", "opacity:0"),
])
def test_hidden_buttons_are_hidden_for_the_right_reason(report: Report, path: str, reason: str) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, path, viewport)
        assert b.found and not b.visible and reason in b.hidden_because, (viewport, b)
    assert next(s for s in page_at(report, path).facts.share_buttons if s.network == "facebook").visible is False
    for rule in ("share-visible-mobile", "share-visible-desktop"):
        result = finding(report, path, rule)
        assert result.status == "fail" and any(reason in e for e in result.evidence), result


def test_below_the_fold_is_out_of_reach(report: Report) -> None:
    b = button(report, "/below-fold", "desktop")
    assert b.visible and not b.in_first_viewport and not b.fixed
    assert b.box is not None and b.box.y > 4000
    result = finding(report, "/below-fold", "share-reachable")
    assert result.status == "fail" and "screens down" in result.message


def test_a_sticky_bar_is_within_reach(report: Report) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, "/sticky", viewport)
        assert b.visible and b.fixed and b.in_first_viewport and not b.covered_by
    assert finding(report, "/sticky", "share-reachable").status == "pass"


def test_a_sticky_bar_further_down_is_measured_where_it_is(report: Report) -> None:
    # tested for cover where it stands once scrolled to, not at the bottom edge of the first screen
    for viewport in ("desktop", "mobile"):
        b = button(report, "/sticky-deep", viewport)
        assert b.visible and b.fixed and not b.in_first_viewport and not b.covered_by, (viewport, b)
    assert finding(report, "/sticky-deep", "share-not-covered").status == "pass"


@pytest.mark.parametrize("path", ["/bow-tie", "/fixed-in-transform", "/scroll-locked"])
def test_shapes_that_still_show_the_button_leave_it_visible(report: Report, path: str) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, path, viewport)
        assert b.visible and not b.hidden_because, (path, viewport, b)
    assert finding(report, path, "share-visible-mobile").status == "pass"


def test_a_button_down_an_inner_scroller_is_visible(report: Report) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, "/inner-scroller", viewport)
        assert b.visible and not b.clipped and not b.in_first_viewport, (viewport, b)
    assert finding(report, "/inner-scroller", "share-visible-mobile").status == "pass"


def test_an_ancestors_pseudo_element_over_the_bar_covers_it(report: Report) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, "/paywall-fade", viewport)
        assert b.visible and b.covered_by == "article", (viewport, b)
    assert finding(report, "/paywall-fade", "share-not-covered").status == "fail"


def test_an_inline_link_is_as_large_as_its_icon_and_named_by_it(report: Report) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, "/inline-icon", viewport)
        assert b.visible and b.box.width == 44 and b.box.height >= 44 and b.tap_ok, (viewport, b)
        assert b.accessible_name == "Share on Facebook" and not b.covered_by
    assert finding(report, "/inline-icon", "share-tap-target").status != "fail"
    assert finding(report, "/inline-icon", "share-accessible-name").status == "pass"


def test_a_cookie_banner_covers_the_sticky_bar(report: Report) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, "/cookie-banner", viewport)
        assert b.visible and b.covered_by == "div#cookie-banner", (viewport, b)
    result = finding(report, "/cookie-banner", "share-not-covered")
    assert result.status == "fail" and "div#cookie-banner" in result.message


def test_tap_targets(report: Report) -> None:
    small = button(report, "/small", "mobile")
    assert small.visible and small.box.width == 16 and not small.tap_ok
    assert finding(report, "/small", "share-tap-target").status == "fail"
    medium = button(report, "/medium", "mobile")
    assert medium.tap_ok and not medium.tap_recommended
    result = finding(report, "/medium", "share-tap-target")
    assert result.status == "warn" and "on phones" in result.message


def test_an_icon_only_button_has_no_accessible_name(report: Report) -> None:
    b = button(report, "/icon-only", "desktop")
    assert b.visible and b.accessible_name == ""
    assert finding(report, "/icon-only", "share-accessible-name").status == "fail"


def test_a_bar_hidden_on_phones_fails_only_on_mobile(report: Report) -> None:
    assert button(report, "/mobile-hidden", "desktop").visible
    mobile = button(report, "/mobile-hidden", "mobile")
    assert not mobile.visible and mobile.hidden_because == ("display:none",)
    assert finding(report, "/mobile-hidden", "share-visible-desktop").status == "pass"
    assert finding(report, "/mobile-hidden", "share-visible-mobile").status == "fail"
    # visible in one viewport: the static facts say visible
    assert page_at(report, "/mobile-hidden").facts.share_buttons[0].visible is True


def measured(report: Report, path: str, viewport: str, selector: str) -> Any:
    """The one button of `path` measured under `selector` in `viewport`."""
    page = page_at(report, path)
    assert page.render is not None and page.render.status == "rendered", page.render
    found = [b for b in page.render.viewports[viewport].buttons if b.selector == selector]
    assert len(found) == 1, page.render.viewports[viewport].buttons
    return found[0]


@pytest.mark.parametrize("path", ["/fixed-escapes-clip", "/absolute-escapes-clip"])
def test_a_positioned_bar_escapes_a_clip_below_its_containing_block(report: Report, path: str) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, path, viewport)
        assert b.visible and not b.clipped and b.in_first_viewport and not b.hidden_because, (viewport, b)


@pytest.mark.parametrize("path", ["/absolute-clipped", "/fixed-held-clipped"])
def test_a_positioned_bar_is_clipped_by_its_containing_block(report: Report, path: str) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, path, viewport)
        assert not b.visible and b.hidden_because == ("clipped",), (viewport, b)


def test_buttons_a_selector_query_finds_on_one_element_are_each_measured_on_their_own(report: Report) -> None:
    for viewport in ("desktop", "mobile"):
        assert measured(report, "/same-selector", viewport, "a.fb.m").hidden_because == ("display:none",)
        assert measured(report, "/same-selector", viewport, "a.fb").visible
        assert measured(report, "/same-selector", viewport, "button.share-fb").hidden_because == ("display:none",)
        named = measured(report, "/same-selector", viewport, "button")
        assert named.visible and named.accessible_name == "Post on X", (viewport, named)


def test_input_buttons_are_measured_as_the_extractor_named_them(report: Report) -> None:
    networks = {b.selector: b.network for b in page_at(report, "/input-buttons").facts.share_buttons}
    assert networks == {"input.share-fb": "facebook", 'input[type="button"]': "x",
                        'input[type="image"]': "linkedin", "button": "whatsapp"}
    for viewport in ("desktop", "mobile"):
        facebook = measured(report, "/input-buttons", viewport, "input.share-fb")
        assert facebook.visible and facebook.accessible_name == "Share on Facebook", (viewport, facebook)
        x = measured(report, "/input-buttons", viewport, 'input[type="button"]')
        assert x.found and x.hidden_because == ("display:none",), (viewport, x)
        linkedin = measured(report, "/input-buttons", viewport, 'input[type="image"]')
        assert linkedin.visible and linkedin.accessible_name == "Share on LinkedIn", (viewport, linkedin)
        assert linkedin.box is not None and (linkedin.box.width, linkedin.box.height) == (48, 48)
        whatsapp = measured(report, "/input-buttons", viewport, "button")
        assert whatsapp.visible and whatsapp.accessible_name == "WhatsApp", (viewport, whatsapp)


def test_a_link_without_a_box_of_its_own_is_measured_by_its_contents(report: Report) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, "/display-contents", viewport)
        assert b.visible and b.displayed and b.in_first_viewport and not b.hidden_because, (viewport, b)
        assert b.covered_by is None and b.accessible_name == "Share on Facebook", (viewport, b)
        assert b.box is not None and b.box.width > 50 and b.box.height > 10, (viewport, b)


@pytest.mark.parametrize("path", ["/href-spaces", "/href-long"])
def test_a_link_is_found_by_its_href_as_the_extractor_keeps_it(report: Report, path: str) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, path, viewport)
        assert b.found and b.visible, (viewport, b)


@pytest.mark.parametrize("path", ["/icon-clipped", "/icon-far"])
def test_icons_outside_the_links_box_do_not_widen_its_tap_area(report: Report, path: str) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, path, viewport)
        assert b.visible and b.box is not None and (b.box.width, b.box.height) == (16, 16), (viewport, b)
        assert not b.tap_ok, (viewport, b)


def test_a_button_scrolled_out_of_an_inner_bar_is_not_in_the_first_screen(report: Report) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, "/scrolled-out", viewport)
        assert b.visible and not b.in_first_viewport and b.covered_by is None, (viewport, b)
        # measured after the target scrolled the bar: the bar is put back for it
        first = measured(report, "/scrolled-out", viewport, "a#first")
        assert first.visible and first.in_first_viewport and first.covered_by is None, (viewport, first)


def test_a_right_to_left_page_scrolls_to_its_left(report: Report) -> None:
    for viewport in ("desktop", "mobile"):
        b = button(report, "/rtl", viewport)
        assert b.visible and not b.offscreen and b.box is not None and b.box.x == -600, (viewport, b)
        right = measured(report, "/rtl", viewport, "a#right")
        assert not right.visible and right.hidden_because == ("off-screen",), (viewport, right)


@pytest.mark.parametrize(("selector", "name"), [
    ("a#hidden-svg", ""),
    ("a#hidden-img", ""),
    ("a#hidden-text", "Share (title)"),
    ("a#mixed-text", "Share now"),
    ("a#labelled", "Share on LinkedIn (labelledby)"),
])
def test_the_accessible_name_leaves_out_aria_hidden_content(report: Report, selector: str, name: str) -> None:
    for viewport in ("desktop", "mobile"):
        assert measured(report, "/names", viewport, selector).accessible_name == name, viewport
