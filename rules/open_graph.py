"""Open Graph: the tags Facebook, LinkedIn, Slack, WhatsApp, Discord and most others read first."""

from __future__ import annotations

import re

from smo_audit.engine.api import Option, Outcome, PageContext, failed, page_rule, passed, warned
from smo_audit.extract.facts import MetaTag
from smo_audit.extract.urlmatch import split_url
from smo_audit.platforms import platforms
from smo_audit.preview import resolve_field

from ._hosts import PREVIEW_HOSTS, STAGING_HOSTS, off_production
from ._tags import meta_evidence, metas, non_empty, plural


def _tag(key: str, value: str) -> str:
    return f'<meta property="{key}" content="{value[:200]}">'


def _required_text(ctx: PageContext, key: str, what: str) -> Outcome:
    values = ctx.doc.meta_values(key)
    non_empty = [v for v in values if v.strip()]
    if not non_empty:
        if values:
            return failed(f"{key} is empty: shares of this page show no {what}", _tag(key, ""))
        return failed(f"{key} is missing: platforms will guess the {what} from the page or show none")
    return passed(f"{key} is set", _tag(key, non_empty[0]))


@page_rule(id="og-title", title="Open Graph title", category="open-graph", severity="error", weight=3)
def og_title(ctx: PageContext) -> Outcome:
    """
    ## What it checks
    The page has a non-empty `og:title` meta tag.

    ## Why it matters
    `og:title` is the headline of every link preview on Facebook, LinkedIn, Slack, WhatsApp and
    Discord. Without it each platform guesses from `<title>` (often with the site name glued on)
    or shows the bare URL.

    ## Failing example
    ```html
    <head><title>Home | ACME</title></head>
    ```

    ## Passing example
    ```html
    <meta property="og:title" content="Spring collection: ten jackets for rainy days">
    ```

    ## How to fix
    Add `<meta property="og:title" content="...">` to the `<head>` of every page, written as a
    headline for that page (not the site name).

    ## References
    - https://ogp.me/#metadata
    - https://developers.facebook.com/docs/sharing/webmasters/
    """
    return _required_text(ctx, "og:title", "title")


@page_rule(id="og-description", title="Open Graph description", category="open-graph", severity="warning", weight=2)
def og_description(ctx: PageContext) -> Outcome:
    """
    ## What it checks
    The page has a non-empty `og:description` meta tag.

    ## Why it matters
    The description is the line under the headline in a preview card. Without it platforms pull
    a random sentence from the page (cookie banners, navigation) or show nothing.

    ## Failing example
    ```html
    <meta property="og:title" content="Spring collection">
    ```

    ## Passing example
    ```html
    <meta property="og:description" content="Ten waterproof jackets tested in real Scottish rain.">
    ```

    ## How to fix
    Add `<meta property="og:description" content="...">` with one or two sentences that make
    someone want to click.

    ## References
    - https://ogp.me/#optional
    """
    return _required_text(ctx, "og:description", "description")


# Structured properties that the protocol also types as URLs.
_OTHER_URL_KEYS = ("og:image:url", "og:image:secure_url", "og:video", "og:video:url", "og:video:secure_url",
                   "og:audio", "og:audio:url", "og:audio:secure_url")


@page_rule(id="og-image", title="Open Graph image", category="open-graph", severity="error", weight=3)
def og_image(ctx: PageContext) -> Outcome:
    """
    ## What it checks
    The page has an `og:image` meta tag whose value is an absolute http(s) URL; the other
    URL-typed properties (`og:image:secure_url`, `og:image:url`, `og:video`, `og:audio` and
    their `:url`/`:secure_url` forms), when present, must be absolute too (a warning).

    ## Why it matters
    The picture is the biggest part of a preview card; links without one get a small grey box or
    no card at all and are clicked far less. Crawlers do not resolve relative URLs reliably:
    Facebook and LinkedIn drop an `og:image` such as `/img/share.png`.

    ## Failing example
    ```html
    <meta property="og:image" content="/img/share.png">
    ```

    ## Passing example
    ```html
    <meta property="og:image" content="https://example.com/img/share.png">
    ```

    ## How to fix
    Add `<meta property="og:image" content="https://...">` with the full URL (scheme and host)
    of a 1200x630 JPEG or PNG.

    ## References
    - https://ogp.me/#structured
    - https://developers.facebook.com/docs/sharing/webmasters/images/
    """
    values = [v.strip() for v in ctx.doc.meta_values("og:image") if v.strip()]
    if not values:
        return failed("og:image is missing: shares of this page show no picture")
    value = values[0]
    parts = split_url(value)
    if parts.scheme in ("http", "https") and parts.netloc:
        relative = [(key, v) for key in _OTHER_URL_KEYS for v in non_empty(ctx.doc.meta_values(key))
                    if split_url(v).scheme not in ("http", "https") or not split_url(v).netloc]
        if relative:
            keys = ", ".join(dict.fromkeys(key for key, _ in relative))
            return warned(f"og:image is an absolute URL, but {keys} is not", *[_tag(k, v) for k, v in relative[:4]])
        return passed("og:image is an absolute URL", _tag("og:image", value))
    if value.startswith("//"):
        return warned("og:image is protocol-relative: write the scheme (https:) explicitly", _tag("og:image", value))
    return failed("og:image is not an absolute http(s) URL: most platforms will show no picture", _tag("og:image", value))


@page_rule(id="og-url", title="Open Graph URL", category="open-graph", severity="warning", weight=2,
           options={
               "staging_hosts": Option(list(STAGING_HOSTS), "Host patterns (shell globs) of staging servers: an "
                                       "og:url there fails unless it is the production host."),
               "preview_hosts": Option(list(PREVIEW_HOSTS), "Host patterns of preview deployments: an og:url "
                                       "there fails when the production host is known and differs."),
           })
def og_url(ctx: PageContext) -> Outcome:
    """
    ## What it checks
    The page has an `og:url` meta tag holding an absolute http(s) URL on the production host:
    not localhost or a private address (other than a local dev server audited
    as the site itself, with no production host known), not a staging host (`staging.*`, `dev.*`, ...), and, when the
    production host is known (`--base-url`, or the live site being audited), not a hosting
    provider's preview domain (`*.vercel.app`, ...).

    ## Why it matters
    `og:url` is the address platforms count likes and shares against and the link a preview
    opens. Without it, shares of `?utm_source=...` variants of the same page are counted apart.

    ## Failing example
    ```html
    <meta property="og:url" content="/blog/post">
    ```

    ## Passing example
    ```html
    <meta property="og:url" content="https://example.com/blog/post">
    ```

    ## How to fix
    Add `<meta property="og:url" content="https://...">` with the page's canonical address,
    the same URL as `<link rel="canonical">`, built from the production base URL (Hugo
    `baseURL`, Jekyll `url`, Next.js `metadataBase`).

    ## Options
    `staging_hosts` and `preview_hosts`: the host patterns judged as not production.

    ## References
    - https://ogp.me/#metadata
    """
    values = [v.strip() for v in ctx.doc.meta_values("og:url") if v.strip()]
    if not values:
        return failed("og:url is missing: shares of URL variants are counted separately")
    parts = split_url(values[0])
    if parts.scheme in ("http", "https") and parts.netloc:
        wrong = off_production(values[0], ctx, ctx.options.get("staging_hosts", STAGING_HOSTS),
                               ctx.options.get("preview_hosts", PREVIEW_HOSTS))
        if wrong:
            return failed(f"og:url points at {wrong}: shares open a server your readers cannot use",
                          _tag("og:url", values[0]))
        return passed("og:url is an absolute URL", _tag("og:url", values[0]))
    return failed("og:url is not an absolute http(s) URL", _tag("og:url", values[0]))


# -- recommended tags --------------------------------------------------------------------------

# Object types defined by the Open Graph protocol (ogp.me) plus Facebook's `product`.
OG_TYPES = frozenset({
    "website", "article", "book", "profile", "product", "video.movie", "video.episode",
    "video.tv_show", "video.other", "music.song", "music.album", "music.playlist",
    "music.radio_station", "product.group", "product.item", "place", "business.business",
})
_LOCALE = re.compile(r"^[a-z]{2,3}_[A-Z]{2}$")
_NEAR_LOCALE = re.compile(r"^([a-zA-Z]{2,3})[-_]([a-zA-Z]{2})$")


@page_rule(id="og-type", title="Open Graph type", category="open-graph", severity="warning", weight=1)
def og_type(ctx: PageContext) -> Outcome:
    """
    ## What it checks
    The page declares `og:type` with a type the Open Graph protocol defines (`website`,
    `article`, `book`, `profile`, `video.*`, `music.*`, plus Facebook's `product`).

    ## Why it matters
    The type tells platforms what kind of thing is shared: an `article` carries
    `article:published_time` and author, a `product` its price. Without it Facebook assumes
    `website`; an unknown value makes its Sharing Debugger report an error and the extra
    properties are ignored.

    ## Failing example
    ```html
    <meta property="og:type" content="blogpost">
    ```

    ## Passing example
    ```html
    <meta property="og:type" content="article">
    ```

    ## How to fix
    Use `website` for the home page and section pages, `article` for posts and news, `product`
    for product pages.

    ## References
    - https://ogp.me/#types
    - https://developers.facebook.com/docs/sharing/webmasters/#basic
    """
    values = non_empty(ctx.doc.meta_values("og:type"))
    if not values:
        return warned("og:type is missing: platforms assume `website`")
    value = values[0]
    if value.lower() not in OG_TYPES:
        return warned(f"og:type {value[:60]!r} is not a type the Open Graph protocol defines", _tag("og:type", value))
    return passed(f"og:type is {value.lower()}", _tag("og:type", value))


@page_rule(id="og-site-name", title="Open Graph site name", category="open-graph", severity="warning", weight=1)
def og_site_name(ctx: PageContext) -> Outcome:
    """
    ## What it checks
    The page declares a non-empty `og:site_name`.

    ## Why it matters
    Facebook, LinkedIn, Slack and Discord print the site name above or below the headline, so a
    reader knows whose page they are about to open. Without it they print the bare domain.

    ## Failing example
    ```html
    <meta property="og:title" content="Spring collection">
    ```

    ## Passing example
    ```html
    <meta property="og:site_name" content="ACME Outdoor">
    ```

    ## How to fix
    Add `<meta property="og:site_name" content="Your brand">` to every page's `<head>`.

    ## References
    - https://ogp.me/#optional
    """
    values = non_empty(ctx.doc.meta_values("og:site_name"))
    if not values:
        return warned("og:site_name is missing: previews show the bare domain instead of your brand")
    return passed(f"og:site_name is {values[0][:80]!r}", _tag("og:site_name", values[0]))


@page_rule(id="og-locale", title="Open Graph locale", category="open-graph", severity="warning", weight=1)
def og_locale(ctx: PageContext) -> Outcome:
    """
    ## What it checks
    The page declares `og:locale` in the protocol's `language_TERRITORY` form (`en_GB`,
    `pt_BR`).

    ## Why it matters
    The Open Graph default is `en_US`: a French page without `og:locale` is announced as
    American English, and Facebook's translations and locale-specific previews
    (`og:locale:alternate`) key on this value. A hyphen (`en-GB`, the HTML `lang` form) is not
    recognised.

    ## Failing example
    ```html
    <meta property="og:locale" content="en-GB">
    ```

    ## Passing example
    ```html
    <meta property="og:locale" content="en_GB">
    ```

    ## How to fix
    Add `<meta property="og:locale" content="en_GB">` matching the page's language, with an
    underscore.

    ## References
    - https://ogp.me/#optional
    - https://developers.facebook.com/docs/sharing/webmasters/localization/
    """
    values = non_empty(ctx.doc.meta_values("og:locale"))
    if not values:
        hint = f" (the page's lang is {ctx.facts.lang!r})" if ctx.facts.lang else ""
        return warned(f"og:locale is missing: platforms assume en_US{hint}")
    value = values[0]
    if not _LOCALE.match(value):
        near = _NEAR_LOCALE.match(value)
        if near:
            fixed = f"{near.group(1).lower()}_{near.group(2).upper()}"
            return warned(f"og:locale {value!r} should be written {fixed}", _tag("og:locale", value))
        return warned(f"og:locale {value[:40]!r} is not in language_TERRITORY form (e.g. en_GB)", _tag("og:locale", value))
    return passed(f"og:locale is {value}", _tag("og:locale", value))


@page_rule(id="og-image-alt", title="Preview image alt text", category="open-graph", severity="warning", weight=1)
def og_image_alt(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    A page with an `og:image` also describes it in `og:image:alt` (or, for X, `twitter:image:alt`).

    ## Why it matters
    Screen-reader users hear the alt text of the preview picture in their timeline; without it
    the card's main element is announced as "image" or skipped. X limits it to 420 characters.

    ## Failing example
    ```html
    <meta property="og:image" content="https://example.com/share.png">
    ```

    ## Passing example
    ```html
    <meta property="og:image" content="https://example.com/share.png">
    <meta property="og:image:alt" content="Three hikers in yellow jackets on a rainy ridge">
    ```

    ## How to fix
    Add `<meta property="og:image:alt" content="...">` right after `og:image`, describing what
    the picture shows (not "image" or the page title).

    ## References
    - https://ogp.me/#structured
    - https://developer.x.com/en/docs/x-for-websites/cards/overview/markup
    """
    if not non_empty(ctx.doc.meta_values("og:image")):
        return None
    alt = non_empty(ctx.doc.meta_values("og:image:alt"))
    if alt:
        if len(alt[0]) > 420:
            return warned(f"og:image:alt is {len(alt[0])} characters: X cuts it at 420", _tag("og:image:alt", alt[0]))
        return passed("og:image:alt describes the preview image", _tag("og:image:alt", alt[0]))
    twitter_alt = non_empty(ctx.doc.meta_values("twitter:image:alt"))
    if twitter_alt:
        return warned("only twitter:image:alt is set: Facebook, LinkedIn and others read og:image:alt",
                      _tag("twitter:image:alt", twitter_alt[0]))
    return warned("og:image has no og:image:alt: screen-reader users get no description of the picture")


# -- structure: duplicates and placement ---------------------------------------------------------

# Keys that take one value; repeating og:image (an array) or og:locale:alternate is allowed.
SINGLE_VALUED = (
    "og:title", "og:description", "og:url", "og:type", "og:site_name", "og:locale", "og:determiner",
    "twitter:card", "twitter:title", "twitter:description", "twitter:site", "twitter:creator",
)


@page_rule(id="og-duplicates", title="Conflicting duplicate tags", category="open-graph", severity="warning", weight=2)
def og_duplicates(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Single-valued Open Graph and X card tags (`og:title`, `og:description`, `og:url`, `og:type`,
    `og:site_name`, `og:locale`, `twitter:card`, `twitter:title`, ...) appear once, or repeat
    with the same value. Repeated `og:image` tags are an array and allowed.

    ## Why it matters
    When a theme and an SEO plugin both write `og:title`, each platform picks one of them, and
    not the same one: Facebook takes the first, others the last. The preview then depends on
    where the link is shared.

    ## Failing example
    ```html
    <meta property="og:title" content="Home">
    <meta property="og:title" content="Spring collection: ten jackets for rainy days">
    ```

    ## Passing example
    ```html
    <meta property="og:title" content="Spring collection: ten jackets for rainy days">
    ```

    ## How to fix
    Find the second source of tags (a theme's header template, an SEO plugin, a tag manager)
    and switch one of them off, so each tag is written once.

    ## References
    - https://ogp.me/#array
    - https://developers.facebook.com/tools/debug/
    """
    tags = metas(ctx.doc)
    if not tags:
        return None
    by_key: dict[str, list[MetaTag]] = {}
    for meta in tags:
        if meta.key in SINGLE_VALUED:
            by_key.setdefault(meta.key, []).append(meta)
    if not by_key:
        return None  # only array-valued tags (og:image...): nothing that could conflict
    conflicts = {key: found for key, found in by_key.items() if len({m.content.strip() for m in found}) > 1}
    if conflicts:
        evidence = [meta_evidence(m) for found in conflicts.values() for m in found][:12]
        keys = ", ".join(conflicts)
        return failed(f"conflicting values for {keys}: platforms pick different ones", *evidence,
                      data={"keys": sorted(conflicts)})
    repeated = [key for key, found in by_key.items() if len(found) > 1]
    if repeated:
        return passed(f"{', '.join(repeated)} repeated with the same value (harmless)")
    return passed("every single-valued tag appears once")


@page_rule(id="og-in-head", title="Tags inside <head>", category="open-graph", severity="warning", weight=2)
def og_in_head(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Every `og:` and `twitter:` meta tag sits inside `<head>`.

    ## Why it matters
    Crawlers look for preview tags in the head; many stop reading at `<body>`. A `<meta>` after
    visible content (often printed by a page builder block or a plugin into the body, or pushed
    there because an element before it closed `<head>` early) is ignored by them.

    ## Failing example
    ```html
    <body><h1>Post</h1><meta property="og:image" content="https://example.com/a.png"></body>
    ```

    ## Passing example
    ```html
    <head><meta property="og:image" content="https://example.com/a.png"></head>
    ```

    ## How to fix
    Move the tags into the `<head>` template. If they are already there in your source, look for
    an element the HTML parser does not allow in the head (a `<div>`, `<img>` or text) placed
    before them: it ends the head early.

    ## References
    - https://html.spec.whatwg.org/multipage/parsing.html#parsing-main-inhead
    - https://ogp.me/#metadata
    """
    tags = metas(ctx.doc)
    if not tags:
        return None
    outside = [m for m in tags if not m.in_head]
    if outside:
        keys = ", ".join(dict.fromkeys(m.key for m in outside))
        return warned(f"{plural(len(outside), 'tag')} outside <head> ({keys}): many crawlers never see them",
                      *[meta_evidence(m) for m in outside[:10]])
    return passed(f"all {plural(len(tags), 'preview tag')} are inside <head>")


# -- length guidance -----------------------------------------------------------------------------


def _text_limits(ctx: PageContext, field: str) -> list[tuple[int, str]]:
    """(limit, platform name) for the platforms that document a cut-off for `field`.

    Every documented cut-off applies, also where that platform shows `twitter:<field>` instead:
    it is the only published measure of how much fits, and the platforms that document none cut
    long texts too. (A page once passed a 465-character og:description because it also set
    twitter:description.) The name says when that platform reads another tag."""
    out: list[tuple[int, str]] = []
    for p in platforms():
        limit = p.title_max if field == "title" else p.description_max
        if limit:
            shown = resolve_field(ctx.facts, p, field)[1]
            name = p.name if shown in ("og", None) else f"{p.name}'s documented limit"
            out.append((int(limit), name))
    return sorted(out)


@page_rule(
    id="og-title-length",
    title="Preview title length",
    category="open-graph",
    severity="warning",
    weight=1,
    options={
        "min_length": Option(10, "Titles shorter than this many characters are reported as too short."),
        "max_length": Option(0, "Report titles longer than this; 0 uses the platforms' documented cut-offs."),
    },
)
def og_title_length(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    `og:title` is long enough to say something and short enough to be shown whole. The upper
    bound is the shortest documented cut-off among the platforms in the catalogue
    (rules/catalogue/platforms.toml): X shows at most 70 characters of a card title (documented,
    high confidence). It applies even when the page sets its own `twitter:title` (checked by
    `twitter-text-length`): it is the only published measure, and the platforms that document
    none (Facebook and LinkedIn wrap titles over two or three lines) cut long titles too.

    ## Why it matters
    A cut title loses its end, often the part that makes people click; a one-word title such as
    "Home" tells a reader nothing.

    ## Failing example
    ```html
    <meta property="og:title" content="Our complete, fully updated and extended guide to choosing the right waterproof jacket for hiking in Scotland">
    ```

    ## Passing example
    ```html
    <meta property="og:title" content="How to choose a waterproof hiking jacket">
    ```

    ## How to fix
    Write a headline of roughly 30 to 65 characters; put the words that matter first.

    ## Options
    `max_length` overrides the platform cut-off (for example 60 for a stricter house style).

    ## References
    - https://developer.x.com/en/docs/x-for-websites/cards/overview/markup
    - https://ogp.me/#metadata
    """
    values = non_empty(ctx.doc.meta_values("og:title"))
    if not values:
        return None
    title = values[0]
    length = len(title)
    minimum = int(ctx.options.get("min_length", 10))
    limits = [(int(ctx.options["max_length"]), "your limit")] if ctx.options.get("max_length") else _text_limits(ctx, "title")
    if length < minimum:
        return warned(f"og:title is only {length} characters: too short to tell readers what the page is",
                      _tag("og:title", title))
    cut = [f"{name} ({limit})" for limit, name in limits if length > limit]
    if cut:
        return warned(f"og:title is {length} characters: cut by {', '.join(cut)}", _tag("og:title", title),
                      data={"length": length, "limits": {name: limit for limit, name in limits}})
    return passed(f"og:title is {length} characters: shown whole", _tag("og:title", title))


@page_rule(
    id="og-description-length",
    title="Preview description length",
    category="open-graph",
    severity="warning",
    weight=1,
    options={
        "min_length": Option(50, "Descriptions shorter than this many characters are reported as too short."),
        "max_length": Option(0, "Report descriptions longer than this; 0 uses the platforms' documented cut-offs."),
    },
)
def og_description_length(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    `og:description` is between `min_length` (default 50) characters and the shortest documented
    cut-off of the platforms in the catalogue: X shows at most 200 characters of a card
    description (documented, high confidence). The limit applies even when the page sets its own
    `twitter:description` (checked by `twitter-text-length`): Facebook and LinkedIn document no
    limit but show only one or two lines.

    ## Why it matters
    A few words ("Read more", the brand name) waste the line under the headline; a long text is
    cut mid-sentence.

    ## Failing example
    ```html
    <meta property="og:description" content="Read more.">
    ```

    ## Passing example
    ```html
    <meta property="og:description" content="We tested ten waterproof jackets in real Scottish rain: here is what kept us dry.">
    ```

    ## How to fix
    Write one or two sentences (about 60 to 160 characters) that make the reader want to open
    the page.

    ## References
    - https://developer.x.com/en/docs/x-for-websites/cards/overview/markup
    - https://ogp.me/#optional
    """
    values = non_empty(ctx.doc.meta_values("og:description"))
    if not values:
        return None
    text = values[0]
    length = len(text)
    minimum = int(ctx.options.get("min_length", 50))
    limits = ([(int(ctx.options["max_length"]), "your limit")] if ctx.options.get("max_length")
              else _text_limits(ctx, "description"))
    if length < minimum:
        return warned(f"og:description is only {length} characters: say more than that (at least {minimum})",
                      _tag("og:description", text))
    cut = [f"{name} ({limit})" for limit, name in limits if length > limit]
    if cut:
        return warned(f"og:description is {length} characters: cut by {', '.join(cut)}", _tag("og:description", text))
    return passed(f"og:description is {length} characters", _tag("og:description", text))
