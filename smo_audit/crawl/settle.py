"""What the merge makes of the redirects and canonicals that no single shard could settle.

A shard stops a redirect chain at another partition's URL and hands it over (handover.py), and it
cannot compare a page's canonical with a page of another partition. Once every part is read and
the merge's own crawl is done, these functions say, from the merged pages and errors, what one
process would have reported: which URLs are duplicates of which pages, and which failed how.
They only compute; the Audit applies their answers (pipeline.py, `execute_merged`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from smo_audit.crawl.fetcher import loop_message, loop_of, too_many_message
from smo_audit.crawl.handover import NOT_FETCHED_KINDS, HandedRedirect
from smo_audit.crawl.urls import origin, try_normalize
from smo_audit.report import model as rm

ChainEnd = Literal["end", "loop", "too-many"]


@dataclass(frozen=True, slots=True)
class MergedPages:
    """The merged report's entries as the settling sees them, before it changes any."""

    entry: Callable[[str], str | None]  # an entry's URL -> the page it names (itself or the page it duplicates)
    finals: Mapping[str, str]  # final URL of a page (not a duplicate) -> its URL
    failed: Mapping[str, rm.CrawlError]  # URL -> its first error

    def page_named(self, url: str) -> str | None:
        """The page `url` names: its entry's, or the page whose final URL it is."""
        return self.entry(url) or self.finals.get(url)

    def settled(self, url: str) -> bool:
        return self.entry(url) is not None or url in self.failed


def chain_end(url: str, redirect: HandedRedirect, redirects: Mapping[str, HandedRedirect],
              settled: Callable[[str], bool], limit: int) -> tuple[str, int, ChainEnd]:
    """(the URL where the chain from `url` stops, its hops, why it stops).

    Walks the hops the shards answered and handed over (`redirects`, by the URL that redirects)
    as Fetcher follows a chain: at each hop a URL it passed is a loop, then a hop past `limit`
    is too many; a target the merge already holds as a page or an error (`settled`), or one no
    shard handed on, ends it. Terminates: every round adds a hop, and hops are bounded by `limit`."""
    seen = {url}
    hops = 0
    current = redirect
    source = url
    while True:
        answered = [hop for hop, _status in current.hops] or [source]  # URLs that answered a redirect
        for step in (*answered[1:], current.target):
            hops += 1
            if step in seen:
                return step, hops, "loop"
            if hops > limit:
                return step, hops, "too-many"
            seen.add(step)
        source = current.target
        onward = redirects.get(source)
        if onward is None or settled(source):
            return source, hops, "end"
        current = onward


def settle_redirects(redirects: Mapping[str, HandedRedirect], continued: Mapping[str, str], merged: MergedPages,
                     limit: int) -> tuple[list[tuple[str, str]], list[rm.CrawlError]]:
    """(URL -> page it duplicates, errors) for the redirects the shards handed over.

    A URL redirecting to another partition's audited page is that page's duplicate, as in one
    process (the shard did not follow the redirect); onto a URL that failed, it fails the same
    way, under its own name. A chain that goes on through other shards' redirects is followed hop
    by hop: to a page or an error the merge held, back onto a URL it passed (a redirect loop), or
    past `limit` (max_redirects), reported with one process's messages. `continued`: target -> the
    URL whose chain the merge's crawl went on with from there (one per target); the other URLs
    redirecting to that target end as it did."""
    duplicates: list[tuple[str, str]] = []
    errors: list[rm.CrawlError] = []
    for url, redirect in redirects.items():
        if merged.settled(url):
            continue
        target, hops, ended = chain_end(url, redirect, redirects, merged.settled, limit)
        if ended == "loop":
            errors.append(rm.CrawlError(url=url, kind="redirect-loop", referrer=redirect.referrer,
                                        message=loop_message(url, hops, target)))
            continue
        if ended == "too-many":
            errors.append(rm.CrawlError(url=url, kind="too-many-redirects", referrer=redirect.referrer,
                                        message=too_many_message(url, limit)))
            continue
        page, error = merged.page_named(target), merged.failed.get(target)
        first = continued.get(target)
        before = hops  # hops before the URL whose error this one's becomes
        if page is None and error is None and first is not None and first != url and first in redirects:
            page = merged.page_named(first)  # its page is this URL's page too
            error, target = merged.failed.get(first), first
            before = hops - max(len(redirects[first].hops), 1)  # its error counts its own hops
        if page is not None:
            duplicates.append((url, page))
        elif error is not None and error.kind not in NOT_FETCHED_KINDS:
            errors.append(_error_along(url, target, error, before, limit, redirect.referrer))
    return duplicates, errors


def _error_along(url: str, target: str, error: rm.CrawlError, before: int, limit: int,
                 referrer: str | None) -> rm.CrawlError:
    """`url`'s error when its chain reaches `target`, which failed with `error` after `before` hops."""
    loop = loop_of(error.message) if error.kind == "redirect-loop" else None
    kind = error.kind
    if kind == "robots-disallowed" and not error.message.startswith(f"{target} redirects to "):
        message = f"{url} redirects to {target}, which {origin(target)}/robots.txt disallows"
    elif loop is not None and before + loop[0] > limit + 1:  # the fetcher counts before it loops
        kind, message = "too-many-redirects", too_many_message(url, limit)
    elif loop is not None:  # the target's own loop, reached after this chain's hops
        message = loop_message(url, before + loop[0], loop[1])
    elif error.message.startswith(target):
        message = url + error.message[len(target):]
    else:
        message = error.message
    return rm.CrawlError(url=url, kind=kind, message=message, status=error.status, referrer=referrer)


def other_canonicals(noted: Mapping[str, tuple[str, str | None]], strip: tuple[str, ...]) -> dict[str, str]:
    """Page URL -> the other URL its canonical names, normalised as the crawler compares them
    (crawler._canonical: the parameters it strips, session ids included). `noted`: page URL ->
    (its canonical as written, its final URL)."""
    others: dict[str, str] = {}
    for url, (canonical, final_url) in noted.items():
        named = try_normalize(canonical, strip)
        if named is not None and named not in (url, try_normalize(final_url or url, strip)):
            others[url] = named
    return others


def canonical_duplicates(others: Mapping[str, str], pages: Iterable[tuple[str, str]], crawled_on: Iterable[str],
                         is_page: Callable[[str], bool], strip: tuple[str, ...]) -> list[tuple[str, str]]:
    """(page, the page it duplicates) for the pages whose canonical names an audited page of
    another partition that is its own canonical, as in one process (crawler._canonical).

    `others`: other_canonicals; `pages`: (URL, final URL) of every page that is not a duplicate;
    `crawled_on`: the pages the merge's own crawl audited. Their shard never had the other page
    to compare with; a shard marked the pairs within its partition, and the merge's crawl those
    it could see (its pages naming a merged page). A canonical names a page by its final URL, or
    by the URL it was asked for (one that redirects to it) when the merge's crawl audited it: in
    one process such a page, reached through another partition, comes after the page naming it,
    which the crawler then matches by either URL. A page naming a page that names yet another
    URL is in a chain: not a duplicate."""
    named_pages: dict[str, str] = {}  # normalised final URL, then requested URL -> the page's URL
    for url, final_url in pages:
        if final := try_normalize(final_url, strip):
            named_pages.setdefault(final, url)
    for url in crawled_on:
        if is_page(url):
            named_pages.setdefault(url, url)
    found: list[tuple[str, str]] = []
    for url, named in others.items():
        target = named_pages.get(named)
        if target is not None and target != url and target not in others and is_page(url):
            found.append((url, target))
    return found
