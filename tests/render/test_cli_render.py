"""The rendered-mode command line: `--render` alone means auto, a missing Chromium is one sentence
with exit code 2, static mode never imports Playwright, and Ctrl-C closes the browser."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from smo_audit.cli import normalise_render_flag
from tests.support.processes import descendants, is_chromium
from tests.support.scripted_server import ScriptedServer, html

ROOT = Path(__file__).resolve().parents[2]
PAGE = "<!doctype html><title>t</title><meta property='og:title' content='t'><p>hi</p>"


def test_a_bare_render_flag_means_auto() -> None:
    assert normalise_render_flag(["audit", "x", "--render"]) == ["audit", "x", "--render", "auto"]
    assert normalise_render_flag(["audit", "--render", "x"]) == ["audit", "--render", "auto", "x"]
    assert normalise_render_flag(["audit", "x", "--render", "all"]) == ["audit", "x", "--render", "all"]
    assert normalise_render_flag(["audit", "--", "--render"]) == ["audit", "--", "--render"]


def test_a_wrong_render_mode_is_named() -> None:
    """With the target given elsewhere, the word after --render is a mistyped mode (exit 2, one
    sentence), not click's "unexpected extra argument"; a folder named like it stays the target."""
    result = _cli("audit", "http://127.0.0.1:9/", "--render", "bogus")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == ("smo-audit: error: --render takes auto, all, off (a bare --render means auto), "
                                     "not 'bogus'")
    assert normalise_render_flag(["audit", "--render", "tests", "-o", "x.json"]) == [
        "audit", "--render", "auto", "tests", "-o", "x.json"]  # ./tests exists: the target
    # an existing file given to an option is not a target: `localhost` is (https://localhost/)
    assert normalise_render_flag(["audit", "--render", "localhost", "--baseline", "pyproject.toml"]) == [
        "audit", "--render", "auto", "localhost", "--baseline", "pyproject.toml"]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smo_audit", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=120)


def test_missing_chromium_exits_2_with_one_sentence(tmp_path: Path) -> None:
    with ScriptedServer({"/": html(PAGE)}) as server:
        result = _cli("audit", server.url("/"), "--render", "--quiet",
                      env={"SMO_AUDIT_CHROMIUM": "", "PATH": str(tmp_path),
                           "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "none")})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs Chromium" in lines[0] and "apt-get install chromium" in lines[0]
    assert "Traceback" not in result.stderr


def test_a_chromium_that_does_not_start_exits_2_with_one_sentence(tmp_path: Path) -> None:
    with ScriptedServer({"/": html(PAGE)}) as server:
        result = _cli("audit", server.url("/"), "--render", "all", "--chromium", "/bin/false", "--quiet",
                      "-f", "json", "-o", str(tmp_path / "report.json"))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "could not start Chromium" in lines[0] and "/bin/false" in lines[0], lines
    assert "Traceback" not in result.stderr and "RenderFailure" not in result.stderr


def test_screenshots_into_a_file_exits_2_with_one_sentence(tmp_path: Path) -> None:
    taken = tmp_path / "shots"
    taken.write_text("a file, not a folder")
    with ScriptedServer({"/": html(PAGE)}) as server:
        result = _cli("audit", server.url("/"), "--render", "all", "--screenshots", str(taken), "--quiet",
                      "-f", "json", "-o", str(tmp_path / "report.json"))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"--screenshots {taken}" in lines[0] and "cannot be made" in lines[0], lines
    assert "Traceback" not in result.stderr and taken.read_text() == "a file, not a folder"


def test_a_bad_viewport_is_a_usage_error() -> None:
    result = _cli("audit", "http://127.0.0.1:9/", "--render", "--viewports", "desktop,watch", "--quiet")
    assert result.returncode == 2 and "unknown viewport 'watch'" in result.stderr
    alone = _cli("audit", "http://127.0.0.1:9/", "--render", "--viewports", "tablet", "--quiet")
    assert alone.returncode == 2 and alone.stderr.count("'tablet'") == 1, alone.stderr  # named once


def test_static_mode_never_imports_playwright() -> None:
    with ScriptedServer({"/": html(PAGE)}) as server:
        code = (
            "import sys\n"
            "from smo_audit.cli import app\n"
            "try:\n"
            f"    app(['audit', {server.url('/')!r}, '--quiet', '--format', 'json', '--max-pages', '1'])\n"
            "except SystemExit:\n"
            "    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('playwright')), file=sys.stderr)\n"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert json.loads(result.stdout)["mode"] == "static"
    assert result.stderr.strip().splitlines()[-1] == "[]"


def test_ctrl_c_closes_the_browser_and_writes_the_partial_report(tmp_path: Path) -> None:
    from tests.render.sites import template_routes

    output = tmp_path / "report.json"
    with ScriptedServer(template_routes()) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "smo_audit", "audit", server.url("/"), "--render", "all", "--format", "json",
             "--output", str(output), "--quiet"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and server.hits("/article/1") + server.hits("/doc/1") == 0:
                time.sleep(0.05)
            browsers = {pid for pid in descendants(process.pid) if is_chromium(pid)}
            assert browsers, "Chromium did not start"
            time.sleep(0.5)  # a page or two mid-render
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    report = json.loads(output.read_text())
    assert report["partial"] is True and report["mode"] == "rendered"
    assert report["pages"] and all(p["render"]["status"] in ("rendered", "static-only") for p in report["pages"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() and is_chromium(pid) for pid in browsers):
        time.sleep(0.1)
    assert not [pid for pid in browsers if Path(f"/proc/{pid}").exists() and is_chromium(pid)]
