"""profile-verify over a scripted loopback site: each profile URL requested once, only when asked.

The profiles are fediverse-style /@name links with rel="me" on the scripted server itself, so
nothing in these tests leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from smo_audit.config import AuditConfig
from smo_audit.pipeline import Audit, Target
from smo_audit.report.model import Report
from tests.support.scripted_server import ScriptedServer, html, redirect


def _page(title: str, network: ScriptedServer, links: str = "") -> str:
    footer = (f'<footer><a rel="me" href="{network.url("/@acme")}">Mastodon</a> '
              f'<a rel="me" href="{network.url("/@walled")}">Other</a></footer>')
    return f"<!doctype html><html><head><title>{title}</title></head><body><main>{links}</main>{footer}</body></html>"


def _servers(start: Callable[..., ScriptedServer]) -> tuple[ScriptedServer, ScriptedServer]:
    """The audited site and, on another port (another origin, out of scope), the "network"."""
    network = start({"/@acme": html("<h1>acme</h1>"), "/users/sign_in": html("<form><input type=password></form>")})
    network.routes["/@walled"] = redirect(network.url("/users/sign_in"), 302)
    site = start({
        "/": html(_page("Home", network, '<a href="/a/">A</a> <a href="/b/">B</a>')),
        "/a/": html(_page("A", network)),
        "/b/": html(_page("B", network)),
    })
    return site, network


def _audit(server: ScriptedServer, **config: object) -> Report:
    settings = AuditConfig(select=["profile-verify"], max_pages=5, max_depth=2, use_sitemaps=False, timeout=10,
                           retries=0, quiet=True, debug=True, **config)  # type: ignore[arg-type]
    return asyncio.run(Audit(Target(server.base_url, url=server.url("/")), settings).run())


def test_each_profile_is_requested_once_across_pages(scripted_server: Callable[..., ScriptedServer]) -> None:
    site, network = _servers(scripted_server)
    report = _audit(site, check_profiles=True)
    assert len(report.pages) == 3
    assert network.hits("/@acme") == 1 and network.hits("/@walled") == 1
    verdicts = sorted((f.status, f.message) for f in report.site_findings)
    assert verdicts == [
        ("pass", f"{network.url('/@acme')} answers HTTP 200"),
        ("skip", f"could not verify {network.url('/@walled')}: the network redirects to a login page"),
    ]


def test_nothing_is_requested_without_the_flag(scripted_server: Callable[..., ScriptedServer]) -> None:
    site, network = _servers(scripted_server)
    report = _audit(site)
    assert network.paths() == []
    (finding,) = report.site_findings
    assert (finding.status, finding.message) == (
        "skip", "profile URLs are requested only with --check-profiles (social networks block bots)")


def test_requests_are_bounded_by_max_profiles(scripted_server: Callable[..., ScriptedServer]) -> None:
    site, network = _servers(scripted_server)
    report = _audit(site, check_profiles=True, rules={"profile-verify": {"max_profiles": 1}})
    assert [p for p in network.paths() if p != "/robots.txt"] == ["/@acme"]  # robots.txt: the fetch policy
    assert len(report.site_findings) == 1
