"""Social sign-in: which providers a page lets people sign in with, and how.

Evidence comes in four mechanisms (rules/catalogue/sign_in.toml): a provider's SDK script (or the
element it renders into), an OAuth link (the provider's authorize endpoint, a broker's such as
Auth0 or Cognito, or the site's own /auth/<provider> route), a hosted sign-in UI (Firebase UI,
Clerk, Okta) and a button whose name says "Sign in with <Provider>". Many of these appear only
after JavaScript runs; the classifier reads a `Document`, so rendered mode feeds the rendered DOM
through the same code and fills in what static HTML could not show.

The classifier also marks account pages (a password field, or a login/sign-up URL) and lists the
login/sign-up pages a page links to, including those on another host of the same site
(auth.example.com): the crawler audits them even outside the normal scope, because that is where
social sign-in lives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

from smo_audit.catalogue import section
from smo_audit.extract.facts import Anchor, Button, Document, MarkedElement, PageFacts, SignIn
from smo_audit.extract.share_catalogue import share_catalogue
from smo_audit.extract.signature import SimpleSelector
from smo_audit.extract.urlmatch import (
    HttpParts,
    UrlPatterns,
    join_url,
    normalise_host,
    site_key,
    split_http,
)

UNKNOWN = "unknown"
MAX_SIGN_IN = 32
_TEXT_PUNCTUATION = " .,:;!?>|-\u2192\u00bb\u203a\u00b7\u2013\u2014"  # arrows, guillemets, dashes
_PAGE_EXTENSIONS = (".html", ".htm", ".php", ".aspx", ".asp", ".jsp")


_CACHE_LIMIT = 2048  # entries per per-URL / per-label cache; cleared when full, so memory stays flat


class _Link(NamedTuple):
    """What sign-in detection needs of one link URL; the same for every page, so cached by URL."""

    parts: HttpParts
    segments: list[str]  # lower-cased path segments (read-only)
    site: str  # site_key of the host
    endpoint: tuple[str, str | None] | None  # (provider, via) of a catalogued authorize endpoint
    route: tuple[str, str | None] | None  # (provider, "site") of a /auth/<provider> route on its own site
    account_word: bool  # a path segment is a login/sign-up word
    account_exclude: bool  # a path segment excludes the link from account links
    account_label: bool  # the host's first label is an account host label (auth.example.com)
    docs: bool  # a docs/help path segment (/docs/auth/social/google, /accounts/answer/...): see _Controls


_Parsed = tuple[Anchor, _Link, str]  # a link, what its URL says, its accessible name


@dataclass(frozen=True, slots=True)
class Provider:
    id: str
    name: str
    official_hosts: frozenset[str]
    dead_service: str | None = None  # id in dead_services.toml: the provider is shut down
    own_sites: frozenset[str] = frozenset()  # its own sites: sign-in there is first-party


@dataclass(frozen=True, slots=True)
class _Sdk:
    provider: str
    requires_element: bool


@dataclass(frozen=True, slots=True)
class _Endpoint:
    provider: str | None  # None: a broker whose provider is named by a query parameter
    hosted: str | None
    param: str | None


@dataclass(frozen=True, slots=True)
class _Signature:
    selector: SimpleSelector
    provider: str | None
    hosted: str | None


@dataclass(frozen=True, slots=True)
class _Hosted:
    id: str
    name: str
    provider_attr: str | None
    class_prefixes: tuple[str, ...]
    not_social: frozenset[str]


@dataclass(frozen=True)
class SignInCatalogue:
    """sign_in.toml compiled once: host-indexed URL patterns, selectors and one text regex."""

    providers: Mapping[str, Provider]
    hosted: Mapping[str, _Hosted]
    aliases: Mapping[str, str]  # lower-case alias -> provider id
    sdk: UrlPatterns[_Sdk]
    authorize: UrlPatterns[_Endpoint]
    hosted_scripts: UrlPatterns[str]
    file_names: Mapping[str, tuple[str | None, str | None]]  # basename -> (provider, hosted)
    signatures: tuple[_Signature, ...]
    meta: Mapping[str, str]
    inline_calls: tuple[tuple[str, str], ...]
    inline_provider: tuple[tuple[re.Pattern[str], str], ...]
    button_text: re.Pattern[str] | None
    button_connectors: tuple[str, ...]
    provider_names: re.Pattern[str] | None
    name_to_provider: Mapping[str, str]
    route_words: frozenset[str]
    route_params: frozenset[str]
    docs_words: frozenset[str]
    account_words: frozenset[str]
    account_host_labels: frozenset[str]
    account_exclude: frozenset[str]
    account_texts: frozenset[str]
    max_account_links: int
    tokens: Mapping[str, str] = field(default_factory=dict)  # class/id/data-* word -> provider
    title_words: tuple[str, ...] = ()
    block_words: frozenset[str] = frozenset()
    not_words: frozenset[str] = frozenset()
    share_words: frozenset[str] = frozenset()
    not_label_words: frozenset[str] = frozenset()
    not_call_words: frozenset[str] = frozenset()
    control_selectors: tuple[str, ...] = ()
    # a signature's classes, ids and (for signatures naming neither) tags: an element with none of
    # these cannot match any signature
    signature_keys: frozenset[str] = frozenset()

    def provider_for(self, alias: str | None) -> str | None:
        if not alias:
            return None
        return self.aliases.get(alias.strip().lower())

    def selectors(self) -> list[str]:
        return [s.selector.text for s in self.signatures] + list(self.control_selectors)


def _list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def build_catalogue(data: Mapping[str, Any]) -> SignInCatalogue:
    providers: dict[str, Provider] = {}
    aliases: dict[str, str] = {}
    sdk: UrlPatterns[_Sdk] = UrlPatterns()
    authorize: UrlPatterns[_Endpoint] = UrlPatterns()
    hosted_scripts: UrlPatterns[str] = UrlPatterns()
    file_names: dict[str, tuple[str | None, str | None]] = {}
    signatures: list[_Signature] = []
    meta: dict[str, str] = {}
    inline_calls: list[tuple[str, str]] = []
    names: dict[str, str] = {}
    tokens: dict[str, str] = {}
    for pid, entry in dict(data.get("provider", {})).items():
        providers[pid] = Provider(pid, str(entry.get("name", pid)),
                                  frozenset(normalise_host(h) for h in _list(entry.get("official_hosts"))),
                                  entry.get("dead_service"),
                                  frozenset(normalise_host(h) for h in _list(entry.get("own_sites"))))
        for token in _list(entry.get("tokens")) or [pid]:
            tokens.setdefault(token.lower(), pid)
        aliases[pid] = pid
        for alias in _list(entry.get("aliases")):
            aliases[alias.lower()] = pid
        for spec in entry.get("sdk", []):
            sdk.add(str(spec["script"]), _Sdk(pid, spec.get("requires") == "element"))
        for name in _list(entry.get("file_names")):
            file_names[name.lower()] = (pid, None)
        for selector in _list(entry.get("elements")):
            signatures.append(_Signature(SimpleSelector.parse(selector), pid, None))
        for key in _list(entry.get("meta")):
            meta[key.lower()] = pid
        inline_calls.extend((call, pid) for call in _list(entry.get("inline")))
        for pattern in _list(entry.get("authorize")):
            authorize.add(pattern, _Endpoint(pid, None, None))
        for name in _list(entry.get("text_names")) or [str(entry.get("name", pid))]:
            names[name.lower()] = pid
    hosted: dict[str, _Hosted] = {}
    inline_provider: list[tuple[re.Pattern[str], str]] = []
    for hid, entry in dict(data.get("hosted", {})).items():
        hosted[hid] = _Hosted(hid, str(entry.get("name", hid)), entry.get("provider_attr"),
                              tuple(_list(entry.get("provider_class_prefixes"))),
                              frozenset(n.lower() for n in _list(entry.get("not_social"))))
        for pattern in _list(entry.get("scripts")):
            hosted_scripts.add(pattern, hid)
        for name in _list(entry.get("file_names")):
            file_names[name.lower()] = (None, hid)
        for selector in _list(entry.get("elements")):
            signatures.append(_Signature(SimpleSelector.parse(selector), None, hid))
        for pattern in _list(entry.get("authorize")):
            authorize.add(pattern, _Endpoint(None, hid, entry.get("provider_param")))
        if entry.get("inline_provider"):
            inline_provider.append((re.compile(str(entry["inline_provider"])), hid))
    button_text = provider_names = None
    texts = dict(data.get("button_text", {}))
    languages = [dict(v) for v in texts.values() if isinstance(v, dict)]
    connectors = [c for lang in languages for c in _list(lang.get("connectors"))]
    if names:
        alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        end = str(texts.get("end", "(?![\\w])"))
        patterns = [p for lang in languages for p in _list(lang.get("patterns"))]
        if patterns:
            button_text = re.compile(
                "|".join(f"(?:{p.replace('{provider}', f'(?:{alternation})').replace('{end}', end)})" for p in patterns),
                re.IGNORECASE)
        # ASCII word edges: "Googleでログイン" names Google although で is a word character
        provider_names = re.compile(rf"(?<![A-Za-z0-9_])(?:{alternation})(?![A-Za-z0-9_])", re.IGNORECASE)
    context = dict(data.get("context", {}))
    controls = dict(data.get("controls", {}))
    control_selectors = _list(controls.get("selectors"))
    class_words = _list(controls.get("class_words"))
    if class_words:
        tags = ",".join(_list(controls.get("tags")) or ["div", "span", "li"])
        words = ",".join(f"[class*={w} i]" for w in class_words)
        control_selectors.append(f":is({tags}):is({words})")
    routes = dict(data.get("site_routes", {}))
    account = dict(data.get("account", {}))
    return SignInCatalogue(
        providers=providers, hosted=hosted, aliases=aliases, sdk=sdk, authorize=authorize,
        hosted_scripts=hosted_scripts, file_names=file_names, signatures=tuple(signatures), meta=meta,
        inline_calls=tuple(inline_calls), inline_provider=tuple(inline_provider), button_text=button_text,
        provider_names=provider_names, name_to_provider=names,
        button_connectors=tuple(dict.fromkeys(c.lower() for c in connectors)),
        route_words=frozenset(w.lower() for w in _list(routes.get("words"))),
        route_params=frozenset(p.lower() for p in _list(routes.get("params"))),
        docs_words=frozenset(w.lower() for w in _list(routes.get("docs_words"))),
        account_words=frozenset(w.lower() for w in _list(account.get("path_words"))),
        account_host_labels=frozenset(w.lower() for w in _list(account.get("host_labels"))),
        account_exclude=frozenset(w.lower() for w in _list(account.get("exclude_words"))),
        account_texts=frozenset(_norm_text(t) for t in _list(account.get("texts"))),
        max_account_links=int(account.get("max_links", 4)),
        tokens=tokens,
        title_words=tuple(w.lower() for w in _list(context.get("title_words"))),
        block_words=frozenset(w.lower() for w in _list(context.get("block_words"))),
        not_words=frozenset(w.lower() for w in _list(context.get("not_words"))),
        share_words=frozenset(w.lower() for w in _list(context.get("share_words"))),
        not_label_words=frozenset(w.lower() for w in _list(context.get("not_label_words"))),
        not_call_words=frozenset(w.lower() for w in _list(context.get("not_call_words"))),
        control_selectors=tuple(control_selectors),
        signature_keys=frozenset(k for sig in signatures for k in (
            sig.selector.classes or ({sig.selector.element_id} if sig.selector.element_id else set())
            or ({sig.selector.tag} if sig.selector.tag else {"*"}))),
    )


@cache
def catalogue() -> SignInCatalogue:
    return build_catalogue(section("sign_in"))


# -- helpers -----------------------------------------------------------------------------------


def _norm_text(text: str) -> str:
    """Lower-case, single spaces, no surrounding punctuation: "Log in →" -> "log in"."""
    return " ".join(text.lower().split()).strip(_TEXT_PUNCTUATION)


def _segments(path: str) -> list[str]:
    return [(unquote(s) if "%" in s else s).lower() for s in path.split("/") if s]


def _stem(segment: str) -> str:
    for extension in _PAGE_EXTENSIONS:
        if segment.endswith(extension):
            return segment[: -len(extension)]
    return segment


def _has_word(segments: list[str], words: frozenset[str]) -> bool:
    """A path segment is one of `words`, with or without a page extension (login.html)."""
    return any(s in words or ("." in s and _stem(s) in words) for s in segments)


def _button_attrs(button: Button) -> list[tuple[str, str]]:
    attrs = [("data-" + k, v) for k, v in button.data]
    if button.aria_label is not None:
        attrs.append(("aria-label", button.aria_label))
    return attrs


def _anchor_attrs(anchor: Anchor) -> list[tuple[str, str]]:
    attrs = [("data-" + k, v) for k, v in anchor.data]
    attrs.append(("href", anchor.href))
    return attrs


def _element_selector(tag: str, element_id: str | None, classes: Iterable[str]) -> str:
    if element_id:
        return f"{tag}#{element_id}"
    classes = tuple(classes)
    return tag + ("." + ".".join(classes[:3]) if classes else "")


def is_account_url(url: str, cat: SignInCatalogue | None = None) -> bool:
    """A login/sign-up/account URL: a path segment like /login or /users/sign_in, or an auth.* host."""
    cat = cat or catalogue()
    parts = split_http(url)
    if parts is None:
        return False
    segments = _segments(parts.path)
    if _has_word(segments, cat.account_exclude):
        return False
    if _has_word(segments, cat.account_words):
        return True
    return parts.host.count(".") >= 2 and parts.host.split(".", 1)[0] in cat.account_host_labels


# -- the classifier ----------------------------------------------------------------------------


class _Found:
    """Collects SignIn facts without duplicates, bounded."""

    def __init__(self) -> None:
        self.items: list[SignIn] = []
        self._keys: set[tuple[str, str, str]] = set()

    def add(self, item: SignIn) -> None:
        key = (item.provider, item.mechanism, item.evidence)
        if key not in self._keys and len(self.items) < MAX_SIGN_IN:
            self._keys.add(key)
            self.items.append(item)


class SignInClassifier:
    """Document -> `sign_in`, `is_account_page`, `account_links` (the crawler's extra seeds)."""

    name = "sign_in"

    def __init__(self, cat: SignInCatalogue | None = None) -> None:
        self.cat = cat or catalogue()
        self._links_seen: dict[str, _Link | None] = {}
        self._text_providers: dict[str, str | None] = {}
        self._account_texts: dict[str, bool] = {}
        self._token_providers: dict[tuple[str, ...], tuple[str | None, bool]] = {}

    def selectors(self) -> Iterable[str]:
        return self.cat.selectors()

    def classify(self, doc: Document, facts: PageFacts) -> Mapping[str, Any]:
        cat = self.cat
        found = _Found()
        elements: dict[str, str] = {}  # provider -> evidence of its SDK's element/meta/inline call
        hosted_seen: dict[str, str] = {}  # hosted UI id -> evidence
        signed: set[int] = set()  # id() of marked elements that matched a signature
        self._elements(doc, found, elements, hosted_seen, signed)
        self._scripts(doc, found, elements, hosted_seen)
        with_script = {i.provider for i in found.items if i.mechanism == "sdk"}
        for provider, evidence in elements.items():
            if provider not in with_script:
                found.add(SignIn(provider, "sdk", evidence))  # the SDK is loaded by other JavaScript
        page = split_http(doc.url)
        page_host = page.host if page is not None else ""
        page_site = site_key(page_host)
        # Every anchor's accessible name, once: both the button-text and the account-link checks read it.
        names = [a.accessible_name for a in doc.anchors]
        parsed = [(a, link, name) for a, name in zip(doc.anchors, names, strict=True)
                  if a.url is not None and (link := self._link(a.url)) is not None]
        is_account = facts.has_password_form or is_account_url(doc.url, cat)
        # where links into the site's docs or help may start sign-in: a login URL with a login form
        # (/docs/login, /help/login); not a help article about signing in (/help/sign-in, no form),
        # nor a docs article with a login form in its header
        login_page = facts.has_password_form and is_account_url(doc.url, cat)
        oauth_urls = self._links(doc, found, parsed, page_site, login_page)
        titled = not is_account and _says_sign_in(doc.title or "", cat.title_words)
        _Controls(self, doc, found, oauth_urls, page_site, is_account, titled, login_page).run(names, signed)
        for hid, evidence in hosted_seen.items():
            if not any(i.via == hid and i.provider != UNKNOWN for i in found.items):
                found.add(SignIn(UNKNOWN, "hosted-ui", evidence, via=hid))
        account_links = self._account_links(doc, parsed, page_host, oauth_urls)
        items = self._first_party_dropped(found.items, doc, facts)
        updates: dict[str, Any] = {}
        if items:
            updates["sign_in"] = tuple(self._mark_dead(items))
        if is_account:
            updates["is_account_page"] = True
        if account_links:
            updates["account_links"] = account_links
        return updates

    def _first_party_dropped(self, items: list[SignIn], doc: Document, facts: PageFacts) -> list[SignIn]:
        """Without the evidence for a provider on its own site: accounts.google.com's "Sign in with
        Google" is Google's own login, not social sign-in (another provider there still counts)."""
        hosts = [split_http(u) for u in (doc.url, facts.canonical) if u]
        sites = {site_key(h.host) for h in hosts if h is not None}
        providers = self.cat.providers
        own = {pid for pid, p in providers.items() if p.own_sites and {site_key(h) for h in p.own_sites} & sites}
        return [i for i in items if i.provider not in own] if own else items

    def _mark_dead(self, items: list[SignIn]) -> list[SignIn]:
        """Flag sign-ins through a shut-down provider (Google+): never working sign-in."""
        providers = self.cat.providers
        return [replace(i, dead=True) if (p := providers.get(i.provider)) is not None and p.dead_service else i
                for i in items]

    # -- evidence collectors ---------------------------------------------------------------------

    def _hosted_provider(self, hosted: _Hosted, element: MarkedElement | Button, attrs: list[tuple[str, str]]) -> str | None:
        """The social provider a hosted UI's button names; None for none or a non-social method."""
        names: list[str] = []
        if hosted.provider_attr:
            value = dict(attrs).get(hosted.provider_attr)
            if value:
                names.append(value)
        for prefix in hosted.class_prefixes:
            names.extend(cls[len(prefix):] for cls in element.classes if cls.startswith(prefix))
        for name in names:
            if name.lower() not in hosted.not_social:
                return self.cat.provider_for(name) or UNKNOWN
        return None

    def _elements(self, doc: Document, found: _Found, elements: dict[str, str], hosted_seen: dict[str, str],
                  signed: set[int]) -> None:
        cat = self.cat
        if not cat.signatures:
            return
        keys = cat.signature_keys
        candidates: list[tuple[str, MarkedElement | Button, list[tuple[str, str]]]] = [
            (m.tag, m, list(m.attrs)) for m in doc.marked
            if "*" in keys or m.tag in keys or m.element_id in keys or not keys.isdisjoint(m.classes)  # else none matches
        ]
        candidates += [("button", b, _button_attrs(b)) for b in doc.buttons]
        for tag, element, attrs in candidates:
            for signature in cat.signatures:
                if not signature.selector.matches(tag, element.element_id, element.classes, attrs):
                    continue
                if isinstance(element, MarkedElement):
                    signed.add(id(element))  # an SDK's or hosted UI's element: not a control to read again
                evidence = signature.selector.text
                if signature.provider is not None:
                    elements.setdefault(signature.provider, evidence)
                    continue
                assert signature.hosted is not None
                hosted = cat.hosted[signature.hosted]
                hosted_seen.setdefault(hosted.id, evidence)
                provider = self._hosted_provider(hosted, element, attrs)
                if provider is not None:
                    label = element.accessible_name if isinstance(element, Button) else element.text
                    selector = _element_selector(tag, element.element_id, element.classes)
                    found.add(SignIn(provider, "hosted-ui", selector + f" ({provider})", label=label,
                                     via=hosted.id, selector=selector))
        for meta in doc.meta:
            meta_provider = cat.meta.get(meta.key)
            if meta_provider is not None:
                elements.setdefault(meta_provider, f'<meta name="{meta.key}">')

    def _scripts(self, doc: Document, found: _Found, elements: dict[str, str], hosted_seen: dict[str, str]) -> None:
        cat = self.cat
        for script in doc.scripts:
            if script.inline:
                for call, provider in cat.inline_calls:
                    if call in script.inline:
                        elements.setdefault(provider, call)
                for pattern, hid in cat.inline_provider:
                    for match in pattern.finditer(script.inline):
                        provider = cat.provider_for(match.group("provider")) or UNKNOWN
                        hosted_seen.setdefault(hid, match.group(0)[:120])
                        found.add(SignIn(provider, "hosted-ui", match.group(0)[:200], via=hid))
        for script in doc.scripts:
            if not script.url:
                continue
            matched = cat.sdk.match(script.url)
            for sdk in matched:
                if sdk.requires_element and sdk.provider not in elements:
                    continue
                found.add(SignIn(sdk.provider, "sdk", script.src or script.url, url=script.url))
            hosted_ids = cat.hosted_scripts.match(script.url)
            for hid in hosted_ids:
                hosted_seen.setdefault(hid, script.src or script.url)
            if matched or hosted_ids:
                continue
            basename = urlsplit(script.url).path.rsplit("/", 1)[-1].lower()
            owner = cat.file_names.get(basename)
            if owner is None:
                continue
            owner_provider, owner_hosted = owner
            if owner_provider is not None:
                found.add(SignIn(owner_provider, "sdk", script.src or script.url, url=script.url))
            elif owner_hosted is not None:
                hosted_seen.setdefault(owner_hosted, script.src or script.url)

    def _links(self, doc: Document, found: _Found, parsed: list[_Parsed], page_site: str, login_page: bool) -> set[str]:
        """OAuth links among anchors and form actions; returns their URLs.

        A site route under a docs/help path (/docs/auth/social/google) starts sign-in on the site's
        login pages (a docs site's own /docs/login) and documents it elsewhere (a docs article)."""
        urls: set[str] = set()
        for anchor, link, _ in parsed:
            route = link.route if link.site == page_site and (login_page or not link.docs) else None
            item = link.endpoint or route
            if item is not None and anchor.url is not None:
                urls.add(anchor.url)
                found.add(SignIn(item[0], "oauth-link", anchor.href, url=anchor.url, label=anchor.accessible_name,
                                 via=item[1], selector=anchor.selector))
        for form in doc.forms:
            form_parts = split_http(form.action) if form.action else None
            if form_parts is None or form.action is None:
                continue
            item = self._oauth(form_parts, _segments(form_parts.path), page_site)
            if item is not None:
                urls.add(form.action)
                found.add(SignIn(item[0], "oauth-link", form.action, url=form.action, via=item[1],
                                 selector=_element_selector("form", form.element_id, form.classes)))
        return urls

    def _link(self, url: str) -> _Link | None:
        """The cached _Link of an http(s) URL; None for other URLs."""
        cache = self._links_seen
        if url in cache:
            return cache[url]
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        parts = split_http(url)
        link = None
        if parts is not None:
            cat = self.cat
            segments = _segments(parts.path)
            host = parts.host
            link = _Link(parts, segments, site_key(host), self._endpoint(parts), self._route(parts, segments),
                         _has_word(segments, cat.account_words), _has_word(segments, cat.account_exclude),
                         host.split(".", 1)[0] in cat.account_host_labels, _has_word(segments, cat.docs_words))
        cache[url] = link
        return link

    def _oauth(self, parts: HttpParts, segments: list[str], page_site: str) -> tuple[str, str | None] | None:
        """(provider, via) when the URL starts an OAuth sign-in, else None."""
        endpoint = self._endpoint(parts)
        if endpoint is not None:
            return endpoint
        if site_key(parts.host) != page_site:
            return None
        return self._route(parts, segments)

    def _endpoint(self, parts: HttpParts) -> tuple[str, str | None] | None:
        """(provider, via) when the URL is a catalogued authorize endpoint (any site)."""
        cat = self.cat
        found = cat.authorize.match_parts(normalise_host(parts.host), parts.path)
        if not found:
            return None
        endpoint = found[0]
        if endpoint.provider is not None:
            return endpoint.provider, None
        name = next((v for k, v in parse_qsl(parts.query) if k == endpoint.param), None)
        return cat.provider_for(name) or UNKNOWN, endpoint.hosted

    def _route(self, parts: HttpParts, segments: list[str]) -> tuple[str, str | None] | None:
        """(provider, "site") when the URL is a site's own sign-in route (/auth/google), if it is
        on the page's site."""
        cat = self.cat
        for index, segment in enumerate(segments[:-1]):
            if segment in cat.route_words:
                provider = cat.provider_for(segments[index + 1])
                if provider is not None:
                    return provider, "site"
        if parts.query and any(s in cat.route_words for s in segments):
            for key, value in parse_qsl(parts.query):
                if key.lower() in cat.route_params:  # never utm_source=twitter, ref=fb, env=live
                    provider = cat.provider_for(value)
                    if provider is not None:
                        return provider, "site"
        return None

    def _text_provider(self, name: str) -> str | None:
        cache = self._text_providers
        if name in cache:
            return cache[name]  # link labels repeat on every page (navigation, footers)
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        provider = cache[name] = self._text_provider_uncached(name)
        return provider

    def _text_provider_uncached(self, name: str) -> str | None:
        cat = self.cat
        if cat.button_text is None or cat.provider_names is None or not name:
            return None
        lower = name.lower()
        if cat.button_connectors and not any(c in lower for c in cat.button_connectors):
            return None  # cheap pre-filter: most links say nothing like "with"/"avec"/"mit"
        match = cat.button_text.search(name)
        if match is None:
            return None
        names = cat.provider_names.findall(match.group(0))
        return cat.name_to_provider.get(names[-1].lower()) if names else None

    def _is_account_text(self, name: str) -> bool:
        """A link label such as "Log in" or "Sign up" (cached: labels repeat on every page)."""
        cache = self._account_texts
        found = cache.get(name)
        if found is None:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cat = self.cat
            longest_text = max((len(t) for t in cat.account_texts), default=0)
            found = cache[name] = len(name) <= longest_text + 4 and _norm_text(name) in cat.account_texts
        return found

    def _account_links(self, doc: Document, parsed: list[_Parsed], page_host: str,
                       oauth_urls: set[str]) -> tuple[str, ...]:
        cat = self.cat
        page_site = site_key(page_host)
        own = doc.url.split("#", 1)[0]
        links: list[str] = []
        for anchor, link, name in parsed:
            if anchor.url is None:
                continue
            by_host = link.account_label and link.parts.host != page_host
            if not (by_host or link.account_word or self._is_account_text(name)):
                continue
            url = anchor.url.split("#", 1)[0]
            if (url == own or url in links or anchor.url in oauth_urls or link.site != page_site
                    or link.account_exclude):
                continue
            links.append(url)
            if len(links) >= cat.max_account_links:
                break
        return tuple(links)


# -- controls: any clickable element, its names, the URLs it carries, the provider it is marked for --

_QUOTED = re.compile(r"""['"]([^'"\s]{1,512})['"]""")  # linear: a quoted string without blanks
_WORD_SPLIT = re.compile(r"[^0-9a-zA-Z]+")
_LABEL_SPLIT = re.compile(r"[\W_]+")  # linear: one character class under one quantifier
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_EXPLICIT_ATTRS = frozenset(("role", "onclick", "tabindex"))
MAX_TOKEN_VALUE = 40  # data-* values longer than this are not provider words (JSON, URLs)


def _calls(onclick: str | None) -> tuple[str, ...]:
    """The words of the functions an onclick calls: openProfile('brewco') -> open, profile.

    The name right before each "(", read by splitting, not by a regex: a name pattern tried at
    every position of a long run of letters is quadratic."""
    if not onclick:
        return ()
    words: list[str] = []
    for chunk in onclick.split("(")[:-1]:
        name = chunk.rstrip()
        start = len(name)
        while start > 0 and (name[start - 1].isalnum() or name[start - 1] in "_$"):
            start -= 1
        if start < len(name):
            words.extend(_words(name[start:][:MAX_TOKEN_VALUE]))
    return tuple(words)


@lru_cache(maxsize=8192)
def _words(token: str) -> tuple[str, ...]:
    """"js-google-signin" -> js, google, signin; "socialLogin" -> social, login, sociallogin.
    Cached: class names repeat on every element and every page of a site."""
    parts = [w.lower() for w in _WORD_SPLIT.split(_CAMEL.sub("-", token)) if w]
    joined = "".join(parts)
    return (*parts, joined) if len(parts) > 1 else tuple(parts)


def _says_sign_in(title: str, words: Iterable[str]) -> bool:
    """A sign-in word in a <title> or a control's name: whole words for Latin scripts ("Blog
    index" does not say "log in"), a substring for scripts written without spaces (ログイン)."""
    padded = " " + " ".join(_WORD_SPLIT.sub(" ", title.lower()).split()) + " "
    lowered = title.lower()
    return any((f" {w} " in padded) if w.isascii() else (w in lowered) for w in words)


def _url_values(values: Iterable[str]) -> list[str]:
    return [v.strip() for v in values if v.strip().startswith(("http://", "https://", "/"))]


class _Candidate(NamedTuple):
    names: list[str]  # accessible names to try: aria-label, text, img alt, title
    urls: list[str]  # URLs it carries besides a navigating href: data-*, url=, onclick literals
    tokens: list[str]  # its class tokens, id, data-* names and short values
    ancestors: tuple[str, ...]
    explicit: bool  # a real control: a link, a button, role=button, onclick, data-provider, ...
    # it navigates into documentation or help (support.google.com's page on "Sign in with Google",
    # a docs article's /docs/auth/...): no evidence at all (see _Controls._elsewhere)
    elsewhere: bool
    external: bool  # it navigates to another site (a footer's facebook.com link): no class evidence
    calls: tuple[str, ...]  # words of the functions its onclick calls (openProfile -> open, profile)
    selector: str
    url: str | None  # where it navigates, if anywhere
    in_oauth: bool  # its href is already an oauth-link


class _Controls:
    """One page's controls -> oauth-link (URL outside href), button-text and control evidence."""

    def __init__(self, owner: SignInClassifier, doc: Document, found: _Found, oauth_urls: set[str],
                 page_site: str, account_page: bool, titled: bool, login_page: bool) -> None:
        self.owner = owner
        self.cat = owner.cat
        self.doc = doc
        self.found = found
        self.oauth_urls = oauth_urls
        self.page_site = page_site
        self.account_page = account_page  # a password form or a login URL: a sign-in context
        self.titled = titled  # only the <title> says sign-in: weak context (see _check)
        self.login_page = login_page  # links into the site's docs may start sign-in here (_elsewhere)
        self._blocks: dict[tuple[str, ...], tuple[bool, bool]] = {}

    def run(self, anchor_names: list[str], signed: set[int]) -> None:
        hosted_labels = {i.selector for i in self.found.items if i.mechanism == "hosted-ui" and i.selector}
        text_provider = self.owner._text_provider
        token_providers = self.owner._token_providers
        for anchor, name in zip(self.doc.anchors, anchor_names, strict=True):
            if anchor.data or anchor.onclick or anchor.url_attrs:
                self._check(self._anchor(anchor, name))  # it may carry a URL besides its href
                continue
            # Most links: only their names can say "Sign in with ..." (cached per name), and only
            # their classes or id can name a provider (cached per class list).
            in_oauth = anchor.url is not None and anchor.url in self.oauth_urls
            named = None
            for text in (name, anchor.text, anchor.img_alt, anchor.title):
                if text and (named := text_provider(text)) is not None:
                    if not (in_oauth or self._elsewhere(anchor.url if anchor.href[:1] != "#" else None)):
                        self.found.add(SignIn(named, "button-text", text, url=anchor.url, label=name,
                                              selector=anchor.selector))
                    break
            if named is None and not in_oauth and (anchor.classes or anchor.element_id):
                key = (*anchor.classes, anchor.element_id or "")
                marked_for = token_providers.get(key)
                if marked_for is None:
                    if len(token_providers) >= _CACHE_LIMIT:
                        token_providers.clear()
                    marked_for = token_providers[key] = self._token_provider(key)
                if marked_for[0] is not None:
                    self._check(self._anchor(anchor, name))
        for button in self.doc.buttons:
            candidate = self._button(button)
            if candidate.selector not in hosted_labels:
                self._check(candidate)
        for marked in self.doc.marked:
            if not marked.in_control and id(marked) not in signed:
                self._check(self._marked(marked))

    # -- reading the three kinds of element ---------------------------------------------------
    def _anchor(self, anchor: Anchor, name: str) -> _Candidate:
        names = [name] + [n for n in (anchor.text, anchor.img_alt, anchor.title) if n and n != name]
        plain = not (anchor.classes or anchor.element_id or anchor.data or anchor.onclick or anchor.url_attrs)
        urls: list[str] = []
        tokens: list[str] = []
        if not plain:
            urls = _url_values([*(v for _, v in anchor.url_attrs), *(v for _, v in anchor.data)])
            urls += _url_values(_QUOTED.findall(anchor.onclick or ""))
            tokens = [*anchor.classes, *([anchor.element_id] if anchor.element_id else []),
                      *(t for k, v in anchor.data for t in (k, v) if len(t) <= MAX_TOKEN_VALUE)]
        url = anchor.url if anchor.url and anchor.url.startswith(("http://", "https://")) else None
        if url is not None and anchor.href.startswith("#"):
            url = None  # "#": a script handles it
        link = self.owner._link(url) if url is not None else None
        external = link is not None and link.site != self.page_site
        return _Candidate(names, urls, tokens, anchor.ancestor_classes, True, self._elsewhere(url), external,
                          _calls(anchor.onclick), anchor.selector, url,
                          anchor.url is not None and anchor.url in self.oauth_urls)

    def _elsewhere(self, url: str | None) -> bool:
        """A navigating link that leads away from any sign-in (see _Candidate.elsewhere). OAuth links
        were taken before this is asked.

        - Into documentation or help (a docs path: a docs article's sidebar link to
          /docs/auth/social/google, support.google.com/accounts/answer/...), except a docs path of
          the site itself on its login page (a docs site's /docs/login linking /docs/auth/github).
        - To another site, except from an account page: an article's "Sign in with Apple" to
          developer.apple.com or a video cites, where a login page's "Sign in with Slack" to an
          endpoint the catalogue does not list, or "Sign up with Google" into the app's own
          domain, starts sign-in."""
        if url is None or not url.startswith(("http://", "https://")):
            return False
        link = self.owner._link(url)
        if link is None:
            return False
        if link.docs:
            return not (self.login_page and link.site == self.page_site)
        return link.site != self.page_site and not self.account_page

    def _button(self, button: Button) -> _Candidate:
        names = [n for n in (button.aria_label, button.text, button.img_alt, button.title) if n]
        urls = _url_values(v for _, v in button.data) + _url_values(_QUOTED.findall(button.onclick or ""))
        tokens = [*button.classes, *([button.element_id] if button.element_id else []),
                  *(t for k, v in button.data for t in (k, v) if len(t) <= MAX_TOKEN_VALUE)]
        selector = _element_selector(button.tag, button.element_id, button.classes)
        return _Candidate(names, urls, tokens, button.ancestor_classes, True, False, False, _calls(button.onclick),
                          selector, None, False)

    def _marked(self, marked: MarkedElement) -> _Candidate:
        attrs = dict(marked.attrs)
        names = [n for n in (attrs.get("aria-label"), marked.text, marked.img_alt, attrs.get("title")) if n]
        data = [(k[5:], v) for k, v in marked.attrs if k.startswith("data-")]
        urls = _url_values(v for k, v in marked.attrs if k not in ("class", "id", "style", "src"))
        urls += _url_values(_QUOTED.findall(attrs.get("onclick") or ""))
        tokens = [*marked.classes, *([marked.element_id] if marked.element_id else []),
                  *(t for k, v in data for t in (k, v) if len(t) <= MAX_TOKEN_VALUE)]
        explicit = bool(_EXPLICIT_ATTRS.intersection(attrs)) or bool(data and any(
            f"[data-{k}]" in self.cat.control_selectors for k, _ in data))
        selector = _element_selector(marked.tag, marked.element_id, marked.classes)
        return _Candidate(names, urls, tokens, marked.ancestor_classes, explicit, False, False,
                          _calls(attrs.get("onclick")), selector, None, False)

    # -- judging one ------------------------------------------------------------------------
    def _check(self, c: _Candidate) -> None:
        owner = self.owner
        label = c.names[0] if c.names else ""
        for url in c.urls:
            absolute = join_url(self.doc.base_url, url)
            if absolute is None:
                continue
            parts = split_http(absolute)
            item = owner._oauth(parts, _segments(parts.path), self.page_site) if parts is not None else None
            if item is not None:
                self.found.add(SignIn(item[0], "oauth-link", url[:MAX_EVIDENCE], url=absolute, label=label,
                                      via=item[1], selector=c.selector))
                return
        if not (c.in_oauth or c.elsewhere):
            for name in c.names:
                provider = owner._text_provider(name)
                if provider is not None:
                    self.found.add(SignIn(provider, "button-text", name, url=c.url, label=label, selector=c.selector))
                    return
        if not c.tokens or c.elsewhere or c.external or c.in_oauth:
            return
        if not (c.explicit or label):
            return  # a bare icon or wrapper
        cat = self.cat
        tokens = cat.tokens
        own_words = [w for t in c.tokens for w in _words(t)]
        providers = {p for w in own_words if (p := tokens.get(w)) is not None}
        if len(providers) != 1 or not cat.not_words.isdisjoint(own_words) or not cat.not_call_words.isdisjoint(c.calls):
            return  # none, a container naming several, a share/follow control, apple-pay-button, openProfile()
        if any(not cat.not_label_words.isdisjoint(_LABEL_SPLIT.split(n.lower())) for n in c.names):
            return  # its name says it does something else: "Buy", "Translate", "Google reviews"
        block, in_share = self._context(c.ancestors)
        if in_share or not cat.share_words.isdisjoint(own_words) or self._shares(c):
            return  # a share kit's button (ssk-facebook, a2a_button_x, one in a share bar)
        block = block or any(w in cat.block_words for w in own_words)
        provider = providers.pop()
        titled = self.titled and (self._names_sign_in(c) or self._names(c, provider))
        if not (block or (c.explicit and (self.account_page or titled))):
            return
        self.found.add(SignIn(provider, "control", f"{c.selector} ({provider})"[:MAX_EVIDENCE], url=c.url,
                              label=label, selector=c.selector))

    def _names_sign_in(self, c: _Candidate) -> bool:
        """The control's own name says sign-in ("Log in", "Register"). A <title> alone is weak
        context: "How to register a domain name" or "Sign up for our newsletter" titles articles
        and newsletter forms whose provider-classed buttons (btn-twitter) share or follow."""
        return any(_says_sign_in(name, self.cat.title_words) for name in c.names)

    def _names(self, c: _Candidate, provider: str) -> bool:
        """The control's own name names its provider ("Google", "Use Google" on btn-google): on a page titled
        "Log in" that is the provider's button, and naming it so (what sign-in-accessible-name
        asks of a bare "Sign in") must not make it vanish."""
        return any(self.cat.provider_for(word) == provider
                   for name in c.names for word in (name, *_LABEL_SPLIT.split(name.lower())) if word)

    @staticmethod
    def _shares(c: _Candidate) -> bool:
        """The control carries a share endpoint URL (an onclick opening twitter.com/intent/tweet):
        the share extractor's button, never a sign-in one."""
        shares = share_catalogue().is_share_url
        return any(shares(u) for u in (*c.urls, *([c.url] if c.url else [])) if u.startswith(("http://", "https://")))

    def _token_provider(self, tokens: Iterable[str]) -> tuple[str | None, bool]:
        """(the one provider the tokens name or None, whether they hold a sign-in block word)."""
        words = [w for t in tokens if t for w in _words(t)]
        providers = {p for w in words if (p := self.cat.tokens.get(w)) is not None}
        return (providers.pop() if len(providers) == 1 else None), any(w in self.cat.block_words for w in words)

    def _context(self, ancestors: tuple[str, ...]) -> tuple[bool, bool]:
        """(an enclosing class or id holds a sign-in block word, one holds a share word): cached
        per ancestor chain, which the controls of one block share."""
        known = self._blocks.get(ancestors)
        if known is None:
            cat = self.cat
            words = {w for t in ancestors for w in _words(t.lstrip("#"))}
            known = self._blocks[ancestors] = (not cat.block_words.isdisjoint(words),
                                               not cat.share_words.isdisjoint(words))
        return known


_NO_HOST = HttpParts("", "", "", "")
MAX_EVIDENCE = 300
