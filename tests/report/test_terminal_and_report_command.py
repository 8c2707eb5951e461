"""Terminal layout (80 columns, verdict last, --show) and `smo-audit report` on saved reports."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from smo_audit.cli import app
from smo_audit.report.model import Report
from smo_audit.report.terminal import render
from tests.report.conftest import DEMO_BASE, DEMO_SITE


def _terminal(report: Report, rules, show: str = "summary") -> list[str]:
    out = io.StringIO()
    render(report, rules, Console(file=out, width=80, color_system=None), show=show)
    return out.getvalue().splitlines()


def test_terminal_fits_80_columns_and_ends_with_the_verdict(demo_report: Report, rules) -> None:
    below = demo_report.model_copy(update={"fail_under": 95.0, "passed": False})
    lines = _terminal(below, rules)
    assert max(len(line) for line in lines) <= 80
    tail = "\n".join(lines[-14:])
    assert "Score " in tail and "below the threshold 95" in tail, "score and verdict on the last screen"
    assert "What to fix first" in "\n".join(lines) and len(lines) < 80


def test_show_expands_pages_and_rules(demo_report: Report, rules) -> None:
    summary = "\n".join(_terminal(demo_report, rules))
    pages = "\n".join(_terminal(demo_report, rules, "pages"))
    rules_view = "\n".join(_terminal(demo_report, rules, "rules"))
    labels = [p.source_path for p in demo_report.pages if p.source_path]
    assert not all(label in summary for label in labels), "the summary shows only the lowest-scoring pages"
    assert all(label in pages for label in labels)
    failing = {f.rule for p in demo_report.pages for f in p.findings if f.status in ("fail", "warn")}
    assert all(rule_id in rules_view for rule_id in failing)
    assert "more rules with problems" in summary and "more rules with problems" not in rules_view
    full = _terminal(demo_report, rules, "all")
    assert max(len(line) for line in full) <= 80 and "Score " in "\n".join(full[-14:])


def test_a_page_shown_with_two_scores_is_told_which_is_which(demo_report: Report, rules) -> None:
    """The page list shows a page's own checks; the score sentence's range counts the site-wide
    checks too. On the demo the two differ for the same page, and both places say so."""
    basis = demo_report.score_basis
    assert basis is not None and basis.page_min is not None
    lowest = min(p.score for p in demo_report.pages if p.score is not None and p.duplicate_of is None)
    assert lowest < basis.page_min, "the demo's lowest page scores lower on its own checks"
    summary = "\n".join(_terminal(demo_report, rules))
    caption = summary.split("Lowest-scoring pages", 1)[1].split("What to fix first", 1)[0]
    assert "own checks" in caption and "site-wide checks" in caption
    assert "site-wide checks counted in" in basis.explanation
    assert "page lists counts its own checks only" in basis.explanation


def _saved(tmp_path: Path, *formats: str) -> Path:
    out = tmp_path / "direct"
    result = CliRunner().invoke(app, ["audit", str(DEMO_SITE), "--base-url", DEMO_BASE, "--quiet",
                                      "--format", ",".join(("json", *formats)), "--output-dir", str(out)])
    assert result.exit_code == 0, result.stderr
    return out


def test_report_round_trip_renders_exactly_what_the_direct_run_wrote(tmp_path: Path) -> None:
    formats = ("html", "markdown", "sarif", "junit", "csv")
    direct = _saved(tmp_path, *formats)
    again = tmp_path / "again"
    result = CliRunner().invoke(app, ["report", str(direct / "report.json"), "--format", ",".join(formats),
                                      "--output-dir", str(again)])
    assert result.exit_code == 0, result.stderr
    for name in ("report.html", "report.md", "report.sarif", "report.junit.xml", "report.csv"):
        assert (again / name).read_bytes() == (direct / name).read_bytes(), name


def test_report_reads_ndjson_too(tmp_path: Path) -> None:
    direct = _saved(tmp_path, "ndjson")
    runner = CliRunner()
    from_json = runner.invoke(app, ["report", str(direct / "report.json"), "--format", "markdown"])
    from_ndjson = runner.invoke(app, ["report", str(direct / "report.ndjson"), "--format", "markdown"])
    assert from_json.exit_code == from_ndjson.exit_code == 0
    assert from_json.stdout == from_ndjson.stdout


def test_drill_down_to_a_page_and_a_rule(tmp_path: Path) -> None:
    saved = _saved(tmp_path) / "report.json"
    runner = CliRunner()
    page = runner.invoke(app, ["report", str(saved), "--page", "about.html"])
    assert page.exit_code == 0, page.stderr
    assert "about.html" in page.stdout and "og-image" in page.stdout and "Link previews" in page.stdout
    assert "→" in page.stdout, "each problem with its fix"
    rule = runner.invoke(app, ["report", str(saved), "--rule", "og-image"])
    assert rule.exit_code == 0, rule.stderr
    report = json.loads(saved.read_text())
    failing = [p["source_path"] for p in report["pages"] for f in p["findings"] if f["rule"] == "og-image" and f["status"] == "fail"]
    assert failing and all(path in rule.stdout for path in failing)
    assert "How to fix" in rule.stdout
    missing = runner.invoke(app, ["report", str(saved), "--page", "nope.html"])
    assert missing.exit_code == 2 and "no page 'nope.html'" in missing.stderr


def test_report_refuses_what_it_cannot_read_in_one_sentence(tmp_path: Path) -> None:
    runner = CliRunner()
    cases = {
        "other.json": ('{"name": "not ours"}', "is not a smo-audit report"),
        "future.json": ('{"schema_version": "2.0", "tool": {"name": "smo-audit", "version": "9"}}', "schema_version '2.0'"),
        "text.json": ("hello", "not JSON"),
        "broken.json": ('{"schema_version": "1.1", "tool": {"name": "smo-audit", "version": "9"}}', "is not a valid smo-audit report"),
    }
    for name, (content, needle) in cases.items():
        (tmp_path / name).write_text(content)
        result = runner.invoke(app, ["report", str(tmp_path / name), "--format", "html"])
        assert result.exit_code == 2 and needle in result.stderr, (name, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert result.stdout == ""
    absent = runner.invoke(app, ["report", str(tmp_path / "absent.json")])
    assert absent.exit_code == 2 and "does not exist" in absent.stderr


def test_a_report_with_a_number_json_cannot_hold_is_refused(tmp_path: Path) -> None:
    """`"score": 1e400` is valid JSON but no float: read back it became `"score": Infinity`
    (invalid JSON) and `Score inf/100`. Such a report, and NaN/Infinity tokens, exit 2."""
    direct = _saved(tmp_path, "ndjson")
    text = (direct / "report.json").read_text(encoding="utf-8")
    assert re.search(r'\n  "score": [0-9.]+,', text)
    runner = CliRunner()
    for value, needle in (("1e400", "the number 1e400 is beyond a float's range"), ("-1e400", "the number -1e400 is beyond a float's range"),
                          ("NaN", "NaN is not a JSON value"), ("Infinity", "Infinity is not a JSON value")):
        edited = tmp_path / f"edited-{value}.json"
        edited.write_text(re.sub(r'\n  "score": [0-9.]+,', f'\n  "score": {value},', text, count=1), encoding="utf-8")
        for command in (["report", str(edited), "-f", "json"], ["report", str(edited)],
                        ["diff", str(direct / "report.json"), str(edited)]):
            result = runner.invoke(app, command)
            assert result.exit_code == 2, (command, result.stderr)
            assert f"{edited} is not a valid smo-audit report ({needle})" in result.stderr, result.stderr
            assert result.stderr.count("\n") == 1 and result.stdout == ""
    lines = (direct / "report.ndjson").read_text(encoding="utf-8").splitlines()
    lines[-1] = re.sub(r'"score":[0-9.]+', '"score":1e999', lines[-1], count=1)
    (tmp_path / "edited.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["report", str(tmp_path / "edited.ndjson"), "-f", "json"])
    assert result.exit_code == 2 and "beyond a float's range" in result.stderr, result.stderr
    assert result.stdout == ""


def test_the_json_writer_never_writes_nan_or_infinity() -> None:
    """Should a non-finite number reach the writer anyway, it refuses rather than write invalid JSON."""
    from smo_audit.report.json_writer import to_json
    from smo_audit.report.model import Tool

    report = Report(tool=Tool(name="smo-audit", version="0"), target="t", mode="static", started_at="s",
                    finished_at="f", score=float("inf"), passed=None, categories=[], pages=[])
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        to_json(report)


def _smo(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI with stdout a pipe, as in CI: rich lays the report out for 80 columns."""
    env = {**{k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE")},
           **(env or {})}
    return subprocess.run([sys.executable, "-m", "smo_audit", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_no_terminal_line_starts_a_workflow_command(tmp_path: Path) -> None:
    """Untrusted text wrapped at 80 columns can begin a line; GitHub's runner trims leading
    whitespace and obeys a line starting with '::'. A link to '/' + 79 'a' + '::error::...' put
    '::error::Injected' at the start of the crawl error's second line. The drill-downs of a saved
    report (untrusted too) get findings whose message wraps the same way."""
    injected = "::error::Injected-by-page-content"
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(f'<!doctype html><html><head><title>{"t" * 60}{injected}</title></head>'
                                     f'<body><a href="/{"a" * 79}{injected}">x</a></body></html>')
    audit = _smo("audit", "site", "--show", "all", "--format", "terminal,json", "--output-dir", "out", cwd=tmp_path)
    assert audit.returncode == 0, audit.stderr
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    for finding in saved["pages"][0]["findings"]:
        finding["message"] = "a" * 80 + injected
    (tmp_path / "tampered.json").write_text(json.dumps(saved))
    drill_page = _smo("report", "tampered.json", "--page", "index.html", cwd=tmp_path)
    drill_rule = _smo("report", "tampered.json", "--rule", "og-title", cwd=tmp_path)
    first = saved["pages"][0]["findings"][0]  # `smo-audit diff` lists a finding's change by its rule id
    first["rule"], first["status"] = injected, "pass"
    category = saved["categories"][0]  # and a category that moved by its id, newline and all
    category["id"], category["score"] = "open-graph\n" + injected, 10
    (tmp_path / "before.json").write_text(json.dumps(saved))
    first["status"], category["score"] = "fail", 90
    (tmp_path / "after.json").write_text(json.dumps(saved))
    diff = _smo("diff", "before.json", "after.json", cwd=tmp_path)
    for result in (audit, drill_page, drill_rule, diff):
        assert result.returncode in (0, 1), result.stderr
        assert "Injected-by-page-content" in result.stdout
        lines = re.split(r"\r\n|\r|\n", result.stdout)
        assert not [line for line in lines if re.match(r"\s*::", line)], result.stdout
    assert re.search(r"^\\::error::Injected", audit.stdout, re.M), "shown, with a backslash in front"


MARKUP = "[link=https://evil.example/]x[/link][bold red]"


def test_a_tampered_report_prints_its_text_literally(tmp_path: Path) -> None:
    """A saved report is untrusted: a rule id, category title or threshold sentence written as rich
    markup with an escape sequence is shown as text. Before, the fix-first table took the rule id
    as markup (a hyperlink, and the raw escape that clears the screen)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><html><head><title>Home</title></head><body></body></html>")
    audit = _smo("audit", "site", "--format", "json", "--output-dir", "out", cwd=tmp_path)
    assert audit.returncode == 0, audit.stderr
    hostile = MARKUP + "\x1b[2J"
    text = (tmp_path / "out" / "report.json").read_text()
    for name in ('"og-image"', '"Open Graph"'):  # the rule id and a category title, everywhere they appear
        assert name in text
        text = text.replace(name, json.dumps(name.strip('"') + hostile))
    saved = json.loads(text)
    saved.update(passed=False, failed_thresholds=[f"fail-on {hostile} holds"])
    for page in saved["pages"]:
        page["preview"] = {hostile: next(iter(page["preview"].values()))} if page.get("preview") else page.get("preview")
    (tmp_path / "tampered.json").write_text(json.dumps(saved))
    env_color = {"FORCE_COLOR": "1"}  # as on a terminal: rich would write a hyperlink's OSC 8
    runs = [_smo("report", "tampered.json", "--show", "all", cwd=tmp_path, env=env_color),
            _smo("report", "tampered.json", "--page", "index.html", cwd=tmp_path, env=env_color),
            _smo("report", "tampered.json", "--rule", "og-image" + hostile, cwd=tmp_path, env=env_color),
            _smo("compare", "tampered.json", "tampered.json", cwd=tmp_path, env=env_color)]
    for result in runs:
        assert result.returncode == 0, result.stderr
        shown = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)  # rich's own colours
        assert "\x1b" not in shown and "\x1b]8;" not in result.stdout, repr(result.stdout)
        assert "[link=https" in shown, shown  # shown as text (cut short in compare's narrow column)
