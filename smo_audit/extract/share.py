"""Share buttons and share widgets: Document facts -> PageFacts.share_buttons / share_widgets.

Every share affordance of a page is found here, from facts the one DOM pass already collected:
links to share endpoints (any host variant, app schemes, mailto:), self-links with `?share=`
(Jetpack), widget-library elements with data-* attributes, official SDK buttons and plugin
iframes, the Web Share API, and widget containers whose buttons only appear after JavaScript.
For each button it decodes *which page it shares* (`shares_url`) and notes decoding trouble
(an unencoded URL cut at its first `&`, a template placeholder, no URL at all) in `problems`,
so the rules can judge without re-parsing anything.

What is not a share button stays out: profile links, chat links (wa.me/NUMBER, `phone=`),
login links, links inside embedded third-party posts, links that merely mention a network.
All network knowledge comes from rules/catalogue/share.toml and share_widgets.toml.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import (
    SplitResult,
    unquote,
    unquote_plus,
    urlencode,
    urlsplit,
    urlunsplit,
)

from smo_audit.extract.facts import (
    Anchor,
    Button,
    Document,
    MarkedElement,
    PageFacts,
    ShareButton,
    ShareWidget,
)
from smo_audit.extract.share_catalogue import Endpoint, Provider, ShareCatalogue, share_catalogue
from smo_audit.extract.urlmatch import HttpParts, join_url, site_key, split_http

MAX_BUTTONS = 200
_CACHE_LIMIT = 2048  # URLs remembered as ordinary links; cleared when full, so memory stays flat
MAX_EVIDENCE = 3
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?)]}\u00bb\u201d\u2019\"'"
# Linear: a scheme starts where no scheme character precedes it and is at most 32 characters
# long (with `\b[a-z][a-z0-9+.-]*:` every "a." of a long onclick rescanned the rest: quadratic).
_URL_LITERAL = re.compile(
    r"""(?:https?:)?//[^\s'"`<>\\]+|(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}:[^\s'"`<>\\]*""", re.IGNORECASE
)
# A URL literal ending in "...=" followed by its closing quote and "+": the script appends the value.
_CONCATENATED = re.compile(r"""(?<==)['"]\s*\+""")
_SCRIPT_VALUE = "script"  # stands for that value when the endpoint requires the parameter
_LOCATION = re.compile(r"\blocation\b|document\.URL|\bcanonical\b", re.IGNORECASE)
_POPUP = re.compile(r"\bwindow\.open\s*\(|\bopen\s*\(|popup", re.IGNORECASE)
_ELEMENT_REFS = re.compile(
    r"""getElementById\(\s*['"]([\w-]+)['"]|(?:querySelector(?:All)?|\$|jQuery)\(\s*['"]([#.][\w-]+)['"]"""
)
_SHARE_CALL = re.compile(r"navigator\s*\.\s*share\s*\(")
_LITERAL_URL_KEY = re.compile(r"""\burl\s*:\s*(['"`])(.+?)\1""")
_URL_KEY = re.compile(r"""\burl\s*[:=]|\burl\s*[,}]""")
_WEB_SHARE_PROVIDER = "web-share-api"
MENU = "menu"  # network id of a toggle that opens the page's own share menu (share.toml [networks.menu])
_CANDIDATE = "\x00candidate"  # a generic share control before the evidence is weighed; never reported
_PSEUDO = frozenset({"web-share", MENU, _CANDIDATE})
_NO_URL_SCRIPT = ("no-url-script: the link carries no page URL; its click handler probably adds one, "
                  "which static mode cannot see")


@dataclass(frozen=True, slots=True)
class PageURLs:
    """What decoding needs to know about the page the buttons are on (its URLs and titles)."""

    url: str
    base_url: str
    canonical: str | None
    og_url: str | None
    hosts: frozenset[str]
    titles: tuple[str, ...]  # lower-cased <title>, og:title, twitter:title


@dataclass(slots=True)
class DecodedShare:
    """What a share link carries: the page URL, where it was found, and what is wrong with it."""

    shares_url: str | None
    url_source: str
    problems: list[str] = field(default_factory=list)
    text: str | None = None  # the decoded text field (quotes are taken from it)


@dataclass(slots=True)
class _WidgetSeen:
    provider: Provider
    evidence: list[str] = field(default_factory=list)
    has_script: bool = False
    has_container: bool = False
    has_element: bool = False
    networks: list[str] = field(default_factory=list)

    def add(self, evidence: str) -> None:
        if len(self.evidence) < MAX_EVIDENCE and evidence not in self.evidence:
            self.evidence.append(evidence[:300])


# ---- URL decoding (pure functions, unit-tested on their own) --------------------------------


def _unquote(raw: str, plus_is_space: bool) -> str:
    return unquote_plus(raw) if plus_is_space else unquote(raw)


def _pairs(query: str, plus_is_space: bool) -> list[tuple[str, str, str]]:
    """(lower-cased name, raw value, raw part) for every `name=value` of a query, in order."""
    pairs: list[tuple[str, str, str]] = []
    for part in query.split("&"):
        if part:
            name, _, raw = part.partition("=")
            pairs.append((_unquote(name, plus_is_space).strip().lower(), raw, part))
    return pairs


def _strip_punctuation(url: str) -> str:
    while url and url[-1] in _TRAILING_PUNCTUATION:
        url = url[:-1]
    return url


def url_in_text(text: str, hosts: Iterable[str] = ()) -> str | None:
    """The URL a share text carries: the first one on the page's own hosts, else the first one."""
    found = [_strip_punctuation(m.group(0)) for m in _URL_IN_TEXT.finditer(text)]
    if not found:
        return None
    wanted = set(hosts)
    for url in found:
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            continue
        if host in wanted:
            return url
    return found[0]


def _url_problems(url: str, markers: Iterable[str]) -> list[str]:
    if any(marker in url for marker in markers):
        return [f"template: the shared URL {url[:200]!r} looks like an unfilled template placeholder"]
    if not url.lower().startswith(("http://", "https://")):
        return [f"not-absolute: the shared URL {url[:200]!r} is not an absolute http(s) URL"]
    return []


def _cut_query(
    pairs: list[tuple[str, str, str]], index: int, url: str, endpoint: Endpoint, plus_is_space: bool,
    page_urls: Iterable[str | None] = (),
) -> str | None:
    """The URL as it was meant to be when an unencoded URL's own query was cut at its first `&`.

    `sharer.php?u=https://x.example/a?b=1&c=2` reaches the network as u=https://x.example/a?b=1
    plus a stray c=2: the parameters after it that the endpoint does not know are the lost part.
    A parameter the endpoint does know (`&src=...` on Facebook) is only counted as lost when the
    page's own canonical URL or og:url proves it belongs to the page URL.
    """
    _, raw, _ = pairs[index]
    if "://" not in raw or "?" not in url:
        return None  # encoded properly, or a URL without a query of its own
    following = [_unquote(part, plus_is_space) for _, _, part in pairs[index + 1 :]]
    known = next((i for i, (name, _, _) in enumerate(pairs[index + 1 :]) if name in endpoint.known_params),
                 len(following))
    wanted = {u.rstrip("/") for u in page_urls if u}
    for end in range(len(following), known, -1):
        candidate = url + "&" + "&".join(following[:end])
        if candidate.rstrip("/") in wanted:
            return candidate
    return url + "&" + "&".join(following[:known]) if known else None


def decode_endpoint(endpoint: Endpoint, parts: SplitResult, page: PageURLs, markers: Iterable[str]) -> DecodedShare | None:
    """Which URL a link to `endpoint` shares; None when the link is not a share at all.

    Query values are read with parse_qs semantics ('+' is a space, except for mailto:/sms:),
    the URL parameter first, then a URL inside the text fields.
    """
    query = parts.query
    if not query and endpoint.schemes and "&" in parts.path:
        query = parts.path.split("&", 1)[1]  # iOS-style sms:&body=...
    plus = endpoint.plus_is_space
    pairs = _pairs(query, plus)
    first: dict[str, int] = {}
    for index, (name, _, _) in enumerate(pairs):
        first.setdefault(name, index)

    def value(name: str) -> str:
        index = first.get(name)
        return _unquote(pairs[index][1], plus).strip() if index is not None else ""

    if any(not value(name) for name in endpoint.require_params):
        return None
    if any(value(name) for name in endpoint.exclude_params):
        return None  # phone=...: a chat with one number, not a share
    url: str | None = None
    used: str | None = None
    text: str | None = None
    text_name: str | None = None
    for name in endpoint.url_params:
        if value(name):
            url, used = value(name), name
            break
    for name in endpoint.text_params:
        if value(name):
            text, text_name = value(name), name
            break
    source = f"param:{used}" if used else ""
    if url is None and text is not None and text_name is not None:
        found = url_in_text(text, page.hosts)
        if found is not None:
            url, used, source = found, text_name, f"text:{text_name}"
    if url is None:
        if endpoint.require_url:
            return None  # mailto:info@brand.example is a contact link
        return DecodedShare(None, "", [f"no-url: the link gives {endpoint.id} no page URL to share"], text)
    problems = _url_problems(url, markers)
    if used is not None and (source.startswith("param:") or (text is not None and text.rstrip().endswith(url))):
        intended = _cut_query(pairs, first[used], url, endpoint, plus, (page.canonical, page.og_url))
        if intended is not None:
            problems.append(
                f"unencoded-url: the shared URL is not percent-encoded, so its query is cut at the "
                f"first '&': the network receives {url[:200]} instead of {intended[:200]}"
            )
    return DecodedShare(url, source, problems, text)


def self_link_target(url: str, params: Iterable[str], strip: Iterable[str]) -> tuple[str, str] | None:
    """(network value, the page URL) of a Jetpack-style `?share=<network>` self-link."""
    parts = urlsplit(url)
    if not parts.query:
        return None
    pairs = [(n, v) for n, _, v in (p.partition("=") for p in parts.query.split("&") if p)]
    wanted = set(params)
    value = next((unquote_plus(v) for n, v in pairs if n.lower() in wanted and v), None)
    if value is None:
        return None
    dropped = set(strip)
    kept = [(unquote_plus(n), unquote_plus(v)) for n, v in pairs if n.lower() not in dropped]
    page = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), ""))
    return value, page


# ---- the classifier ---------------------------------------------------------------------------


class ShareClassifier:
    """Fills `share_buttons` and `share_widgets` from the Document and the share catalogue."""

    name = "share"

    def __init__(self, catalogue: ShareCatalogue | None = None) -> None:
        self.catalogue = catalogue or share_catalogue()
        self._ordinary: dict[str, bool] = {}

    def selectors(self) -> Iterable[str]:
        return self.catalogue.selectors

    def classify(self, doc: Document, facts: PageFacts) -> Mapping[str, Any]:
        return _Run(self.catalogue, doc, facts, self._ordinary).result()


class _Run:
    """One page's classification; keeps the per-page state out of the shared classifier."""

    def __init__(self, catalogue: ShareCatalogue, doc: Document, facts: PageFacts,
                 ordinary: dict[str, bool] | None = None) -> None:
        self.cat = catalogue
        self.doc = doc
        self.ordinary = {} if ordinary is None else ordinary  # URL -> no share link can point there
        og_url = facts.open_graph.get("og:url") or None
        hosts = {_host(doc.url), _host(facts.canonical), _host(og_url)}
        titles = (doc.title, facts.open_graph.get("og:title"), facts.twitter.get("twitter:title"))
        self.page = PageURLs(
            url=doc.url,
            base_url=doc.base_url,
            canonical=facts.canonical,
            og_url=og_url,
            hosts=frozenset(h for h in hosts if h),
            titles=tuple(" ".join(t.split()).lower() for t in titles if t and t.strip()),
        )
        self.buttons: list[ShareButton] = []
        self.widgets: dict[str, _WidgetSeen] = {}
        # Controls that look like "Share" but name no network: a share button only with evidence
        # (navigator.share(): web-share; opening the page's share links or widget: menu).
        self.generic: list[tuple[ShareButton, Anchor | Button]] = []
        self.real_contexts: list[tuple[str, ...]] = []  # ancestor tokens of real network buttons
        self.container_ids: set[str] = set()  # ids of share widget containers on the page
        self.web_share_sources: list[str] = []  # inline script text calling navigator.share

    # -- result -----------------------------------------------------------------------------
    def result(self) -> dict[str, Any]:
        cat = self.cat
        quiet: dict[tuple[str, ...], bool] = {}  # ancestor classes -> none of them is a widget container
        for anchor in self.doc.anchors:
            if self._ordinary_link(anchor, quiet):
                continue
            if not _in_embed(anchor, cat):
                self._add(self._from_anchor(anchor), anchor)
        for element in self.doc.buttons:
            self._add(self._from_element(element), element)
        for marked in self.doc.marked:
            self._from_marked(marked)
        for frame in self.doc.frames:
            if frame.url:
                self._from_frame(frame.url, frame.src, frame.title)
        for script in self.doc.scripts:
            self._from_script(script.url, script.type, script.inline, script.data)
        self._resolve_web_share()
        self._resolve_menus()
        widgets = self._widgets()
        if not self.buttons and not widgets:
            return {}
        return {"share_buttons": tuple(self.buttons[:MAX_BUTTONS]), "share_widgets": widgets}

    def _add(self, button: ShareButton | None, element: Anchor | Button) -> None:
        if button is None:
            return
        if button.network == _CANDIDATE:
            self.generic.append((button, element))
            return
        self.buttons.append(button)
        if button.network not in _PSEUDO:
            self.real_contexts.append(element.ancestor_classes)
        if button.provider is not None:
            self._widget(button.provider).add(button.selector or button.href)

    def _widget(self, provider_id: str) -> _WidgetSeen:
        seen = self.widgets.get(provider_id)
        if seen is None:
            seen = self.widgets[provider_id] = _WidgetSeen(self.cat.providers_by_id[provider_id])
        return seen

    # -- anchors ----------------------------------------------------------------------------
    def _link_provider(self, anchor: Anchor) -> tuple[Provider | None, str | None]:
        """The provider that owns a link (by class, data-* or enclosing container) and a network
        named by a class prefix (a2a_button_facebook)."""
        cat = self.cat
        for cls in anchor.classes:
            provider = cat.link_class_providers.get(cls)
            if provider is not None:
                return provider, None
            for prefix, provider in cat.link_prefix_providers:
                if cls.startswith(prefix) and len(cls) > len(prefix):
                    return provider, cat.network_id(cls[len(prefix):])
        for name, value in anchor.data:
            provider = cat.link_data_providers.get(name)
            if provider is not None and _data_value_ok(cat, name, value):
                return provider, None
        for cls in anchor.ancestor_classes:
            provider = cat.container_classes.get(cls)
            if provider is not None:
                return provider, None
        return None, None

    def _from_anchor(self, anchor: Anchor) -> ShareButton | None:
        """One link: an endpoint link, a self-link, a scripted or data-* button, or nothing.

        Most links on a page are ordinary navigation: they leave after one cached endpoint lookup
        and a few dict lookups (the fast path below), so a page of 500 links stays cheap.
        """
        cat = self.cat
        href = anchor.href
        url = anchor.url
        javascript = href[:11].lower() == "javascript:"
        navigates = bool(url) and not href.startswith("#") and not javascript
        provider, prefix_network = self._link_provider(anchor)
        network: str | None
        if navigates and url:
            if not self._is_ordinary(url):
                matched = cat.match(url) or cat.match_hinted(url, anchor)
                if matched is not None:
                    return self._endpoint_button(anchor, matched, provider)
                self_link = self._self_link(url, href)
                if self_link is not None:
                    network, shared = self_link
                    return ShareButton(
                        network=network, href=href, shares_url=shared, mechanism="self-link", source="self-link",
                        url_source="self-link", provider=provider.id if provider else None,
                        popup=self._popup(anchor.onclick, provider) or cat.self_link_popup,
                        problems=tuple(_url_problems(shared, cat.template_markers)), **_common(anchor),
                    )
            if provider is None and prefix_network is None and not anchor.onclick and not anchor.data:
                return None  # an ordinary link
        scripted = self._from_script_text(anchor.onclick, href if javascript else None)
        if scripted is not None:
            endpoint, network, decoded = scripted
            return self._button(network, href, decoded, endpoint=endpoint, provider=provider, mechanism="link",
                                source=endpoint.id, popup=True, anchor=anchor, **_common(anchor))
        url_attr = self._url_attribute(anchor.data, provider) if anchor.data else None
        if not navigates or url_attr is not None or provider is not None:
            network = prefix_network or self._attribute_network(anchor.data, anchor.classes)
            if network is not None:
                return self._widget_button(network, href, url_attr, provider, self._popup(anchor.onclick, provider),
                                           _common(anchor))
        if anchor.onclick and _SHARE_CALL.search(anchor.onclick):
            return self._web_share_button(href, anchor.onclick, _common(anchor))
        looks = _looks_like_share(anchor.classes, anchor.element_id, anchor.accessible_name, cat)
        if provider is not None and (looks or not navigates):
            return _menu_button(href, provider, _common(anchor))  # the widget's own "Share" menu toggle
        if not navigates and looks:
            return ShareButton(network=_CANDIDATE, href=href, shares_url=None, mechanism="menu",
                               source="share-control", **_common(anchor))
        return None

    def _ordinary_link(self, anchor: Anchor, quiet: dict[tuple[str, ...], bool]) -> bool:
        """True for a plain navigation link, for which _from_anchor finds nothing: no class,
        data-* or onclick naming a provider, no provider container around it, and a URL that is
        no share endpoint or self-link. Most links of a page leave here."""
        url = anchor.url
        if not url or anchor.classes or anchor.data or anchor.onclick:
            return False
        href = anchor.href
        if href.startswith("#") or href[:11].lower() == "javascript:":
            return False
        ancestors = anchor.ancestor_classes
        if ancestors:
            known = quiet.get(ancestors)
            if known is None:
                known = quiet[ancestors] = self.cat.container_classes.keys().isdisjoint(ancestors)
            if not known:
                return False
        return self._is_ordinary(url)

    def _is_ordinary(self, url: str) -> bool:
        """True when no share endpoint, instance endpoint or self-link can be behind `url`: the
        three tests below that depend on the URL alone, answered once per URL (navigation links
        repeat on every page of a site)."""
        found = self.ordinary.get(url)
        if found is None:
            if len(self.ordinary) >= _CACHE_LIMIT:
                self.ordinary.clear()
            cat = self.cat
            lowered = url.lower()
            found = self.ordinary[url] = (
                cat.match(url) is None
                and not (cat.hinted and any(path in lowered for path in cat.hinted_paths))  # match_hinted's test
                and not (cat.self_link_params and any(f"{p}=" in lowered for p in cat.self_link_params))  # _self_link's
            )
        return found

    def _endpoint_button(
        self, anchor: Anchor, matched: tuple[Endpoint, str, SplitResult], provider: Provider | None
    ) -> ShareButton | None:
        cat = self.cat
        endpoint, network, parts = matched
        decoded = decode_endpoint(endpoint, parts, self.page, cat.template_markers)
        if decoded is None:
            return None  # a chat link, a contact address: not a share
        if provider is None and endpoint.provider:
            provider = cat.providers_by_id.get(endpoint.provider)
        if provider is None and decoded.shares_url and self._foreign_prose(anchor, decoded.shares_url):
            return None
        decoded = self._provider_url(decoded, provider, anchor.data_attr)
        if decoded.shares_url is None and anchor.onclick:
            decoded.problems = [_NO_URL_SCRIPT if p.startswith("no-url:") else p for p in decoded.problems]
        return self._button(
            network, anchor.href, decoded, endpoint=endpoint, provider=provider,
            mechanism="sdk" if provider and provider.kind == "official" else "link",
            source=endpoint.id, popup=self._popup(anchor.onclick, provider), anchor=anchor, **_common(anchor),
        )

    def _foreign_prose(self, anchor: Anchor, shared: str) -> bool:
        """A plain link in running text that shares another site's page ("tweet her original
        post"): a citation, not this page's share button. Share bars are kept whatever they
        share (a wrong host there is share-url-correct's business): a class, id, data-* or click
        handler, a share container around it, a landmark, a one- or two-word or share label, a
        local host or this page's own path all keep the link."""
        if anchor.classes or anchor.element_id or anchor.data or anchor.onclick:
            return False
        if anchor.landmark in ("header", "footer", "nav", "aside"):
            return False
        words = self.cat.menu_container_words
        if any(w in token.lower() for token in anchor.ancestor_classes for w in words):
            return False
        label = " ".join(anchor.text.lower().split())
        if len(label.split()) < 3 or label in self.cat.share_labels:
            return False
        parts = split_http(shared)
        if parts is None or not parts.host or _is_local(parts.host):
            return False
        if site_key(parts.host) in {site_key(h) for h in self.page.hosts}:
            return False
        own_paths = {(split_http(u) or _NO_PARTS).path.rstrip("/") for u in (self.page.url, self.page.canonical, self.page.og_url) if u}
        return parts.path.rstrip("/") not in own_paths

    @staticmethod
    def _popup(onclick: str | None, provider: Provider | None) -> bool:
        return bool(onclick and _POPUP.search(onclick)) or bool(provider and provider.popup)

    def _self_link(self, url: str, href: str) -> tuple[str, str] | None:
        cat = self.cat
        if not cat.self_link_params or not any(f"{p}=" in url.lower() for p in cat.self_link_params):
            return None
        relative = not href.lower().startswith(("http://", "https://", "//"))
        if not relative and _host(url) not in self.page.hosts:
            return None
        found = self_link_target(url, cat.self_link_params, cat.self_link_strip)
        if found is None:
            return None
        network = cat.network_id(found[0])
        return (network, found[1]) if network is not None and network not in _PSEUDO else None

    # -- buttons and other elements -----------------------------------------------------------
    def _from_element(self, element: Button) -> ShareButton | None:
        cat = self.cat
        selector = _button_selector(element)
        common: dict[str, Any] = {"label": element.accessible_name, "selector": selector}
        popup = bool(element.onclick and _POPUP.search(element.onclick))
        network: str | None
        provider = next(
            (p for name, value in element.data
             if (p := cat.link_data_providers.get(name)) is not None and _data_value_ok(cat, name, value)), None
        ) or next((p for cls in element.ancestor_classes if (p := cat.container_classes.get(cls)) is not None), None)
        scripted = self._from_script_text(element.onclick, None)
        if scripted is not None:
            endpoint, network, decoded = scripted
            return self._button(network, "", decoded, endpoint=endpoint, provider=provider, mechanism="link",
                                source=endpoint.id, popup=True, anchor=None, **common)
        network = self._attribute_network(element.data, element.classes)
        if network is not None:
            url_attr = self._url_attribute(element.data, provider)
            return self._widget_button(network, "", url_attr, provider, popup or bool(provider and provider.popup), common)
        if element.onclick and _SHARE_CALL.search(element.onclick):
            return self._web_share_button("", element.onclick, common)
        if _looks_like_share(element.classes, element.element_id, element.accessible_name, cat):
            if provider is not None:
                return _menu_button("", provider, common)
            return ShareButton(network=_CANDIDATE, href="", shares_url=None, mechanism="menu",
                               source="share-control", **common)
        return None

    def _from_marked(self, marked: MarkedElement) -> None:
        cat = self.cat
        network: str | None
        for selector, provider, is_container in cat.element_rules:
            if not selector.matches(marked.tag, marked.element_id, marked.classes, marked.attrs):
                continue
            seen = self._widget(provider.id)
            seen.add(_marked_selector(marked))
            if is_container:
                seen.has_container = True
                if marked.element_id:
                    self.container_ids.add(marked.element_id)
                if provider.networks_attribute:
                    for token in re.findall(r"[\w+-]+", marked.attr(provider.networks_attribute) or ""):
                        network = cat.network_id(token)
                        if network is not None and network not in seen.networks:
                            seen.networks.append(network)
                continue
            seen.has_element = True
            network = provider.network
            if provider.network_attribute:
                network = cat.network_id(marked.attr(provider.network_attribute)) or None
            if network is None:
                continue
            url_attr = next(((a, v) for a in provider.url_attributes if (v := marked.attr(a))), None)
            label = marked.attr("aria-label") or marked.attr("title") or marked.text
            decoded = self._attribute_decoded(url_attr)
            if provider.dead:
                decoded.problems.append(_dead_problem(provider.name, provider.dead_reason))
            self.buttons.append(ShareButton(
                network=network, href="", shares_url=decoded.shares_url, url_source=decoded.url_source,
                label=(label or "").strip(), selector=_marked_selector(marked),
                mechanism="web-share-api" if network == "web-share" else ("sdk" if provider.kind == "official" else "widget"),
                source=provider.id, provider=provider.id, popup=provider.popup, problems=tuple(decoded.problems),
            ))
            if network not in _PSEUDO:
                self.real_contexts.append(marked.ancestor_classes)
            break  # one button per element

    def _from_frame(self, url: str, src: str, title: str | None) -> None:
        matched = self.cat.match(url, frame=True)
        if matched is None:
            return
        endpoint, network, parts = matched
        decoded = decode_endpoint(endpoint, parts, self.page, self.cat.template_markers)
        if decoded is None:
            return
        self.buttons.append(self._button(
            network, src, decoded, endpoint=endpoint, provider=None, mechanism="sdk", source=endpoint.id,
            popup=True, anchor=None, label=(title or "").strip(), selector=f'iframe[src^="{src[:80]}"]',
        ))

    def _from_script(self, url: str | None, script_type: str | None, inline: str,
                     data: tuple[tuple[str, str], ...] = ()) -> None:
        cat = self.cat
        if url:
            for provider in cat.providers_for_script(url):
                seen = self._widget(provider.id)
                seen.has_script = True
                seen.add(f"script {url[:200]}")
        if script_type and script_type in cat.script_types:
            provider = cat.script_types[script_type]
            seen = self._widget(provider.id)
            seen.has_element = True
            seen.add(f'script[type="{script_type}"]')
            if provider.network:
                # <script type="IN/Share" data-url="...">: the plugin shares data-url, else the page
                decoded = self._attribute_decoded(self._url_attribute(data, provider) if data else None)
                self.buttons.append(ShareButton(
                    network=provider.network, href="", shares_url=decoded.shares_url, url_source=decoded.url_source,
                    selector=f'script[type="{script_type}"]', mechanism="sdk", source=provider.id,
                    provider=provider.id, popup=provider.popup, problems=tuple(decoded.problems),
                ))
        if inline and _is_javascript(script_type):
            for needles, regex, provider in cat.inline_checks:
                if not any(needle in inline for needle in needles):
                    continue
                found = regex.search(inline)
                if found is None:
                    continue
                seen = self._widget(provider.id)
                seen.has_script = True
                seen.add(f"inline script: {found.group(0)}")
                if provider.id == _WEB_SHARE_PROVIDER:
                    self.web_share_sources.append(inline)

    # -- web share ----------------------------------------------------------------------------
    def _web_share_button(self, href: str, code: str, common: Mapping[str, Any]) -> ShareButton:
        decoded = self._web_share_url(code)
        self._widget(_WEB_SHARE_PROVIDER).add(f"onclick: {code[:120]}")
        self._widget(_WEB_SHARE_PROVIDER).has_script = True
        return ShareButton(
            network="web-share", href=href, shares_url=decoded.shares_url, url_source=decoded.url_source,
            mechanism="web-share-api", source=_WEB_SHARE_PROVIDER, provider=_WEB_SHARE_PROVIDER,
            problems=tuple(decoded.problems), **common,
        )

    def _web_share_url(self, code: str) -> DecodedShare:
        """What a navigator.share() call shares: a literal url, the canonical, or the page itself."""
        call = _SHARE_CALL.search(code)
        window = code[call.start() : call.start() + 400] if call else code[:400]
        literal = _LITERAL_URL_KEY.search(window)
        if literal is not None:
            url = join_url(self.page.base_url, literal.group(2).strip())
            if url is None:
                return DecodedShare(None, "script", ["not-absolute: navigator.share() is given a URL that cannot be parsed"])
            return DecodedShare(url, "script:literal", _url_problems(url, self.cat.template_markers))
        if "canonical" in window.lower():
            return DecodedShare(self.page.canonical or self.page.url, "script:canonical")
        if call is not None and window[call.end() - call.start() :].lstrip().startswith("{"):
            body = window[call.end() - call.start() :].split("}", 1)[0]
            if not _URL_KEY.search(body + "}"):
                return DecodedShare(None, "script", ["no-url: navigator.share() is called without a url: "
                                                 "the share sheet gets text only"])
        return DecodedShare(self.page.url, "page")

    def _resolve_web_share(self) -> None:
        """Turn navigator.share() in inline scripts into buttons: the element the script wires up,
        a generic share control, or a button without a known element."""
        if not self.web_share_sources:
            return
        if any(b.network == "web-share" for b in self.buttons):
            return  # already tied to its trigger (onclick, amp-social-share type=system)
        code = self.web_share_sources[0]
        decoded = self._web_share_url(code)
        triggers = self._referenced_elements(code) or [e for _, e in self.generic]
        for element in triggers:
            selector = element.selector if isinstance(element, Anchor) else _button_selector(element)
            self.buttons.append(ShareButton(
                network="web-share", href=element.href if isinstance(element, Anchor) else "",
                shares_url=decoded.shares_url, url_source=decoded.url_source, label=element.accessible_name,
                selector=selector, mechanism="web-share-api", source=_WEB_SHARE_PROVIDER,
                provider=_WEB_SHARE_PROVIDER, problems=tuple(decoded.problems),
            ))
        self.generic = [(b, e) for b, e in self.generic if not any(e is t for t in triggers)]
        if not triggers:
            self.buttons.append(ShareButton(
                network="web-share", href="", shares_url=decoded.shares_url, url_source=decoded.url_source,
                mechanism="web-share-api", source=_WEB_SHARE_PROVIDER, provider=_WEB_SHARE_PROVIDER,
                problems=tuple(decoded.problems),
            ))

    def _resolve_menus(self) -> None:
        """Generic "Share" toggles left after the Web Share check: a `menu` when they open the
        page's own share links or widget, else nothing (a file manager's "Share" shares files).

        Evidence, from the catalogue's [menu] settings: the toggle points at (aria-controls,
        data-target, href="#id") an element that holds share buttons or is a share widget's
        container, or it sits in the same share container (a class with a share word) as
        buttons for real networks."""
        if not self.generic:
            return
        words = self.cat.menu_container_words
        targets = {t for tokens in self.real_contexts for t in tokens if t.startswith("#")}
        targets.update("#" + i for i in self.container_ids)
        shared = {t for tokens in self.real_contexts for t in tokens
                  if not t.startswith("#") and any(w in t.lower() for w in words)}
        for candidate, element in self.generic:
            points_at = {"#" + r.lstrip("#") for r in _references(element, self.cat.menu_target_attributes)}
            if points_at & targets or shared.intersection(element.ancestor_classes):
                self.buttons.append(_menu_button(candidate.href, None, {
                    "label": candidate.label, "selector": candidate.selector, "target": candidate.target,
                    "rel": candidate.rel}))

    def _referenced_elements(self, code: str) -> list[Anchor | Button]:
        ids: set[str] = set()
        classes: set[str] = set()
        for match in _ELEMENT_REFS.finditer(code):
            if match.group(1):
                ids.add(match.group(1))
            elif match.group(2):
                (ids if match.group(2)[0] == "#" else classes).add(match.group(2)[1:])
        if not ids and not classes:
            return []
        found: list[Anchor | Button] = []
        taken = {b.selector for b in self.buttons if b.network not in _PSEUDO}
        candidates: list[Anchor | Button] = [*self.doc.buttons, *self.doc.anchors]
        for element in candidates:
            if (element.element_id in ids or classes.intersection(element.classes)) and (
                (element.selector if isinstance(element, Anchor) else _button_selector(element)) not in taken
            ):
                found.append(element)
        return found[:8]

    # -- shared helpers -------------------------------------------------------------------------
    def _from_script_text(
        self, onclick: str | None, javascript_href: str | None
    ) -> tuple[Endpoint, str, DecodedShare] | None:
        """A share endpoint opened from an onclick handler or a javascript: href."""
        for code in (onclick, javascript_href):
            if not code:
                continue
            for literal in _URL_LITERAL.finditer(code):
                text = literal.group(0)
                if text.lower().startswith("javascript:"):
                    continue
                url = "https:" + text if text.startswith("//") else text
                matched = self.cat.match(url)
                if matched is None:
                    continue
                endpoint, network, parts = matched
                decoded = decode_endpoint(endpoint, parts, self.page, self.cat.template_markers)
                if decoded is None and _CONCATENATED.match(code, literal.end()):
                    # 'https://wa.me/?text=' + encodeURIComponent(location.href): the parameter the
                    # endpoint requires is filled in by the script, after the literal
                    decoded = self._filled_by_script(url)
                if decoded is None:
                    return None
                if decoded.shares_url is None and _LOCATION.search(code):
                    decoded = DecodedShare(self.page.url, "script", [], decoded.text)  # + location.href
                return endpoint, network, decoded
        return None

    def _filled_by_script(self, url: str) -> DecodedShare | None:
        """The share of an endpoint URL whose last parameter's value the script appends."""
        filled = self.cat.match(url + _SCRIPT_VALUE)
        if filled is None:
            return None
        endpoint, _, parts = filled
        decoded = decode_endpoint(endpoint, parts, self.page, self.cat.template_markers)
        if decoded is None or decoded.shares_url is not None:
            return decoded
        return DecodedShare(None, decoded.url_source, decoded.problems, None)  # the text is the script's

    def _attribute_network(self, data: tuple[tuple[str, str], ...], classes: tuple[str, ...]) -> str | None:
        cat = self.cat
        for name in cat.network_attributes:
            for key, value in data:
                if key == name:
                    network = cat.network_id(value)
                    if network is not None and network not in _PSEUDO:
                        return network
        for cls in classes:
            network = cat.class_networks.get(cls.lower())
            if network is not None:
                return network
        return None

    def _url_attribute(self, data: tuple[tuple[str, str], ...], provider: Provider | None) -> tuple[str, str] | None:
        names = [a[5:] for a in (provider.url_attributes if provider else ()) if a.startswith("data-")]
        names += list(self.cat.url_attributes)
        values = dict(data)
        for name in names:
            value = values.get(name, "").strip()
            if value:
                return f"data-{name}", value
        return None

    def _attribute_decoded(self, url_attr: tuple[str, str] | None) -> DecodedShare:
        """A URL from a data-url/data-href attribute, taken as written: share libraries pass it
        to the network verbatim, so a relative one is a problem. None means "this page"."""
        if url_attr is None or not url_attr[1].strip():
            return DecodedShare(self.page.url, "page")
        name, url = url_attr[0], url_attr[1].strip()
        return DecodedShare(url, f"attr:{name}", _url_problems(url, self.cat.template_markers))

    def _provider_url(
        self, decoded: DecodedShare, provider: Provider | None, data_attr: Callable[[str], str | None]
    ) -> DecodedShare:
        """Official buttons: data-url overrides the href, and no URL means "this page"."""
        if provider is None:
            return decoded
        for attr in provider.url_attributes:
            if attr.startswith("data-"):
                value = data_attr(attr[5:])
                if value and value.strip():
                    return DecodedShare(value.strip(), f"attr:{attr}", _url_problems(value.strip(), self.cat.template_markers),
                                    decoded.text)
        if decoded.shares_url is None and (provider.kind == "official" or provider.draws_buttons):
            return DecodedShare(self.page.url, "page", [], decoded.text)
        return decoded

    def _widget_button(
        self, network: str, href: str, url_attr: tuple[str, str] | None, provider: Provider | None,
        popup: bool, common: Mapping[str, Any],
    ) -> ShareButton:
        decoded = self._attribute_decoded(url_attr)
        if network == "web-share":
            return self._web_share_button(href, "", common)
        return ShareButton(
            network=network, href=href, shares_url=decoded.shares_url, url_source=decoded.url_source,
            mechanism="widget", source=provider.id if provider else "data-attributes",
            provider=provider.id if provider else None, popup=popup, problems=tuple(decoded.problems),
            **common,
        )

    def _button(
        self, network: str, href: str, decoded: DecodedShare, *, endpoint: Endpoint, provider: Provider | None,
        mechanism: str, source: str, popup: bool, anchor: Anchor | None, **common: Any,
    ) -> ShareButton:
        problems = list(decoded.problems)
        if endpoint.dead_since is not None:
            problems.append(_dead_problem(self.cat.network_name(network), endpoint.dead_reason))
        elif self.cat.networks.get(network) and self.cat.networks[network].dead_since:
            problems.append(_dead_problem(self.cat.network_name(network), self.cat.networks[network].dead_reason))
        if provider is not None and provider.dead:
            problems.append(_dead_problem(provider.name, provider.dead_reason))
        quote = None
        if endpoint.quote and decoded.text and anchor is not None:
            quote = self._quote(decoded.text, anchor, provider)
        return ShareButton(
            network=network, href=href, shares_url=decoded.shares_url, url_source=decoded.url_source,
            mechanism=mechanism, source=source, provider=provider.id if provider else None, popup=popup,
            problems=tuple(problems), text=quote, **common,
        )

    def _quote(self, text: str, anchor: Anchor, provider: Provider | None) -> str | None:
        """The quote of a click-to-tweet link in the article text, or None for a plain share."""
        cat = self.cat
        body = " ".join(_URL_IN_TEXT.sub(" ", text).split())
        if len(body) < cat.quote_min_length:
            return None
        if cat.quote_classes.intersection(anchor.classes) or cat.quote_classes.intersection(anchor.ancestor_classes):
            return body
        if provider is not None or anchor.landmark in ("header", "footer", "nav", "aside"):
            return None
        lowered = body.lower()
        for title in self.page.titles:
            if lowered.startswith(title) or title.startswith(lowered) or (len(title) >= 20 and title in lowered):
                return None  # "<title> <url>": the page's own headline, a plain share
        return body

    def _widgets(self) -> tuple[ShareWidget, ...]:
        counts: dict[str, int] = {}
        for button in self.buttons:
            if button.provider is not None and button.network != MENU:
                counts[button.provider] = counts.get(button.provider, 0) + 1
        widgets: list[ShareWidget] = []
        for provider_id, seen in self.widgets.items():
            provider = seen.provider
            static = counts.get(provider_id, 0)
            if provider.needs_element and not seen.has_element and not static:
                continue  # an SDK script alone (embeds, sign-in) is not a share widget
            widgets.append(ShareWidget(
                provider=provider_id,
                evidence="; ".join(seen.evidence),
                dead=provider.dead,
                kind=provider.kind,
                dead_reason=(provider.dead_reason or f"{provider.name} is shut down") if provider.dead else None,
                js_only=provider.draws_buttons and not provider.dead and static == 0,
                has_script=seen.has_script,
                has_container=seen.has_container,
                networks=tuple(seen.networks),
            ))
        return tuple(widgets)


_NO_PARTS = HttpParts("", "", "", "")
_LOCAL_SUFFIXES = (".localhost", ".local", ".test", ".internal")


def _is_local(host: str) -> bool:
    return host in ("localhost", "[::1]") or host.endswith(_LOCAL_SUFFIXES) or host.startswith(("127.", "10.", "192.168."))


def _dead_problem(name: str, reason: str | None) -> str:
    return f"dead-service: {reason or name + ' is shut down'}"


def _host(url: str | None) -> str:
    if not url:
        return ""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _in_embed(anchor: Anchor, cat: ShareCatalogue) -> bool:
    """Inside third-party embedded content, or the no-JS fallback inside an SDK button element."""
    ancestors = anchor.ancestor_classes
    return bool(ancestors) and not (cat.embed_classes.isdisjoint(ancestors) and cat.element_classes.isdisjoint(ancestors))


def _common(anchor: Anchor) -> dict[str, Any]:
    """The ShareButton fields every link-based button takes from its <a>."""
    return {"label": anchor.accessible_name, "selector": anchor.selector, "target": anchor.target, "rel": anchor.rel}


def _is_javascript(script_type: str | None) -> bool:
    """Inline code worth scanning: JSON data blocks and templates cannot call navigator.share()."""
    return not script_type or "javascript" in script_type or "ecmascript" in script_type or script_type in (
        "module", "text/babel", "text/jsx")


def _looks_like_share(classes: tuple[str, ...], element_id: str | None, label: str, cat: ShareCatalogue) -> bool:
    tokens = {c.lower() for c in classes}
    if element_id:
        tokens.add(element_id.lower())
    return bool(tokens & cat.share_words) or " ".join(label.lower().split()) in cat.share_labels


def _button_selector(button: Button) -> str:
    tag = button.tag
    if button.element_id:
        return f"{tag}#{button.element_id}"
    if button.classes:
        return f"{tag}." + ".".join(button.classes[:3])
    if button.aria_label:
        return f'{tag}[aria-label="{button.aria_label[:80]}"]'
    return "button" if button.input_type is None else f'input[type="{button.input_type}"]'



def _marked_selector(marked: MarkedElement) -> str:
    if marked.element_id:
        return f"{marked.tag}#{marked.element_id}"
    if marked.classes:
        return marked.tag + "." + ".".join(marked.classes[:3])
    kind = marked.attr("type")
    return f'{marked.tag}[type="{kind}"]' if kind else marked.tag



def share_toggles(doc: Document, catalogue: ShareCatalogue | None = None) -> list[str]:
    """Selectors of the page's generic "Share" controls (a class, id or name that says share, no
    network): not share buttons by themselves; the share-js-only rule looks for the script that
    wires them to navigator.share()."""
    cat = catalogue or share_catalogue()
    found = [_button_selector(b) for b in doc.buttons if _looks_like_share(b.classes, b.element_id, b.accessible_name, cat)]
    found += [a.selector for a in doc.anchors if (not a.url or a.href.startswith(("#", "javascript:")))
              and _looks_like_share(a.classes, a.element_id, a.accessible_name, cat)]
    return found[:8]


def _data_value_ok(cat: ShareCatalogue, name: str, value: str) -> bool:
    wanted = cat.link_data_values.get(name)
    return not wanted or value.strip().lower() in wanted


def _menu_button(href: str, provider: Provider | None, common: Mapping[str, Any]) -> ShareButton:
    """A toggle that opens the page's own share menu: no network of its own, no URL to check."""
    return ShareButton(network=MENU, href=href, shares_url=None, mechanism="menu",
                       source=provider.id if provider else "share-menu",
                       provider=provider.id if provider else None, **common)


def _references(element: Anchor | Button, attributes: Iterable[str]) -> list[str]:
    """Ids a toggle says it opens: aria-controls, data-target / data-bs-target, href="#id"."""
    found = [element.controls] if element.controls else []
    for name, value in element.data:
        if name in attributes and value.startswith("#"):
            found.append(value)
    if isinstance(element, Anchor) and element.href.startswith("#") and len(element.href) > 1:
        found.append(element.href)
    return [token for value in found for token in value.split() if token.strip("#")]
