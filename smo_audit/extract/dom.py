"""The one pass over a page's DOM: selectolax (lexbor) in, a `Document` of plain facts out.

One selector list, compiled once, visits every element any rule cares about in document order;
the catalogue adds its widget signatures to that list, so detecting a widget never costs a second
walk. Everything read from the page is untrusted and bounded in length.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from smo_audit.extract.facts import (
    Anchor,
    Button,
    Document,
    Form,
    FormField,
    Frame,
    Image,
    LinkTag,
    MarkedElement,
    MetaTag,
    Script,
)
from smo_audit.extract.fastinit import frozen_constructor
from smo_audit.extract.limits import MAX_JSON_DEPTH, dom_cut, json_too_deep
from smo_audit.extract.signature import SimpleSelector
from smo_audit.numbers import whole_number

# The facts built many times per page, built through their slots (see fastinit): same objects.
_new_anchor = frozen_constructor(Anchor)
_new_meta = frozen_constructor(MetaTag)
_new_link = frozen_constructor(LinkTag)
_new_script = frozen_constructor(Script)
_new_image = frozen_constructor(Image)
_new_document = frozen_constructor(Document)

MAX_TEXT = 200
MAX_ATTR = 2048
MAX_INLINE_SCRIPT = 64 * 1024
MAX_JSON_LD = 256 * 1024
MAX_ANCESTORS = 16
BASE_SELECTOR = "html, base, title, meta, link, a, area, script, form, input, select, textarea, button, img, iframe"
LANDMARK_TAGS = {"header": "header", "footer": "footer", "nav": "nav", "main": "main", "aside": "aside"}
LANDMARK_ROLES = {"banner": "header", "contentinfo": "footer", "navigation": "nav", "main": "main",
                  "complementary": "aside"}
_META_KEY_ATTRIBUTES = ("property", "name", "itemprop", "http-equiv")


def _clip(value: str | None, limit: int = MAX_ATTR) -> str | None:
    if value is None:
        return None
    return value if len(value) <= limit else value[:limit]


def _collapse(text: str, limit: int = MAX_TEXT) -> str:
    return " ".join(text.split())[:limit]


# Elements whose boundary a reader sees as a break between words: "Sign in<br>with Apple" and
# "<div>Sign in</div><div>with Google</div>" are two words apart, though their text nodes touch.
_BREAK_TAGS = frozenset(("br", "div", "p", "li", "h1", "h2", "h3", "h4", "h5", "h6"))
MAX_BREAK_SCAN = 256  # elements looked at for a break: a link wrapping more keeps lexbor's text


def _label_text(node: LexborNode) -> str:
    """A link's or button's text as a reader sees it, collapsed: a <br> or a block boundary inside
    separates words (lexbor's text(deep=True) joins "Sign in<br>with Apple" into "Sign inwith Apple").

    The hot path (every link of every page): a link holding one text node keeps its text after one
    child test, and one with elements but no break (an icon and a label) after a short walk over
    its elements (a CSS query compiles its selector on every call: five times the cost); only a
    label with a break is walked again for its text.
    """
    text = node.text(deep=True)
    first = node.first_child
    if first is None or (first.is_text_node and first.next is None):
        return _collapse(text)
    for count, element in enumerate(node.traverse()):
        if count >= MAX_BREAK_SCAN:
            return _collapse(text)
        if element.tag in _BREAK_TAGS:
            break
    else:
        return _collapse(text)
    parts: list[str] = []
    size = 0
    for descendant in node.traverse(include_text=True):
        if size > MAX_TEXT * 4:
            break  # enough for the MAX_TEXT characters kept
        if descendant.is_text_node:
            value = descendant.text_content or ""
            parts.append(value)
            size += len(value.strip())  # indentation around text nodes is collapsed away
        elif descendant.tag in _BREAK_TAGS:
            parts.append(" ")
    return _collapse("".join(parts))


def _classes(attrs: dict[str, str | None]) -> tuple[str, ...]:
    return tuple((attrs.get("class") or "").split())[:16]


def _data(attrs: dict[str, str | None]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name[5:], (value or "")[:MAX_ATTR]) for name, value in attrs.items() if name.startswith("data-")
    )[:24]


# Attributes of <a> that are standard or read elsewhere; any other one whose value looks like a
# URL (<a url="/auth/facebook/login/">) is kept in Anchor.url_attrs for the script that reads it.
_KNOWN_LINK_ATTRIBUTES = frozenset((
    "href", "class", "id", "title", "rel", "target", "style", "onclick", "name", "role", "tabindex",
    "lang", "dir", "hreflang", "type", "download", "ping", "referrerpolicy", "media", "itemprop",
))
_URL_STARTS = ("/", "http://", "https://")
MAX_URL_ATTRS = 4
MAX_TEXT_NODES = 64


def _url_attrs(attrs: dict[str, str | None]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for name, value in attrs.items():
        if (value and not name.startswith(("data-", "aria-", "on")) and name not in _KNOWN_LINK_ATTRIBUTES
                and value.lstrip().startswith(_URL_STARTS)):
            found.append((name[:64], value.strip()[:MAX_ATTR]))
            if len(found) >= MAX_URL_ATTRS:
                break
    return tuple(found)


def _bounded_text(node: LexborNode, limit: int = MAX_TEXT) -> tuple[str, str | None]:
    """(collapsed text, alt of the first <img>) of an element, from at most MAX_TEXT_NODES nodes.

    Catalogue signatures and sign-in controls can select big or deeply nested elements (a
    `[onclick]` wrapper around a page); a bounded walk keeps the pass linear in the page size.
    """
    parts: list[str] = []
    size = 0
    img_alt: str | None = None
    for count, descendant in enumerate(node.traverse(include_text=True)):
        if count >= MAX_TEXT_NODES or size > limit:
            break
        if descendant.is_text_node:
            value = descendant.text_content or ""
            parts.append(value)
            size += len(value)
        elif img_alt is None and descendant.tag == "img":
            img_alt = _clip(descendant.attributes.get("alt"), MAX_TEXT)
    return _collapse(" ".join(parts), limit), img_alt


_CONTROL_TAGS = frozenset(("a", "button"))


def _in_control(node: LexborNode) -> bool:
    """Inside an <a> or <button>, looking up at most MAX_ANCESTORS elements."""
    parent = node.parent
    for _ in range(MAX_ANCESTORS):
        if parent is None or parent.tag in _STOP_TAGS:
            return False
        if parent.tag in _CONTROL_TAGS:
            return True
        parent = parent.parent
    return False


def resolve(base: str, href: str | None) -> str | None:
    """Absolute URL for `href`, or None for empty/unparsable values. Keeps non-http schemes.

    Called for every link of every page, so the common shapes skip urljoin (~20 us each):
    absolute http(s) URLs are kept as they are, root-relative paths get the base's origin.
    """
    if href is None:
        return None
    href = href.strip()
    if not href:
        return None
    if href.startswith(("https://", "http://")):
        authority = href.split("/", 3)[2]
        if "[" not in authority and _plain_port(authority):
            return href
    elif href.startswith("/") and not href.startswith("//") and "\\" not in href:
        origin_end = base.find("/", base.find("//") + 2)
        return (base if origin_end < 0 else base[:origin_end]) + href
    elif href.startswith(("mailto:", "tel:", "javascript:", "whatsapp:", "sms:")):
        return href
    try:
        joined = urljoin(base, href)
        urlsplit(joined).port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        return None
    scheme, colon, rest = joined.partition(":")
    if colon and scheme.lower() in ("http", "https"):  # HTTPS://... is a link too: schemes ignore case
        return scheme.lower() + colon + rest
    return joined


def _plain_port(authority: str) -> bool:
    """True when the authority has no port or a numeric one in range."""
    host_port = authority.rsplit("@", 1)[-1]
    if ":" not in host_port:
        return True
    port = host_port.rsplit(":", 1)[1]
    if port == "":
        return True
    number = whole_number(port, 5)
    return number is not None and number < 65536


def _in_head(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag == "head":
            return True
        if parent.tag == "body":
            return False
        parent = parent.parent
    return False


_Level = tuple[str | None, tuple[str, ...]]  # one enclosing element: (its landmark, its class/#id tokens)
_Chain = tuple[_Level, ...]  # an element and its enclosing elements up to <body>, nearest first
_STOP_TAGS = ("body", "html")


def _level(node: LexborNode, tag: str) -> _Level:
    attrs = node.attributes
    if not attrs:
        return LANDMARK_TAGS.get(tag), ()
    landmark = LANDMARK_TAGS.get(tag) or LANDMARK_ROLES.get(attrs.get("role") or "")
    tokens = (attrs.get("class") or "").split()
    element_id = attrs.get("id")
    if element_id:
        tokens.append("#" + element_id)
    return landmark, tuple(tokens)


_ICON_TAGS = frozenset(("img", "svg", "i"))


def _first_icon(node: LexborNode) -> LexborNode | None:
    """The first <img>, <svg> or <i> inside `node`, in document order (css_first("img, svg, i")).

    A walk, not a query: compiling a selector for each of a page's links cost more than the rest
    of reading the link.
    """
    child = node.child
    if child is None or (child.next is None and child.is_text_node):
        return None  # only text inside, like most links
    descendants = node.traverse()
    next(descendants)  # the node itself
    for descendant in descendants:
        if descendant.tag in _ICON_TAGS:
            return descendant
    return None


def _icon_name(icon: LexborNode) -> str | None:
    """The name an icon gives the link around it: an <img>'s alt, or an <svg>'s aria-label (a
    labelled inline SVG names its link as an alt does; an aria-hidden one names nothing)."""
    attrs = icon.attributes
    if icon.tag == "img":
        return _clip(attrs.get("alt"), MAX_TEXT)
    if icon.tag == "svg" and attrs.get("aria-hidden") != "true":
        return _clip(attrs.get("aria-label"), MAX_TEXT)
    return None


class _Contexts:
    """Landmark and ancestor classes of elements, memoised per enclosing element for one page.

    The links of a nav or a list share all their ancestors but one, so each enclosing element is
    read once per page instead of once per link below it (nodes are keyed by `mem_id`, stable
    while the tree lives). The result is exactly that of walking up MAX_ANCESTORS elements from
    every link: below that depth an element's context is its own level put in front of its
    parent's; deeper down the MAX_ANCESTORS levels are flattened again.
    """

    def __init__(self) -> None:
        # element mem_id -> the context it gives its children (see _Known)
        self._known: dict[int, _Known] = {}

    def of(self, node: LexborNode) -> tuple[str | None, tuple[str, ...]]:
        """The nearest landmark and the classes/#ids of enclosing elements (nearest first)."""
        parent = node.parent
        if parent is None:
            return None, ()
        key = parent.mem_id
        known = self._known.get(key)
        if known is None:
            known = self._learn(parent, key)
        return known[1], known[2]

    def _learn(self, node: LexborNode, key: int) -> _Known:
        """The context `node` gives its children, when its own parent's is known (the usual case:
        the link's <li> is new, its <ul> was seen with the previous link); else a walk up."""
        tag = node.tag
        if tag in _STOP_TAGS:
            known = _TOP
        else:
            outer = node.parent
            above = _TOP if outer is None else self._known.get(outer.mem_id)
            if above is None:
                return self._walk(node)
            known = _push(_level(node, tag or ""), above)
        self._known[key] = known
        return known

    def _walk(self, node: LexborNode) -> _Known:
        walked: list[tuple[int, _Level]] = []
        above: _Known | None = None
        current: LexborNode | None = node
        while len(walked) < MAX_ANCESTORS:
            tag = current.tag if current is not None else None
            if current is None or tag in _STOP_TAGS:
                above = _TOP
                break
            key = current.mem_id
            above = self._known.get(key)
            if above is not None:
                break
            walked.append((key, _level(current, tag or "")))
            current = current.parent
        if above is None:
            # MAX_ANCESTORS levels and still no known element: only the first one's chain is whole.
            known = _flatten(tuple(level for _, level in walked))
            self._known[walked[0][0]] = known
            return known
        for key, level in reversed(walked):
            above = self._known[key] = _push(level, above)
        return above


_Known = tuple[_Chain, str | None, tuple[str, ...]]  # (chain of levels, nearest landmark, first 48 tokens)
_TOP: _Known = ((), None, ())  # what <body> (or no parent at all) gives its children


def _push(level: _Level, outer: _Known) -> _Known:
    """The context of an element at `level` whose parent has context `outer`."""
    chain, landmark, tokens = outer
    if len(chain) >= MAX_ANCESTORS:
        return _flatten((level, *chain)[:MAX_ANCESTORS])
    if level[1]:
        tokens = (level[1] + tokens)[:48]
    return (level, *chain), level[0] or landmark, tokens


def _flatten(chain: _Chain) -> _Known:
    landmark = next((level[0] for level in chain if level[0] is not None), None)
    tokens = [token for level in chain for token in level[1]]
    return chain, landmark, tuple(tokens[:48])


class _Collector:
    """Accumulates facts for one page while the single pass visits its elements."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.base_url = url
        self.lang: str | None = None
        self.title: str | None = None
        self.title_count = 0
        self.meta: list[MetaTag] = []
        self.link_tags: list[LinkTag] = []
        self.anchors: list[Anchor] = []
        self.scripts: list[Script] = []
        self.forms: list[Form] = []
        self.form_ids: list[int] = []
        self.form_fields: dict[int, list[FormField]] = {}
        self.buttons: list[Button] = []
        self.images: list[Image] = []
        self.frames: list[Frame] = []
        self.marked: list[MarkedElement] = []
        self.json_ld: list[object] = []
        self.json_ld_errors: list[str] = []
        self._base_seen = False
        self._contexts = _Contexts()

    def visit(self, node: LexborNode) -> None:
        handler = _HANDLERS.get(node.tag or "")
        if handler is not None:
            handler(self, node, node.attributes)
        else:
            # Only the catalogue's signatures select other elements (div.a2a_kit, #disqus_thread).
            # Links, scripts and buttons matching a signature are classified from their own facts.
            self._on_marked(node, node.attributes)

    # -- one handler per element kind ---------------------------------------------------------
    def _on_html(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        self.lang = _clip(attrs.get("lang"), 35)

    def _on_base(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        href = attrs.get("href")
        if not self._base_seen and href:
            self._base_seen = True
            self.base_url = resolve(self.url, href) or self.url

    def _on_title(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        if node.parent is not None and node.parent.tag == "svg":
            return
        self.title_count += 1
        if self.title is None:
            self.title = _collapse(node.text(deep=True), 1000)

    def _on_meta(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        in_head = _in_head(node)
        if "charset" in attrs:
            self.meta.append(_new_meta("charset", _clip(attrs.get("charset"), 64) or "", "charset", in_head))
        for attribute in _META_KEY_ATTRIBUTES:
            key = attrs.get(attribute)
            if key:
                content = attrs.get("content")
                self.meta.append(_new_meta(key.strip().lower()[:128], (content or "").strip()[:MAX_ATTR], attribute, in_head))
                if attribute == "property" and attrs.get("name") and attrs.get("name") != key:
                    continue  # both given and different: record both keys
                break

    def _on_link(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        href = attrs.get("href") or ""
        self.link_tags.append(
            _new_link(
                rel=tuple((attrs.get("rel") or "").lower().split()),
                href=href[:MAX_ATTR],
                url=resolve(self.base_url, href),
                type=_clip(attrs.get("type"), 128),
                title=_clip(attrs.get("title"), MAX_TEXT),
                sizes=_clip(attrs.get("sizes"), 64),
                in_head=_in_head(node),
            )
        )

    def _on_a(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        href = attrs.get("href")
        landmark, ancestors = self._contexts.of(node)
        icon = _first_icon(node)
        img_alt = _icon_name(icon) if icon is not None else None
        if href is not None and len(attrs) == 1:
            # Only an href, like most navigation links: the other fields keep their empty defaults,
            # which is what reading the missing attributes would give.
            self.anchors.append(
                _new_anchor(
                    href=href.strip()[:MAX_ATTR],
                    url=resolve(self.base_url, href),
                    text=_label_text(node),
                    has_image=icon is not None,
                    img_alt=img_alt,
                    landmark=landmark,
                    ancestor_classes=ancestors,
                    index=len(self.anchors),
                )
            )
            return
        # Links without href are kept too: scripts make them work (AddToAny fills the href in,
        # sign-in buttons keep their OAuth URL in data-url or onclick).
        self.anchors.append(
            _new_anchor(
                href=(href or "").strip()[:MAX_ATTR],
                url=resolve(self.base_url, href) if href is not None else None,
                text=_label_text(node),
                rel=tuple((attrs.get("rel") or "").lower().split()),
                target=_clip(attrs.get("target"), 64),
                aria_label=_clip(attrs.get("aria-label"), MAX_TEXT),
                title=_clip(attrs.get("title"), MAX_TEXT),
                element_id=_clip(attrs.get("id"), 128),
                classes=_classes(attrs),
                data=_data(attrs),
                onclick=_clip(attrs.get("onclick")),
                has_image=icon is not None,
                img_alt=img_alt,
                landmark=landmark,
                ancestor_classes=ancestors,
                index=len(self.anchors),
                controls=_clip(attrs.get("aria-controls"), 128),
                url_attrs=_url_attrs(attrs) if len(attrs) > ("href" in attrs) + ("class" in attrs) else (),
            )
        )

    _on_area = _on_a

    def _on_script(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        src = attrs.get("src")
        script_type = (attrs.get("type") or "").strip().lower() or None
        inline = "" if src else node.text(deep=True)
        if script_type == "application/ld+json":
            self._json_ld(inline[:MAX_JSON_LD])
        self.scripts.append(
            _new_script(
                src=_clip(src),
                url=resolve(self.base_url, src) if src else None,
                type=script_type,
                inline=inline[:MAX_INLINE_SCRIPT],
                element_id=_clip(attrs.get("id"), 128),
                data=_data(attrs) if len(attrs) > 1 else (),
            )
        )

    def _json_ld(self, text: str) -> None:
        if json_too_deep(text):
            self.json_ld_errors.append(f"JSON-LD nested deeper than {MAX_JSON_DEPTH} levels was not read")
            return
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:
            self.json_ld_errors.append(f"invalid JSON-LD: {exc}"[:MAX_TEXT])
            return
        self.json_ld.append(value)

    def _on_form(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        self.form_ids.append(node.mem_id)
        self.form_fields.setdefault(node.mem_id, [])
        self.forms.append(
            Form(
                action=resolve(self.base_url, attrs.get("action")) if attrs.get("action") else None,
                method=(attrs.get("method") or "get").lower()[:16],
                fields=(),  # filled in by finish(), once its inputs have been visited
                element_id=_clip(attrs.get("id"), 128),
                classes=_classes(attrs),
            )
        )

    def _field(self, node: LexborNode, attrs: dict[str, str | None], field_type: str) -> None:
        form_node = node.parent
        while form_node is not None and form_node.tag != "form":
            form_node = form_node.parent
        key = form_node.mem_id if form_node is not None else -1
        self.form_fields.setdefault(key, []).append(
            FormField(_clip(attrs.get("name"), 128), field_type[:32], _clip(attrs.get("autocomplete"), 64))
        )

    def _on_input(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        input_type = (attrs.get("type") or "text").strip().lower()
        self._field(node, attrs, input_type)
        if input_type in ("button", "submit"):
            self._button(node, attrs, _clip(attrs.get("value"), MAX_TEXT) or "", input_type)
        elif input_type == "image":  # an image button: named by its alt, as an <img> in a <button>
            self._button(node, attrs, "", input_type, image_alt=_clip(attrs.get("alt"), MAX_TEXT))

    def _on_select(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        self._field(node, attrs, "select")

    def _on_textarea(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        self._field(node, attrs, "textarea")

    def _on_button(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        self._button(node, attrs, _label_text(node))

    def _button(self, node: LexborNode, attrs: dict[str, str | None], text: str,
                input_type: str | None = None, image_alt: str | None = None) -> None:
        landmark, ancestors = self._contexts.of(node)
        icon = _first_icon(node) if node.tag == "button" else None
        if icon is not None and icon.tag == "img":
            image_alt = _clip(icon.attributes.get("alt"), MAX_TEXT)
        self.buttons.append(
            Button(
                text=text,
                aria_label=_clip(attrs.get("aria-label"), MAX_TEXT),
                title=_clip(attrs.get("title"), MAX_TEXT),
                element_id=_clip(attrs.get("id"), 128),
                classes=_classes(attrs),
                data=_data(attrs),
                onclick=_clip(attrs.get("onclick")),
                has_image=icon is not None or input_type == "image",
                landmark=landmark,
                ancestor_classes=ancestors,
                controls=_clip(attrs.get("aria-controls"), 128),
                img_alt=image_alt,
                input_type=input_type,
            )
        )

    def _on_img(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        src = attrs.get("src") or ""
        self.images.append(
            _new_image(src[:MAX_ATTR], resolve(self.base_url, src), _clip(attrs.get("alt"), MAX_TEXT),
                  _clip(attrs.get("width"), 16), _clip(attrs.get("height"), 16))
        )

    def _on_iframe(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        src = attrs.get("src") or ""
        self.frames.append(Frame(src[:MAX_ATTR], resolve(self.base_url, src), _clip(attrs.get("title"), MAX_TEXT)))

    def _on_marked(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        landmark, ancestors = self._contexts.of(node)
        text, img_alt = _bounded_text(node)
        self.marked.append(
            MarkedElement(
                tag=node.tag or "",
                element_id=_clip(attrs.get("id"), 128),
                classes=_classes(attrs),
                attrs=tuple((k, (v or "")[:MAX_ATTR]) for k, v in attrs.items())[:32],
                text=text,
                landmark=landmark,
                ancestor_classes=ancestors,
                img_alt=img_alt,
                in_control=_in_control(node),
            )
        )

    def finish(self, html_bytes: int, meta_offsets: tuple[tuple[str, int], ...]) -> Document:
        forms = [
            Form(f.action, f.method, tuple(self.form_fields.get(key, ())), f.element_id, f.classes)
            for f, key in zip(self.forms, self.form_ids, strict=True)
        ]
        return _new_document(
            url=self.url,
            base_url=self.base_url,
            lang=self.lang,
            title=self.title,
            title_count=self.title_count,
            meta=tuple(self.meta),
            link_tags=tuple(self.link_tags),
            anchors=tuple(self.anchors),
            scripts=tuple(self.scripts),
            forms=tuple(forms),
            buttons=tuple(self.buttons),
            images=tuple(self.images),
            frames=tuple(self.frames),
            marked=tuple(self.marked),
            json_ld=tuple(self.json_ld),
            json_ld_errors=tuple(self.json_ld_errors),
            html_bytes=html_bytes,
            meta_offsets=meta_offsets,
        )



# tag -> handler, looked up once per element instead of by name ("_on_" + tag)
_HANDLERS: dict[str, Callable[[_Collector, LexborNode, dict[str, str | None]], None]] = {
    name[4:]: getattr(_Collector, name) for name in dir(_Collector) if name.startswith("_on_") and name != "_on_marked"
}


_HANDLED_TAGS = frozenset(_HANDLERS)


def build_selector(marker_selectors: Iterable[str]) -> str:
    """The single selector list for the pass: the base elements plus the catalogue's signatures.

    Signatures naming a tag the pass visits anyway (a, form, button, ...) add nothing and are left
    out. Signatures that need a class (or an id) are grouped behind `[class]:is(...)` (`[id]:is(...)`):
    lexbor then rejects the many elements without that attribute with one test instead of one per
    signature, which halves the cost of the query on a typical page. The matched set is the same.
    """
    extra = list(dict.fromkeys(s.strip() for s in marker_selectors if s.strip()))
    with_class: list[str] = []
    with_id: list[str] = []
    other: list[str] = []
    for text in extra:
        try:
            parsed = SimpleSelector.parse(text)
        except ValueError:
            other.append(text)  # not a simple selector: handed to lexbor as it is
            continue
        if parsed.tag in _HANDLED_TAGS:
            continue  # visited by its handler anyway (a.twitter-timeline is an anchor)
        if parsed.classes:
            with_class.append(text)
        elif parsed.element_id:
            with_id.append(text)
        else:
            other.append(text)
    groups = [BASE_SELECTOR]
    if with_class:
        groups.append(f"[class]:is({', '.join(with_class)})")
    if with_id:
        groups.append(f"[id]:is({', '.join(with_id)})")
    return ", ".join([*groups, *other])


_KEY_END = re.compile(rb"[\"' >]")


def meta_byte_offsets(body: bytes, limit: int = 64) -> tuple[tuple[str, int], ...]:
    """Byte offsets of og:/twitter: keys in the raw body, for "tags early enough" checks.

    Found with bytes.find (C speed), no second parse: social crawlers that read only the first
    part of a page care about raw byte positions, not DOM positions. A key is "og:" or "twitter:"
    after a quote or "=" (`property="og:title"`, `property=og:title`); one pass per prefix finds
    each of them (the first `limit`, og: keys first).
    """
    offsets: list[tuple[str, int]] = []
    for prefix in (b"og:", b"twitter:"):
        start = 1
        while len(offsets) < limit:
            at = body.find(prefix, start) - 1  # the quote or "=" before the key
            if at < 0:
                break
            start = at + 2
            if body[at] not in b"\"'=":
                continue
            # the key ends at a quote, a space or ">", after at most 63 bytes
            stop = _KEY_END.search(body, at + 1, at + 64)
            end = stop.start() if stop is not None else min(at + 64, len(body))
            offsets.append((body[at + 1 : end].decode("ascii", "replace").lower(), at))
    offsets.sort(key=lambda item: item[1])
    return tuple(offsets)


def parse_document(
    text: str,
    url: str,
    *,
    selector: str = BASE_SELECTOR,
    html_bytes: int = 0,
    meta_offsets: tuple[tuple[str, int], ...] = (),
    capped: bool = False,
) -> Document:
    """Parse `text` once and collect every fact into a Document; the DOM is freed on return.

    The markup is cut at the DOM depth/element caps first (see limits.py) unless the caller did
    that already (`capped=True`, the Extractor, which reports the cut)."""
    if not capped:
        cut = dom_cut(text)
        if cut.at is not None:
            text = text[: cut.at]
    tree = LexborHTMLParser(text)
    collector = _Collector(url)
    previous = -1
    for node in tree.css(selector):
        # lexbor reports an element once per selector of the list it matches, one after the
        # other (<a class="twitter-timeline"> matches "a" and a signature): visit it once.
        if node.mem_id != previous:
            previous = node.mem_id
            collector.visit(node)
    return collector.finish(html_bytes or len(text), meta_offsets)
