"""Rendered pages: the browser's own requests (images, scripts, frames) pass the audit's fetch
policy too, and a hostile script cannot stall or derail the audit of the other pages."""

from __future__ import annotations

import socket

import pytest

from smo_audit.render.templates import layout_signature
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


def _deep(levels: int) -> str:
    """A script that nests `levels` <div>s once the page has loaded (the static HTML is small)."""
    return ("<script>addEventListener('load', () => { let e = document.body;"
            f" for (let i = 0; i < {levels}; i++) {{ const d = document.createElement('div'); e.appendChild(d); e = d; }}"
            " });</script>")


def test_a_dom_built_100k_levels_deep_after_load_costs_only_its_render(scripted_server, tmp_path) -> None:
    # Chromium itself does not finish with it (layout): the render budget ends it, the page keeps
    # its static results, the other pages are rendered.
    config = tmp_path / "smo-audit.toml"
    config.write_text("render_timeout = 6\n", encoding="utf-8")
    server = scripted_server(site_routes(**{"/hostile": _page(_deep(100_000))}))
    outcome = run_site(server, *RENDER, "--config", str(config), bound=90)
    assert_case(outcome, {"/hostile": ["render-timeout"]}, audited=["/hostile"], not_audited=())
    hostile = outcome.pages["/hostile"]
    assert hostile["facts"]["title"] == "Hostile" and hostile["render"]["status"] == "static-only"
    assert all(outcome.pages[p]["render"]["status"] == "rendered" for p in ("/", "/a", "/b"))


def test_a_rendered_dom_deeper_than_the_cap_is_cut_and_says_so(scripted_server) -> None:
    server = scripted_server(site_routes(**{"/hostile": _page(_deep(1_000))}))
    outcome = run_site(server, *RENDER, bound=90)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    render = outcome.pages["/hostile"]["render"]
    assert render["status"] == "rendered", render
    assert any("levels deep" in note for note in render["notes"]), render["notes"]
    assert all(outcome.pages[p]["render"]["status"] == "rendered" and not outcome.pages[p]["render"]["notes"]
               for p in ("/", "/a", "/b"))


def test_a_dom_rewritten_forever_is_read_as_it_stands(scripted_server) -> None:
    script = ("<script>setInterval(() => { document.body.appendChild(document.createElement('span'))"
              ".textContent = String(Math.random()); }, 2);</script>")
    server = scripted_server(site_routes(**{"/hostile": _page(script)}))
    outcome = run_site(server, *RENDER, bound=90)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    hostile = outcome.pages["/hostile"]
    assert hostile["render"]["status"] == "rendered" and hostile["facts"]["title"] == "Hostile"
    assert all(outcome.pages[p]["render"]["status"] == "rendered" for p in ("/", "/a", "/b"))


def test_downloads_a_page_starts_are_refused_and_noted(scripted_server) -> None:
    # One download from a blob: URL (the browser's download manager, no request) and one by URL
    # (a top-level navigation, answered 204 by the tab before anything is requested).
    script = ("<script>addEventListener('load', () => {"
              " const blob = document.createElement('a'); blob.download = 'report.bin';"
              " blob.href = URL.createObjectURL(new Blob(['x'.repeat(100000)])); document.body.appendChild(blob); blob.click();"
              " const file = document.createElement('a'); file.download = 'file.bin'; file.href = '/file.bin';"
              " document.body.appendChild(file); file.click();"
              # the DOM keeps changing for 200 ms: the render outlasts both events on a slow machine
              " let n = 0; const t = setInterval(() => { document.body.appendChild(document.createElement('i'));"
              " if (++n === 10) clearInterval(t); }, 20); });</script>")
    attachment = Reply(200, {"content-type": "application/octet-stream",
                             "content-disposition": 'attachment; filename="file.bin"'}, b"x" * 100_000)
    server = scripted_server(site_routes(**{"/hostile": _page(script), "/file.bin": attachment}))
    outcome = run_site(server, *RENDER, bound=90)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    render = outcome.pages["/hostile"]["render"]
    assert render["status"] == "rendered", render
    assert "the page started a download (report.bin): refused" in render["notes"], render["notes"]
    assert any("navigate to" in note and "/file.bin" in note for note in render["notes"]), render["notes"]
    assert server.hits("/file.bin") == 0
    assert all(outcome.pages[p]["render"]["status"] == "rendered" and not outcome.pages[p]["render"]["notes"]
               for p in ("/", "/a", "/b"))


def test_a_rendered_dom_over_the_page_budget_keeps_the_static_results(scripted_server) -> None:
    # 40,000 share-looking anchors drawn by a script: over a second of extraction for the rendered DOM,
    # in a worker with a 0.4 s budget. The static page (small) is audited; the render is not.
    script = ("<script>addEventListener('load', () => { const a = '<a href=https://facebook.com/sharer.php?u=x "
              "class=share-facebook>f</a>'; document.body.insertAdjacentHTML('beforeend', a.repeat(40000)); });"
              "</script>")
    server = scripted_server(site_routes(**{"/hostile": _page(script)}))
    outcome = run_site(server, *RENDER, "--page-budget", "0.4", bound=120)
    assert_case(outcome, {"/hostile": ["processing-timeout"]}, audited=["/hostile"], not_audited=())
    hostile = outcome.pages["/hostile"]
    assert hostile["facts"]["title"] == "Hostile" and hostile["render"]["status"] == "static-only"
    assert "processing-timeout" in hostile["render"]["reason"]
    assert all(outcome.pages[p]["render"]["status"] == "rendered" for p in ("/", "/a", "/b"))


def test_the_template_signature_parses_only_the_markup_within_the_caps() -> None:
    # --render auto takes the signature in the crawl's process: 70,000 unclosed <div>s stalled it
    # for seconds. Past the depth cap nothing is parsed, so a section there is not in the layout.
    deep = "<div>" * 600 + "</div>" * 600
    assert layout_signature(f"<body>{deep}<section></section></body>") == layout_signature(f"<body>{deep}</body>")
    assert layout_signature("<body><section></section></body>") != layout_signature("<body></body>")


def test_auto_mode_with_a_page_of_unclosed_divs(scripted_server) -> None:
    server = scripted_server(site_routes(**{"/hostile": _page("<div>" * 70_000)}))
    outcome = run_site(server, "--render", "auto", "--viewports", "desktop", bound=90)
    assert_case(outcome, {"/hostile": ["page-limit"]}, audited=["/hostile"], not_audited=())
    assert outcome.pages["/hostile"]["facts"]["title"] == "Hostile"
    assert all(outcome.pages[p]["render"]["status"] in ("rendered", "inherited") for p in ("/", "/a", "/b", "/hostile"))


PUBLIC_LOOPBACK = {"SMO_AUDIT_TEST_PUBLIC_NETWORKS": "127.0.0.1/32"}


def _opens(internal_base: str) -> Reply:
    """A page whose script opens a WebSocket and loads a frame on the internal host, and marks
    the DOM when the socket is done either way (so the settle waits for the attempt)."""
    ws = internal_base.replace("http://", "ws://") + "/socket"
    return _page(f"<iframe src='{internal_base}/framed'></iframe><script>"
                 f"const ws = new WebSocket('{ws}');"
                 "ws.onerror = ws.onclose = ws.onopen = () => document.body.setAttribute('data-ws', 'done');"
                 "</script>")


def test_websockets_and_frames_of_a_rendered_page_obey_the_address_rule(scripted_server) -> None:
    # 127.0.0.1 plays the public site, 127.0.0.2 an internal host (see test_private_addresses.py)
    internal = scripted_server({"/socket": Reply(200, {"content-type": "text/plain"}, "not a socket"),
                                "/framed": html("<title>INTERNAL</title>")}, host="127.0.0.2")
    site = scripted_server(site_routes(**{"/hostile": _opens(internal.base_url)}))
    outcome = run_site(site, *RENDER, env=PUBLIC_LOOPBACK, bound=90)
    assert_case(outcome, {}, audited=["/hostile"], not_audited=())
    render = outcome.pages["/hostile"]["render"]
    assert render["status"] == "rendered", render
    assert internal.hits("/socket") == 0 and internal.hits("/framed") == 0, internal.paths()
    assert any("127.0.0.2" in note and "not requested by the browser" in note for note in render["notes"]), render
    # the control: allowed, the same page does reach the internal host, socket and frame alike
    control = run_site(site, *RENDER, "--allow-private", env=PUBLIC_LOOPBACK, bound=90)
    assert_case(control, {}, audited=["/hostile"], not_audited=())
    assert internal.hits("/socket") >= 1 and internal.hits("/framed") >= 1, internal.paths()


def test_a_page_that_navigates_to_a_blob_url_keeps_its_static_results(scripted_server) -> None:
    # A navigation to a blob: URL never reaches the network, so it cannot be refused as other
    # navigations are; the document it opens is not the page, and its facts are never the page's.
    # (right after `load`: the blob document commits between the snapshot and the measurement)
    script = ("<script>addEventListener('load', () => setTimeout(() => { location.href = URL.createObjectURL("
              "new Blob(['<title>Elsewhere</title><p>gone</p>'], {type: 'text/html'})); }, 0));</script>")
    server = scripted_server(site_routes(**{"/hostile": _page(script)}))
    outcome = run_site(server, *RENDER, bound=90)
    assert_case(outcome, {"/hostile": ["render-error"]}, audited=["/hostile"], not_audited=())
    page = outcome.pages["/hostile"]
    assert page["render"]["status"] == "static-only", page["render"]
    assert page["facts"]["title"] == "Hostile"  # the static facts stay the page's
    assert all(outcome.pages[p]["render"]["status"] == "rendered" for p in ("/", "/a", "/b"))


def test_webrtc_sends_nothing_past_the_policy(scripted_server) -> None:
    # STUN/TURN requests are UDP from the browser, which the policy proxy never sees: a page on a
    # public site could aim them at a private address. Here a STUN server on loopback, asked from
    # the page and from a frame the page makes, must receive nothing.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stun:
        stun.bind(("127.0.0.1", 0))
        stun.setblocking(False)
        ice = f"{{iceServers: [{{urls: 'stun:127.0.0.1:{stun.getsockname()[1]}'}}]}}"
        script = ("<script>const ask = (w) => { try { const pc = new w.RTCPeerConnection(" + ice + ");"
                  " pc.createDataChannel('x'); pc.createOffer().then((o) => pc.setLocalDescription(o)); } catch (e) {} };"
                  " ask(window); const f = document.createElement('iframe'); document.body.appendChild(f);"
                  " ask(f.contentWindow);"
                  # the DOM keeps changing for 300 ms: the render outlasts the gathering
                  " let n = 0; const t = setInterval(() => { document.body.appendChild(document.createElement('i'));"
                  " if (++n === 15) clearInterval(t); }, 20);</script>")
        server = scripted_server(site_routes(**{"/hostile": _page(script)}))
        outcome = run_site(server, *RENDER, bound=90)
        assert_case(outcome, {}, audited=["/hostile"], not_audited=())
        assert outcome.pages["/hostile"]["render"]["status"] == "rendered"
        with pytest.raises(BlockingIOError):
            stun.recvfrom(2048)
