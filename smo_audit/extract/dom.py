"""The one pass over a page's DOM: selectolax (lexbor) in, a `Document` of plain facts out.

One selector list, compiled once, visits every element any rule cares about in document order;
the catalogue adds its widget signatures to that list, so detecting a widget never costs a second
walk. Everything read from the page is untrusted and bounded in length.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
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


def _classes(attrs: dict[str, str | None]) -> tuple[str, ...]:
    return tuple((attrs.get("class") or "").split())[:16]


def _data(attrs: dict[str, str | None]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name[5:], (value or "")[:MAX_ATTR]) for name, value in attrs.items() if name.startswith("data-")
    )[:24]


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
    return joined


def _plain_port(authority: str) -> bool:
    """True when the authority has no port or a numeric one in range."""
    host_port = authority.rsplit("@", 1)[-1]
    if ":" not in host_port:
        return True
    port = host_port.rsplit(":", 1)[1]
    return port == "" or (port.isdigit() and int(port) < 65536)


def _in_head(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag == "head":
            return True
        if parent.tag == "body":
            return False
        parent = parent.parent
    return False


def _context(node: LexborNode) -> tuple[str | None, tuple[str, ...]]:
    """The nearest landmark and the classes/#ids of enclosing elements (nearest first)."""
    landmark: str | None = None
    tokens: list[str] = []
    parent = node.parent
    depth = 0
    while parent is not None and depth < MAX_ANCESTORS and parent.tag not in ("body", "html"):
        attrs = parent.attributes
        if landmark is None:
            landmark = LANDMARK_TAGS.get(parent.tag or "") or LANDMARK_ROLES.get(attrs.get("role") or "")
        tokens.extend((attrs.get("class") or "").split())
        if attrs.get("id"):
            tokens.append("#" + (attrs["id"] or ""))
        parent = parent.parent
        depth += 1
    return landmark, tuple(tokens[:48])


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

    def visit(self, node: LexborNode) -> None:
        tag = node.tag or ""
        attrs = node.attributes
        handler = getattr(self, "_on_" + tag, None)
        if handler is not None:
            handler(node, attrs)
        else:
            # Only the catalogue's signatures select other elements (div.a2a_kit, #disqus_thread).
            # Links, scripts and buttons matching a signature are classified from their own facts.
            self._on_marked(node, attrs)

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
            self.meta.append(MetaTag("charset", _clip(attrs.get("charset"), 64) or "", "charset", in_head))
        for attribute in _META_KEY_ATTRIBUTES:
            key = attrs.get(attribute)
            if key:
                content = attrs.get("content")
                self.meta.append(MetaTag(key.strip().lower()[:128], (content or "").strip()[:MAX_ATTR], attribute, in_head))
                if attribute == "property" and attrs.get("name") and attrs.get("name") != key:
                    continue  # both given and different: record both keys
                break

    def _on_link(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        href = attrs.get("href") or ""
        self.link_tags.append(
            LinkTag(
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
        if href is None:
            return
        landmark, ancestors = _context(node)
        icon = node.css_first("img, svg, i")
        self.anchors.append(
            Anchor(
                href=href.strip()[:MAX_ATTR],
                url=resolve(self.base_url, href),
                text=_collapse(node.text(deep=True)),
                rel=tuple((attrs.get("rel") or "").lower().split()),
                target=_clip(attrs.get("target"), 64),
                aria_label=_clip(attrs.get("aria-label"), MAX_TEXT),
                title=_clip(attrs.get("title"), MAX_TEXT),
                element_id=_clip(attrs.get("id"), 128),
                classes=_classes(attrs),
                data=_data(attrs),
                onclick=_clip(attrs.get("onclick")),
                has_image=icon is not None,
                img_alt=_clip(icon.attributes.get("alt"), MAX_TEXT) if icon is not None and icon.tag == "img" else None,
                landmark=landmark,
                ancestor_classes=ancestors,
                index=len(self.anchors),
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
            Script(
                src=_clip(src),
                url=resolve(self.base_url, src) if src else None,
                type=script_type,
                inline=inline[:MAX_INLINE_SCRIPT],
                element_id=_clip(attrs.get("id"), 128),
            )
        )

    def _json_ld(self, text: str) -> None:
        try:
            value = json.loads(text)
        except ValueError as exc:
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
        if input_type in ("button", "submit", "image"):
            self._button(node, attrs, _clip(attrs.get("value"), MAX_TEXT) or "")

    def _on_select(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        self._field(node, attrs, "select")

    def _on_textarea(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        self._field(node, attrs, "textarea")

    def _on_button(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        self._button(node, attrs, _collapse(node.text(deep=True)))

    def _button(self, node: LexborNode, attrs: dict[str, str | None], text: str) -> None:
        landmark, _ = _context(node)
        self.buttons.append(
            Button(
                text=text,
                aria_label=_clip(attrs.get("aria-label"), MAX_TEXT),
                title=_clip(attrs.get("title"), MAX_TEXT),
                element_id=_clip(attrs.get("id"), 128),
                classes=_classes(attrs),
                data=_data(attrs),
                onclick=_clip(attrs.get("onclick")),
                has_image=node.tag == "button" and node.css_first("img, svg, i") is not None,
                landmark=landmark,
            )
        )

    def _on_img(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        src = attrs.get("src") or ""
        self.images.append(
            Image(src[:MAX_ATTR], resolve(self.base_url, src), _clip(attrs.get("alt"), MAX_TEXT),
                  _clip(attrs.get("width"), 16), _clip(attrs.get("height"), 16))
        )

    def _on_iframe(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        src = attrs.get("src") or ""
        self.frames.append(Frame(src[:MAX_ATTR], resolve(self.base_url, src), _clip(attrs.get("title"), MAX_TEXT)))

    def _on_marked(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        self.marked.append(
            MarkedElement(
                tag=node.tag or "",
                element_id=_clip(attrs.get("id"), 128),
                classes=_classes(attrs),
                attrs=tuple((k, (v or "")[:MAX_ATTR]) for k, v in attrs.items())[:32],
                text=_collapse(node.text(deep=True)),
            )
        )

    def finish(self, html_bytes: int, meta_offsets: tuple[tuple[str, int], ...]) -> Document:
        forms = [
            Form(f.action, f.method, tuple(self.form_fields.get(key, ())), f.element_id, f.classes)
            for f, key in zip(self.forms, self.form_ids, strict=True)
        ]
        return Document(
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



def build_selector(marker_selectors: Iterable[str]) -> str:
    """The single selector list for the pass: the base elements plus the catalogue's signatures."""
    extra = [s.strip() for s in marker_selectors if s.strip()]
    return ", ".join([BASE_SELECTOR, *dict.fromkeys(extra)])


def meta_byte_offsets(body: bytes, limit: int = 64) -> tuple[tuple[str, int], ...]:
    """Byte offsets of og:/twitter: keys in the raw body, for "tags early enough" checks.

    Found with bytes.find (C speed), no second parse: social crawlers that read only the first
    part of a page care about raw byte positions, not DOM positions.
    """
    offsets: list[tuple[str, int]] = []
    for needle in (b'"og:', b"'og:", b"=og:", b'"twitter:', b"'twitter:", b"=twitter:"):
        start = 0
        while len(offsets) < limit:
            at = body.find(needle, start)
            if at < 0:
                break
            end = at + 1
            while end < len(body) and end - at < 64 and body[end : end + 1] not in b"\"' >":
                end += 1
            offsets.append((body[at + 1 : end].decode("ascii", "replace").lower(), at))
            start = end
    offsets.sort(key=lambda item: item[1])
    return tuple(offsets)


def parse_document(
    text: str,
    url: str,
    *,
    selector: str = BASE_SELECTOR,
    html_bytes: int = 0,
    meta_offsets: tuple[tuple[str, int], ...] = (),
) -> Document:
    """Parse `text` once and collect every fact into a Document; the DOM is freed on return."""
    tree = LexborHTMLParser(text)
    collector = _Collector(url)
    for node in tree.css(selector):
        collector.visit(node)
    return collector.finish(html_bytes or len(text), meta_offsets)
