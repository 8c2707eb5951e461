"""Transport-level hostility on one page of a crawl: a server that stalls, drips, hangs up, lies
about its length, sends a compression bomb or a body past the size cap, or redirects forever.
Each case: the run ends within its bound with exit 0, the hostile URL is one error of the expected
kind and not a page, and the other pages of the same crawl are audited."""

from __future__ import annotations

import gzip
import socket

import pytest

from tests.hostile.harness import assert_case, run_site, site_routes
from tests.support.scripted_server import Reply, drip, redirect

LIMITS = "timeout = 2\nmax_body_bytes = 1048576\nmax_redirects = 5\nretries = 0\n"


@pytest.fixture
def limits(tmp_path) -> tuple[str, str]:
    """A config file with tight limits (2 s per fetch, 1 MB bodies, 5 redirects, no retries)."""
    path = tmp_path / "smo-audit.toml"
    path.write_text(LIMITS, encoding="utf-8")
    return ("--config", str(path))
BOMB = gzip.compress(b"<p>" + b"\0" * (64 * 1024 * 1024))  # 64 MB of HTML in ~64 KB


@pytest.mark.parametrize(("route", "kind"), [
    pytest.param(Reply(200, {"content-type": "text/html"}, b"<p>late</p>", delay=8), "timeout", id="stalls"),
    pytest.param(drip([b"<p>"] + [b"x" * 10] * 40, interval=0.2), "timeout", id="drips"),
    # how a hang-up surfaces (no answer, a reset) depends on timing: any transport failure kind
    pytest.param(Reply(drop=True), "protocol|network|connect", id="hangs-up"),
    pytest.param(Reply(200, {"content-type": "text/html", "content-length": "100000"}, b"<p>short</p>", close=True),
                 "protocol|network", id="short-body"),
    pytest.param(Reply(200, {"content-type": "text/html", "content-encoding": "gzip"}, BOMB), "too-large",
                 id="gzip-bomb"),
    pytest.param(Reply(200, {"content-type": "text/html"}, b"<p>" + b"a" * (3 * 1024 * 1024)), "too-large",
                 id="over-the-size-cap"),
    pytest.param(Reply(200, {"content-type": "text/html", "content-encoding": "x-evil"}, b"<p>hi</p>"), "decoding",
                 id="unknown-encoding"),
    pytest.param(redirect("/hostile"), "redirect-loop", id="redirects-to-itself"),
])
def test_a_hostile_transport_costs_one_page(scripted_server, limits, route: Reply, kind: str) -> None:
    server = scripted_server(site_routes(**{"/hostile": route}))
    outcome = run_site(server, *limits, "--timeout", "2", bound=25)
    found = outcome.error_kinds("/hostile")
    assert len(found) == 1 and found[0] in kind.split("|"), outcome.errors
    assert_case(outcome, {"/hostile": found})


def test_an_endless_redirect_chain_stops_at_max_redirects(scripted_server, limits) -> None:
    routes = site_routes(**{f"/r{n}": redirect(f"/r{n + 1}", 302) for n in range(30)})
    routes["/hostile"] = redirect("/r0", 302)
    server = scripted_server(routes)
    outcome = run_site(server, *limits, "--timeout", "2")
    assert_case(outcome, {"/hostile": ["too-many-redirects"]})
    assert server.hits("/r10") == 0


def _closed_ports(count: int) -> list[int]:
    """Ports on 127.0.0.1 nothing listens on (bound, then released): a redirect there is refused."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def test_a_redirect_somewhere_new_on_every_request_ends(scripted_server, limits) -> None:
    # Each answer redirects to another origin, whose robots.txt the crawler reads before it
    # fetches again: without a cap on those rounds the page is fetched forever.
    ports = iter(_closed_ports(40))
    routes = site_routes(**{"/hostile": lambda request: redirect(f"http://127.0.0.1:{next(ports)}/page", 302)})
    server = scripted_server(routes)
    outcome = run_site(server, *limits, "--scope", "domain", bound=40)
    assert_case(outcome, {"/hostile": ["too-many-redirects"]})
    assert server.hits("/hostile") == 6  # max_redirects (5) + 1 rounds


@pytest.mark.parametrize(("route", "kind"), [
    pytest.param(redirect("http://127.0.0.1:99999/", 302), "bad-redirect", id="port-past-65535"),
    pytest.param(redirect("http://127.0.0.1:0/", 302), "bad-redirect", id="port-zero"),
    pytest.param(Reply(301, {"content-type": "text/html"}, "<p>moved</p>"), "bad-redirect", id="no-location"),
    pytest.param(Reply(503, {"content-type": "text/html", "retry-after": "\u00b2"}, "<p>busy</p>"), "http-status",
                 id="retry-after-superscript-digit"),
    pytest.param(Reply(503, {"content-type": "text/html", "retry-after": "9" * 5000}, "<p>busy</p>"), "http-status",
                 id="retry-after-5000-digits"),
])
def test_a_malformed_number_in_an_answer_costs_one_page(scripted_server, tmp_path, route: Reply, kind: str) -> None:
    config = tmp_path / "retry.toml"  # one retry, so that a Retry-After header is read
    config.write_text(LIMITS.replace("retries = 0", "retries = 1"), encoding="utf-8")
    server = scripted_server(site_routes(**{"/hostile": route}))
    outcome = run_site(server, "--config", str(config), bound=25)
    assert_case(outcome, {"/hostile": [kind]})
