"""Follow widgets, social embeds and comment systems -> `PageFacts.social_widgets`.

Each widget in rules/catalogue/social_widgets.toml has two halves: the script that renders it and
the container it renders into (or an iframe that is both). The classifier records which halves a
page has, so a rule can say "the Disqus script loads but there is no #disqus_thread" without ever
looking at the DOM. Retired widgets (dead_services.toml: the Google+ badge, AddThis follow
buttons) are recorded too, flagged `dead`.

Scripts shared by several widgets (Facebook's SDK, X's widgets.js) say nothing on their own: only
a container tells which widget a page meant to show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from smo_audit.catalogue import section
from smo_audit.extract.facts import Anchor, Document, MarkedElement, PageFacts, SocialWidget
from smo_audit.extract.signature import ElementIndex, SimpleSelector
from smo_audit.extract.urlmatch import UrlPatterns

MAX_WIDGETS = 32


@dataclass(frozen=True, slots=True)
class WidgetSpec:
    id: str
    provider: str
    kind: str  # follow | embed | comments | video
    name: str
    has_containers: bool
    needs_script: bool
    shared_script: bool
    container_optional: bool
    inline: tuple[str, ...]
    url_attr: str | None
    closed: bool = False
    dead: bool = False


@dataclass(frozen=True)
class WidgetCatalogue:
    widgets: Mapping[str, WidgetSpec]
    scripts: UrlPatterns[str]
    iframes: UrlPatterns[str]
    signatures: tuple[tuple[SimpleSelector, str], ...]


def _list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def build_catalogue(widgets: Mapping[str, Any], dead_services: Mapping[str, Any]) -> WidgetCatalogue:
    specs: dict[str, WidgetSpec] = {}
    scripts: UrlPatterns[str] = UrlPatterns()
    iframes: UrlPatterns[str] = UrlPatterns()
    signatures: list[tuple[SimpleSelector, str]] = []

    def register(wid: str, entry: Mapping[str, Any], spec: WidgetSpec) -> None:
        specs[wid] = spec
        for pattern in _list(entry.get("scripts")):
            scripts.add(pattern, wid)
        for pattern in _list(entry.get("iframes")):
            iframes.add(pattern, wid)
        signatures.extend((SimpleSelector.parse(s), wid) for s in _list(entry.get("containers", entry.get("selectors"))))

    for wid, entry in dict(widgets.get("widget", {})).items():
        register(wid, entry, WidgetSpec(
            id=wid, provider=str(entry["provider"]), kind=str(entry["kind"]), name=str(entry.get("name", wid)),
            has_containers=bool(_list(entry.get("containers"))), needs_script=bool(_list(entry.get("scripts"))),
            shared_script=bool(entry.get("shared_script", False)),
            container_optional=bool(entry.get("container_optional", False)),
            inline=tuple(_list(entry.get("inline"))), url_attr=entry.get("url_attr"),
            closed=bool(entry.get("closed", False)),
        ))
    for sid, entry in dict(dead_services.get("service", {})).items():
        if not (_list(entry.get("scripts")) or _list(entry.get("selectors"))):
            continue
        register(sid, entry, WidgetSpec(
            id=sid, provider=sid, kind="follow", name=str(entry.get("name", sid)),
            has_containers=bool(_list(entry.get("selectors"))), needs_script=bool(_list(entry.get("scripts"))),
            shared_script=False, container_optional=True, inline=(), url_attr=None, dead=True,
        ))
    return WidgetCatalogue(specs, scripts, iframes, tuple(signatures))


@cache
def catalogue() -> WidgetCatalogue:
    return build_catalogue(section("social_widgets"), section("dead_services"))


def _describe(selector: SimpleSelector, tag: str, element_id: str | None, classes: tuple[str, ...],
              url: str | None) -> str:
    """The element as a person would find it: tag#id.classes, or the signature it matched."""
    if element_id or classes:
        text = tag + (f"#{element_id}" if element_id else "") + "".join(f".{c}" for c in classes[:3])
    else:
        text = selector.text
    return text + (f" → {url[:200]}" if url else "")


_AnchorAttrs = tuple[Anchor, list[tuple[str, str]]]  # a link and the attributes a signature can test


def _with_attrs(anchor: Anchor) -> _AnchorAttrs:
    return anchor, [("data-" + k, v) for k, v in anchor.data] + [("href", anchor.href)]


def _needs_marks(selector: SimpleSelector) -> bool:
    """True when only a link with a class, an id or a data-* attribute can match `selector`."""
    return bool(selector.classes or selector.element_id
                or any(name.startswith("data-") for name, _, _ in selector.attrs))


class SocialWidgetClassifier:
    """Scripts, containers and iframes -> SocialWidget facts with both halves recorded."""

    name = "social_widgets"

    def __init__(self, cat: WidgetCatalogue | None = None) -> None:
        self.cat = cat or catalogue()

    def selectors(self) -> Iterable[str]:
        return [s.text for s, _ in self.cat.signatures]

    def classify(self, doc: Document, facts: PageFacts) -> Mapping[str, Any]:
        cat = self.cat
        containers: dict[str, tuple[str, str | None]] = {}  # widget -> (evidence, url)
        every_anchor: list[_AnchorAttrs] | None = None
        marked_anchors: list[_AnchorAttrs] | None = None
        marked = ElementIndex(doc.marked)
        for selector, wid in cat.signatures:
            if wid in containers:
                continue
            anchors: list[_AnchorAttrs] = []
            if selector.tag == "a":
                if _needs_marks(selector):
                    # Link signatures name a class, an id or a data-* attribute: most links have none
                    # of these and cannot match, so only the others are compared.
                    if marked_anchors is None:
                        marked_anchors = [_with_attrs(a) for a in doc.anchors if a.classes or a.element_id or a.data]
                    anchors = marked_anchors
                else:
                    if every_anchor is None:
                        every_anchor = [_with_attrs(a) for a in doc.anchors]
                    anchors = every_anchor
            hit = self._container(doc, selector, cat.widgets[wid], anchors, marked)
            if hit is not None:
                containers[wid] = hit
        scripts: dict[str, str] = {}
        for script in doc.scripts:
            if script.url:
                for wid in cat.scripts.match(script.url):
                    scripts.setdefault(wid, script.src or script.url)
        inline_specs = [s for s in cat.widgets.values() if s.inline]
        if inline_specs:
            for script in doc.scripts:
                if not script.inline:
                    continue
                for spec in inline_specs:
                    if spec.id not in scripts and any(marker in script.inline for marker in spec.inline):
                        scripts[spec.id] = "inline script loading " + spec.inline[0]
        iframes: dict[str, str] = {}
        for frame in doc.frames:
            for wid in cat.iframes.match(frame.url):
                iframes.setdefault(wid, frame.src)
        found: list[SocialWidget] = []
        for wid in dict.fromkeys([*containers, *scripts, *iframes]):
            spec = cat.widgets[wid]
            container = containers.get(wid)
            if container is None and wid not in iframes and spec.shared_script:
                continue  # Facebook's SDK alone does not say a Page plugin was meant
            if container is None and wid in iframes:
                found.append(SocialWidget(spec.provider, spec.kind, iframes[wid], None, True, widget=wid,
                                          url=iframes[wid], dead=spec.dead, closed=spec.closed))
                continue
            has_script = (wid in scripts) if spec.needs_script else None
            if container is not None:
                has_container: bool | None = True
            elif spec.container_optional or not spec.has_containers:
                has_container = None
            else:
                has_container = False
            evidence = container[0] if container is not None else scripts[wid]
            found.append(SocialWidget(spec.provider, spec.kind, evidence, has_script, has_container, widget=wid,
                                      url=container[1] if container is not None else None, dead=spec.dead,
                                      closed=spec.closed))
            if len(found) >= MAX_WIDGETS:
                break
        return {"social_widgets": tuple(found)} if found else {}

    @staticmethod
    def _container(doc: Document, selector: SimpleSelector, spec: WidgetSpec,
                   anchors: list[_AnchorAttrs], marked: ElementIndex[MarkedElement]) -> tuple[str, str | None] | None:
        """The first element matching `selector`. Links, forms and buttons are matched only by
        signatures naming that tag; every other signature matched the DOM pass's marked elements.
        `anchors` are the links (with their attributes) that can match a link signature."""
        tag = selector.tag
        if tag == "a":
            for anchor, attrs in anchors:
                if selector.matches("a", anchor.element_id, anchor.classes, attrs):
                    url = anchor.url if spec.url_attr == "href" else dict(attrs).get(spec.url_attr or "")
                    return _describe(selector, "a", anchor.element_id, anchor.classes, url), url
            return None
        if tag == "form":
            for form in doc.forms:
                if selector.matches("form", form.element_id, form.classes):
                    return _describe(selector, "form", form.element_id, form.classes, None), None
            return None
        if tag == "button":
            for button in doc.buttons:
                attrs = [("data-" + k, v) for k, v in button.data]
                if selector.matches("button", button.element_id, button.classes, attrs):
                    return _describe(selector, "button", button.element_id, button.classes, None), None
            return None
        for element in marked.candidates(selector):
            if selector.matches(element.tag, element.element_id, element.classes, element.attrs):
                url = element.attr(spec.url_attr) if spec.url_attr else None
                return _describe(selector, element.tag, element.element_id, element.classes, url), url
        return None
