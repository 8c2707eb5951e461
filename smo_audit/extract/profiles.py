"""Profile links: which links on a page point at a social profile, and whose.

`classify_url` is the pure heart of it: one URL in, (network, kind, handle) out, from the data in
rules/catalogue/profiles.toml and dead_services.toml. The kind separates a brand's profile from
everything on the same hosts that only looks like one: share/intent endpoints, posts, videos,
groups, hashtags and login pages. Handles are normalised so that the same profile written five
ways (m.facebook.com, trailing slash, @, ?ref=..., twitter.com vs x.com) compares equal.

`ProfileClassifier` turns a page's anchors (and `<link rel="me">`) into `ProfileLink` facts with
the landmark they sit in, so site rules can tell the brand's header/footer profiles from a link
in an article body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote

from smo_audit.catalogue import section
from smo_audit.extract.facts import Document, PageFacts, ProfileLink
from smo_audit.extract.share_catalogue import share_catalogue
from smo_audit.extract.urlmatch import split_http

KINDS = ("profile", "share", "post", "video", "group", "hashtag", "login", "other")
LOCATIONS = {"header": "header", "footer": "footer", "nav": "nav"}  # anything else is "body"
MAX_LINKS = 64
_DEFAULT_HANDLE = r"^[A-Za-z0-9._\-]{1,100}$"


@dataclass(frozen=True, slots=True)
class UrlClass:
    """What a URL on a social network is. `handle` is the normalised profile id when known."""

    network: str
    kind: str
    handle: str = ""
    dead: bool = False

    @property
    def key(self) -> str:
        """Identity of the profile across spellings: "x:acme" for x.com/Acme and twitter.com/acme/."""
        return f"{self.network}:{self.handle}"


@dataclass(frozen=True, slots=True)
class _Shape:
    segments: tuple[str | None, ...]  # lower-case literal | None ({any}) | "" (the handle)
    at: bool  # the handle segment starts with "@"
    query: str | None  # the handle is this query parameter
    template: str
    keep_case: bool

    @property
    def specific(self) -> bool:
        """Starts with a literal segment (/company/{handle}): tried before the reserved list."""
        return bool(self.segments) and self.segments[0] not in (None, "")


@dataclass(frozen=True)
class _Network:
    id: str
    name: str
    specific: tuple[_Shape, ...]
    generic: tuple[_Shape, ...]
    reserved_first: Mapping[str, str]
    reserved_prefixes: tuple[tuple[tuple[str, ...], str], ...]  # longest first
    reserved_regex: tuple[tuple[re.Pattern[str], str], ...]
    tabs: frozenset[str]
    post_literals: frozenset[str]
    post_regex: tuple[re.Pattern[str], ...]
    tail_default: str
    handle_re: re.Pattern[str]
    case_sensitive: bool
    rel_me: bool
    host_kinds: Mapping[str, str]
    subdomain_reserved: frozenset[str]
    any_host_hints: tuple[str, ...]


@dataclass(frozen=True)
class DeadService:
    id: str
    name: str
    closed: str
    note: str


@dataclass(frozen=True, slots=True)
class _HostInfo:
    """What a host is, resolved once per host and cached: most links go to a few hosts."""

    host: str  # normalised (www./m. stripped; the network's host for subdomains)
    network: str | None = None
    dead: str | None = None
    sub_handle: str | None = None  # NAME of NAME.tumblr.com
    reserved_subdomain: bool = False


@dataclass(frozen=True)
class ProfileCatalogue:
    """profiles.toml and dead_services.toml compiled into host indexes (built once)."""

    networks: Mapping[str, _Network]
    hosts: Mapping[str, str]  # normalised host -> network id
    any_subdomain: Mapping[str, str]  # parent host -> network id
    handle_subdomain: Mapping[str, str]  # parent host -> network id (NAME.tumblr.com)
    strip_prefixes: tuple[str, ...]
    any_host: tuple[str, ...]  # networks recognised on unknown hosts
    dead_hosts: Mapping[str, str]  # host -> dead service id
    dead: Mapping[str, DeadService] = field(default_factory=dict)
    embed_classes: frozenset[str] = frozenset()  # ancestors marking an embedded third-party post
    host_cache: dict[str, _HostInfo] = field(default_factory=dict, compare=False, repr=False)
    # URL -> classify_url's answer, for the answers that do not depend on rel="me" or a hint
    url_cache: dict[str, UrlClass | None] = field(default_factory=dict, compare=False, repr=False)

    def name(self, network: str) -> str:
        net = self.networks.get(network)
        if net is not None:
            return net.name
        dead = self.dead.get(network)
        return dead.name if dead is not None else network

    def uses_rel_me(self, network: str) -> bool:
        net = self.networks.get(network)
        return net is not None and net.rel_me


def _entries(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _parse_shape(raw: Any) -> _Shape:
    spec = {"path": raw} if isinstance(raw, str) else dict(raw)
    path, _, query = str(spec["path"]).partition("?")
    segments: list[str | None] = []
    at = False
    for part in (p for p in path.split("/") if p):
        if part == "{any}":
            segments.append(None)
        elif part in ("{handle}", "@{handle}"):
            at = part.startswith("@")
            segments.append("")
        else:
            segments.append(part.lower())
    query_name = query.split("=", 1)[0] if query else None
    return _Shape(tuple(segments), at, query_name, str(spec.get("handle", "{handle}")),
                  bool(spec.get("keep_case", False)))


def _compile_network(network_id: str, data: Mapping[str, Any]) -> _Network:
    first: dict[str, str] = {}
    prefixes: list[tuple[tuple[str, ...], str]] = []
    regexes: list[tuple[re.Pattern[str], str]] = []
    for kind, values in dict(data.get("reserved", {})).items():
        if kind not in KINDS:
            raise ValueError(f"profiles.toml: network {network_id}: unknown reserved kind {kind!r}")
        for value in _entries(values):
            text = str(value)
            if text.startswith("re:"):
                regexes.append((re.compile(text[3:], re.IGNORECASE), kind))
            elif "/" in text:
                prefixes.append((tuple(text.lower().strip("/").split("/")), kind))
            else:
                first.setdefault(text.lower(), kind)
    prefixes.sort(key=lambda item: -len(item[0]))
    shapes = [_parse_shape(s) for s in _entries(data.get("profiles"))]
    post_literals: set[str] = set()
    post_regex: list[re.Pattern[str]] = []
    for value in _entries(data.get("post_tails")):
        if str(value).startswith("re:"):
            post_regex.append(re.compile(str(value)[3:]))
        else:
            post_literals.add(str(value).lower())
    return _Network(
        id=network_id,
        name=str(data.get("name", network_id)),
        specific=tuple(s for s in shapes if s.specific),
        generic=tuple(s for s in shapes if not s.specific),
        reserved_first=first,
        reserved_prefixes=tuple(prefixes),
        reserved_regex=tuple(regexes),
        tabs=frozenset(str(t).lower() for t in _entries(data.get("tabs"))),
        post_literals=frozenset(post_literals),
        post_regex=tuple(post_regex),
        tail_default=str(data.get("tail_default", "other")),
        handle_re=re.compile(str(data.get("handle_pattern", _DEFAULT_HANDLE))),
        case_sensitive=bool(data.get("case_sensitive", False)),
        rel_me=bool(data.get("rel_me", False)),
        host_kinds={k.lower(): str(v) for k, v in dict(data.get("host_kinds", {})).items()},
        subdomain_reserved=frozenset(str(s).lower() for s in _entries(data.get("subdomain_reserved"))),
        any_host_hints=tuple(str(h).lower() for h in _entries(data.get("any_host_hints"))),
    )


def build_catalogue(profiles: Mapping[str, Any], dead_services: Mapping[str, Any]) -> ProfileCatalogue:
    """Compile the two catalogue sections; raises ValueError on malformed data."""
    strip = tuple(str(p).lower() for p in _entries(dict(profiles.get("settings", {})).get("strip_host_prefixes")))
    networks: dict[str, _Network] = {}
    hosts: dict[str, str] = {}
    any_subdomain: dict[str, str] = {}
    handle_subdomain: dict[str, str] = {}
    any_host: list[str] = []
    for network_id, data in dict(profiles.get("network", {})).items():
        net = _compile_network(network_id, data)
        networks[network_id] = net
        for host in _entries(data.get("hosts")):
            hosts[str(host).lower()] = network_id
            if data.get("any_subdomain"):
                any_subdomain[str(host).lower()] = network_id
        if data.get("handle_subdomain_of"):
            handle_subdomain[str(data["handle_subdomain_of"]).lower()] = network_id
        if data.get("any_host"):
            any_host.append(network_id)
    dead: dict[str, DeadService] = {}
    dead_hosts: dict[str, str] = {}
    for service_id, data in dict(dead_services.get("service", {})).items():
        dead[service_id] = DeadService(service_id, str(data.get("name", service_id)), str(data.get("closed", "")),
                                       str(data.get("note", "")))
        for host in _entries(data.get("hosts")):
            dead_hosts[str(host).lower()] = service_id
    embeds = frozenset(str(c) for c in _entries(dict(profiles.get("settings", {})).get("embed_ancestor_classes")))
    return ProfileCatalogue(networks, hosts, any_subdomain, handle_subdomain, strip, tuple(any_host), dead_hosts, dead,
                            embeds)


@cache
def catalogue() -> ProfileCatalogue:
    """The built-in catalogue, compiled on first use and kept for the process."""
    return build_catalogue(section("profiles"), section("dead_services"))


# -- classification ----------------------------------------------------------------------------


def _strip_host(host: str, prefixes: tuple[str, ...], known: Mapping[str, str]) -> str:
    """Drop www./m./mobile. prefixes until the host is known (or nothing more can be dropped)."""
    while host not in known:
        for prefix in prefixes:
            if host.startswith(prefix) and host.count(".") >= 2:
                host = host[len(prefix):]
                break
        else:
            return host
    return host


def _reserved_kind(net: _Network, lower: list[str]) -> str | None:
    for prefix, kind in net.reserved_prefixes:
        if len(lower) >= len(prefix) and tuple(lower[: len(prefix)]) == prefix:
            return kind
    first = net.reserved_first.get(lower[0])
    if first is not None:
        return first
    for pattern, kind in net.reserved_regex:
        if pattern.search(lower[0]):
            return kind
    return None


def _tail_kind(net: _Network, tail: list[str]) -> str:
    if not tail:
        return "profile"
    head = tail[0].lower()
    if head in net.post_literals and len(tail) >= 2:
        return "post"
    if any(p.search(head) for p in net.post_regex):
        return "post"
    if head in net.tabs:
        return "profile"
    return net.tail_default


def _match_shape(shape: _Shape, segs: list[str], lower: list[str], query: str) -> tuple[str, list[str]] | None:
    if len(segs) < len(shape.segments):
        return None
    name: str | None = None
    for index, literal in enumerate(shape.segments):
        if literal is None:
            continue
        if literal == "":
            segment = segs[index]
            if shape.at:
                if not segment.startswith("@"):
                    return None
                name = segment[1:]
            else:
                name = segment[1:] if segment.startswith("@") else segment
        elif lower[index] != literal:
            return None
    if shape.query is not None:
        name = next((v for k, v in parse_qsl(query) if k == shape.query), None)
    if not name:
        return None
    return name, segs[len(shape.segments):]


def _result(net: _Network, shape: _Shape, name: str, tail: list[str], host: str) -> UrlClass:
    if not net.handle_re.match(name):
        return UrlClass(net.id, "other")
    if not (shape.keep_case or net.case_sensitive):
        name = name.lower()
    handle = shape.template.replace("{handle}", name).replace("{host}", host)
    return UrlClass(net.id, _tail_kind(net, tail), handle)


def _segments(path: str) -> list[str]:
    return [unquote(s) for s in path.split("/") if s]


def _any_host(cat: ProfileCatalogue, host: str, segs: list[str], rel_me: bool,
              hint: str | Callable[[], str]) -> UrlClass | None:
    """Networks without a fixed host (Mastodon): /@name with rel="me" or a naming hint."""
    if not segs or not cat.any_host:
        return None
    at = 0 if segs[0].startswith("@") else len(segs) - 1
    candidate = segs[at]
    if not candidate.startswith("@") or len(candidate) < 2:
        return None
    text = ""
    for network_id in cat.any_host:
        net = cat.networks[network_id]
        if not rel_me:
            if not text:
                text = (hint() if callable(hint) else hint).lower()
            if not any(h in text for h in net.any_host_hints):
                continue
        for shape in net.generic:
            if shape.at and len(shape.segments) == 1:
                return _result(net, shape, candidate[1:], segs[at + 1:], host)
    return None


def _resolve_host(cat: ProfileCatalogue, raw: str) -> _HostInfo:
    dead_host = _strip_host(raw, cat.strip_prefixes, cat.dead_hosts)
    if dead_host in cat.dead_hosts:
        return _HostInfo(dead_host, dead=cat.dead_hosts[dead_host])
    host = _strip_host(raw, cat.strip_prefixes, cat.hosts)
    network_id = cat.hosts.get(host)
    if network_id is not None:
        return _HostInfo(host, network_id)
    label, _, parent = host.partition(".")
    network_id = cat.any_subdomain.get(parent)
    if network_id is not None:
        return _HostInfo(parent, network_id)
    network_id = cat.handle_subdomain.get(parent)
    if network_id is not None:
        reserved = label in cat.networks[network_id].subdomain_reserved
        return _HostInfo(parent, network_id, sub_handle=None if reserved else label, reserved_subdomain=reserved)
    return _HostInfo(host)


def _host_info(cat: ProfileCatalogue, raw: str) -> _HostInfo:
    cache = cat.host_cache
    info = cache.get(raw)
    if info is None:
        if len(cache) >= 8192:
            cache.clear()
        info = cache[raw] = _resolve_host(cat, raw)
    return info


def classify_url(url: str, *, rel_me: bool = False, hint: str | Callable[[], str] = "",
                 cat: ProfileCatalogue | None = None) -> UrlClass | None:
    """Classify a URL on a social network; None when its host is no social network at all.

    `rel_me` and `hint` (the link's text/label/classes, possibly computed lazily) only matter for
    networks without fixed hosts, such as Mastodon instances.
    """
    cat = cat or catalogue()
    cache = cat.url_cache
    if url in cache:
        return cache[url]  # links repeat on every page (footers, navigation)
    found, depends_on_hint = _classify_url(url, rel_me, hint, cat)
    if not depends_on_hint:
        if len(cache) >= 2048:
            cache.clear()
        cache[url] = found
    return found


def _classify_url(url: str, rel_me: bool, hint: str | Callable[[], str],
                  cat: ProfileCatalogue) -> tuple[UrlClass | None, bool]:
    """classify_url's answer, and whether it depended on `rel_me`/`hint` (then it is not cached)."""
    parts = split_http(url)
    if parts is None:
        return None, False
    info = _host_info(cat, parts.host)
    if (info.dead is not None or info.network is not None) and share_catalogue().is_share_url(url):
        # a share endpoint (plus.google.com/share, stumbleupon.com/submit), dead networks included:
        # the share catalogue is asked first, so "share" or "submit" never becomes a handle
        return UrlClass(info.dead or info.network or "", "share", dead=info.dead is not None), False
    path = parts.path
    if path in ("", "/") and parts.fragment.startswith("!/"):
        path = parts.fragment[1:]  # twitter.com/#!/acme, the 2010 spelling
    if info.dead is not None:
        segs = _segments(path)
        return UrlClass(info.dead, "profile" if segs else "other", segs[0].lower() if segs else "", dead=True), False
    if info.network is None:
        if not cat.any_host or "@" not in path:
            return None, False  # the common case: a link to some other website
        return _any_host(cat, info.host, _segments(path), rel_me, hint), True
    return _on_network(cat, info, path, parts.query), False


def _on_network(cat: ProfileCatalogue, info: _HostInfo, path: str, query: str) -> UrlClass:
    """A URL on a known network's host: a profile (with its handle) or another kind of page."""
    assert info.network is not None
    net = cat.networks[info.network]
    host = info.host
    if info.reserved_subdomain:
        return UrlClass(net.id, "other")
    host_kind = net.host_kinds.get(host)
    if host_kind is not None:
        return UrlClass(net.id, host_kind)
    segs = _segments(path)
    if info.sub_handle is not None:
        if not net.handle_re.match(info.sub_handle):
            return UrlClass(net.id, "other")
        return UrlClass(net.id, _tail_kind(net, segs), info.sub_handle.lower())
    if not segs:
        return UrlClass(net.id, "other")
    lower = [s.lower() for s in segs]
    for shape in net.specific:
        matched = _match_shape(shape, segs, lower, query)
        if matched is not None:
            return _result(net, shape, matched[0], matched[1], host)
    reserved = _reserved_kind(net, lower)
    if reserved is not None:
        return UrlClass(net.id, reserved)
    for shape in net.generic:
        matched = _match_shape(shape, segs, lower, query)
        if matched is not None:
            return _result(net, shape, matched[0], matched[1], host)
    return UrlClass(net.id, "other")


def profile_key(url: str) -> str | None:
    """"network:handle" of a profile URL (for sameAs comparisons), None when it is no profile."""
    found = classify_url(url)
    return found.key if found is not None and found.kind == "profile" else None


# -- the classifier ----------------------------------------------------------------------------


class ProfileClassifier:
    """Anchors and `<link rel="me">` -> `PageFacts.profile_links`."""

    name = "profiles"

    def __init__(self, cat: ProfileCatalogue | None = None) -> None:
        self.cat = cat or catalogue()

    def selectors(self) -> Iterable[str]:
        return ()  # anchors and <link> are always collected

    def classify(self, doc: Document, facts: PageFacts) -> Mapping[str, Any]:
        links: list[ProfileLink] = []
        seen: set[tuple[str, str]] = set()
        embeds = self.cat.embed_classes
        for anchor in doc.anchors:
            url = anchor.url
            if not url or not url.startswith(("http://", "https://")):
                continue
            if anchor.ancestor_classes and not embeds.isdisjoint(anchor.ancestor_classes):
                continue  # the embedded post's author, not the brand
            rel_me = "me" in anchor.rel

            def hint(a: Any = anchor) -> str:
                return " ".join((a.text, a.aria_label or "", a.title or "", " ".join(a.classes), a.img_alt or ""))

            found = classify_url(url, rel_me=rel_me, hint=hint, cat=self.cat)
            if found is None or found.kind == "share" or (found.kind != "profile" and not found.dead):
                continue
            location = LOCATIONS.get(anchor.landmark or "", "body")
            if (url, location) in seen:
                continue
            seen.add((url, location))
            links.append(ProfileLink(
                network=found.network, url=url, handle=found.handle, rel_me=rel_me, location=location,
                label=anchor.accessible_name, target=anchor.target, rel=anchor.rel, dead=found.dead,
                selector=anchor.selector,
            ))
            if len(links) >= MAX_LINKS:
                break
        for tag in doc.link_tags:
            if "me" not in tag.rel or not tag.url or (tag.url, "head") in seen:
                continue
            found = classify_url(tag.url, rel_me=True, cat=self.cat)
            if found is None or found.kind == "share" or (found.kind != "profile" and not found.dead):
                continue
            seen.add((tag.url, "head"))
            links.append(ProfileLink(network=found.network, url=tag.url, handle=found.handle, rel_me=True,
                                     location="head", rel=tag.rel, dead=found.dead, selector=f'link[rel="me"][href="{tag.href[:120]}"]'))
        return {"profile_links": tuple(links)} if links else {}
