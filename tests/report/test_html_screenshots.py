"""The HTML report shows the rendered screenshots (`--screenshots DIR`), linked relative to the
report's own folder: a real audit with real Chromium writes them, then the report is opened in
real Chromium and every image must load, under a CSP that still allows no script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from smo_audit.report.html import screenshot_src
from tests.render.sites import page, target
from tests.support.browser import launched_browser
from tests.support.scripted_server import ScriptedServer, html

PAGES = {
    "/a": page(f"<div class='share'>{target()}</div>", title="Page A"),
    "/b": page(f"<div class='share'>{target()}</div>", title="Page B"),
}
WIDTHS = {"desktop": 1366, "mobile": 390}


def test_the_html_report_shows_the_screenshots_of_a_rendered_audit(tmp_path: Path) -> None:
    routes: dict[str, Any] = {path: html(body) for path, body in PAGES.items()}
    routes["/"] = html(page("".join(f"<a href='{p}'>{p}</a>" for p in PAGES), title="Home"))
    with ScriptedServer(routes) as server:
        # relative folders, run from tmp_path: the report (in out/) must link ../shots/...
        result = subprocess.run(
            [sys.executable, "-m", "smo_audit", "audit", server.url("/"), "--render", "all", "--screenshots", "shots",
             "-f", "html", "-o", "out/report.html", "--quiet"],
            cwd=tmp_path, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert result.returncode in (0, 1), result.stderr
    shots = sorted((tmp_path / "shots").glob("*.jpg"))
    assert len(shots) == 3 * 2, shots  # three pages, two viewports
    report = tmp_path / "out" / "report.html"
    text = report.read_text("utf-8")
    assert 'src="../shots/' in text
    assert "script-src" not in text and "default-src 'none'" in text  # still no script allowed

    console: list[str] = []
    errors: list[str] = []
    outside: list[str] = []
    with launched_browser() as browser:
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        tab = context.new_page()
        tab.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        tab.on("pageerror", lambda e: errors.append(str(e)))
        allowed = {report.as_uri(), *(shot.as_uri() for shot in shots)}

        def only_the_report_and_its_shots(route: Any) -> None:
            if route.request.url in allowed:
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_the_report_and_its_shots)
        tab.goto(report.as_uri())
        images = tab.eval_on_selector_all(
            "figure.shot img",
            """async (imgs) => Promise.all(imgs.map(async (img) => {
                 img.loading = 'eager';
                 try { await img.decode(); } catch (e) {}
                 return {src: img.currentSrc, width: img.naturalWidth, height: img.naturalHeight,
                         shown: img.getBoundingClientRect().width,
                         viewport: img.closest('figure').className.replace('shot shot-', ''),
                         page: img.closest('article').querySelector('h3, h2').textContent};
               }))""")
    assert console == [] and errors == [], (console, errors)
    assert outside == [], "nothing but the report and its screenshots is requested"
    assert sorted(Path(i["src"].removeprefix("file://")).name for i in images) == [s.name for s in shots]
    for image in images:  # each one loaded (a blocked or missing file has no natural size) and is shown
        assert image["width"] == WIDTHS[image["viewport"]] and image["height"] > 0 and image["shown"] > 0, image


def test_screenshot_links_are_relative_to_the_report_and_escaped(tmp_path: Path) -> None:
    shot = tmp_path / "shots" / 'a b"<#?.jpg'
    assert screenshot_src(str(shot), tmp_path / "out" / "report.html") == "../shots/a%20b%22%3C%23%3F.jpg"
    assert screenshot_src(str(shot), tmp_path / "report.html") == "shots/a%20b%22%3C%23%3F.jpg"
    here = Path.cwd()
    assert screenshot_src("x/javascript:alert(1).jpg", None) == "x/javascript%3Aalert%281%29.jpg"
    assert screenshot_src(str(here / "s.jpg"), None) == "s.jpg"  # stdout: relative to the working folder
    for refused in ("", "shots/a.png", "https://example.com/a.jpg", "shots/a.jpg.exe"):
        assert screenshot_src(refused, None) is None, refused
