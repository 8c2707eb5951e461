"""Real headless Chromium for tests (rendered mode, the HTML report), through Playwright.

CI installs Debian's chromium (see the Makefile); these tests run there, they are not skipped.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from smo_audit.render.chromium import LAUNCH_ARGS, find_chromium, hermetic_env


@contextmanager
def launched_browser() -> Iterator[Browser]:
    """A headless Chromium with a throw-away profile, closed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="smo-test-chromium-") as profile, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=find_chromium(),
            args=list(LAUNCH_ARGS),
            env=hermetic_env(Path(profile)),
            headless=True,
        )
        try:
            yield browser
        finally:
            browser.close()
