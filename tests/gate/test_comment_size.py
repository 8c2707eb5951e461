"""The pull-request comment `smo-audit github --comment-body` writes: under GitHub's limit as
GitHub counts it, and with the baseline diff kept whole when the report has to be cut."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from smo_audit.gate.github import comment_marker
from smo_audit.report.markdown import GITHUB_COMMENT_LIMIT, size
from tests.report.factory import synthetic_report


@pytest.mark.parametrize("emoji", [0, 200])
def test_a_long_report_is_cut_in_utf16_units_and_the_baseline_diff_is_kept(tmp_path: Path, emoji: int) -> None:
    """5,000 pages fill the comment with the report; the pull request made og-image fail on 30 of
    them. The diff after the report, what this pull request made worse, was what the cut (from the
    end) took away; and with pages named in emoji the body's len() was under the cut while GitHub,
    which counts UTF-16 units (two per emoji), got more than its 65,536."""
    report = synthetic_report(5000)
    pages = [p.model_copy(update={"source_path": "\U0001f600" * emoji + f"{i}.html"}) for i, p in enumerate(report.pages)]
    report = report.model_copy(update={"pages": pages})
    baseline = report.model_copy(update={"pages": [
        p.model_copy(update={"findings": [replace(f, status="pass") if f.rule == "og-image" else f for f in p.findings]})
        if i < 30 else p for i, p in enumerate(pages)]})
    (tmp_path / "report.json").write_text(report.model_dump_json(), "utf-8")
    (tmp_path / "baseline.json").write_text(baseline.model_dump_json(), "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    result = subprocess.run([sys.executable, "-m", "smo_audit", "github", "report.json", "--baseline", "baseline.json",
                             "--comment-body", "comment.md"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    body = (tmp_path / "comment.md").read_text("utf-8")
    assert size(body) <= GITHUB_COMMENT_LIMIT, size(body)
    assert body.startswith(comment_marker("https://shop.example/") + "\n## smo-audit: ")
    report_part, _, diff_part = body.partition("## smo-audit baseline: ")
    assert "### Worse (30)" in diff_part and "og\\-image on " in diff_part and "### Better (0)" in diff_part
    assert "problems not shown" in report_part and report_part.rstrip().endswith("</details>")
