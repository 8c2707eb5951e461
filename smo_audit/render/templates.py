"""Template sampling for `--render auto`: render a few pages per template, let the others inherit.

Share bars, sign-in buttons and overlays come from a site's templates, so rendering every article
of a blog measures the same share bar a thousand times. A page's **signature** has two parts:

* **layout**: the skeleton of the page's structure. The element tree of `<body>` down to depth
  6, keeping only block-level structure (header, nav, main, article, aside, section, footer, div,
  form, ul/ol, table, iframe, dialog); each node written as `tag#id.classes` with digits in
  ids and class names replaced by `0` (`post-123` and `post-456` are one shape) and runs of
  identical siblings collapsed to one (a list of 3 or 30 posts is one shape). Text, links and
  inline markup are ignored: they are content, not layout.
  The inline declarations that decide whether content shows (`display`, `visibility`,
  `position`, `opacity`, `content-visibility` in a `style` attribute) and the `hidden` attribute
  are part of a node's shape: a page whose share bar is hidden by its own inline style is not
  the template's other pages.
* **controls**: what rendered mode measures, from the page's static facts: each share button
  (network, mechanism, provider, selector with the URL taken out), share widget (provider,
  whether its script draws it), sign-in entry (provider, mechanism, broker), social widget and
  profile-link network and place, and whether the page has a password form; and roughly how far
  down the HTML the first share link is (in doubling stretches from 8K characters: under 8K,
  8-16K, 16-32K, ...), so a long article whose bar follows the text is not given a short
  article's "in the first screen".

Pages with the same layout are one template; within it, pages with the same controls are one
group. The first `samples` pages of each group are rendered; later pages of the group inherit the
first successful sample's rendered facts (`render.status = "inherited"`, `render.from_url`). A
page whose controls differ from the rest of its template starts a group of its own and so is
rendered itself. A sample that fails to render frees its place for the next page of the group.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from smo_audit.extract.facts import PageFacts
from smo_audit.extract.limits import dom_cut
from smo_audit.render.facts import RenderedPage

_STRUCTURAL = frozenset({
    "header", "nav", "main", "article", "aside", "section", "footer", "div", "form", "ul", "ol",
    "table", "iframe", "dialog", "body",
})
_DIGITS = re.compile(r"\d+")
MAX_DEPTH = 6
MAX_NODES = 2000


_STYLE_KEYS = frozenset(("display", "visibility", "position", "opacity", "content-visibility"))


def _shape(node: LexborNode) -> str:
    tag = node.tag or ""
    attrs = node.attributes
    text = tag
    element_id = attrs.get("id")
    if element_id:
        text += "#" + _DIGITS.sub("0", element_id)[:40]
    classes = (attrs.get("class") or "").split()
    if classes:
        text += "." + ".".join(sorted({_DIGITS.sub("0", c)[:40] for c in classes})[:6])
    style = attrs.get("style")
    if style:
        text += _style_shape(style)
    if "hidden" in attrs:
        text += "[hidden]"
    return text


def _style_shape(style: str) -> str:
    """The inline declarations that decide whether what is inside shows (`display:none` on one
    page's share bar): a page that hides its bar differs from its template's samples."""
    found = set()
    for declaration in style[:500].split(";"):
        name, _, value = declaration.partition(":")
        name = name.strip().lower()
        if name in _STYLE_KEYS:
            found.add(f"{name}:{' '.join(value.lower().split())[:24]}")
    return "{" + ",".join(sorted(found)) + "}" if found else ""


_POSITION_STEP = 8192  # characters of HTML


def share_position(html: str, facts: PageFacts) -> str:
    """Roughly how far down the HTML the first share link is, in doubling stretches (under 8K
    characters, 8-16K, 16-32K, ...): a bar after the article moves down with the article's length,
    and whether it is in the first screen cannot be carried from a short sample to a long page."""
    for button in facts.share_buttons:
        needle = button.href[:40]
        if len(needle) < 12:
            continue
        at = html.find(needle, 0, 4 * 1024 * 1024)
        if at >= 0:
            return f"at:{min((at // _POSITION_STEP).bit_length(), 8)}"
    return "at:?"


def layout_signature(html: str) -> str:
    """A short hash of the page's structural skeleton (see the module docstring).

    Only the markup within the DOM caps is parsed (extract/limits.py): the signature is taken in
    the crawl process, where 70,000 unclosed <div>s once stalled every fetch for seconds."""
    cut = dom_cut(html)
    tree = LexborHTMLParser(html if cut.at is None else html[: cut.at])
    body = tree.body
    if body is None:
        return "empty"
    parts: list[str] = []
    budget = [MAX_NODES]

    def walk(node: LexborNode, depth: int) -> None:
        previous = None
        child = node.child
        while child is not None and budget[0] > 0:
            if child.tag in _STRUCTURAL:
                shape = _shape(child)
                if shape != previous:  # runs of identical siblings are one shape
                    budget[0] -= 1
                    parts.append(f"{depth}:{shape}")
                    if depth < MAX_DEPTH:
                        walk(child, depth + 1)
                previous = shape
            child = child.next
        parts.append(f"{depth}:/")

    walk(body, 0)
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:12]


def controls_signature(facts: PageFacts) -> str:
    """A short hash of the controls rendered mode measures (see the module docstring)."""
    parts: list[str] = []
    for b in facts.share_buttons:
        selector = "a[href]" if b.selector.startswith("a[href=") else b.selector
        parts.append(f"share:{b.network}:{b.mechanism}:{b.provider}:{_DIGITS.sub('0', selector)}")
    parts.extend(f"widget:{w.provider}:{w.js_only}:{w.kind}" for w in facts.share_widgets)
    parts.extend(f"sign-in:{s.provider}:{s.mechanism}:{s.via}" for s in facts.sign_in)
    parts.extend(f"social:{w.provider}:{w.kind}:{w.widget}" for w in facts.social_widgets)
    parts.extend(sorted({f"profile:{p.network}:{p.location}" for p in facts.profile_links}))
    parts.append(f"password:{facts.has_password_form}")
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:12]


@dataclass
class _Group:
    samples: list[tuple[str, RenderedPage]] = field(default_factory=list)  # (url, rendered)
    in_flight: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)


@dataclass(frozen=True, slots=True)
class Decision:
    render: bool
    sample_url: str | None = None
    sample: RenderedPage | None = None


class TemplateSampler:
    """Decides, page by page, whether to render or to inherit (safe under concurrent pages)."""

    def __init__(self, samples: int) -> None:
        self.samples = max(1, samples)
        self._groups: dict[tuple[str, str], _Group] = {}
        self.layouts: set[str] = set()

    async def decide(self, layout: str, controls: str) -> Decision:
        self.layouts.add(layout)
        group = self._groups.setdefault((layout, controls), _Group())
        async with group.changed:
            while True:
                if len(group.samples) + group.in_flight < self.samples:
                    group.in_flight += 1
                    return Decision(render=True)
                if group.samples:
                    url, sample = group.samples[0]
                    return Decision(render=False, sample_url=url, sample=sample)
                await group.changed.wait()  # the group's samples are still rendering

    async def done(self, layout: str, controls: str, url: str, rendered: RenderedPage | None) -> None:
        """A sample finished; `rendered` None when it failed (its place goes to the next page)."""
        group = self._groups[(layout, controls)]
        async with group.changed:
            group.in_flight -= 1
            if rendered is not None:
                group.samples.append((url, rendered))
            group.changed.notify_all()
