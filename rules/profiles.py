"""Profile links: does the site point visitors to the brand's own, current social profiles?

Facts come from smo_audit/extract/profiles.py (pages[].facts.profile_links[]). A profile counts as
the brand's when it is linked from a header, footer or navigation landmark, carries rel="me",
appears in the JSON-LD sameAs, or is linked from the home page; a link to someone's profile in an
article body is not the brand's.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from smo_audit.crawl.urls import try_normalize
from smo_audit.engine.api import (
    Option,
    Outcome,
    PageContext,
    PageRecord,
    SiteContext,
    SiteInfo,
    failed,
    page_rule,
    passed,
    site_rule,
    skipped,
    warned,
)
from smo_audit.engine.resources import Resource
from smo_audit.extract.profiles import catalogue, classify_url
from smo_audit.extract.sign_in import is_account_url
from smo_audit.extract.urlmatch import split_url

CHROME = ("header", "footer", "nav", "head")
PROFILE_MAX_BYTES = 2 * 1024 * 1024
MAIN_NETWORKS = ["facebook", "instagram", "x", "linkedin", "youtube", "tiktok"]


@dataclass
class Profile:
    """One profile (network + handle) as the whole site links it."""

    key: str
    network: str
    handle: str
    urls: list[str] = field(default_factory=list)
    pages: int = 0  # pages linking it: counted, not listed (a footer link is on every page of a big site)
    last_page: str | None = field(default=None, repr=False)  # the page counted last
    locations: set[str] = field(default_factory=set)
    rel_me: bool = False
    dead: bool = False
    home: bool = False

    @property
    def name(self) -> str:
        return f"{catalogue().name(self.network)} {self.handle}".strip()

    def evidence(self) -> str:
        where = ", ".join(sorted(self.locations))
        pages = self.pages
        return f"{self.network}: {self.urls[0]} ({where}; {pages} page{'s' if pages != 1 else ''})"


def is_home(record: PageRecord, site: SiteInfo) -> bool:
    if record.facts.page_type == "home":
        return True
    start = try_normalize(site.start_url)
    return start is not None and start in (try_normalize(record.url), try_normalize(record.final_url))


def same_as_keys(pages: Iterable[PageRecord]) -> dict[str, str]:
    """Profile keys ("x:acme") of every JSON-LD sameAs URL on the site -> the URL as written."""
    keys: dict[str, str] = {}
    for record in pages:
        for url in record.facts.same_as:
            found = classify_url(url)
            if found is not None and found.kind == "profile":
                keys.setdefault(found.key, url)
    return keys


def all_profiles(pages: Iterable[PageRecord], site: SiteInfo) -> dict[str, Profile]:
    profiles: dict[str, Profile] = {}
    for record in pages:
        home = is_home(record, site)
        for link in record.facts.profile_links:
            key = f"{link.network}:{link.handle}"
            profile = profiles.get(key)
            if profile is None:
                profile = profiles[key] = Profile(key, link.network, link.handle, dead=link.dead)
            if link.url not in profile.urls:
                profile.urls.append(link.url)
            if profile.last_page != record.url:  # a page linking it twice (header and footer) counts once
                profile.pages += 1
                profile.last_page = record.url
            profile.locations.add(link.location)
            profile.rel_me = profile.rel_me or link.rel_me
            profile.home = profile.home or home
    return profiles


def brand_profiles(ctx: SiteContext) -> dict[str, Profile]:
    """The profiles the site presents as its own (landmarks, rel=me, sameAs, home page)."""
    same_as = same_as_keys(ctx.pages)
    return {
        key: p for key, p in all_profiles(ctx.pages, ctx.site).items()
        if p.locations & set(CHROME) or p.rel_me or key in same_as or p.home
    }


def _names(networks: Iterable[str]) -> str:
    cat = catalogue()
    return ", ".join(cat.name(n) for n in networks)


# -- site rules ----------------------------------------------------------------------------------


@site_rule(
    id="profile-links-present", title="Links to the brand's social profiles", category="profiles",
    severity="warning", weight=3,
    options={
        "networks": Option(MAIN_NETWORKS, "Networks that count towards `min_networks` (network ids)."),
        "min_networks": Option(2, "How many of `networks` the site should link to."),
        "required": Option([], "Networks the site must link to, e.g. [\"linkedin\"] for a B2B brand."),
    },
)
def profile_links_present(ctx: SiteContext) -> Outcome:
    """
    ## What it checks
    The site links to the brand's own social profiles (from a header, footer or navigation, with
    rel="me", in JSON-LD sameAs, or on the home page): at least `min_networks` of `networks`
    (default: any two of Facebook, Instagram, X, LinkedIn, YouTube and TikTok) and every network in
    `required`.

    ## Why it matters
    Visitors who like what they read look for a way to follow the brand; without profile links
    that visit ends there. Search engines and chat apps also use these links to connect the site
    with its social accounts.

    ## Failing example
    ```html
    <footer>© ACME 2025</footer>
    ```

    ## Passing example
    ```html
    <footer>
      <a href="https://www.instagram.com/acme/">Instagram</a>
      <a href="https://www.linkedin.com/company/acme/">LinkedIn</a>
    </footer>
    ```

    ## How to fix
    Add links to the brand's profiles to the site-wide footer or header, pointing at the profile
    itself (not a post, a share link or a login page).

    ## Options
    `networks`, `min_networks` and `required`, e.g. `required = ["linkedin"]`.

    ## References
    - https://developers.google.com/search/docs/appearance/structured-data/organization
    """
    profiles = [p for p in brand_profiles(ctx).values() if not p.dead]
    if not profiles:
        return failed("no page links to the brand's social profiles from its header, footer or home page")
    evidence = [p.evidence() for p in profiles]
    networks = list(dict.fromkeys(p.network for p in profiles))
    required = [str(n) for n in ctx.options.get("required", [])]
    missing = [n for n in required if n not in networks]
    if missing:
        return failed(f"no link to the brand's {_names(missing)} profile, which this site requires", *evidence)
    wanted = [str(n) for n in ctx.options.get("networks", MAIN_NETWORKS)]
    minimum = int(ctx.options.get("min_networks", 2))
    have = [n for n in networks if n in wanted]
    if len(have) < minimum:
        return warned(
            f"links to {len(have)} of the main networks ({_names(have) or 'none'}); "
            f"link at least {minimum} of {_names(wanted)}", *evidence,
        )
    return passed(f"links to the brand's profiles on {_names(networks)}", *evidence)


def _template(record: PageRecord, root: str) -> str:
    """A page's template, guessed from its path under the start URL's folder: /, /*, /blog/*."""
    path = split_url(record.final_url).path
    if path.startswith(root):
        path = path[len(root):]
    segments = [s for s in path.split("/") if s]
    if segments and segments[-1].startswith("index."):
        segments = segments[:-1]
    if not segments:
        return "/"
    if len(segments) == 1:
        return "/*"
    return "/" + "/".join(segments[:-1]) + "/*"


def _label(key: str) -> str:
    network, _, handle = key.partition(":")
    return f"{catalogue().name(network)} {handle}"


@site_rule(id="profile-links-consistent", title="Profile links on every template", category="profiles",
           severity="warning", weight=2)
def profile_links_consistent(ctx: SiteContext) -> Outcome | None:
    """
    ## What it checks
    Every page links to the same brand profiles from its header, footer or navigation. Pages are
    grouped by template (their folder: /, /*, /blog/*); a template whose header/footer profiles
    differ from the rest of the site is reported. Account pages are left out.

    ## Why it matters
    Profile links usually live in the site-wide footer, so a difference means one template has an
    old footer: a stale handle, a missing network, a profile the brand has since left. Visitors on
    those pages follow the wrong account or none.

    ## Failing example
    ```html
    <!-- /blog/post.html, an older template -->
    <footer><a href="https://www.facebook.com/acme-old/">Facebook</a></footer>
    ```

    ## Passing example
    ```html
    <!-- every template -->
    <footer><a href="https://www.facebook.com/acme/">Facebook</a>
            <a href="https://www.instagram.com/acme/">Instagram</a></footer>
    ```

    ## How to fix
    Render the profile links from one shared partial (footer or header include) in every template,
    and update the old templates the report names.

    ## References
    - https://www.w3.org/WAI/WCAG22/Understanding/consistent-navigation.html
    """
    pages = [r for r in ctx.pages if r.status < 400 and not r.facts.is_account_page]
    # Pages of one template share one profile_links tuple (engine/records.py): one key set for
    # all of them, not a set per page (10,000 sets were 9 MB of peak RSS).
    shared: dict[int, frozenset[str]] = {}
    chrome: dict[str, frozenset[str]] = {}
    for r in pages:
        links = r.facts.profile_links
        keys = shared.get(id(links))
        if keys is None:
            keys = shared[id(links)] = frozenset(
                f"{p.network}:{p.handle}" for p in links if p.location in CHROME and not p.dead)
        chrome[r.url] = keys
    if not any(chrome.values()):
        return None  # profile-links-present reports the absence
    if len(pages) < 2:
        return skipped("only one page other than login/account pages was audited: "
                       "consistency across templates needs at least two")
    counts = Counter(key for keys in chrome.values() for key in keys)
    expected = {key for key, count in counts.items() if count * 2 >= len(pages)}
    root = split_url(ctx.site.start_url).path.rsplit("/", 1)[0] + "/"
    groups: dict[str, list[tuple[PageRecord, set[str], set[str]]]] = defaultdict(list)
    for record in pages:
        keys = chrome[record.url]
        missing, extra = expected - keys, set(keys - expected)
        if missing or extra:
            groups[_template(record, root)].append((record, missing, extra))
    if not groups:
        names = ", ".join(_label(k) for k in sorted(expected))
        return passed(f"all {len(pages)} pages link to the same profiles from header/footer ({names})")
    evidence = []
    deviating = 0
    for template, items in sorted(groups.items()):
        deviating += len(items)
        missing = set().union(*(m for _, m, _ in items))
        extra = set().union(*(e for _, _, e in items))
        parts = []
        if missing:
            parts.append("missing " + ", ".join(_label(k) for k in sorted(missing)))
        if extra:
            parts.append("instead " + ", ".join(_label(k) for k in sorted(extra)))
        evidence.append(f"{template} ({len(items)} page{'s' if len(items) != 1 else ''}, e.g. {items[0][0].url}): "
                        + "; ".join(parts))
    return warned(
        f"{deviating} of {len(pages)} pages link to different profiles from their header/footer "
        f"than the rest of the site", *evidence,
    )


@site_rule(id="profile-handle-unique", title="One profile per network", category="profiles",
           severity="warning", weight=1)
def profile_handle_unique(ctx: SiteContext) -> Outcome | None:
    """
    ## What it checks
    Across the whole site, the brand links to one profile per network: one Facebook page, one X
    account. Spellings of the same profile (m.facebook.com, a trailing slash, @, ?ref=, twitter.com
    and x.com) count as one.

    ## Why it matters
    Two different Facebook pages split the audience and usually mean one of them is abandoned (an
    old regional page, a handle from before a rebrand). Visitors cannot tell which is real.

    ## Failing example
    ```html
    <footer><a href="https://www.facebook.com/acme">Facebook</a></footer>
    <!-- elsewhere -->
    <footer><a href="https://www.facebook.com/acme.uk.old">Facebook</a></footer>
    ```

    ## Passing example
    ```html
    <a href="https://x.com/acme">X</a> … <a href="https://twitter.com/ACME/">Twitter</a>
    ```

    ## How to fix
    Decide which profile is the brand's and link only that one; redirect or retire the other.

    ## References
    - https://schema.org/sameAs
    """
    profiles = [p for p in brand_profiles(ctx).values() if not p.dead]
    if not profiles:
        return None
    by_network: dict[str, list[str]] = defaultdict(list)
    for profile in profiles:
        by_network[profile.network].append(profile.handle)
    doubles = {n: handles for n, handles in by_network.items() if len(handles) > 1}
    if doubles:
        evidence = [p.evidence() for p in profiles if p.network in doubles]
        summary = "; ".join(f"{catalogue().name(n)}: {', '.join(h)}" for n, h in doubles.items())
        return warned(f"the site links to more than one profile on the same network ({summary})", *evidence)
    return passed(f"one profile per network ({_names(by_network)})")


@site_rule(id="profile-same-as", title="Profile links match JSON-LD sameAs", category="profiles",
           severity="warning", weight=1)
def profile_same_as(ctx: SiteContext) -> Outcome | None:
    """
    ## What it checks
    The profiles the site links to and the social URLs listed in its JSON-LD Organization (or
    Person) `sameAs` are the same set, in both directions.

    ## Why it matters
    Search engines read `sameAs` to connect the brand with its social accounts (knowledge panel,
    profile links in results). A profile missing from `sameAs` is not connected; a `sameAs` entry
    no page links to is often a profile the brand has left.

    ## Failing example
    ```html
    <script type="application/ld+json">
    {"@type": "Organization", "sameAs": ["https://www.facebook.com/acme-old"]}
    </script>
    <footer><a href="https://www.facebook.com/acme">Facebook</a></footer>
    ```

    ## Passing example
    ```html
    <script type="application/ld+json">
    {"@type": "Organization", "sameAs": ["https://www.facebook.com/acme", "https://x.com/acme"]}
    </script>
    <footer><a href="https://facebook.com/acme/">Facebook</a> <a href="https://x.com/acme">X</a></footer>
    ```

    ## How to fix
    Generate both the footer links and the `sameAs` array from one list of profiles.

    ## References
    - https://schema.org/sameAs
    - https://developers.google.com/search/docs/appearance/structured-data/organization
    """
    declared = same_as_keys(ctx.pages)
    brand = {k: p for k, p in brand_profiles(ctx).items() if not p.dead}
    if not declared:
        if not brand:
            return None
        return warned(
            "no JSON-LD Organization sameAs lists the brand's profiles: search engines cannot connect them",
            *(p.evidence() for p in brand.values()),
        )
    linked = set(all_profiles(ctx.pages, ctx.site))
    not_declared = [p for k, p in brand.items() if k not in declared]
    not_linked = [url for k, url in declared.items() if k not in linked]
    if not_declared or not_linked:
        evidence = [f"linked but not in sameAs: {p.urls[0]}" for p in not_declared]
        evidence += [f"in sameAs but linked from no page: {url}" for url in not_linked]
        return warned(
            f"profile links and JSON-LD sameAs disagree ({len(not_declared)} linked profile(s) missing from "
            f"sameAs, {len(not_linked)} sameAs profile(s) not linked)", *evidence,
        )
    return passed(f"the {len(declared)} sameAs profiles are the ones the site links to", *declared.values())


# -- page rules ----------------------------------------------------------------------------------


@page_rule(id="profile-rel-me", title="rel=\"me\" on verifiable profiles", category="profiles",
           severity="warning", weight=1)
def profile_rel_me(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Links to profiles on networks that verify websites through `rel="me"` (Mastodon and other
    fediverse servers, GitHub) carry `rel="me"`, on the link or on a `<link rel="me">` in the head.

    ## Why it matters
    Mastodon shows a green check mark next to a website on the brand's profile only when that
    website links back with `rel="me"`: the verified link is how people tell the real account
    from an impostor. GitHub uses the same link for its verified-website mark.

    ## Failing example
    ```html
    <a href="https://mastodon.social/@acme">Mastodon</a>
    ```

    ## Passing example
    ```html
    <a rel="me" href="https://mastodon.social/@acme">Mastodon</a>
    ```

    ## How to fix
    Add `rel="me"` to the profile link (keep `noopener` if it opens a new tab: `rel="me noopener"`),
    then put the site's URL in the profile's metadata and let the network re-check it.

    ## References
    - https://docs.joinmastodon.org/user/profile/#verification
    - https://microformats.org/wiki/rel-me
    """
    cat = catalogue()
    links = [p for p in ctx.facts.profile_links if cat.uses_rel_me(p.network) and not p.dead]
    if not links:
        return None
    verified = {f"{p.network}:{p.handle}" for p in links if p.rel_me}
    missing = [p for p in links if f"{p.network}:{p.handle}" not in verified]
    if missing:
        return warned(
            f"{len(missing)} link(s) to {_names(dict.fromkeys(p.network for p in missing))} profiles lack rel=\"me\": "
            "the network cannot verify that this site belongs to the profile",
            *(f'<a href="{p.url}"> ({p.location})' for p in missing),
        )
    return passed("links to verifiable profiles carry rel=\"me\"", *(p.url for p in links))


@page_rule(id="profile-dead-network", title="No links to dead networks or retired widgets", category="profiles",
           severity="error", weight=2)
def profile_dead_network(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    The page links to no social network that has shut down (Google+, Vine, Periscope, ...) and
    loads no retired social widget (the Google+ badge and +1 button, AddThis follow buttons). The
    list lives in rules/catalogue/dead_services.toml.

    ## Why it matters
    A Google+ icon in the footer has led nowhere since April 2019: it tells every visitor that
    nobody has looked after the page for years, and a retired widget leaves an empty hole or a
    console error where it used to render.

    ## Failing example
    ```html
    <a href="https://plus.google.com/+Acme">Google+</a>
    <div class="g-plusone"></div>
    ```

    ## Passing example
    ```html
    <a href="https://www.youtube.com/@acme">YouTube</a>
    ```

    ## How to fix
    Remove the link or widget (and its script); link the networks the brand is active on today.

    ## References
    - https://support.google.com/plus/answer/9195133
    - https://www.addthis.com/
    """
    cat = catalogue()
    dead_links = [p for p in ctx.facts.profile_links if p.dead]
    dead_widgets = [w for w in ctx.facts.social_widgets if w.dead]
    if dead_links or dead_widgets:
        evidence = []
        for link in dead_links:
            service = cat.dead.get(link.network)
            closed = f", closed {service.closed}" if service is not None and service.closed else ""
            evidence.append(f"{cat.name(link.network)}{closed}: {link.url}")
        for widget in dead_widgets:
            service = cat.dead.get(widget.provider)
            closed = f", closed {service.closed}" if service is not None and service.closed else ""
            evidence.append(f"{cat.name(widget.provider)} widget{closed}: {widget.evidence}")
        names = _names(dict.fromkeys([*(p.network for p in dead_links), *(w.provider for w in dead_widgets)]))
        return failed(f"the page links to or embeds services that no longer exist ({names})", *evidence)
    if ctx.facts.profile_links or ctx.facts.social_widgets:
        return passed("no links to dead networks or retired widgets")
    return None


@page_rule(
    id="profile-link-safe", title="Profile links are named and open safely", category="profiles",
    severity="warning", weight=1,
    options={"require_new_tab": Option(False, "Also ask profile links to open in a new tab (target=\"_blank\").")},
)
def profile_link_safe(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Every profile link has an accessible name (text, `aria-label`, or an image `alt`), and a link
    that opens a new tab (`target="_blank"`) carries `rel="noopener"` or `rel="noreferrer"`.
    With `require_new_tab`, profile links must also open in a new tab.

    ## Why it matters
    Profile links are usually bare icons: without a name a screen reader announces "link" and
    nothing else, and voice-control users cannot say which one to follow. A new tab without
    `noopener` lets the social site's page script the tab that opened it in older browsers
    (reverse tabnabbing).

    ## Failing example
    ```html
    <a href="https://www.instagram.com/acme/" target="_blank"><svg>…</svg></a>
    ```

    ## Passing example
    ```html
    <a href="https://www.instagram.com/acme/" target="_blank" rel="noopener" aria-label="ACME on Instagram"><svg aria-hidden="true">…</svg></a>
    ```

    ## How to fix
    Give icon links an `aria-label` ("ACME on Instagram") or visually hidden text, and add
    `rel="noopener"` wherever `target="_blank"` is used.

    ## Options
    `require_new_tab` (default false): many accessibility guides advise against forcing new tabs,
    so it is a house-style choice.

    ## References
    - https://www.w3.org/WAI/WCAG22/Understanding/link-purpose-in-context.html
    - https://developer.mozilla.org/en-US/docs/Web/HTML/Attributes/rel/noopener
    """
    links = [p for p in ctx.facts.profile_links if p.location != "head"]
    if not links:
        return None
    unnamed = [p for p in links if not p.label.strip()]
    if unnamed:
        return failed(
            f"{len(unnamed)} profile link(s) have no accessible name: screen readers announce only \"link\"",
            *(f"{p.selector or p.url} → {p.url}" for p in unnamed),
        )
    unsafe = [p for p in links if p.target == "_blank" and not {"noopener", "noreferrer"} & set(p.rel)]
    if unsafe:
        return warned(
            f"{len(unsafe)} profile link(s) open a new tab without rel=\"noopener\"",
            *(f'<a href="{p.url}" target="_blank" rel="{" ".join(p.rel)}">' for p in unsafe),
        )
    if ctx.options.get("require_new_tab"):
        same_tab = [p for p in links if p.target != "_blank"]
        if same_tab:
            return warned(f"{len(same_tab)} profile link(s) do not open in a new tab",
                          *(p.url for p in same_tab))
    return passed(f"{len(links)} profile link(s) are named and open safely")


# -- optional verification ---------------------------------------------------------------------


def _login_wall(resource: Resource) -> bool:
    if not resource.redirects or resource.final_url == resource.url:
        return False
    found = classify_url(resource.final_url)
    if found is not None and found.kind == "login":
        return True
    return is_account_url(resource.final_url)


def _verdict(url: str, resource: Resource) -> Outcome:
    status = resource.status
    if status in (404, 410):
        return warned(
            f"could not verify {url}: it answers HTTP {status} (the profile may be gone or renamed; "
            "networks also answer bots this way)", url,
        )
    if resource.ok and _login_wall(resource):
        return skipped(f"could not verify {url}: the network redirects to a login page", url, resource.final_url)
    if resource.ok or (resource.error_kind == "too-large" and status is not None and 200 <= status < 300):
        return passed(f"{url} answers HTTP {status}", url)
    reason = resource.error or f"HTTP {status}"
    return skipped(f"could not verify {url}: {reason} (social networks often refuse bots)", url)


@site_rule(
    id="profile-verify", title="Profile URLs answer", category="profiles", severity="warning", weight=1,
    options={"max_profiles": Option(20, "Profile URLs requested at most (one request each).")},
)
async def profile_verify(ctx: SiteContext) -> Sequence[Outcome] | Outcome | None:
    """
    ## What it checks
    Only with `--check-profiles`: each brand profile URL is requested once. A 404 or 410 is
    reported as "could not verify" (a warning, not a failure); a redirect to a login page, a block
    or a timeout is a skip. Without the flag the rule is skipped.

    ## Why it matters
    A renamed handle or a deleted page leaves every footer on the site pointing at "This page isn't
    available". Social networks answer bots unreliably (login walls, 999, 429), so the result is a
    hint to check by hand, never a hard failure.

    ## Failing example
    ```html
    <a href="https://www.instagram.com/acme_2019/">Instagram</a>  <!-- handle renamed: 404 -->
    ```

    ## Passing example
    ```html
    <a href="https://www.instagram.com/acme/">Instagram</a>
    ```

    ## How to fix
    Open the reported URLs in a browser; update links to renamed profiles and remove deleted ones.

    ## Options
    `max_profiles` bounds the number of requests.

    ## References
    - https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/404
    """
    if not ctx.settings.check_profiles:
        return skipped("profile URLs are requested only with --check-profiles (social networks block bots)")
    urls = [p.urls[0] for p in brand_profiles(ctx).values() if not p.dead]
    if not urls:
        return None
    urls = urls[: int(ctx.options.get("max_profiles", 20))]
    resources = await asyncio.gather(*(ctx.resources.fetch(u, max_bytes=PROFILE_MAX_BYTES) for u in urls))
    return [_verdict(url, resource) for url, resource in zip(urls, resources, strict=True)]
