"""`rules` and `explain` start fast: they read rules/metadata.json and never import the rule
modules or the fetch/preview stack, and their fast path prints what typer's path prints."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from smo_audit.cli import app

PROBE = """
import sys
sys.argv = ["smo-audit", *sys.argv[1:]]
from smo_audit.cli import main
try:
    main()
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("httpx", "selectolax", "jinja2", "rich", "smo_audit_rules")
               or m in ("smo_audit.preview", "smo_audit.crawl.fetcher", "smo_audit.report.model"))
sys.stderr.write("HEAVY:" + ",".join(heavy) + "\\n")
"""


def _probe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)


def test_rules_and_explain_import_no_fetch_or_preview_stack() -> None:
    for args in (["rules"], ["explain", "og-image"]):
        result = _probe(*args)
        heavy = result.stderr.rsplit("HEAVY:", 1)[1].strip()
        assert heavy == "", f"smo-audit {' '.join(args)} imported {heavy}"
        assert result.stdout.strip()


def test_fast_path_prints_what_the_typer_path_prints() -> None:
    runner = CliRunner()
    for args in (["rules"], ["explain", "og-image"], ["explain", "no-such-rule"]):
        fast = _probe(*args)
        slow = runner.invoke(app, args)
        assert fast.stdout == slow.stdout
        assert ("no rule named" in fast.stderr) == ("no rule named" in slow.stderr)
