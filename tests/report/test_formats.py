"""Several formats in one run, JUnit, CSV and NDJSON: parsed back by real parsers."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from jsonschema import Draft202012Validator
from junitparser import Error, Failure, JUnitXml, Skipped
from typer.testing import CliRunner

from smo_audit.cli import app
from smo_audit.report.csv_writer import COLUMNS, to_csv
from smo_audit.report.junit import to_junit
from smo_audit.report.model import Finding, Report, json_schema
from smo_audit.report.ndjson import read_ndjson, to_ndjson
from tests.report.conftest import DEMO_BASE, DEMO_SITE
from tests.report.factory import synthetic_report


def _problems(report: Report, status: str) -> list[Finding]:
    return [f for p in report.pages if p.duplicate_of is None for f in p.findings if f.status == status] + [
        f for f in report.site_findings if f.status == status]


def test_several_formats_land_in_the_output_dir_under_documented_names(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "nested"
    result = CliRunner().invoke(app, ["audit", str(DEMO_SITE), "--base-url", DEMO_BASE, "--quiet",
                                      "--format", "terminal,json,markdown,sarif,junit,csv,ndjson", "--output-dir", str(out)])
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["report.json", "report.md", "report.sarif", "report.junit.xml", "report.csv", "report.ndjson"])
    assert "What to fix first" in result.stdout, "terminal goes to stdout"
    report = Report.model_validate_json(out.joinpath("report.json").read_text("utf-8"))
    Draft202012Validator(json_schema()).validate(json.loads(out.joinpath("report.json").read_text("utf-8")))
    assert read_ndjson(out.joinpath("report.ndjson").read_text("utf-8").splitlines()) == report
    assert out.joinpath("report.md").read_text("utf-8").startswith("## smo-audit:")
    assert oct(out.joinpath("report.json").stat().st_mode & 0o777) != oct(0o600), "an ordinary file, not 0600"


def test_bad_output_combinations_are_refused_before_the_crawl(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = str(tmp_path / "no-such-site")  # would be exit 3 if the crawl were reached
    several = runner.invoke(app, ["audit", missing, "--format", "json,markdown"])
    assert several.exit_code == 2 and "need --output-dir" in several.stderr
    both = runner.invoke(app, ["audit", missing, "-f", "json", "-o", str(tmp_path / "r.json"), "--output-dir", str(tmp_path)])
    assert both.exit_code == 2 and "not both" in both.stderr
    (tmp_path / "file").write_text("x")
    into_file = runner.invoke(app, ["audit", missing, "-f", "json,csv", "--output-dir", str(tmp_path / "file")])
    assert into_file.exit_code == 2 and "is a file" in into_file.stderr
    unknown = runner.invoke(app, ["audit", missing, "-f", "json,pdf"])
    assert unknown.exit_code == 2 and "pdf" in unknown.stderr
    assert all(r.stderr.count("\n") == 1 for r in (several, both, into_file, unknown)), "one sentence each"


def test_junit_has_a_suite_per_category_and_a_case_per_page_and_rule(demo_report: Report, rules) -> None:
    xml = JUnitXml.fromstring(to_junit(demo_report, rules))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {c.title for c in demo_report.categories}
    cases = [case for suite in xml for case in suite]
    assert len(cases) == sum(len(p.findings) for p in demo_report.pages if p.duplicate_of is None) + len(demo_report.site_findings)
    failures = [r for case in cases for r in case.result if isinstance(r, Failure)]
    assert sorted(f.message for f in failures) == sorted(f.message for f in _problems(demo_report, "fail"))
    assert len([r for case in cases for r in case.result if isinstance(r, Skipped)]) == len(_problems(demo_report, "skip"))
    assert not [r for case in cases for r in case.result if isinstance(r, Error)]
    og = suites["Open Graph"]
    assert og.tests == len(list(og)) and og.failures == len([c for c in og if any(isinstance(r, Failure) for r in c.result)])


def test_junit_survives_control_characters_and_markup(xss_report: Report) -> None:
    page = xss_report.pages[0]
    hostile = Finding(rule="x", category="open-graph", severity="error", status="fail",
                      message="bad \x00\x1b[31m <script>alert(1)</script> ]]> \ud800")
    report = xss_report.model_copy(update={"pages": [page.model_copy(update={"findings": [hostile]})]})
    xml = JUnitXml.fromstring(to_junit(report).encode("utf-8", "replace"))
    message = next(r for s in xml for c in s for r in c.result).message
    assert "<script>alert(1)</script> ]]>" in message and "\x00" not in message


def test_csv_has_a_row_per_page_and_finding_and_never_a_formula() -> None:
    report = synthetic_report(3)
    page = report.pages[0]
    payloads = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "plain"]
    findings = [Finding(rule=p, category="open-graph", severity="warning", status="fail", message=p, evidence=[p]) for p in payloads]
    hostile = report.model_copy(update={"pages": [page.model_copy(update={"findings": findings}), *report.pages[1:]]})
    rows = list(csv.reader(io.StringIO(to_csv(hostile))))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) - 1 == 6 + 2 * 5 + 1
    for row in rows[1:7]:
        for value in (row[3], row[8], row[9]):
            assert value == "plain" or value.startswith("'"), value
    assert rows[1][8] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert rows[1][2] == "40", "numbers stay numbers"


def test_ndjson_round_trip_and_line_shapes(demo_report: Report) -> None:
    text = to_ndjson(demo_report)
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["type"] for line in lines] == ["page"] * len(demo_report.pages) + ["summary"]
    assert lines[-1]["page_count"] == len(demo_report.pages) and "pages" not in lines[-1]
    assert read_ndjson(text.splitlines()) == demo_report


def test_ndjson_streams_each_page_as_it_is_audited(tmp_path: Path) -> None:
    """Every page line is on disk when the next page arrives; the summary comes last."""
    import asyncio

    from smo_audit.config import build_config
    from smo_audit.pipeline import Audit, resolve_target
    from smo_audit.report.outputs import OutputPlan, ReportOutputs

    path = tmp_path / "report.ndjson"
    outputs = ReportOutputs(OutputPlan(("ndjson",), output=path), rules=dict)
    on_disk: list[int] = []

    def on_page(page) -> None:
        outputs.on_page(page)
        on_disk.append(len(path.read_text("utf-8").splitlines()))

    cfg = build_config({}, {"base_url": DEMO_BASE, "quiet": True})
    audit = Audit(resolve_target(str(DEMO_SITE)), cfg, on_page=on_page)
    outputs.start()
    report = asyncio.run(audit.run())
    assert on_disk == list(range(1, len(on_disk) + 1)) and len(on_disk) >= 5
    outputs.finish(report)
    lines = path.read_text("utf-8").splitlines()
    assert json.loads(lines[-1])["type"] == "summary" and len(lines) == len(on_disk) + 1
    assert read_ndjson(lines) == report


def _duplicate_site(folder: Path) -> Path:
    """index.html and dup.html alike (same canonical, og:title, og:description), linking each other."""
    folder.mkdir()
    for name, other in (("index.html", "/dup.html"), ("dup.html", "/")):
        (folder / name).write_text(
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Same</title>'
            '<meta property="og:title" content="Same title here"><meta property="og:description" content="Same description">'
            '<link rel="canonical" href="https://example.com/"><meta property="og:url" content="https://example.com/">'
            f'</head><body><a href="{other}">other</a></body></html>')
    return folder


def test_every_format_counts_the_problems_of_a_duplicate_page_once(tmp_path: Path) -> None:
    """dup.html is index.html's duplicate: out of the score and, in every format, out of the problem
    counts. SARIF and Markdown counted its findings too (through summary.all_findings), while JUnit,
    CSV, the annotations and the terminal left them out."""
    from smo_audit.gate.github import find_annotations

    site = _duplicate_site(tmp_path / "site")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["audit", str(site), "--quiet", "--show", "rules", "--output-dir", str(out),
                                      "--format", "terminal,json,markdown,sarif,junit,csv"])
    assert result.exit_code == 0, result.stderr
    report = Report.model_validate_json((out / "report.json").read_text("utf-8"))
    assert [p.source_path for p in report.pages if p.duplicate_of] == ["dup.html"]
    expected = len(_problems(report, "fail")) + len(_problems(report, "warn"))
    duplicate = next(p for p in report.pages if p.duplicate_of)
    assert any(f.status in ("fail", "warn") for f in duplicate.findings), "the JSON keeps the duplicate's findings"
    junit = JUnitXml.fromfile(str(out / "report.junit.xml"))
    cases = [case for suite in junit for case in suite]
    counts = {
        "sarif": len(json.loads((out / "report.sarif").read_text("utf-8"))["runs"][0]["results"]),
        "markdown": int(re.search(r"All (\d+) problems", (out / "report.md").read_text("utf-8")).group(1)),  # type: ignore[union-attr]
        "junit": sum(1 for case in cases if any(isinstance(r, Failure) for r in case.result)
                     or (case.system_out or "").startswith("warning:")),
        "csv": sum(1 for row in csv.DictReader(io.StringIO((out / "report.csv").read_text("utf-8")))
                   if row["status"] in ("fail", "warn")),
        "terminal": len(re.findall(r"^  (?:fail|warn) ", result.stdout, re.M)),
    }
    assert counts == dict.fromkeys(counts, expected), (expected, counts)
    annotated = [f for f in _problems(report, "fail") + _problems(report, "warn") if f.severity != "info"]
    assert len(find_annotations(report)) == len(annotated)  # annotations leave info-level rules out by design
    assert "dup.html" not in (out / "report.md").read_text("utf-8") and "dup.html" not in (out / "report.sarif").read_text("utf-8")
