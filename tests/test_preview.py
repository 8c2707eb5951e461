"""smo_audit.preview: URL mapping, the bounded image fetch, judging, and the per-platform cards
(pure builders tested on hand-made facts; fetches and whole audits over real loopback HTTP;
golden JSON for a few fixture pages, compared field by field)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest

from smo_audit.config import AuditConfig
from smo_audit.crawl.fetcher import Fetcher
from smo_audit.crawl.local_server import serve_folder
from smo_audit.engine.resources import ResourceCache
from smo_audit.extract.facts import PageFacts
from smo_audit.imageinfo import ImageInfo
from smo_audit.pipeline import Audit, Target
from smo_audit.platforms import ImageSpec, image_fetch_limit, platform, platforms, preview_platforms
from smo_audit.preview import (
    NO_PRODUCTION,
    ImageFetch,
    Production,
    audited_copy,
    build_previews,
    fetch_image,
    is_local_host,
    is_placeholder_host,
    judge_dimensions,
    production_for,
    production_origins,
    url_origin,
)
from smo_audit.report import model as rm
from tests.support.images import svg
from tests.support.scripted_server import Reply, html, png, png_bytes, redirect, text

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "rules"
GOLDEN = FIXTURES / "link_preview" / "golden"
IMG = "https://shop.example/img/share.png"


# -- the catalogue ---------------------------------------------------------------------------------


def test_platform_catalogue_loads_with_the_documented_limits() -> None:
    ids = [p.id for p in platforms()]
    assert ids == ["facebook", "x", "linkedin", "pinterest", "slack", "discord", "whatsapp", "telegram"]
    assert [p.id for p in preview_platforms()] == ["facebook", "x", "linkedin", "pinterest", "slack", "discord",
                                                   "whatsapp"]
    facebook, x = platform("facebook"), platform("x")
    assert facebook is not None and x is not None
    assert (facebook.image.min_width, facebook.image.large_min_width, facebook.image.max_bytes) == (200, 600, 8 * 2**20)
    assert facebook.html_read_limit == 1_048_576 and facebook.html_read_limit_confidence == "high"
    large = x.image_spec("summary_large_image")
    assert (large.min_width, large.min_height, large.aspect, large.max_width, large.max_bytes) == (300, 157, 2.0, 4096,
                                                                                                  5 * 2**20)
    assert x.image_spec("summary").aspect == 1.0 and x.image_spec("app") == x.image
    assert "image/svg+xml" not in {t for p in platforms() for t in p.image.types}
    assert all(p.sources for p in platforms()), "every platform cites where its figures come from"
    assert image_fetch_limit() == 8 * 2**20 + 1
    assert [p.robots_token for p in platforms() if p.check_cloaking] == ["facebookexternalhit", "Twitterbot"]


# -- URLs --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "placeholder", "local"),
    [
        ("shop.example", True, False), ("cdn.example.com", True, False), ("example.org", True, False),
        ("x.test", True, False), ("a.invalid", True, False), ("myexample.com", False, False),
        ("example.company", False, False), ("localhost", False, True), ("app.localhost", False, True),
        ("127.0.0.1", False, True), ("10.1.2.3", False, True), ("192.168.0.10", False, True), ("[::1]", False, True),
        ("203.0.113.5", False, True),  # TEST-NET-3 is in Python's "private" list: not reachable publicly
        ("cdn.acme.com", False, False),
    ],
)
def test_placeholder_and_local_hosts(host: str, placeholder: bool, local: bool) -> None:
    assert is_placeholder_host(host) is placeholder
    assert is_local_host(host) is local


def test_url_origin_normalises_case_and_default_ports() -> None:
    assert url_origin("HTTPS://Shop.Example:443/a?b") == "https://shop.example"
    assert url_origin("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080"
    assert url_origin("/relative") is None and url_origin("mailto:a@b.c") is None


def test_production_mapping() -> None:
    facts = PageFacts(canonical="https://shop.example/a", open_graph={"og:url": "https://www.shop.example/a"})
    local = "http://127.0.0.1:5000/a"
    assert production_origins(local, facts, None) == {"https://shop.example", "https://www.shop.example"}
    assert production_for(local, facts, None).local("https://www.shop.example/img/a.png?v=2") == \
        "http://127.0.0.1:5000/img/a.png?v=2"
    # a build folder with --base-url: the base path is the folder's root
    blog = production_for(local, facts, "https://prod.example/blog/")
    assert blog.origins == {"https://prod.example"}
    assert blog.local("https://prod.example/blog/img/a.png") == "http://127.0.0.1:5000/img/a.png"
    assert blog.local("https://prod.example/blog") == "http://127.0.0.1:5000/"
    assert blog.local("https://prod.example/shop/a.png") == "https://prod.example/shop/a.png", "outside the base"
    # a staging host mirrors production's paths
    staging = production_for("https://staging.acme.com/a", facts, "https://acme.com/blog/")
    assert staging.local("https://ACME.com/blog/x.png") == "https://staging.acme.com/blog/x.png"
    # a live site audited without --base-url, or with itself as base: nothing is rewritten
    assert production_for("https://shop.example/a", facts, None) == NO_PRODUCTION
    assert production_for("https://acme.com/a", facts, "https://acme.com") == NO_PRODUCTION
    assert audited_copy("https://cdn.acme.com/a.png", production_for(local, facts, None)) == "https://cdn.acme.com/a.png"


# -- fetching ----------------------------------------------------------------------------------------


@pytest.fixture
def image_server(scripted_server):
    big = png_bytes(1200, 630, extra_bytes=9 * 2**20)
    return scripted_server({
        "/img/share.png": png(1200, 630),
        "/img/missing.png": Reply(404, {"content-type": "text/html"}, "<h1>Not found</h1>"),
        "/img/old.png": redirect("/img/share.png"),
        "/img/logo.svg": Reply(200, {"content-type": "image/svg+xml"}, svg(1200, 630)),
        "/img/tiny.png": png(100, 100),
        "/img/huge.png": Reply(200, {"content-type": "image/png"}, big),
        "/img/soft-404.png": html("<h1>Page not found</h1>"),
    })


async def _fetch(server: Any, url: str, page: str | None = None, production: Production = NO_PRODUCTION) -> ImageFetch:
    cache = ResourceCache(Fetcher())
    try:
        return await fetch_image(cache, url, page_url=page or server.url("/page"), production=production)
    finally:
        await cache._fetcher.aclose()


async def test_fetch_ok_and_redirect(image_server) -> None:
    ok = await _fetch(image_server, image_server.url("/img/share.png"))
    assert ok.reachable and ok.status == 200 and ok.error_kind is None
    assert ok.info == ImageInfo("image/png", 1200, 630) and ok.size == len(png_bytes(1200, 630))
    moved = await _fetch(image_server, image_server.url("/img/old.png"))
    assert moved.reachable and moved.final_url == image_server.url("/img/share.png")
    assert moved.redirects == (image_server.url("/img/old.png"),)


async def test_fetch_failures(image_server) -> None:
    missing = await _fetch(image_server, image_server.url("/img/missing.png"))
    assert (missing.reachable, missing.status, missing.error_kind) == (False, 404, "http-status")
    drawn = await _fetch(image_server, image_server.url("/img/logo.svg"))
    assert drawn.reachable and drawn.info.type == "image/svg+xml"
    soft = await _fetch(image_server, image_server.url("/img/soft-404.png"))
    assert soft.reachable and not soft.info.known and soft.content_type == "text/html"
    huge = await _fetch(image_server, image_server.url("/img/huge.png"))
    assert huge.reachable and huge.error_kind == "too-large" and huge.size is None
    assert huge.over_limit == 8 * 2**20


async def test_placeholder_and_local_images_are_never_requested(image_server) -> None:
    placeholder = await _fetch(image_server, "https://cdn.example.com/share.png")
    assert placeholder.error_kind == "placeholder-host" and not placeholder.fetched
    # a public page naming an image on the auditor's own machine: reported, not fetched
    local = await _fetch(image_server, image_server.url("/img/share.png"), page="https://acme.com/post")
    assert local.error_kind == "local-host" and not local.fetched
    relative = await _fetch(image_server, "/img/share.png")
    assert relative.error_kind == "not-absolute"
    assert image_server.hits("/img/share.png") == 0


async def test_production_urls_are_fetched_from_the_audited_copy(image_server) -> None:
    shop = Production((("https://shop.example/", image_server.base_url + "/"),))
    mapped = await _fetch(image_server, "https://shop.example/img/share.png", production=shop)
    assert mapped.reachable and mapped.mapped and mapped.requested == image_server.url("/img/share.png")
    assert mapped.url == "https://shop.example/img/share.png"
    assert mapped.preview_image() == rm.PreviewImage(url="https://shop.example/img/share.png", width=1200, height=630,
                                                     bytes=len(png_bytes(1200, 630)), type="image/png")


async def test_the_cache_fetches_each_image_once(image_server) -> None:
    cache = ResourceCache(Fetcher())
    url = image_server.url("/img/share.png")
    try:
        results = await asyncio.gather(*(fetch_image(cache, url, page_url=image_server.url(f"/p{i}")) for i in range(5)))
    finally:
        await cache._fetcher.aclose()
    assert {r.info for r in results} == {ImageInfo("image/png", 1200, 630)}
    assert image_server.hits("/img/share.png") == 1


async def test_an_image_fetched_again_is_judged_again(image_server) -> None:
    """Judged fetches are reused while the resource cache answers with the same fetch (several
    rules and cards of a page, the pages of a site); a new audit's fetch is judged anew."""
    url = image_server.url("/img/share.png")
    cache = ResourceCache(Fetcher())
    try:
        first, again = [await fetch_image(cache, url, page_url=image_server.url(f"/p{i}")) for i in range(2)]
    finally:
        await cache._fetcher.aclose()
    assert again is first and first.info == ImageInfo("image/png", 1200, 630)
    image_server.routes["/img/share.png"] = png(600, 315)
    changed = await _fetch(image_server, url)
    assert changed.info == ImageInfo("image/png", 600, 315) and image_server.hits("/img/share.png") == 2


# -- judging -----------------------------------------------------------------------------------------

FACEBOOK = ImageSpec(min_width=200, min_height=200, large_min_width=600, large_min_height=315,
                     recommended_width=1200, recommended_height=630, aspect=1.91, aspect_tolerance=0.08,
                     max_bytes=8 * 2**20, confidence="high")


@pytest.mark.parametrize(
    ("size", "level", "note"),
    [
        ((1200, 630), "ok", None),
        ((800, 419), "ok", "below the recommended 1200x630"),
        ((500, 300), "degraded", "shown as a small thumbnail"),
        ((1200, 1200), "degraded", "aspect 1.00:1 differs from the recommended 1.91:1"),
        ((100, 100), "broken", "below the 200x200 minimum"),
    ],
)
def test_judge_dimensions(size: tuple[int, int], level: str, note: str | None) -> None:
    judged = judge_dimensions(FACEBOOK, *size)
    assert judged.level == level
    if note is None:
        assert judged.notes == ()
    else:
        assert any(note in n for n in judged.notes), judged.notes


def test_low_confidence_limits_only_degrade() -> None:
    spec = replace(FACEBOOK, confidence="low")
    assert judge_dimensions(spec, 100, 100).level == "degraded"


# -- building the cards ------------------------------------------------------------------------------

FULL = PageFacts(
    title="Jackets | ACME",
    description="Meta description.",
    open_graph={"og:title": "Ten jackets", "og:description": "Tested in the rain.", "og:image": IMG},
    twitter={"twitter:card": "summary_large_image", "twitter:title": "Ten jackets (X)"},
)


def _image(url: str = IMG, width: int = 1200, height: int = 630, size: int = 40_000, kind: str = "image/png",
           **changes: Any) -> ImageFetch:
    fetch = ImageFetch(url=url, requested=url, status=200, final_url=url, content_type=kind,
                       info=ImageInfo(kind, width, height), size=size)
    return replace(fetch, **changes)


def test_every_platform_gets_its_card_from_the_tags_it_reads() -> None:
    cards = build_previews(FULL, {IMG: _image()})
    assert set(cards) == {"facebook", "x", "linkedin", "pinterest", "slack", "discord", "whatsapp"}
    assert cards["facebook"] == rm.Preview(
        title="Ten jackets", description="Tested in the rain.", verdict="ok", notes=[],
        image=rm.PreviewImage(url=IMG, width=1200, height=630, bytes=40_000, type="image/png"),
    )
    assert cards["x"].title == "Ten jackets (X)" and cards["x"].description == "Tested in the rain."
    assert cards["slack"].title == "Ten jackets (X)", "Slack prefers X card tags"
    assert cards["linkedin"].title == "Ten jackets", "LinkedIn ignores twitter:*"
    assert {k: c.verdict for k, c in cards.items()} == dict.fromkeys(cards, "ok")
    assert any("cropped" in n for n in cards["pinterest"].notes), "Pinterest wants 2:3, only noted"


def test_missing_tags_fall_back_or_break() -> None:
    facts = PageFacts(title="Jackets | ACME")
    cards = build_previews(facts, {})
    assert cards["facebook"].title == "Jackets | ACME" and cards["facebook"].verdict == "degraded"
    assert "title taken from <title> (no og:title)" in cards["facebook"].notes
    assert cards["facebook"].notes[-1] == "no image" and cards["facebook"].image is None
    assert cards["x"].verdict == "broken" and cards["x"].title is None
    assert cards["x"].notes[:2] == ["no valid twitter:card: X shows a plain link, not a card",
                                    "no title X reads: it shows the bare URL"]


def test_image_problems_per_platform() -> None:
    tiny = build_previews(FULL, {IMG: _image(width=100, height=100)})
    assert {k: c.verdict for k, c in tiny.items()} == {
        "facebook": "broken", "x": "broken", "linkedin": "broken", "pinterest": "ok", "slack": "ok",
        "discord": "ok", "whatsapp": "ok",
    }
    assert "100x100 is below the 300x157 minimum: no image is shown" in tiny["x"].notes
    heavy = build_previews(FULL, {IMG: _image(size=700 * 1024)})
    assert heavy["whatsapp"].verdict == "degraded", "WhatsApp's 600 KB is a community figure: never 'broken'"
    assert heavy["facebook"].verdict == "ok"
    gone = build_previews(FULL, {IMG: ImageFetch(url=IMG, requested=IMG, status=404, error_kind="http-status",
                                                 error="answered HTTP 404")})
    assert {c.verdict for c in gone.values()} == {"broken"}
    assert gone["facebook"].notes == ["the image cannot be loaded: answered HTTP 404"]
    assert gone["facebook"].image == rm.PreviewImage(url=IMG)


def test_cards_without_fetched_images_say_so() -> None:
    cards = build_previews(FULL, None)
    assert cards["facebook"].image == rm.PreviewImage(url=IMG)
    assert cards["facebook"].verdict == "ok"
    assert "the image was not fetched (preview-image rules are turned off)" in cards["facebook"].notes


def test_x_uses_its_own_image_and_discord_shows_a_thumbnail_for_summary() -> None:
    own = "https://shop.example/img/x.png"
    facts = replace(FULL, twitter={"twitter:card": "summary", "twitter:title": "T", "twitter:image": own})
    cards = build_previews(facts, {IMG: _image(), own: _image(url=own, width=600, height=600)})
    assert cards["x"].image is not None and cards["x"].image.url == own and cards["x"].verdict == "ok"
    assert cards["facebook"].image is not None and cards["facebook"].image.url == IMG
    assert "shown as a small thumbnail: twitter:card is not summary_large_image" in cards["discord"].notes


def test_long_texts_are_noted_for_x() -> None:
    facts = replace(FULL, twitter={"twitter:card": "summary_large_image"}, open_graph={
        **FULL.open_graph, "og:title": "t" * 80, "og:description": "d" * 250})
    notes = build_previews(facts, {IMG: _image()})["x"].notes
    assert notes == ["title cut after 70 characters (80 given)", "description cut after 200 characters (250 given)"]


# -- through the pipeline ------------------------------------------------------------------------------

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Jackets</title>
<meta property="og:title" content="Ten jackets"><meta property="og:description" content="Tested in the rain.">
<meta property="og:image" content="{base}/img/share.png"><meta name="twitter:card" content="summary_large_image">
</head><body><a href="/b">b</a></body></html>"""


def _run(url: str, **config: Any) -> rm.Report:
    settings = AuditConfig(max_pages=config.pop("max_pages", 1), use_sitemaps=False, timeout=10, retries=0,
                           quiet=True, debug=True, **config)
    return asyncio.run(Audit(Target(url, url=url), settings).run())


def test_rules_and_cards_share_one_image_request(scripted_server) -> None:
    server = scripted_server({"/img/share.png": png(1200, 630)})
    server.routes["/"] = html(PAGE.format(base=server.base_url))
    server.routes["/b"] = html(PAGE.format(base=server.base_url))
    report = _run(server.url("/"), max_pages=2, select=["preview-image"])
    assert len(report.pages) == 2
    assert server.hits("/img/share.png") == 1, "five rules and two pages' cards: one request"
    card = report.pages[0].preview["facebook"]
    assert card.image == rm.PreviewImage(url=server.url("/img/share.png"), width=1200, height=630,
                                         bytes=len(png_bytes(1200, 630)), type="image/png")
    statuses = {f.rule: f.status for f in report.pages[0].findings}
    assert statuses == {"og-image-reachable": "pass", "og-image-type": "pass", "og-image-size": "pass",
                        "og-image-dimensions": "pass"}


def test_turning_preview_image_rules_off_fetches_no_image(scripted_server) -> None:
    server = scripted_server({"/img/share.png": png(1200, 630)})
    server.routes["/"] = html(PAGE.format(base=server.base_url))
    report = _run(server.url("/"), ignore=["preview-image"], select=["open-graph"])
    assert server.hits("/img/share.png") == 0
    assert report.pages[0].preview["facebook"].image == rm.PreviewImage(url=server.url("/img/share.png"))


def test_broken_images_show_in_the_cards(scripted_server) -> None:
    server = scripted_server({
        "/img/logo.svg": Reply(200, {"content-type": "image/svg+xml"}, svg(300, 300)),
        "/robots.txt": text("User-agent: *\nAllow: /\n"),
    })
    server.routes["/"] = html(PAGE.format(base=server.base_url).replace("/img/share.png", "/img/logo.svg"))
    report = _run(server.url("/"), select=["og-image-type"])
    cards = report.pages[0].preview
    assert {c.verdict for c in cards.values()} == {"broken"}
    assert cards["facebook"].image is not None and cards["facebook"].image.type == "image/svg+xml"
    assert cards["facebook"].notes == [
        "image/svg+xml is not accepted (accepts image/gif, image/jpeg, image/png, image/webp)"]


# -- golden previews of fixture pages ------------------------------------------------------------------

GOLDEN_PAGES = ("open_graph/full.html", "open_graph/bare.html", "link_preview/image-small.html",
                "link_preview/image-svg.html", "link_preview/image-placeholder-cdn.html")


@pytest.fixture(scope="module")
def fixture_site() -> Iterator[str]:
    with serve_folder(FIXTURES) as server:
        yield server.base_url.rstrip("/")


def _diff(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Every field that differs, with its JSON path: a failure names exactly what changed."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = [f"{path}.{k}: missing" for k in expected if k not in actual]
        out += [f"{path}.{k}: unexpected {actual[k]!r}" for k in actual if k not in expected]
        for key in expected.keys() & actual.keys():
            out += _diff(expected[key], actual[key], f"{path}.{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [d for i, (e, a) in enumerate(zip(expected, actual, strict=True)) for d in _diff(e, a, f"{path}[{i}]")]
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]


@pytest.mark.parametrize("page", GOLDEN_PAGES)
def test_golden_previews(page: str, fixture_site: str) -> None:
    report = _run(f"{fixture_site}/{page}", select=["preview-image"])
    audited = report.pages[0]
    actual = {
        "facts": {k: v for k, v in audited.facts.model_dump(mode="json").items()
                  if k in ("title", "canonical", "open_graph", "twitter")},
        "preview": {k: asdict(v) for k, v in audited.preview.items()},
        "findings": sorted([f.rule, f.status] for f in audited.findings),
    }
    golden = GOLDEN / (page.replace("/", "__").removesuffix(".html") + ".json")
    if os.environ.get("SMO_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(actual, indent=2, sort_keys=True) + "\n")
    expected = json.loads(golden.read_text())
    assert _diff(expected, actual) == []


# -- the rule docs quote the catalogue -------------------------------------------------------------


def test_rule_docs_quote_the_catalogue_limits() -> None:
    """The limits written in rule docs are the ones in platforms.toml: a change to one needs the other."""
    from smo_audit.engine.registry import load_rules

    rules = load_rules().by_id()

    def docs(rule_id: str) -> str:
        found = rules[rule_id].docs
        assert found is not None
        return found.what

    facebook, x, linkedin, pinterest = (platform(p) for p in ("facebook", "x", "linkedin", "pinterest"))
    assert facebook and x and linkedin and pinterest
    dimensions = docs("og-image-dimensions")
    for spec in (facebook.image, x.image_spec("summary"), x.image_spec("summary_large_image"), linkedin.image,
                 pinterest.image):
        for w, h in ((spec.min_width, spec.min_height), (spec.large_min_width, spec.large_min_height),
                     (spec.recommended_width, spec.recommended_height), (spec.max_width, spec.max_height)):
            if w and h:
                assert f"{w}x{h}" in dimensions, (w, h)
    sizes = docs("og-image-size")
    for p in (facebook, x, linkedin, pinterest):
        assert p.image.max_bytes is not None
        assert f"{p.name} {p.image.max_bytes // 2**20} MB" in sizes
    assert x.title_max == 70 and "70 characters" in docs("og-title-length")
    assert x.description_max == 200 and "200 characters" in docs("og-description-length")
    early = docs("tags-early-enough")
    assert facebook.html_read_limit == 2**20 and "first 1 MB" in early
    slack = platform("slack")
    assert slack is not None and slack.html_read_limit == 32 * 1024 and "first 32 KB" in early
