"""Share buttons: can a visitor share the page in one click, to the right networks, with the right URL?

The facts come from smo_audit/extract/share.py (`facts.share_buttons`, `facts.share_widgets`);
these rules only judge them. In static mode a widget whose buttons are drawn by JavaScript is
"unknown", never "absent": rules that would otherwise fail skip with the reason instead. A
generic "Share" control counts only with evidence (share.py): `web-share` (navigator.share) or
`menu` (it opens the page's own share buttons); neither is a network, so neither earns coverage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
from smo_audit.extract.facts import PageFacts, ShareButton, ShareWidget
from smo_audit.extract.share import share_toggles
from smo_audit.extract.share_catalogue import share_catalogue
from smo_audit.extract.urlmatch import join_url, split_url
from smo_audit.numbers import whole_number
from smo_audit.preview import host_of, is_local_host, url_origin

from ._tags import human_list, plural

CATEGORY = "share-buttons"
PSEUDO_NETWORKS = frozenset({"web-share", "menu"})
# Buttons whose URL comes from the page itself (an SDK default, location.href): correct by design.
PAGE_SOURCES = frozenset({"page", "script", "script:canonical"})
NO_URL_UNKNOWN = "no-url-script"
SAME_SITE_SCRIPTS = 6  # scripts fetched per page when looking for navigator.share()
SCRIPT_BYTES = 512 * 1024


# ---- shared helpers ------------------------------------------------------------------------------


def _name(network: str) -> str:
    return share_catalogue().network_name(network)


def _names(networks: Iterable[str]) -> str:
    return human_list([_name(n) for n in networks])


def _provider(provider_id: str) -> str:
    provider = share_catalogue().providers_by_id.get(provider_id)
    return provider.name if provider else provider_id


def _providers(widgets: Iterable[ShareWidget]) -> str:
    return human_list(list(dict.fromkeys(_provider(w.provider) for w in widgets)))


def _counted(count: int, noun: str, singular: str, plural_verb: str) -> str:
    """Number agreement: "1 share link opens", "2 share links open"."""
    return f"{plural(count, noun)} {singular if count == 1 else plural_verb}"


def _real(buttons: Iterable[ShareButton]) -> list[ShareButton]:
    """Buttons for an actual network (not the share sheet, not an unreadable script control)."""
    return [b for b in buttons if b.network not in PSEUDO_NETWORKS]


# Problems that leave a button sharing nothing usable (share-url-correct fails them).
_UNSHARABLE = ("dead-service:", "no-url:", "template:", "not-absolute:")


def _can_share(button: ShareButton) -> bool:
    """Not of a shut-down service, carrying a URL (or filled by a script on click), and shown by
    the browser in some viewport when the page was rendered."""
    return button.visible is not False and not any(p.startswith(_UNSHARABLE) for p in button.problems)


def _working(buttons: Iterable[ShareButton]) -> list[ShareButton]:
    """Real-network buttons that can share this page (_can_share). A button that shares nothing,
    or that nobody can see, covers nothing."""
    return [b for b in _real(buttons) if _can_share(b)]


def _usable(buttons: Iterable[ShareButton]) -> list[ShareButton]:
    """The working buttons and a Web Share button that can share: what gives a page a way to share."""
    return [b for b in buttons if b.network != "menu" and _can_share(b)]


def _live_js_widgets(widgets: Iterable[ShareWidget]) -> list[ShareWidget]:
    return [w for w in widgets if w.js_only and not w.dead]


# Why a widget's buttons can be missing from a rendered page: the audit's browser fetches only what
# the fetch policy allows, and a broken or slow widget draws nothing.
_NOT_DRAWN = ("its script was refused or failed, or drew them after the page settled "
              "(the page's render notes say which requests were refused)")


def _was_rendered(ctx: PageContext) -> bool:
    """This page's facts include a browser's view (its own render, or its template's)."""
    return ctx.rendered is not None and ctx.rendered.status != "static-only"


def _has_affordance(facts: PageFacts) -> bool:
    return bool(facts.share_buttons) or any(not w.dead for w in facts.share_widgets)


def _button_evidence(button: ShareButton) -> str:
    where = button.selector or button.href or button.source
    return f"{button.network}: {where[:160]}"


def _problem_codes(button: ShareButton) -> dict[str, str]:
    codes: dict[str, str] = {}
    for problem in button.problems:
        code, _, sentence = problem.partition(": ")
        codes.setdefault(code, sentence)
    return codes


# ---- share-buttons-present (site) -----------------------------------------------------------------


@site_rule(
    id="share-buttons-present",
    title="Content pages have share buttons",
    category=CATEGORY,
    severity="warning",
    weight=3,
    options={
        "page_types": Option(
            ["article", "product"],
            "Page types (home, article, product, account, listing, other) that should offer sharing.",
        ),
    },
)
def share_buttons_present(ctx: SiteContext) -> Outcome | None:
    """
    ## What it checks
    Every content page (by default articles and products, recognised from `og:type` and JSON-LD,
    or from `article:*` tags when `og:type` is missing) offers at least one way to share it: a
    share link, a share widget or a Web Share API button.
    Pages whose only share widget draws its buttons with JavaScript count as unknown, never as
    missing: in static mode, and in rendered mode when the rendered page shows none of them (the
    widget's script may have been refused by the audit's fetch policy).

    ## Why it matters
    Articles and products are what people share. A page without a share button leaves the
    reader to copy the address bar: on a phone most will not bother. Home, account and listing
    pages rarely need buttons, so they are not counted.

    ## Failing example
    ```html
    <meta property="og:type" content="article">
    <article><h1>Cold brew, step by step</h1>...</article>   <!-- no way to share it -->
    ```

    ## Passing example
    ```html
    <a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fexample.com%2Fcold-brew"
       target="_blank" rel="noopener">Share on Facebook</a>
    ```

    ## How to fix
    Add share links (or one share toolbar) to the article and product templates, so every page
    of those types gets them.

    ## Options
    `page_types`: which page types must offer sharing (default `["article", "product"]`).

    ## References
    - https://developers.facebook.com/docs/plugins/share-button/
    - https://developer.mozilla.org/en-US/docs/Web/API/Navigator/share
    """
    types = {str(t) for t in ctx.options.get("page_types", ["article", "product"])}
    content = [p for p in ctx.pages if p.facts.page_type in types and 200 <= p.status < 400]
    if not content:
        return skipped(f"no content page ({human_list(sorted(types))}) was audited: share buttons are "
                       "expected on the pages people share, and no other page needs them")
    with_buttons: list[str] = []
    unknown: list[str] = []
    without: list[str] = []
    for page in content:
        facts = page.facts
        if _usable(facts.share_buttons) or any(
            w.networks and not w.dead for w in facts.share_widgets
        ):
            with_buttons.append(page.final_url)
        elif _live_js_widgets(facts.share_widgets):
            unknown.append(page.final_url)
        else:
            without.append(page.final_url)
    rendered = ctx.settings.mode == "rendered"
    unknown_why = ("drawn by JavaScript that showed none when rendered" if rendered
                   else "only through JavaScript (unknown in static mode)")
    counts = (f"{len(with_buttons)} of {_counted(len(content), 'content page', 'has', 'have')} share buttons"
              + (f", {len(unknown)} {unknown_why}" if unknown else ""))
    if not without:
        if with_buttons:
            return passed(counts, *unknown[:10])
        if rendered:
            return skipped(
                f"share buttons on {plural(len(unknown), 'content page')} are drawn by JavaScript, and none "
                f"appeared when {'it was' if len(unknown) == 1 else 'they were'} rendered: {_NOT_DRAWN}",
                *unknown[:10],
            )
        return skipped(
            f"share buttons on {plural(len(unknown), 'content page')} are drawn by JavaScript, which static "
            "mode does not run: run with --render to check them", *unknown[:10],
        )
    message = f"{_counted(len(without), 'content page', 'offers', 'offer')} no way to share it ({counts})"
    if not with_buttons and not unknown:
        return failed(message, *without[:10])
    return warned(message, *without[:10])


# ---- share-coverage (page) ----------------------------------------------------------------------


def _large_images(ctx: PageContext, minimum: int) -> bool:
    for image in ctx.doc.images:
        for value in (image.width, image.height):
            number = whole_number(value.strip().removesuffix("px")) if value else None
            if number is not None and number >= minimum:
                return True
    return False


@page_rule(
    id="share-coverage",
    title="Share buttons cover the networks that matter",
    category=CATEGORY,
    severity="warning",
    weight=2,
    options={
        "networks": Option(
            ["facebook", "x", "linkedin", "whatsapp", "email"],
            "Networks every page with share buttons should offer (ids or aliases, e.g. twitter).",
        ),
        "pinterest_min_image": Option(
            600, "Also require Pinterest on pages with an <img> at least this many pixels wide or tall (0: never).",
        ),
        "page_types": Option(
            ["article", "product"],
            "Page types that must offer sharing: there, no share button at all fails (the category's gate).",
        ),
    },
)
def share_coverage(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    A page that has share buttons offers the networks your readers use: by default Facebook,
    X, LinkedIn, WhatsApp and email, plus Pinterest on pages with large images. Networks named
    by a widget's markup (Shariff's `data-services`) count. A content page (`page_types`,
    default articles and products) without any share button covers none of them and fails: that
    is the page's gate of the share-buttons category, so adding even a partial share bar raises
    its score. Other pages (a home page, a contact page) need no share buttons: they are not
    judged, with or without them, and the checks of the buttons themselves (names, safe links,
    visibility) cost nothing there either, so a button there never scores below none; a button
    that shares the wrong page still fails share-url-correct. Buttons of a shut-down service,
    buttons that carry no URL and, rendered, buttons no viewport showed cover nothing.

    ## Why it matters
    A share bar without WhatsApp loses most mobile sharing in large parts of the world; one
    without email loses the readers who share at work. Pinterest is where image-led pages
    (recipes, products, travel) are saved.

    ## Failing example
    ```html
    <a href="https://www.reddit.com/submit?url=https%3A%2F%2Fexample.com%2Fpost">Reddit</a>
    ```

    ## Passing example
    ```html
    <a href="https://www.facebook.com/sharer/sharer.php?u=...">Facebook</a>
    <a href="https://x.com/intent/post?url=...">X</a>
    <a href="https://www.linkedin.com/sharing/share-offsite/?url=...">LinkedIn</a>
    <a href="https://api.whatsapp.com/send?text=...">WhatsApp</a>
    <a href="mailto:?subject=...&body=...">Email</a>
    ```

    ## How to fix
    Add the missing networks to your share bar (each is one link; see the passing example), or
    configure your widget to show them.

    ## Options
    `networks`: the list to require; `pinterest_min_image`: image size (px, from the `width`
    / `height` attributes) from which Pinterest is required too.

    ## References
    - https://developers.facebook.com/docs/plugins/share-button/
    - https://developer.x.com/en/docs/x-for-websites/tweet-button/overview
    """
    facts = ctx.facts
    content = facts.page_type in {str(t) for t in ctx.options.get("page_types", ["article", "product"])}
    if not _has_affordance(facts) and not content:
        return None
    catalogue = share_catalogue()
    required = [n for n in (catalogue.network_id(str(v)) for v in ctx.options.get("networks", [])) if n]
    minimum = int(ctx.options.get("pinterest_min_image", 600))
    if minimum and "pinterest" not in required and _large_images(ctx, minimum):
        required.append("pinterest")
    required = list(dict.fromkeys(required))
    if not required:
        return None
    if not _has_affordance(facts):
        return failed(f"this {facts.page_type} page has no share buttons: none of {_names(required)}",
                      *(f"missing: {n}" for n in required))
    covered = {b.network for b in _working(facts.share_buttons)}
    for widget in facts.share_widgets:
        if not widget.dead:
            covered.update(widget.networks)
    missing = [n for n in required if n not in covered]
    present = [n for n in required if n in covered]
    if not content:
        # A page that needs no share buttons (a home page, a contact page) is not judged for
        # offering some: its buttons neither earn nor cost (rules/scoring.toml [penalty_scope]),
        # so one button there never scores below none, nor above it.
        return skipped(f"this {facts.page_type} page is not a content page: its share buttons are optional and not "
                       f"judged (present: {_names(present) if present else 'none of ' + _names(required)})")
    if not missing:
        return passed(f"share buttons cover {_names(required)}", *sorted(covered))
    js_widgets = _live_js_widgets(facts.share_widgets)
    if js_widgets:
        drawn = _providers(js_widgets) or "a script"
        if _was_rendered(ctx):
            return skipped(f"{_names(missing)} not found, and {drawn}, which draws share buttons with "
                           f"JavaScript, drew none when the page was rendered: {_NOT_DRAWN}")
        return skipped(
            f"{_names(missing)} not found in the HTML, but {drawn} draws share buttons with JavaScript, "
            "which static mode does not run: run with --render to check coverage",
        )
    sheet = any(b.network == "web-share" for b in facts.share_buttons)
    message = f"share buttons miss {_names(missing)}" + (f" (present: {_names(present)})" if present else "")
    if sheet:
        return warned(message + "; the Web Share button reaches them on phones, not on most desktops",
                      *(f"missing: {n}" for n in missing))
    if not present:
        return failed(f"share buttons offer none of {_names(required)}", *(f"missing: {n}" for n in missing))
    return warned(message, *(f"missing: {n}" for n in missing))


# ---- share-url-correct (page) ---------------------------------------------------------------------


def _comparable(url: str) -> str | None:
    """A URL as the share counts see it: normalised, tracking parameters dropped, no trailing slash."""
    normalized = try_normalize(url)
    if normalized is None:
        return None
    parts = split_url(normalized)
    path = parts.path.rstrip("/") or "/"
    return f"{parts.scheme}://{parts.netloc}{path}" + (f"?{parts.query}" if parts.query else "")


def _expected_urls(ctx: PageContext) -> list[str]:
    facts = ctx.facts
    declared = [u for u in (facts.canonical, (facts.open_graph.get("og:url") or "").strip()) if u]
    absolute = [u for u in (join_url(ctx.final_url, u) for u in declared) if u is not None]
    if absolute:
        return list(dict.fromkeys(absolute))
    base = ctx.settings.base_url
    if base:
        parts = split_url(ctx.final_url)
        return [base.rstrip("/") + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")]
    return [ctx.final_url]


def _diagnose(url: str, expected: Sequence[str], ctx: PageContext, staging: Sequence[str]) -> tuple[str, bool] | None:
    """Why a shared URL is wrong (and whether it is only a warning), or None when it is right."""
    target = _comparable(url)
    wanted = [c for c in (_comparable(e) for e in expected) if c]
    if target is None:
        return f"shares {url[:160]!r}, which is not a valid http(s) URL", False
    if target in wanted:
        return None
    host = host_of(url)
    shown = f"{url[:160]} instead of {expected[0]}"
    if is_local_host(host):
        if url_origin(url) == url_origin(ctx.final_url):
            return (f"shares the address it was served from ({shown}); on the live site that is "
                    "probably fine, but the canonical URL is what should be shared"), True
        return f"shares a local address no one else can open ({shown})", False
    if any(fnmatchcase(host, pattern) for pattern in staging):
        return f"shares a staging host ({shown})", False
    same_path = [w for w in wanted if split_url(w).path == split_url(target).path and
                 split_url(w).query == split_url(target).query]
    if same_path and any(host_of(w) == host for w in same_path):
        return f"shares the {split_url(url).scheme}:// address ({shown}): share counts split", True
    if same_path:
        return f"shares this page on another host ({shown})", False
    return f"shares a different page ({shown})", False


@page_rule(
    id="share-url-correct",
    title="Share buttons share this page's URL",
    category=CATEGORY,
    severity="error",
    weight=3,
    options={
        "staging_hosts": Option(
            ["staging.*", "*.staging.*", "*-staging.*", "stage.*", "stg.*", "dev.*", "uat.*", "qa.*", "test.*",
             "preview.*", "beta.*", "*.local", "*.internal", "*.vercel.app", "*.netlify.app", "*.herokuapp.com",
             "*.pages.dev", "*.ngrok.io", "*.ngrok-free.app"],
            "Host patterns (shell globs) of staging and preview servers: a share button sharing one fails.",
        ),
    },
)
def share_url_correct(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Each share button shares this page: the URL it carries (decoded from the endpoint's
    parameter, or found in a WhatsApp/email text) equals the page's canonical URL or `og:url`
    (tracking parameters and a trailing slash aside). It fails for localhost and staging hosts,
    another page (often the home page), an unfilled template (`{url}`), a relative URL, a link
    that carries no URL, and an unencoded URL whose own query is cut at the first `&`. Buttons
    that share "the current page" by design (SDK defaults, `location.href`) pass. It fails when
    no live, visible button shares this page (a dead service's or a hidden one does not count)
    and warns when some do. A hygiene rule: passing earns no points;
    a failure takes the whole Share buttons score (a button that shares the wrong page is no
    better than none), a warning half of it.

    ## Why it matters
    A share button is only as good as the URL it sends. A template that bakes in the staging
    host or the home page makes every share land in the wrong place, and nobody notices because
    the button still "works". `?u=https://example.com/p?id=1&lang=en` shares `...?id=1`: the
    network reads `lang=en` as its own parameter.

    ## Failing example
    ```html
    <link rel="canonical" href="https://example.com/shop/item?id=7&color=red">
    <a href="https://www.facebook.com/sharer/sharer.php?u=https://example.com/shop/item?id=7&color=red">Share</a>
    <a href="https://x.com/intent/post?url=https%3A%2F%2Fstaging.example.com%2Fshop%2Fitem">Post</a>
    ```

    ## Passing example
    ```html
    <a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fexample.com%2Fshop%2Fitem%3Fid%3D7%26color%3Dred">Share</a>
    ```

    ## How to fix
    Build share links from the page's canonical URL and percent-encode it as one parameter value
    (`encodeURIComponent` in JavaScript, `urlencode` in PHP and Jinja, `url.QueryEscape` in Go).
    Set the production base URL in your site generator so no staging or localhost address is
    baked into the HTML.

    ## Options
    `staging_hosts`: host patterns that are never the right host to share.

    ## References
    - https://developers.facebook.com/docs/sharing/reference/share-dialog/
    - https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/encodeURIComponent
    - https://www.rfc-editor.org/rfc/rfc3986#section-2.1
    """
    buttons = [b for b in ctx.facts.share_buttons if b.network != "menu"]  # a menu toggle shares nothing itself
    if not buttons:
        return None
    expected = _expected_urls(ctx)
    staging = [str(p).lower() for p in ctx.options.get("staging_hosts", [])]
    failures: list[str] = []
    warnings: list[str] = []
    unknown: list[str] = []
    evidence: list[str] = []
    checked = 0
    right = 0  # buttons that can share (see _working) and share this page: the rule fails without one
    usable = {id(b) for b in _usable(buttons)}
    for button in buttons:
        codes = _problem_codes(button)
        problem: str | None = None
        soft = False
        for code in ("unencoded-url", "template", "not-absolute"):
            if code in codes:
                problem = codes[code]
                break
        if problem is None and button.shares_url is None:
            if NO_URL_UNKNOWN in codes:
                unknown.append(_button_evidence(button))
                continue
            problem = codes.get("no-url", "carries no page URL to share")
        if problem is None and button.shares_url is not None and button.url_source not in PAGE_SOURCES:
            diagnosis = _diagnose(button.shares_url, expected, ctx, staging)
            if diagnosis is not None:
                problem, soft = diagnosis
        checked += 1
        if problem is not None:
            line = f"{_name(button.network)}: {problem}"
            (warnings if soft else failures).append(line)
            evidence.append(f"{_button_evidence(button)} -> {button.href[:300] or button.shares_url or ''}")
        if (problem is None or soft) and id(button) in usable:
            right += 1
    if failures:
        wrong = f"{_counted(len(failures), 'share button', 'shares', 'share')} the wrong URL: " + "; ".join(failures[:3])
        if not right:  # no live, visible button shares this page: the category's gate (rules/scoring.toml)
            return failed(wrong, *evidence)
        return warned(f"{wrong} ({right} of {checked} share it)", *evidence)
    if warnings:
        return warned("; ".join(warnings[:3]), *evidence)
    if checked:
        return passed(f"{_counted(checked, 'share button', 'shares', 'share')} {expected[0]}",
                      *(f"{b.network}: {b.shares_url}" for b in buttons[:10]))
    if _was_rendered(ctx):
        return skipped("the share links still carry no URL after rendering: a script gives them one when "
                       "they are clicked, which the audit does not do", *unknown[:10])
    return skipped("the share links get their URL from a script on click, which static mode does not run: "
                   "run with --render to check them", *unknown[:10])


# ---- share-link-safe (page) ------------------------------------------------------------------------

_NEW_WINDOW_TARGETS = frozenset({"", "_self", "_top", "_parent"})


@page_rule(id="share-link-safe", title="Share links open safely", category=CATEGORY, severity="warning", weight=1)
def share_link_safe(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Plain share links to a network (`https://` links, not `mailto:` or app links) open in a new
    tab with `rel="noopener"` (or `noreferrer`), or in a popup window opened by a script, instead
    of replacing the article in the reader's tab.

    A hygiene rule (rules/scoring.toml): passing it earns no points and a problem costs a share
    of the Share buttons score, so buttons with the problem never score above no buttons.

    ## Why it matters
    A share link that navigates away takes the reader off your page: after sharing, they land on
    Facebook, not back on the article. A new tab without `noopener` lets the network's page
    script your tab through `window.opener` in older browsers.

    ## Failing example
    ```html
    <a href="https://www.linkedin.com/sharing/share-offsite/?url=...">LinkedIn</a>
    <a href="https://x.com/intent/post?url=..." target="_blank">X</a>
    ```

    ## Passing example
    ```html
    <a href="https://www.linkedin.com/sharing/share-offsite/?url=..." target="_blank" rel="noopener">LinkedIn</a>
    ```

    ## How to fix
    Add `target="_blank" rel="noopener"` to each share link, or open it with
    `window.open(url, "share", "width=600,height=500,noopener")` from a click handler.

    ## References
    - https://developer.mozilla.org/en-US/docs/Web/HTML/Attributes/rel/noopener
    - https://html.spec.whatwg.org/multipage/links.html#link-type-noopener
    """
    links = [b for b in ctx.facts.share_buttons
             if b.mechanism == "link" and b.href.lower().startswith(("http://", "https://", "//"))]
    if not links:
        return None
    same_tab: list[ShareButton] = []
    no_opener: list[ShareButton] = []
    for button in links:
        if button.popup:
            continue
        target = (button.target or "").strip().lower()
        if target in _NEW_WINDOW_TARGETS:
            same_tab.append(button)
        elif not {"noopener", "noreferrer"} & set(button.rel):
            no_opener.append(button)
    if not same_tab and not no_opener:
        return passed(f"{_counted(len(links), 'share link', 'opens', 'open')} in a new tab or a popup")
    messages: list[str] = []
    if same_tab:
        messages.append(f"{_counted(len(same_tab), 'share link', 'replaces', 'replace')} the page in the reader's tab "
                        f"({_names(dict.fromkeys(b.network for b in same_tab))}): add target=\"_blank\" rel=\"noopener\"")
    if no_opener:
        messages.append(f"{_counted(len(no_opener), 'share link', 'opens', 'open')} a new tab without rel=\"noopener\" "
                        f"({_names(dict.fromkeys(b.network for b in no_opener))})")
    return warned("; ".join(messages), *(_button_evidence(b) for b in (*same_tab, *no_opener)))


# ---- share-accessible-name (page) ------------------------------------------------------------------


@page_rule(id="share-accessible-name", title="Share buttons have an accessible name", category=CATEGORY,
           severity="warning", weight=2)
def share_accessible_name(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Every share link and share button the page itself marks up has a name a screen reader can
    announce: visible text, `aria-label`, `title`, or an `<img alt>`. Icon-only buttons (an
    `<svg>` or icon font and nothing else) fail. Buttons drawn inside a network's own iframe
    (the Facebook SDK button) are named by the network and not checked.

    A hygiene rule (rules/scoring.toml): passing it earns no points and a problem costs a share
    of the Share buttons score, so buttons with the problem never score above no buttons.

    ## Why it matters
    A screen reader announces an unnamed icon link as "link" or reads out the share URL: the
    reader cannot tell Facebook from email. Named buttons are also what voice control users
    say ("click Share on LinkedIn").

    ## Failing example
    ```html
    <a href="https://www.facebook.com/sharer/sharer.php?u=..."><svg class="icon-facebook">...</svg></a>
    ```

    ## Passing example
    ```html
    <a href="https://www.facebook.com/sharer/sharer.php?u=..." aria-label="Share on Facebook"><svg aria-hidden="true">...</svg></a>
    ```

    ## How to fix
    Give each icon-only share link an `aria-label` ("Share on Facebook"), or visually hidden
    text inside it.

    ## References
    - https://www.w3.org/WAI/WCAG22/Understanding/link-purpose-in-context.html
    - https://www.w3.org/WAI/WCAG22/Understanding/name-role-value.html
    """
    buttons = [b for b in ctx.facts.share_buttons if b.selector and b.mechanism != "sdk" and not _drawn_later(b)]
    if not buttons:
        return None
    measured = _measured_names(ctx)
    unnamed = [b for b in buttons if not b.label.strip() and not _measured_name(b, measured)]
    if not unnamed:
        return passed(f"{_counted(len(buttons), 'share button', 'has', 'have')} an accessible name",
                      *(f"{b.network}: {b.label[:80]}" for b in buttons[:10]))
    return failed(
        f"{_counted(len(unnamed), 'share button', 'has', 'have')} no accessible name "
        f"({_names(dict.fromkeys(b.network for b in unnamed))}): screen readers announce a bare link",
        *(_button_evidence(b) for b in unnamed),
    )


def _measured_names(ctx: PageContext) -> dict[tuple[str, str], str]:
    """Rendered mode: the accessible name the browser computed for each button, by selector and
    link (aria-labelledby, a labelled icon: names the HTML alone does not spell out), and by
    selector alone (key link "") for an inherited page, whose sample's links name the sample."""
    rendered = ctx.rendered
    if rendered is None or rendered.status not in ("rendered", "inherited"):
        return {}
    names: dict[tuple[str, str], str] = {}
    for viewport in rendered.viewports:
        for view in viewport.buttons:
            if view.found and view.accessible_name.strip():
                names[(view.selector, view.href)] = view.accessible_name
                names[(view.selector, "")] = view.accessible_name
    return names


def _measured_name(button: ShareButton, measured: dict[tuple[str, str], str]) -> str | None:
    """The browser's name for `button`: by selector and link, or by selector alone when the
    selector is not the link itself (an inherited page's sample links to the sample)."""
    found = measured.get((button.selector, button.href))
    if found is None and not button.selector.startswith("a[href="):
        found = measured.get((button.selector, ""))
    return found


def _drawn_later(button: ShareButton) -> bool:
    """An empty placeholder (<a class="a2a_button_x"></a>) whose provider's script draws the
    button, name included: its name is unknown in static mode, not missing."""
    provider = share_catalogue().providers_by_id.get(button.provider or "")
    return (provider is not None and provider.draws_buttons and button.mechanism == "widget"
            and not button.href and not button.label.strip())


# ---- share-widget-dead (page) ------------------------------------------------------------------------


@page_rule(id="share-widget-dead", title="No share widget from a shut-down service", category=CATEGORY,
           severity="error", weight=3)
def share_widget_dead(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    The page loads no share widget from a service that has shut down (AddThis, the Facebook
    Like button plugin) and has no share link to a closed network (Google+, StumbleUpon,
    Delicious, Skype, Pocket). The list, with dates, lives in the share catalogue.

    ## Why it matters
    A dead widget shows nothing: the AddThis toolbar simply vanished on 31 May 2023, and every
    site still loading it lost its share buttons without an error anywhere. A link to a closed
    network is a dead end and tells the reader the page is not looked after.

    ## Failing example
    ```html
    <div class="addthis_inline_share_toolbox"></div>
    <script src="https://s7.addthis.com/js/300/addthis_widget.js#pubid=ra-123"></script>
    ```

    ## Passing example
    ```html
    <div class="a2a_kit a2a_kit_size_32 a2a_default_style">...</div>
    <script async src="https://static.addtoany.com/menu/page.js"></script>
    ```

    ## How to fix
    Remove the dead widget's script and container, and replace them with plain share links or a
    maintained widget. Remove links to closed networks.

    ## References
    - https://www.addthis.com/
    - https://developers.facebook.com/docs/plugins/like-button/
    """
    facts = ctx.facts
    if not facts.share_buttons and not facts.share_widgets:
        return None
    dead: list[str] = []
    evidence: list[str] = []
    for widget in facts.share_widgets:
        if widget.dead:
            dead.append(f"the {_provider(widget.provider)} widget ({widget.dead_reason})")
            evidence.append(f"{widget.provider}: {widget.evidence}")
    for button in facts.share_buttons:
        reason = _problem_codes(button).get("dead-service")
        if reason and not (button.provider and any(w.dead and w.provider == button.provider for w in facts.share_widgets)):
            dead.append(f"a {_name(button.network)} share link ({reason})")
            evidence.append(_button_evidence(button))
    dead = list(dict.fromkeys(dead))
    if dead:
        return failed("the page uses shut-down share services: " + "; ".join(dead[:3]), *evidence)
    return passed("no share widget or link points at a shut-down service")


# ---- share-widget-duplicate (page) -------------------------------------------------------------------


@page_rule(id="share-widget-duplicate", title="One share toolbar per page", category=CATEGORY,
           severity="warning", weight=1)
def share_widget_duplicate(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    The page loads share toolbars from at most one provider (AddToAny, ShareThis, Jetpack,
    Social Warfare, ...). Official single-network buttons and the Web Share API do not count.

    ## Why it matters
    Two toolbars usually mean a plugin was replaced without removing the old one: readers see
    two rows of the same icons, the page loads two sets of scripts and trackers, and share
    counts split between them.

    ## Failing example
    ```html
    <div class="sharedaddy sd-sharing-enabled">...</div>
    <div class="a2a_kit">...</div>
    ```

    ## Passing example
    ```html
    <div class="a2a_kit">...</div>
    ```

    ## How to fix
    Keep one toolbar: remove the other plugin (and its script) from the theme.

    ## References
    - https://web.dev/articles/third-party-javascript
    """
    toolbars = list(dict.fromkeys(w.provider for w in ctx.facts.share_widgets if w.kind == "toolbar" and not w.dead))
    if not toolbars:
        return None
    if len(toolbars) == 1:
        return passed(f"one share toolbar ({_provider(toolbars[0])})")
    evidence = [f"{w.provider}: {w.evidence}" for w in ctx.facts.share_widgets if w.provider in toolbars]
    names = human_list([_provider(t) for t in toolbars])
    return warned(f"{len(toolbars)} share toolbars from different providers: {names}", *evidence)


# ---- share-js-only (page) ---------------------------------------------------------------------------


def _placeholders(facts: PageFacts, provider: str) -> bool:
    """Buttons known from a placeholder element (div.fb-share-button) that a script fills in."""
    return any(b.provider == provider and b.mechanism in ("sdk", "widget") and not b.href for b in facts.share_buttons)


async def _web_share_in_scripts(ctx: PageContext) -> str | None:
    """The first same-site script that calls navigator.share(), fetched through the shared cache."""
    origin = url_origin(ctx.final_url)
    scripts = [s.url for s in ctx.doc.scripts if s.url and url_origin(s.url) == origin][:SAME_SITE_SCRIPTS]
    for url in scripts:
        resource = await ctx.resources.fetch(url, max_bytes=SCRIPT_BYTES)
        if resource.ok and b"navigator.share" in resource.head:
            return url
    return None


@page_rule(id="share-js-only", title="Share buttons that only JavaScript draws", category=CATEGORY,
           severity="warning", weight=1)
async def share_js_only(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Whether the page's share buttons are in the HTML or only appear once a widget's script runs.
    In static mode, a widget container that its script fills in later (AddToAny, ShareThis,
    Shariff, Shareaholic, Sumo), an SDK placeholder (`div.fb-share-button`, `amp-social-share`)
    and a share control wired up by a page script are reported as skipped, with the reason:
    their buttons are unknown, not absent. A container or placeholder whose provider's script is
    never loaded is a warning: nothing will ever fill it. For a generic share control, same-site
    scripts are searched for `navigator.share()` (the Web Share API).

    A hygiene rule (rules/scoring.toml): passing it earns no points and a problem costs a share
    of the Share buttons score, so buttons with the problem never score above no buttons.

    ## Why it matters
    Buttons drawn by JavaScript appear late, not at all when the script is blocked (privacy
    extensions block most share widgets), and never for crawlers. Static mode cannot tell
    whether they work; `--render` can.

    ## Failing example
    ```html
    <div class="sharethis-inline-share-buttons"></div>   <!-- and no sharethis.js anywhere -->
    ```

    ## Passing example
    ```html
    <div class="a2a_kit"><a class="a2a_button_facebook"
       href="https://www.addtoany.com/add_to/facebook?linkurl=https%3A%2F%2Fexample.com%2Fpost">Facebook</a></div>
    ```

    ## How to fix
    Prefer server-rendered share links (plain `<a href>` to each network's share endpoint); if
    you use a widget, load its script, and run smo-audit with `--render` to check what it draws.

    ## References
    - https://developer.mozilla.org/en-US/docs/Web/API/Web_Share_API
    - https://www.addtoany.com/buttons/customize/
    """
    facts = ctx.facts
    rendered = ctx.rendered if ctx.rendered is not None and ctx.rendered.status != "static-only" else None
    if rendered is not None and rendered.static is not None:
        # Rendered mode: judge the HTML as sent, and name what appeared only after scripts ran.
        facts = rendered.static
        # Buttons the browser shows that the HTML has no working link for: drawn by a script, or
        # placeholders (<a class="a2a_button_facebook"></a>) a script gave their links.
        in_html = any(b.network != "unknown" and b.mechanism in ("link", "self-link") for b in facts.share_buttons)
        after = [] if in_html else [b for b in ctx.facts.share_buttons
                                    if b.mechanism in ("link", "self-link") and b.network != "unknown" and b.href]
        if not in_html and (rendered.changes.share_buttons_added or after):
            providers = [*rendered.changes.share_widgets_added, *(w.provider for w in facts.share_widgets)]
            drawn = human_list([_provider(p) for p in dict.fromkeys(providers)]) or "a script"
            return warned(f"the share buttons appear only after JavaScript runs (drawn by {drawn}): readers "
                          "whose blockers stop the script, and crawlers, get none",
                          *(rendered.changes.share_buttons_added[:20] or [_button_evidence(b) for b in after[:20]]))
    # "Share" controls that name no network count only when a script shows they call navigator.share()
    toggles = [] if facts.share_buttons else share_toggles(ctx.doc)
    script = await _web_share_in_scripts(ctx) if toggles else None
    if not _has_affordance(facts) and script is None:
        return None
    catalogue = share_catalogue()
    drawn_by = {w.provider for w in facts.share_widgets
                if not w.dead and (p := catalogue.providers_by_id.get(w.provider)) is not None and p.draws_buttons}
    js_widgets = _live_js_widgets(facts.share_widgets)
    orphans = [w for w in facts.share_widgets
               if w.provider in drawn_by and (w.has_container or _placeholders(facts, w.provider)) and not w.has_script]
    if orphans:
        return warned(
            f"the {_providers(orphans)} container is on the page but its script is never "
            "loaded: its buttons will not appear (unless a tag manager or a bundle loads it)",
            *(f"{w.provider}: {w.evidence}" for w in orphans),
        )
    static = [b for b in facts.share_buttons if b.mechanism in ("link", "self-link")]
    controls = toggles if script is not None else []
    if static:
        extra = (f"; {_providers(js_widgets)} also draws buttons with JavaScript "
                 "(unknown in static mode)") if js_widgets else ""
        return passed(f"{_counted(len(static), 'share link', 'is', 'are')} in the HTML and "
                      f"{'works' if len(static) == 1 else 'work'} without JavaScript{extra}")
    placeholders = [w for w in facts.share_widgets if w.provider in drawn_by and _placeholders(facts, w.provider)]
    if not js_widgets and not controls and not placeholders:
        return passed("the share buttons are in the HTML")
    reasons: list[str] = []
    if js_widgets or placeholders:
        reasons.append(f"{_providers([*js_widgets, *placeholders])} draws its share buttons with JavaScript")
    if controls:
        verb = "is" if len(controls) == 1 else "are"
        reasons.append(f"{plural(len(controls), 'share control')} ({controls[0]}) {verb} wired up by "
                       f"a script ({script} calls navigator.share(): the Web Share API)")
    if rendered is not None:
        return warned("; ".join(reasons) + ", and no buttons appeared after rendering")
    return skipped("; ".join(reasons) + ": static mode does not run JavaScript, so these buttons are unknown, "
                   "not absent (run with --render)", *(f"{w.provider}: {w.evidence}" for w in js_widgets))


# ---- share-quote (page, conversation) ---------------------------------------------------------------


@page_rule(id="share-quote", title="Quotes readers can share in one click", category="conversation",
           severity="info", weight=1)
def share_quote(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    A strength, never a failure: the article text offers click-to-tweet style links that share
    a quote (an X, Threads, Bluesky or Mastodon intent link with the quote in `text=`). It
    passes when there is at least one, warns when a quote is too long to post on its network
    (X: 280 characters with a link counted as 23), and is not applicable otherwise.

    ## Why it matters
    A ready-made quote is the easiest thing to share: one click, no typing, and the post carries
    your words and your link. Quote shares start conversations that a bare link does not.

    ## Failing example
    ```html
    <a href="https://x.com/intent/post?text=(a%20400-character%20quote)&url=...">Tweet this</a>
    ```

    ## Passing example
    ```html
    <blockquote>Coffee is a conversation.
      <a href="https://x.com/intent/post?text=%E2%80%9CCoffee%20is%20a%20conversation.%E2%80%9D&url=https%3A%2F%2Fexample.com%2Fpost">Share this quote</a>
    </blockquote>
    ```

    ## How to fix
    Keep shareable quotes short enough for the network, with the link counted in.

    ## References
    - https://developer.x.com/en/docs/x-for-websites/tweet-button/guides/web-intent
    """
    quotes = [b for b in ctx.facts.share_buttons if b.text]
    if not quotes:
        return skipped("no click-to-share quote in the text (credited where present, never failed for its absence)")
    catalogue = share_catalogue()
    too_long: list[str] = []
    for button in quotes:
        network = catalogue.networks.get(button.network)
        if network is None or network.text_limit is None or button.text is None:
            continue
        link = network.link_length or len(button.shares_url or "")
        length = len(button.text) + (1 + link if button.shares_url else 0)
        if length > network.text_limit:
            too_long.append(f"{network.name}: {length} of {network.text_limit} characters: {button.text[:80]}")
    if too_long:
        return warned(f"{_counted(len(too_long), 'quote', 'is', 'are')} too long to post: the network cuts or refuses it",
                      *too_long)
    return passed(f"{plural(len(quotes), 'quote')} in the text can be shared in one click",
                  *(f"{b.network}: {b.text[:120] if b.text else ''}" for b in quotes[:10]))
