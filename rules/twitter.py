"""X (Twitter) Cards: how a link looks on X, and on Discord and Slack, which read the same tags."""

from __future__ import annotations

import re

from smo_audit.catalogue import section
from smo_audit.engine.api import Outcome, PageContext, failed, page_rule, passed, warned
from smo_audit.engine.resources import OFF_TARGET
from smo_audit.platforms import platforms
from smo_audit.preview import fetch_image, first_value, is_absolute_http, production_for


def _valid_cards() -> tuple[str, ...]:
    return tuple(section("platforms").get("x", {}).get("card_types", ("summary", "summary_large_image", "app", "player")))


@page_rule(id="twitter-card", title="X card type", category="twitter-card", severity="warning", weight=2)
def twitter_card(ctx: PageContext) -> Outcome:
    """
    ## What it checks
    The page declares `twitter:card` with one of the documented card types: `summary`,
    `summary_large_image`, `app` or `player`.

    ## Why it matters
    X renders no card at all unless `twitter:card` is present (it falls back to Open Graph for
    title, description and image, but not for the card type). `summary_large_image` also gives
    the large picture on Discord.

    ## Failing example
    ```html
    <meta name="twitter:card" content="large">
    ```

    ## Passing example
    ```html
    <meta name="twitter:card" content="summary_large_image">
    ```

    ## How to fix
    Add `<meta name="twitter:card" content="summary_large_image">` to every page with a wide
    preview image (or `summary` for a square one).

    ## References
    - https://developer.x.com/en/docs/x-for-websites/cards/overview/markup
    """
    values = [v.strip() for v in ctx.doc.meta_values("twitter:card")]
    valid = _valid_cards()
    if not values or not values[0]:
        return failed("twitter:card is missing: links to this page get no card on X")
    card = values[0]
    evidence = f'<meta name="twitter:card" content="{card[:80]}">'
    if card.lower() not in valid:
        return failed(f"twitter:card {card[:80]!r} is not a card type X knows ({', '.join(valid)})", evidence)
    return passed(f"twitter:card is {card.lower()}", evidence)


async def _broken(ctx: PageContext, url: str) -> str | None:
    """Why the card's image cannot be shown, or None (also when it was not fetched: a folder audit
    without --base-url does not request production hosts). The fetch is cached and shared."""
    if not is_absolute_http(url):
        return "is not an absolute http(s) URL"
    production = production_for(ctx.final_url, ctx.facts, ctx.settings.base_url)
    fetch = await fetch_image(ctx.resources, url, page_url=ctx.final_url, production=production)
    if fetch.reachable or fetch.error_kind == OFF_TARGET:
        return None
    return f"cannot be loaded ({fetch.error or fetch.error_kind})"


_HANDLE = re.compile(r"^@[A-Za-z0-9_]{1,15}$")
_PROFILE_URL = re.compile(r"^(?:https?://)?(?:www\.|mobile\.)?(?:twitter|x)\.com/@?([A-Za-z0-9_]{1,15})/?(?:[?#].*)?$",
                          re.IGNORECASE)


@page_rule(id="twitter-fallbacks", title="X card fallbacks", category="twitter-card", severity="warning", weight=2)
async def twitter_fallbacks(ctx: PageContext) -> Outcome:
    """
    ## What it checks
    X has a title, a description and (for `summary_large_image`) an image for the card, from
    `twitter:title`, `twitter:description` and `twitter:image` or, where those are missing, from
    their documented Open Graph fallbacks `og:title`, `og:description` and `og:image`. A missing
    `twitter:*` tag with an `og:*` fallback passes, with a note. `twitter:image`, when set, must
    be an absolute URL. The card's image (its own or the `og:image` fallback) must load: a
    declared but broken image earns no credit (a failure for `summary_large_image`, a warning
    otherwise).

    ## Why it matters
    You do not need to repeat every Open Graph tag for X, but the card needs a title from one of
    the two; a `summary_large_image` card without any image collapses to a plain link.

    ## Failing example
    ```html
    <meta name="twitter:card" content="summary_large_image">
    <title>Spring collection</title>
    ```

    ## Passing example
    ```html
    <meta name="twitter:card" content="summary_large_image">
    <meta property="og:title" content="Spring collection">
    <meta property="og:description" content="Ten jackets tested in the rain.">
    <meta property="og:image" content="https://example.com/share.png">
    ```

    ## How to fix
    Keep the Open Graph tags complete (X reads them) and add `twitter:*` tags only where the X
    card should differ. Write `twitter:image` as a full https:// URL.

    ## References
    - https://developer.x.com/en/docs/x-for-websites/cards/guides/getting-started
    - https://developer.x.com/en/docs/x-for-websites/cards/overview/markup
    """
    problems: list[str] = []
    warnings: list[str] = []
    notes: list[str] = []
    evidence: list[str] = []
    card = (first_value(ctx.facts, "twitter:card") or "").lower()
    for field, required in (("title", True), ("description", False), ("image", card == "summary_large_image")):
        own = first_value(ctx.facts, f"twitter:{field}", *(("twitter:image:src",) if field == "image" else ()))
        fallback = first_value(ctx.facts, f"og:{field}")
        if own:
            if field == "image" and not is_absolute_http(own):
                problems.append("twitter:image is not an absolute http(s) URL")
                evidence.append(f'<meta name="twitter:image" content="{own[:200]}">')
            elif field == "image" and (broken := await _broken(ctx, own)):
                (problems if required else warnings).append(f"twitter:image {broken}")
                evidence.append(f'<meta name="twitter:image" content="{own[:200]}">')
            continue
        if fallback:
            broken = await _broken(ctx, fallback) if field == "image" else None
            if broken:
                # A declared but broken image earns no credit: X shows no picture either way.
                (problems if required else warnings).append(f"twitter:image falls back to og:image, which {broken}")
                evidence.append(f'<meta property="og:image" content="{fallback[:200]}">')
            else:
                notes.append(f"twitter:{field} falls back to og:{field}")
        elif required:
            problems.append(f"no twitter:{field} and no og:{field}: the card has no {field}")
        else:
            warnings.append(f"no twitter:{field} and no og:{field}")
    if problems:
        return failed("; ".join(problems + warnings), *evidence)
    if warnings:
        return warned("; ".join(warnings + notes))
    if notes:
        return passed("X has what it needs: " + "; ".join(notes) + " (documented fallbacks)")
    return passed("X card title, description and image are set explicitly")


@page_rule(id="twitter-handles", title="X handles", category="twitter-card", severity="warning", weight=1)
def twitter_handles(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    `twitter:site` (the site's account) and `twitter:creator` (the author's), when present, are
    X handles: `@` followed by 1 to 15 letters, digits or underscores.

    ## Why it matters
    X links the handle under the card ("By @acme") and credits the account in its analytics. A
    profile URL, a name with spaces or a handle without `@` is not recognised and the credit is
    lost.

    ## Failing example
    ```html
    <meta name="twitter:site" content="https://twitter.com/acme">
    ```

    ## Passing example
    ```html
    <meta name="twitter:site" content="@acme">
    ```

    ## How to fix
    Write the handle with its `@` and nothing else, e.g. `@acme`.

    ## References
    - https://developer.x.com/en/docs/x-for-websites/cards/overview/markup
    """
    outcomes: list[tuple[str, str, str]] = []  # (status, message, evidence)
    for key in ("twitter:site", "twitter:creator"):
        value = first_value(ctx.facts, key)
        if value is None:
            continue
        evidence = f'<meta name="{key}" content="{value[:120]}">'
        if _HANDLE.match(value):
            outcomes.append(("pass", f"{key} is {value}", evidence))
            continue
        url = _PROFILE_URL.match(value)
        if url:
            outcomes.append(("fail", f"{key} is a profile URL: write @{url.group(1)}", evidence))
        elif re.match(r"^[A-Za-z0-9_]{1,15}$", value):
            outcomes.append(("warn", f"{key} lacks the @: write @{value}", evidence))
        else:
            outcomes.append(("fail", f"{key} {value[:60]!r} is not an X handle (@ and up to 15 letters, digits, _)",
                             evidence))
    if not outcomes:
        return None
    statuses = {status for status, _, _ in outcomes}
    message = "; ".join(message for _, message, _ in outcomes)
    evidence_list = [e for _, _, e in outcomes]
    if "fail" in statuses:
        return failed(message, *evidence_list)
    if "warn" in statuses:
        return warned(message, *evidence_list)
    return passed(message, *evidence_list)


def _x_limits() -> tuple[int | None, int | None]:
    for p in platforms():
        if p.card_types:  # X
            return p.title_max, p.description_max
    return None, None


@page_rule(id="twitter-text-length", title="X card title and description length", category="twitter-card",
           severity="warning", weight=1)
def twitter_text_length(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    `twitter:title` and `twitter:description`, when the page sets them, fit X's documented
    limits from the platform catalogue (rules/catalogue/platforms.toml: 70 characters of title,
    200 of description), and are not empty. Pages without them are left to `og-title-length`
    and `og-description-length` (X then shows the Open Graph text).

    ## Why it matters
    X cuts a card's title and description at these lengths: the end of a long text, often the
    part that makes people click, is never shown. An empty `twitter:title` hides the Open Graph
    title X would otherwise fall back to.

    ## Failing example
    ```html
    <meta name="twitter:description" content="(a 465-character paragraph copied from the article's first section ...)">
    ```

    ## Passing example
    ```html
    <meta name="twitter:title" content="How to choose a waterproof hiking jacket">
    <meta name="twitter:description" content="We tested ten jackets in real Scottish rain: here is what kept us dry.">
    ```

    ## How to fix
    Keep `twitter:title` under 70 characters and `twitter:description` under 200, or remove them
    so X shows the (well-sized) Open Graph title and description.

    ## References
    - https://developer.x.com/en/docs/x-for-websites/cards/overview/markup
    """
    title_max, description_max = _x_limits()
    problems: list[str] = []
    evidence: list[str] = []
    checked: list[str] = []
    for key, limit in (("twitter:title", title_max), ("twitter:description", description_max)):
        values = ctx.doc.meta_values(key)
        if not values:
            continue
        value = values[0].strip()
        tag = f'<meta name="{key}" content="{value[:200]}">'
        if not value:
            problems.append(f"{key} is empty")
            evidence.append(tag)
        elif limit and len(value) > limit:
            problems.append(f"{key} is {len(value)} characters: X cuts it at {limit}")
            evidence.append(tag)
        else:
            checked.append(f"{key} is {len(value)} characters")
    if problems:
        return warned("; ".join(problems), *evidence)
    if not checked:
        return None
    return passed("; ".join(checked) + ": shown whole on X")
