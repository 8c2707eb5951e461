"""Every command writes its output the way `audit` writes its report: a reader of stdout that
goes away (`| head`) ends the output quietly, a full disk behind stdout is one sentence and exit 2,
and an output file or folder the command cannot write is refused with one sentence and exit 2,
never a traceback or an "internal error" (exit 4).

The commands run for real, in a subprocess (stdout is a real pipe or /dev/full); the reports they
read come from a small folder audit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Home</title>
<meta property="og:title" content="Home"></head><body><a href="/about.html">about</a></body></html>"""
ABOUT = "<!doctype html><html><head><title>About</title></head><body>x</body></html>"


def _cli(*args: str, stdout: int | object = subprocess.PIPE, env: dict[str, str] | None = None,
         cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith("GITHUB_")}
    return subprocess.run([sys.executable, "-m", "smo_audit", *args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, timeout=120, check=False, env={**base, **(env or {})}, cwd=cwd)


def _one_sentence(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert stderr.count("\n") == 1 and stderr.startswith("smo-audit: error: "), stderr


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid JSON report of a two-page folder."""
    root = tmp_path_factory.mktemp("saved")
    site = root / "site"
    site.mkdir()
    (site / "index.html").write_text(PAGE, encoding="utf-8")
    (site / "about.html").write_text(ABOUT, encoding="utf-8")
    path = root / "a.json"
    result = _cli("audit", str(site), "-f", "json", "-o", str(path), "--quiet", "--workers", "0")
    assert result.returncode == 0, result.stderr
    return path


# Commands that print on stdout; {report} is the saved report.
PRINTING = [
    ["rules"],
    ["rules", "--skip-broken-plugins"],  # the typer path, not the fast one
    ["explain", "og-image"],
    ["explain", "og-image", "--skip-broken-plugins"],
    ["schema"],
    ["config", "--show"],
    ["config", "--show", "--json"],
    ["diff", "{report}", "{report}"],
    ["diff", "{report}", "{report}", "-f", "markdown"],
    ["diff", "{report}", "{report}", "-f", "json"],
    ["compare", "{report}", "{report}"],
    ["compare", "{report}", "{report}", "-f", "markdown"],
    ["report", "{report}", "--page", "/"],
    ["report", "{report}", "--rule", "og-image"],
]


def _args(command: list[str], report: Path) -> list[str]:
    return [arg.replace("{report}", str(report)) for arg in command]


@pytest.mark.parametrize("command", PRINTING, ids=[" ".join(c) for c in PRINTING])
def test_a_full_stdout_is_one_sentence_and_exit_2(report: Path, tmp_path: Path, command: list[str]) -> None:
    with Path("/dev/full").open("w") as full:
        result = _cli(*_args(command, report), stdout=full, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "could not write the report to standard output: No space left on device" in result.stderr
    _one_sentence(result.stderr)


@pytest.mark.parametrize("command", PRINTING, ids=[" ".join(c) for c in PRINTING])
def test_a_reader_that_goes_away_is_not_an_error(report: Path, tmp_path: Path, command: list[str]) -> None:
    """`smo-audit rules | head -1`: the output ends quietly with the command's own exit code."""
    process = subprocess.Popen([sys.executable, "-m", "smo_audit", *_args(command, report)], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first byte
    err = process.stderr.read().decode("utf-8", "replace")
    process.wait(timeout=60)
    assert process.returncode == 0, err
    assert err == "", err


# A destination the command cannot write: {dir} is an existing folder.
UNWRITABLE = [
    (["diff", "{report}", "{report}", "-f", "json", "-o", "{dir}"], {}, "--output {dir} is a folder"),
    (["diff", "{report}", "{report}", "-o", "/proc/x/y"], {}, "cannot write reports in /proc/x (--output)"),
    (["compare", "{report}", "{report}", "-o", "{dir}"], {}, "--output {dir} is a folder"),
    (["compare", "{report}", "{report}", "-f", "html", "-o", "/proc/x/c.html"], {},
     "cannot write reports in /proc/x (--output)"),
    (["github", "{report}", "--comment-body", "{dir}"], {}, "--comment-body {dir} is a folder"),
    (["github", "{report}"], {"GITHUB_STEP_SUMMARY": "{dir}"}, "$GITHUB_STEP_SUMMARY {dir} is a folder"),
    (["github", "{report}"], {"GITHUB_OUTPUT": "{dir}"}, "$GITHUB_OUTPUT {dir} is a folder"),
    (["github", "{report}"], {"GITHUB_STEP_SUMMARY": "/proc/x"}, "($GITHUB_STEP_SUMMARY)"),
]


@pytest.mark.parametrize(("command", "env", "needle"), UNWRITABLE, ids=[" ".join(c[0]) + str(c[1]) for c in UNWRITABLE])
def test_an_unwritable_output_is_one_sentence_and_exit_2(report: Path, tmp_path: Path, command: list[str],
                                                         env: dict[str, str], needle: str) -> None:
    folder = tmp_path / "somedir"
    folder.mkdir()
    summary = tmp_path / "summary.md"
    fill = {"{report}": str(report), "{dir}": str(folder)}

    def filled(text: str) -> str:
        for key, value in fill.items():
            text = text.replace(key, value)
        return text

    environment = {"GITHUB_STEP_SUMMARY": str(summary), **{k: filled(v) for k, v in env.items()}}
    result = _cli(*[filled(arg) for arg in command], env=environment, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert filled(needle) in result.stderr, result.stderr
    _one_sentence(result.stderr)
    assert result.stdout == "" and list(folder.iterdir()) == []
    # Nothing was published before the bad destination was found (github checks them all first).
    assert not summary.exists() or summary.read_text() == ""


def test_output_into_a_new_folder_is_created_as_for_audit(report: Path, tmp_path: Path) -> None:
    """`-o missing/dir/c.txt`: the folders are created, as `audit -o` creates them."""
    for command, name in ((["compare", str(report), str(report)], "c.txt"),
                          (["compare", str(report), str(report), "-f", "markdown"], "c.md"),
                          (["diff", str(report), str(report), "-f", "json"], "d.json")):
        target = tmp_path / "missing" / "dir" / name
        result = _cli(*command, "-o", str(target), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert target.read_text(encoding="utf-8").strip(), command


def test_github_writes_every_destination_when_they_are_writable(report: Path, tmp_path: Path) -> None:
    """Control for the refusals above: the same command with good destinations publishes all."""
    summary, outputs, body = tmp_path / "summary.md", tmp_path / "out.txt", tmp_path / "body.md"
    result = _cli("github", str(report), "--comment-body", str(body),
                  env={"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "score=" in outputs.read_text() and summary.read_text().strip() and body.read_text().strip()
