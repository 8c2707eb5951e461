"""Consistency of the URLs a share is counted against: canonical, og:url, and site-wide sameness."""

from __future__ import annotations

from collections import Counter
from fnmatch import fnmatchcase

from smo_audit.crawl.urls import try_normalize
from smo_audit.engine.api import (
    Option,
    Outcome,
    PageContext,
    SiteContext,
    failed,
    page_rule,
    passed,
    site_rule,
    skipped,
    warned,
)
from smo_audit.engine.site_records import with_tags
from smo_audit.extract.facts import LinkTag
from smo_audit.extract.urlmatch import split_url
from smo_audit.preview import (
    host_of,
    is_absolute_http,
    is_local_host,
    production_for,
    url_origin,
)

from ._hosts import PREVIEW_HOSTS, STAGING_HOSTS, off_production
from ._tags import plural, tag


def _canonicals(ctx: PageContext) -> list[LinkTag]:
    return [t for t in ctx.doc.link_tags if "canonical" in t.rel]


def _link(t: LinkTag) -> str:
    return f'<link rel="canonical" href="{t.href[:200]}">'


@page_rule(id="canonical-present", title="Canonical URL", category="open-graph", severity="warning", weight=2,
           options={
               "staging_hosts": Option(list(STAGING_HOSTS), "Host patterns (shell globs) of staging servers: a "
                                       "canonical there fails unless it is the production host."),
               "preview_hosts": Option(list(PREVIEW_HOSTS), "Host patterns of preview deployments: a canonical "
                                       "there fails when the production host is known and differs."),
           })
def canonical_present(ctx: PageContext) -> Outcome:
    """
    ## What it checks
    The page has exactly one `<link rel="canonical">` in its `<head>`, written as an absolute
    URL on the production host: not localhost or a private address (other than a local dev
    server audited as the site itself, with no production host known), not a staging host, and, when the
    production host is known (`--base-url`, or the live site being audited), not a preview
    deployment (`*.vercel.app`, ...).

    ## Why it matters
    The canonical URL is the one address search engines and most platforms attribute the page
    to; `og:url` should repeat it. Without it, `?utm_source=` and `?fbclid=` variants of a shared
    link split the page's share counts. Two different canonicals cancel each other out, and
    search engines ignore a canonical in the body.

    ## Failing example
    ```html
    <head><title>Post</title></head>
    ```

    ## Passing example
    ```html
    <link rel="canonical" href="https://example.com/blog/post">
    ```

    ## How to fix
    Add one `<link rel="canonical" href="https://...">` to the head of every page, with the
    page's preferred, absolute address on the production host.

    ## Options
    `staging_hosts` and `preview_hosts`: the host patterns judged as not production.

    ## References
    - https://developers.google.com/search/docs/crawling-indexing/consolidate-duplicate-urls
    - https://www.rfc-editor.org/rfc/rfc6596
    """
    tags = _canonicals(ctx)
    if not tags:
        return failed("no <link rel=\"canonical\">: URL variants of this page are counted separately")
    distinct = list(dict.fromkeys(t.url or t.href for t in tags))
    if len(distinct) > 1:
        return failed(f"{len(distinct)} different canonical URLs: search engines and platforms ignore them all",
                      *[_link(t) for t in tags[:6]])
    first = tags[0]
    if not first.href.strip() or first.url is None:
        return failed("the canonical link has an empty or unusable href", _link(first))
    if not first.in_head:
        return warned("the canonical link is outside <head>: search engines ignore it there", _link(first))
    if not is_absolute_http(first.href):
        return warned("the canonical URL is relative: write it absolute (with https:// and the host)", _link(first))
    wrong = off_production(first.href, ctx, ctx.options.get("staging_hosts", STAGING_HOSTS),
                           ctx.options.get("preview_hosts", PREVIEW_HOSTS))
    if wrong:
        return failed(f"the canonical URL points at {wrong}: search and shares credit a server readers cannot use",
                      _link(first))
    return passed("one absolute canonical URL", _link(first))


def _slashless(url: str) -> str:
    return url[:-1] if url.endswith("/") and split_url(url).path not in ("", "/") else url


@page_rule(id="og-url-matches-canonical", title="og:url equals the canonical URL", category="open-graph",
           severity="warning", weight=2)
def og_url_matches_canonical(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    `og:url` and `<link rel="canonical">` name the same URL after normalisation (scheme and host
    case, default port, percent-encoding, tracking parameters such as `utm_*` removed).

    ## Why it matters
    Facebook counts likes and shares against `og:url`, search engines rank the canonical URL.
    When they differ (http vs https, www vs bare domain, a trailing slash, an old slug), the
    share counts go to a URL that search does not show, and a preview may open a redirect.

    ## Failing example
    ```html
    <link rel="canonical" href="https://example.com/blog/post">
    <meta property="og:url" content="http://www.example.com/blog/post/">
    ```

    ## Passing example
    ```html
    <link rel="canonical" href="https://example.com/blog/post">
    <meta property="og:url" content="https://example.com/blog/post">
    ```

    ## How to fix
    Generate both from the same value in your templates (the page's canonical URL).

    ## References
    - https://ogp.me/#metadata
    - https://developers.facebook.com/docs/sharing/webmasters/getting-started/versioned-link/
    """
    og_url = (ctx.facts.open_graph.get("og:url") or "").strip()
    canonical = ctx.facts.canonical
    if not is_absolute_http(og_url) or not canonical:
        return None
    a, b = try_normalize(og_url), try_normalize(canonical)
    evidence = (tag("og:url", og_url), f'<link rel="canonical" href="{canonical[:200]}">')
    if a is None or b is None:
        return None
    if a == b:
        return passed("og:url and the canonical URL agree", *evidence)
    if _slashless(a) == _slashless(b):
        return warned("og:url and the canonical URL differ only by a trailing slash: two URLs for one page", *evidence)
    return failed("og:url and the canonical URL differ: shares are counted on another URL than search shows",
                  *evidence)


_PAGE_SUFFIXES = ("/index.html", "/index.htm", "/index.php", ".html", ".htm")


def _page_path(url: str) -> str:
    """The path as static hosts treat it: /a/index.html, /a/ and /a.html are one page."""
    path = split_url(url).path or "/"
    for suffix in _PAGE_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)] or "/"
            break
    return path.rstrip("/") or "/"


def _under(url: str, base: str) -> bool:
    a, b = split_url(url), split_url(base)
    if url_origin(url) != url_origin(base):
        return False
    prefix = b.path.rstrip("/")
    return not prefix or a.path == prefix or a.path.startswith(prefix + "/")


@page_rule(
    id="canonical-host",
    title="Canonical and og:url point at production",
    category="open-graph",
    severity="error",
    weight=3,
    options={
        "staging_hosts": Option(
            ["staging.*", "*.staging.*", "stage.*", "stg.*", "dev.*", "uat.*", "qa.*", "test.*", "preview.*",
             "beta.*", "*.local", "*.internal"],
            "Host patterns (shell globs) of staging or internal servers: a canonical/og:url there fails.",
        ),
        "preview_hosts": Option(
            ["*.vercel.app", "*.netlify.app", "*.herokuapp.com", "*.pages.dev", "*.ngrok.io", "*.ngrok-free.app",
             "*.azurewebsites.net", "*.onrender.com", "*.fly.dev", "*.workers.dev"],
            "Host patterns of hosting providers' preview domains: reported as a warning (they may be production).",
        ),
    },
)
def canonical_host(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    The canonical URL and `og:url` point at the production site and at this page: not at
    localhost or a private address, not at a staging host (`staging.*`, `dev.*`, ...; see
    `staging_hosts`), not at a hosting provider's preview domain (`*.vercel.app`, ...; a
    warning), under `--base-url` when it is given, and, when they are on the page's own host or
    on production while auditing a copy, at the same path as the page (`/a/`, `/a/index.html`
    and `/a.html` count as one).

    ## Why it matters
    A build made with the wrong base URL ships `http://localhost:1313/` or
    `https://staging.example.com/` into every page: shares then open a server nobody outside can
    reach, and Facebook attributes all of them to that URL. A template bug that writes the home
    page's URL into every page makes every shared link open the home page.

    ## Failing example
    ```html
    <link rel="canonical" href="http://localhost:3000/blog/post">
    <meta property="og:url" content="https://staging.example.com/blog/post">
    ```

    ## Passing example
    ```html
    <link rel="canonical" href="https://example.com/blog/post">
    <meta property="og:url" content="https://example.com/blog/post">
    ```

    ## How to fix
    Set the production base URL in your site generator's config (Hugo `baseURL`, Jekyll `url`,
    Next.js `metadataBase`, WordPress "Site Address") and build with it; generate both tags from
    the page's own URL.

    ## Options
    Run with `--base-url https://example.com` to require that both live under it.

    ## References
    - https://developers.google.com/search/docs/crawling-indexing/consolidate-duplicate-urls
    - https://ogp.me/#metadata
    """
    candidates = [("canonical", ctx.facts.canonical), ("og:url", (ctx.facts.open_graph.get("og:url") or "").strip())]
    urls = [(name, url) for name, url in candidates if url and is_absolute_http(url)]
    if not urls:
        return None
    base = ctx.settings.base_url
    page_origin = url_origin(ctx.final_url)
    production = production_for(ctx.final_url, ctx.facts, base)
    staging = [str(p).lower() for p in ctx.options.get("staging_hosts", [])]
    previews = [str(p).lower() for p in ctx.options.get("preview_hosts", [])]
    failures: list[str] = []
    warnings: list[str] = []
    evidence: list[str] = []
    for name, url in urls:
        host = host_of(url)
        origin = url_origin(url)
        problem: str | None = None
        soft = False
        if is_local_host(host):
            if origin == page_origin and not base:
                problem, soft = f"{name} points at the local server being audited ({origin}): build with the production URL, or pass --base-url", True
            else:
                problem = f"{name} points at a local address ({host}) no one else can open"
        elif any(fnmatchcase(host, p) for p in staging):
            problem = f"{name} points at a staging host ({host})"
        elif base and not _under(url, base):
            problem = f"{name} is not under --base-url {base}"
        elif any(fnmatchcase(host, p) for p in previews):
            problem, soft = f"{name} points at a preview-deployment host ({host}); if it is production, pass --base-url", True
        elif origin == page_origin or origin in production.origins:
            if _page_path(production.local(url)) != _page_path(ctx.final_url):
                problem = f"{name} points at another page ({split_url(url).path or '/'}, this page is {split_url(ctx.final_url).path or '/'})"
        elif not base and not is_local_host(host_of(ctx.final_url)):
            problem, soft = f"{name} points at another host ({host}); pass --base-url if that is your production site", True
        if problem:
            (warnings if soft else failures).append(problem)
            evidence.append(tag("og:url", url) if name == "og:url" else f'<link rel="canonical" href="{url[:200]}">')
    if failures:
        return failed("; ".join(failures + warnings), *evidence)
    if warnings:
        return warned("; ".join(warnings), *evidence)
    names = " and ".join(name for name, _ in urls)
    return passed(f"{names} point at this page on its production host", *[url for _, url in urls])


@site_rule(
    id="site-same-preview",
    title="Every page shares the same preview",
    category="open-graph",
    severity="warning",
    weight=2,
    options={
        "min_pages": Option(3, "Judge only sites with at least this many audited pages."),
        "share": Option(0.6, "Report a value used by more than this fraction of pages."),
    },
)
def site_same_preview(ctx: SiteContext) -> Outcome | list[Outcome] | None:
    """
    ## What it checks
    Across the audited pages, no single `og:image`, `og:title` or `og:description` value is used
    by most of them (default: more than 60% of at least 3 pages). Pages that declare none of a
    tag count with its most common value when at least two pages share it: leaving the tag out
    makes no page look different, and taking it off one page must not lift the warning. Skipped when fewer than `min_pages` pages
    were audited or none declares any of them (nothing to compare). A hygiene rule: passing it
    earns no points, a warning costs a share of the Open Graph score (rules/scoring.toml).

    ## Why it matters
    When every page carries the site's logo as `og:image` and the site's slogan as description,
    every share of your site looks the same: people scrolling past cannot tell a product from a
    blog post from the home page, and stop clicking.

    ## Failing example
    ```html
    <!-- on /, /blog/a, /blog/b, /shop/x ... -->
    <meta property="og:image" content="https://example.com/logo.png">
    ```

    ## Passing example
    ```html
    <!-- on /blog/a -->
    <meta property="og:image" content="https://example.com/img/blog-a-1200x630.png">
    ```

    ## How to fix
    Give each page its own `og:image` (a product photo, the post's header image, or a generated
    card with the page's title) and its own description; keep the site-wide image only as the
    fallback for pages without one.

    ## References
    - https://developers.facebook.com/docs/sharing/webmasters/#images
    - https://ogp.me/#metadata
    """
    keys = ("og:image", "og:title", "og:description")
    counters: dict[str, Counter[str]] = {key: Counter() for key in keys}
    judged = 0  # 2xx pages; one pass that keeps counts, not the pages (a site may have a million)
    for page in with_tags(ctx.pages):
        if 200 <= page.status < 300:
            judged += 1
            for key in keys:
                value = (page.facts.open_graph.get(key) or "").strip()
                if value:
                    counters[key][value] += 1
    minimum = int(ctx.options.get("min_pages", 3))
    share = float(ctx.options.get("share", 0.6))
    if judged < minimum:
        return None
    outcomes: list[Outcome] = []
    compared: list[str] = []
    for key in keys:
        counted = counters[key]
        if not counted:
            continue  # no page declares it (og-image and co. report the missing ones)
        compared.append(key)
        value, count = counted.most_common(1)[0]
        # Pages without the tag count with the most common value: removing it from a page that
        # had its own value (or from one of the group) never lowers the share, so a site never
        # scores higher for declaring less.
        missing = judged - sum(counted.values())
        alike = count + missing
        # At least two pages must share the value: one page declaring its own (the others none)
        # is the start of distinct previews, not sameness, and must not cost the site.
        if count > 1 and alike / judged > share:
            shared = (f"{count} of {judged} pages share the same {key}" if not missing else
                      f"{alike} of {judged} pages have no {key} of their own ({count} share one, {missing} declare{'s' if missing == 1 else ''} none)")
            outcomes.append(warned(
                f"{shared}: every share of your site looks the same",
                tag(key, value), data={"key": key, "value": value, "pages": count, "without": missing, "of": judged},
            ))
    if outcomes:
        return outcomes
    if not compared:
        return skipped(f"fewer than {minimum} pages declare og:image, og:title or og:description: nothing to compare")
    return passed(f"{plural(judged, 'page')}: no {' or '.join(compared)} is shared by most of them")


@site_rule(
    id="canonical-collapse",
    title="Many pages name one page as canonical",
    category="open-graph",
    severity="error",
    weight=3,
    options={
        "min_pages": Option(3, "Judge only when at least this many pages name the same canonical."),
        "share": Option(0.5, "Fail when more than this fraction of the pages found name one canonical."),
    },
)
def canonical_collapse(ctx: SiteContext) -> Outcome | None:
    """
    ## What it checks
    How many pages name one audited page as their canonical (`<link rel="canonical">`): when
    most pages of the site (default: more than half, and at least 3) declare the same page as
    their canonical, that is almost always a template bug, not real duplication. A page naming
    a page it is shared alike with (the same og:title, og:description and og:image, or the same
    title on pages without them) is a duplicate of it, counted once in the score; one naming
    another page stays a page of its own, whose canonical `canonical-host` fails.

    ## Why it matters
    A canonical tells search engines and social platforms "this page is that page". When every
    post names the home page, shares of each post are attributed to the home page, previews show
    the home page's title and image, and search drops the posts. This rule says it once for the
    whole site, with the page they all name.

    ## Failing example
    ```html
    <!-- on /blog/a, /blog/b, /shop/x: the layout hard-codes the home page -->
    <link rel="canonical" href="https://example.com/">
    ```

    ## Passing example
    ```html
    <!-- on /blog/a -->
    <link rel="canonical" href="https://example.com/blog/a">
    ```

    ## How to fix
    Build the canonical from each page's own URL in your layout (e.g. `{{ page.url | absolute_url }}`
    in Jekyll, `{{ .Permalink }}` in Hugo), and keep pointing only true duplicates (print views,
    tracking variants) at their original.

    ## References
    - https://developers.google.com/search/docs/crawling-indexing/consolidate-duplicate-urls
    - https://ogp.me/#metadata
    """
    canonical_dupes = [d for d in ctx.duplicates if d.status and d.facts.canonical]
    # pages naming an audited page they are not shared alike with: pages of their own, naming it all the same
    naming = [(d.url, d.duplicate_of or "") for d in canonical_dupes]
    naming += [(p.url, p.canonical_of) for p in ctx.pages if p.canonical_of]
    if not naming:
        return None
    counts: dict[str, int] = {}
    for _url, named in naming:
        counts[named] = counts.get(named, 0) + 1
    target, count = max(counts.items(), key=lambda item: item[1])
    total = len(ctx.pages) + len(canonical_dupes)
    if count >= ctx.options["min_pages"] and count / total > ctx.options["share"]:
        examples = [url for url, named in naming if named == target][:5]
        return failed(
            f"{count} of {total} pages name {target} as their canonical URL: platforms will treat them all as that page",
            *examples,
            data={"canonical": target, "pages": count, "total": total},
        )
    return passed(f"{plural(len(naming), 'page')} naming another page as canonical, none naming one page for most of the site")
