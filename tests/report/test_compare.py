"""`smo-audit compare` of three fixture sites: side by side, and what each does that the first does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from smo_audit.cli import app
from tests.report.conftest import ROOT, audit_json
from tests.report.inert import collect
from tests.support.browser import launched_browser

SITES = ROOT / "fixtures" / "report" / "compare"


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("compare")
    paths = []
    for name in ("alpha", "beta", "gamma"):
        import json

        path = folder / f"{name}.json"
        path.write_text(json.dumps(audit_json(SITES / name)), encoding="utf-8")
        paths.append(path)
    return paths


def test_terminal_comparison(saved: list[Path]) -> None:
    result = CliRunner().invoke(app, ["compare", *map(str, saved)])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "alpha.example" in out and "beta.example" in out and "gamma.example" in out
    beta = out.split("What beta.example does that alpha.example does not:", 1)[1].split("What gamma", 1)[0]
    assert "linkedin, whatsapp" in beta and "instagram, youtube" in beta and "sign-in with google" in beta
    assert "rss" in beta and "complete link previews on 100%" in beta
    gamma = out.split("What gamma.example does that alpha.example does not:", 1)[1]
    assert "email" in gamma and "github" in gamma and "atom" in gamma
    assert "facebook" not in gamma, "what the first site already does is not an advantage"


def test_markdown_and_html_comparison(saved: list[Path], tmp_path: Path) -> None:
    runner = CliRunner()
    md = runner.invoke(app, ["compare", *map(str, saved), "--format", "markdown"])
    assert md.exit_code == 0 and md.stdout.startswith("## smo-audit: sites compared")
    table = [line for line in md.stdout.splitlines() if line.startswith("| ")]
    assert table[0].count("|") == 5 and any(line.startswith("| Sign\\-in with") for line in table)
    out = tmp_path / "compare.html"
    html = runner.invoke(app, ["compare", *map(str, saved), "--format", "html", "-o", str(out)])
    assert html.exit_code == 0, html.stderr
    parsed = collect(out.read_text("utf-8"))
    assert sum(1 for tag, _ in parsed.tags if tag == "section") == 3  # the table and two "what X does" sections
    with launched_browser() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(out.as_uri())
        assert page.locator("table tbody tr").count() >= 10 and errors == []
        assert "offers sign-in with google" in page.inner_text("body")


def test_compare_needs_two_readable_reports(saved: list[Path], tmp_path: Path) -> None:
    runner = CliRunner()
    one = runner.invoke(app, ["compare", str(saved[0])])
    assert one.exit_code == 2 and "at least two" in one.stderr
    (tmp_path / "x.json").write_text("[]")
    bad = runner.invoke(app, ["compare", str(saved[0]), str(tmp_path / "x.json")])
    assert bad.exit_code == 2 and "not a smo-audit report" in bad.stderr
