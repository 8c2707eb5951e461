"""The HTML report opened in real headless Chromium: offline, no console errors, interactive
without JavaScript, readable on a phone, and hostile page content inert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from smo_audit.report.html import to_html
from smo_audit.report.model import Report
from tests.report.conftest import ROOT
from tests.support.browser import launched_browser

ARTIFACTS = ROOT / "build" / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_browser() as launched:
        yield launched


class Opened:
    """A report file open in a tab, with every console message, page error, dialog and request."""

    def __init__(self, browser: Browser, path: Path, width: int = 1100) -> None:
        self.console: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.blocked: list[str] = []
        context = browser.new_context(viewport={"width": width, "height": 900})
        self.page: Page = context.new_page()
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url))

        def block(route: Any) -> None:
            if route.request.url != path.as_uri():
                self.blocked.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        context.route("**/*", block)
        self.page.goto(path.as_uri())
        self.url = path.as_uri()

    def outside_requests(self) -> list[str]:
        return [u for u in self.requests if u != self.url and not u.startswith("data:")] + self.blocked

    def visible_rows(self) -> list[str]:
        return self.page.eval_on_selector_all(
            ".rows .row:not(.head)",
            "rows => rows.filter(r => r.offsetParent !== null).map(r => [r.getBoundingClientRect().top, r.children[1].innerText])"
            ".sort((a, b) => a[0] - b[0]).map(x => x[1].split(' (duplicate')[0])")


def _write(tmp_path: Path, name: str, html: str) -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


def test_demo_report_in_chromium(browser: Browser, demo_report: Report, rules, tmp_path: Path) -> None:
    opened = Opened(browser, _write(tmp_path, "report.html", to_html(demo_report, rules)))
    page = opened.page
    assert opened.console == [] and opened.errors == []
    assert opened.outside_requests() == [], "the file is self-contained: nothing is requested"
    assert page.locator("svg.gauge").count() == 1
    detailed = page.locator("article.page").count()
    assert detailed == len([p for p in demo_report.pages if p.duplicate_of is None])
    assert page.locator("figure.card").count() == 5 * detailed
    for platform in ("facebook", "x", "linkedin", "slack", "whatsapp"):
        assert page.locator(f"figure.card-{platform}").count() == detailed
    assert page.locator(".rows .row:not(.head)").count() == len(demo_report.pages)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "html-report-demo.png"), full_page=True)
    assert (ARTIFACTS / "html-report-demo.png").stat().st_size > 10_000


def test_page_table_sorts_and_filters_without_javascript(browser: Browser, demo_report: Report, rules, tmp_path: Path) -> None:
    html = to_html(demo_report, rules)
    assert "<script" not in html
    opened = Opened(browser, _write(tmp_path, "report.html", html))
    page = opened.page
    labels = {p.source_path or p.url: p for p in demo_report.pages}

    def scores(rows: list[str]) -> list[float]:
        return [labels[r].score or 0.0 for r in rows]

    worst_first = opened.visible_rows()
    assert len(worst_first) == len(demo_report.pages) and scores(worst_first) == sorted(scores(worst_first))
    page.click("label[for=o-desc]")
    assert scores(opened.visible_rows()) == sorted(scores(worst_first), reverse=True)
    page.click("label[for=o-name]")
    assert opened.visible_rows() == sorted(worst_first)
    page.click("label[for=f-s-error]")
    with_errors = {p.source_path for p in demo_report.pages
                   if any(f.status in ("fail", "warn") and f.severity == "error" for f in p.findings)}
    assert set(opened.visible_rows()) == with_errors and 0 < len(with_errors) < len(demo_report.pages)
    page.click("label[for=f-s-all]")
    index = next(i for i, c in enumerate(demo_report.categories) if c.id == "share-buttons")
    page.click(f"label[for=f-c{index}]")
    sharing = {p.source_path for p in demo_report.pages
               if any(f.status in ("fail", "warn") and f.category == "share-buttons" for f in p.findings)}
    assert set(opened.visible_rows()) == sharing and sharing


def test_readable_on_a_phone(browser: Browser, demo_report: Report, rules, tmp_path: Path) -> None:
    opened = Opened(browser, _write(tmp_path, "report.html", to_html(demo_report, rules)), width=390)
    overflow = opened.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, "no sideways scrolling at 390 px"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.page.screenshot(path=str(ARTIFACTS / "html-report-phone.png"))


PAYLOADS = ("<script>alert(", "<img src=x onerror=alert(", "{{ 7*7 }}")


def test_hostile_page_content_is_inert_in_the_browser(browser: Browser, xss_report: Report, rules, tmp_path: Path) -> None:
    opened = Opened(browser, _write(tmp_path, "xss.html", to_html(xss_report, rules)))
    page = opened.page
    page.wait_for_timeout(50)  # an onerror handler would have fired by now (the image request is blocked anyway)
    assert opened.dialogs == [] and opened.errors == [] and opened.console == []
    assert opened.outside_requests() == []
    assert page.locator("script, img, iframe, object, embed").count() == 0
    handlers = page.evaluate("[...document.querySelectorAll('*')].flatMap(e => [...e.attributes]"
                             ".filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))")
    assert handlers == []
    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    assert hrefs and all(h.startswith(("#", "http://", "https://")) for h in hrefs), hrefs
    text = page.inner_text("body")
    for payload in PAYLOADS:
        assert payload in text, f"{payload!r} is shown as text"
    assert "javascript:alert(" in text
    titles = page.eval_on_selector_all("figure.card .ti", "ts => ts.map(t => t.innerText)")
    templated = [t for t in titles if "7*7" in t]
    assert templated and all("{{ 7*7 }}" in t and "49" not in t for t in templated), "no template ever evaluates page text"


def test_cards_show_the_fetched_image_itself(browser: Browser, demo_report: Report, rules, tmp_path: Path) -> None:
    """The demo's og:images are small PNGs: the report carries them and the cards draw them."""
    assert demo_report.thumbnails, "small fetched preview images travel in the report"
    assert all(uri.startswith("data:image/png;base64,") for uri in demo_report.thumbnails.values())
    opened = Opened(browser, _write(tmp_path, "report.html", to_html(demo_report, rules)))
    backgrounds = opened.page.eval_on_selector_all(
        "figure.card .img-thumb", "els => els.map(e => getComputedStyle(e).backgroundImage)")
    assert backgrounds and all(b.startswith('url("data:image/png;base64,') for b in backgrounds)
    assert opened.outside_requests() == [] and opened.console == []
    images = {p.preview["facebook"].image.url for p in demo_report.pages
              if p.duplicate_of is None and p.preview.get("facebook") and p.preview["facebook"].image}
    assert images & set(demo_report.thumbnails), "the cards' own images are the ones carried"
