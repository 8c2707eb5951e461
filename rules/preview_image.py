"""The og:image itself: fetched once per distinct URL, judged against each platform's limits.

All five rules read the same cached fetch (smo_audit.preview.page_og_image), which is also what
the report's preview cards are drawn from, so a rule and a card never disagree. The limits come
from rules/catalogue/platforms.toml; see that file for sources and confidence.
"""

from __future__ import annotations

from collections.abc import Iterable

from smo_audit.engine.api import (
    Option,
    Outcome,
    PageContext,
    failed,
    page_rule,
    passed,
    skipped,
    warned,
)
from smo_audit.engine.resources import OFF_TARGET
from smo_audit.numbers import is_whole_number
from smo_audit.platforms import Platform, platforms
from smo_audit.preview import (
    ImageFetch,
    Judgement,
    card_type,
    judge_bytes,
    judge_dimensions,
    judge_type,
    page_og_image,
    x_image_url,
)

from ._tags import human_list, tag

_TOO_LARGE = "the og:image is larger than the read limit, so its header was not read (see og-image-size)"


def _image_platforms(ctx: PageContext, fetch: ImageFetch) -> list[tuple[Platform, str | None]]:
    """Platforms that show this og:image, with the card type that selects their limits."""
    out: list[tuple[Platform, str | None]] = []
    own_x_image = x_image_url(ctx.facts)
    for p in platforms():
        if not p.preview and not p.image.types:
            continue
        if p.card_types:  # X: it shows og:image only when twitter:image is absent
            if own_x_image and own_x_image != fetch.url:
                continue
            out.append((p, card_type(ctx.facts)))
        else:
            out.append((p, None))
    return out


def _status(judged: Iterable[tuple[Platform, Judgement]]) -> str:
    levels = {j.level for _, j in judged}
    if "broken" in levels:
        return "fail"
    if "degraded" in levels:
        return "warn"
    return "pass"


def _summary(judged: list[tuple[Platform, Judgement]]) -> tuple[str, dict[str, dict[str, object]]]:
    parts: list[str] = []
    data: dict[str, dict[str, object]] = {}
    for p, j in judged:
        data[p.id] = {"verdict": j.level, "notes": list(j.notes)}
        if j.level != "ok" and j.notes:
            parts.append(f"{p.name}: {j.notes[0]}")
    return "; ".join(parts), data


@page_rule(id="og-image-reachable", title="Preview image loads", category="preview-image", severity="error",
           weight=3)
async def og_image_reachable(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    The page declares an `og:image` that answers 200 after redirects, within the fetch time
    limit; a page without one (or with a relative one) fails here too, so a missing picture counts
    against the preview-image category instead of removing it from the score. It is fetched
    once per distinct URL and the result shared by every preview-image rule and the report's
    preview cards. URLs on reserved placeholder names (`.example`, `.invalid`, `.test`,
    `example.com`) and local addresses named by a public page are reported without a request.
    When auditing a copy of the site (a build folder, or a staging host with `--base-url`), an
    image URL on the production host is fetched from the audited copy at the same path.

    ## Why it matters
    A preview image that answers 404, 403 or times out gives a card without a picture, or no
    card at all; platforms cache that result for days.

    ## Failing example
    ```html
    <meta property="og:image" content="https://example.com/img/deleted-in-redesign.png">
    ```

    ## Passing example
    ```html
    <meta property="og:image" content="https://example.com/img/share-1200x630.png">
    ```

    ## How to fix
    Point `og:image` at an image that exists on a public, fast host; after a redesign, keep old
    image URLs working or update the tags. Then re-scrape the URL in Facebook's Sharing Debugger.

    ## References
    - https://developers.facebook.com/docs/sharing/webmasters/images/
    - https://developer.x.com/en/docs/x-for-websites/cards/guides/troubleshooting-cards
    """
    fetch = await page_og_image(ctx)
    # The gate of the category: no usable og:image means no picture on any platform, so the
    # category fails instead of dropping out of the score (dropping out raised it).
    if fetch is None:
        return failed("no og:image is declared: shares of this page show no picture")
    if fetch.error_kind == "not-absolute":
        return failed("og:image is not an absolute URL, so no platform can load it", tag("og:image", fetch.url))
    if fetch.error_kind == OFF_TARGET:
        return skipped(fetch.error or "the image was not fetched", tag("og:image", fetch.url))
    evidence = [tag("og:image", fetch.url)]
    if fetch.mapped:
        evidence.append(f"fetched from the audited copy {fetch.requested}")
    if fetch.redirects:
        evidence.append("redirects: " + " -> ".join([*fetch.redirects, fetch.final_url or ""]))
    if fetch.reachable:
        via = f" via {len(fetch.redirects)} redirect(s)" if fetch.redirects else ""
        return passed(f"og:image answers HTTP {fetch.status}{via}", *evidence)
    return failed(f"og:image cannot be loaded: {fetch.error}", *evidence,
                  data={"kind": fetch.error_kind, "status": fetch.status})


@page_rule(id="og-image-type", title="Preview image format", category="preview-image", severity="error", weight=2)
async def og_image_type(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    The bytes of the `og:image` are an image format every platform shows: JPEG, PNG, GIF or
    WebP (read from the file header, not the Content-Type). SVG is shown by none of them, AVIF
    and HEIC are not in any platform's list. A Content-Type that disagrees with the bytes, or an HTML page served with status 200 (a
    "soft 404"), is reported too.

    ## Why it matters
    A logo in SVG or a modern AVIF export looks fine in the browser but gives an empty card on
    Facebook, X and LinkedIn.

    ## Failing example
    ```html
    <meta property="og:image" content="https://example.com/logo.svg">
    ```

    ## Passing example
    ```html
    <meta property="og:image" content="https://example.com/share.png">
    ```

    ## How to fix
    Export the preview image as JPEG (photos) or PNG (graphics, text), 1200x630.

    ## References
    - https://developers.facebook.com/docs/sharing/webmasters/images/
    - https://developer.x.com/en/docs/x-for-websites/cards/overview/markup
    """
    fetch = await page_og_image(ctx)
    if fetch is None or not fetch.reachable:
        return None
    evidence = [tag("og:image", fetch.url)]
    if fetch.over_limit is not None:
        return skipped(_TOO_LARGE, *evidence)
    if not fetch.info.known:
        what = f"the server sent {fetch.content_type}" if fetch.content_type else "no Content-Type"
        soft = " (an HTML page: a soft 404?)" if fetch.content_type in ("text/html", "application/xhtml+xml") else ""
        return failed(f"og:image is not an image file ({what}){soft}", *evidence)
    media = fetch.media_type
    judged = [(p, judge_type(p.image_spec(card), fetch)) for p, card in _image_platforms(ctx, fetch)]
    rejected = [p for p, j in judged if j.level != "ok"]
    header_note = ""
    if fetch.content_type and fetch.content_type != media and fetch.content_type.startswith("image/"):
        header_note = f" (served as {fetch.content_type}, but the bytes are {media})"
    if rejected:
        names = human_list(p.name for p in rejected)
        status = _status(judged)
        message = f"og:image is {media}, which {names} cannot show{header_note}"
        return (failed if status == "fail" else warned)(message, *evidence,
                                                        data={"type": media, "rejected_by": [p.id for p in rejected]})
    if header_note:
        return warned(f"og:image is {media}{header_note}: some crawlers trust the header", *evidence)
    return passed(f"og:image is {media}, shown by every platform", *evidence)


@page_rule(
    id="og-image-size",
    title="Preview image file size",
    category="preview-image",
    severity="warning",
    weight=2,
    options={
        "warn_kb": Option(0, "Also warn above this many kilobytes (0: only the platforms' limits)."),
        "fail_kb": Option(0, "Also fail above this many kilobytes (0: only the platforms' limits)."),
    },
)
async def og_image_size(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    The `og:image` file is under each platform's byte limit: Facebook 8 MB (documented), X 5 MB
    (documented), LinkedIn 5 MB (medium confidence), Pinterest 20 MB (low), WhatsApp about
    300 KB to show reliably and 600 KB at most (community figures, low confidence: a warning,
    never a failure). The image is read up to 8 MB + 1 byte; a larger file is "over 8 MB".

    ## Why it matters
    Over the limit the platform drops the picture. Large images are also slow: crawlers give up
    after a few seconds, and WhatsApp, which fetches the preview from the sender's phone, skips
    heavy ones.

    ## Failing example
    ```html
    <meta property="og:image" content="https://example.com/hero-original-9MB.png">
    ```

    ## Passing example
    ```html
    <meta property="og:image" content="https://example.com/share-1200x630.jpg">  <!-- 120 KB -->
    ```

    ## How to fix
    Export the preview image at 1200x630 as a JPEG of quality 80-85 or an optimised PNG: that is
    usually 50-300 KB.

    ## References
    - https://developers.facebook.com/docs/sharing/webmasters/images/
    - https://developer.x.com/en/docs/x-for-websites/cards/overview/markup
    """
    fetch = await page_og_image(ctx)
    if fetch is None or not fetch.reachable or (not fetch.info.known and fetch.over_limit is None):
        return None
    size, over = fetch.size, fetch.over_limit
    shown = f"{size:,} bytes" if size is not None else f"over {over or 0:,} bytes"
    evidence = [tag("og:image", fetch.url)]
    judged = [(p, judge_bytes(p.image_spec(card), fetch)) for p, card in _image_platforms(ctx, fetch)]
    status = _status(judged)
    detail, data = _summary(judged)
    known = size if size is not None else (over or 0) + 1
    fail_kb, warn_kb = int(ctx.options.get("fail_kb", 0)), int(ctx.options.get("warn_kb", 0))
    if fail_kb and known > fail_kb * 1024:
        status, detail = "fail", (detail + "; " if detail else "") + f"over your limit of {fail_kb} KB"
    elif warn_kb and known > warn_kb * 1024 and status == "pass":
        status, detail = "warn", f"over your warning limit of {warn_kb} KB"
    if status == "fail":
        return failed(f"og:image is {shown}: {detail}", *evidence, data={"bytes": size, "platforms": data})
    if status == "warn":
        return warned(f"og:image is {shown}: {detail}", *evidence, data={"bytes": size, "platforms": data})
    return passed(f"og:image is {shown}, under every platform's limit", *evidence, data={"bytes": size})


@page_rule(id="og-image-dimensions", title="Preview image dimensions", category="preview-image", severity="error",
           weight=3)
async def og_image_dimensions(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    The pixel size of the `og:image` (read from the file header) against each platform's
    minimum, large-card threshold, recommended size, maximum and aspect ratio:

    | platform | minimum | large card from | recommended | aspect | maximum | confidence |
    |---|---|---|---|---|---|---|
    | Facebook | 200x200 | 600x315 | 1200x630 | 1.91:1 | 8 MB | high |
    | X `summary_large_image` | 300x157 | | 1200x600 | 2:1 | 4096x4096, 5 MB | high |
    | X `summary` | 144x144 | | | 1:1 | 4096x4096, 5 MB | high |
    | LinkedIn | 200x200 | | 1200x627 | 1.91:1 | 5 MB | medium |
    | Pinterest | | | 1000x1500 | 2:3 (a note only) | 20 MB | low |

    X is judged with the limits of the page's `twitter:card` type, and only when the page has no
    separate `twitter:image`. Below a minimum the platform shows no picture (a failure; a
    warning when the limit's confidence is low); below the large-card size, or with an aspect
    ratio more than 8-10% off, the picture is a small thumbnail or cropped (a warning); below
    the recommended size it is only noted. The data of the finding holds every platform's
    verdict.

    ## Why it matters
    A 300x300 logo gives a large, sharp card nowhere: Facebook shows it as a small square beside
    the text, X crops it, LinkedIn blurs it.

    ## Failing example
    ```html
    <meta property="og:image" content="https://example.com/icon-120.png">  <!-- 120x120 -->
    ```

    ## Passing example
    ```html
    <meta property="og:image" content="https://example.com/share.png">  <!-- 1200x630 -->
    ```

    ## How to fix
    Use a 1200x630 image (1.91:1) with the important content in the middle square, which works
    as a large card everywhere and survives X's 2:1 and square crops.

    ## References
    - https://developers.facebook.com/docs/sharing/webmasters/images/
    - https://developer.x.com/en/docs/x-for-websites/cards/overview/summary-card-with-large-image
    - https://developer.x.com/en/docs/x-for-websites/cards/overview/summary
    - https://www.linkedin.com/help/linkedin/answer/a521928
    """
    fetch = await page_og_image(ctx)
    if fetch is None or not fetch.reachable:
        return None
    if fetch.over_limit is not None:
        return skipped(_TOO_LARGE, tag("og:image", fetch.url))
    if not fetch.info.known or fetch.info.type == "image/svg+xml":
        return None
    if not fetch.info.has_size:
        return skipped(f"the pixel size of this {fetch.info.type} could not be read from its header",
                       tag("og:image", fetch.url))
    width, height = fetch.info.width or 0, fetch.info.height or 0
    judged = [(p, judge_dimensions(p.image_spec(card), width, height)) for p, card in _image_platforms(ctx, fetch)]
    status = _status(judged)
    detail, data = _summary(judged)
    evidence = [tag("og:image", fetch.url), f"{width}x{height} px"]
    payload = {"width": width, "height": height, "platforms": data}
    if status == "fail":
        return failed(f"og:image is {width}x{height}: {detail}", *evidence, data=payload)
    if status == "warn":
        return warned(f"og:image is {width}x{height}: {detail}", *evidence, data=payload)
    notes = [f"{p.name}: {j.notes[0]}" for p, j in judged if j.notes]
    extra = f" ({'; '.join(notes)})" if notes else ""
    return passed(f"og:image is {width}x{height}: a large card on every platform{extra}", *evidence, data=payload)


@page_rule(id="og-image-declared-size", title="Declared image size matches", category="preview-image",
           severity="warning", weight=1)
async def og_image_declared_size(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    When the page declares `og:image:width` and `og:image:height`, they are whole numbers equal
    to the real pixel size of the image.

    ## Why it matters
    Facebook uses the declared size to lay out the card on the very first share, before it has
    downloaded the image. Wrong numbers give a small card for a large image (or the reverse)
    until the cache expires.

    ## Failing example
    ```html
    <meta property="og:image" content="https://example.com/share.png">  <!-- really 800x418 -->
    <meta property="og:image:width" content="1200">
    <meta property="og:image:height" content="630">
    ```

    ## Passing example
    ```html
    <meta property="og:image:width" content="1200">
    <meta property="og:image:height" content="630">
    ```

    ## How to fix
    Generate the two tags from the image file itself, or remove them: a missing size is better
    than a wrong one.

    ## References
    - https://developers.facebook.com/docs/sharing/webmasters/images/
    - https://ogp.me/#structured
    """
    declared_w = (ctx.facts.open_graph.get("og:image:width") or "").strip()
    declared_h = (ctx.facts.open_graph.get("og:image:height") or "").strip()
    if not declared_w and not declared_h:
        return None
    evidence = [tag("og:image:width", declared_w), tag("og:image:height", declared_h)]
    if not is_whole_number(declared_w) or not is_whole_number(declared_h):
        return warned("og:image:width and og:image:height must both be whole numbers of pixels", *evidence)
    fetch = await page_og_image(ctx)
    if fetch is None or not fetch.reachable:
        return None
    if not fetch.info.has_size:
        return skipped("the real size of the og:image could not be read, so the declared size cannot be checked",
                       *evidence)
    real = (fetch.info.width, fetch.info.height)
    declared = (int(declared_w), int(declared_h))
    if declared != real:
        return warned(f"og:image is declared {declared[0]}x{declared[1]} but is really {real[0]}x{real[1]}",
                      *evidence, data={"declared": list(declared), "real": list(real)})
    return passed(f"the declared size {declared[0]}x{declared[1]} matches the image", *evidence)

