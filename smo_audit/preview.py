"""What each platform would show for a shared link: the resolved title, description and image.

Two halves:

* the fetch of a preview image (`fetch_image`), shared by the preview-image rules and the
  pipeline so that every distinct image URL is requested once, through the run's ResourceCache,
  bounded in bytes (the largest platform limit + 1) and time (the fetcher's limits);
* pure judging and building (`judge_image`, `build_previews`) over PageFacts and those fetches,
  which the report's `pages[].preview` and the rules both use, so a rule and a preview card can
  never disagree about the same image.

Production URLs and audited copies: when the audited page is not the production site (a build
folder served on 127.0.0.1, or a staging host audited with --base-url), image URLs on the
production site are fetched from the audited copy. That checks the image you are about to
deploy, not whatever is live, and keeps folder audits on loopback. Production is --base-url when
given (a local copy serves its path at the root, as the pipeline's folder rewrite does; a staging
host mirrors its paths); for pages served from a loopback host without --base-url it is the
origin of the page's canonical URL or og:url.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Literal, TypeAlias
from urllib.parse import urlsplit

from smo_audit.engine.resources import OFF_TARGET
from smo_audit.imageinfo import UNKNOWN, ImageInfo, image_info
from smo_audit.platforms import ImageSpec, Platform, image_fetch_limit, platforms, preview_platforms
from smo_audit.report import model as rm

if TYPE_CHECKING:
    from smo_audit.engine.api import PageContext
    from smo_audit.engine.resources import Resource, Resources
    from smo_audit.extract.facts import PageFacts

Level: TypeAlias = Literal["ok", "degraded", "broken"]
_RANK: dict[str, int] = {"ok": 0, "degraded": 1, "broken": 2}

# RFC 2606 / RFC 6761 names that never reach a real server: placeholder values left in templates.
PLACEHOLDER_TLDS = frozenset({"example", "invalid", "test"})
PLACEHOLDER_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
# Entries kept by the per-URL memos below. They pay off on the URLs a site repeats on every page
# (its origin, its share image, its navigation); the site rules then pass every page's own URLs
# through them once, which a larger memo would keep to the end (5 MB at 10,000 pages).
URL_MEMO = 1024


# -- URLs ----------------------------------------------------------------------------------------


@lru_cache(maxsize=URL_MEMO)
def is_absolute_http(url: str | None) -> bool:
    if not url:
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


@lru_cache(maxsize=URL_MEMO)
def url_origin(url: str | None) -> str | None:
    """scheme://host[:port], lower-cased, default ports dropped; None when not absolute http(s)."""
    if not is_absolute_http(url):
        return None
    assert url is not None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


@lru_cache(maxsize=URL_MEMO)
def host_of(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


@lru_cache(maxsize=8192)
def is_placeholder_host(host: str) -> bool:
    """A documentation/reserved name (RFC 2606): no crawler will ever fetch anything there."""
    host = host.lower().rstrip(".")
    if host.rsplit(".", 1)[-1] in PLACEHOLDER_TLDS:
        return True
    return any(host == d or host.endswith("." + d) for d in PLACEHOLDER_DOMAINS)


@lru_cache(maxsize=8192)
def is_local_host(host: str) -> bool:
    """Loopback, private, link-local or `localhost` names: reachable only from your own network."""
    host = host.lower().strip("[]").rstrip(".")
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified


@dataclass(frozen=True, slots=True)
class Production:
    """Where the production site's URLs live in the audited copy: (production, audited) prefixes."""

    prefixes: tuple[tuple[str, str], ...] = ()

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(o for o in (url_origin(p) for p, _ in self.prefixes) if o)

    def local(self, url: str) -> str:
        """`url` itself, or its audited copy when it is a production URL."""
        origin = url_origin(url)
        if origin is None or not self.prefixes:
            return url
        parts = urlsplit(url.strip())
        normal = origin + (parts.path or "/")
        query = f"?{parts.query}" if parts.query else ""
        for prefix, replacement in self.prefixes:
            if normal.startswith(prefix) or normal + "/" == prefix:
                return replacement + normal[len(prefix):] + query
        return url


NO_PRODUCTION = Production()


def production_for(page_url: str, facts: PageFacts, base_url: str | None) -> Production:
    """How production URLs map onto the audited copy of this page's site (see the module docs)."""
    return _production(page_url, facts.canonical, facts.open_graph.get("og:url"), base_url)


@lru_cache(maxsize=URL_MEMO)
def _production(page_url: str, canonical: str | None, og_url: str | None, base_url: str | None) -> Production:
    page_origin = url_origin(page_url)
    if page_origin is None:
        return NO_PRODUCTION
    local = is_local_host(host_of(page_url))
    if base_url:
        base_origin = url_origin(base_url)
        if base_origin is None or base_origin == page_origin:
            return NO_PRODUCTION
        base_path = (urlsplit(base_url).path or "/").rstrip("/") + "/"
        # A local copy (build folder, dev server) serves the base URL's path at its root; a
        # staging host mirrors production paths.
        return Production(((base_origin + base_path, page_origin + ("/" if local else base_path)),))
    if not local:
        return NO_PRODUCTION
    origins = dict.fromkeys(o for o in (url_origin(canonical), url_origin(og_url)) if o and o != page_origin)
    return Production(tuple((o + "/", page_origin + "/") for o in origins))


def production_origins(page_url: str, facts: PageFacts, base_url: str | None) -> frozenset[str]:
    """The production origins whose URLs are fetched from the audited copy."""
    return production_for(page_url, facts, base_url).origins


def audited_copy(url: str, production: Production) -> str:
    """`url` itself, or the same page or file in the audited copy when `url` is a production URL."""
    return production.local(url)


# -- fetching an image ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageFetch:
    """A preview image as fetched (or why it was not), with what its bytes say."""

    url: str  # as the page declares it
    requested: str | None = None  # what was requested (the audited copy of a production URL)
    status: int | None = None
    final_url: str | None = None
    redirects: tuple[str, ...] = ()
    content_type: str = ""  # the Content-Type header's media type
    info: ImageInfo = UNKNOWN  # type and size read from the bytes
    size: int | None = None  # bytes, when the whole body was read
    over_limit: int | None = None  # the body is larger than this many bytes (not read to the end)
    error_kind: str | None = None  # placeholder-host | local-host | not-absolute | http-status | timeout | dns ...
    error: str | None = None
    thumbnail: str | None = None  # data: URI of the whole image, when it is a small raster image


    @property
    def fetched(self) -> bool:
        return self.requested is not None

    @property
    def reachable(self) -> bool:
        """It answered 2xx after redirects (a body over the read limit still answered)."""
        return (self.status is not None and 200 <= self.status < 300
                and self.error_kind in (None, "too-large"))

    @property
    def media_type(self) -> str:
        """What the bytes are; the header's type when the bytes say nothing."""
        return self.info.type or self.content_type

    @property
    def mapped(self) -> bool:
        return self.requested is not None and self.requested != self.url

    def preview_image(self) -> rm.PreviewImage:
        return rm.PreviewImage(
            url=self.url, width=self.info.width, height=self.info.height, bytes=self.size,
            type=self.media_type or None,
        )


def not_fetched(url: str, kind: str, message: str) -> ImageFetch:
    return ImageFetch(url=url, error_kind=kind, error=message)


async def fetch_image(resources: Resources, url: str, *, page_url: str,
                      production: Production = NO_PRODUCTION) -> ImageFetch:
    """Fetch a preview image once per distinct URL (cached), bounded; never raises.

    Placeholder hosts (.example, .invalid, .test, example.com) and local hosts named by a public
    page are reported without a request: no platform can fetch them, and an audit must not
    pretend otherwise by fetching them from the auditor's own machine.
    """
    url = url.strip()
    if not is_absolute_http(url):
        return not_fetched(url, "not-absolute", f"{url[:200]!r} is not an absolute http(s) URL")
    target = production.local(url)
    host = host_of(target)
    if target == url and is_placeholder_host(host):
        return not_fetched(url, "placeholder-host",
                           f"{host} is a reserved placeholder name (RFC 2606): no platform can fetch it")
    if is_local_host(host) and not is_local_host(host_of(page_url)):
        return not_fetched(url, "local-host",
                           f"{host} is a local address: social platforms cannot reach it from the internet")
    limit = image_fetch_limit()
    resource = await resources.fetch(target, max_bytes=limit)
    known = _IMAGE_FETCHES.get((url, target))
    if known is not None and known[0] is resource:
        return known[1]  # the same fetch judged for another page or rule: no header parse, no base64
    fetch = _image_fetch(url, target, resource, limit)
    if len(_IMAGE_FETCHES) >= IMAGE_FETCH_MEMO:
        _IMAGE_FETCHES.clear()
    _IMAGE_FETCHES[(url, target)] = (resource, fetch)
    return fetch


# (page's image URL, URL requested) -> the Resource it was made from and the ImageFetch made. A
# site's pages share a few images and each page asks for its image several times (its rules and
# its preview cards): the cache of resources answers with the same Resource object, and while it
# does the ImageFetch made from it is the same too. Few entries: each holds its Resource's bytes.
IMAGE_FETCH_MEMO = 64
_IMAGE_FETCHES: dict[tuple[str, str], tuple[Resource, ImageFetch]] = {}


def _image_fetch(url: str, target: str, resource: Resource, limit: int) -> ImageFetch:
    base = ImageFetch(url=url, requested=target, status=resource.status, final_url=resource.final_url,
                      redirects=resource.redirects, content_type=resource.content_type)
    if resource.error_kind == "too-large":
        return replace(base, over_limit=limit - 1, error_kind="too-large",
                       error=f"larger than {limit - 1:,} bytes (not read further)")
    if resource.error_kind is not None:
        return replace(base, error_kind=resource.error_kind, error=resource.error or resource.error_kind)
    if resource.status is None or not 200 <= resource.status < 300:
        return replace(base, error_kind="http-status", error=f"answered HTTP {resource.status}")
    info = image_info(resource.head)
    return replace(base, info=info, size=resource.size,
                   thumbnail=thumbnail_uri(info.type, resource.head, resource.size))


THUMBNAIL_MAX_BYTES = 48 * 1024  # a preview image this small is shown as itself in the HTML report
THUMBNAIL_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def thumbnail_uri(media_type: str, head: bytes, size: int | None) -> str | None:
    """The image as a data: URI, when its bytes (not its header) say it is a small raster image.

    Only whole bodies qualify (`size` is known and the head holds all of it), and never SVG:
    the HTML report draws these as CSS backgrounds, and an SVG is a document, not a picture.
    """
    if media_type not in THUMBNAIL_TYPES or size is None or size > THUMBNAIL_MAX_BYTES or len(head) != size:
        return None
    return f"data:{media_type};base64,{base64.b64encode(head).decode('ascii')}"


class Thumbnails:
    """The small preview images of an audit, for the HTML report's cards (`Report.thumbnails`).

    Bounded in count and bytes so a 10,000-page site with a different og:image per page still
    writes a report of reasonable size and keeps memory flat: the first images seen are kept.
    """

    def __init__(self, max_images: int = 60, max_chars: int = 2 * 1024 * 1024) -> None:
        self._images: dict[str, str] = {}
        self._chars = 0
        self._max_images = max_images
        self._max_chars = max_chars

    def add(self, url: str, fetch: ImageFetch) -> None:
        uri = fetch.thumbnail
        if uri is None or url in self._images or len(self._images) >= self._max_images:
            return
        if self._chars + len(uri) > self._max_chars:
            return
        self._images[url] = uri
        self._chars += len(uri)

    def as_dict(self) -> dict[str, str]:
        return dict(self._images)


def first_value(facts: PageFacts, *keys: str) -> str | None:
    """The first non-empty value among og:/twitter: keys of the page."""
    for key in keys:
        table = facts.twitter if key.startswith("twitter:") else facts.open_graph
        value = (table.get(key) or "").strip()
        if value:
            return value
    return None


def og_image_url(facts: PageFacts) -> str | None:
    return first_value(facts, "og:image", "og:image:url", "og:image:secure_url")


def x_image_url(facts: PageFacts) -> str | None:
    return first_value(facts, "twitter:image", "twitter:image:src")


async def page_og_image(ctx: PageContext) -> ImageFetch | None:
    """The page's og:image as fetched (None when the page declares none). For rules."""
    url = og_image_url(ctx.facts)
    if url is None:
        return None
    production = production_for(ctx.final_url, ctx.facts, ctx.settings.base_url)
    return await fetch_image(ctx.resources, url, page_url=ctx.final_url, production=production)


# -- judging an image against a platform ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Judgement:
    level: Level
    notes: tuple[str, ...] = ()

    def __add__(self, other: Judgement) -> Judgement:
        level = self.level if _RANK[self.level] >= _RANK[other.level] else other.level
        return Judgement(level, self.notes + other.notes)


OK = Judgement("ok")


def worst(levels: Iterable[str]) -> Level:
    result: Level = "ok"
    for level in levels:
        if _RANK[level] > _RANK[result]:
            result = level  # type: ignore[assignment]
    return result


def _soften(level: Level, spec: ImageSpec) -> Level:
    """Low-confidence limits never break a preview, they only degrade it."""
    return "degraded" if level == "broken" and spec.confidence == "low" else level


def _kb(size: int) -> str:
    return f"{size / 1024:,.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:,.1f} MB"


def judge_reachable(fetch: ImageFetch) -> Judgement:
    if fetch.reachable:
        return OK
    return Judgement("broken", (f"the image cannot be loaded: {fetch.error}",))


def judge_type(spec: ImageSpec, fetch: ImageFetch) -> Judgement:
    media = fetch.media_type
    if not fetch.info.known:
        what = f"served as {fetch.content_type}" if fetch.content_type else "of unknown type"
        return Judgement("broken", (f"the file is not an image the platform can read ({what})",))
    if spec.types and media not in spec.types:
        # A format no platform lists (SVG, AVIF) is broken everywhere, whatever the confidence.
        level = _soften("broken", spec) if media in _accepted_anywhere() else "broken"
        return Judgement(level, (f"{media} is not accepted (accepts {', '.join(sorted(spec.types))})",))
    return OK


@cache
def _accepted_anywhere() -> frozenset[str]:
    return frozenset(t for p in platforms() for t in p.image.types)


def judge_bytes(spec: ImageSpec, fetch: ImageFetch) -> Judgement:
    size = fetch.size
    over = fetch.over_limit
    if spec.max_bytes is not None and (
        (size is not None and size > spec.max_bytes) or (over is not None and over >= spec.max_bytes)
    ):
        shown = _kb(size) if size is not None else f"over {_kb(over or 0)}"
        return Judgement(_soften("broken", spec), (f"the image is {shown}, over the {_kb(spec.max_bytes)} limit",))
    if over is not None and spec.max_bytes is None:
        return OK
    if spec.warn_bytes is not None and size is not None and size > spec.warn_bytes:
        return Judgement("degraded", (f"the image is {_kb(size)}; above {_kb(spec.warn_bytes)} it may not be shown",))
    return OK


def judge_dimensions(spec: ImageSpec, width: int, height: int) -> Judgement:
    if spec.min_width and spec.min_height and (width < spec.min_width or height < spec.min_height):
        return Judgement(_soften("broken", spec),
                         (f"{width}x{height} is below the {spec.min_width}x{spec.min_height} minimum: no image is shown",))
    if spec.max_width and spec.max_height and (width > spec.max_width or height > spec.max_height):
        return Judgement(_soften("broken", spec),
                         (f"{width}x{height} is over the {spec.max_width}x{spec.max_height} maximum",))
    result = OK
    if spec.large_min_width and spec.large_min_height and (
        width < spec.large_min_width or height < spec.large_min_height
    ):
        result += Judgement("degraded", (
            f"{width}x{height} is below {spec.large_min_width}x{spec.large_min_height}: shown as a small thumbnail",))
    elif spec.recommended_width and spec.recommended_height and spec.aspect_matches(width, height) and (
        width < spec.recommended_width or height < spec.recommended_height
    ):
        result += Judgement("ok", (
            f"{width}x{height} is below the recommended {spec.recommended_width}x{spec.recommended_height}"
            " (blurry on high-density screens)",))
    if not spec.aspect_matches(width, height):
        level: Level = "degraded" if spec.aspect_effect == "degraded" else "ok"
        result += Judgement(level, (f"aspect {width / height:.2f}:1 differs from the recommended "
                                    f"{spec.aspect:.2f}:1: the picture is cropped",))
    return result


def judge_image(spec: ImageSpec, fetch: ImageFetch) -> Judgement:
    """Everything about one image for one platform: reachable, type, bytes, pixel size."""
    reach = judge_reachable(fetch)
    if reach.level != "ok":
        return reach
    if fetch.over_limit is not None:  # only its size is known: the body was not read
        return judge_bytes(spec, fetch) + Judgement("ok", ("format and pixel size not read (file over the read limit)",))
    result = judge_type(spec, fetch) + judge_bytes(spec, fetch)
    if fetch.info.has_size and fetch.info.type != "image/svg+xml":
        assert fetch.info.width is not None and fetch.info.height is not None
        result += judge_dimensions(spec, fetch.info.width, fetch.info.height)
    elif fetch.info.known and fetch.info.type != "image/svg+xml":
        result += Judgement("ok", ("the pixel size could not be read from the file header",))
    return result


# -- building the per-platform previews ----------------------------------------------------------

_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "title": {"og": ("og:title",), "twitter": ("twitter:title",)},
    "description": {"og": ("og:description",), "twitter": ("twitter:description",)},
    "image": {"og": ("og:image", "og:image:url", "og:image:secure_url"),
              "twitter": ("twitter:image", "twitter:image:src")},
}
_FAMILY = {"og": "Open Graph", "twitter": "X card", "html": "HTML"}


def resolve_field(facts: PageFacts, platform: Platform, name: str) -> tuple[str | None, str | None]:
    """(value, family it came from) following the platform's order of preference."""
    for family in platform.reads:
        if family == "html":
            value = {"title": facts.title, "description": facts.description}.get(name)
            if value and value.strip():
                return value.strip(), family
            continue
        keys = _FIELDS[name].get(family, ())
        value = first_value(facts, *keys) if keys else None
        if value:
            return value, family
    return None, None


def card_type(facts: PageFacts) -> str | None:
    value = (facts.twitter.get("twitter:card") or "").strip().lower()
    return value or None


def build_preview(platform: Platform, facts: PageFacts, images: Mapping[str, ImageFetch] | None) -> rm.Preview:
    """One platform's card: pure, over facts and the already-fetched images."""
    notes: list[str] = []
    verdict: Level = "ok"
    title, title_from = resolve_field(facts, platform, "title")
    description, _ = resolve_field(facts, platform, "description")
    image_url, _ = resolve_field(facts, platform, "image")
    card = card_type(facts)
    spec = platform.image_spec(card)
    if platform.card_types and (card is None or card not in platform.card_types):
        verdict = "broken"
        notes.append(f"no valid twitter:card: {platform.name} shows a plain link, not a card")
    if title is None:
        verdict = "broken"
        notes.append(f"no title {platform.name} reads: it shows the bare URL")
    elif title_from == "html":
        notes.append("title taken from <title> (no og:title)")
    if title and platform.title_max and len(title) > platform.title_max:
        notes.append(f"title cut after {platform.title_max} characters ({len(title)} given)")
    if description is None:
        verdict = worst((verdict, "degraded"))
        notes.append("no description")
    elif platform.description_max and len(description) > platform.description_max:
        notes.append(f"description cut after {platform.description_max} characters ({len(description)} given)")
    image: rm.PreviewImage | None = None
    if image_url is None:
        verdict = worst((verdict, "degraded"))
        notes.append("no image")
    else:
        fetch = images.get(image_url) if images is not None else None
        if fetch is None:
            image = rm.PreviewImage(url=image_url)
            notes.append("the image was not fetched (preview-image rules are turned off)")
        elif fetch.error_kind == OFF_TARGET:
            image = rm.PreviewImage(url=image_url)
            notes.append(f"the image was {fetch.error}")
        else:
            image = fetch.preview_image()
            judged = judge_image(spec, fetch)
            verdict = worst((verdict, judged.level))
            notes.extend(judged.notes)
            if fetch.redirects:
                notes.append(f"the image URL redirects ({len(fetch.redirects)} hop(s))")
    if platform.id == "discord" and image_url is not None and card != "summary_large_image":
        notes.append("shown as a small thumbnail: twitter:card is not summary_large_image")
    return rm.Preview(title=title, description=description, image=image, verdict=verdict, notes=notes)


def build_previews(facts: PageFacts, images: Mapping[str, ImageFetch] | None,
                   platforms: Iterable[Platform] | None = None) -> dict[str, rm.Preview]:
    """Every preview platform's card for one page (`pages[].preview`)."""
    chosen = preview_platforms() if platforms is None else tuple(platforms)
    return {p.id: build_preview(p, facts, images) for p in chosen}


def preview_image_urls(facts: PageFacts, platforms: Iterable[Platform] | None = None) -> list[str]:
    """The distinct image URLs the previews need (og:image, twitter:image)."""
    chosen = preview_platforms() if platforms is None else tuple(platforms)
    urls = [resolve_field(facts, p, "image")[0] for p in chosen]
    return list(dict.fromkeys(u for u in urls if u))


async def page_previews(facts: PageFacts, page_url: str, *, base_url: str | None,
                        resources: Resources | None,
                        thumbnails: Callable[[str, ImageFetch], None] | None = None) -> dict[str, rm.Preview]:
    """Fetch the page's preview images (once each, cached) and build every platform's card.

    `resources=None` builds the cards from the tags alone (no request is made). Small images
    fetched on the way are offered to `thumbnails` (e.g. `Thumbnails.add`).
    """
    images: dict[str, ImageFetch] | None = None
    if resources is not None:
        production = production_for(page_url, facts, base_url)
        images = {}
        for url in preview_image_urls(facts):
            images[url] = fetch = await fetch_image(resources, url, page_url=page_url, production=production)
            if thumbnails is not None:
                thumbnails(url, fetch)
    return build_previews(facts, images)
