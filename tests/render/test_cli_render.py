"""The rendered-mode command line: `--render` alone means auto, a missing Chromium is one sentence
with exit code 2, and static mode never imports Playwright."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from smo_audit.cli import normalise_render_flag
from tests.support.scripted_server import ScriptedServer, html

ROOT = Path(__file__).resolve().parents[2]
PAGE = "<!doctype html><title>t</title><meta property='og:title' content='t'><p>hi</p>"


def test_a_bare_render_flag_means_auto() -> None:
    assert normalise_render_flag(["audit", "x", "--render"]) == ["audit", "x", "--render", "auto"]
    assert normalise_render_flag(["audit", "--render", "x"]) == ["audit", "--render", "auto", "x"]
    assert normalise_render_flag(["audit", "x", "--render", "all"]) == ["audit", "x", "--render", "all"]
    assert normalise_render_flag(["audit", "--", "--render"]) == ["audit", "--", "--render"]


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


def test_a_bad_viewport_is_a_usage_error() -> None:
    result = _cli("audit", "http://127.0.0.1:9/", "--render", "--viewports", "desktop,watch", "--quiet")
    assert result.returncode == 2 and "unknown viewport 'watch'" in result.stderr


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
