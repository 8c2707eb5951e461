"""Baseline gate and `smo-audit diff`, end to end: a fixture site is audited, changed (a tag
removed, a share button added), audited again; diff names what got worse and better, and the exit
codes of `audit --baseline` and `diff` follow new failures and the score tolerance.

Each audit is the real command in a subprocess over the folder (served on 127.0.0.1 by smo-audit
itself); the pages are matched across runs by source file although the port changes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SELECT = ["--select", "og-title", "--select", "og-description", "--select", "og-title-length",
          "--select", "share-buttons-present", "--select", "og-image"]
SHARE = '<a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fsite.example%2Fpost.html">Share on Facebook</a>'


def _page(title: str, *, description: bool = True, share: bool = False, article: bool = False) -> str:
    kind = '<meta property="og:type" content="article">' if article else ""
    desc = '<meta property="og:description" content="What this page is about, in one clear sentence for previews.">' \
        if description else ""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:title" content="{title}">{kind}{desc}</head><body><h1>{title}</h1>'
            f'{SHARE if share else ""}<a href="/post.html">post</a> <a href="/about.html">about</a></body></html>')


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.run([sys.executable, "-m", "smo_audit", *args], capture_output=True, text=True, timeout=120,
                          check=False, cwd=cwd, env=env)


def _write_site(site: Path, *, post_description: bool, post_share: bool, about_title: str = "About our company") -> None:
    site.mkdir(exist_ok=True)
    (site / "index.html").write_text(_page("Home of the site"))
    (site / "post.html").write_text(_page("A post worth sharing", description=post_description, share=post_share, article=True))
    (site / "about.html").write_text(_page(about_title))


def _audit(tmp: Path, out: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return _cli("audit", "site", *SELECT, "--format", "json", "--output", out, "--quiet", *extra, cwd=tmp)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("baseline")
    _write_site(tmp / "site", post_description=True, post_share=False)
    assert _audit(tmp, "old.json").returncode == 0
    # The change: the post loses its og:description and gains a share button.
    _write_site(tmp / "site", post_description=False, post_share=True)
    assert _audit(tmp, "new.json").returncode == 0
    return tmp


def test_diff_lists_what_got_worse_and_better_by_source_file(runs: Path) -> None:
    result = _cli("diff", "old.json", "new.json", "--format", "json", cwd=runs)
    assert result.returncode == 1, result.stderr  # a new failure is a regression
    diff = json.loads(result.stdout)
    worse = {(c["page"], c["rule"], c["old"], c["new"]) for c in diff["worse"]}
    better = {(c["page"], c["rule"], c["old"], c["new"]) for c in diff["better"]}
    assert ("post.html", "og-description", "pass", "fail") in worse
    assert ("(site-wide)", "share-buttons-present", "fail", "pass") in better, better  # a site rule
    assert not any(c[0] in ("index.html", "about.html") for c in worse | better)  # unchanged pages
    assert diff["new_failures"] == 1 and diff["pages_added"] == [] and diff["pages_removed"] == []
    old_score, new_score = (json.loads((runs / n).read_text())["score"] for n in ("old.json", "new.json"))
    assert diff["score"]["old"] == old_score and diff["score"]["new"] == new_score
    assert diff["score"]["delta"] == round(new_score - old_score, 1)
    assert any("1 new failure (og-description)" in r for r in diff["reasons"])


def test_diff_terminal_and_markdown(runs: Path) -> None:
    terminal = _cli("diff", "old.json", "new.json", cwd=runs)
    assert terminal.returncode == 1
    assert "og-description on post.html: pass -> fail" in terminal.stdout
    assert "Worse (" in terminal.stdout and "Better (" in terminal.stdout
    markdown = _cli("diff", "old.json", "new.json", "--format", "markdown", cwd=runs)
    assert markdown.stdout.startswith("## smo-audit baseline: ❌ regressed")
    assert "### Worse (" in markdown.stdout and r"og\-description on post\.html" in markdown.stdout
    same = _cli("diff", "old.json", "old.json", cwd=runs)
    assert same.returncode == 0 and "no regression" in same.stdout


def test_audit_with_a_baseline_fails_on_a_new_failure_whatever_the_tolerance(runs: Path) -> None:
    for tolerance in ("0", "50"):
        result = _audit(runs, "gate.json", "--baseline", "old.json", "--tolerance", tolerance)
        assert result.returncode == 1, result.stderr
        report = json.loads((runs / "gate.json").read_text())
        assert report["passed"] is False
        assert any("new failure" in reason for reason in report["failed_thresholds"])
    # Against itself as the baseline, nothing is new: it passes.
    assert _audit(runs, "self.json", "--baseline", "new.json").returncode == 0


def test_a_score_drop_without_a_new_failure_is_judged_by_the_tolerance(tmp_path: Path) -> None:
    _write_site(tmp_path / "site", post_description=True, post_share=False)
    assert _audit(tmp_path, "old.json").returncode == 0
    # A title too long for previews: a warning, not a failure, that lowers the score.
    _write_site(tmp_path / "site", post_description=True, post_share=False, about_title="About " + "us and our long story " * 8)
    strict = _audit(tmp_path, "new.json", "--baseline", "old.json")
    assert strict.returncode == 1, strict.stderr
    report = json.loads((tmp_path / "new.json").read_text())
    old = json.loads((tmp_path / "old.json").read_text())
    assert report["score"] < old["score"]
    assert any("dropped" in r and "tolerance 0" in r for r in report["failed_thresholds"])
    diff = json.loads(_cli("diff", "old.json", "new.json", "--format", "json", cwd=tmp_path).stdout)
    drop = max(-c["delta"] for c in (diff["score"], *diff["categories"]) if c["delta"] is not None)
    assert drop > 0
    lenient = _audit(tmp_path, "new2.json", "--baseline", "old.json", "--tolerance", f"{drop + 0.5:.1f}")
    assert lenient.returncode == 0, lenient.stderr
    assert json.loads((tmp_path / "new2.json").read_text())["passed"] is True
    assert [(c["page"], c["rule"], c["new"]) for c in diff["worse"]] == [("about.html", "og-title-length", "warn")]
    assert diff["new_failures"] == 0


def test_a_bad_baseline_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text(_page("Home"))
    (tmp_path / "broken.json").write_text("{not json")
    result = _audit(tmp_path, "r.json", "--baseline", "broken.json")
    assert result.returncode == 2 and "broken.json" in result.stderr and "Traceback" not in result.stderr
    missing = _cli("diff", "nope.json", "broken.json", cwd=tmp_path)
    assert missing.returncode == 2 and "nope.json" in missing.stderr
