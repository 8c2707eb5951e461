"""The folder smo-audit is run from is not on its import path: a `json.py` there (a project's own
module, or anything planted in a build folder) is never imported, by the page workers or, with
`python -m smo_audit` (how the GitHub Action runs it, in the repository's checkout), by the audit.

`python -c`, which the worker fork server runs as, and `python -m` put the working directory first
on sys.path; the audit runs here from a folder whose json.py and selectolax.py would end the
import at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo" / "site"
PLANTED = 'raise SystemExit("planted module imported from the working directory")\n'
# json and selectolax: imported by the audit and its page workers; socketserver: by the folder
# server (a child process); pathlib and re: by smo_audit's own first imports.
PLANTED_NAMES = ("json.py", "selectolax.py", "socketserver.py", "pathlib.py", "re.py")
SMO_AUDIT = [str(Path(sys.executable).with_name("smo-audit"))]
PYTHON_M = [sys.executable, "-m", "smo_audit"]
# As after a plain `pip install` (the Action's): no .pth file has imported pathlib or re already.
PYTHON_M_NOTHING_PRELOADED = [sys.executable, "-S", "-m", "smo_audit"]


@pytest.mark.parametrize("program", [SMO_AUDIT, PYTHON_M, PYTHON_M_NOTHING_PRELOADED],
                         ids=["smo-audit", "python -m", "python -S -m"])
def test_modules_in_the_working_directory_are_not_imported(tmp_path: Path, program: list[str]) -> None:
    for name in PLANTED_NAMES:
        (tmp_path / name).write_text(PLANTED)
    report = tmp_path / "out" / "report.json"
    command = [*program, "audit", str(DEMO), "-f", "json", "-o", str(report), "-q"]
    env = dict(os.environ)
    if "-S" in program:  # without `site`, the packages as a wheel installs them, and the dependencies
        env["PYTHONPATH"] = os.pathsep.join((str(_installed_layout(tmp_path / "lib")), *_dependency_folders()))
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert "planted module" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stderr  # audited (1: below a threshold), not exit 3 or 4
    pages = json.loads(report.read_text())["pages"]
    assert len(pages) == 8 and all(p["status"] == 200 for p in pages)  # 9 files, 404.html the host's error page


def _installed_layout(where: Path) -> Path:
    """The packages under the names a wheel gives them (pyproject.toml's package-dir), as links:
    the tests' editable install maps them with a finder that `-S` leaves out."""
    where.mkdir()
    package_dir = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    for name, folder in package_dir.items():
        (where / name).symlink_to(ROOT / folder, target_is_directory=True)
    return where


def _dependency_folders() -> list[str]:
    """Where this interpreter finds the dependencies (a venv's purelib/platlib, or the system's)."""
    paths = sysconfig.get_paths()
    found = [paths["purelib"], paths["platlib"], *(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))]
    return list(dict.fromkeys(found))
