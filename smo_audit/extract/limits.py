"""Bounds on the work one page can cause: JSON nesting, DOM element count and depth.

Everything here is a single left-to-right pass over the input (linear, no regex backtracking,
no recursion), run before the expensive step it protects:

- `json_too_deep`: json.loads recurses once per nesting level, so 2 KB of `[[[[...` ends in a
  RecursionError (and a deep value could not be pickled or walked later either). JSON nested
  deeper than MAX_JSON_DEPTH is refused before it is parsed.
- `dom_cut`: lexbor's tree builder is quadratic in the depth of the open-element stack (400 KB
  of unclosed `<div>`s take tens of seconds), so the markup is cut where the estimated depth or
  the element count passes its cap, and only the part before is parsed. Browsers cap the depth
  too (Chromium nests at most 512 levels). The estimate counts open start tags per tag name that
  have not been closed; void elements, self-closing tags and the elements HTML closes implicitly
  (p, li, td, option ...) do not count. The per-page time budget catches what the estimate misses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_JSON_DEPTH = 64
MAX_DOM_DEPTH = 512
MAX_ELEMENTS = 100_000

_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                   "wbr", "param", "keygen", "basefont", "bgsound", "frame", "image", "!doctype"})
_IMPLIED_END = frozenset({"p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "tbody", "thead", "tfoot",
                          "rb", "rt", "rp", "rtc", "colgroup", "caption", "html", "head", "body"})
# One tag at a time: "<" or "</", a bounded name, and whether the tag ends with "/>" within the
# next 256 characters (a bounded look, so the scan stays linear).
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]{0,31})")
# HTML ignores "/>" on these (`<div/>` opens a div): a trailing slash is self-closing only on
# foreign (SVG/MathML) elements such as <path/>.
_HTML_CONTAINERS = frozenset({
    "a", "abbr", "address", "article", "aside", "audio", "b", "bdi", "bdo", "big", "blockquote", "button", "canvas",
    "center", "cite", "code", "data", "datalist", "del", "details", "dfn", "dialog", "dir", "div", "dl", "em",
    "fieldset", "figcaption", "figure", "font", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hgroup", "i", "ins", "kbd", "label", "legend", "main", "map", "mark", "marquee", "menu", "meter", "nav",
    "nobr", "noscript", "object", "ol", "output", "picture", "pre", "progress", "q", "ruby", "s", "samp", "search",
    "section", "select", "slot", "small", "span", "strike", "strong", "sub", "summary", "sup", "table", "template",
    "time", "tt", "u", "ul", "var", "video",
})
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext"})


def json_too_deep(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when brackets outside strings nest deeper than `limit` (one linear pass)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # cannot be deeper than the number of openers: the common case, in C
    depth = 0
    in_string = False
    escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D) and depth:  # ] }
            depth -= 1
    return False


@dataclass(frozen=True, slots=True)
class DomCut:
    """Where to cut the markup (None: parse it all) and a sentence saying why."""

    at: int | None
    reason: str | None = None


def dom_cut(text: str, *, max_depth: int = MAX_DOM_DEPTH, max_elements: int = MAX_ELEMENTS) -> DomCut:
    """Find the offset past which parsing `text` would exceed the depth or element caps."""
    if text.count("<") <= min(max_depth, max_elements):
        return DomCut(None)  # too few tags to reach either cap
    open_by_name: dict[str, int] = {}
    depth = 0
    elements = 0
    raw_until: str | None = None  # inside <script>/<style>: only its end tag counts
    for match in _TAG.finditer(text):
        closing, name = match.group(1), match.group(2).lower()
        if raw_until is not None:
            if closing and name == raw_until:
                raw_until = None
            continue
        if closing:
            count = open_by_name.get(name, 0)
            if count:
                open_by_name[name] = count - 1
                depth -= 1
            continue
        elements += 1
        if elements > max_elements:
            return DomCut(match.start(), f"the page has more than {max_elements:,} elements; "
                                         "only the markup before that point was audited")
        if name in _RAW_TEXT:
            raw_until = name
            continue
        if name in _VOID or name in _IMPLIED_END:
            continue
        end = text.find(">", match.end(), match.end() + 256)
        if end > 0 and text[end - 1] == "/" and name not in _HTML_CONTAINERS:
            continue  # <path ... />: self-closing (SVG, MathML)
        open_by_name[name] = open_by_name.get(name, 0) + 1
        depth += 1
        if depth > max_depth:
            return DomCut(match.start(), f"elements nest more than {max_depth} levels deep (unclosed tags); "
                                         "only the markup before that point was audited")
    return DomCut(None)
