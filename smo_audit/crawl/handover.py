"""What a shard leaves to the rest of a sharded audit, and what the merge picks up from it.

A shard (`--shard K/N`) fetches only the URLs of its partition. Its pages also link to pages of
other partitions: their shards reach them through the sitemaps, or through links of their own
pages, or not at all (a page outside the sitemaps that only another partition's pages link to).
So each shard hands over the links it did not follow: the `Handover`, written into its part.
The merge (`report --merge`) then knows every page some shard saw a link to, drops the ones a
part holds (as a page, a duplicate or an error) and audits the rest itself, crawling on from them
(`Resume`): a site with an incomplete sitemap, or none, gets the report one process would have
written, and still no page is fetched twice.

Sitemap entries are not handed over: their owner reaches them (up to its --max-pages, which
then makes its part partial). For a site whose sitemap lists every page, the handover is empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Error kinds whose URL was not fetched (an example of a family, or not a page): no part reached it.
NOT_FETCHED_KINDS = frozenset({"max-depth", "crawl-trap", "session-id", "sitemap", "plugin"})

# Links handed over per shard at most (the merge reports how many more there were). A site
# this far from its sitemap is crawled mostly by the merge anyway.
MAX_HANDED = 100_000


@dataclass(frozen=True, slots=True)
class HandedLink:
    """A link to another partition's page: where the crawl would have queued it."""

    url: str  # normalised
    depth: int  # link hops from the start URL, as the linking shard counted them
    referrer: str | None
    explicit: bool = False  # an account page or seed, audited outside the normal scope


@dataclass(frozen=True, slots=True)
class HandedRedirect:
    """A redirect a shard did not follow because its target is another partition's URL."""

    target: str  # normalised
    depth: int  # of the URL that redirects
    referrer: str | None
    hops: tuple[tuple[str, int], ...] = ()  # (URL, status) of each redirect answered, as Redirect


@dataclass
class Handover:
    """Links to other partitions' pages that sitemaps do not list, and URLs fetched without a page."""

    links: dict[str, HandedLink] = field(default_factory=dict)
    dropped: int = 0  # links past MAX_HANDED
    # URLs of this partition that were fetched but gave no page (not HTML, redirected off-site):
    # the merge must not fetch them again when another shard's page links to them.
    fetched: list[str] = field(default_factory=list)
    # URL of this partition -> the redirect to another partition's URL it answered (not followed
    # here: the merge lists it as a duplicate of that page, or goes on with the chain).
    redirects: dict[str, HandedRedirect] = field(default_factory=dict)
    # Session-id parameters this shard found in links and strips from URLs (crawl/sessions.py):
    # the merge strips them too, or it would fetch `/p?sid=1` that a shard audited as `/p`.
    strip: list[str] = field(default_factory=list)
    # Where the start URL's redirects ended (the shard that owns the start knows): in scope.
    start_final: str | None = None
    extra_admitted: int = 0  # account pages outside the scope this shard admitted itself

    def hand(self, link: HandedLink) -> None:
        if len(self.links) < MAX_HANDED:
            self.links.setdefault(link.url, link)
        else:
            self.dropped += 1

    def listed(self, url: str) -> None:
        """A sitemap lists `url`: its own shard reaches it."""
        self.links.pop(url, None)

    def fetched_without_page(self, url: str) -> None:
        if len(self.fetched) < MAX_HANDED:
            self.fetched.append(url)

    def redirect(self, url: str, redirect: HandedRedirect) -> None:
        if len(self.redirects) < MAX_HANDED:
            self.redirects[url] = redirect

    def to_json(self) -> dict[str, object]:
        return {
            "links": [[link.url, link.depth, link.referrer, link.explicit] for link in self.links.values()],
            "dropped": self.dropped, "fetched": self.fetched,
            "redirects": {url: [r.target, r.depth, r.referrer, [list(hop) for hop in r.hops]]
                          for url, r in self.redirects.items()},
            "strip": self.strip, "start_final": self.start_final, "extra_admitted": self.extra_admitted,
        }

    @classmethod
    def from_json(cls, data: object) -> Handover:
        """Read a part's handover; a part written before handovers existed hands over nothing."""
        handover = cls()
        if not isinstance(data, dict):
            return handover
        for item in _list(data.get("links")):
            if isinstance(item, list) and len(item) == 4 and isinstance(item[0], str) and isinstance(item[1], int):
                referrer = item[2] if isinstance(item[2], str) else None
                handover.hand(HandedLink(item[0], max(item[1], 0), referrer, bool(item[3])))
        dropped = data.get("dropped")
        handover.dropped = dropped if isinstance(dropped, int) and dropped > 0 else 0
        handover.fetched = [u for u in _list(data.get("fetched")) if isinstance(u, str)]
        redirects = data.get("redirects")
        if isinstance(redirects, dict):
            handover.redirects = {k: r for k, v in redirects.items() if (r := _redirect(v)) is not None}
        handover.strip = [p for p in _list(data.get("strip")) if isinstance(p, str)]
        extra = data.get("extra_admitted")
        handover.extra_admitted = extra if isinstance(extra, int) and extra > 0 else 0
        start_final = data.get("start_final")
        handover.start_final = start_final if isinstance(start_final, str) else None
        return handover


def _list(data: object) -> list[object]:
    """A part is a file anyone can edit: a field that should be a list and is not counts as empty."""
    return data if isinstance(data, list) else []


def _redirect(data: object) -> HandedRedirect | None:
    if isinstance(data, str):  # a part of the first version: the target only
        return HandedRedirect(data, 1, None)
    if not (isinstance(data, list) and len(data) == 4 and isinstance(data[0], str) and isinstance(data[1], int)):
        return None
    hops = tuple((str(h[0]), h[1]) for h in _list(data[3]) if isinstance(h, list) and len(h) == 2
                 and isinstance(h[1], int))
    return HandedRedirect(data[0], max(data[1], 0), data[2] if isinstance(data[2], str) else None, hops)


@dataclass(frozen=True)
class Resume:
    """The merge's crawl: what the shards did (never fetched again) and where to go on from.

    `audited`: final URL -> requested URL of every page a part holds (a redirect onto one is a
    duplicate, as in one process); `fetched`: every other URL the parts fetched or reported;
    `frontier`: the handed-over links no part reached, shallowest first; `redirects`: URL ->
    the other partition's URL it redirects to (a duplicate of that page, once it is audited);
    `continued`: the redirects whose target no part reached, one per target: the merge fetches
    the target as the page of the URL that redirects, as one process would have;
    `other_canonical`: pages whose canonical names another URL (not a duplicate's target, as in
    the crawler); `strip`: the session-id parameters the shards found; `start_finals`: where the
    start URL's redirects ended (in scope, as for the shard that fetched it)."""

    audited: Mapping[str, str]
    fetched: frozenset[str]
    frontier: tuple[HandedLink, ...]
    redirects: Mapping[str, HandedRedirect]
    continued: tuple[tuple[str, HandedRedirect], ...] = ()
    other_canonical: frozenset[str] = frozenset()
    strip: tuple[str, ...] = ()
    start_finals: tuple[str, ...] = ()
    extra_admitted: int = 0  # the shards' account pages: the merge's crawl admits what is left


def resume_from(handovers: list[Handover], audited: Mapping[str, str], fetched: set[str],
                other_canonical: frozenset[str] = frozenset()) -> Resume:
    """Join the parts' handovers: each link once (the shallowest), minus what a part reached."""
    handed = {url: r for handover in handovers for url, r in handover.redirects.items()}
    if not any(handover.links for handover in handovers) and not handed:  # a complete sitemap
        return Resume(audited, frozenset(), (), handed)
    reached = fetched.union(audited, audited.values())
    for handover in handovers:
        reached.update(handover.fetched)
    reached.update(handed)
    continued: dict[str, tuple[str, HandedRedirect]] = {}  # target -> the first URL redirecting to it
    for url, redirect in sorted(handed.items(), key=lambda item: (item[1].depth, item[0])):
        if redirect.target not in reached:
            continued.setdefault(redirect.target, (url, redirect))
    best: dict[str, HandedLink] = {}
    for handover in handovers:
        for link in handover.links.values():
            if link.url in reached:
                continue
            known = best.get(link.url)
            if known is None or link.depth < known.depth:
                best[link.url] = link
    frontier = tuple(sorted(best.values(), key=lambda link: (link.depth, link.url)))
    strip = tuple(dict.fromkeys(p for handover in handovers for p in handover.strip))
    finals = tuple(dict.fromkeys(h.start_final for h in handovers if h.start_final is not None))
    extra = sum(handover.extra_admitted for handover in handovers)
    return Resume(audited, frozenset(reached), frontier, handed, tuple(continued.values()), other_canonical,
                  strip, finals, extra)
