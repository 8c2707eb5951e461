"""The private-address rule. Pure tests of the classifier and the policy decision over ipaddress
objects (10.x, 169.254.169.254, fc00:: ... appear only as data, nothing connects to them), and
loopback-only integration tests.

How the integration tests stand in for "a public site": SMO_AUDIT_TEST_PUBLIC_NETWORKS (a test-only
switch, documented in SECURITY.md) makes 127.0.0.1 count as public, so the audited site on
127.0.0.1 plays the public target, while a second server on 127.0.0.2 plays the internal host. Each
refusal test has a control run with --allow-private in which the same request does reach
127.0.0.2: what the pair proves is that the policy, not some other check, stopped it. Numeric host
forms (2130706434, 0x7f000002, 127.2) all resolve to 127.0.0.2.
"""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from smo_audit.crawl.addresses import AddressPolicy, PrivateMode, address_kind, decide_policy
from smo_audit.crawl.fetcher import Fetcher, FetchFailure
from tests.hostile.harness import Outcome, assert_case, home, plain, run_site, site_routes
from tests.support.scripted_server import Reply, ScriptedServer, html, png, redirect

PUBLIC_LOOPBACK = {"SMO_AUDIT_TEST_PUBLIC_NETWORKS": "127.0.0.1/32"}


@pytest.mark.parametrize(("address", "kind"), [
    ("10.1.2.3", "private (RFC 1918)"), ("172.16.0.1", "private (RFC 1918)"), ("172.31.255.254", "private (RFC 1918)"),
    ("192.168.1.1", "private (RFC 1918)"), ("169.254.169.254", "cloud metadata"), ("169.254.170.2", "cloud metadata"),
    ("100.100.100.200", "cloud metadata"), ("fd00:ec2::254", "cloud metadata"), ("169.254.1.1", "link-local"),
    ("100.64.0.1", "carrier-grade NAT (RFC 6598)"), ("100.127.255.254", "carrier-grade NAT (RFC 6598)"),
    ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"), ("0.0.0.0", "unspecified"),
    ("::", "unspecified"), ("fc00::1", "unique-local (RFC 4193)"), ("fd12:3456::1", "unique-local (RFC 4193)"),
    ("fe80::1", "link-local"), ("::ffff:10.0.0.1", "private (RFC 1918) (inside an IPv6 address)"),
    ("::ffff:127.0.0.1", "loopback (inside an IPv6 address)"), ("64:ff9b::a00:1", "private (RFC 1918) (inside an IPv6 address)"),
    ("2002:a00:1::", "private (RFC 1918) (inside an IPv6 address)"), ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
])
def test_non_public_addresses_are_classified(address: str, kind: str) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "100.63.255.255", "100.128.0.0", "172.32.0.1",
                                     "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_public_addresses_are_public(address: str) -> None:
    assert address_kind(ipaddress.ip_address(address)) is None


def test_policy_decision_follows_the_target() -> None:
    public, private = [ipaddress.ip_address("93.184.216.34")], [ipaddress.ip_address("10.0.0.8")]
    internal = ipaddress.ip_address("10.1.2.3")  # (the cloud metadata addresses: see the test below)
    assert decide_policy(PrivateMode.AUTO, public, folder=False).refusal(internal) is not None
    assert decide_policy(PrivateMode.AUTO, private, folder=False).refusal(internal) is None
    assert decide_policy(PrivateMode.AUTO, [], folder=True).refusal(internal) is None
    assert decide_policy(PrivateMode.AUTO, [*public, *private], folder=False).refusal(internal) is None
    assert decide_policy(PrivateMode.ALLOW, public, folder=False).refusal(internal) is None
    assert decide_policy(PrivateMode.BLOCK, private, folder=True).refusal(internal) is not None
    assert decide_policy(PrivateMode.BLOCK, public, folder=False).refusal(ipaddress.ip_address("8.8.8.8")) is None


def test_test_only_public_networks_make_one_alias_public() -> None:
    policy = AddressPolicy(False, (ipaddress.ip_network("127.0.0.1/32"),))
    assert policy.refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert policy.refusal(ipaddress.ip_address("127.0.0.2")) is not None


@pytest.fixture
def internal(scripted_server) -> ScriptedServer:
    """The "internal" host: a second loopback alias with something worth stealing."""
    return scripted_server({"/secret": html("<title>INTERNAL SECRET</title>"), "/x.png": png(1200, 630),
                            "/feed.xml": Reply(200, {"content-type": "application/rss+xml"}, "<rss/>"),
                            "/@acme": html("<h1>acme</h1>")}, host="127.0.0.2")


def _with_og_image(server: ScriptedServer, image_url: str) -> None:
    server.routes["/hostile"] = html(f'<html><head><title>Hostile</title><meta property="og:title" content="H">'
                                     f'<meta property="og:image" content="{image_url}"></head><body>x</body></html>')


def _og_image_check(outcome: Outcome) -> tuple[str, str | None]:
    """(status, failure kind) of the og:image reachability check of /hostile."""
    finding = next(f for f in outcome.pages["/hostile"]["findings"] if f["rule"] == "og-image-reachable")
    return finding["status"], (finding.get("data") or {}).get("kind")


def _numeric(internal: ScriptedServer, form: str) -> str:
    host = {"decimal": "2130706434", "hex": "0x7f000002", "short": "127.2", "dotted": "127.0.0.2"}[form]
    return f"http://{host}:{internal.port}/x.png"


@pytest.mark.parametrize("form", ["dotted", "decimal", "hex", "short"])
def test_og_image_on_an_internal_address_is_not_fetched(scripted_server, internal, form: str) -> None:
    site = scripted_server(site_routes())
    _with_og_image(site, _numeric(internal, form))
    outcome = run_site(site, env=PUBLIC_LOOPBACK)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())  # a refused image is the page's finding
    assert internal.hits("/x.png") == 0
    assert _og_image_check(outcome) == ("fail", "private-address")
    control = run_site(site, "--allow-private", env=PUBLIC_LOOPBACK)
    assert internal.hits("/x.png") >= 1, "control: with --allow-private the same image is fetched"
    assert_case(control, {}, audited=["/hostile"], not_audited=())
    assert _og_image_check(control)[0] == "pass"


def test_a_redirect_hop_to_an_internal_address_is_refused(scripted_server, internal) -> None:
    site = scripted_server(site_routes())
    site.routes["/img.png"] = redirect(internal.url("/x.png"), 302)
    _with_og_image(site, site.url("/img.png"))
    outcome = run_site(site, env=PUBLIC_LOOPBACK)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert site.hits("/img.png") >= 1 and internal.hits("/x.png") == 0
    assert _og_image_check(outcome) == ("fail", "private-address")
    control = run_site(site, "--allow-private", env=PUBLIC_LOOPBACK)
    assert internal.hits("/x.png") >= 1
    assert_case(control, {}, audited=["/hostile"], not_audited=())


def test_a_page_redirecting_inwards_is_an_error_not_a_page(scripted_server, internal) -> None:
    site = scripted_server(site_routes(**{"/hostile": redirect(internal.url("/secret"), 302)}))
    site.routes["/"] = html(home("/a", "/hostile", "/b"))
    outcome = run_site(site, env=PUBLIC_LOOPBACK)
    # Another host: the hop is not followed (not a page of this site), nothing of it is reported.
    assert_case(outcome, {})
    assert internal.hits("/secret") == 0
    assert "INTERNAL SECRET" not in str(outcome.report)


def test_a_start_url_redirecting_inwards_is_refused(scripted_server, internal) -> None:
    site = scripted_server(site_routes(**{"/start": redirect(internal.url("/secret"), 302)}))
    outcome = run_site(site, path="/start", env=PUBLIC_LOOPBACK)
    assert outcome.code == 3 and internal.hits("/secret") == 0
    assert outcome.stdout == "" and outcome.report == {}  # no report of a site that was not audited
    assert "non-public address" in outcome.stderr and "Traceback" not in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1
    assert site.hits("/a") == 0 and site.hits("/b") == 0
    control = run_site(site, "--allow-private", path="/start", env=PUBLIC_LOOPBACK)
    assert internal.hits("/secret") >= 1 and control.code == 0
    assert [p["facts"]["title"] for p in control.report["pages"]] == ["INTERNAL SECRET"] and control.errors == []


def test_a_feed_on_an_internal_address_is_not_fetched(scripted_server, internal) -> None:
    site = scripted_server(site_routes())
    site.routes["/hostile"] = html(f'<html><head><title>H</title><link rel="alternate" type="application/rss+xml" '
                                   f'href="{internal.url("/feed.xml")}"></head><body>x</body></html>')
    outcome = run_site(site, env=PUBLIC_LOOPBACK)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert internal.hits("/feed.xml") == 0
    control = run_site(site, "--allow-private", env=PUBLIC_LOOPBACK)
    assert internal.hits("/feed.xml") >= 1
    assert_case(control, {}, audited=["/hostile"], not_audited=())


def test_profile_checks_do_not_reach_internal_addresses(scripted_server, internal) -> None:
    site = scripted_server(site_routes())
    site.routes["/"] = html(home("/a", "/b").replace("</body>", f'<a rel="me" href="{internal.url("/@acme")}">me</a></body>'))
    outcome = run_site(site, "--check-profiles", env=PUBLIC_LOOPBACK)
    assert_case(outcome, {}, not_audited=())
    assert internal.hits("/@acme") == 0
    control = run_site(site, "--check-profiles", "--allow-private", env=PUBLIC_LOOPBACK)
    assert internal.hits("/@acme") >= 1
    assert_case(control, {}, not_audited=())


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "2130706433", "0x7f000001", "127.1", "[::ffff:127.0.0.1]"])
def test_the_fetcher_resolves_names_and_numeric_forms_before_connecting(scripted_server, host: str) -> None:
    # Not through the CLI: the og:image rules also refuse "localhost" by its name, which would hide
    # whether the resolution-based check works. Here only the Fetcher's policy stands in the way.
    site = scripted_server({"/": html("<title>t</title>")})
    url = f"http://{host}:{site.port}/"

    async def fetch(allow: bool) -> str:
        async with Fetcher(address_policy=AddressPolicy(allow)) as fetcher:
            try:
                return str((await fetcher.fetch(url)).status)
            except FetchFailure as failure:
                return failure.kind

    if host.startswith("[::ffff:"):
        assert asyncio.run(fetch(False)) == "private-address"
        return  # an IPv4-mapped literal is refused; whether the OS connects it is not the point
    assert asyncio.run(fetch(False)) == "private-address"
    assert site.hits("/") == 0
    assert asyncio.run(fetch(True)) == "200"
    assert site.hits("/") == 1


def test_block_private_refuses_a_loopback_target_with_one_sentence(scripted_server) -> None:
    site = scripted_server(site_routes())
    outcome = run_site(site, "--block-private")
    assert outcome.code == 3 and outcome.stdout == "" and outcome.report == {}
    assert site.paths() == []
    assert "non-public address" in outcome.stderr and "Traceback" not in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1


def test_allow_and_block_together_is_a_usage_error(scripted_server) -> None:
    site = scripted_server(site_routes())
    outcome = run_site(site, "--block-private", "--allow-private")
    assert outcome.code == 2 and site.paths() == [] and outcome.stdout == ""
    assert "Traceback" not in outcome.stderr and len(outcome.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("form", ["2130706433", "0x7f000001", "127.1"])
def test_a_numeric_loopback_target_is_audited_as_a_private_target(scripted_server, form: str) -> None:
    """The target's own address is private, so its pages (reached by the numeric name) are allowed."""
    site = scripted_server(site_routes(**{"/hostile": plain("Numeric")}))
    outcome = run_site(site, host=form, bound=20)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert outcome.pages["/hostile"]["facts"]["title"] == "Numeric"


def test_a_private_target_opens_private_addresses_but_not_the_cloud_metadata() -> None:
    # A dev server's pages may use the private network; none needs the credentials service.
    metadata = [ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254",
                                                  "fd20:ce::254", "169.254.170.23")]
    private = [ipaddress.ip_address(a) for a in ("10.0.0.1", "192.168.1.1", "127.0.0.2")]
    auto = decide_policy(PrivateMode.AUTO, [ipaddress.ip_address("127.0.0.1")], folder=False)
    assert all(auto.refusal(a) is None for a in private)
    assert all("cloud metadata" in (auto.refusal(a) or "") for a in metadata)
    explicit = decide_policy(PrivateMode.ALLOW, [ipaddress.ip_address("127.0.0.1")], folder=False)
    assert all(explicit.refusal(a) is None for a in (*metadata, *private))
    public = decide_policy(PrivateMode.AUTO, [ipaddress.ip_address("93.184.216.34")], folder=False)
    assert all(public.refusal(a) is not None for a in (*metadata, *private))
