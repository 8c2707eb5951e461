"""Content distribution: feeds, dates and freshness that scheduling and social tools rely on.

Buffer, Hootsuite, IFTTT, Zapier and every "auto-post to social" plugin start from a feed, and
they post each item's URL, so an item is shared well only when its page has preview tags. Feeds
are fetched once through the resource cache and parsed by smo_audit/extract/feeds.py (bounded,
DTDs refused).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from smo_audit.crawl.urls import try_normalize
from smo_audit.engine.api import (
    Option,
    Outcome,
    PageContext,
    PageRecord,
    SiteContext,
    failed,
    page_rule,
    passed,
    site_rule,
    skipped,
    warned,
)
from smo_audit.engine.resources import OFF_TARGET, Resource
from smo_audit.engine.site_records import tagged
from smo_audit.extract.feeds import FEED_MAX_BYTES, FeedError, ParsedFeed, parse_feed
from smo_audit.extract.urlmatch import split_url
from smo_audit.preview import fetch_image, og_image_url, production_for

from ._tags import human_list
from .profiles import is_home

_FEED_TYPES = ("xml", "rss", "atom", "json")


FEEDS_CHECKED = 5  # distinct feeds fetched (feed-valid's max_feeds default; feed-discoverable reads the same)


@dataclass(frozen=True)
class _LoadedFeed:
    url: str
    resource: Resource
    feed: ParsedFeed | None
    problem: str | None  # why it cannot be read, for a person


def _feed_urls(ctx: SiteContext, limit: int) -> list[str]:
    urls = {f.url for r in ctx.pages for f in r.facts.feeds}
    # Sorted, not in page order (completion order: it differs between runs, and in a merge of shards).
    return sorted(urls, key=lambda url: (url.count("/"), url))[:limit]


async def _load(ctx: SiteContext, url: str) -> _LoadedFeed:
    resource = await ctx.resources.fetch(url, max_bytes=FEED_MAX_BYTES, keep_body=True)
    if resource.error_kind is not None:
        return _LoadedFeed(url, resource, None, f"could not be fetched: {resource.error or resource.error_kind}")
    if resource.status is None or resource.status >= 400:
        return _LoadedFeed(url, resource, None, f"answers HTTP {resource.status}")
    try:
        return _LoadedFeed(url, resource, parse_feed(resource.head, resource.final_url), None)
    except FeedError as exc:
        return _LoadedFeed(url, resource, None, f"is not a readable feed: {exc}")


async def _load_all(ctx: SiteContext, limit: int) -> list[_LoadedFeed]:
    return list(await asyncio.gather(*(_load(ctx, url) for url in _feed_urls(ctx, limit))))


def _is_content(record: PageRecord) -> bool:
    return record.facts.page_type == "article"


@site_rule(id="feed-discoverable", title="Feed advertised on home and content pages", category="distribution",
           severity="warning", weight=2)
async def feed_discoverable(ctx: SiteContext) -> Outcome | None:
    """
    ## What it checks
    The home page and every content page (article) advertise an RSS, Atom or JSON Feed with
    `<link rel="alternate" type="application/rss+xml" href="...">` (or atom+xml, feed+json).
    Sites without articles and without a feed are not judged. Only a feed that loads counts: a
    link to one that answers 404 or does not parse (which feed-valid fails) advertises nothing,
    so a broken feed never scores above no feed.

    ## Why it matters
    Social scheduling tools, "auto-post new articles" integrations and feed readers find a site's
    feed from that one tag; people paste an article URL, not the feed URL. Without it, new posts
    are shared only when someone does it by hand.

    ## Failing example
    ```html
    <head><title>Our blog</title></head>
    ```

    ## Passing example
    ```html
    <link rel="alternate" type="application/rss+xml" title="ACME blog" href="/feed.xml">
    ```

    ## How to fix
    Publish a feed (most site generators have it built in) and add the `<link rel="alternate">`
    tag to the shared `<head>` of every template.

    ## References
    - https://www.rssboard.org/rss-autodiscovery
    - https://www.jsonfeed.org/version/1.1/
    """
    content = [r for r in ctx.pages if _is_content(r) and r.status < 400]
    homes = [r for r in ctx.pages if is_home(r, ctx.site) and r.status < 400 and not _is_content(r)]
    advertised = list(dict.fromkeys(f.url for r in ctx.pages for f in r.facts.feeds))
    # The feeds feed-valid fails (the same cached fetches): advertising one is advertising nothing.
    broken = {item.url for item in await _load_all(ctx, FEEDS_CHECKED)
              if item.feed is None and item.resource.error_kind is None}
    feeds = [url for url in advertised if url not in broken]
    if not feeds:
        why = (f" that loads (the advertised {human_list(sorted(broken)[:3])} cannot be read: see feed-valid)"
               if broken else "")
        if content:
            return warned(f"no page advertises an RSS, Atom or JSON feed{why}, though the site has {len(content)} "
                          "article(s)", *(r.url for r in content[:5]))
        if broken:
            return failed(f"no page advertises an RSS, Atom or JSON feed{why}", *sorted(broken)[:5])
        return skipped("no page advertises a feed and no audited page is an article: feeds are expected "
                       "of sites that publish articles")
    expected = homes + content
    missing = [r for r in expected if not any(f.url not in broken for f in r.facts.feeds)]
    if missing:
        return warned(f"{len(missing)} of {len(expected)} home/content page(s) do not advertise the feed",
                      *(r.url for r in missing[:10]), *feeds)
    if not expected:
        return passed("a feed is advertised", *feeds)
    return passed(f"the feed is advertised on the home page and {len(content)} content page(s)", *feeds)


@site_rule(
    id="feed-valid", title="Feed is valid", category="distribution", severity="error", weight=2,
    options={"max_feeds": Option(FEEDS_CHECKED, "Distinct feed URLs fetched at most.")},
)
async def feed_valid(ctx: SiteContext) -> Sequence[Outcome] | None:
    """
    ## What it checks
    Each advertised feed (at most `max_feeds`) answers 200, is a well-formed RSS, Atom or JSON
    Feed document without a DTD, and has items. It is fetched once and read up to 4 MB.

    ## Why it matters
    A feed that 404s or does not parse looks fine on the site but silently stops every tool that
    posts new articles to social networks; an empty feed posts nothing.

    ## Failing example
    ```xml
    <rss version="2.0"><channel><title>ACME</title><item><title>Post</item></channel></rss>
    ```

    ## Passing example
    ```xml
    <rss version="2.0"><channel><title>ACME</title>
      <item><title>Post</title><link>https://example.com/post</link></item></channel></rss>
    ```

    ## How to fix
    Open the feed URL in a browser or a feed validator, fix the generator's template (escaping,
    unclosed tags), and make sure the file is published with the site.

    ## Options
    `max_feeds` bounds the number of feeds fetched.

    ## References
    - https://validator.w3.org/feed/
    - https://www.rssboard.org/rss-specification
    - https://www.rfc-editor.org/rfc/rfc4287
    """
    loaded = await _load_all(ctx, int(ctx.options.get("max_feeds", 5)))
    if not loaded:
        return [skipped("no feed to read: no audited page advertises an RSS, Atom or JSON feed")]
    outcomes: list[Outcome] = []
    for item in loaded:
        if item.feed is None and item.resource.error_kind == OFF_TARGET:
            outcomes.append(skipped(f"the feed {item.url} was {item.resource.error}", item.url))
            continue
        if item.feed is None:
            outcomes.append(failed(f"the feed {item.url} {item.problem}", item.url))
            continue
        kind = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}[item.feed.kind]
        if not item.feed.items:
            outcomes.append(warned(f"the {kind} feed {item.url} has no items: nothing gets shared from it", item.url))
        elif not any(t in item.resource.content_type for t in _FEED_TYPES):
            outcomes.append(warned(f"the {kind} feed {item.url} is served as {item.resource.content_type or 'no type'}: "
                                   "some readers and validators reject it", item.url))
        else:
            outcomes.append(passed(f"the {kind} feed {item.url} is valid with {len(item.feed.items)} item(s)", item.url))
    return outcomes


def _page_index(pages: Sequence[PageRecord]) -> dict[str, PageRecord]:
    index: dict[str, PageRecord] = {}
    for record in pages:
        for url in (record.url, record.final_url):
            normalised = try_normalize(url)
            if normalised is not None:
                index.setdefault(normalised, record)
    return index


def _local_url(link: str, ctx: SiteContext) -> str:
    """Map a production URL (--base-url) onto the audited site, for folder audits."""
    base = (ctx.settings.base_url or "").rstrip("/")
    if base and link.startswith(base + "/"):
        start = split_url(ctx.site.start_url)
        return f"{start.scheme}://{start.netloc}{link[len(base):]}"
    return link


@site_rule(
    id="feed-items-previewable", title="Feed items link to previewable pages", category="distribution",
    severity="warning", weight=1,
    options={"max_items": Option(50, "Feed items checked per feed.")},
)
async def feed_items_previewable(ctx: SiteContext) -> Outcome | None:
    """
    ## What it checks
    The items of each valid feed link to pages of the audited site, and those pages (where they
    were audited) carry preview tags: `og:title` and an `og:image` that loads (a declared but
    broken image earns no credit). Items on pages not audited in
    this run are counted, not judged; `--base-url` maps production item URLs onto a local build.

    ## Why it matters
    Auto-posting tools share each item's URL; the social network then builds the preview from
    that page. An item whose page lacks `og:image` is posted as a bare link to every channel.

    ## Failing example
    ```xml
    <item><link>https://example.com/post-without-og-tags</link></item>
    ```

    ## Passing example
    ```xml
    <item><link>https://example.com/post</link></item>
    <!-- and /post has og:title and og:image -->
    ```

    ## How to fix
    Give the article template `og:title`, `og:description` and `og:image`, and make feed item
    links point at the canonical article URLs.

    ## Options
    `max_items` bounds the items checked per feed.

    ## References
    - https://ogp.me/
    - https://developers.facebook.com/docs/sharing/webmasters/
    """
    loaded = [f for f in await _load_all(ctx, 5) if f.feed is not None and f.feed.items]
    if not loaded:
        return skipped("no feed with items to check: no readable feed was advertised")
    index = _page_index(ctx.pages)
    site_netlocs = {split_url(r.final_url).netloc for r in ctx.pages} | {split_url(ctx.site.start_url).netloc}
    limit = int(ctx.options.get("max_items", 50))
    good: list[str] = []
    lacking: list[str] = []
    not_audited = 0
    elsewhere: list[str] = []
    seen: set[str] = set()
    for item in loaded:
        assert item.feed is not None
        for entry in item.feed.items[:limit]:
            if not entry.link:
                lacking.append(f"an item without a link in {item.url} ({entry.title or 'untitled'})")
                continue
            if entry.link in seen:
                continue  # the same article in the RSS and the JSON feed
            seen.add(entry.link)
            link = _local_url(entry.link, ctx)
            record = index.get(try_normalize(link) or link)
            if record is None:
                if split_url(link).netloc in site_netlocs:
                    not_audited += 1
                else:
                    elsewhere.append(entry.link)
                continue
            record = tagged(ctx.pages, record)  # its Open Graph tags and canonical
            og = record.facts.open_graph
            absent = [k for k in ("og:title", "og:image") if not og.get(k, "").strip()]
            if absent:
                lacking.append(f"{entry.link}: no {' or '.join(absent)}")
                continue
            broken = await _broken_image(ctx, record)
            if broken:
                lacking.append(f"{entry.link}: its og:image {broken}")
            else:
                good.append(entry.link)
    if lacking:
        return warned(f"{len(lacking)} feed item(s) lead to pages that share without a proper preview",
                      *lacking[:20])
    if good:
        note = f" ({not_audited} more not audited in this run)" if not_audited else ""
        return passed(f"{len(good)} feed item(s) link to pages with og:title and og:image{note}", *good[:10])
    if elsewhere and not not_audited:
        host = split_url(elsewhere[0]).netloc
        return skipped(f"the feed's items link to {host}, not the audited site: pass --base-url to map them",
                       *elsewhere[:5])
    return skipped(f"none of the feed's {not_audited} item page(s) were audited in this run (raise --max-pages)")


async def _broken_image(ctx: SiteContext, record: PageRecord) -> str | None:
    """Why the page's og:image cannot be shown (a declared but broken image earns nothing), or None.

    The fetch is the one the page's own preview-image rules made (cached); an image that was not
    fetched (a production host with no --base-url) is not judged.
    """
    url = og_image_url(record.facts)
    if url is None:
        return None
    production = production_for(record.final_url, record.facts, ctx.settings.base_url)
    fetch = await fetch_image(ctx.resources, url, page_url=record.final_url, production=production)
    if fetch.reachable or fetch.error_kind == OFF_TARGET:
        return None
    return f"cannot be loaded ({fetch.error or fetch.error_kind})"


def parse_date(value: str) -> datetime | None:
    """An ISO 8601 / W3C date or date-time as an aware UTC datetime; None when unparsable."""
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 shifted before year 1 by its offset
        return None


EARLIEST_YEAR = 1990  # before the web: a placeholder (Hugo's 0001-01-01, Unix epoch), never a real date
FUTURE_SLACK = timedelta(days=1)  # time zones and scheduled posts published a few hours early


def impossible_date(when: datetime, now: datetime | None = None) -> str | None:
    """Why a publication or modification date cannot be true, or None."""
    if when.year < EARLIEST_YEAR:
        return f"the year {when.year} is a placeholder (before {EARLIEST_YEAR}), not a real date"
    if when > (now or datetime.now(UTC)) + FUTURE_SLACK:
        return "it lies in the future"
    return None


@page_rule(id="article-dates", title="Articles carry publication dates", category="distribution",
           severity="warning", weight=1)
def article_dates(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Article pages state when they were published, as an ISO 8601 date in
    `article:published_time` or JSON-LD `datePublished`, and (when given) a modification date
    that is not earlier than the publication date. A date that cannot be true fails: a year
    before 1990 (Hugo's zero date `0001-01-01`, the Unix epoch) or a date in the future.

    ## Why it matters
    Facebook and LinkedIn show and sort by these dates, news aggregators and scheduling tools use
    them to decide what is new, and search results show them next to the link. A missing or
    unreadable date makes a fresh article look undated, or an old one look new.

    ## Failing example
    ```html
    <meta property="og:type" content="article">
    <meta property="article:published_time" content="last Tuesday">
    ```

    ## Passing example
    ```html
    <meta property="article:published_time" content="2025-03-04T09:30:00+01:00">
    <meta property="article:modified_time" content="2025-03-05T12:00:00+01:00">
    ```

    ## How to fix
    Output `article:published_time` (and `article:modified_time`) from the post's dates in ISO
    8601, or `datePublished`/`dateModified` in the Article JSON-LD. A `0001-01-01` date means the
    post has no date in its front matter (Hugo prints its zero date): set `date` there, or leave
    the tag out when the date is unknown.

    ## References
    - https://ogp.me/#type_article
    - https://developers.google.com/search/docs/appearance/structured-data/article
    """
    facts = ctx.facts
    if facts.page_type != "article":
        return skipped("not an article: publication dates are checked on articles")
    if not facts.published_time:
        return warned("this article has no publication date (article:published_time or JSON-LD datePublished)")
    published = parse_date(facts.published_time)
    if published is None:
        return warned(f"the publication date is not an ISO 8601 date: {facts.published_time[:100]!r}",
                      facts.published_time[:100])
    wrong = impossible_date(published)
    if wrong:
        return failed(f"the publication date {facts.published_time[:40]} is impossible: {wrong}",
                      f"published {facts.published_time[:100]}")
    if facts.modified_time:
        modified = parse_date(facts.modified_time)
        if modified is None:
            return warned(f"the modification date is not an ISO 8601 date: {facts.modified_time[:100]!r}",
                          facts.modified_time[:100])
        wrong = impossible_date(modified)
        if wrong:
            return failed(f"the modification date {facts.modified_time[:40]} is impossible: {wrong}",
                          f"modified {facts.modified_time[:100]}")
        if modified < published:
            return warned("the article says it was modified before it was published",
                          facts.published_time, facts.modified_time)
    evidence = [f"published {facts.published_time}"] + ([f"modified {facts.modified_time}"] if facts.modified_time else [])
    return passed(f"published {published.date().isoformat()}", *evidence)


@site_rule(
    id="sitemap-freshness", title="Sitemap dates say what is fresh", category="distribution",
    severity="info", weight=1,
    options={
        "stale_after_days": Option(365, "Warn when the newest lastmod is older than this many days."),
        "recent_days": Option(90, "Entries changed within this many days count as recent."),
    },
)
def sitemap_freshness(ctx: SiteContext) -> Outcome | None:
    """
    ## What it checks
    Summarises the `<lastmod>` dates of the site's XML sitemaps: how recent the newest is and how
    many entries changed lately. Notes when the newest is older than `stale_after_days`, when
    every entry has the same date (a build timestamp rather than real changes) and when dates are
    unreadable or in the future. Information only: it never fails.

    ## Why it matters
    Crawlers and content tools use lastmod to decide what to re-read. Dates that never change, or
    that all change on every build, make them either miss updates or ignore the field altogether.

    ## Failing example
    ```xml
    <url><loc>https://example.com/a</loc><lastmod>2019-01-01</lastmod></url>
    ```

    ## Passing example
    ```xml
    <url><loc>https://example.com/a</loc><lastmod>2025-03-04</lastmod></url>
    ```

    ## How to fix
    Let the site generator write each page's real last-modified date (from the content, not the
    build time).

    ## Options
    `stale_after_days` and `recent_days`.

    ## References
    - https://www.sitemaps.org/protocol.html#lastmoddef
    - https://developers.google.com/search/docs/crawling-indexing/sitemaps/build-sitemap
    """
    entries = ctx.site.sitemap_lastmod
    if not entries:
        return skipped("no sitemap with <lastmod> dates was read")
    dates = [(url, parse_date(value)) for url, value in entries]
    valid = [(url, d) for url, d in dates if d is not None]
    unreadable = [f"{url}: {value}" for (url, value), (_, d) in zip(entries, dates, strict=True) if d is None]
    if not valid:
        return warned("none of the sitemap's lastmod values is a W3C date", *unreadable[:5])
    now = datetime.now(UTC)
    newest_url, newest = max(valid, key=lambda item: item[1])
    future = [f"{url}: {d.date().isoformat()}" for url, d in valid if (d - now).days >= 1]
    if future:
        return warned(f"{len(future)} sitemap lastmod date(s) lie in the future", *future[:5])
    if len(valid) >= 5 and len({d for _, d in valid}) == 1:
        return warned(f"all {len(valid)} sitemap entries have the same lastmod ({newest.isoformat()}): "
                      "it looks like the build time, so crawlers learn nothing from it", newest_url)
    age = (now - newest).days
    stale = int(ctx.options.get("stale_after_days", 365))
    if age > stale:
        return warned(f"the newest sitemap lastmod is {newest.date().isoformat()} ({age} days ago): "
                      "the sitemap says nothing changed for a long time", newest_url)
    recent_days = int(ctx.options.get("recent_days", 90))
    recent = sum(1 for _, d in valid if (now - d).days <= recent_days)
    note = f"; {len(unreadable)} unreadable" if unreadable else ""
    return passed(f"the newest sitemap lastmod is {age} day(s) old; {recent} of {len(valid)} entries changed "
                  f"in the last {recent_days} days{note}", newest_url)
