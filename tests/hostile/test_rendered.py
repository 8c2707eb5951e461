"""Rendered pages: the browser's own requests (images, scripts, frames) pass the audit's fetch
policy too, and a hostile script cannot stall or derail the audit of the other pages."""

from __future__ import annotations

from tests.hostile.harness import PLAIN, assert_case, run_site, site_routes
from tests.support.scripted_server import Reply, html, png

RENDER = ("--render", "all", "--viewports", "desktop")


def _page(extra_body: str) -> Reply:
    return html(PLAIN.format(title="Hostile").replace("</body>", extra_body + "</body>"))


def test_the_browser_does_not_fetch_what_robots_txt_disallows(scripted_server) -> None:
    server = scripted_server(site_routes(**{
        "/hostile": _page('<img src="/private/pixel.png" alt=""><img src="/public/pixel.png" alt="">'),
        "/private/pixel.png": png(1, 1), "/public/pixel.png": png(1, 1),
        "/robots.txt": Reply(200, {"content-type": "text/plain"}, "User-agent: smo-audit\nDisallow: /private/\n"),
    }))
    outcome = run_site(server, *RENDER, bound=90)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    assert server.hits("/public/pixel.png") >= 1, "the browser fetched no image at all: the case proves nothing"
    assert server.hits("/private/pixel.png") == 0
    assert all(outcome.pages[p]["render"]["status"] != "static-only" for p in ("/", "/a", "/b", "/hostile"))
    control = run_site(server, *RENDER, "--ignore-robots", bound=90)
    assert_case(control, {}, audited=["/hostile"], not_audited=())
    assert server.hits("/private/pixel.png") >= 1


def test_a_script_that_never_ends_costs_only_its_page(scripted_server, tmp_path) -> None:
    config = tmp_path / "smo-audit.toml"
    config.write_text("render_timeout = 4\n", encoding="utf-8")
    server = scripted_server(site_routes(**{
        "/hostile": _page("<script>for(;;){}</script>"),
    }))
    outcome = run_site(server, *RENDER, "--config", str(config), bound=60)
    assert_case(outcome, {"/hostile": ["render-timeout"]}, audited=["/hostile"], not_audited=())
    hostile = outcome.pages["/hostile"]  # its static facts stay; the render is reported as not done
    assert hostile["facts"]["title"] == "Hostile"
    assert hostile["render"]["status"] == "static-only" and outcome.error_kinds("/hostile") == ["render-timeout"]
    assert all(outcome.pages[p]["render"] is not None for p in ("/", "/a", "/b"))  # each was given its own render
