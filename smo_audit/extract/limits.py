"""Bounds on the work one page can cause: JSON nesting, DOM element count and depth.

Everything here is a single left-to-right pass over the input (linear, no regex backtracking,
no recursion), run before the expensive step it protects:

- `json_too_deep`: json.loads recurses once per nesting level, so 2 KB of `[[[[...` ends in a
  RecursionError (and a deep value could not be pickled or walked later either). JSON nested
  deeper than MAX_JSON_DEPTH is refused before it is parsed.
- `dom_cut`: lexbor's tree builder is quadratic in the depth of the open-element stack (400 KB
  of unclosed `<div>`s take tens of seconds), so the markup is cut where the depth or the element
  count passes its cap, and only the part before is parsed. Browsers cap the depth too (Chromium
  nests at most 512 levels). The scan follows what a parser would make of the markup, so that
  markup hidden from the parser cannot hide depth from the scan, nor end tags the parser ignores
  undo it: comments, quoted attribute values (`<div title="</div>">`), raw text (script with its
  escape states, style, textarea, title ...), SVG/MathML content (`/>` closes only there), and the
  tree builder's rules for end tags (`</span>` is ignored above an open `<div>`, `</div>` inside a
  table cell). It keeps a stack of the elements that nest (void elements and the ones HTML closes
  implicitly, p li td option ..., are left out: the parser's own tbody > tr around a td, or a
  leaf, may nest a few levels below the last counted element, at most 4 per counted level). Where
  it cannot be exact it errs towards counting more; the per-page time budget catches what it
  misses. It is on every page's path: see benchmarks/dom_cut_benchmark.py for its cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_JSON_DEPTH = 64
MAX_DOM_DEPTH = 512
MAX_ELEMENTS = 100_000

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



# -- dom_cut: what the tokenizer sees ------------------------------------------------------------

# One token at a time, each alternative linear (possessive quantifiers, each step decided by one
# character: no backtracking): a start or end tag with its attributes, whose quoted values may hold
# ">" and tag-like text (1: "/" of an end tag, 2: name, 3: attributes, 4: what precedes ">", whose
# "/" marks a self-closing tag, 5: ">", None when the text ends first); a comment (ends at "-->",
# "--!>", "<!-->" or the end of the text); a bogus comment ("<!doctype ...>", "<![CDATA[", "<?",
# "</3"), which ends at the first ">". Tags first: they are most of the tokens.
_TOKEN = re.compile(r"""
<(?:
    (/?)([A-Za-z][^\t\n\f\r />]*+)
    ((?:[\t\n\f\r /]*+[^\t\n\f\r />][^\t\n\f\r />=]*+
        (?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:"[^"]*+"?|'[^']*+'?|[^\t\n\f\r >]*+))?
     )*+)
    ([\t\n\f\r /]*+)(>)?
  | !--(?:-?>|.*?(?:--!?>|\Z))
  | [!?/][^>]*+>?
)
""", re.VERBOSE | re.DOTALL)
_ATTRIBUTE = re.compile(r"""([^\t\n\f\r />=][^\t\n\f\r />=]*+)(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+("[^"]*+"?|'[^']*+'?|[^\t\n\f\r >]*+))?""")
# Raw text ends at its first end tag; script's escape states ("<!--<script>" hides "</script>").
_RAW_TEXT = frozenset({"style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"})
_RAW_END = {name: re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE) for name in _RAW_TEXT}
_SCRIPT_TOKEN = re.compile(r"<!--(?:-*+>)?|-->|<(/?)script[\t\n\f\r />]", re.IGNORECASE)

# -- dom_cut: what the tree builder does with it (the HTML standard's element categories) ----------

_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                   "wbr", "param", "keygen", "basefont", "bgsound", "frame", "image"})
# Closed implicitly by their siblings or parents: left out of the stack. They pile up only a few
# deep between two elements that are counted: a table's tbody > tr > td (or a caption), then in
# the cell a p (a p closes the p open in its scope), an optgroup and an option (each closes an
# option that is the current node): at most 6 below a counted one.
# Counted instead, as they can nest without end: li, dd and dt, which close a sibling only when
# no other special element is open above it (`<li><dd><li><dd>...` nests), kept on the stack with
# that rule (_LIST_ITEMS); and ruby's rb, rt, rp and rtc, which close each other only inside a
# <ruby> (`<rb><rb>...` nests: their siblings inside a ruby are over-counted until </ruby>).
_IMPLIED_END = frozenset({"p", "option", "optgroup", "tr", "td", "th", "tbody", "thead", "tfoot",
                          "colgroup", "caption", "html", "head", "body", "frameset"})
# A list item start tag closes the open item of its family, unless a special element other than
# address, div or p is open above it (the HTML standard's "li" and "dd, dt" start tag steps).
_LIST_ITEMS = {"li": ("li",), "dd": ("dd", "dt"), "dt": ("dd", "dt")}
_NOT_BLOCKING = frozenset(("address", "div"))  # special elements a list item's closing looks past
# An end tag such as </span> is ignored when one of these is open above its element.
_SPECIAL = frozenset({
    "address", "applet", "article", "aside", "blockquote", "button", "center", "details", "dialog", "dir", "div",
    "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hgroup", "listing", "main", "marquee", "menu", "nav", "noscript", "object", "ol", "pre", "search", "section",
    "select", "summary", "table", "template", "ul", "plaintext", "li", "dd", "dt",
})
# A block end tag such as </div> is ignored when one of these is open above its element.
_SCOPE = frozenset({"applet", "marquee", "object", "table", "template"})
# In SVG and MathML content: these start tags end the foreign content (HTML "breaks out") ...
_BREAKOUT = frozenset({
    "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em", "embed", "h1", "h2",
    "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing", "menu", "meta", "nobr", "ol", "p", "pre",
    "ruby", "s", "small", "span", "strong", "strike", "sub", "sup", "table", "tt", "u", "ul", "var",
})
# ... and inside these the content is HTML again (integration points).
_INTEGRATION = {"svg": frozenset({"foreignobject", "desc", "title"}),
                "math": frozenset({"mi", "mo", "mn", "ms", "mtext", "annotation-xml"})}


def _script_end(text: str, start: int) -> int:
    """Where the script starting at `start` ends (-1: it runs to the end of the text)."""
    escaped = double = False
    for token in _SCRIPT_TOKEN.finditer(text, start):
        value = token.group(0)
        if value[1] == "!":  # "<!--"
            if value[-1] == ">":
                escaped = double = False
            elif not escaped:
                escaped = True
        elif value[0] == "-":  # "-->"
            escaped = double = False
        elif token.group(1):  # "</script"
            if not double:
                return token.start()
            double = False
        elif escaped:  # "<script" inside "<!--"
            double = True
    return -1


def _attributes(tag: str) -> dict[str, str]:
    return {m.group(1).lower(): (m.group(2) or "").strip("\"'").lower() for m in _ATTRIBUTE.finditer(tag)}


_LEAF, _SCRIPT, _RAW, _PLAINTEXT, _FOREIGN_ROOT, _DOCUMENT = range(6)
_KIND = {**dict.fromkeys(_VOID | _IMPLIED_END, _LEAF), "script": _SCRIPT, **dict.fromkeys(_RAW_TEXT, _RAW),
         "plaintext": _PLAINTEXT, "svg": _FOREIGN_ROOT, "math": _FOREIGN_ROOT,
         **dict.fromkeys(("html", "head", "body"), _DOCUMENT)}  # one each whatever the tags say: not counted


class _Tree:
    """The open-element stack as the tree builder would keep it, for the elements that nest."""

    __slots__ = ("blockers", "frames", "scope", "special", "stack", "where")

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.where: dict[str, list[int]] = {}  # name -> its positions in the stack, lowest first
        self.special: list[int] = []  # positions of special elements (see _SPECIAL), lowest first
        self.blockers: list[int] = []  # the special ones but address and div (see _close_list_item)
        self.scope: list[int] = []  # positions of scope boundaries
        self.frames: list[tuple[int, str]] = []  # (position, "svg" | "math" | "html"): namespace changes

    def push(self, name: str, *, special: bool = False, scope: bool = False, frame: str | None = None) -> int:
        """Open an element; the new depth."""
        at = len(self.stack)
        self.stack.append(name)
        positions = self.where.get(name)
        if positions is None:
            self.where[name] = [at]
        else:
            positions.append(at)
        if special:
            self.special.append(at)
            if name not in _NOT_BLOCKING:
                self.blockers.append(at)
        if scope:
            self.scope.append(at)
        if frame is not None:
            self.frames.append((at, frame))
        return at + 1

    def pop_to(self, at: int) -> None:
        """Close the element at stack position `at` and everything above it."""
        stack, where, special, scope, frames = self.stack, self.where, self.special, self.scope, self.frames
        blockers = self.blockers
        while len(stack) > at:
            where[stack.pop()].pop()
            top = len(stack)
            if special and special[-1] == top:
                special.pop()
            if blockers and blockers[-1] == top:
                blockers.pop()
            if scope and scope[-1] == top:
                scope.pop()
            if frames and frames[-1][0] == top:
                frames.pop()

    def end(self, name: str) -> None:
        """An end tag: close its element, unless the tree builder would ignore it."""
        positions = self.where.get(name)
        if not positions:
            return
        at = positions[-1]
        frames = self.frames
        if frames and frames[-1][1] != "html" and at >= frames[-1][0]:
            self.pop_to(at)  # foreign content: closes the nearest element of that name
        elif self.scope and self.scope[-1] > at:
            return  # not in scope (an open table, object, template ... between)
        elif name == "li" and any(self.where.get(bound) and self.where[bound][-1] > at for bound in ("ul", "ol")):
            return  # </li> reaches an li only in list item scope: a list open above it stops it
        elif name in _SPECIAL or not (self.special and self.special[-1] > at):
            self.pop_to(at)
        # else: ignored (</span> above an open <div>); a misnested </b> is not undone either

    def start_foreign(self, name: str, attributes: str, self_closing: bool) -> int:
        """A start tag in SVG or MathML content; the new depth (0: nothing opened)."""
        if name in _BREAKOUT or (name == "font" and {"color", "face", "size"} & _attributes(attributes).keys()):
            self.pop_to(self.frames[-1][0])  # HTML breaks out of foreign content
            return -1  # the caller handles the tag as HTML
        if self_closing:
            return 0  # <path/>: self-closing in SVG and MathML
        if name in _INTEGRATION[self.frames[-1][1]] and (name != "annotation-xml" or _attributes(attributes).get(
                "encoding") in ("text/html", "application/xhtml+xml")):
            return self.push(name, special=True, scope=True, frame="html")
        return self.push(name, frame=name if name in ("svg", "math") else None)


def _close_list_item(tree: _Tree, family: tuple[str, ...]) -> None:
    """Before an li (dd, dt) opens: close the open one of its family, unless a special element other
    than address, div or p is open above it (the last of `tree.blockers`: one look, not a walk)."""
    item = max((tree.where[name][-1] for name in family if tree.where.get(name)), default=-1)
    if item < 0 or (tree.blockers and tree.blockers[-1] > item):
        return  # none open, or another special element above it: the new item nests
    tree.pop_to(item)


def dom_cut(text: str, *, max_depth: int = MAX_DOM_DEPTH, max_elements: int = MAX_ELEMENTS) -> DomCut:
    """Find the offset past which parsing `text` would exceed the depth or element caps."""
    tags = text.count("<")
    if tags <= max_elements and tags - text.count("</") <= max_depth:
        # Too few start tags to reach either cap (each element the scan counts has one, and no
        # end tag is one): most pages end here, at the cost of two str.count calls.
        return DomCut(None)
    tree = _Tree()
    stack, where, special, scope, frames = tree.stack, tree.where, tree.special, tree.scope, tree.frames
    blockers = tree.blockers
    kinds = _KIND
    elements = 0
    position = 0
    while True:
        resume = -1
        for token in _TOKEN.finditer(text, position):
            closing, name, ending = token.group(1, 2, 5)
            if name is None:
                continue  # a comment or a bogus comment
            if ending is None:
                return DomCut(None)  # a tag cut off by the end of the text: the parser drops it
            name = name.lower()
            if closing:
                positions = where.get(name)
                if not positions:
                    continue  # nothing to close
                at = positions[-1]
                if at == len(stack) - 1 and not frames:  # the current node (well-formed markup): closed
                    stack.pop()
                    positions.pop()
                    if special and special[-1] == at:
                        special.pop()
                    if blockers and blockers[-1] == at:
                        blockers.pop()
                    if scope and scope[-1] == at:
                        scope.pop()
                    continue
                if frames and frames[-1][1] != "html" and name in ("br", "p"):
                    tree.pop_to(frames[-1][0])  # </p> and </br> end foreign content too
                tree.end(name)
                continue
            kind = kinds.get(name)
            if kind == _DOCUMENT:
                continue
            elements += 1
            if elements > max_elements:
                return DomCut(token.start(), f"the page has more than {max_elements:,} elements; "
                                             "only the markup before that point was audited")
            if frames and frames[-1][1] != "html":
                depth = tree.start_foreign(name, token.group(3), token.group(4)[-1:] == "/")
                if depth == 0:
                    continue
            else:
                depth = -1
            if depth < 0:
                if kind is None:  # an element that nests (tree.push, inlined: most tags come here)
                    family = _LIST_ITEMS.get(name)
                    if family is not None:
                        _close_list_item(tree, family)
                    depth = len(stack)
                    stack.append(name)
                    positions = where.get(name)
                    if positions is None:
                        where[name] = [depth]
                    else:
                        positions.append(depth)
                    if name in _SPECIAL:
                        special.append(depth)
                        if name not in _NOT_BLOCKING:
                            blockers.append(depth)
                        if name in _SCOPE:
                            scope.append(depth)
                    depth += 1
                elif kind == _LEAF:
                    continue
                elif kind == _SCRIPT:
                    resume = _script_end(text, token.end())
                    break
                elif kind == _RAW:
                    found = _RAW_END[name].search(text, token.end())
                    resume = -1 if found is None else found.start()
                    break
                elif kind == _PLAINTEXT:
                    return DomCut(None)  # the rest of the text is text
                elif token.group(4)[-1:] == "/":
                    continue  # <svg/>: an empty SVG or MathML root
                else:
                    depth = tree.push(name, frame=name)
            if depth > max_depth:
                return DomCut(token.start(), f"elements nest more than {max_depth} levels deep (unclosed tags); "
                                             "only the markup before that point was audited")
        else:
            return DomCut(None)  # the whole text was scanned
        if resume < 0:
            return DomCut(None)  # raw text to the end of the text
        position = resume
