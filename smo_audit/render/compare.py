"""Raw HTML vs rendered DOM: what scripts changed, and the facts page rules judge.

Rules judge *effective* facts in rendered mode: the link-preview half (title, canonical, og:,
twitter:) stays the static one, because social crawlers never run scripts; the controls half
(share buttons and widgets, sign-in, social widgets, profile links) is what the browser shows,
because that is what people use. Share buttons get `visible` from the viewports' measurements.
The report keeps both sides: `facts` (static, with `visible` filled) and `render.facts`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TypeVar

from smo_audit.extract.facts import PageFacts, ShareButton, SignIn
from smo_audit.render.facts import RenderedPage, ScriptChanges, ViewportView

T = TypeVar("T")
PREVIEW_PREFIXES = ("og:", "twitter:")

ButtonKey = tuple[str, str, str, int]


def button_keys(buttons: Sequence[ShareButton], *, portable: bool = False) -> list[ButtonKey]:
    """(network, selector, href, occurrence) per button; `portable` drops the page-specific href
    (share links carry the page's URL) so buttons of two pages of one template match."""
    seen: dict[tuple[str, str, str], int] = {}
    keys: list[ButtonKey] = []
    for button in buttons:
        selector = button.selector
        href = button.href
        if portable:
            href = ""
            if selector.startswith("a[href="):
                selector = "a[href]"
        base = (button.network, selector, href)
        n = seen.get(base, 0)
        seen[base] = n + 1
        keys.append((*base, n))
    return keys


def pair_buttons(static: Sequence[ShareButton], shown: Sequence[ShareButton], *,
                 portable: bool = False) -> list[int | None]:
    """For each static button, the index of the same button in `shown` (None: not shown).

    Matched by network, selector, href and occurrence first; what is left by the same without the
    href: a script that fills the share URL in (`u=` + `location.href`) changes the link, not the
    button, which must neither count twice nor be reported as drawn by the script."""
    index = {key: i for i, key in enumerate(button_keys(shown, portable=portable))}
    pairs = [index.get(key) for key in button_keys(static, portable=portable)]
    taken = {i for i in pairs if i is not None}
    spare: dict[tuple[str, str, str], list[int]] = {}
    for i, key in enumerate(button_keys(shown, portable=True)):
        if i not in taken:
            spare.setdefault(key[:3], []).append(i)
    for n, key in enumerate(button_keys(static, portable=True)):
        candidates = spare.get(key[:3]) if pairs[n] is None else None
        if candidates:
            pairs[n] = candidates.pop(0)
    return pairs


def script_changes(static: PageFacts, rendered: PageFacts) -> ScriptChanges:
    raw_tags = {**static.open_graph, **static.twitter}
    new_tags = {**rendered.open_graph, **rendered.twitter}
    added = tuple(k for k in new_tags if k.startswith(PREVIEW_PREFIXES) and k not in raw_tags)
    changed = tuple(k for k in new_tags if k in raw_tags and k.startswith(PREVIEW_PREFIXES) and new_tags[k] != raw_tags[k])
    in_html = set(pair_buttons(static.share_buttons, rendered.share_buttons))
    drawn = [b for i, b in enumerate(rendered.share_buttons) if i not in in_html]
    buttons_added = tuple(
        f"{b.network}{f' ({b.provider})' if b.provider else ''}: {b.selector or b.href}"[:200]
        for b in drawn if b.network != "menu"  # a menu toggle shares nothing itself
    )
    static_providers = {w.provider for w in static.share_widgets if not w.js_only}
    widgets_added = tuple(dict.fromkeys(
        b.provider for b in drawn if b.provider and b.provider not in static_providers
    ))
    static_sign_in = {(s.provider, s.mechanism, s.evidence) for s in static.sign_in}
    sign_in_added = tuple(
        f"{s.provider} ({s.mechanism}{f', {s.via}' if s.via else ''}): {s.evidence}"[:200]
        for s in rendered.sign_in if (s.provider, s.mechanism, s.evidence) not in static_sign_in
    )
    title = (static.title, rendered.title) if (static.title or "").strip() != (rendered.title or "").strip() else None
    canonical = (static.canonical, rendered.canonical) if static.canonical != rendered.canonical else None
    return ScriptChanges(added, changed, title, canonical, buttons_added, widgets_added, sign_in_added)


def visibility_by_key(viewports: Iterable[ViewportView], keys_per_viewport: Sequence[Sequence[ButtonKey]]) -> dict[ButtonKey, bool]:
    """Visible in at least one viewport (per-viewport details stay in the viewports)."""
    result: dict[ButtonKey, bool] = {}
    for view, keys in zip(viewports, keys_per_viewport, strict=True):
        for key, button in zip(keys, view.buttons, strict=True):
            result[key] = result.get(key, False) or (button.found and button.visible)
    return result


def with_visibility(buttons: Sequence[ShareButton], visible: dict[ButtonKey, bool]) -> tuple[ShareButton, ...]:
    keys = button_keys(buttons)
    return tuple(
        replace(b, visible=visible.get(key, False)) for b, key in zip(buttons, keys, strict=True)
    )


def _union(first: Sequence[T], second: Sequence[T], key: Callable[[T], object]) -> tuple[T, ...]:
    seen = {key(item) for item in first}
    return (*first, *(item for item in second if key(item) not in seen))


def effective_facts(static: PageFacts, rendered: RenderedPage) -> PageFacts:
    """Static preview facts + rendered controls (see the module docstring)."""
    shown = rendered.facts
    if shown is None:
        return static
    pairs = pair_buttons(static.share_buttons, shown.share_buttons, portable=rendered.status == "inherited")
    gone = tuple(  # in the HTML, removed by a script: nobody sees it
        replace(b, visible=False) for b, pair in zip(static.share_buttons, pairs, strict=True) if pair is None
    )
    return replace(
        static,
        share_buttons=(*shown.share_buttons, *gone),
        share_widgets=_union(shown.share_widgets, static.share_widgets, lambda w: w.provider),
        sign_in=_union(shown.sign_in, static.sign_in, _sign_in_key),
        social_widgets=_union(shown.social_widgets, static.social_widgets, lambda w: (w.provider, w.widget, w.kind)),
        profile_links=_union(static.profile_links, shown.profile_links, lambda p: p.url),
    )


def _sign_in_key(sign_in: SignIn) -> tuple[str, str]:
    return (sign_in.provider, sign_in.mechanism)


def static_with_visibility(static: PageFacts, rendered: RenderedPage) -> PageFacts:
    """The static facts for the report, each share button's `visible` filled from the render."""
    if rendered.facts is None:
        return static
    shown = rendered.facts.share_buttons
    pairs = pair_buttons(static.share_buttons, shown, portable=rendered.status == "inherited")
    return replace(static, share_buttons=tuple(
        replace(b, visible=pair is not None and bool(shown[pair].visible))
        for b, pair in zip(static.share_buttons, pairs, strict=True)
    ))
