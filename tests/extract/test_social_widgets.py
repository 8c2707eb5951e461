"""Follow widgets, embeds and comment systems over real HTTP: both halves recorded per widget."""

from __future__ import annotations

import pytest

from smo_audit.catalogue import section
from smo_audit.extract.dom import parse_document
from smo_audit.extract.facts import PageFacts
from smo_audit.extract.social_widgets import SocialWidgetClassifier
from tests.extract.social_http import extract, rules_site  # noqa: F401 -- rules_site is a fixture

# page -> {(widget, has_script, has_container)}
EXPECTED: dict[str, set[tuple[str, bool | None, bool | None]]] = {
    "disqus.html": {("disqus", True, True)},  # script injected by the inline snippet
    "disqus-no-container.html": {("disqus", True, False)},
    "giscus.html": {("giscus", True, None)},
    "utterances.html": {("utterances", True, None)},
    "commento.html": {("commento", True, True)},
    "native-comments.html": {("native-comments", None, True)},
    "comments-closed.html": {("native-comments-closed", None, True)},
    "facebook-comments.html": {("facebook-comments", True, True)},
    "facebook-comments-no-sdk.html": {("facebook-comments", False, True)},
    "follow-widgets.html": {("facebook-page", True, True), ("x-timeline", True, True), ("instagram-embed", True, True),
                            ("youtube-subscribe", True, True), ("youtube-embed", None, True)},
    "embeds-no-script.html": {("instagram-embed", False, True), ("tiktok-embed", True, True)},
    "widget-gallery.html": {("facebook-post", True, True), ("facebook-page", None, True), ("x-follow", True, True),
                            ("x-post", True, True), ("threads-embed", True, True), ("bluesky-embed", True, True),
                            ("pinterest-follow", True, True), ("cusdis", True, True), ("hyvor-talk", True, True),
                            ("addthis-follow", None, True), ("pinterest-embed", True, True),
                            ("facebook-like", None, True)},  # a Like button: a (dead) social widget
    "no-conversation.html": set(),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_widgets_per_page(name: str, rules_site: str) -> None:  # noqa: F811
    page = await extract(rules_site, f"conversation/{name}")
    assert {(w.widget, w.has_script, w.has_container) for w in page.facts.social_widgets} == EXPECTED[name]


async def test_widget_facts_carry_provider_kind_url_and_flags(rules_site: str) -> None:  # noqa: F811
    page = await extract(rules_site, "conversation/follow-widgets.html")
    by_id = {w.widget: w for w in page.facts.social_widgets}
    fb = by_id["facebook-page"]
    assert (fb.provider, fb.kind, fb.url, fb.evidence) == (
        "facebook", "follow", "https://www.facebook.com/acme", "div.fb-page → https://www.facebook.com/acme")
    assert by_id["x-timeline"].url == "https://twitter.com/acme?ref_src=twsrc%5Etfw"
    assert by_id["youtube-embed"].evidence == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    closed = await extract(rules_site, "conversation/comments-closed.html")
    (widget,) = closed.facts.social_widgets
    assert (widget.provider, widget.kind, widget.closed, widget.dead) == ("native", "comments", True, False)
    gallery = await extract(rules_site, "conversation/widget-gallery.html")
    addthis = next(w for w in gallery.facts.social_widgets if w.widget == "addthis-follow")
    assert addthis.dead and addthis.kind == "follow"


def test_a_shared_script_alone_is_no_widget() -> None:
    doc = parse_document('<script src="https://connect.facebook.net/en_US/sdk.js"></script>'
                         '<script src="https://platform.twitter.com/widgets.js"></script>', "https://example.com/")
    assert SocialWidgetClassifier().classify(doc, PageFacts()) == {}


def test_every_widget_in_the_catalogue_has_a_fixture() -> None:
    covered = {w for facts in EXPECTED.values() for w, _, _ in facts}
    catalogued = set(section("social_widgets")["widget"])
    dead_widgets = {k for k, v in section("dead_services")["service"].items() if v.get("selectors") or v.get("scripts")}
    assert catalogued - covered == set()
    assert dead_widgets - covered == {"google-plus"}  # fixtures/rules/profiles/dead.html, test_profiles.py
