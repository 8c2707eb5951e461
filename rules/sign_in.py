"""Social sign-in: can people join with an account they already have, and is it wired safely?

Facts come from smo_audit/extract/sign_in.py (pages[].facts.sign_in[], has_password_form,
is_account_page). Sites without accounts are not judged: "not applicable" is a skip, never a fail.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qsl

from smo_audit.engine.api import (
    Outcome,
    PageContext,
    SiteContext,
    failed,
    page_rule,
    passed,
    site_rule,
    skipped,
    warned,
)
from smo_audit.extract.facts import SignIn
from smo_audit.extract.sign_in import UNKNOWN, catalogue
from smo_audit.extract.urlmatch import normalise_host, site_key, split_url

REDIRECT_PARAMS = ("redirect_uri", "redirect_url")


def _provider_names(providers: list[str]) -> str:
    cat = catalogue()
    return ", ".join(cat.providers[p].name if p in cat.providers else p for p in providers)


@site_rule(id="sign-in-offered", title="Social sign-in offered", category="sign-in", severity="warning", weight=3)
def sign_in_offered(ctx: SiteContext) -> Outcome:
    """
    ## What it checks
    A site with a login or sign-up form (a password field) also lets people sign in with a social
    account: a provider SDK, an OAuth link, a hosted sign-in UI or a "Continue with ..." button on
    any audited page. Any clickable control counts (a link with or without `href`, a button, a
    `role="button"` element), named by its text, `aria-label`, `title` or image `alt`, in English,
    Spanish, Portuguese, French, German, Italian, Russian or Japanese, or marked for a provider
    (`js-google-signin`) on a login page. A shut-down provider ("Sign in using Google+") does not
    count. Sites with no accounts are skipped. Login pages the site links to are
    audited even on another host of the same site (auth.example.com).

    ## Why it matters
    Every field and every new password is a reason to give up on joining; one tap on "Continue
    with Google" or "Sign in with Apple" removes both and brings a verified e-mail address.

    ## Failing example
    ```html
    <form action="/login" method="post">
      <input name="email" type="email"> <input name="password" type="password"> <button>Log in</button>
    </form>
    ```

    ## Passing example
    ```html
    <form action="/login" method="post">…</form>
    <a href="/auth/google">Continue with Google</a>
    ```

    ## How to fix
    Add at least one identity provider your audience already uses (Google, Apple, Microsoft,
    GitHub for developers) through its official SDK or an OAuth flow, next to the password form.

    ## References
    - https://developers.google.com/identity/gsi/web/guides/overview
    - https://developer.apple.com/sign-in-with-apple/
    - https://www.nngroup.com/articles/login-walls/
    """
    every = [(r, s) for r in ctx.pages for s in r.facts.sign_in]
    sign_ins = [(r, s) for r, s in every if not s.dead]  # a shut-down provider signs nobody in
    known = [(r, s) for r, s in sign_ins if s.provider != UNKNOWN]
    if known:
        providers = list(dict.fromkeys(s.provider for _, s in known))
        pages = list(dict.fromkeys(r.url for r, _ in known))
        evidence = [f"{s.provider} ({s.mechanism}): {s.evidence[:200]} on {r.url}" for r, s in known[:10]]
        return passed(f"social sign-in with {_provider_names(providers)} on {len(pages)} page(s)", *evidence)
    forms = [r for r in ctx.pages if r.facts.has_password_form]
    dead = [(r, s) for r, s in every if s.dead]
    if dead:
        return warned(f"social sign-in is offered only through shut-down provider(s) "
                      f"({_provider_names(list(dict.fromkeys(s.provider for _, s in dead)))}): "
                      "nobody can sign in with a social account",
                      *(f"{s.provider}: {s.evidence[:200]} on {r.url}" for r, s in dead[:10]))
    if sign_ins:
        hosted = list(dict.fromkeys(s.via or "?" for _, s in sign_ins))
        names = ", ".join(catalogue().hosted[h].name if h in catalogue().hosted else h for h in hosted)
        if ctx.settings.mode != "rendered":
            return skipped(f"a hosted sign-in UI ({names}) is loaded, but which providers it offers shows only "
                           "after JavaScript runs: run with --render", *(r.url for r, _ in sign_ins[:5]))
        if not forms:
            return skipped(f"a hosted sign-in UI ({names}) is loaded but shows no social provider")
    if not forms:
        return skipped("no page has a login or sign-up form: social sign-in does not apply")
    note = "" if ctx.settings.mode == "rendered" else " (static HTML: buttons added by JavaScript show with --render)"
    return warned(
        f"{len(forms)} page(s) have a login or sign-up form but no social sign-in{note}",
        *(r.url for r in forms[:10]),
    )


@page_rule(id="sign-in-sdk-https", title="Sign-in SDK from the provider over HTTPS", category="sign-in",
           severity="error", weight=2)
def sign_in_sdk_https(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Each social sign-in SDK (Google Identity Services, Facebook SDK, Sign in with Apple JS, MSAL)
    is loaded over HTTPS from the provider's official host, not over HTTP, protocol-relative or
    from a self-hosted copy.

    ## Why it matters
    The sign-in script handles tokens. Over HTTP anyone on the network can replace it; a copy on
    your own server stops getting the provider's security fixes and breaks when the provider
    changes its API, and providers such as Apple ask that the script be loaded from their CDN.

    ## Failing example
    ```html
    <script src="/js/vendor/appleid.auth.js"></script>
    <script src="//appleid.cdn-apple.com/appleauth/static/jsapi/appleid/1/en_US/appleid.auth.js"></script>
    ```

    ## Passing example
    ```html
    <script src="https://accounts.google.com/gsi/client" async></script>
    ```

    ## How to fix
    Load the SDK from the URL in the provider's documentation, with `https://` written out.

    ## References
    - https://developers.google.com/identity/gsi/web/guides/client-library
    - https://developer.apple.com/documentation/sign_in_with_apple/sign_in_with_apple_js/configuring_your_webpage_for_sign_in_with_apple
    """
    sdks = [s for s in ctx.facts.sign_in if s.mechanism == "sdk" and s.url]
    if not sdks:
        return None
    cat = catalogue()
    problems: list[str] = []
    for sdk in sdks:
        assert sdk.url is not None
        parts = split_url(sdk.url)
        host = normalise_host(parts.hostname or "")
        provider = cat.providers.get(sdk.provider)
        name = provider.name if provider is not None else sdk.provider
        if provider is not None and provider.official_hosts and host not in provider.official_hosts:
            problems.append(f"{name} SDK loaded from {host}, not {', '.join(sorted(provider.official_hosts))}: {sdk.evidence}")
        elif parts.scheme != "https":
            how = "protocol-relative (HTTP on http:// pages)" if sdk.evidence.startswith("//") else "over HTTP"
            problems.append(f"{name} SDK loaded {how}: {sdk.evidence}")
    if problems:
        return failed(f"{len(problems)} sign-in SDK(s) are not loaded over HTTPS from the provider", *problems)
    return passed("sign-in SDKs load over HTTPS from the provider", *(s.evidence for s in sdks))


def _is_local(host: str) -> bool:
    if host in ("localhost",) or host.endswith((".localhost", ".local", ".test")):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def _own_sites(ctx: PageContext) -> set[str]:
    hosts = [split_url(ctx.final_url).hostname, split_url(ctx.url).hostname]
    if ctx.settings.base_url:
        hosts.append(split_url(ctx.settings.base_url).hostname)
    return {site_key(h) for h in hosts if h}


def _redirect_problem(link: SignIn, own: set[str], page_local: bool) -> tuple[str, str] | None:
    """("fail"|"warn", sentence) for an OAuth link's redirect_uri, None when it is fine."""
    assert link.url is not None
    params = dict(parse_qsl(split_url(link.url).query))
    redirect = next((params[p] for p in REDIRECT_PARAMS if params.get(p)), None)
    if redirect is None:
        return "warn", f"no redirect_uri (the provider falls back to a registered default): {link.evidence[:200]}"
    parts = split_url(redirect)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return "fail", f"redirect_uri is not an absolute URL ({redirect[:120]}): {link.evidence[:200]}"
    if _is_local(host) and not page_local:
        return "fail", f"redirect_uri points at a development host ({host}): {link.evidence[:200]}"
    if site_key(host) not in own:
        return "fail", f"redirect_uri sends the sign-in to another domain ({host}): {link.evidence[:200]}"
    if parts.scheme != "https" and not _is_local(host):
        return "warn", f"redirect_uri uses plain HTTP: {link.evidence[:200]}"
    return None


@page_rule(id="sign-in-redirect-uri", title="OAuth links return to the site", category="sign-in",
           severity="error", weight=2)
def sign_in_redirect_uri(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Every sign-in link to a provider's or a broker's OAuth endpoint (Google, GitHub, Microsoft,
    Auth0, Cognito, ...) carries a `redirect_uri` on the site's own domain (or the `--base-url`
    domain), over HTTPS, and not on a development host. The site's own /auth/<provider> routes
    build the redirect on the server and are not checked.

    ## Why it matters
    After sign-in the provider sends the person, with an authorisation code, to `redirect_uri`.
    A staging or localhost value left in production breaks sign-in for everyone; a foreign domain
    hands the code to somebody else.

    ## Failing example
    ```html
    <a href="https://github.com/login/oauth/authorize?client_id=abc&redirect_uri=http://localhost:3000/cb">GitHub</a>
    ```

    ## Passing example
    ```html
    <a href="https://github.com/login/oauth/authorize?client_id=abc&redirect_uri=https://example.com/auth/github/callback">Sign in with GitHub</a>
    ```

    ## How to fix
    Build authorize links from configuration per environment, with `redirect_uri` set to the
    production callback, and register exactly that URL with the provider.

    ## References
    - https://www.rfc-editor.org/rfc/rfc6749#section-3.1.2
    - https://www.rfc-editor.org/rfc/rfc9700
    """
    links = [s for s in ctx.facts.sign_in if s.mechanism == "oauth-link" and s.via != "site" and s.url]
    if not links:
        return None
    own = _own_sites(ctx)
    # A local build served on loopback is "local" only when no production --base-url says otherwise.
    production = split_url(ctx.settings.base_url or ctx.final_url).hostname or ""
    page_local = _is_local(production.lower())
    problems = [p for p in (_redirect_problem(link, own, page_local) for link in links) if p is not None]
    fails = [text for level, text in problems if level == "fail"]
    if fails:
        return failed(f"{len(fails)} OAuth sign-in link(s) would send people away from the site after sign-in",
                      *fails, *(text for level, text in problems if level == "warn"))
    if problems:
        return warned(f"{len(problems)} OAuth sign-in link(s) have a weak redirect_uri", *(t for _, t in problems))
    return passed(f"{len(links)} OAuth sign-in link(s) return to the site", *(s.evidence[:200] for s in links))


@page_rule(id="sign-in-accessible-name", title="Sign-in buttons are named", category="sign-in",
           severity="warning", weight=1)
def sign_in_accessible_name(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Every social sign-in button or link on the page has an accessible name, and that name says
    which provider it is ("Sign in with GitHub", not just a GitHub logo or "Sign in").

    ## Why it matters
    Sign-in buttons are often bare logos. A screen reader then announces "button", and a person
    choosing between Google, Apple and Microsoft cannot tell them apart; voice-control users have
    nothing to say to press it.

    ## Failing example
    ```html
    <a href="https://github.com/login/oauth/authorize?client_id=abc"><svg>…</svg></a>
    ```

    ## Passing example
    ```html
    <a href="https://github.com/login/oauth/authorize?client_id=abc" aria-label="Sign in with GitHub"><svg aria-hidden="true">…</svg></a>
    ```

    ## How to fix
    Give each button visible text or an `aria-label` naming the provider: "Sign in with Apple",
    "Continue with Google".

    ## References
    - https://www.w3.org/WAI/WCAG22/Understanding/name-role-value.html
    - https://developer.apple.com/design/human-interface-guidelines/sign-in-with-apple
    """
    controls = [s for s in ctx.facts.sign_in if s.label is not None and s.provider != UNKNOWN]
    if not controls:
        return None
    unnamed = [s for s in controls if not (s.label or "").strip()]
    if unnamed:
        return failed(f"{len(unnamed)} sign-in control(s) have no accessible name",
                      *(f"{s.selector or s.evidence[:200]} ({s.provider})" for s in unnamed))
    cat = catalogue()
    vague = []
    for control in controls:
        named = cat.provider_names.findall(control.label or "") if cat.provider_names is not None else []
        if control.provider not in {cat.name_to_provider.get(n.lower()) for n in named}:
            vague.append(f'{control.selector or control.evidence[:200]}: "{control.label}" ({control.provider})')
    if vague:
        return warned(f"{len(vague)} sign-in control(s) do not say which provider they use", *vague)
    return passed(f"{len(controls)} sign-in control(s) are named after their provider",
                  *(f'"{s.label}"' for s in controls[:10]))


@page_rule(id="sign-in-dead-provider", title="No sign-in through a shut-down provider", category="sign-in",
           severity="error", weight=2)
def sign_in_dead_provider(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    No sign-in button, link or SDK on the page belongs to a provider that no longer exists, such
    as "Sign in with Google+" (Google shut Google+ down in April 2019; see the dead-services
    catalogue). Pages without social sign-in are not judged.

    ## Why it matters
    A button for a shut-down provider fails every time someone presses it, right at the moment
    they decided to join, and tells every visitor that the page has not been looked after.
    Such a button never counts as working social sign-in.

    ## Failing example
    ```html
    <a href="/auth/google" class="btn-gplus">Sign in using Google+</a>
    ```

    ## Passing example
    ```html
    <a href="/auth/google">Continue with Google</a>
    ```

    ## How to fix
    Remove the dead provider's button and script; offer the provider's current sign-in instead
    (Google Identity Services for Google+).

    ## References
    - https://developers.google.com/identity/gsi/web/guides/migration
    - https://support.google.com/plus/answer/9195133
    """
    sign_ins = ctx.facts.sign_in
    if not sign_ins:
        return None
    dead = [s for s in sign_ins if s.dead]
    if dead:
        names = _provider_names(list(dict.fromkeys(s.provider for s in dead)))
        return failed(f"{len(dead)} sign-in control(s) use a shut-down provider ({names}): they cannot sign anyone in",
                      *(f"{s.selector or s.evidence[:200]} ({s.provider}, {s.mechanism})" for s in dead))
    return passed(f"every sign-in provider on the page is live ({_provider_names(list(dict.fromkeys(s.provider for s in sign_ins)))})")
