"""Finding a Chromium for Playwright, and launching it hermetically.

Playwright's own browser download cannot run on machines without internet access, so rendered
mode (and the tests that open the HTML report) drive an installed Chromium through
`executable_path`. Lookup order: an explicit path (config `chromium` / `--chromium`), the
`SMO_AUDIT_CHROMIUM` environment variable, Playwright's own install, then PATH.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

ENV_VAR = "SMO_AUDIT_CHROMIUM"
PATH_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Flags for a headless, offline, hermetic browser: no background traffic to Google's hosts (which
# this machine's closed network refuses, many at a time), no first-run UI, no GPU. Site isolation
# is off: with it, every navigation of a reused tab started a new renderer process (about 500 for
# 400 renders of the rendered benchmark, 15 without), which cost a fifth of the render's CPU. It
# guards a user's data in one site from a page of another in the same process; an audit's browser
# holds none (throw-away profile, storage cleared between pages; SECURITY.md, rendered mode).
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--disable-site-isolation-trials",
)

INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: apt-get install chromium) and the render extra "
    "(pip install 'smo-audit[render]'), or point SMO_AUDIT_CHROMIUM at a Chromium binary"
)


class ChromiumNotFound(RuntimeError):
    """No usable Chromium binary: rendered mode cannot run."""


def _playwright_install() -> str | None:
    """The Chromium Playwright downloaded itself, when there is one (never on offline machines)."""
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    for candidate in sorted(root.glob("chromium-*/chrome-linux*/chrome"), reverse=True):
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def find_chromium(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The path of the Chromium to launch, or ChromiumNotFound saying how to install one."""
    env = os.environ if environ is None else environ
    for name, value in (("chromium setting", explicit), (ENV_VAR, env.get(ENV_VAR))):
        if value:
            resolved = shutil.which(value) or (value if os.access(value, os.X_OK) else None)
            if resolved is None:
                raise ChromiumNotFound(f"{name} names {value!r}, which is not an executable file")
            return resolved
    found = _playwright_install()
    if found:
        return found
    for name in PATH_NAMES:
        resolved = shutil.which(name, path=env.get("PATH"))
        if resolved:
            return resolved
    raise ChromiumNotFound(f"no Chromium found: {INSTALL_HINT}")


def hermetic_env(profile_dir: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Chromium writes to ~/.config/chromium and ~/.cache/dconf even with a temporary profile;
    pointing XDG_* at the profile folder keeps the user's home untouched."""
    env = dict(os.environ if environ is None else environ)
    env["XDG_CONFIG_HOME"] = str(profile_dir)
    env["XDG_CACHE_HOME"] = str(profile_dir)
    return env
