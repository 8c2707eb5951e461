"""The folder smo-audit is run from is not on its import path: a `json.py` there (a project's own
module, or anything planted in a build folder) is never imported, by the page workers or, with
`python -m smo_audit` (how the GitHub Action runs it, in the repository's checkout), by the audit.

`python -c`, which the worker fork server runs as, and `python -m` put the working directory first
on sys.path; the audit runs here from a folder whose json.py and selectolax.py would end the
import at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "site"
PLANTED = 'raise SystemExit("planted module imported from the working directory")\n'


@pytest.mark.parametrize("program", [[str(Path(sys.executable).with_name("smo-audit"))],
                                     [sys.executable, "-m", "smo_audit"]], ids=["smo-audit", "python -m"])
def test_modules_in_the_working_directory_are_not_imported(tmp_path: Path, program: list[str]) -> None:
    for name in ("json.py", "selectolax.py"):
        (tmp_path / name).write_text(PLANTED)
    report = tmp_path / "out" / "report.json"
    command = [*program, "audit", str(DEMO), "-f", "json", "-o", str(report), "-q"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "planted module" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stderr  # audited (1: below a threshold), not exit 3 or 4
    pages = json.loads(report.read_text())["pages"]
    assert len(pages) == 9 and all(p["status"] == 200 for p in pages)
