"""Structured identity: who the site is (JSON-LD), the icons chat apps show beside a preview,
and oEmbed discovery."""

from __future__ import annotations

from typing import Any

from smo_audit.engine.api import Outcome, PageContext, failed, page_rule, passed, warned
from smo_audit.engine.resources import OFF_TARGET
from smo_audit.extract.jsonld import iter_nodes, node_types
from smo_audit.preview import is_absolute_http, url_origin

from ._tags import human_list

ORGANIZATION_TYPES = frozenset({
    "organization", "corporation", "localbusiness", "newsmediaorganization", "educationalorganization",
    "governmentorganization", "ngo", "onlinebusiness", "onlinestore", "store", "restaurant", "sportsorganization",
    "medicalorganization", "performinggroup", "airline", "project", "researchorganization", "cafeorcoffeeshop",
})
WEBSITE_TYPES = frozenset({"website"})
PERSON_TYPES = frozenset({"person"})
ICON_RELS = frozenset({"icon", "shortcut"})
TOUCH_RELS = frozenset({"apple-touch-icon", "apple-touch-icon-precomposed"})
OEMBED_TYPES = frozenset({"application/json+oembed", "text/xml+oembed"})


def _has_value(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, dict):
        return any(_has_value(value.get(k)) for k in ("url", "@id", "contentUrl", "name"))
    if isinstance(value, list):
        return any(_has_value(v) for v in value)
    return False


def _same_as(node: dict[str, Any]) -> list[str]:
    raw = node.get("sameAs")
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return [v for v in values if isinstance(v, str)]


@page_rule(id="jsonld-organization", title="Organization and WebSite JSON-LD", category="identity",
           severity="warning", weight=2)
def jsonld_organization(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    The home page (and any page that carries them) describes the site in JSON-LD: an
    `Organization` (or a subtype such as `LocalBusiness`; a `Person` for a personal site) with
    `name`, `logo` and `sameAs` links to the brand's profiles (absolute URLs), and a `WebSite`
    with its `name`. The profile-links rules compare `sameAs` with the profile links on the page.

    ## Why it matters
    Search engines, Google's knowledge panel and several chat and social apps take the brand
    name, logo and official profiles from this data; `sameAs` is how they tie the site to its
    social accounts.

    ## Failing example
    ```html
    <script type="application/ld+json">{"@context": "https://schema.org", "@type": "Organization"}</script>
    ```

    ## Passing example
    ```html
    <script type="application/ld+json">
    {"@context": "https://schema.org", "@graph": [
      {"@type": "Organization", "name": "ACME", "logo": "https://example.com/logo.png",
       "sameAs": ["https://www.instagram.com/acme", "https://www.linkedin.com/company/acme"]},
      {"@type": "WebSite", "name": "ACME", "url": "https://example.com/"}]}
    </script>
    ```

    ## How to fix
    Add one JSON-LD block to the home page template with the `Organization` and `WebSite` nodes;
    list every official profile in `sameAs`.

    ## References
    - https://developers.google.com/search/docs/appearance/structured-data/organization
    - https://schema.org/Organization
    - https://developers.google.com/search/docs/appearance/site-names
    """
    orgs: list[dict[str, Any]] = []
    sites: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    for node in iter_nodes(ctx.doc.json_ld):
        lowered = {t.lower() for t in node_types(node)}
        if lowered & ORGANIZATION_TYPES:
            orgs.append(node)
        if lowered & WEBSITE_TYPES:
            sites.append(node)
        if lowered & PERSON_TYPES:
            people.append(node)
    home = ctx.facts.page_type == "home"
    if not orgs and not sites:
        if home:
            return warned("the home page has no Organization or WebSite JSON-LD: apps guess the brand name and logo")
        return None
    identity = orgs[0] if orgs else (people[0] if people else None)
    missing: list[str] = []
    problems: list[str] = []
    if identity is None:
        missing.append("an Organization (name, logo, sameAs)")
    else:
        kind = "Organization" if orgs else "Person"
        for field in ("name", "logo" if orgs else "image"):
            if not _has_value(identity.get(field)):
                missing.append(f"{kind}.{field}")
        links = _same_as(identity)
        if not links:
            missing.append(f"{kind}.sameAs")
        bad = [link for link in links if not is_absolute_http(link)]
        if bad:
            problems.append(f"sameAs values that are not absolute URLs: {', '.join(b[:60] for b in bad[:3])}")
    if not sites:
        missing.append("a WebSite node")
    elif not _has_value(sites[0].get("name")):
        missing.append("WebSite.name")
    types = sorted({t for node in orgs + sites + people for t in node_types(node)})
    evidence = [f"JSON-LD types: {', '.join(types)}"]
    if problems:
        return failed("; ".join(problems + ([f"missing {human_list(missing)}"] if missing else [])), *evidence)
    if missing:
        return warned(f"the site's JSON-LD identity lacks {human_list(missing)}", *evidence)
    count = len(_same_as(identity)) if identity else 0
    return passed(f"Organization and WebSite JSON-LD with name, logo and {count} sameAs link(s)", *evidence)


async def _well_known(ctx: PageContext, path: str) -> bool:
    """Does the page's origin answer an image at `path` (browsers' fallback locations)?"""
    origin = url_origin(ctx.final_url)
    if origin is None:
        return False
    resource = await ctx.resources.fetch(origin + path, max_bytes=1024 * 1024)
    return resource.ok and (resource.content_type.startswith("image/") or resource.content_type == "")


async def _icon_problem(ctx: PageContext, url: str) -> str | None:
    """Why the icon a link names cannot be shown (None: it can, or it could not be checked).

    Requested once per site (the resources are cached). A `data:` icon needs no request; an icon
    the audit may not fetch (another host of a build folder) is taken on trust. An HTML answer is
    a single-page app's catch-all route or an error page served with 200.
    """
    if not is_absolute_http(url):
        return None
    resource = await ctx.resources.fetch(url, max_bytes=1024 * 1024)
    if resource.error_kind == OFF_TARGET:
        return None
    if not resource.ok:
        return f"answers {resource.status}" if resource.status is not None else f"could not be fetched ({resource.error_kind})"
    if resource.content_type in ("text/html", "application/xhtml+xml"):
        return "answers an HTML page, not an image"
    return None


@page_rule(id="site-icons", title="Favicon and touch icon", category="identity", severity="warning", weight=1)
async def site_icons(ctx: PageContext) -> Outcome:
    """
    ## What it checks
    The page names a favicon (`<link rel="icon">`) and an `apple-touch-icon`, and the files they
    name answer (2xx, not an HTML page); where a link is missing, the conventional fallback files
    `/favicon.ico` and `/apple-touch-icon.png` are requested instead. Each URL is requested once
    per site.

    ## Why it matters
    Slack, Discord, Teams and iMessage show the site's icon beside the link preview, and iOS
    uses the touch icon for the rich link card and home-screen bookmarks. Without them the card
    shows a generic globe.

    ## Failing example
    ```html
    <head><title>ACME</title></head>  <!-- and no /favicon.ico on the server -->
    <head><link rel="icon" href="/img/favicon.png"></head>  <!-- the file was renamed: 404 -->
    ```

    ## Passing example
    ```html
    <link rel="icon" href="/favicon.svg" type="image/svg+xml">
    <link rel="apple-touch-icon" href="/apple-touch-icon.png">  <!-- 180x180 PNG -->
    ```

    ## How to fix
    Add both links to the head template: a favicon (ICO, PNG or SVG) and a 180x180 PNG
    `apple-touch-icon`, and deploy the files they name (a static host's catch-all route answering
    them with the home page does not count).

    ## References
    - https://developer.mozilla.org/en-US/docs/Web/HTML/Attributes/rel#icon
    - https://developer.apple.com/library/archive/documentation/AppleApplications/Reference/SafariWebContent/ConfiguringWebApplications/ConfiguringWebApplications.html
    """
    links = [t for t in ctx.doc.link_tags if t.url]
    icon = next((t for t in links if set(t.rel) & ICON_RELS), None)
    touch = next((t for t in links if set(t.rel) & TOUCH_RELS), None)
    found: list[str] = []
    broken: list[str] = []  # evidence: the link and what its URL answers
    problems: list[str] = []  # "no favicon", "broken apple-touch-icon"
    for name, label, tag, fallback, where in (
            ("favicon", "icon", icon, "/favicon.ico", "no <link rel=icon>, found at the default location"),
            ("apple-touch-icon", "apple-touch-icon", touch, "/apple-touch-icon.png", "default location")):
        if tag is not None:
            assert tag.url is not None
            problem = await _icon_problem(ctx, tag.url)
            if problem is None:
                found.append(f"{label} {tag.href[:120]}")
            else:
                problems.append(f"broken {name}")
                broken.append(f"{label} {tag.href[:120]} {problem}")
        elif await _well_known(ctx, fallback):
            found.append(f"{label} {fallback} ({where})")
        else:
            problems.append(f"no {name}")
    if problems:
        return warned(f"{' and '.join(problems)}: chat apps show a generic icon beside your previews", *broken, *found)
    return passed("favicon and apple-touch-icon are present", *found)


@page_rule(id="oembed-discovery", title="oEmbed discovery", category="identity", severity="info", weight=1)
def oembed_discovery(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    When the page advertises oEmbed (`<link rel="alternate" type="application/json+oembed">`),
    its `href` is an absolute http(s) URL. Pages without oEmbed are not judged: it is a strength,
    not a requirement.

    ## Why it matters
    Slack, Discord, WordPress and Notion read oEmbed to embed rich content (a video player, a
    formatted quote) instead of a plain card. A relative discovery URL is not followed.

    ## Failing example
    ```html
    <link rel="alternate" type="application/json+oembed" href="/oembed?url=/post">
    ```

    ## Passing example
    ```html
    <link rel="alternate" type="application/json+oembed"
          href="https://example.com/oembed?url=https%3A%2F%2Fexample.com%2Fpost&amp;format=json">
    ```

    ## How to fix
    Write the discovery link's `href` as a full URL of your oEmbed endpoint.

    ## References
    - https://oembed.com/#section4
    - https://api.slack.com/robots
    """
    links = [t for t in ctx.doc.link_tags if "alternate" in t.rel and (t.type or "").lower() in OEMBED_TYPES]
    if not links:
        return None
    evidence = [f'<link rel="alternate" type="{t.type}" href="{t.href[:200]}">' for t in links[:4]]
    relative = [t for t in links if not is_absolute_http(t.href)]
    if relative:
        return warned("the oEmbed discovery URL is relative: consumers expect an absolute URL", *evidence)
    return passed(f"oEmbed discovery: {human_list(sorted({(t.type or '').split('+')[0].split('/')[-1] for t in links}))}"
                  " endpoint advertised", *evidence)
