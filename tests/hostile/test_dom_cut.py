"""dom_cut against lexbor: what the scan counts must be what the parser builds.

The cap protects the parser, so the scan must not be fooled by markup the parser reads another way
(tags inside comments, attribute values, scripts; end tags the tree builder ignores), and it must
leave pages within the caps alone. Hypothesis writes the markup; lexbor (the parser the audit uses)
is the judge. Small caps so that small inputs reach them.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser, LexborNode

from smo_audit.extract.limits import dom_cut

SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
DEPTH, ELEMENTS = 12, 80
# The scan counts the elements that nest; the ones that close implicitly (limits._IMPLIED_END)
# can stay open below each counted one: a <td> opens tbody > tr > td, and in the cell a p, an
# optgroup and an option (`<p><optgroup><option><table><td>` repeated): at most 6, so 7 levels
# per counted element, and 6 more below the last. A tag opens at most 7 elements too.
IMPLIED_BELOW = 6
IMPLIED_FACTOR = IMPLIED_BELOW + 1
DEPTH_BOUND = DEPTH * IMPLIED_FACTOR + IMPLIED_BELOW
_IMPLIED = frozenset({"html", "head", "body"})


def lexbor_shape(html: str) -> tuple[int, int]:
    """(deepest element nesting, element count) of `html` as lexbor builds it, html/head/body left out
    (template contents are a separate fragment selectolax does not walk: no template in these tests)."""
    root = LexborHTMLParser(html).root
    if root is None:
        return 0, 0
    deepest = count = 0
    todo: list[tuple[LexborNode, int]] = [(root, 0)]
    while todo:
        node, depth = todo.pop()
        if node.tag in _IMPLIED:
            level = depth
        else:
            level = depth + 1
            count += 1
            deepest = max(deepest, level)
        child = node.child
        while child is not None:
            if child.tag is not None and not child.tag.startswith("-"):  # elements, not text or comments
                todo.append((child, level))
            child = child.next
    return deepest, count


def cut(html: str) -> str:
    at = dom_cut(html, max_depth=DEPTH, max_elements=ELEMENTS).at
    return html if at is None else html[:at]


# -- examples: each once bypassed the cap --------------------------------------------------------

HIDING = {
    "end tags in comments": "<div><!--</div>-->",
    "end tags in attribute values": '<div title="</div>">',
    "end tags in single-quoted values": "<div data-x='</div>'>",
    "an end tag ignored above an open div": "<span><div></span></div>",
    "an end tag ignored in a table cell": "<div><table><td></div></table>",
    "self-closing outside SVG opens": "<x-icon/>",
    "script escapes hide its end tag": "<div><script><!--<script></script></div>--></script>",
    "style is not raw text in SVG": "<svg><style><g>",
    "an SVG end tag ignored in foreignObject": "<svg><foreignObject></svg><div>",
    "ruby elements outside a ruby nest": "<rb>",
    "ruby elements of each kind": "<rt><rp><rtc>",
    "tables in paragraphs in cells": "<p><table><td>",
    "options in paragraphs in cells": "<p><optgroup><option><table><td>",
    "list items of two families": "<li><dd>",
    "list items around an option": "<li><option><dt>",
    "an end tag ignored above an open list": "<li><ul></li>",
    "an end tag ignored above an ordered list": "<li><ol></li>",
}


@pytest.mark.parametrize("unit", HIDING.values(), ids=HIDING.keys())
def test_hiding_markup_is_cut_where_lexbor_would_nest_past_the_cap(unit: str) -> None:
    html = unit * 200
    whole = lexbor_shape(html)
    assert whole[0] > DEPTH or whole[1] > ELEMENTS, f"the example does not reach the caps: {whole}"
    assert dom_cut(html, max_depth=DEPTH, max_elements=ELEMENTS).at is not None
    depth, count = lexbor_shape(cut(html))
    assert depth <= DEPTH_BOUND and count <= ELEMENTS * IMPLIED_FACTOR


@pytest.mark.parametrize("unit", HIDING.values(), ids=HIDING.keys())
def test_hiding_markup_is_cut_by_depth_alone(unit: str) -> None:
    """The same with an element cap out of reach: the depth cap alone must hold (the element cap
    had hidden that `<li><dd>` and `<li><ul></li>` repeated nested past it)."""
    html = unit * 400
    depth = lexbor_shape(html[: dom_cut(html, max_depth=DEPTH, max_elements=1_000_000).at])[0]
    assert depth <= DEPTH_BOUND, depth


@pytest.mark.parametrize("markup", [
    "<div><!--<div><div>--><p>x</p></div>",
    '<div title="<div><div>" data-x=\'<div>\'>x</div>',
    "<div><script>if (a<b) document.write('<div><div>')</script></div>",
    "<div><style>div > p { }</style><textarea><div></textarea><title><div></title></div>",
    "<svg><g><path d='M0 0'/><path/></g></svg><div></div>",
    "<a href=/x/>link</a><div></div>",
], ids=["comment", "attributes", "script", "raw text", "svg", "unquoted slash"])
def test_markup_hidden_from_the_parser_does_not_count(markup: str) -> None:
    html = markup * 300  # far more tags than the caps, all closed: nothing nests
    assert lexbor_shape(html)[0] <= 3
    assert dom_cut(html, max_depth=DEPTH, max_elements=100_000).at is None


def test_the_cut_reason_names_the_cap() -> None:
    assert "levels deep" in (dom_cut("<div>" * 600).reason or "")
    assert "elements" in (dom_cut("<br>" * 100_001).reason or "")


# -- properties ------------------------------------------------------------------------------------

_TEXTY = st.sampled_from(["x", " ", "</div>", "<div>", "<!--", "-->", "'", '"', ">", "<", "/", "=", "</script>",
                          "<script>", "</span>", "]]>"])
_ATTR_VALUE = st.lists(_TEXTY, max_size=4).map("".join)


def _value(text: str, quote: str) -> str:
    """`text` as a well-formed attribute value in that quote (unquoted: no space, no ">", no leading quote)."""
    if quote:
        return text.replace(quote, "")
    return text.replace(" ", "").replace(">", "").lstrip("'\"") or "x"  # "a= b=c" would make b=c a's value


_ATTRS = st.lists(st.tuples(st.sampled_from(["title", "class", "data-x", "=odd", 'a"b']), _ATTR_VALUE,
                            st.sampled_from(['"', "'", ""])), max_size=2).map(
    lambda attrs: "".join(f" {name}={q}{_value(v, q)}{q}" for name, v, q in attrs))
_NAMES = ["div", "span", "section", "p", "li", "ul", "a", "b", "i", "table", "td", "tr", "object",
          "svg", "g", "path", "foreignObject", "desc", "math", "mi", "font", "select", "option", "button", "h1",
          "x-widget", "br", "img", "input", "script", "style", "title", "textarea", "noscript", "dd", "dt",
          "rb", "rt", "optgroup", "caption", "ruby", "dl"]
_TOKENS = st.one_of(
    st.builds(lambda n, a, s: f"<{n}{a}{'/' if s else ''}>", st.sampled_from(_NAMES), _ATTRS, st.booleans()),
    st.builds(lambda n: f"</{n}>", st.sampled_from(_NAMES)),
    st.builds(lambda t: f"<!--{t}-->", _ATTR_VALUE),
    st.sampled_from(["<!-->", "<!--->", "<![CDATA[<div>]]>", "<?pi <div>?>", "</ div>", "<!doctype html>", "x", "<",
                     "<!--<script>", "-->", "--!>", "<p>", "</p>", "</br>"]),
)


@SLOW
@given(st.lists(_TOKENS, min_size=1, max_size=60), st.integers(min_value=1, max_value=40))
def test_the_cut_markup_never_exceeds_the_caps_in_lexbor(tokens: list[str], repeat: int) -> None:
    html = "".join(tokens) * repeat
    depth, count = lexbor_shape(cut(html))
    assert depth <= DEPTH_BOUND, (depth, html[:300])
    assert count <= ELEMENTS * IMPLIED_FACTOR, (count, html[:300])


@st.composite
def _tree(draw: st.DrawFn, level: int = 0) -> tuple[str, int, int, int]:
    """A well-formed fragment: (markup, its depth in lexbor, the depth of its containers, its element count).

    The caps count containers: a leaf (<br>, <path/>, a script) sits below the last one."""
    parts: list[str] = []
    deepest = containers = count = 0
    for _ in range(draw(st.integers(min_value=0, max_value=3 if level < 20 else 0))):
        kind = draw(st.sampled_from(["element", "element", "element", "void", "comment", "raw", "svg", "text"]))
        if kind == "element":
            name = draw(st.sampled_from(["div", "span", "section", "b", "em", "article", "x-box"]))
            inner, depth, inner_containers, inner_count = draw(_tree(level + 1))
            parts.append(f"<{name}{draw(_ATTRS)}>{inner}</{name}>")
            deepest, containers = max(deepest, depth + 1), max(containers, inner_containers + 1)
            count += inner_count + 1
        elif kind == "void":
            parts.append(f"<{draw(st.sampled_from(['br', 'img', 'input', 'meta']))}{draw(_ATTRS)}>")
            deepest, count = max(deepest, 1), count + 1
        elif kind == "comment":
            parts.append(f"<!-- {draw(_ATTR_VALUE).replace('-->', '').replace('--!>', '')}-->")  # not "<!-->"
        elif kind == "raw":
            name = draw(st.sampled_from(["script", "style", "textarea", "title"]))
            body = draw(_ATTR_VALUE).replace(f"</{name}", "").replace("<!--", "")
            parts.append(f"<{name}>{body}</{name}>")
            deepest, count = max(deepest, 1), count + 1
        elif kind == "svg":
            parts.append("<svg viewBox='0 0 1 1'><g><path d='M0 0'/><circle r='1'/></g></svg>")
            deepest, containers, count = max(deepest, 3), max(containers, 2), count + 4
        else:
            parts.append(draw(st.sampled_from(["text", "a < b", "1 > 0", " "])))
    return "".join(parts), deepest, containers, count


@SLOW
@given(_tree(), st.integers(min_value=1, max_value=30))
def test_pages_within_the_caps_are_not_cut(fragment: tuple[str, int, int, int], repeat: int) -> None:
    markup, depth, containers, count = fragment
    html = "<!doctype html><html><head><title>t</title></head><body>" + markup * repeat + "</body></html>"
    total = count * repeat + 1  # the title
    assert lexbor_shape(html) == (max(depth, 1), total)  # the generated tree is what lexbor builds
    result = dom_cut(html, max_depth=DEPTH, max_elements=ELEMENTS)
    if containers <= DEPTH and total <= ELEMENTS:
        assert result.at is None, (result.reason, html[:300])
    else:
        assert result.at is not None  # well-formed markup is counted exactly: over a cap is cut



def test_list_items_below_many_blocks_reach_the_element_cap() -> None:
    """Items opened below 500 divs under an outer item: each looks only at the last special element
    above the open item (the review's page took 2 s while each one walked the divs; timed in
    benchmarks, not here), and the page is cut at the element cap."""
    html = "<li><ul>" + "<div>" * 500 + "<li></li>" * 120_000
    assert "elements" in (dom_cut(html).reason or "")
