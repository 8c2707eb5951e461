"""X (Twitter) Cards: how a link looks on X, and on Discord and Slack, which read the same tags."""

from __future__ import annotations

from smo_audit.catalogue import section
from smo_audit.engine.api import Outcome, PageContext, failed, page_rule, passed


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
