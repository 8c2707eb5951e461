"""What only a browser sees, and pages that misbehave, in real headless Chromium.

One audit of one loopback site renders every page (one browser for the module): tags, share
buttons and sign-in buttons that scripts add; a title and canonical changed by script; a page
that throws, loops on alert(), opens windows and navigates away; a page that is never parsed and
one whose `load` never fires; a sub-request under a robots.txt Disallow.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from smo_audit.report.model import Page, Report
from tests.render.sites import NEVER_DELAY, failure_routes, home, script_routes
from tests.render.test_visibility import finding, page_at, rendered_audit
from tests.support.scripted_server import ScriptedServer, html

RENDER_TIMEOUT = 20.0  # roomy on a loaded machine; the never-parsed page costs its 15 s navigation bound once


@dataclass
class Audited:
    report: Report
    seconds: float
    hits: dict[str, int]


@pytest.fixture(scope="module")
def audited() -> Iterator[Audited]:
    routes = {**failure_routes(), **script_routes()}
    routes["/"] = html(home([path for path in routes if "." not in path and path != "/"]))
    with ScriptedServer(routes) as server:
        start = time.monotonic()
        report = rendered_audit(server.url("/"), render_timeout=RENDER_TIMEOUT)
        seconds = time.monotonic() - start
        hits = {path: server.hits(path) for path in ("/private/style.css", "/popup", "/elsewhere", "/never.js")}
    yield Audited(report, seconds, hits)


def rendered(report: Report, path: str) -> Page:
    page = page_at(report, path)
    assert page.render is not None and page.render.status == "rendered", page.render
    return page


def test_og_tags_injected_by_script_fail_naming_the_tags(audited: Audited) -> None:
    page = rendered(audited.report, "/og-by-script")
    assert page.render is not None and page.render.changes is not None
    assert list(page.render.changes.tags_added) == ["og:image", "og:description"]
    assert "og:image" not in page.facts.open_graph  # the static facts stay the server's
    assert page.render.facts is not None and page.render.facts.open_graph["og:description"] == "Set by a script"
    result = finding(audited.report, "/og-by-script", "js-injected-tags")
    assert result.status == "fail" and "og:image" in result.message and "og:description" in result.message


def test_a_widget_that_draws_its_buttons_by_script(audited: Audited) -> None:
    page = rendered(audited.report, "/widget")
    assert page.facts.share_buttons == []  # nothing to see in the HTML
    assert page.render is not None and page.render.changes is not None
    assert list(page.render.changes.share_widgets_added) == ["addtoany"]
    assert [b.split(":")[0] for b in page.render.changes.share_buttons_added] == [
        "facebook (addtoany)", "x (addtoany)", "whatsapp (addtoany)"]
    mobile = page.render.viewports["mobile"].buttons
    assert [b.network for b in mobile] == ["facebook", "x", "whatsapp"]
    assert all(b.found and b.visible and not b.in_static_html and b.tap_recommended for b in mobile)
    result = finding(audited.report, "/widget", "share-js-only")
    assert result.status == "warn" and "AddToAny" in result.message
    assert finding(audited.report, "/widget", "share-visible-mobile").status == "pass"


def test_placeholders_a_script_fills_in_are_said_to_appear_only_with_javascript(audited: Audited) -> None:
    page = rendered(audited.report, "/placeholders")
    assert [(b.network, b.visible) for b in page.render.facts.share_buttons] == [  # type: ignore[union-attr]
        ("facebook", True), ("x", True)]
    result = finding(audited.report, "/placeholders", "share-js-only")
    assert result.status == "warn" and "appear only after JavaScript runs" in result.message, result
    assert "AddToAny" in result.message and "no buttons appeared" not in result.message


def test_buttons_drawn_after_load_within_the_quiet_window_are_measured(audited: Audited) -> None:
    """The DOM at `load` is extracted while the page goes quiet; a page that changes meanwhile
    is taken again and measured as it is once quiet, not with the buttons of the first snapshot."""
    page = rendered(audited.report, "/after-load")
    assert page.render is not None and page.render.facts is not None
    assert [b.network for b in page.render.facts.share_buttons] == ["facebook", "x", "whatsapp"]
    for name in ("desktop", "mobile"):
        buttons = page.render.viewports[name].buttons
        assert [b.network for b in buttons] == ["facebook", "x", "whatsapp"]
        assert all(b.found and b.visible for b in buttons), buttons


def test_a_dom_that_never_goes_quiet_is_measured_after_the_settle_bound(audited: Audited) -> None:
    page = rendered(audited.report, "/ticking")
    assert page.render is not None
    for name in ("desktop", "mobile"):
        [button] = page.render.viewports[name].buttons
        assert button.network == "facebook" and button.found and button.visible


def test_sign_in_buttons_rendered_by_script_are_named(audited: Audited) -> None:
    page = rendered(audited.report, "/sign-in")
    assert page.render is not None and page.render.changes is not None
    added = page.render.changes.sign_in_added
    assert len(added) == 1 and added[0].startswith("google (oauth-link)")
    assert not any(s.provider == "google" for s in page.facts.sign_in)  # not in the HTML
    assert page.render.facts is not None and any(s.provider == "google" for s in page.render.facts.sign_in)


def test_firebaseui_buttons_are_found_after_rendering(audited: Audited) -> None:
    page = rendered(audited.report, "/firebaseui")
    assert page.render is not None and page.render.facts is not None and page.render.changes is not None
    providers = {s.provider for s in page.render.facts.sign_in}
    assert {"google", "github"} <= providers, page.render.facts.sign_in
    assert {s.split(" ")[0] for s in page.render.changes.sign_in_added} >= {"google", "github"}


def test_title_and_canonical_changed_by_script(audited: Audited) -> None:
    page = rendered(audited.report, "/retitled")
    assert page.render is not None and page.render.changes is not None
    assert tuple(page.render.changes.title or ()) == ("A post", "Changed by a script")
    assert page.render.changes.canonical is not None and page.render.changes.canonical[1].endswith("/elsewhere")
    assert page.facts.title == "A post"
    assert finding(audited.report, "/retitled", "js-changed-head").status in ("warn", "fail")
    assert finding(audited.report, "/og-by-script", "js-changed-head").status == "pass"


def test_a_page_that_throws_is_still_measured(audited: Audited) -> None:
    page = rendered(audited.report, "/throws")
    assert page.render is not None and any("boom from the page" in e for e in page.render.script_errors)
    assert page.render.viewports["desktop"].buttons[0].visible


def test_alert_loop_popups_and_navigation_cannot_hold_the_audit(audited: Audited) -> None:
    page = rendered(audited.report, "/alert-loop")
    assert page.render is not None
    notes = " | ".join(page.render.notes)
    assert "alert() called" in notes and "window.open() called" in notes and "tried to navigate" in notes
    assert page.render.viewports["mobile"].buttons[0].visible  # measured on the page itself
    # neither the popup nor the navigation reached the server
    assert audited.hits["/popup"] == 0 and audited.hits["/elsewhere"] == 0


def test_a_page_never_parsed_is_a_render_timeout_and_keeps_its_static_results(audited: Audited) -> None:
    page = page_at(audited.report, "/never-parsed")
    assert page.render is not None and page.render.status == "static-only"
    assert page.render.reason is not None and page.render.reason.startswith("render-timeout")
    assert [e.kind for e in audited.report.errors if e.url.endswith("/never-parsed")] == ["render-timeout"]
    assert [b.network for b in page.facts.share_buttons] == ["facebook"]  # static facts stay
    assert finding(audited.report, "/never-parsed", "share-visible-mobile").status == "skip"
    assert finding(audited.report, "/never-parsed", "og-title").status == "pass"  # static rules still judge


def test_a_page_whose_load_never_fires_is_measured_after_the_settle_bound(audited: Audited) -> None:
    page = rendered(audited.report, "/never-loaded")
    assert page.render is not None and any("load event did not fire" in n for n in page.render.notes)
    assert page.render.viewports["desktop"].buttons[0].visible


def test_the_whole_audit_stays_within_its_bounds(audited: Audited) -> None:
    # the never-parsed page costs one navigation bound, not the server's delay of its script
    assert audited.seconds < NEVER_DELAY, audited.seconds
    assert audited.report.render is not None and audited.report.render.static_only == 1
    assert audited.report.render.browser_restarts == 0


def test_browser_sub_requests_obey_the_fetch_policy(audited: Audited) -> None:
    page = rendered(audited.report, "/robots-blocked")
    assert page.render is not None and any("/private/style.css" in n and "robots.txt" in n for n in page.render.notes)
    assert audited.hits["/private/style.css"] == 0
