"""Hostile page content: parsing, encodings, nesting. Each case ends in bounded time with exit 0,
keeps the other pages of the crawl, and says what happened to the hostile page: audited (cut at a
cap and reported as page-limit, or whole) with errors[] exactly as expected."""

from __future__ import annotations

import json

import pytest

from tests.hostile.harness import assert_case, home, plain, run_site, site_routes
from tests.support.scripted_server import Reply, html

HEAD = '<!doctype html><html><head><meta charset="utf-8"><title>Hostile</title>{head}</head><body>{body}</body></html>'


def page(head: str = "", body: str = "") -> Reply:
    return html(HEAD.format(head=head, body=body))


def test_svg_og_image_of_empty_comments_does_not_hang(scripted_server) -> None:
    # 281 bytes that sent the old SVG sniffing regex into exponential backtracking.
    bomb = b"<!---->" * 40 + b"x"
    server = scripted_server(site_routes(**{"/bomb.svg": Reply(200, {"content-type": "image/svg+xml"}, bomb)}))
    server.routes["/hostile"] = page(f'<meta property="og:image" content="{server.url("/bomb.svg")}">')
    outcome = run_site(server, bound=20)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert server.hits("/bomb.svg") >= 1  # fetched and sniffed, not skipped


def test_svg_og_image_with_unclosed_comments_and_tags(scripted_server) -> None:
    bomb = b"<!--" * 4000 + b"<svg " + b"width='" * 2000
    server = scripted_server(site_routes(**{"/bomb.svg": Reply(200, {"content-type": "image/svg+xml"}, bomb)}))
    server.routes["/hostile"] = page(f'<meta property="og:image" content="{server.url("/bomb.svg")}">')
    outcome = run_site(server, bound=20)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())


def _nested_json(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_json_ld_nested_a_thousand_levels_on_the_start_page(scripted_server) -> None:
    routes = site_routes()
    routes["/"] = html(home("/a", "/b").replace(
        "</head>", f'<script type="application/ld+json">{_nested_json(1000)}</script></head>'))
    server = scripted_server(routes)
    outcome = run_site(server, bound=20)
    assert_case(outcome, {}, not_audited=())
    assert outcome.pages["/"]["facts"]["title"] == "Home"


def test_json_ld_nested_deep_objects_in_a_graph(scripted_server) -> None:
    deep = '{"@context":"https://schema.org","@graph":[' + '{"a":' * 5000 + "1" + "}" * 5000 + "]}"
    server = scripted_server(site_routes(**{"/hostile": page(f'<script type="application/ld+json">{deep}</script>')}))
    outcome = run_site(server, bound=20)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())


def test_unclosed_divs_are_cut_at_the_depth_cap(scripted_server) -> None:
    # 400 KB of unclosed <div>s: quadratic in lexbor's tree builder (28 s a page before the cap).
    body = "<div>" * 80_000
    server = scripted_server(site_routes(**{"/hostile": page('<meta property="og:title" content="Deep">', body)}))
    outcome = run_site(server, bound=20)
    assert_case(outcome, {"/hostile": ["page-limit"]}, audited=["/hostile"], not_audited=())
    hostile = outcome.pages["/hostile"]
    assert hostile["facts"]["open_graph"]["og:title"] == "Deep"  # the head before the cut was read


def test_unclosed_formatting_elements_are_cut_at_the_depth_cap(scripted_server) -> None:
    server = scripted_server(site_routes(**{"/hostile": page("", "<i>x</p>" * 40_000)}))
    outcome = run_site(server, bound=20)
    assert_case(outcome, {"/hostile": ["page-limit"]}, audited=["/hostile"], not_audited=())


@pytest.mark.parametrize("unit", [
    "<div><!--</div>-->",  # end tags inside comments
    '<div title="</div>">',  # ... inside attribute values
    "<span><div></span></div>",  # </span> above an open <div> is ignored by the parser
    "<div><table><td></div></table>",  # </div> inside a table cell is ignored
    "<div><script><!--<script></script></div>--></script>",  # script escapes hide </script>
], ids=["comments", "attribute-values", "ignored-end-tags", "table-cells", "script-escapes"])
def test_markup_hiding_unclosed_divs_is_cut_at_the_depth_cap(scripted_server, unit: str) -> None:
    # Each once went uncut: 40,000 repetitions took seconds of parsing in the crawl's worker.
    body = unit * 40_000
    server = scripted_server(site_routes(**{"/hostile": page('<meta property="og:title" content="Deep">', body)}))
    outcome = run_site(server, bound=30)
    assert_case(outcome, {"/hostile": ["page-limit"]}, audited=["/hostile"], not_audited=())
    assert outcome.pages["/hostile"]["facts"]["open_graph"]["og:title"] == "Deep"
    limit = next(e for e in outcome.errors if e["kind"] == "page-limit")
    assert "levels deep" in limit["message"]


def test_too_many_elements_are_cut_at_the_element_cap(scripted_server) -> None:
    server = scripted_server(site_routes(**{"/hostile": page("", "<a href='/x'>x</a>" * 120_000), "/x": plain("X")}))
    outcome = run_site(server, bound=30)
    assert_case(outcome, {"/hostile": ["page-limit"]}, audited=["/hostile", "/x"], not_audited=())


def test_a_long_onclick_is_scanned_in_linear_time(scripted_server) -> None:
    onclick = "a." * 100_000  # quadratic for the old URL-literal regex (20 s a page)
    body = f'<a href="#" class="share" onclick="{onclick}">Share</a>' * 3
    server = scripted_server(site_routes(**{"/hostile": page("", body)}))
    outcome = run_site(server, bound=20)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())


@pytest.mark.parametrize("label", ["hex", "base64", "zlib", "idna", "utf-7", "rot13", "unicode-escape", "bogus"])
def test_non_whatwg_charset_labels_fall_back(scripted_server, label: str) -> None:
    # "+ADw-" is "<" in UTF-7 and "4142" is "AB" in hex: decoding with either would change the title.
    title = "Caf\u00e9 +ADw-b+AD4- 4142"
    body = f'<!doctype html><html><head><title>{title}</title></head><body>x</body></html>'.encode()
    server = scripted_server(site_routes(**{"/hostile": Reply(200, {"content-type": f"text/html; charset={label}"}, body)}))
    outcome = run_site(server, bound=20)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert outcome.pages["/hostile"]["facts"]["title"] == title  # fallback: the UTF-8 the bytes are


def test_utf7_in_a_meta_tag_is_ignored(scripted_server) -> None:
    body = b'<html><head><meta charset="utf-7"><title>+ADw-x+AD4-</title></head><body>x</body></html>'
    server = scripted_server(site_routes(**{"/hostile": Reply(200, {"content-type": "text/html"}, body)}))
    outcome = run_site(server, bound=20)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert outcome.pages["/hostile"]["facts"]["title"] == "+ADw-x+AD4-"


def test_whatwg_labels_decode_like_browsers(scripted_server) -> None:
    body = '<html><head><title>\u041f\u0440\u0438\u0432\u0435\u0442</title></head></html>'.encode("cp1251")
    server = scripted_server(site_routes(**{"/hostile": Reply(200, {"content-type": "text/html; charset=x-cp1251"}, body)}))
    outcome = run_site(server, bound=20)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert outcome.pages["/hostile"]["facts"]["title"] == "\u041f\u0440\u0438\u0432\u0435\u0442"


def test_replacement_encoding_yields_no_markup(scripted_server) -> None:
    body = b"<html><head><title>smuggled</title></head></html>"
    server = scripted_server(site_routes(**{"/hostile": Reply(200, {"content-type": "text/html; charset=iso-2022-kr"}, body)}))
    outcome = run_site(server, bound=20)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert outcome.pages["/hostile"]["facts"]["title"] in (None, "")


def test_invalid_bytes_and_nuls_keep_the_json_valid(scripted_server) -> None:
    body = b"<html><head><title>\xff\xfe\x00\x1b[31mred\x00\xed\xa0\x80</title><meta property='og:title' content='\x00\xc3'></head></html>"
    server = scripted_server(site_routes(**{"/hostile": Reply(200, {"content-type": "text/html"}, body)}))
    outcome = run_site(server, bound=20)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    json.dumps(outcome.report, ensure_ascii=False).encode("utf-8")  # strict UTF-8 round trip


def test_megabyte_title_and_attributes_are_clipped(scripted_server) -> None:
    big = "t" * 1_000_000
    server = scripted_server(site_routes(**{"/hostile": page(f'<meta property="og:title" content="{big}">', f"<a href='/{big}'>x</a>")}))
    outcome = run_site(server, bound=30)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert len(outcome.pages["/hostile"]["facts"]["open_graph"]["og:title"]) < 10_000


def test_ten_thousand_meta_tags(scripted_server) -> None:
    metas = "".join(f'<meta property="og:image" content="/i{n}.png">' for n in range(10_000))
    server = scripted_server(site_routes(**{"/hostile": page(metas)}))
    outcome = run_site(server, bound=30)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert server.hits("/i9999.png") == 0  # only the first og:image is fetched


def test_deeply_nested_json_feed(scripted_server) -> None:
    server = scripted_server(site_routes(**{
        "/hostile": page('<link rel="alternate" type="application/feed+json" href="/feed.json">'),
        "/feed.json": Reply(200, {"content-type": "application/feed+json"}, _nested_json(100_000)),
    }))
    outcome = run_site(server, bound=20)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert server.hits("/feed.json") == 1  # read, not skipped


def test_deeply_nested_xml_feed_and_sitemap(scripted_server) -> None:
    deep_xml = b'<?xml version="1.0"?><rss version="2.0">' + b"<channel>" * 50_000
    sitemap = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + b"<url>" * 50_000
    server = scripted_server(site_routes(**{
        "/hostile": page('<link rel="alternate" type="application/rss+xml" href="/feed.xml">'),
        "/feed.xml": Reply(200, {"content-type": "application/rss+xml"}, deep_xml),
        "/sitemap.xml": Reply(200, {"content-type": "application/xml"}, sitemap),
    }))
    outcome = run_site(server, bound=20)
    # The unreadable sitemap is said (XML served as such); the feed is read as far as it goes.
    assert_case(outcome, {"/sitemap.xml": ["sitemap"]}, audited=["/hostile"], not_audited=())
    assert server.hits("/feed.xml") == 1



@pytest.mark.parametrize("number", ["\u00b2", "\u0663", "9" * 5000], ids=["superscript-two", "arabic-indic-three", "5000-digits"])
def test_numbers_int_refuses_cost_nothing(scripted_server, number: str) -> None:
    # str.isdigit() is true for all three, int() refuses them: in a link's port, an image's
    # width and the declared og:image size they dropped the whole page ("processing failed").
    body = (f'<a href="http://x.example:{number}/">a port</a><img src="/og.png" width="{number}" alt="">'
            '<a href="https://www.facebook.com/sharer/sharer.php?u=x">Share</a>')
    head = (f'<meta property="og:title" content="Hostile"><meta property="og:image" content="/og.png">'
            f'<meta property="og:image:width" content="{number}"><meta property="og:image:height" content="{number}">')
    server = scripted_server(site_routes(**{"/hostile": page(head, body)}))
    outcome = run_site(server, bound=20)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    findings = {f["rule"]: f for f in outcome.pages["/hostile"]["findings"]}
    assert "whole numbers" in findings["og-image-declared-size"]["message"], findings.get("og-image-declared-size")


def test_unparsable_urls_in_page_content_crash_no_extractor_or_rule(scripted_server) -> None:
    # "http://[::1" (an unclosed IPv6 bracket) makes urljoin raise ValueError. Before, in a widget's
    # data-href it failed the whole page ("processing"): the page left the site's score, which rose.
    bad = "http://[::1"
    feed = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title><link>{bad}</link>'
            f'<item><title>One</title><link>{bad}</link></item></channel></rss>').encode()
    server = scripted_server(site_routes(**{"/feed.xml": Reply(200, {"content-type": "application/rss+xml"}, feed)}))
    server.routes["/hostile"] = page(
        f'<meta property="og:url" content="{bad}"><link rel="canonical" href="{bad}">'
        '<link rel="alternate" type="application/rss+xml" href="/feed.xml">',
        f'<div class="fb-comments" data-href="{bad}"></div>'
        f'<div class="g_id_signin" data-login_uri="{bad}"></div>'
        f'<button onclick="navigator.share({{url: \'{bad}\'}})">Share</button>'
        f'<a href="https://www.facebook.com/sharer/sharer.php?u={bad}">Share on Facebook</a>'
        f'<a href="{bad}/x" data-href="{bad}">Sign in with Google</a>')
    outcome = run_site(server, bound=20)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    findings = outcome.pages["/hostile"]["findings"] + outcome.report["site_findings"]
    crashed = [f"{f['rule']}: {f['message']}" for f in findings if f["status"] == "error"]
    assert crashed == []
