"""Rules only a browser can judge (`needs="rendered"`): can people see and tap the share buttons?

The facts come from smo_audit/render/ (`ctx.rendered`): each share button measured in each
rendered viewport (desktop 1366x768, mobile 390x844 with touch). Static mode skips these rules
with the reason; a page that could not be rendered skips them with its render error.
"""

from __future__ import annotations

from collections.abc import Iterator

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
from smo_audit.render.facts import TAP_MINIMUM, TAP_RECOMMENDED, ButtonView, ViewportView

from ._tags import human_list, plural

CATEGORY = "share-buttons"


def _views(ctx: PageContext) -> list[ViewportView]:
    return list(ctx.rendered.viewports) if ctx.rendered is not None else []


def _buttons(view: ViewportView) -> list[ButtonView]:
    """Share controls that are elements of this viewport's page (not SDK script tags)."""
    return [b for b in view.buttons if b.found]


def _label(button: ButtonView) -> str:
    name = button.network if button.network != "unknown" else "share control"
    return f"{name} ({button.selector})" if button.selector else name


def _hidden(button: ButtonView) -> str:
    return f"{_label(button)}: {', '.join(button.hidden_because) or 'hidden'}"


def _inherited(ctx: PageContext) -> str:
    if ctx.rendered is not None and ctx.rendered.status == "inherited" and ctx.rendered.from_url:
        return f" (measured on {ctx.rendered.from_url}, same template)"
    return ""


def _visible_in(ctx: PageContext, viewport: str) -> Outcome | None:
    view = ctx.rendered.viewport(viewport) if ctx.rendered is not None else None
    if view is None:
        return skipped(f"the {viewport} viewport was not rendered (see --viewports)")
    buttons = _buttons(view)
    if not buttons:
        return None
    visible = [b for b in buttons if b.visible]
    hidden = [b for b in buttons if not b.visible]
    where = _inherited(ctx)
    if not visible:
        return failed(f"none of the {plural(len(buttons), 'share button')} is visible on {viewport}{where}",
                      *(_hidden(b) for b in hidden[:20]),
                      data={"viewport": viewport, "hidden": [b.selector for b in hidden[:50]]})
    if hidden:
        return passed(f"{len(visible)} of {plural(len(buttons), 'share button')} visible on {viewport}{where}; "
                      f"hidden: {human_list([_label(b) for b in hidden[:5]])}", *(_hidden(b) for b in hidden[:20]))
    return passed(f"{plural(len(visible), 'share button')} visible on {viewport}{where}",
                  *(_label(b) for b in visible[:20]))


@page_rule(id="share-visible-mobile", title="Share buttons visible on phones", category=CATEGORY,
           severity="error", weight=3, needs="rendered")
def share_visible_mobile(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Rendered in a 390x844 touch viewport with a phone's user agent, at least one of the page's
    share buttons is visible: displayed, larger than 1x1 px, not `visibility:hidden`, opacity
    above 0, not clipped away by an ancestor's `overflow` and not positioned off the page. Each
    hidden button is listed with the reason. Pages without share buttons are not judged here.

    A hygiene rule (rules/scoring.toml): passing it earns no points and a problem costs a share
    of the Share buttons score, so buttons with the problem never score above no buttons.

    ## Why it matters
    Most shares happen on phones. A share bar hidden by a responsive breakpoint (`@media
    (max-width: 600px) { .share { display: none } }`), pushed off-screen or collapsed to zero
    size is a share bar the majority of readers never see.

    ## Failing example
    ```html
    <style>@media (max-width: 600px) { .share { display: none } }</style>
    <div class="share"><a href="https://www.facebook.com/sharer/sharer.php?u=...">Share</a></div>
    ```

    ## Passing example
    ```html
    <div class="share"><a href="https://www.facebook.com/sharer/sharer.php?u=...">Share</a></div>
    ```

    ## How to fix
    Keep a share bar in the mobile layout: show the desktop one, or a compact bar (icons, or one
    button calling `navigator.share()`), instead of hiding it below a breakpoint.

    ## References
    - https://developer.chrome.com/docs/devtools/device-mode
    """
    return _visible_in(ctx, "mobile")


@page_rule(id="share-visible-desktop", title="Share buttons visible on desktop", category=CATEGORY,
           severity="error", weight=2, needs="rendered")
def share_visible_desktop(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Rendered in a 1366x768 desktop viewport, at least one of the page's share buttons is
    visible: displayed, larger than 1x1 px, not `visibility:hidden`, opacity above 0, not clipped
    away and not off the page. Each hidden button is listed with the reason.

    A hygiene rule (rules/scoring.toml): passing it earns no points and a problem costs a share
    of the Share buttons score, so buttons with the problem never score above no buttons.

    ## Why it matters
    Share buttons that only exist in the markup (a bar left at `opacity: 0` by an animation that
    never runs, a `visibility: hidden` bar waiting for a script, icons moved to `left: -9999px`)
    cost page weight and share nothing.

    ## Failing example
    ```html
    <div class="share" style="visibility:hidden"><a href="https://x.com/intent/post?url=...">Post</a></div>
    ```

    ## Passing example
    ```html
    <div class="share"><a href="https://x.com/intent/post?url=...">Post</a></div>
    ```

    ## How to fix
    Find why the bar is hidden (the listed reason), and show it without depending on a script
    or an animation finishing.

    ## References
    - https://developer.mozilla.org/en-US/docs/Web/API/Element/checkVisibility
    """
    return _visible_in(ctx, "desktop")


@page_rule(id="share-reachable", title="A share button within reach", category=CATEGORY, severity="warning",
           weight=2, needs="rendered",
           options={"screens": Option(2.0, "How many screen heights down the first share button may be.")})
def share_reachable(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    In every rendered viewport, at least one visible share button is in the first screen, or
    sticky/fixed (it follows the reader), or at most `screens` screen heights down the page.

    A hygiene rule (rules/scoring.toml): passing it earns no points and a problem costs a share
    of the Share buttons score, so buttons with the problem never score above no buttons.

    ## Why it matters
    A share bar at the end of a long article is met by the few who finish it; readers share
    when the thought strikes. A sticky bar or one near the title is there when they want it.

    ## Failing example
    ```html
    <article>(five screens of text)</article>
    <div class="share"><a href="https://www.facebook.com/sharer/sharer.php?u=...">Share</a></div>
    ```

    ## Passing example
    ```html
    <div class="share" style="position:sticky;top:0">
      <a href="https://www.facebook.com/sharer/sharer.php?u=...">Share</a></div>
    <article>(five screens of text)</article>
    ```

    ## How to fix
    Add a share bar near the title, or make the bar sticky (`position: sticky`), or a floating
    button on phones.

    ## Options
    `screens`: screen heights the first share button may be down the page (default 2).

    ## References
    - https://www.nngroup.com/articles/social-media-buttons/
    """
    views = _views(ctx)
    if not views:
        return None
    screens = float(ctx.options.get("screens", 2.0))
    far: list[str] = []
    near: list[str] = []
    judged = False
    for view in views:
        visible = [b for b in _buttons(view) if b.visible and b.box is not None]
        if not visible:
            continue
        judged = True
        reachable = [b for b in visible if b.fixed or b.in_first_viewport]
        if reachable:
            kind = "sticky/fixed" if all(b.fixed for b in reachable) else "in the first screen"
            near.append(f"{view.name}: {_label(reachable[0])} {kind}")
            continue
        first = min(visible, key=lambda b: b.box.y if b.box else 0.0)
        assert first.box is not None
        depth = first.box.y / max(view.height, 1)
        if depth <= screens:
            near.append(f"{view.name}: {_label(first)} {depth:.1f} screens down")
        else:
            far.append(f"{view.name}: the first share button is {depth:.1f} screens down ({_label(first)})")
    if not judged:
        if not any(_buttons(view) for view in views):
            return skipped("no share button was found on the rendered page: there is none to reach")
        return skipped("no share button is visible in any rendered viewport "
                       "(see share-visible-mobile and share-visible-desktop)")
    if far:
        return failed(f"share buttons are out of reach: {'; '.join(far)}{_inherited(ctx)}", *far, *near)
    return passed(f"a share button is within reach in every viewport{_inherited(ctx)}", *near)


@page_rule(id="share-tap-target", title="Share buttons large enough to tap", category=CATEGORY,
           severity="warning", weight=1, needs="rendered")
def share_tap_target(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Each visible share button is at least 24x24 CSS px on screen (WCAG 2.2 success criterion
    2.5.8, Target Size (Minimum)) in every viewport, and at least 44x44 px on phones (WCAG 2.5.5,
    Apple's and Google's touch-target guidance). On a phone page laid out wider than the screen
    (no `<meta name="viewport">`), sizes are taken as shown, after the browser's zoom-out.
    Below 24 px fails; between 24 and 44 px on a phone warns.

    A hygiene rule (rules/scoring.toml): passing it earns no points and a problem costs a share
    of the Share buttons score, so buttons with the problem never score above no buttons.

    ## Why it matters
    A 16 px icon is easy to click with a mouse and hard to hit with a thumb: readers tap the
    neighbouring icon, or give up.

    ## Failing example
    ```html
    <a href="https://x.com/intent/post?url=..." style="display:inline-block;width:16px;height:16px">
      <svg width="16" height="16" aria-label="Post on X">…</svg></a>
    ```

    ## Passing example
    ```html
    <a href="https://x.com/intent/post?url=..." style="display:inline-block;min-width:44px;min-height:44px">Post</a>
    ```

    ## How to fix
    Give each button padding so that its box is at least 44x44 px on phones (the icon can
    stay small), and add `<meta name="viewport" content="width=device-width, initial-scale=1">`.

    ## References
    - https://www.w3.org/WAI/WCAG22/Understanding/target-size-minimum.html
    - https://www.w3.org/WAI/WCAG22/Understanding/target-size-enhanced.html
    """
    too_small: list[str] = []
    small: list[str] = []
    judged = 0
    for view in _views(ctx):
        mobile = view.name == "mobile"
        for button in _buttons(view):
            if not button.visible or button.box is None:
                continue
            judged += 1
            size = f"{button.box.width * min(view.scale, 1):.0f}x{button.box.height * min(view.scale, 1):.0f} px"
            if not button.tap_ok:
                too_small.append(f"{view.name}: {_label(button)} is {size} (minimum {TAP_MINIMUM:.0f}x{TAP_MINIMUM:.0f})")
            elif mobile and not button.tap_recommended:
                small.append(f"{view.name}: {_label(button)} is {size} "
                             f"(recommended {TAP_RECOMMENDED:.0f}x{TAP_RECOMMENDED:.0f} on phones)")
    if not judged:
        return None
    if too_small:
        return failed(f"{plural(len(too_small), 'share button')} smaller than {TAP_MINIMUM:.0f}x{TAP_MINIMUM:.0f} px"
                      f"{_inherited(ctx)}", *too_small[:20], *small[:10])
    if small:
        return warned(f"{plural(len(small), 'share button')} under {TAP_RECOMMENDED:.0f}x{TAP_RECOMMENDED:.0f} px "
                      f"on phones{_inherited(ctx)}", *small[:20])
    return passed(f"{plural(judged, 'visible share button')} large enough to tap{_inherited(ctx)}")


def _covered(views: list[ViewportView]) -> Iterator[tuple[ViewportView, ButtonView]]:
    for view in views:
        for button in _buttons(view):
            if button.visible and button.covered_by:
                yield view, button


@page_rule(id="share-not-covered", title="Share buttons not covered by overlays", category=CATEGORY,
           severity="error", weight=2, needs="rendered")
def share_not_covered(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Nothing else is on top of a visible share button at its centre, where a tap lands (the
    browser's `elementFromPoint`): a cookie banner, a newsletter pop-up, a chat bubble, a sticky
    header. Buttons in the first screen are checked as the page opens; others once scrolled to
    the middle of the screen. The covering element is named.

    A hygiene rule (rules/scoring.toml): passing it earns no points and a problem costs a share
    of the Share buttons score, so buttons with the problem never score above no buttons.

    ## Why it matters
    A first-time visitor meets the cookie banner before anything else. A banner over a sticky
    share bar, or a chat bubble over the last icon, turns a tap on "share" into a tap on
    something else.

    ## Failing example
    ```html
    <div class="share" style="position:fixed;bottom:0">…</div>
    <div class="cookie-banner" style="position:fixed;bottom:0;left:0;right:0;height:120px">…</div>
    ```

    ## Passing example
    ```html
    <div class="share" style="position:fixed;bottom:0">…</div>
    <div class="cookie-banner" style="position:fixed;top:0;left:0;right:0">…</div>
    ```

    ## How to fix
    Place banners and bubbles where they do not cover the share bar (or move the bar above them),
    and keep the banner small on phones.

    ## References
    - https://developer.mozilla.org/en-US/docs/Web/API/Document/elementFromPoint
    - https://www.w3.org/WAI/WCAG22/Understanding/focus-not-obscured-minimum.html
    """
    views = _views(ctx)
    visible = [b for v in views for b in _buttons(v) if b.visible]
    if not visible:
        return None
    covered = list(_covered(views))
    if covered:
        evidence = [f"{view.name}: {_label(b)} is under {b.covered_by}" for view, b in covered]
        first_view, first = covered[0]
        return failed(f"{plural(len(covered), 'share button')} covered by another element "
                      f"(e.g. {first.covered_by} on {first_view.name}){_inherited(ctx)}", *evidence[:20],
                      data={"covered": [[v.name, b.selector, b.covered_by] for v, b in covered[:50]]})
    return passed(f"no share button is covered ({plural(len(visible), 'visible button')} checked){_inherited(ctx)}")


@page_rule(id="js-changed-head", title="Title and canonical not changed by JavaScript", category="crawler-access",
           severity="warning", weight=1, needs="rendered")
def js_changed_head(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    The rendered page's `<title>` and `<link rel="canonical">` are those of the HTML the server
    sends: a script does not change them.

    ## Why it matters
    Social crawlers and most link unfurlers read the raw HTML: a title or canonical set by a
    script is one they never see, so the shared card shows the placeholder title and the shares
    are counted on the wrong URL.

    ## Failing example
    ```html
    <title>Loading…</title>
    <script>document.title = "Spring collection"</script>
    ```

    ## Passing example
    ```html
    <title>Spring collection</title>
    ```

    ## How to fix
    Render the final title and canonical on the server (server-side rendering, static
    generation, or a pre-rendering service for bots).

    ## References
    - https://developers.facebook.com/docs/sharing/webmasters/web-crawlers/
    - https://developers.google.com/search/docs/crawling-indexing/javascript/javascript-seo-basics
    """
    rendered = ctx.rendered
    if rendered is None:
        return skipped("needs rendered mode (run with --render)")
    # An inherited page is judged by its sample's own comparison (the template's scripts are the
    # same), so sampling never takes this rule out of a page's score: a page rendered itself
    # because its controls changed would otherwise score differently from the same page inherited.
    changes = rendered.changes if rendered.status == "rendered" else rendered.sample_changes
    if changes is None:
        return skipped("the page was not rendered (see its render reason)")
    where = f" (measured on {rendered.from_url}, same template)" if rendered.status == "inherited" else ""
    changed: list[str] = []
    if changes.title is not None:
        changed.append(f"title: {changes.title[0]!r} in the HTML, {changes.title[1]!r} after scripts{where}")
    if changes.canonical is not None:
        changed.append(f"canonical: {changes.canonical[0]} in the HTML, {changes.canonical[1]} after scripts{where}")
    if changed:
        parts = human_list([c.split(":", 1)[0] for c in changed])
        return warned(f"JavaScript changes the {parts}: crawlers see the HTML's{where}", *changed)
    return passed(f"the title and canonical are the same in the HTML and after scripts run{where}")
