"""Chromium discovery, and one real launch of the browser the tests and rendered mode use."""

from __future__ import annotations

from pathlib import Path

import pytest

from smo_audit.render.chromium import ChromiumNotFound, find_chromium
from tests.support.browser import launched_browser


def _executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_explicit_path_wins_over_environment_and_path(tmp_path: Path) -> None:
    explicit = _executable(tmp_path / "mine")
    env_binary = _executable(tmp_path / "from-env")
    found = find_chromium(str(explicit), {"SMO_AUDIT_CHROMIUM": str(env_binary), "PATH": ""})
    assert found == str(explicit)


def test_environment_variable_before_path(tmp_path: Path) -> None:
    env_binary = _executable(tmp_path / "from-env")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _executable(bindir / "chromium")
    found = find_chromium(None, {"SMO_AUDIT_CHROMIUM": str(env_binary), "PATH": str(bindir)})
    assert found == str(env_binary)


def test_path_names_are_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "none"))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _executable(bindir / "chromium-browser")
    assert find_chromium(None, {"PATH": str(bindir)}) == str(bindir / "chromium-browser")


def test_missing_chromium_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "none"))
    with pytest.raises(ChromiumNotFound, match="apt-get install chromium"):
        find_chromium(None, {"PATH": str(tmp_path)})


def test_a_named_file_that_is_not_executable_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("")
    with pytest.raises(ChromiumNotFound, match="not an executable"):
        find_chromium(str(plain), {"PATH": ""})


def test_the_installed_chromium_renders_a_page() -> None:
    with launched_browser() as browser:
        page = browser.new_page()
        page.set_content("<button style='width:30px;height:20px'>Share</button>")
        box = page.locator("button").bounding_box()
        assert box is not None and box["width"] == 30 and box["height"] == 20
