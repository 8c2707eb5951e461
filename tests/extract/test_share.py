"""Share-button detection: every catalogue entry proven by a fixture page fetched over loopback.

The fixture pages under fixtures/rules/share/ are served by the real folder server and fetched by
the real Fetcher; the real Extractor (with the default classifiers) turns them into facts. Each
page's exact `(network, shares_url)` list is asserted, not a count. "{page}" stands for the URL
the page was served from (buttons that share "the current page" by design).

Pure functions (URL decoding, catalogue validation) are unit-tested on strings at the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from smo_audit.crawl.fetcher import Fetcher
from smo_audit.crawl.local_server import serve_folder
from smo_audit.crawl.models import RawPage, RawResponse
from smo_audit.extract import ExtractedPage, Extractor
from smo_audit.extract.share import (
    PageURLs,
    ShareClassifier,
    decode_endpoint,
    self_link_target,
    url_in_text,
)
from smo_audit.extract.share_catalogue import CatalogueError, build, share_catalogue

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "rules"
SHARE = ROOT / "share"
P = "https://www.brew.example/blog/cold-brew/"
HOME = "https://www.brew.example/"
PAGE = "{page}"


def _same(network: str, count: int = 1, url: str = P) -> list[tuple[str, str | None]]:
    return [(network, url)] * count


# fixture path (under fixtures/rules/share/) -> exact share_buttons[] as (network, shares_url)
EXPECTED: dict[str, list[tuple[str, str | None]]] = {
    # -- one page per share endpoint of rules/catalogue/share.toml --------------------------------
    "catalogue/endpoint-facebook-sharer.html": _same("facebook", 4),  # www, http+bare, m., web.
    "catalogue/endpoint-facebook-dialog-share.html": _same("facebook"),
    "catalogue/endpoint-facebook-dialog-feed.html": _same("facebook"),
    "catalogue/endpoint-facebook-plugin-share.html": _same("facebook"),  # <iframe>
    "catalogue/endpoint-facebook-plugin-like.html": _same("facebook"),
    "catalogue/endpoint-messenger-dialog-send.html": _same("messenger"),
    "catalogue/endpoint-messenger-app.html": _same("messenger"),
    "catalogue/endpoint-x-intent.html": _same("x", 4),  # twitter.com, x.com, mobile., www.x.com
    "catalogue/endpoint-x-share.html": _same("x", 2),
    "catalogue/endpoint-x-home-status.html": _same("x"),
    "catalogue/endpoint-linkedin-share-offsite.html": _same("linkedin", 2),
    "catalogue/endpoint-linkedin-share-article.html": _same("linkedin"),
    "catalogue/endpoint-linkedin-cws-share.html": _same("linkedin"),
    "catalogue/endpoint-linkedin-feed-compose.html": _same("linkedin"),
    "catalogue/endpoint-pinterest-pin-create.html": _same("pinterest", 2),
    "catalogue/endpoint-reddit-submit.html": _same("reddit", 2),
    "catalogue/endpoint-whatsapp-api-send.html": _same("whatsapp"),
    "catalogue/endpoint-whatsapp-web-send.html": _same("whatsapp"),
    "catalogue/endpoint-whatsapp-wa-me.html": _same("whatsapp"),
    "catalogue/endpoint-whatsapp-app.html": _same("whatsapp"),
    "catalogue/endpoint-telegram-share.html": _same("telegram", 2),
    "catalogue/endpoint-telegram-app.html": _same("telegram"),
    "catalogue/endpoint-email-mailto.html": _same("email"),
    "catalogue/endpoint-email-gmail-compose.html": _same("email"),
    "catalogue/endpoint-sms.html": _same("sms", 2),
    "catalogue/endpoint-tumblr-share-tool.html": _same("tumblr"),
    "catalogue/endpoint-tumblr-share-link.html": _same("tumblr"),
    "catalogue/endpoint-pocket-save.html": _same("pocket"),
    "catalogue/endpoint-hackernews-submit.html": _same("hackernews"),
    "catalogue/endpoint-mastodon-instance-share.html": _same("mastodon", 2),  # known instance + hinted
    "catalogue/endpoint-mastodon-app.html": _same("mastodon"),
    "catalogue/endpoint-mastodon-share2fedi.html": _same("mastodon"),
    "catalogue/endpoint-bluesky-compose.html": _same("bluesky"),
    "catalogue/endpoint-threads-intent.html": _same("threads", 2),
    "catalogue/endpoint-vk-share.html": _same("vk", 2),
    "catalogue/endpoint-line-it.html": _same("line", 2),
    "catalogue/endpoint-xing-share.html": _same("xing", 2),
    "catalogue/endpoint-weibo-share.html": _same("weibo"),
    "catalogue/endpoint-buffer-add.html": _same("buffer", 2),
    "catalogue/endpoint-flipboard-share.html": _same("flipboard"),
    "catalogue/endpoint-qzone-share.html": _same("qzone"),
    "catalogue/endpoint-ok-offer.html": _same("ok"),
    "catalogue/endpoint-viber-app.html": _same("viber"),
    "catalogue/endpoint-nextdoor-sharekit.html": _same("nextdoor"),
    "catalogue/endpoint-addtoany-add-to.html": [("facebook", P), ("x", P), ("email", P)],
    "catalogue/endpoint-googleplus-share.html": _same("googleplus"),
    "catalogue/endpoint-stumbleupon-submit.html": _same("stumbleupon"),
    "catalogue/endpoint-delicious-save.html": _same("delicious"),
    "catalogue/endpoint-skype-share.html": _same("skype"),
    # -- one page per widget provider of rules/catalogue/share_widgets.toml -----------------------
    # the kit's <a class="a2a_button_facebook"></a> placeholders (no href: page.js fills it in) name
    # their networks; they share the page by default
    "catalogue/provider-addtoany.html": [("facebook", PAGE), ("whatsapp", PAGE)],
    "catalogue/provider-sharethis.html": [("facebook", PAGE), ("x", PAGE), ("whatsapp", PAGE)],
    "catalogue/provider-addthis.html": [],
    "catalogue/provider-shareaholic.html": [],
    "catalogue/provider-sumo.html": [],
    "catalogue/provider-social-warfare.html": [("facebook", P), ("x", P)],
    "catalogue/provider-jetpack.html": [("facebook", P), ("x", P), ("whatsapp", P), ("email", P)],
    "catalogue/provider-shariff.html": [],
    "catalogue/provider-mashshare.html": [("facebook", P), ("x", P)],
    "catalogue/provider-hubbub.html": [("facebook", P), ("pinterest", P)],
    "catalogue/provider-sassy-social-share.html": [("facebook", P), ("whatsapp", P)],
    "catalogue/provider-facebook-sdk.html": [("facebook", P)],  # the fallback <a> inside is the same button
    "catalogue/provider-facebook-like.html": [("facebook", P)],
    "catalogue/provider-x-widgets.html": [("x", P), ("x", PAGE)],  # data-url, then the page by default
    "catalogue/provider-pinterest-pinit.html": [("pinterest", PAGE), ("pinterest", P)],
    "catalogue/provider-linkedin-in-share.html": [("linkedin", P)],  # its data-url (was ignored: "the page")
    "catalogue/provider-amp-social-share.html": [("x", PAGE), ("facebook", P), ("whatsapp", PAGE), ("web-share", PAGE)],
    "catalogue/provider-sharer-js.html": [("facebook", P), ("x", P), ("whatsapp", P)],
    "catalogue/provider-web-share-api.html": [("web-share", P)],  # url: the canonical link's href
    # -- must not count as share buttons ----------------------------------------------------------
    "negative/profile-links.html": [],
    "negative/chat-links.html": [],
    "negative/login-links.html": [],
    "negative/embeds.html": [],
    "negative/mentions.html": [],
    "negative/file-manager.html": [],  # "Share" buttons of a file manager share files, not the page
    # -- rule fixture pages -----------------------------------------------------------------------
    "pages/good-article.html": [("facebook", P), ("x", P), ("linkedin", P), ("whatsapp", P), ("email", P)],
    "pages/wrong-encoding.html": [("facebook", "https://www.brew.example/shop/item?id=7"),
                                  ("x", "https://www.brew.example/shop/item?id=7&color=red")],
    "pages/correct-encoding.html": [("facebook", "https://www.brew.example/shop/item?id=7&color=red")],
    "pages/staging-host.html": _same("facebook", 1, "https://staging.brew.example/blog/cold-brew/")
    + _same("x", 1, "https://staging.brew.example/blog/cold-brew/"),
    "pages/localhost.html": _same("facebook", 1, "http://localhost:4000/blog/cold-brew/")
    + _same("linkedin", 1, "http://localhost:4000/blog/cold-brew/"),
    "pages/other-page.html": [("facebook", "https://www.brew.example/"), ("whatsapp", "https://www.brew.example/")],
    "pages/template.html": [("facebook", "{{ page.url | urlencode }}")],
    "pages/no-url.html": [("facebook", None), ("linkedin", None)],
    "pages/script-url.html": [("linkedin", None)],
    "pages/icon-only-unlabelled.html": [("facebook", P), ("x", P), ("linkedin", P)],
    "pages/icon-only-labelled.html": [("facebook", P), ("x", P), ("linkedin", P), ("whatsapp", P)],
    "pages/same-tab.html": [("facebook", P), ("x", P), ("linkedin", P)],
    "pages/popup.html": [("facebook", P), ("x", PAGE)],  # the X button adds location.href
    "pages/jetpack.html": [("facebook", P), ("x", P), ("linkedin", P), ("whatsapp", P), ("email", P)],
    "pages/addthis.html": [],
    "pages/addtoany.html": [("menu", None), ("facebook", PAGE), ("x", PAGE)],  # a2a_dd opens its menu
    "pages/dead-link.html": [("facebook", P), ("googleplus", P)],
    "pages/duplicate-toolbars.html": [("facebook", P), ("facebook", P)],
    "pages/sharethis-js.html": [],
    "pages/sharethis-orphan.html": [],
    "pages/web-share.html": [("web-share", PAGE)],
    "pages/web-share-no-url.html": [("web-share", None)],
    # a "Share" button whose script the page does not show: no evidence it shares to a network
    "pages/web-share-external.html": [],
    "pages/coverage-partial.html": [("facebook", P), ("x", P)],
    "pages/home-one-button.html": [("facebook", HOME)],
    "pages/home-full-bar.html": [("facebook", HOME), ("x", HOME), ("linkedin", HOME), ("whatsapp", HOME), ("email", HOME)],
    "pages/coverage-none.html": [("reddit", P), ("hackernews", P)],
    "pages/coverage-pinterest.html": [("facebook", P), ("x", P), ("linkedin", P), ("whatsapp", P), ("email", P)],
    "pages/coverage-pinterest-ok.html": [("facebook", P), ("x", P), ("linkedin", P), ("whatsapp", P), ("email", P),
                                         ("pinterest", P)],
    "pages/coverage-web-share.html": [("facebook", P), ("web-share", PAGE)],
    "pages/coverage-shariff.html": [],
    "pages/quote.html": [("x", P), ("facebook", P), ("x", P), ("linkedin", P), ("whatsapp", P), ("email", P)],
    "pages/quote-too-long.html": [("x", P)],
    "pages/plain-share-text.html": [("x", P)],
    "pages/no-share.html": [],
    "pages/fb-button-no-sdk.html": [("facebook", P)],
}

# provider fixture -> (provider, kind, dead, js_only) of every share widget on it
WIDGETS: dict[str, list[tuple[str, str, bool, bool]]] = {
    "catalogue/provider-addtoany.html": [("addtoany", "toolbar", False, False)],
    "catalogue/provider-sharethis.html": [("sharethis", "toolbar", False, False)],
    "catalogue/provider-addthis.html": [("addthis", "toolbar", True, False)],
    "catalogue/provider-shareaholic.html": [("shareaholic", "toolbar", False, True)],
    "catalogue/provider-sumo.html": [("sumo", "toolbar", False, True)],
    "catalogue/provider-social-warfare.html": [("social-warfare", "toolbar", False, False)],
    "catalogue/provider-jetpack.html": [("jetpack", "toolbar", False, False)],
    "catalogue/provider-shariff.html": [("shariff", "toolbar", False, True)],
    "catalogue/provider-mashshare.html": [("mashshare", "toolbar", False, False)],
    "catalogue/provider-hubbub.html": [("hubbub", "toolbar", False, False)],
    "catalogue/provider-sassy-social-share.html": [("sassy-social-share", "toolbar", False, False)],
    "catalogue/provider-facebook-sdk.html": [("facebook-sdk", "official", False, False)],
    "catalogue/provider-facebook-like.html": [("facebook-like", "official", True, False)],
    "catalogue/provider-x-widgets.html": [("x-widgets", "official", False, False)],
    "catalogue/provider-pinterest-pinit.html": [("pinterest-pinit", "official", False, False)],
    "catalogue/provider-linkedin-in-share.html": [("linkedin-in-share", "official", False, False)],
    "catalogue/provider-amp-social-share.html": [("amp-social-share", "official", False, False)],
    "catalogue/provider-sharer-js.html": [("sharer-js", "library", False, False)],
    "catalogue/provider-web-share-api.html": [("web-share-api", "api", False, False)],
    "negative/profile-links.html": [],
    "negative/embeds.html": [],
    "pages/duplicate-toolbars.html": [("jetpack", "toolbar", False, False), ("addtoany", "toolbar", False, False)],
}


# ---- fetching the fixtures over loopback --------------------------------------------------------------


@pytest.fixture(scope="module")
def extracted() -> Iterator[dict[str, ExtractedPage]]:
    """Every fixture page of EXPECTED, fetched by the real Fetcher from the real folder server."""
    with serve_folder(ROOT) as server:
        urls = {name: f"{server.base_url}share/{name}" for name in EXPECTED}

        async def fetch_all() -> dict[str, RawResponse]:
            async with Fetcher() as fetcher:
                responses = await asyncio.gather(*(fetcher.fetch(url) for url in urls.values()))
            return dict(zip(urls, responses, strict=True))

        responses = asyncio.run(fetch_all())
    extractor = Extractor()
    yield {name: extractor.extract(RawPage(response)) for name, response in responses.items()}


def _pairs(page: ExtractedPage) -> list[tuple[str, str | None]]:
    url = page.document.url
    return [(b.network, b.shares_url if b.shares_url != url else PAGE) for b in page.facts.share_buttons]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_share_buttons_per_fixture(name: str, extracted: dict[str, ExtractedPage]) -> None:
    page = extracted[name]
    assert page.document.url.startswith("http://127.0.0.1:"), "fixtures are fetched over loopback"
    assert _pairs(page) == EXPECTED[name]
    assert all(b.visible is None for b in page.facts.share_buttons), "static mode: visibility unknown"


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_share_widgets_per_fixture(name: str, extracted: dict[str, ExtractedPage]) -> None:
    widgets = [(w.provider, w.kind, w.dead, w.js_only) for w in extracted[name].facts.share_widgets]
    assert widgets == WIDGETS[name]


def test_every_catalogue_entry_has_a_fixture_that_detects_it(extracted: dict[str, ExtractedPage]) -> None:
    catalogue = share_catalogue()
    problems: list[str] = []
    for endpoint in catalogue.endpoints:
        name = f"catalogue/endpoint-{endpoint.id}.html"
        if not (SHARE / name).is_file() or name not in EXPECTED:
            problems.append(f"endpoint {endpoint.id}: no fixture {name} (or no EXPECTED row for it)")
        elif not any(b.source == endpoint.id for b in extracted[name].facts.share_buttons):
            problems.append(f"endpoint {endpoint.id}: {name} does not detect it")
    for provider in catalogue.providers:
        name = f"catalogue/provider-{provider.id}.html"
        if not (SHARE / name).is_file() or name not in EXPECTED or name not in WIDGETS:
            problems.append(f"provider {provider.id}: no fixture {name} (or no EXPECTED/WIDGETS row for it)")
        elif not any(w.provider == provider.id for w in extracted[name].facts.share_widgets):
            problems.append(f"provider {provider.id}: {name} does not detect it")
    assert not problems, "\n".join(problems)


def test_every_share_fixture_page_is_asserted() -> None:
    on_disk = {p.relative_to(SHARE).as_posix() for folder in ("catalogue", "negative", "pages")
               for p in (SHARE / folder).glob("*.html")}
    assert on_disk == set(EXPECTED)


def test_detection_details(extracted: dict[str, ExtractedPage]) -> None:
    wrong = extracted["pages/wrong-encoding.html"].facts.share_buttons[0]
    assert wrong.url_source == "param:u"
    assert wrong.problems == (
        "unencoded-url: the shared URL is not percent-encoded, so its query is cut at the first '&': the network "
        "receives https://www.brew.example/shop/item?id=7 instead of https://www.brew.example/shop/item?id=7&color=red",
    )
    template = extracted["pages/template.html"].facts.share_buttons[0]
    assert template.problems[0].startswith("template:")
    no_url = extracted["pages/no-url.html"].facts.share_buttons
    assert [p.split(":", 1)[0] for b in no_url for p in b.problems] == ["no-url", "no-url-script"]
    labels = [b.label for b in extracted["pages/icon-only-unlabelled.html"].facts.share_buttons]
    assert labels == ["", "", "Share on LinkedIn"]
    labelled = [b.label for b in extracted["pages/icon-only-labelled.html"].facts.share_buttons]
    assert labelled == ["Share on Facebook", "Post on X", "Share on LinkedIn", "Share on WhatsApp"]
    mail = extracted["catalogue/endpoint-email-mailto.html"].facts.share_buttons[0]
    assert (mail.url_source, mail.mechanism, mail.href.startswith("mailto:?subject=")) == ("text:body", "link", True)
    dead = extracted["catalogue/endpoint-googleplus-share.html"].facts.share_buttons[0]
    assert dead.problems == ("dead-service: Google+ closed for consumers on 2 April 2019; its share page no longer exists",)


def test_jetpack_self_links_are_share_buttons_and_never_crawled(extracted: dict[str, ExtractedPage]) -> None:
    page = extracted["pages/jetpack.html"]
    buttons = page.facts.share_buttons
    assert {b.mechanism for b in buttons} == {"self-link"} and {b.provider for b in buttons} == {"jetpack"}
    assert [b.href for b in buttons] == [f"{P}?share={n}&nb=1" for n in
                                         ("facebook", "x", "linkedin", "jetpack-whatsapp", "email")]
    assert not [link for link in page.links.links if "share=" in link], page.links.links


def test_share_links_are_not_handed_to_the_crawler(extracted: dict[str, ExtractedPage]) -> None:
    page = extracted["pages/good-article.html"]
    hosts = {urlsplit(link).hostname for link in page.links.links}
    assert not hosts & {"www.facebook.com", "x.com", "www.linkedin.com", "api.whatsapp.com"}


def test_quotes_are_recognised_only_in_the_text(extracted: dict[str, ExtractedPage]) -> None:
    quote = extracted["pages/quote.html"].facts.share_buttons
    assert [b.text for b in quote] == ["“Cold brew is not iced coffee: it is coffee that never met heat.”",
                                       None, None, None, None, None]
    assert [b.text for b in extracted["pages/plain-share-text.html"].facts.share_buttons] == [None]
    long_quote = extracted["pages/quote-too-long.html"].facts.share_buttons[0].text
    assert long_quote is not None and long_quote.endswith("is the long way round.")


def test_web_share_trigger_is_identified(extracted: dict[str, ExtractedPage]) -> None:
    (button,) = extracted["pages/web-share.html"].facts.share_buttons
    assert (button.selector, button.label, button.mechanism, button.url_source) == (
        "button#share-page", "Share", "web-share-api", "page")
    (api,) = extracted["catalogue/provider-web-share-api.html"].facts.share_buttons
    assert (api.selector, api.url_source) == ("button#share", "script:canonical")
    assert extracted["pages/web-share-external.html"].facts.share_buttons == ()


def test_widget_networks_and_script_evidence(extracted: dict[str, ExtractedPage]) -> None:
    (shariff,) = extracted["catalogue/provider-shariff.html"].facts.share_widgets
    assert shariff.networks == ("facebook", "x", "whatsapp", "email")
    (addthis,) = extracted["pages/addthis.html"].facts.share_widgets
    assert addthis.dead and addthis.dead_reason is not None and "31 May 2023" in addthis.dead_reason
    (orphan,) = extracted["pages/sharethis-orphan.html"].facts.share_widgets
    assert (orphan.has_container, orphan.has_script, orphan.js_only) == (True, False, True)


# ---- pure functions -------------------------------------------------------------------------------------

URL = "https://www.brew.example/blog/post/"


def _classify(body: str, url: str = URL) -> list[tuple[str, str | None]]:
    raw = RawPage(RawResponse(url, url, 200, {"content-type": "text/html"}, body.encode()))
    facts = Extractor(classifiers=[ShareClassifier()]).extract(raw).facts
    return [(b.network, b.shares_url) for b in facts.share_buttons]


def test_classifier_on_strings() -> None:
    assert _classify('<a href="//www.facebook.com/sharer.php?u=https%3A%2F%2Fa.example%2F">f</a>') == [
        ("facebook", "https://a.example/")]
    assert _classify('<a href="https://FACEBOOK.com/Sharer.php?u=https%3A%2F%2Fa.example%2F">f</a>') == [
        ("facebook", "https://a.example/")]
    assert _classify('<a href="?share=facebook&amp;nb=1" class="share-facebook">f</a>') == [("facebook", URL)]
    assert _classify('<a href="https://elsewhere.example/post/?share=facebook">f</a>') == []
    assert _classify('<a href="/?share=print">print</a>') == []
    assert _classify('<a href="#" data-network="linkedin" data-url="https://a.example/p">in</a>') == [
        ("linkedin", "https://a.example/p")]
    assert _classify('<a href="#" class="share-whatsapp">wa</a>') == [("whatsapp", URL)]
    assert _classify('<a href="/about/" class="share-whatsapp">about</a>') == []
    assert _classify('<a href="javascript:void(window.open(\'https://t.me/share/url?url=https%3A%2F%2Fa.example\'))">t</a>') == [
        ("telegram", "https://a.example")]


def test_unencoded_url_without_ampersand_is_not_a_problem() -> None:
    catalogue = share_catalogue()
    endpoint = next(e for e in catalogue.endpoints if e.id == "facebook-sharer")
    context = PageURLs(URL, URL, URL, None, frozenset({"www.brew.example"}), ())
    decoded = decode_endpoint(endpoint, urlsplit("https://facebook.com/sharer.php?u=https://a.example/p?id=7"),
                              context, ())
    assert decoded is not None and (decoded.shares_url, decoded.problems) == ("https://a.example/p?id=7", [])
    cut = decode_endpoint(endpoint, urlsplit("https://facebook.com/sharer.php?u=https://a.example/p?id=7&c=2&t=T"),
                          context, ())
    assert cut is not None and cut.shares_url == "https://a.example/p?id=7"
    assert cut.problems and cut.problems[0].endswith("instead of https://a.example/p?id=7&c=2")
    known = "https://facebook.com/sharer.php?u=https://a.example/p?ref=fb&src=share"
    plain = decode_endpoint(endpoint, urlsplit(known), context, ())
    assert plain is not None and plain.problems == []  # src= is Facebook's own parameter: ambiguous
    proven = PageURLs(URL, URL, "https://a.example/p?ref=fb&src=share", None, frozenset(), ())
    cut_known = decode_endpoint(endpoint, urlsplit(known), proven, ())
    assert cut_known is not None and cut_known.problems[0].endswith("instead of https://a.example/p?ref=fb&src=share")
    mail = next(e for e in catalogue.endpoints if e.id == "email-mailto")
    plus = decode_endpoint(mail, urlsplit("mailto:?body=a+b%20https://a.example/p?q=c%2Bd"), context, ())
    assert plus is not None and (plus.shares_url, plus.text) == ("https://a.example/p?q=c+d", "a+b https://a.example/p?q=c+d")
    chat = next(e for e in catalogue.endpoints if e.id == "whatsapp-api-send")
    assert decode_endpoint(chat, urlsplit("https://api.whatsapp.com/send?phone=1&text=https://a.example"), context, ()) is None


def test_url_in_text_prefers_the_pages_own_host() -> None:
    text = "See https://other.example/x and https://www.brew.example/post/."
    assert url_in_text(text, {"www.brew.example"}) == "https://www.brew.example/post/"
    assert url_in_text(text) == "https://other.example/x"
    assert url_in_text("no link here") is None


def test_self_link_target_strips_share_parameters() -> None:
    assert self_link_target("https://a.example/p/?lang=en&share=x&nb=1#top", ["share"], ["share", "nb"]) == (
        "x", "https://a.example/p/?lang=en")
    assert self_link_target("https://a.example/p/?lang=en", ["share"], ["share"]) is None


def test_aliases_map_to_network_ids() -> None:
    catalogue = share_catalogue()
    assert [catalogue.network_id(n) for n in ("Twitter", "x", "jetpack-whatsapp", "mail", "nope", None)] == [
        "x", "x", "whatsapp", "email", None, None]


def test_catalogue_errors_name_the_entry() -> None:
    endpoint = {"id": "bad", "network": "nowhere", "hosts": ["a.example"], "paths": ["/s"], "url_params": ["u"]}
    with pytest.raises(CatalogueError, match="endpoint 'bad': unknown network 'nowhere'"):
        build({"networks": {"facebook": {}}, "endpoint": [endpoint]}, {})
    twice = {"network": "facebook", "hosts": ["a.example"], "paths": ["/s"], "url_params": ["u"]}
    with pytest.raises(CatalogueError, match=r"both claim a\.example/s"):
        build({"networks": {"facebook": {}}, "endpoint": [{"id": "one", **twice}, {"id": "two", **twice}]}, {})
    with pytest.raises(CatalogueError, match="provider 'p': kind must be"):
        build({"networks": {}}, {"provider": [{"id": "p", "kind": "menu"}]})
    with pytest.raises(CatalogueError, match="unsupported selector"):
        build({"networks": {}}, {"provider": [{"id": "p", "kind": "toolbar", "containers": ["div > a"]}]})
