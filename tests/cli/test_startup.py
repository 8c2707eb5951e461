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


EARLY_WORKER_CASES = [
    (["audit", "https://example.com"], True),
    (["audit", "./public", "-f", "json", "-o", "r.json"], True),
    (["audit", "https://example.com", "--workers", "0"], False),
    (["audit", "https://example.com", "--workers=0"], False),
    (["audit", "https://example.com", "--debug"], False),
    (["audit", "https://example.com", "--dask", "local:2"], False),
    (["audit", "--help"], False),
    (["audit", "-h"], False),
    (["report", "--merge", "part-1.ndjson"], False),
    (["rules"], False),
    ([], False),
]


def test_the_fork_server_starts_before_option_parsing_only_for_a_plain_audit() -> None:
    """`audit` boots the parse workers' fork server first thing; --help, other commands and the
    options that may run without workers must not pay for it."""
    from smo_audit.cli import wants_early_workers

    for args, expected in EARLY_WORKER_CASES:
        assert wants_early_workers(args) is expected, args
