"""Can the social crawlers get at the page and its tags at all? robots.txt, bot-specific answers,
how far into the HTML the tags sit, and tags that only JavaScript writes.

The bots' user agents, robots.txt tokens and read limits are catalogue data
(rules/catalogue/platforms.toml). A bot's copy of a page is fetched through the run's
ResourceCache and read with the same extraction code as every audited page; rules never parse
HTML their own way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from protego import Protego

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
from smo_audit.engine.site_records import tagged, with_tags
from smo_audit.extract import base_facts
from smo_audit.extract.decode import decode_html
from smo_audit.extract.dom import parse_document
from smo_audit.platforms import Platform, platforms
from smo_audit.preview import (
    host_of,
    is_local_host,
    is_placeholder_host,
    og_image_url,
    production_for,
    url_origin,
)

from ._tags import human_list, plural

CORE_KEYS = (
    "og:title", "og:description", "og:image", "og:url", "og:type",
    "twitter:card", "twitter:title", "twitter:description", "twitter:image",
)
ROBOTS_MAX_BYTES = 500 * 1024


def tags_of(resource: Resource) -> dict[str, str]:
    """The og:/twitter: tags of a fetched HTML page (its first bytes), via the normal extractor."""
    charset = None
    for param in resource.headers.get("content-type", "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower() or None
    text, _ = decode_html(resource.head, charset)
    url = resource.final_url or resource.url
    facts = base_facts(parse_document(text, url, html_bytes=len(resource.head)), url)
    return {**facts.open_graph, **facts.twitter}


def _core(tags: Mapping[str, str]) -> dict[str, str]:
    return {k: " ".join(v.split()) for k, v in tags.items() if k in CORE_KEYS and v.strip()}


# -- robots.txt ----------------------------------------------------------------------------------


class _Robots:
    """robots.txt files by origin: the audited site's from the crawl, others fetched once."""

    def __init__(self, ctx: SiteContext, max_hosts: int) -> None:
        self.ctx = ctx
        self.max_hosts = max_hosts
        self.files: dict[str, Protego | None] = {}
        own = url_origin(ctx.site.robots_url or ctx.site.start_url)
        if own:
            self.files[own] = Protego.parse(ctx.site.robots_txt) if ctx.site.robots_txt else None
        self.unchecked: set[str] = set()

    async def get(self, origin: str) -> tuple[bool, Protego | None]:
        """(known, parser); parser None = nothing disallowed. Unknown when not fetched."""
        if origin in self.files:
            return True, self.files[origin]
        host = host_of(origin)
        # Local hosts are fine when the audited site is local too (a build folder, a dev server).
        unreachable = is_local_host(host) and not is_local_host(host_of(self.ctx.site.start_url))
        if is_placeholder_host(host) or unreachable or len(self.files) > self.max_hosts:
            self.unchecked.add(origin)
            return False, None
        resource = await self.ctx.resources.fetch(origin + "/robots.txt", max_bytes=ROBOTS_MAX_BYTES, keep_body=True)
        parser: Protego | None = None
        if resource.ok:
            parser = Protego.parse(resource.head.decode("utf-8", "replace"))
        elif resource.error_kind is not None or resource.status is None:
            self.unchecked.add(origin)
            return False, None
        self.files[origin] = parser
        return True, parser


@site_rule(
    id="robots-social-bots",
    title="robots.txt lets social crawlers in",
    category="crawler-access",
    severity="error",
    weight=4,
    options={"max_image_hosts": Option(3, "Read the robots.txt of at most this many other image hosts (CDNs).")},
)
async def robots_social_bots(ctx: SiteContext) -> list[Outcome]:
    """
    ## What it checks
    robots.txt lets each social crawler (`facebookexternalhit`, `Twitterbot`, `LinkedInBot`,
    `Pinterestbot`, `Discordbot`, `WhatsApp`, `TelegramBot`, `Slackbot-LinkExpanding`) fetch
    the audited pages and their `og:image` files, including images on another host (a CDN),
    whose own robots.txt is read (a few hosts at most). Blocking a crawler that obeys robots.txt
    (Facebook, X, LinkedIn, Pinterest) fails; one whose policy is unknown (Discord, WhatsApp,
    Telegram) warns; Slack does not read robots.txt and is only noted.

    ## Why it matters
    Twitterbot obeys robots.txt: a blocked page gets no card, a blocked image no picture. A
    blanket `User-agent: *` / `Disallow: /` meant for AI scrapers, or a `Disallow: /api/` that
    also covers a generated `/api/og` image, silently removes every preview.

    ## Failing example
    ```
    User-agent: facebookexternalhit
    Disallow: /
    ```

    ## Passing example
    ```
    User-agent: GPTBot
    Disallow: /

    User-agent: *
    Allow: /
    ```

    ## How to fix
    Add groups that allow the social crawlers (`User-agent: Twitterbot` / `Allow: /`), or narrow
    the `Disallow` lines so they do not cover pages and preview images.

    ## References
    - https://developer.x.com/en/docs/x-for-websites/cards/guides/troubleshooting-cards
    - https://developers.facebook.com/docs/sharing/webmasters/web-crawlers/
    - https://www.rfc-editor.org/rfc/rfc9309
    - https://api.slack.com/robots
    """
    robots = _Robots(ctx, int(ctx.options.get("max_image_hosts", 3)))
    own = url_origin(ctx.site.robots_url or ctx.site.start_url)
    pages: list[str] = []  # the final URLs of the site's own 2xx pages (one pass: not the records)
    images: list[tuple[str, str]] = []  # (declared URL, URL whose robots.txt applies)
    for page in with_tags(ctx.pages):
        if not (200 <= page.status < 300 and url_origin(page.final_url) == own):
            continue
        pages.append(page.final_url)
        url = og_image_url(page.facts)
        if url and url_origin(url):
            target = production_for(page.final_url, page.facts, ctx.settings.base_url).local(url)
            images.append((url, target))
    images = list(dict.fromkeys(images))
    parsers: dict[str, Protego | None] = {}
    for _, target in images:
        origin = url_origin(target)
        if origin and origin not in parsers:
            known, parser = await robots.get(origin)
            if known:
                parsers[origin] = parser
    own_parser = robots.files.get(own or "")
    outcomes: list[Outcome] = []
    ignoring: list[str] = []
    seen_tokens: set[str] = set()
    for platform in platforms():
        token = platform.robots_token
        if not token or token.lower() in seen_tokens:
            continue
        seen_tokens.add(token.lower())
        blocked_pages = [u for u in pages if own_parser is not None and not own_parser.can_fetch(u, token)]
        blocked_images = []
        for declared, target in images:
            parser = parsers.get(url_origin(target) or "")
            if parser is not None and not parser.can_fetch(target, token):
                blocked_images.append(declared)
        if not blocked_pages and not blocked_images:
            continue
        if platform.obeys_robots == "no":
            ignoring.append(f"{platform.name} ({token}) is disallowed but ignores robots.txt")
            continue
        what = []
        if blocked_pages:
            what.append(f"{plural(len(blocked_pages), 'page')} (no card)")
        if blocked_images:
            what.append(f"{plural(len(blocked_images), 'preview image')} (no picture)")
        message = f"robots.txt blocks {token} from {' and '.join(what)}: {platform.name} previews break"
        evidence = [*(f"page: {u}" for u in blocked_pages[:5]), *(f"og:image: {u}" for u in blocked_images[:5])]
        data = {"platform": platform.id, "token": token, "pages": len(blocked_pages), "images": len(blocked_images)}
        if platform.obeys_robots == "yes":
            outcomes.append(failed(message, *evidence, data=data))
        else:
            outcomes.append(warned(message.replace("previews break", "previews may break (its robots.txt policy "
                                                                     "is not documented)"), *evidence, data=data))
    if outcomes:
        return outcomes
    if own_parser is None and not ctx.site.robots_txt:
        note = "no robots.txt rules apply: social crawlers may fetch everything"
    else:
        note = (f"robots.txt lets every social crawler fetch the {plural(len(pages), 'page')} "
                f"and {plural(len(images), 'preview image')}")
    if ignoring:
        note += "; " + "; ".join(ignoring)
    if robots.unchecked:
        note += f" (robots.txt of {human_list(sorted(robots.unchecked))} not checked)"
    return [passed(note)]


# -- bots see the same page ----------------------------------------------------------------------


def _sample(ctx: SiteContext, size: int) -> list[PageRecord]:
    start = ctx.site.start_url
    pages = [p for p in ctx.pages if 200 <= p.status < 300]
    # The start page, then the shallowest pages by URL: ctx.pages is in completion order, which
    # differs from run to run and between one process and a merge of shards.
    pages.sort(key=lambda p: (p.url != start and p.final_url != start, p.final_url.count("/"), p.final_url))
    return [tagged(ctx.pages, page) for page in pages[:size]]  # _judge_bot_answer reads their tags


def _compare(normal: Mapping[str, str], bot: Mapping[str, str]) -> tuple[list[str], list[str], list[str]]:
    """(missing for the bot, different for the bot, only the bot gets)."""
    missing = [k for k in CORE_KEYS if k in normal and k not in bot]
    changed = [k for k in CORE_KEYS if k in normal and k in bot and bot[k] != normal[k]]
    extra = [k for k in CORE_KEYS if k in bot and k not in normal]
    return missing, changed, extra


@site_rule(
    id="bot-cloaking",
    title="Social crawlers get the same page",
    category="crawler-access",
    severity="error",
    weight=3,
    options={"sample_pages": Option(3, "Pages requested as each social crawler: the start page and the shallowest others.")},
)
async def bot_cloaking(ctx: SiteContext) -> Outcome | list[Outcome] | None:
    """
    ## What it checks
    The start page and a few more (`sample_pages`, default 3: the shallowest by URL, so every
    run, and every split into shards, checks the same pages) are requested again as
    `facebookexternalhit` and as `Twitterbot` (the platforms marked `check_cloaking` in the
    catalogue). Each answer must be 2xx and carry the same preview tags (`og:title`,
    `og:description`, `og:image`, `og:url`, `og:type`, `twitter:*`) as the normal fetch.
    Tags that only the bots get (a pre-rendering service) pass with a note. Skipped for build
    folders: smo-audit's own server answers every user agent alike, so only the live site (or a
    staging server given as the target) can show cloaking.

    ## Why it matters
    Bot-protection firewalls, rate limiters and "AI crawler" blocklists often answer social
    crawlers with 403, a challenge page or an empty shell; the site looks fine in the browser
    and every shared link has no preview. Serving bots different titles or images (cloaking)
    makes previews that do not match the page.

    ## Failing example
    ```
    GET /  (User-Agent: facebookexternalhit/1.1)  ->  403 Forbidden
    ```

    ## Passing example
    ```
    GET /  (User-Agent: facebookexternalhit/1.1)  ->  200, same og:title and og:image
    ```

    ## How to fix
    Allow the social crawlers' user agents in your WAF or bot-management rules (Cloudflare
    "Verified bots", AWS WAF bot control, Vercel firewall), and serve them the same HTML as a
    browser.

    ## References
    - https://developers.facebook.com/docs/sharing/webmasters/web-crawlers/
    - https://developer.x.com/en/docs/x-for-websites/cards/guides/troubleshooting-cards
    - https://developers.google.com/search/docs/essentials/spam-policies#cloaking
    """
    if ctx.settings.local_copy:
        return skipped("the pages come from a build folder served by smo-audit, which answers every user agent "
                       "alike: how the production server answers social crawlers is not known (audit the live "
                       "URL to check it)")
    bots = [p for p in platforms() if p.check_cloaking]
    sample = _sample(ctx, int(ctx.options.get("sample_pages", 3)))
    if not bots or not sample:
        return None
    pairs = [(page, bot) for page in sample for bot in bots]
    answers = await asyncio.gather(*(ctx.resources.fetch(page.final_url, user_agent=bot.user_agent)
                                     for page, bot in pairs))
    outcomes: list[Outcome] = []
    notes: list[str] = []
    for (page, bot), answer in zip(pairs, answers, strict=True):
        outcome = _judge_bot_answer(page, bot, answer, notes)
        if outcome is not None:
            outcomes.append(outcome)
    if outcomes:
        return outcomes
    names = human_list(b.robots_token or b.name for b in bots)
    extra = f" ({'; '.join(notes)})" if notes else ""
    verb = "looks" if len(sample) == 1 else "look"
    return [passed(f"{plural(len(sample), 'page')} {verb} the same to {names} as to a browser{extra}")]


def _judge_bot_answer(page: PageRecord, bot: Platform, answer: Resource, notes: list[str]) -> Outcome | None:
    agent = bot.robots_token or bot.name
    where = page.final_url
    if answer.error_kind == OFF_TARGET:  # not requested (robots.txt disallows this agent): nothing to compare
        notes.append(f"{agent} not asked: {answer.error}")
        return None
    if answer.error_kind is not None and answer.error_kind != "too-large":
        return warned(f"{where} could not be fetched as {agent}: {answer.error}", f"User-Agent: {bot.user_agent}")
    if answer.status is None or not 200 <= answer.status < 300:
        return failed(f"{where} answers HTTP {answer.status} to {agent} (a browser gets {page.status}): "
                      f"{bot.name} shows no preview", f"User-Agent: {bot.user_agent}",
                      data={"platform": bot.id, "status": answer.status})
    if answer.error_kind == "too-large":
        return None
    normal = _core({**page.facts.open_graph, **page.facts.twitter})
    seen = _core(tags_of(answer))
    missing, changed, extra = _compare(normal, seen)
    evidence = [f"User-Agent: {bot.user_agent}"]
    evidence += [f"{k}: browser {normal[k][:100]!r}, {agent} {seen[k][:100]!r}" for k in changed[:5]]
    if missing:
        return failed(f"{where} served to {agent} lacks {', '.join(missing)}: {bot.name} shows a broken preview",
                      *evidence, data={"platform": bot.id, "missing": missing, "changed": changed})
    if changed:
        return warned(f"{where} served to {agent} has different {', '.join(changed)}", *evidence,
                      data={"platform": bot.id, "changed": changed})
    if extra:
        notes.append(f"{agent} gets {', '.join(extra)} that a browser-like fetch does not (pre-rendering?)")
    return None


# -- tags early in the document -----------------------------------------------------------------


def _first_offsets(offsets: Sequence[tuple[str, int]]) -> dict[str, int]:
    first: dict[str, int] = {}
    for key, at in offsets:
        first.setdefault(key, at)
    return first


@page_rule(id="tags-early-enough", title="Tags within the crawlers' read limit", category="crawler-access",
           severity="error", weight=2)
def tags_early_enough(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    The preview tags start within the number of bytes each crawler reads of a page: Facebook's
    crawler reads the first 1 MB (documented: a failure when tags come later); Slack's
    Slackbot-LinkExpanding asks for as little as it can with an HTTP Range request, reported by
    the community as the first 32 KB (low confidence: a warning). Offsets are byte positions in
    the raw HTML as served (after decompression).

    ## Why it matters
    Frameworks that inline all CSS, SVG sprites or a large JSON state blob at the top of the page
    push the meta tags past what the crawler reads: the preview then has no title or image
    although the tags are there.

    ## Failing example
    ```html
    <head><style>/* 1.2 MB of inlined CSS */</style>
    <meta property="og:title" content="...">
    ```

    ## Passing example
    ```html
    <head><meta charset="utf-8"><title>...</title>
    <meta property="og:title" content="..."><meta property="og:image" content="...">
    <style>/* CSS after the tags */</style>
    ```

    ## How to fix
    Put `<meta charset>`, `<title>` and the Open Graph / X card tags at the very top of
    `<head>`, before styles, scripts and inline data.

    ## References
    - https://developers.facebook.com/docs/sharing/webmasters/web-crawlers/
    - https://api.slack.com/robots
    """
    first = _first_offsets(ctx.doc.meta_offsets)
    present = [k for k in CORE_KEYS if k in first and (ctx.facts.open_graph.get(k) or ctx.facts.twitter.get(k))]
    if not present:
        return None
    limited = [p for p in platforms() if p.html_read_limit]
    hard: list[str] = []
    soft: list[str] = []
    for platform in limited:
        limit = int(platform.html_read_limit or 0)
        families = tuple(f"{f}:" for f in platform.reads if f in ("og", "twitter"))
        late = [(k, first[k]) for k in present if k.startswith(families) and first[k] > limit]
        if not late:
            continue
        key, at = max(late, key=lambda item: item[1])
        text = f"{key} starts at byte {at:,}: {platform.name} reads only the first {limit:,} bytes"
        (hard if platform.html_read_limit_confidence != "low" else soft).append(text)
    latest = max(first[k] for k in present)
    data = {"latest_tag_offset": latest, "html_bytes": ctx.doc.html_bytes}
    if hard:
        return failed("; ".join(hard + soft), data=data)
    if soft:
        return warned("; ".join(soft), data=data)
    smallest = min((int(p.html_read_limit or 0) for p in limited), default=0)
    return passed(f"the preview tags end by byte {latest:,}, within the first {smallest:,} bytes every crawler reads",
                  data=data)


# -- tags written by JavaScript ------------------------------------------------------------------


@page_rule(id="js-injected-tags", title="Tags not written by JavaScript", category="crawler-access",
           severity="error", weight=3)
async def js_injected_tags(ctx: PageContext) -> Outcome:
    """
    ## What it checks
    The preview tags are in the HTML the server sends, not added by JavaScript. In rendered mode
    (`--render`) the rendered page's tags are compared with the raw HTML: a tag only the
    rendered page has is a failure. Static mode cannot see what scripts do, so the rule is
    skipped, except when the raw HTML mentions a preview tag name (`"og:title"`) without a
    `<meta>` carrying it, a sign that a script (or a commented-out block) writes it: a warning.

    ## Why it matters
    Social crawlers do not run JavaScript. A single-page app that sets its tags with
    react-helmet, vue-meta or `document.head.appendChild` shows perfect tags in the browser's
    inspector and an empty preview everywhere.

    ## Failing example
    ```html
    <script>
      const m = document.createElement("meta");
      m.setAttribute("property", "og:title"); m.content = "Spring collection";
      document.head.appendChild(m);
    </script>
    ```

    ## Passing example
    ```html
    <meta property="og:title" content="Spring collection">
    ```

    ## How to fix
    Render the tags on the server: server-side rendering or static generation (Next.js
    `metadata`, Nuxt `useHead` with SSR, Angular Universal), or a pre-rendering service for
    the crawlers' user agents.

    ## References
    - https://developers.facebook.com/docs/sharing/webmasters/web-crawlers/
    - https://developer.x.com/en/docs/x-for-websites/cards/guides/troubleshooting-cards
    """
    tag_keys = {m.key for m in ctx.doc.meta}
    rendered_page = ctx.rendered
    if rendered_page is not None and rendered_page.status != "static-only":
        # The render's diff of the same response: og:/twitter: tags only the rendered DOM has.
        changes = rendered_page.changes
        served = {**ctx.facts.open_graph, **ctx.facts.twitter}
        added = [k for k in changes.tags_added if k not in served]
        where = f" (as on {rendered_page.from_url}, same template)" if rendered_page.status == "inherited" else ""
        if added:
            return failed(f"{', '.join(added)} exist only after JavaScript runs: crawlers do not see them{where}",
                          *added, data={"keys": added})
        if changes.tags_changed:
            return warned(f"JavaScript changes {', '.join(changes.tags_changed)}: crawlers see the HTML's "
                          f"values, browsers another{where}", *changes.tags_changed,
                          data={"keys": list(changes.tags_changed)})
        return passed("every preview tag is in the HTML the server sends, unchanged by scripts")
    mentioned = _first_offsets(ctx.doc.meta_offsets)
    scripted = [k for k in CORE_KEYS if k in mentioned and k not in tag_keys]
    if scripted:
        where = ", ".join(f"{k} at byte {mentioned[k]:,}" for k in scripted[:5])
        return warned(f"the HTML mentions {', '.join(scripted)} but has no such <meta> tag: a script (or a "
                      "commented-out block) seems to write it, and crawlers do not run scripts",
                      where, data={"keys": scripted})
    return skipped("static mode reads the HTML as crawlers do and cannot see tags that JavaScript adds: "
                   "run with --render to compare the rendered page")
