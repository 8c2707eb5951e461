"""Share rules through the real Audit pipeline: the JSON contract, scoring, and the one rule that
fetches (share-js-only looks for navigator.share() in same-site scripts).

What a static folder cannot show is scripted here with real loopback servers: which scripts are
requested, from which origin, and how often.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from smo_audit.config import AuditConfig
from smo_audit.crawl.local_server import serve_folder
from smo_audit.pipeline import Audit, Target
from smo_audit.report.model import Report
from tests.rules.harness import FIXTURES
from tests.support.scripted_server import ScriptedServer, html, text

P = "https://www.brew.example/blog/cold-brew/"


def _audit(url: str, select: list[str], **config: Any) -> Report:
    settings = AuditConfig(select=select, max_pages=1, max_depth=0, use_sitemaps=False, timeout=10, retries=0,
                           quiet=True, debug=True, **config)
    return asyncio.run(Audit(Target(url, url=url), settings).run())


def test_report_json_carries_the_share_facts_of_the_contract() -> None:
    with serve_folder(FIXTURES) as server:
        report = _audit(server.base_url + "share/pages/good-article.html", ["share-buttons"])
    data = report.model_dump(mode="json")
    (page,) = data["pages"]
    buttons = page["facts"]["share_buttons"]
    assert [(b["network"], b["shares_url"]) for b in buttons] == [
        ("facebook", P), ("x", P), ("linkedin", P), ("whatsapp", P), ("email", P)]
    assert {"network", "href", "shares_url", "label", "selector", "visible"} <= set(buttons[0])
    assert buttons[0]["href"] == "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fwww.brew.example%2Fblog%2Fcold-brew%2F"
    assert buttons[0]["label"] == "Share on Facebook" and buttons[0]["visible"] is None
    assert page["facts"]["share_widgets"] == []
    statuses = {f["rule"]: f["status"] for f in page["findings"]}
    assert statuses == {"share-coverage": "pass", "share-url-correct": "pass", "share-link-safe": "pass",
                        "share-accessible-name": "pass", "share-widget-dead": "pass", "share-js-only": "pass",
                        # rendered-mode rules (rules/rendered.py) skip in static mode, unscored
                        "share-visible-mobile": "skip", "share-visible-desktop": "skip", "share-reachable": "skip",
                        "share-tap-target": "skip", "share-not-covered": "skip"}
    assert [(c["id"], c["score"]) for c in data["categories"]] == [("share-buttons", 100.0)]


def test_widgets_in_the_report_say_unknown_not_absent() -> None:
    with serve_folder(FIXTURES) as server:
        report = _audit(server.base_url + "share/pages/sharethis-js.html", ["share-coverage", "share-js-only"])
    (page,) = report.model_dump(mode="json")["pages"]
    (widget,) = page["facts"]["share_widgets"]
    assert (widget["provider"], widget["js_only"], widget["dead"], widget["has_script"]) == ("sharethis", True, False, True)
    assert {f["rule"]: f["status"] for f in page["findings"]} == {"share-coverage": "skip", "share-js-only": "skip"}
    assert report.categories == [] and report.score is None, "skips are not scored"


def _page(scripts: str) -> str:
    return (f'<html><head><title>Post</title><link rel="canonical" href="{P}"></head><body>'
            f'<button class="share" type="button">Share</button>{scripts}</body></html>')


def test_share_js_only_reads_same_site_scripts_once_and_never_other_origins(
    scripted_server: Callable[..., ScriptedServer],
) -> None:
    other = scripted_server({"/widget.js": text("navigator.share({url: location.href})", "text/javascript")})
    site = scripted_server({
        "/a.html": html(_page(f'<script src="{other.url("/widget.js")}"></script><script src="/js/app.js"></script>')),
        "/js/app.js": text("document.querySelector('.share').onclick = () => navigator.share({url: location.href});",
                           "text/javascript"),
    })
    report = _audit(site.url("/a.html"), ["share-js-only"])
    (finding,) = report.pages[0].findings
    assert finding.status == "skip"
    assert f"{site.url('/js/app.js')} calls navigator.share(): the Web Share API" in finding.message
    assert site.hits("/js/app.js") == 1
    assert other.hits("/widget.js") == 0, "scripts of other origins are never fetched"


def test_share_js_only_without_web_share_in_the_scripts(scripted_server: Callable[..., ScriptedServer]) -> None:
    site = scripted_server({
        "/a.html": html(_page('<script src="/js/menu.js"></script><script src="/js/missing.js"></script>')),
        "/js/menu.js": text("document.querySelector('.share').onclick = openMenu;", "text/javascript"),
    })
    report = _audit(site.url("/a.html"), ["share-js-only", "share-coverage"])
    # A "Share" control that neither names a network nor calls navigator.share() is no evidence of
    # sharing (a file manager's "Share" looks the same): nothing to judge, so no finding, where an
    # "unknown" share control used to count.
    assert report.pages[0].findings == []
    assert site.hits("/js/menu.js") == 1 and site.hits("/js/missing.js") == 1


def test_share_url_correct_uses_base_url_when_the_page_declares_no_canonical(
    scripted_server: Callable[..., ScriptedServer],
) -> None:
    encoded = "https%3A%2F%2Fwww.brew.example%2Fpost.html"
    body = (f'<html><head><title>Post</title></head><body>'
            f'<a href="https://www.facebook.com/sharer/sharer.php?u={encoded}" target="_blank" rel="noopener">f</a>'
            f'</body></html>')
    site = scripted_server({"/post.html": html(body)})
    with_base = _audit(site.url("/post.html"), ["share-url-correct"], base_url="https://www.brew.example")
    assert [f.status for f in with_base.pages[0].findings] == ["pass"]
    without = _audit(site.url("/post.html"), ["share-url-correct"])
    (finding,) = without.pages[0].findings
    assert finding.status == "fail" and "shares this page on another host" in finding.message


_FILES = ('<tr><td>report.pdf</td><td><button class="share" data-file-id="17">Share</button></td></tr>'
          '<tr><td>photos/</td><td><a href="#" class="share-link">Share</a></td></tr>')


def _article(extra: str) -> str:
    return (f'<html><head><title>Team files</title><link rel="canonical" href="{P}">'
            f'<meta property="og:type" content="article"></head><body><main><h1>Team files</h1>'
            f'<table>{_FILES}</table>{extra}</main></body></html>')


def test_file_manager_share_buttons_do_not_score_the_share_category(
    scripted_server: Callable[..., ScriptedServer],
) -> None:
    """Issue 10: "Share" buttons that share files, not the page, used to be share buttons of network
    "unknown" and the share category scored 100. Now they are no share buttons at all: the page
    offers no way to share it, and adding a real share link raises the score."""
    encoded = "https%3A%2F%2Fwww.brew.example%2Fblog%2Fcold-brew%2F"
    site = scripted_server({
        "/files.html": html(_article("")),
        "/shared.html": html(_article(f'<div class="share-bar"><a href="https://www.facebook.com/sharer/sharer.php?u='
                                      f'{encoded}" target="_blank" rel="noopener">Share on Facebook</a></div>')),
    })
    files = _audit(site.url("/files.html"), ["share-buttons"])
    assert files.pages[0].facts.share_buttons == []
    score = {c.id: c.score for c in files.categories}.get("share-buttons")
    assert score is not None and score < 100
    present = next(f for f in files.site_findings if f.rule == "share-buttons-present")
    assert present.status == "fail" and "offers no way to share it" in present.message
    shared = _audit(site.url("/shared.html"), ["share-buttons"])
    better = {c.id: c.score for c in shared.categories}["share-buttons"]
    assert better is not None and better > score
