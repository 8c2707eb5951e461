"""The share catalogue, compiled once: rules/catalogue/share.toml + share_widgets.toml -> indexes.

The classifier runs on every page, so the data is turned into dict/set lookups keyed by host,
scheme, class token and attribute name, and one combined regex for inline scripts. Nothing here
names a network: it is all read from the TOML, and a malformed entry fails loudly at load (with
the entry's id), so a typo in the catalogue never turns into a silently missed button.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

from smo_audit.catalogue import section
from smo_audit.extract.facts import Anchor
from smo_audit.extract.signature import SimpleSelector

HTTP_SCHEMES = frozenset({"http", "https"})


class CatalogueError(ValueError):
    """A share catalogue entry is malformed (names the entry)."""


@dataclass(frozen=True, slots=True)
class Network:
    id: str
    name: str
    text_limit: int | None = None
    link_length: int | None = None
    dead_since: str | None = None
    dead_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One share endpoint family: where the link points and which field carries the page URL."""

    id: str
    network: str  # "" when the network is the path segment after a path prefix
    hosts: tuple[str, ...] = ()
    schemes: tuple[str, ...] = ()
    paths: frozenset[str] = frozenset()
    path_prefixes: tuple[str, ...] = ()
    url_params: tuple[str, ...] = ()  # lower-cased
    text_params: tuple[str, ...] = ()
    known_params: frozenset[str] = frozenset()
    require_params: tuple[str, ...] = ()
    exclude_params: tuple[str, ...] = ()
    require_url: bool = False
    plus_is_space: bool = True
    frame: bool = False
    hint_words: tuple[str, ...] = ()
    quote: bool = False
    provider: str | None = None
    dead_since: str | None = None
    dead_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Provider:
    """A share widget provider: how its scripts, globals and markup are recognised."""

    id: str
    name: str
    kind: str
    scripts: tuple[tuple[str, str], ...] = ()  # (host, path prefix)
    script_paths: tuple[str, ...] = ()
    globals: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    containers: tuple[SimpleSelector, ...] = ()
    elements: tuple[SimpleSelector, ...] = ()
    link_classes: frozenset[str] = frozenset()
    link_class_prefixes: tuple[str, ...] = ()
    link_data: tuple[str, ...] = ()
    link_data_values: tuple[tuple[str, str], ...] = ()  # ("pin-do", "buttonpin"): only these values
    script_types: frozenset[str] = frozenset()
    network: str | None = None
    network_attribute: str | None = None
    networks_attribute: str | None = None
    url_attributes: tuple[str, ...] = ()
    draws_buttons: bool = False
    needs_element: bool = False
    popup: bool = False
    dead_since: str | None = None
    dead_reason: str | None = None

    @property
    def dead(self) -> bool:
        return self.dead_since is not None


@dataclass(frozen=True)
class ShareCatalogue:
    networks: Mapping[str, Network]
    aliases: Mapping[str, str]
    endpoints: tuple[Endpoint, ...]
    providers: tuple[Provider, ...]
    host_prefixes: tuple[str, ...]
    network_attributes: tuple[str, ...]
    url_attributes: tuple[str, ...]
    class_networks: Mapping[str, str]
    share_words: frozenset[str]
    share_labels: frozenset[str]
    menu_container_words: tuple[str, ...]
    menu_target_attributes: frozenset[str]
    template_markers: tuple[str, ...]
    self_link_params: tuple[str, ...]
    self_link_strip: frozenset[str]
    self_link_popup: bool
    embed_classes: frozenset[str]
    quote_classes: frozenset[str]
    quote_min_length: int
    # indexes
    by_host_path: Mapping[tuple[str, str], Endpoint] = field(default_factory=dict)
    prefixes_by_host: Mapping[str, tuple[tuple[str, Endpoint], ...]] = field(default_factory=dict)
    by_scheme: Mapping[str, tuple[Endpoint, ...]] = field(default_factory=dict)
    hinted: tuple[Endpoint, ...] = ()
    hinted_paths: frozenset[str] = frozenset()
    providers_by_id: Mapping[str, Provider] = field(default_factory=dict)
    script_hosts: Mapping[str, tuple[tuple[str, Provider], ...]] = field(default_factory=dict)
    script_path_parts: tuple[tuple[str, Provider], ...] = ()
    script_types: Mapping[str, Provider] = field(default_factory=dict)
    # (literal needles, confirming regex, provider): needles are found at C speed first, so the
    # regex only runs on the few scripts that can match
    inline_checks: tuple[tuple[tuple[str, ...], re.Pattern[str], Provider], ...] = ()
    element_rules: tuple[tuple[SimpleSelector, Provider, bool], ...] = ()  # (selector, provider, is_container)
    link_class_providers: Mapping[str, Provider] = field(default_factory=dict)
    link_prefix_providers: tuple[tuple[str, Provider], ...] = ()
    link_data_providers: Mapping[str, Provider] = field(default_factory=dict)
    # data-* name -> the lower-cased values that make it the provider's button (empty: any value);
    # data-pin-do="buttonPin" is Pinterest's Save button, data-pin-do="embedBoard" an embed
    link_data_values: Mapping[str, frozenset[str]] = field(default_factory=dict)
    container_classes: Mapping[str, Provider] = field(default_factory=dict)
    element_classes: frozenset[str] = frozenset()  # classes of element buttons (fallback links inside)
    selectors: tuple[str, ...] = ()

    # -- lookups ----------------------------------------------------------------------------
    def network_id(self, name: str | None) -> str | None:
        """The catalogue's network id for a name, alias or id ("Twitter" -> "x"); None if unknown."""
        if not name:
            return None
        key = name.strip().lower()
        key = self.aliases.get(key, key)
        return key if key in self.networks else None

    def network_name(self, network: str) -> str:
        entry = self.networks.get(network)
        return entry.name if entry else network

    def match(self, url: str, *, frame: bool = False) -> tuple[Endpoint, str, SplitResult] | None:
        """The endpoint a URL points at, the network it shares to, and the split URL."""
        return _match(self, url, frame)

    def is_share_url(self, url: str) -> bool:
        """True when `url` is a share endpoint link with the parameters it requires (a dead
        network's included): what the profile classifier asks before reading a handle."""
        matched = self.match(url)
        if matched is None:
            return False
        endpoint, _, parts = matched
        if not endpoint.require_params:
            return True
        present = {name.lower() for name, value in parse_qsl(parts.query) if value.strip()}
        return all(name in present for name in endpoint.require_params)

    def match_hinted(self, url: str, anchor: Anchor) -> tuple[Endpoint, str, SplitResult] | None:
        """Instance-based endpoints (Mastodon) on any host, when the link names the network."""
        if not self.hinted or not any(path in url.lower() for path in self.hinted_paths):
            return None  # the cheap test first: almost no link has such a path
        parts = _split(url)
        if parts is None or parts.scheme.lower() not in HTTP_SCHEMES:
            return None
        path = _norm_path(parts.path)
        hint_text = " ".join((*anchor.classes, anchor.accessible_name, *(v for _, v in anchor.data))).lower()
        for endpoint in self.hinted:
            if path in endpoint.paths and any(word in hint_text for word in endpoint.hint_words):
                return endpoint, endpoint.network, parts
        return None

    def providers_for_script(self, url: str) -> list[Provider]:
        """Every provider a script URL belongs to (one SDK can serve several widgets)."""
        parts = _split(url)
        if parts is None:
            return []
        try:
            host = (parts.hostname or "").lower()
        except ValueError:
            return []
        path = parts.path
        found: list[Provider] = []
        for candidate in _host_variants(host, self.host_prefixes):
            for prefix, provider in self.script_hosts.get(candidate, ()):
                if path.startswith(prefix) and provider not in found:
                    found.append(provider)
        lowered = path.lower()
        for part, provider in self.script_path_parts:
            if part in lowered and provider not in found:
                found.append(provider)
        return found


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:
        return None


def _norm_path(path: str) -> str:
    return path.lower().rstrip("/")


def _host_variants(host: str, prefixes: tuple[str, ...]) -> tuple[str, ...]:
    for prefix in prefixes:
        if host.startswith(prefix):
            return host, host[len(prefix):]
    return (host,)


@lru_cache(maxsize=16384)
def _match_cached(url: str, frame: bool) -> tuple[Endpoint, str, SplitResult] | None:
    return _match_uncached(share_catalogue(), url, frame)


def _match(catalogue: ShareCatalogue, url: str, frame: bool) -> tuple[Endpoint, str, SplitResult] | None:
    if catalogue is share_catalogue():
        return _match_cached(url, frame)  # navigation links repeat on every page of a site
    return _match_uncached(catalogue, url, frame)


def _match_uncached(catalogue: ShareCatalogue, url: str, frame: bool) -> tuple[Endpoint, str, SplitResult] | None:
    parts = _split(url)
    if parts is None:
        return None
    scheme = parts.scheme.lower()
    if scheme in HTTP_SCHEMES:
        try:
            host = (parts.hostname or "").lower()
        except ValueError:
            return None
        path = _norm_path(parts.path)
        for candidate in _host_variants(host, catalogue.host_prefixes):
            endpoint = catalogue.by_host_path.get((candidate, path))
            if endpoint is not None and endpoint.frame == frame:
                return endpoint, endpoint.network, parts
            for prefix, endpoint in catalogue.prefixes_by_host.get(candidate, ()):
                if endpoint.frame == frame and path.startswith(prefix.rstrip("/") + "/"):
                    segment = path[len(prefix.rstrip("/")) + 1 :].split("/", 1)[0]
                    network = catalogue.network_id(segment)
                    if network is not None:
                        return endpoint, network, parts
        return None
    if frame:
        return None
    for endpoint in catalogue.by_scheme.get(scheme, ()):
        target = (parts.netloc + parts.path).lower().strip("/")
        if not endpoint.paths or target in endpoint.paths:
            return endpoint, endpoint.network, parts
    return None


# ---- building ------------------------------------------------------------------------------


def _strings(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, ())
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise CatalogueError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _optional_str(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise CatalogueError(f"{where}: '{key}' must be a string")
    return value


def _networks(data: Mapping[str, Any]) -> dict[str, Network]:
    networks: dict[str, Network] = {}
    for key, entry in data.get("networks", {}).items():
        where = f"share.toml [networks.{key}]"
        if key != key.lower():
            raise CatalogueError(f"{where}: network ids are lower-case")
        networks[key] = Network(
            id=key,
            name=str(entry.get("name", key)),
            text_limit=entry.get("text_limit"),
            link_length=entry.get("link_length"),
            dead_since=_optional_str(entry, "dead_since", where),
            dead_reason=_optional_str(entry, "dead_reason", where),
        )
    return networks


def _endpoint(entry: Mapping[str, Any], networks: Mapping[str, Network]) -> Endpoint:
    endpoint_id = entry.get("id")
    if not isinstance(endpoint_id, str) or not endpoint_id:
        raise CatalogueError(f"share.toml: an [[endpoint]] has no id: {dict(entry)}")
    where = f"share.toml endpoint {endpoint_id!r}"
    network = entry.get("network")
    if not isinstance(network, str):
        raise CatalogueError(f"{where}: 'network' is required")
    path_prefixes = _strings(entry, "path_prefixes", where)
    if network and network not in networks:
        raise CatalogueError(f"{where}: unknown network {network!r} (add [networks.{network}])")
    if not network and not path_prefixes:
        raise CatalogueError(f"{where}: an empty network needs path_prefixes")
    hosts = tuple(h.lower() for h in _strings(entry, "hosts", where))
    schemes = tuple(s.lower() for s in _strings(entry, "schemes", where))
    if bool(hosts) == bool(schemes):
        raise CatalogueError(f"{where}: give either hosts or schemes")
    url_params = tuple(p.lower() for p in _strings(entry, "url_params", where))
    text_params = tuple(p.lower() for p in _strings(entry, "text_params", where))
    if not url_params and not text_params:
        raise CatalogueError(f"{where}: needs url_params or text_params")
    require = tuple(p.lower() for p in _strings(entry, "require_params", where))
    exclude = tuple(p.lower() for p in _strings(entry, "exclude_params", where))
    known = frozenset((*url_params, *text_params, *require, *exclude,
                       *(p.lower() for p in _strings(entry, "params", where))))
    network_entry = networks.get(network)
    return Endpoint(
        id=endpoint_id,
        network=network,
        hosts=hosts,
        schemes=schemes,
        paths=frozenset(
            (p.lower().strip("/") if schemes else _norm_path(p)) for p in _strings(entry, "paths", where)
        ),
        path_prefixes=tuple(p.lower() for p in path_prefixes),
        url_params=url_params,
        text_params=text_params,
        known_params=known,
        require_params=require,
        exclude_params=exclude,
        require_url=bool(entry.get("require_url", False)),
        plus_is_space=bool(entry.get("plus_is_space", True)),
        frame=bool(entry.get("frame", False)),
        hint_words=tuple(w.lower() for w in _strings(entry, "hint_words", where)),
        quote=bool(entry.get("quote", False)),
        provider=_optional_str(entry, "provider", where),
        dead_since=_optional_str(entry, "dead_since", where) or (network_entry.dead_since if network_entry else None),
        dead_reason=_optional_str(entry, "dead_reason", where) or (network_entry.dead_reason if network_entry else None),
    )


def _script_prefix(text: str) -> tuple[str, str]:
    host, _, path = text.partition("/")
    return host.lower(), "/" + path


def _selectors(entry: Mapping[str, Any], key: str, where: str) -> tuple[SimpleSelector, ...]:
    try:
        return tuple(SimpleSelector.parse(s) for s in _strings(entry, key, where))
    except ValueError as exc:
        raise CatalogueError(f"{where}: {exc}") from None


def _provider(entry: Mapping[str, Any], networks: Mapping[str, Network]) -> Provider:
    provider_id = entry.get("id")
    if not isinstance(provider_id, str) or not provider_id:
        raise CatalogueError(f"share_widgets.toml: a [[provider]] has no id: {dict(entry)}")
    where = f"share_widgets.toml provider {provider_id!r}"
    kind = entry.get("kind")
    if kind not in ("toolbar", "official", "library", "api"):
        raise CatalogueError(f"{where}: kind must be toolbar, official, library or api")
    network = _optional_str(entry, "network", where)
    if network is not None and network not in networks:
        raise CatalogueError(f"{where}: unknown network {network!r}")
    for pattern in _strings(entry, "patterns", where):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise CatalogueError(f"{where}: bad pattern {pattern!r}: {exc}") from None
    return Provider(
        id=provider_id,
        name=str(entry.get("name", provider_id)),
        kind=kind,
        scripts=tuple(_script_prefix(s) for s in _strings(entry, "scripts", where)),
        script_paths=tuple(s.lower() for s in _strings(entry, "script_paths", where)),
        globals=_strings(entry, "globals", where),
        patterns=_strings(entry, "patterns", where),
        hints=_strings(entry, "hints", where),
        containers=_selectors(entry, "containers", where),
        elements=_selectors(entry, "elements", where),
        link_classes=frozenset(_strings(entry, "link_classes", where)),
        link_class_prefixes=_strings(entry, "link_class_prefixes", where),
        link_data=tuple(d.split("=", 1)[0].lower() for d in _strings(entry, "link_data", where)),
        link_data_values=tuple((n.lower(), v.lower()) for n, _, v in (d.partition("=") for d in
                                                                    _strings(entry, "link_data", where)) if v),
        script_types=frozenset(t.lower() for t in _strings(entry, "script_types", where)),
        network=network,
        network_attribute=_optional_str(entry, "network_attribute", where),
        networks_attribute=_optional_str(entry, "networks_attribute", where),
        url_attributes=_strings(entry, "url_attributes", where),
        draws_buttons=bool(entry.get("draws_buttons", False)),
        needs_element=bool(entry.get("needs_element", False)),
        popup=bool(entry.get("popup", False)),
        dead_since=_optional_str(entry, "dead_since", where),
        dead_reason=_optional_str(entry, "dead_reason", where),
    )


def _inline_checks(providers: Iterable[Provider]) -> tuple[tuple[tuple[str, ...], re.Pattern[str], Provider], ...]:
    """Per provider: the literals to look for first and the regex that confirms a real use.

    Globals match as whole identifiers (`a2a_config`, not `my_a2a_configs`); patterns need one
    of their `hints` literals to be present before the regex runs.
    """
    checks: list[tuple[tuple[str, ...], re.Pattern[str], Provider]] = []
    for provider in providers:
        # a whole identifier, also as window.<name> (window.addthis_config = {...})
        alternatives = [rf"(?:(?<![\w$.])|(?<=\bwindow\.)){re.escape(name)}(?![\w$])" for name in provider.globals]
        alternatives += list(provider.patterns)
        if not alternatives:
            continue
        needles = tuple(provider.globals) + (tuple(provider.hints) if provider.patterns else ())
        # a needle that contains a shorter one of the same provider adds nothing ("a2a_config", "a2a")
        needles = tuple(n for n in needles if not any(o != n and o in n for o in needles))
        if provider.patterns and not provider.hints:
            needles = ("",)  # no hint given: always try the regex
        checks.append((needles, re.compile("|".join(alternatives)), provider))
    return tuple(checks)


def build(share: Mapping[str, Any], widgets: Mapping[str, Any]) -> ShareCatalogue:
    """Compile the two catalogue sections into lookup tables (raises CatalogueError)."""
    networks = _networks(share)
    aliases = {str(k).lower(): str(v) for k, v in share.get("aliases", {}).items()}
    for alias, target in aliases.items():
        if target not in networks:
            raise CatalogueError(f"share.toml [aliases]: {alias!r} points at unknown network {target!r}")
    endpoints = tuple(_endpoint(e, networks) for e in share.get("endpoint", []))
    providers = tuple(_provider(p, networks) for p in widgets.get("provider", []))
    for kind, ids in (("endpoint", [e.id for e in endpoints]), ("provider", [p.id for p in providers])):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise CatalogueError(f"duplicate {kind} id(s): {', '.join(duplicates)}")
    provider_ids = {p.id for p in providers}
    for endpoint in endpoints:
        if endpoint.provider is not None and endpoint.provider not in provider_ids:
            raise CatalogueError(f"share.toml endpoint {endpoint.id!r}: unknown provider {endpoint.provider!r}")

    settings = share.get("settings", {})
    host_prefixes = tuple(settings.get("host_prefixes", ()))
    by_host_path: dict[tuple[str, str], Endpoint] = {}
    prefixes: dict[str, list[tuple[str, Endpoint]]] = {}
    by_scheme: dict[str, list[Endpoint]] = {}
    for endpoint in endpoints:
        for host in endpoint.hosts:
            for path in endpoint.paths:
                previous = by_host_path.get((host, path))
                if previous is not None:
                    raise CatalogueError(f"endpoints {previous.id!r} and {endpoint.id!r} both claim {host}{path}")
                by_host_path[(host, path)] = endpoint
            for prefix in endpoint.path_prefixes:
                prefixes.setdefault(host, []).append((prefix, endpoint))
        for scheme in endpoint.schemes:
            by_scheme.setdefault(scheme, []).append(endpoint)

    patterns = tuple(settings.get("network_class_patterns", ()))
    names = list(networks) + list(aliases)
    class_networks: dict[str, str] = {}
    for pattern in patterns:
        for name in names:
            network = aliases.get(name, name)
            if network in ("web-share", "menu"):
                continue
            class_networks.setdefault(pattern.replace("{network}", name), network)

    script_hosts: dict[str, list[tuple[str, Provider]]] = {}
    script_path_parts: list[tuple[str, Provider]] = []
    script_types: dict[str, Provider] = {}
    element_rules: list[tuple[SimpleSelector, Provider, bool]] = []
    link_classes: dict[str, Provider] = {}
    link_prefixes: list[tuple[str, Provider]] = []
    link_data: dict[str, Provider] = {}
    link_data_values: dict[str, set[str]] = {}
    container_classes: dict[str, Provider] = {}
    element_classes: set[str] = set()
    selector_texts: list[str] = []
    for provider in providers:
        for host, path in provider.scripts:
            script_hosts.setdefault(host, []).append((path, provider))
        script_path_parts.extend((part, provider) for part in provider.script_paths)
        script_types.update(dict.fromkeys(provider.script_types, provider))
        for selector in provider.containers:
            element_rules.append((selector, provider, True))
            selector_texts.append(selector.text)
            if len(selector.classes) == 1 and not selector.attrs and not selector.element_id:
                container_classes[next(iter(selector.classes))] = provider
        for selector in provider.elements:
            element_rules.append((selector, provider, False))
            selector_texts.append(selector.text)
            if len(selector.classes) == 1:
                element_classes.update(selector.classes)
        link_classes.update(dict.fromkeys(provider.link_classes, provider))
        link_prefixes.extend((prefix, provider) for prefix in provider.link_class_prefixes)
        link_data.update(dict.fromkeys(provider.link_data, provider))
        for name, value in provider.link_data_values:
            link_data_values.setdefault(name, set()).add(value)

    self_link = share.get("self_link", {})
    quote = share.get("quote", {})
    return ShareCatalogue(
        networks=networks,
        aliases=aliases,
        endpoints=endpoints,
        providers=providers,
        host_prefixes=host_prefixes,
        network_attributes=tuple(a.lower() for a in settings.get("network_attributes", ())),
        url_attributes=tuple(a.lower() for a in settings.get("url_attributes", ())),
        class_networks=class_networks,
        share_words=frozenset(w.lower() for w in settings.get("share_words", ())),
        share_labels=frozenset(w.lower() for w in settings.get("share_labels", ())),
        menu_container_words=tuple(w.lower() for w in share.get("menu", {}).get("container_words", ())),
        menu_target_attributes=frozenset(a.lower().removeprefix("data-")
                                         for a in share.get("menu", {}).get("target_attributes", ())),
        template_markers=tuple(settings.get("template_markers", ())),
        self_link_params=tuple(p.lower() for p in self_link.get("params", ())),
        self_link_strip=frozenset(p.lower() for p in self_link.get("strip_params", ())),
        self_link_popup=bool(self_link.get("popup", False)),
        embed_classes=frozenset(share.get("embeds", {}).get("ancestor_classes", ())),
        quote_classes=frozenset(quote.get("classes", ())),
        quote_min_length=int(quote.get("min_length", 20)),
        by_host_path=by_host_path,
        prefixes_by_host={k: tuple(v) for k, v in prefixes.items()},
        by_scheme={k: tuple(v) for k, v in by_scheme.items()},
        hinted=tuple(e for e in endpoints if e.hint_words),
        hinted_paths=frozenset(p for e in endpoints if e.hint_words for p in e.paths if p),
        providers_by_id={p.id: p for p in providers},
        script_hosts={k: tuple(v) for k, v in script_hosts.items()},
        script_path_parts=tuple(script_path_parts),
        script_types=script_types,
        inline_checks=_inline_checks(providers),
        element_rules=tuple(element_rules),
        link_class_providers=link_classes,
        link_prefix_providers=tuple(link_prefixes),
        link_data_providers=link_data,
        link_data_values={k: frozenset(v) for k, v in link_data_values.items()},
        container_classes=container_classes,
        element_classes=frozenset(element_classes),
        selectors=tuple(dict.fromkeys(selector_texts)),
    )


@cache
def share_catalogue() -> ShareCatalogue:
    """The compiled catalogue of this install (built on first use, then shared)."""
    return build(section("share"), section("share_widgets"))
