"""Profile links: the pure URL classifier (a labelled table) and extraction over real HTTP."""

from __future__ import annotations

import pytest

from smo_audit.catalogue import section
from smo_audit.extract.profiles import KINDS, build_catalogue, catalogue, classify_url, profile_key
from tests.extract.social_http import FIXTURES, extract, rules_site  # noqa: F401 -- rules_site is a fixture

FIXTURE_NETWORKS = FIXTURES / "profiles" / "networks.html"

# (url, kind, network, handle). handle "" = not checked (not a profile).
LABELLED: list[tuple[str, str, str, str]] = [
    # facebook
    ("https://www.facebook.com/acme", "profile", "facebook", "acme"),
    ("https://m.facebook.com/Acme/", "profile", "facebook", "acme"),
    ("https://web.facebook.com/acme?ref=page_internal", "profile", "facebook", "acme"),
    ("https://www.facebook.com/profile.php?id=100064123456789", "profile", "facebook", "100064123456789"),
    ("https://www.facebook.com/pages/Acme-Inc/123456789", "profile", "facebook", "123456789"),
    ("https://www.facebook.com/acme/about", "profile", "facebook", "acme"),
    ("https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fexample.com", "share", "facebook", ""),
    ("https://www.facebook.com/sharer.php?u=https://example.com", "share", "facebook", ""),
    ("https://www.facebook.com/share.php?u=https://example.com", "share", "facebook", ""),
    ("https://www.facebook.com/dialog/share?app_id=1&href=https://example.com", "share", "facebook", ""),
    ("https://www.facebook.com/dialog/feed?app_id=1&link=https://example.com", "share", "facebook", ""),
    ("https://www.facebook.com/v19.0/dialog/oauth?client_id=1", "login", "facebook", ""),
    ("https://www.facebook.com/login.php", "login", "facebook", ""),
    ("https://www.facebook.com/acme/posts/pfbid02abc", "post", "facebook", ""),
    ("https://www.facebook.com/watch/?v=123", "video", "facebook", ""),
    ("https://www.facebook.com/groups/acmefans/", "group", "facebook", ""),
    ("https://www.facebook.com/hashtag/acme", "hashtag", "facebook", ""),
    ("https://www.facebook.com/plugins/page.php?href=x", "other", "facebook", ""),
    ("https://www.facebook.com/events/123/", "other", "facebook", ""),
    ("https://www.facebook.com/tr?id=1&ev=PageView", "other", "facebook", ""),
    # x / twitter
    ("https://x.com/acme", "profile", "x", "acme"),
    ("https://twitter.com/ACME/", "profile", "x", "acme"),
    ("https://mobile.twitter.com/acme?lang=en", "profile", "x", "acme"),
    ("https://twitter.com/#!/acme", "profile", "x", "acme"),
    ("https://twitter.com/intent/follow?screen_name=Acme", "profile", "x", "acme"),
    ("https://twitter.com/intent/tweet?url=https%3A%2F%2Fexample.com", "share", "x", ""),
    ("https://x.com/intent/post?url=https://example.com", "share", "x", ""),
    ("https://twitter.com/share?url=https://example.com", "share", "x", ""),
    ("https://x.com/acme/status/1790000000000000000", "post", "x", ""),
    ("https://twitter.com/hashtag/acme", "hashtag", "x", ""),
    ("https://x.com/i/flow/login", "login", "x", ""),
    ("https://x.com/login", "login", "x", ""),
    ("https://twitter.com/search?q=acme", "other", "x", ""),
    ("https://twitter.com/home", "other", "x", ""),
    ("https://twitter.com/this_handle_is_far_too_long", "other", "x", ""),
    # instagram
    ("https://www.instagram.com/acme/", "profile", "instagram", "acme"),
    ("https://instagram.com/Acme.Inc?igshid=abc", "profile", "instagram", "acme.inc"),
    ("https://www.instagram.com/acme/reels/", "profile", "instagram", "acme"),
    ("https://www.instagram.com/p/C0dEx1/", "post", "instagram", ""),
    ("https://www.instagram.com/reel/C0dEx1/", "video", "instagram", ""),
    ("https://www.instagram.com/explore/tags/acme/", "hashtag", "instagram", ""),
    ("https://www.instagram.com/accounts/login/", "login", "instagram", ""),
    ("https://www.instagram.com/stories/acme/123/", "post", "instagram", ""),
    # linkedin
    ("https://www.linkedin.com/company/acme/", "profile", "linkedin", "company/acme"),
    ("https://uk.linkedin.com/in/jane-doe-123", "profile", "linkedin", "in/jane-doe-123"),
    ("https://www.linkedin.com/school/acme-university/", "profile", "linkedin", "school/acme-university"),
    ("https://www.linkedin.com/company/acme/posts/?feedView=all", "profile", "linkedin", "company/acme"),
    ("https://www.linkedin.com/sharing/share-offsite/?url=https://example.com", "share", "linkedin", ""),
    ("https://www.linkedin.com/shareArticle?mini=true&url=https://example.com", "share", "linkedin", ""),
    ("https://www.linkedin.com/posts/acme_launch-activity-1", "post", "linkedin", ""),
    ("https://www.linkedin.com/pulse/ten-jackets-jane-doe", "post", "linkedin", ""),
    ("https://www.linkedin.com/feed/hashtag/acme/", "hashtag", "linkedin", ""),
    ("https://www.linkedin.com/login", "login", "linkedin", ""),
    ("https://www.linkedin.com/jobs/view/123", "other", "linkedin", ""),
    ("https://www.linkedin.com/groups/12345/", "group", "linkedin", ""),
    # youtube
    ("https://www.youtube.com/@Acme", "profile", "youtube", "acme"),
    ("https://m.youtube.com/@acme/videos", "profile", "youtube", "acme"),
    ("https://www.youtube.com/channel/UCabcDEFghiJKL", "profile", "youtube", "channel/UCabcDEFghiJKL"),
    ("https://www.youtube.com/c/AcmeTV", "profile", "youtube", "acmetv"),
    ("https://www.youtube.com/user/acmetv", "profile", "youtube", "acmetv"),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "video", "youtube", ""),
    ("https://www.youtube.com/embed/dQw4w9WgXcQ", "video", "youtube", ""),
    ("https://www.youtube.com/shorts/abc123", "video", "youtube", ""),
    ("https://youtu.be/dQw4w9WgXcQ", "video", "youtube", ""),
    ("https://www.youtube.com/playlist?list=PL123", "post", "youtube", ""),
    ("https://www.youtube.com/results?search_query=acme", "other", "youtube", ""),
    # tiktok
    ("https://www.tiktok.com/@acme", "profile", "tiktok", "acme"),
    ("https://www.tiktok.com/@acme/video/7300000000000000000", "post", "tiktok", ""),
    ("https://www.tiktok.com/tag/jackets", "hashtag", "tiktok", ""),
    ("https://www.tiktok.com/discover/jackets", "other", "tiktok", ""),
    ("https://www.tiktok.com/login", "login", "tiktok", ""),
    # pinterest
    ("https://www.pinterest.com/acme/", "profile", "pinterest", "acme"),
    ("https://www.pinterest.co.uk/Acme/", "profile", "pinterest", "acme"),
    ("https://www.pinterest.com/pin/create/button/?url=https://example.com", "share", "pinterest", ""),
    ("https://www.pinterest.com/pin/123456/", "post", "pinterest", ""),
    ("https://www.pinterest.com/search/pins/?q=acme", "other", "pinterest", ""),
    # github
    ("https://github.com/acme", "profile", "github", "acme"),
    ("https://github.com/orgs/acme/people", "profile", "github", "acme"),
    ("https://github.com/acme/widgets", "other", "github", ""),
    ("https://github.com/orgs/acme/settings", "other", "github", ""),
    ("https://github.com/login", "login", "github", ""),
    ("https://github.com/login/oauth/authorize?client_id=1", "login", "github", ""),
    ("https://github.com/sponsors/acme", "other", "github", ""),
    # tumblr, threads, bluesky, mastodon
    ("https://acmeblog.tumblr.com/", "profile", "tumblr", "acmeblog"),
    ("https://acmeblog.tumblr.com/post/123/ten-jackets", "post", "tumblr", ""),
    ("https://www.tumblr.com/widgets/share/tool?canonicalUrl=https://example.com", "share", "tumblr", ""),
    ("https://www.threads.net/@acme", "profile", "threads", "acme"),
    ("https://www.threads.com/@acme/post/C1xyz", "post", "threads", ""),
    ("https://www.threads.net/intent/post?text=hi", "share", "threads", ""),
    ("https://bsky.app/profile/acme.bsky.social", "profile", "bluesky", "acme.bsky.social"),
    ("https://bsky.app/profile/acme.bsky.social/post/3kabc", "post", "bluesky", ""),
    ("https://bsky.app/intent/compose?text=hi", "share", "bluesky", ""),
    ("https://mastodon.social/@Acme", "profile", "mastodon", "acme@mastodon.social"),
    ("https://mastodon.social/@acme/111222333444", "post", "mastodon", ""),
    ("https://mastodon.social/share?text=hi", "share", "mastodon", ""),
    # telegram, discord, vimeo, reddit, others
    ("https://t.me/acme_news", "profile", "telegram", "acme_news"),
    ("https://t.me/s/acme_news", "profile", "telegram", "acme_news"),
    ("https://t.me/share/url?url=https://example.com", "share", "telegram", ""),
    ("https://t.me/+AbCdEf123", "group", "telegram", ""),
    ("https://t.me/acme_news/42", "post", "telegram", ""),
    ("https://discord.gg/AbCd123", "profile", "discord", "AbCd123"),
    ("https://discord.com/invite/AbCd123", "profile", "discord", "AbCd123"),
    ("https://discord.com/oauth2/authorize?client_id=1", "login", "discord", ""),
    ("https://vimeo.com/acmefilms", "profile", "vimeo", "acmefilms"),
    ("https://vimeo.com/123456789", "video", "vimeo", ""),
    ("https://www.reddit.com/r/acme/", "profile", "reddit", "r/acme"),
    ("https://www.reddit.com/user/acme_official", "profile", "reddit", "u/acme_official"),
    ("https://www.reddit.com/r/acme/comments/abc/ten_jackets/", "post", "reddit", ""),
    ("https://www.reddit.com/submit?url=https://example.com", "share", "reddit", ""),
    ("https://www.snapchat.com/add/acme", "profile", "snapchat", "acme"),
    ("https://medium.com/@acme", "profile", "medium", "acme"),
    ("https://medium.com/@acme/ten-jackets-1a2b3c", "post", "medium", ""),
    ("https://www.twitch.tv/acmelive", "profile", "twitch", "acmelive"),
    ("https://vk.com/acme_inc", "profile", "vk", "acme_inc"),
    ("https://vk.com/share.php?url=https://example.com", "share", "vk", ""),
    ("https://vk.com/wall-123_456", "post", "vk", ""),
    ("https://www.xing.com/pages/acme-inc", "profile", "xing", "pages/acme-inc"),
    ("https://www.xing.com/spi/shares/new?url=https://example.com", "share", "xing", ""),
    ("https://weibo.com/acmecn", "profile", "weibo", "acmecn"),
    # network home pages are not profiles
    ("https://www.facebook.com/", "other", "facebook", ""),
    ("https://www.instagram.com", "other", "instagram", ""),
]


@pytest.mark.parametrize(("url", "kind", "network", "handle"), LABELLED, ids=[row[0] for row in LABELLED])
def test_classify_labelled_url(url: str, kind: str, network: str, handle: str) -> None:
    found = classify_url(url)
    assert found is not None, url
    assert (found.network, found.kind) == (network, kind)
    if kind == "profile":
        assert found.handle == handle


def test_the_table_covers_every_label_and_every_network() -> None:
    assert len(LABELLED) >= 60
    assert {row[1] for row in LABELLED} == set(KINDS)
    assert {row[2] for row in LABELLED if row[1] == "profile"} == set(catalogue().networks)


@pytest.mark.parametrize("url", [
    "https://example.com/acme", "https://www.google.com/search?q=acme", "mailto:hello@example.com",
    "javascript:void(0)", "https://example.org/@acme", "not a url", "https://[::1/x",
])
def test_urls_off_social_networks_are_none(url: str) -> None:
    assert classify_url(url) is None


@pytest.mark.parametrize("spellings", [
    ["https://www.facebook.com/acme", "https://m.facebook.com/Acme/", "https://facebook.com/acme?ref=bookmarks",
     "http://mobile.facebook.com/acme"],
    ["https://x.com/acme", "https://twitter.com/ACME", "https://www.twitter.com/acme/", "https://x.com/@acme",
     "https://twitter.com/intent/user?screen_name=acme"],
    ["https://www.youtube.com/@acme", "https://m.youtube.com/@Acme/featured", "https://youtube.com/@acme?si=x"],
])
def test_spellings_of_one_profile_share_one_key(spellings: list[str]) -> None:
    keys = {profile_key(url) for url in spellings}
    assert len(keys) == 1 and None not in keys, keys


def test_mastodon_on_an_unknown_host_needs_rel_me_or_a_hint() -> None:
    url = "https://social.example.coop/@news"
    assert classify_url(url) is None
    assert classify_url(url, rel_me=True) == classify_url(url, hint=lambda: "Follow us on Mastodon")
    found = classify_url(url, rel_me=True)
    assert found is not None and (found.network, found.kind, found.handle) == ("mastodon", "profile", "news@social.example.coop")


def test_dead_networks_are_flagged() -> None:
    found = classify_url("https://plus.google.com/+AcmeInc/posts")
    assert found is not None and (found.network, found.dead, found.handle) == ("google-plus", True, "+acmeinc")
    assert catalogue().dead["google-plus"].closed == "2019-04-02"


def test_the_catalogue_rejects_an_unknown_reserved_kind() -> None:
    with pytest.raises(ValueError, match="unknown reserved kind 'shares'"):
        build_catalogue({"network": {"demo": {"hosts": ["demo.example"], "reserved": {"shares": ["x"]}}}}, {})


def test_every_network_in_the_catalogue_has_a_fixture_link() -> None:
    html = FIXTURE_NETWORKS.read_text("utf-8")
    for network_id, data in section("profiles")["network"].items():
        assert any(host in html for host in data["hosts"]), f"{network_id} has no link in {FIXTURE_NETWORKS.name}"


async def test_profile_links_extracted_over_http(rules_site: str) -> None:  # noqa: F811
    page = await extract(rules_site, "profiles/networks.html")
    links = {(p.network, p.handle): p for p in page.facts.profile_links}
    assert set(links) == {
        ("facebook", "acmeinc"), ("tiktok", "acme.official"), ("instagram", "acme.inc"), ("x", "acme"),
        ("linkedin", "company/acme-inc"), ("youtube", "acmetv"), ("pinterest", "acmeinc"), ("github", "acme-inc"),
        ("tumblr", "acmeblog"), ("threads", "acme.inc"), ("bluesky", "acme.bsky.social"),
        ("mastodon", "acme@mastodon.social"), ("telegram", "acme_news"), ("discord", "AbCd123"),
        ("vimeo", "acmefilms"), ("reddit", "r/acme"), ("snapchat", "acme.inc"), ("medium", "acme"),
        ("twitch", "acmelive"), ("vk", "acme_inc"), ("xing", "pages/acme-inc"), ("weibo", "acmecn"),
        ("mastodon", "acmehead@hachyderm.io"),
    }
    facebook = links[("facebook", "acmeinc")]
    assert (facebook.location, facebook.label, facebook.url) == ("nav", "ACME on Facebook", "https://www.facebook.com/AcmeInc/")
    assert links[("tiktok", "acme.official")].location == "body"
    assert links[("instagram", "acme.inc")].location == "footer"
    assert links[("github", "acme-inc")].rel_me and not links[("x", "acme")].rel_me
    head = links[("mastodon", "acmehead@hachyderm.io")]
    assert (head.location, head.rel_me) == ("head", True)
    assert all(p.network not in ("google-plus",) and not p.dead for p in page.facts.profile_links)


async def test_dead_network_links_are_kept_and_flagged(rules_site: str) -> None:  # noqa: F811
    page = await extract(rules_site, "profiles/dead.html")
    dead = sorted((p.network, p.url) for p in page.facts.profile_links if p.dead)
    assert dead == [("google-plus", "https://plus.google.com/+AcmeInc"), ("vine", "https://vine.co/acme")]
    widgets = [(w.provider, w.dead, w.has_script, w.has_container) for w in page.facts.social_widgets]
    assert widgets == [("google-plus", True, True, True)]


async def test_icon_link_without_name_is_recorded_with_empty_label(rules_site: str) -> None:  # noqa: F811
    page = await extract(rules_site, "profiles/unsafe.html")
    instagram = next(p for p in page.facts.profile_links if p.network == "instagram")
    assert (instagram.label, instagram.target, instagram.rel, instagram.selector) == ("", "_blank", (), "a.social-icon.ig")


def _reserved_rows() -> list[tuple[str, str]]:
    """(url, kind) for every plain reserved entry of every network, built from the catalogue."""
    rows = []
    for data in section("profiles")["network"].values():
        host = data["hosts"][0]
        for kind, entries in data.get("reserved", {}).items():
            rows.extend((f"https://www.{host}/{entry}", kind) for entry in entries if not entry.startswith("re:"))
    return rows


RESERVED = _reserved_rows()


@pytest.mark.parametrize(("url", "kind"), RESERVED, ids=[u for u, _ in RESERVED])
def test_every_reserved_path_is_not_a_profile(url: str, kind: str) -> None:
    found = classify_url(url)
    assert found is not None and found.kind == kind, (url, found)
