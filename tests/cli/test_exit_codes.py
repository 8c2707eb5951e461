"""The CLI tells the truth: exact exit codes, one sentence on stderr, no traceback, honest verdicts.

Each failure runs the real command in a subprocess (as a user or CI does) against a loopback
fixture server; nothing is mocked. The internal error comes from a real --rules-dir module that
breaks the pipeline when imported, the way a buggy plugin would.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.scripted_server import html

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Home</title>
<meta property="og:title" content="Home"><meta property="og:description" content="Described.">
</head><body><a href="/next">next</a></body></html>"""
NEXT = "<!doctype html><html><head><title>Next</title></head><body>x</body></html>"
SELECT = ["--select", "og-title", "--select", "og-description", "--select", "og-image", "--select", "twitter-card"]


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.run([sys.executable, "-m", "smo_audit", *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=cwd)


def _one_sentence(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert stderr.count("\n") == 1 and stderr.startswith("smo-audit: error: "), stderr


@pytest.fixture
def site(scripted_server):
    return scripted_server({"/": html(PAGE), "/next": html(NEXT)})


def test_no_threshold_means_no_verdict(site, tmp_path: Path) -> None:
    result = _cli("audit", site.url("/"), "--max-depth", "0", *SELECT, "--format", "json", "-o", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["passed"] is None and report["fail_under"] is None
    score = report["score"]
    assert 0 < score < 100
    summary = result.stderr.strip().split(" -> ")[0]
    assert "passed" not in summary and "threshold" not in summary
    errors = len(report["errors"])
    assert f"score {score:g}/100" in summary
    assert f"1 page, {errors} crawl error{'' if errors == 1 else 's'}," in summary
    terminal = _cli("audit", site.url("/"), "--max-depth", "0", *SELECT, "--quiet")
    assert terminal.returncode == 0
    assert f"Score {score:g}/100" in terminal.stdout
    assert "passed" not in terminal.stdout.split("Score", 1)[1].splitlines()[0]
    assert "1 page " in terminal.stdout


def test_the_score_shown_is_the_score_compared(site) -> None:
    probe = json.loads(_cli("audit", site.url("/"), "--max-depth", "0", *SELECT, "--format", "json", "--quiet").stdout)
    score = probe["score"]
    assert score != round(score), "the fixture should score with a decimal, where rounding for display would lie"
    # A threshold just above the score: below it, and the number printed is the one compared.
    above = _cli("audit", site.url("/"), "--max-depth", "0", *SELECT, "--fail-under", f"{score + 0.05:.2f}", "--quiet")
    assert above.returncode == 1
    line = next(line for line in above.stdout.splitlines() if "Score " in line)
    assert f"Score {score:g}/100" in line and f"below the threshold {score + 0.05:.2f}" in line
    at = _cli("audit", site.url("/"), "--max-depth", "0", *SELECT, "--fail-under", f"{score:g}", "--quiet")
    assert at.returncode == 0
    line = next(line for line in at.stdout.splitlines() if "Score " in line)
    assert f"Score {score:g}/100" in line and "passed" in line
    shown = [float(x) for x in re.findall(r"Score ([0-9.]+)/100", line)]
    assert shown == [score]


def test_plurals_and_counts_agree(site, tmp_path: Path) -> None:
    result = _cli("audit", site.url("/"), *SELECT, "--format", "json", "-o", str(tmp_path / "r.json"))
    report = json.loads((tmp_path / "r.json").read_text())
    assert len(report["pages"]) == 2
    assert "2 pages, 0 crawl errors" in result.stderr


BREAKS_THE_PIPELINE = '''
"""A buggy plugin: it breaks smo-audit's site stage, so the audit hits an internal error late."""
import smo_audit.pipeline


async def _broken(self, site):
    raise RuntimeError("plugin bug in the site stage")


smo_audit.pipeline.Audit._site_rules = _broken
'''


def test_internal_error_exits_4_and_keeps_the_audited_pages(site, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "buggy.py").write_text(BREAKS_THE_PIPELINE)
    output = tmp_path / "report.json"
    result = _cli("audit", site.url("/"), "--rules-dir", str(rules), "--format", "json", "-o", str(output), "--quiet")
    assert result.returncode == 4, result.stderr
    _one_sentence(result.stderr)
    assert "internal error (RuntimeError: plugin bug in the site stage)" in result.stderr
    assert "2 pages audited so far were written" in result.stderr
    report = json.loads(output.read_text())
    assert {p["url"] for p in report["pages"]} == {site.url("/"), site.url("/next")}
    assert report["partial"] is True and report["stop_reason"] == "crashed"


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("import no_such_module_anywhere\n", "ModuleNotFoundError"),
        ("def broken(:\n", "SyntaxError"),
        ("x = 1\nraise ValueError('bad plugin')\n", "ValueError: bad plugin"),
    ],
)
def test_broken_rules_dir_module_exits_2_naming_the_file(site, tmp_path: Path, source: str, needle: str) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "team_rules.py").write_text(textwrap.dedent(source))
    result = _cli("audit", site.url("/"), "--rules-dir", str(rules), "--format", "json")
    assert result.returncode == 2, result.stderr
    _one_sentence(result.stderr)
    assert str(rules / "team_rules.py") in result.stderr and needle in result.stderr
    assert result.stdout == ""
    assert site.hits("/") == 0, "the run stopped before the crawl"
    skipped = _cli("audit", site.url("/"), "--rules-dir", str(rules), "--format", "json", "--quiet",
                   "--skip-broken-plugins", *SELECT)
    assert skipped.returncode == 0, skipped.stderr
    (problem,) = [e for e in json.loads(skipped.stdout)["errors"] if e["kind"] == "plugin"]
    assert "team_rules.py" in problem["message"] and needle in problem["message"]


def test_help_documents_the_exit_codes() -> None:
    result = _cli("audit", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for code in ("0 ok", "1 score below --fail-under", "2 usage/config error", "3 target not auditable",
                 "4 internal error", "130 interrupted", "143 terminated"):
        assert code in text, code
    assert "--skip-broken-plugins" in text


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("command", [["report"], ["diff", "GOOD"], ["report", "--merge"]])
def test_json_nested_too_deep_is_one_sentence_and_exit_2(site, tmp_path: Path, command: list[str]) -> None:
    good = tmp_path / "good.json"
    assert _cli("audit", site.url("/"), "--max-depth", "0", *SELECT, "-q", "-f", "json", "-o", str(good)).returncode == 0
    deep = tmp_path / "deep.json"
    deep.write_text('{"tool": {"name": "smo-audit"}, "x": ' + _nested(100_000) + "}\n")
    args = [str(good) if arg == "GOOD" else arg for arg in command]
    result = _cli(*args, str(deep))
    assert result.returncode == 2, result.stderr
    _one_sentence(result.stderr)
    assert str(deep) in result.stderr and "nested too deep" in result.stderr


def test_a_report_whose_schema_version_is_a_number_is_named_so(site, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    assert _cli("audit", site.url("/"), "--max-depth", "0", *SELECT, "-q", "-f", "json", "-o", str(good)).returncode == 0
    data = json.loads(good.read_text())
    data["schema_version"] = 1.4
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(data))
    result = _cli("report", str(odd))
    assert result.returncode == 2
    _one_sentence(result.stderr)
    assert "schema_version is 1.4, not a version string" in result.stderr


def test_a_config_folder_is_named_a_folder(site, tmp_path: Path) -> None:
    result = _cli("audit", site.url("/"), "--config", str(tmp_path), "-q")
    assert result.returncode == 2
    _one_sentence(result.stderr)
    assert "is a folder" in result.stderr


def test_the_written_line_escapes_control_characters_in_the_output_path(site, tmp_path: Path) -> None:
    folder = tmp_path / "x\x1b[31m"
    result = _cli("audit", site.url("/"), "--max-depth", "0", *SELECT, "-f", "json", "-o", str(folder / "r.json"))
    assert result.returncode == 0, result.stderr
    assert (folder / "r.json").exists()
    assert "\x1b" not in result.stderr and "x\\x1b[31m" in result.stderr, result.stderr


@pytest.mark.parametrize("target", ["", "   "])
def test_an_empty_target_is_a_usage_error_not_the_working_directory(tmp_path: Path, target: str) -> None:
    # `smo-audit audit "$BUILD_DIR"` with the variable unset in CI: never the folder it runs in
    (tmp_path / "index.html").write_text("<!doctype html><html><head><title>Repo</title></head></html>")
    result = _cli("audit", target, "--format", "json", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    _one_sentence(result.stderr)
    assert "TARGET is empty" in result.stderr and result.stdout == ""
