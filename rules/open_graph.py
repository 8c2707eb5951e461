"""Open Graph: the tags Facebook, LinkedIn, Slack, WhatsApp, Discord and most others read first."""

from __future__ import annotations

from urllib.parse import urlsplit

from smo_audit.engine.api import Outcome, PageContext, failed, page_rule, passed, warned


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


@page_rule(id="og-image", title="Open Graph image", category="open-graph", severity="error", weight=3)
def og_image(ctx: PageContext) -> Outcome:
    """
    ## What it checks
    The page has an `og:image` meta tag whose value is an absolute http(s) URL.

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
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc:
        return passed("og:image is an absolute URL", _tag("og:image", value))
    if value.startswith("//"):
        return warned("og:image is protocol-relative: write the scheme (https:) explicitly", _tag("og:image", value))
    return failed("og:image is not an absolute http(s) URL: most platforms will show no picture", _tag("og:image", value))


@page_rule(id="og-url", title="Open Graph URL", category="open-graph", severity="warning", weight=2)
def og_url(ctx: PageContext) -> Outcome:
    """
    ## What it checks
    The page has an `og:url` meta tag holding an absolute http(s) URL.

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
    the same URL as `<link rel="canonical">`.

    ## References
    - https://ogp.me/#metadata
    """
    values = [v.strip() for v in ctx.doc.meta_values("og:url") if v.strip()]
    if not values:
        return failed("og:url is missing: shares of URL variants are counted separately")
    parts = urlsplit(values[0])
    if parts.scheme in ("http", "https") and parts.netloc:
        return passed("og:url is an absolute URL", _tag("og:url", values[0]))
    return failed("og:url is not an absolute http(s) URL", _tag("og:url", values[0]))
