"""The CLI writes each format through the same writer functions, to stdout or a file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from smo_audit.cli import app
from tests.report.conftest import DEMO_BASE, DEMO_SITE


def test_markdown_and_sarif_from_the_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    md = runner.invoke(app, ["audit", str(DEMO_SITE), "--base-url", DEMO_BASE, "--format", "markdown", "--quiet"])
    assert md.exit_code == 0, md.stderr
    assert md.stdout.startswith("## smo-audit: **") and "### What to fix first" in md.stdout
    out = tmp_path / "out.sarif"
    sarif = runner.invoke(app, ["audit", str(DEMO_SITE), "--base-url", DEMO_BASE, "-f", "sarif", "-o", str(out), "--quiet"])
    assert sarif.exit_code == 0, sarif.stderr
    log = json.loads(out.read_text("utf-8"))
    assert log["version"] == "2.1.0" and log["runs"][0]["results"]
    assert any("region" in r["locations"][0]["physicalLocation"] for r in log["runs"][0]["results"]), \
        "the CLI hands the target folder to the writer, so lines are found"


def test_unknown_format_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["audit", str(DEMO_SITE), "--format", "pdf", "--quiet"])
    assert result.exit_code == 2 and "format" in result.stderr
