"""Social sign-in facts: one login page per provider family over real HTTP, account pages and the
account links the crawler will audit."""

from __future__ import annotations

import pytest

from smo_audit.catalogue import section
from smo_audit.extract.dom import parse_document
from smo_audit.extract.facts import PageFacts
from smo_audit.extract.sign_in import SignInClassifier, catalogue, is_account_url
from tests.extract.social_http import FIXTURES, extract, rules_site  # noqa: F401 -- rules_site is a fixture

# page -> the (provider, mechanism, via) facts it must produce, exactly
EXPECTED: dict[str, set[tuple[str, str, str | None]]] = {
    "gis.html": {("google", "sdk", None)},
    "facebook-sdk.html": {("facebook", "sdk", None)},
    "facebook-comments-only.html": set(),  # the SDK alone, for comments, is no sign-in
    "apple.html": {("apple", "sdk", None)},
    "sdk-insecure.html": {("apple", "sdk", None), ("google", "sdk", None)},
    "oauth-links.html": {(p, "oauth-link", None) for p in
                         ("github", "google", "microsoft", "linkedin", "x", "discord", "facebook", "apple")},
    "firebase-ui.html": {("google", "hosted-ui", "firebase"), ("github", "hosted-ui", "firebase")},
    "clerk.html": {("google", "hosted-ui", "clerk"), ("apple", "hosted-ui", "clerk")},
    "auth0.html": {("google", "oauth-link", "auth0"), ("microsoft", "oauth-link", "auth0")},
    "cognito.html": {("google", "oauth-link", "cognito"), ("apple", "oauth-link", "cognito")},
    "okta.html": {("unknown", "hosted-ui", "okta")},
    # <button id="github-login">: a control marked for GitHub on a login page
    "supabase.html": {("github", "hosted-ui", "supabase"), ("github", "control", None)},
    "site-routes.html": {("google", "oauth-link", "site"), ("apple", "oauth-link", "site"),
                         ("github", "oauth-link", "site"), ("github", "button-text", None)},
    "button-text.html": {("google", "button-text", None), ("apple", "button-text", None),
                         ("microsoft", "button-text", None)},
    "google-plus.html": {("google-plus", "sdk", None), ("google-plus", "button-text", None)},  # flagged dead
    "login-no-social.html": set(),
    "no-accounts.html": set(),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_sign_in_facts_per_provider_family(name: str, rules_site: str) -> None:  # noqa: F811
    page = await extract(rules_site, f"sign_in/{name}")
    assert {(s.provider, s.mechanism, s.via) for s in page.facts.sign_in} == EXPECTED[name]


async def test_sdk_evidence_is_the_script_and_buttons_carry_labels(rules_site: str) -> None:  # noqa: F811
    gis = await extract(rules_site, "sign_in/gis.html")
    (google,) = gis.facts.sign_in
    assert (google.evidence, google.url, google.label) == (
        "https://accounts.google.com/gsi/client", "https://accounts.google.com/gsi/client", None)
    insecure = await extract(rules_site, "sign_in/sdk-insecure.html")
    apple = next(s for s in insecure.facts.sign_in if s.provider == "apple")
    assert apple.evidence == "/js/vendor/appleid.auth.js" and apple.url == rules_site + "js/vendor/appleid.auth.js"
    clerk = await extract(rules_site, "sign_in/clerk.html")
    labels = {s.provider: s.label for s in clerk.facts.sign_in}
    assert labels == {"google": "Continue with Google", "apple": ""}


async def test_oauth_link_keeps_the_full_authorize_url(rules_site: str) -> None:  # noqa: F811
    page = await extract(rules_site, "sign_in/oauth-links.html")
    github = next(s for s in page.facts.sign_in if s.provider == "github")
    assert github.url == ("https://github.com/login/oauth/authorize?client_id=abc"
                          "&redirect_uri=https%3A%2F%2Fexample.com%2Fauth%2Fcallback&scope=read:user")
    assert github.label == "Sign in with GitHub"


async def test_login_page_is_an_account_page_and_lists_its_sign_up_link(rules_site: str) -> None:  # noqa: F811
    page = await extract(rules_site, "sign_in/login-no-social.html")
    assert page.facts.has_password_form and page.facts.is_account_page
    assert page.facts.account_links == (rules_site + "signup",)
    assert page.links.extra == page.facts.account_links


async def test_account_links_skip_logout_oauth_and_other_sites(rules_site: str) -> None:  # noqa: F811
    page = await extract(rules_site, "sign_in/account-links.html")
    assert page.links.extra == (rules_site + "login", rules_site + "users/sign_up", rules_site + "my/orders")


async def test_a_brochure_page_is_no_account_page(rules_site: str) -> None:  # noqa: F811
    page = await extract(rules_site, "profiles/none.html")
    assert not page.facts.is_account_page and page.facts.account_links == () and page.links.extra == ()


def test_account_links_include_the_auth_host_of_the_same_site() -> None:
    doc = parse_document(
        '<a href="https://auth.example.com/">Log in</a> <a href="https://accounts.example.com/u/settings">x</a>'
        '<a href="https://login.other.example.net/">Log in</a> <a href="https://shop.example.com/cart">Cart</a>'
        '<a href="https://www.example.com/register">Register</a> <a href="https://auth.example.com/logout">Log out</a>',
        "https://www.example.com/",
    )
    updates = SignInClassifier().classify(doc, PageFacts())
    assert updates["account_links"] == ("https://auth.example.com/", "https://accounts.example.com/u/settings",
                                        "https://www.example.com/register")
    assert "is_account_page" not in updates


def test_account_links_are_bounded() -> None:
    links = "".join(f'<a href="/login?next=/p{i}">Log in</a>' for i in range(20))
    updates = SignInClassifier().classify(parse_document(links, "https://example.com/"), PageFacts())
    assert len(updates["account_links"]) == catalogue().max_account_links == 4


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.com/login", True),
    ("https://example.com/users/sign_in", True),
    ("https://example.com/wp-login.php", True),
    ("https://example.com/account/orders", True),
    ("https://auth.example.com/", True),
    ("https://example.com/signup.html", True),
    ("https://example.com/logout", False),
    ("https://example.com/password/reset", False),
    ("https://example.com/blog/how-to-login-faster-tips", False),
    ("https://example.com/", False),
])
def test_is_account_url(url: str, expected: bool) -> None:
    assert is_account_url(url) is expected


def test_button_text_needs_a_whole_provider_name() -> None:
    doc = parse_document(
        "<button>Sign in with Xbox</button><button>Continue with X</button><button>Mit Google anmelden</button>"
        "<button>Sign in with your email</button><a href='#'>Iniciar sesión con Facebook</a>",
        "https://example.com/",
    )
    found = SignInClassifier().classify(doc, PageFacts())["sign_in"]
    assert sorted(s.provider for s in found) == ["facebook", "google", "x"]


@pytest.mark.parametrize(("label", "provider"), [
    ("Fazer login com o Google", "google"),
    ("Continuar com a Apple", "apple"),
    ("Entrar com sua conta do Google", "google"),
    ("Sign in with your Google account", "google"),
    ("S\u2019inscrire avec Google", "google"),
    ("S'identifier avec Apple", "apple"),
    ("Iniciar sesión con tu cuenta de Google", "google"),
    ("Accedi con il tuo account Google", "google"),
    ("Über Google anmelden", "google"),
    ("Mit deinem Google-Konto anmelden", "google"),
    # an article or possessive still needs the provider to end the label: these name products
    ("Continuar com o Google Pay", None),
    ("Sign in with your Microsoft Teams account", None),
    ("Accedi con il tuo account Google Play", None),
    ("Über Google Maps anmelden", None),
    ("Sign in with the Apple TV app", None),
])
def test_button_text_allows_an_article_or_possessive(label: str, provider: str | None) -> None:
    assert SignInClassifier()._text_provider(label) == provider


def test_every_catalogue_entry_has_a_fixture() -> None:
    """Each provider and hosted UI in sign_in.toml is named in some fixture page (see EXPECTED)."""
    seen = {p for facts in EXPECTED.values() for p, _, _ in facts} | {v for facts in EXPECTED.values() for _, _, v in facts}
    data = section("sign_in")
    tested_elsewhere = {"amazon", "gitlab", "slack", "yahoo", "twitch", "vk", "yandex", "ok", "line",
                        "yahoo-japan"}  # authorize endpoints: see below
    assert set(data["provider"]) - seen == tested_elsewhere
    assert set(data["hosted"]) - seen == set()
    assert set(EXPECTED) <= {p.name for p in (FIXTURES / "sign_in").glob("*.html")}


@pytest.mark.parametrize(("url", "provider"), [
    ("https://www.amazon.com/ap/oa?client_id=amzn1&redirect_uri=https://example.com/cb", "amazon"),
    ("https://gitlab.com/oauth/authorize?client_id=1&redirect_uri=https://example.com/cb", "gitlab"),
    ("https://slack.com/openid/connect/authorize?client_id=1&redirect_uri=https://example.com/cb", "slack"),
    ("https://api.login.yahoo.com/oauth2/request_auth?client_id=1", "yahoo"),
    ("https://id.twitch.tv/oauth2/authorize?client_id=1", "twitch"),
    ("https://oauth.vk.com/authorize?client_id=1&redirect_uri=https://example.com/cb", "vk"),
    ("https://oauth.yandex.ru/authorize?response_type=code&client_id=1", "yandex"),
    ("https://connect.ok.ru/oauth/authorize?client_id=1", "ok"),
    ("https://access.line.me/oauth2/v2.1/authorize?response_type=code&client_id=1", "line"),
    ("https://auth.login.yahoo.co.jp/yconnect/v2/authorization?client_id=1", "yahoo-japan"),
])
def test_remaining_authorize_endpoints(url: str, provider: str) -> None:
    doc = parse_document(f'<a href="{url}">Sign in</a>', "https://example.com/login")
    (found,) = SignInClassifier().classify(doc, PageFacts())["sign_in"]
    assert (found.provider, found.mechanism) == (provider, "oauth-link")


async def test_oauth_links_are_not_crawled(rules_site: str) -> None:  # noqa: F811
    page = await extract(rules_site, "sign_in/site-routes.html")
    assert rules_site + "auth/google" not in page.links.links
    assert rules_site + "accounts/apple/login/?process=login" not in page.links.links
    oauth = await extract(rules_site, "sign_in/oauth-links.html")
    assert not [link for link in oauth.links.links if "authorize" in link or "oauth" in link]
