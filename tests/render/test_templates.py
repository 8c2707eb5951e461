"""Template sampling (`--render auto`): a few pages per template are rendered, the others inherit.

The loopback site has three templates of ten pages each (articles, products whose share row is
hidden on phones, docs with a floating share bar), a home page, and one article whose share bar
has a button more than its template's: with two samples per template, 6 of the 30 template pages
are rendered (plus the home page and the odd article), 24 inherit. Real Chromium, one audit.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smo_audit.render.templates import layout_signature
from smo_audit.report.model import Page, Report
from tests.render.sites import ODD, TEMPLATE_PAGES, article, doc, product, template_routes
from tests.render.sites import page as site_page
from tests.render.test_visibility import finding, page_at, rendered_audit
from tests.support.scripted_server import ScriptedServer, html

KINDS = ("/article/", "/product/", "/doc/")


@pytest.fixture(scope="module")
def report() -> Iterator[Report]:
    with ScriptedServer(template_routes()) as server:
        yield rendered_audit(server.url("/"), render="auto", render_samples=2)


def template_pages(report: Report, kind: str) -> list[Page]:
    return [p for p in report.pages if kind in p.url and not p.url.endswith(ODD)]


def test_two_pages_per_template_are_rendered_the_rest_inherit(report: Report) -> None:
    assert report.render is not None and report.render.mode == "auto"
    for kind in KINDS:
        pages = template_pages(report, kind)
        assert len(pages) == TEMPLATE_PAGES
        statuses = sorted(p.render.status for p in pages if p.render is not None)
        assert statuses == ["inherited"] * (TEMPLATE_PAGES - 2) + ["rendered"] * 2, (kind, statuses)
    assert report.render.rendered == 6 + 2  # the home page and the odd article are rendered too
    assert report.render.inherited == 3 * TEMPLATE_PAGES - 6
    assert report.render.static_only == 0 and report.render.templates == 4


def test_every_page_says_how_it_got_its_rendered_facts(report: Report) -> None:
    rendered = {p.url for p in report.pages if p.render is not None and p.render.status == "rendered"}
    for page in report.pages:
        assert page.render is not None
        if page.render.status == "inherited":
            assert page.render.from_url in rendered  # names a page that was rendered ...
            kind = next(k for k in KINDS if k in page.url)
            assert kind in (page.render.from_url or "")  # ... of the same template
            source = page_at(report, page.render.from_url or "")
            assert source.render is not None and source.render.template == page.render.template
            assert page.render.facts is None and page.render.viewports  # measurements, not a copy of facts
        else:
            assert page.render.status == "rendered" and page.render.from_url is None


def test_a_page_whose_controls_differ_is_rendered_itself(report: Report) -> None:
    odd = page_at(report, ODD)
    assert odd.render is not None and odd.render.status == "rendered"
    sample = next(p for p in template_pages(report, "/article/") if p.render and p.render.status == "rendered")
    assert sample.render is not None and odd.render.template is not None and sample.render.template is not None
    layout, controls = odd.render.template.split("/")
    assert sample.render.template.split("/")[0] == layout  # same layout ...
    assert sample.render.template.split("/")[1] != controls  # ... other controls
    assert "linkedin" in {b.network for b in odd.render.viewports["desktop"].buttons}


def test_inherited_pages_carry_the_measurements_onto_their_own_buttons(report: Report) -> None:
    for page in template_pages(report, "/product/"):
        assert page.render is not None
        mobile = page.render.viewports["mobile"].buttons
        assert [b.network for b in mobile] == ["facebook", "x"]
        assert all(b.found and not b.visible and "display:none" in b.hidden_because for b in mobile)
        assert all(b.visible for b in page.render.viewports["desktop"].buttons)
        number = page.url.rsplit("/", 1)[1]
        # the page's own share links (its URL in them), with `visible` from its template's render
        assert all(b.visible is True and f"%2F{number}" in b.href for b in page.facts.share_buttons)
        mobile_rule = finding(report, page.url[page.url.index("/product/"):], "share-visible-mobile")
        assert mobile_rule.status == "fail"
        if page.render.status == "inherited":
            assert "same template" in mobile_rule.message
    for page in template_pages(report, "/doc/"):
        assert page.render is not None
        assert all(b.fixed and b.in_first_viewport for b in page.render.viewports["mobile"].buttons)
        assert finding(report, page.url[page.url.index("/doc/"):], "share-reachable").status == "pass"


def test_layout_signature_ignores_content_and_numbers_but_not_structure() -> None:
    assert layout_signature(article(1)) == layout_signature(article(2))
    assert layout_signature(product(1)) == layout_signature(product(7))
    assert len({layout_signature(article(1)), layout_signature(product(1)), layout_signature(doc(1))}) == 3
    three = "<body><main><ul><li>a</li></ul>" + "<div class='card'>x</div>" * 3 + "</main></body>"
    thirty = "<body><main><ul><li>a</li></ul>" + "<div class='card'>y</div>" * 30 + "</main></body>"
    other = "<body><main><ul><li>a</li></ul><div class='card'>x</div><aside>s</aside></main></body>"
    assert layout_signature(three) == layout_signature(thirty)
    assert layout_signature(three) != layout_signature(other)


# A share link whose page URL a script fills in (`u=` + location.href), as many themes do: the
# same button before and after the script, whether the page was rendered or inherited.
FILL_SHARE_URL = ("<div class='share'><a class='fb' href='https://www.facebook.com/sharer/sharer.php?u=' "
                  "style='display:inline-block;width:60px;height:60px'>Share on Facebook</a></div><script>"
                  "document.querySelector('a.fb').href = 'https://www.facebook.com/sharer/sharer.php?u=' + "
                  "encodeURIComponent(location.href);</script>")
FILLED = [f"/filled/{n}" for n in range(4)]


def test_a_share_url_filled_in_by_script_is_one_button_rendered_or_inherited() -> None:
    routes = {path: html(site_page(FILL_SHARE_URL, title=f"Post {n}")) for n, path in enumerate(FILLED)}
    routes["/"] = html(site_page("".join(f"<a href='{p}'>{p}</a> " for p in FILLED), title="Home"))
    with ScriptedServer(routes) as server:
        every = rendered_audit(server.url("/"), render="all", viewports=["desktop"])
        sampled = rendered_audit(server.url("/"), render="auto", render_samples=2, viewports=["desktop"])
    statuses = sorted(page_at(sampled, path).render.status for path in FILLED)  # type: ignore[union-attr]
    assert statuses == ["inherited"] * 2 + ["rendered"] * 2
    for report in (every, sampled):
        for path in FILLED:
            audited = page_at(report, path)
            assert audited.render is not None and audited.render.changes is not None
            assert [(b.network, b.visible) for b in audited.facts.share_buttons] == [("facebook", True)]
            assert audited.render.changes.share_buttons_added == ()
            assert finding(report, path, "share-url-correct").status == "pass", finding(report, path, "share-url-correct")
            assert finding(report, path, "share-visible-desktop").status == "pass"
    for path in FILLED:  # the same verdicts either way, but for the head compared on rendered pages only
        verdicts = [{f.rule: f.status for f in page_at(r, path).findings if f.rule != "js-changed-head"}
                    for r in (every, sampled)]
        assert verdicts[0] == verdicts[1], path


# One template: short posts, one whose share bar its own inline style hides, and one long enough
# that the bar after the text is screens down. Neither may inherit a short post's measurements.
def _post(n: int, *, bar_style: str = "", paragraphs: int = 2) -> str:
    text = "".join(f"<p>Paragraph {i} of a post that goes on for a while, line after line.</p>" for i in range(paragraphs))
    return site_page(f"<main><article>{text}</article><div class='share' style='{bar_style}'>"
                     "<a class='fb' href='https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fexample.com%2F'"
                     " style='display:inline-block;width:48px;height:48px'>Share on Facebook</a></div></main>",
                     title=f"Post {n}")


def test_pages_that_differ_from_their_samples_are_rendered_themselves() -> None:
    posts = {f"/p/{n}": html(_post(n)) for n in (0, 1, 4, 5)}
    posts["/p/2"] = html(_post(2, bar_style="display:none"))
    posts["/p/3"] = html(_post(3, paragraphs=400))
    routes = {**posts, "/": html(site_page("".join(f"<a href='{p}'>{p}</a> " for p in sorted(posts)), title="Home"))}
    with ScriptedServer(routes) as server:
        report = rendered_audit(server.url("/"), render="auto", render_samples=2, viewports=["desktop"])
    status = {path: page_at(report, path).render.status for path in posts}  # type: ignore[union-attr]
    assert status["/p/2"] == "rendered" and status["/p/3"] == "rendered", status
    assert sorted(status[f"/p/{n}"] for n in (0, 1, 4, 5)) == ["inherited"] * 2 + ["rendered"] * 2, status
    assert finding(report, "/p/2", "share-visible-desktop").status == "fail"
    assert finding(report, "/p/3", "share-reachable").status == "fail"
    for n in (0, 1, 4, 5):  # inherited or not, every post is judged on the same rules
        head = finding(report, f"/p/{n}", "js-changed-head")
        assert head.status == "pass", head
        assert ("measured on" in head.message) == (status[f"/p/{n}"] == "inherited")
    short = {page_at(report, f"/p/{n}").score for n in (0, 1, 4, 5)}
    assert len(short) == 1, short  # sampling changes no score


def test_a_name_only_the_browser_computes_counts_on_inherited_pages_too() -> None:
    # an icon-only link named by aria-labelledby: the HTML alone gives no name, the browser does
    bar = ("<div class='share'><span id='fb-name' hidden>Share on Facebook</span><a class='fb' aria-labelledby='fb-name' "
           "href='https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fexample.com%2F' "
           "style='display:inline-block;width:48px;height:48px'><svg width='48' height='48'></svg></a></div>")
    posts = {f"/n/{n}": html(site_page(f"<main><article><p>Post {n}</p></article>{bar}</main>", title=f"Post {n}"))
             for n in range(4)}
    routes = {**posts, "/": html(site_page("".join(f"<a href='{p}'>{p}</a> " for p in sorted(posts)), title="Home"))}
    with ScriptedServer(routes) as server:
        report = rendered_audit(server.url("/"), render="auto", render_samples=2, viewports=["desktop"])
    status = sorted(page_at(report, path).render.status for path in posts)  # type: ignore[union-attr]
    assert status == ["inherited"] * 2 + ["rendered"] * 2
    for path in posts:
        assert finding(report, path, "share-accessible-name").status == "pass", path
