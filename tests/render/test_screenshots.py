"""`--screenshots DIR`: one JPEG per rendered page and viewport, share buttons outlined (green
visible, red hidden or covered), referenced from the JSON report, bounded in height and size.
The outline colours are read back from the JPEG in the same real Chromium (a canvas)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from smo_audit.imageinfo import image_info
from smo_audit.render.browser import SCREENSHOT_MAX_HEIGHT
from tests.render.sites import TALL, page, target
from tests.render.test_visibility import rendered_audit
from tests.support.browser import launched_browser
from tests.support.scripted_server import ScriptedServer, html

COVERED = page(f"<div style='position:fixed;top:100px;left:100px'>{target()}</div>{TALL}{TALL}"
               "<div id='cookie-banner' style='position:fixed;top:0;left:0;right:0;height:300px;background:#eee'>"
               "cookies</div>")
VISIBLE = page(f"<div style='position:absolute;top:100px;left:100px'>{target()}</div>")

PIXEL = """async ({src, points}) => {
  const img = new Image(); img.src = src; await img.decode();
  const canvas = document.createElement('canvas'); canvas.width = img.width; canvas.height = img.height;
  const ctx = canvas.getContext('2d'); ctx.drawImage(img, 0, 0);
  return points.map(([x, y]) => Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3)));
}"""


def _outline_colour(path: Path, box: object) -> tuple[int, int, int]:
    """The colour of the outline drawn 2 px outside the button's left edge, at its middle."""
    x = int(box.x) - 2  # type: ignore[attr-defined]
    y = int(box.y + box.height / 2)  # type: ignore[attr-defined]
    src = "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode()
    with launched_browser() as browser:
        tab = browser.new_page()
        [rgb] = tab.evaluate(PIXEL, {"src": src, "points": [[x, y]]})
    return (int(rgb[0]), int(rgb[1]), int(rgb[2]))


def test_screenshots_are_written_referenced_bounded_and_outlined(tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    routes = {"/": html(page("<a href='/covered'>c</a> <a href='/visible'>v</a>")),
              "/covered": html(COVERED), "/visible": html(VISIBLE)}
    with ScriptedServer(routes) as server:
        report = rendered_audit(server.url("/"), screenshots=shots)
    files = sorted(shots.iterdir())
    assert len(files) == 3 * 2  # three pages, two viewports
    for result in report.pages:
        assert result.render is not None
        for name, view in result.render.viewports.items():
            assert view.screenshot is not None and Path(view.screenshot).parent == shots
            data = Path(view.screenshot).read_bytes()
            info = image_info(data)
            assert info.type == "image/jpeg" and info.width == view.width, (name, info)
            assert info.height <= SCREENSHOT_MAX_HEIGHT and len(data) < 1_000_000
    covered = next(p for p in report.pages if p.url.endswith("/covered"))
    assert covered.render is not None
    tall = covered.render.viewports["desktop"]
    assert tall.page_height > SCREENSHOT_MAX_HEIGHT  # a long page is cut at the bound
    assert image_info(Path(tall.screenshot or "").read_bytes()).height == SCREENSHOT_MAX_HEIGHT
    red = _outline_colour(Path(tall.screenshot or ""), tall.buttons[0].box)
    assert tall.buttons[0].covered_by == "div#cookie-banner"
    assert red[0] > 180 and red[1] < 90 and red[2] < 90, red  # covered: outlined red
    visible = next(p for p in report.pages if p.url.endswith("/visible"))
    assert visible.render is not None
    view = visible.render.viewports["desktop"]
    green = _outline_colour(Path(view.screenshot or ""), view.buttons[0].box)
    assert green[1] > 120 and green[0] < 90 and green[2] < 90, green  # visible: outlined green


def test_a_screenshot_that_cannot_be_written_leaves_the_page_its_results(tmp_path: Path) -> None:
    # a full disk, or (here) a folder where the desktop screenshot's file would go
    shots = tmp_path / "shots"
    shots.mkdir()
    with ScriptedServer({"/": html(VISIBLE)}) as server:
        url = server.url("/")
        (shots / f"{hashlib.sha1(url.encode()).hexdigest()[:16]}-desktop.jpg").mkdir()
        report = rendered_audit(url, screenshots=shots, max_pages=1)
    (result,) = report.pages
    assert result.render is not None and result.render.status == "rendered", result.render
    desktop, mobile = result.render.viewports["desktop"], result.render.viewports["mobile"]
    assert desktop.screenshot is None and mobile.screenshot is not None
    assert [b.visible for b in desktop.buttons] == [True]
    assert any(n.startswith("the screenshot could not be written (desktop)") for n in result.render.notes), \
        result.render.notes
    assert not report.errors
