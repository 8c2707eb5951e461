"""Rule discovery: an entry-point plugin, a --rules-dir folder, and what happens when rules break.

Plugins are loaded in a real subprocess whose sys.path holds a tiny installed distribution
(a dist-info folder with entry_points.txt), exactly as pip would leave it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smo_audit.cli import app
from smo_audit.engine.registry import load_rules
from smo_audit.errors import RuleLoadError
from tests.support.scripted_server import html

RULE_TEMPLATE = '''
from smo_audit.engine.api import page_rule, passed, failed


@page_rule(id="{rule_id}", title="{title}", category="{category}", severity="info", weight=1)
def check(ctx):
    """
    ## What it checks
    Something {rule_id}.

    ## Why it matters
    Because.

    ## How to fix
    Fix it.
    """
    {body}
'''


def _rule_source(rule_id: str, body: str = "return passed('fine')", *, title: str = "A plugin rule",
                 category: str = "plugin-checks") -> str:
    return RULE_TEMPLATE.format(rule_id=rule_id, body=body, title=title, category=category)


def _write_distribution(root: Path, module: str, source: str, entry_name: str = "acme") -> None:
    package = root / module
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(source)
    info = root / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[smo_audit.rules]\n{entry_name} = {module}\n")


def _cli(args: list[str], extra_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path)
    return subprocess.run([sys.executable, "-m", "smo_audit", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


@pytest.fixture
def page(scripted_server) -> str:
    server = scripted_server({"/": html("<html><head><title>t</title></head><body>x</body></html>")})
    return server.url("/")


def test_entry_point_plugin_is_discovered_and_runs(tmp_path: Path, page: str) -> None:
    _write_distribution(tmp_path, "acme_smo_rules", _rule_source("acme-check", "return failed('acme says no', 'ev')"))
    listing = _cli(["rules"], tmp_path)
    assert listing.returncode == 0 and "acme-check" in listing.stdout
    result = _cli(["audit", page, "--format", "json", "--quiet", "--max-pages", "1", "--select", "acme-check"], tmp_path)
    report = json.loads(result.stdout)
    (finding,) = report["pages"][0]["findings"]
    assert finding == {"rule": "acme-check", "category": "plugin-checks", "severity": "info", "status": "fail",
                       "message": "acme says no", "evidence": ["ev"], "title": "A plugin rule", "data": None}
    categories = {c["id"]: c["title"] for c in report["categories"]}
    assert categories == {"plugin-checks": "Plugin checks"}


def test_plugin_that_fails_to_import_exits_2_naming_its_file(tmp_path: Path, page: str) -> None:
    _write_distribution(tmp_path, "broken_smo_rules", "raise RuntimeError('boom at import')\n", entry_name="broken")
    result = _cli(["audit", page, "--format", "json", "--quiet", "--max-pages", "1"], tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert "boom at import" in result.stderr and "broken_smo_rules/__init__.py:1" in result.stderr
    assert "--skip-broken-plugins" in result.stderr
    listing = _cli(["rules"], tmp_path)
    assert listing.returncode == 2 and "broken_smo_rules" in listing.stderr


def test_plugin_that_fails_to_import_is_reported_and_skipped_on_request(tmp_path: Path, page: str) -> None:
    _write_distribution(tmp_path, "broken_smo_rules", "raise RuntimeError('boom at import')\n", entry_name="broken")
    result = _cli(["audit", page, "--format", "json", "--quiet", "--max-pages", "1", "--skip-broken-plugins"], tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (error,) = [e for e in report["errors"] if e["kind"] == "plugin"]
    assert "boom at import" in error["message"] and "broken" in error["message"]
    assert any(f["rule"] == "og-title" for f in report["pages"][0]["findings"]), "built-ins still ran"


def test_duplicate_plugin_id_fails_loudly_naming_the_culprit(tmp_path: Path) -> None:
    _write_distribution(tmp_path, "dupe_smo_rules", _rule_source("og-title"), entry_name="dupe")
    result = _cli(["rules"], tmp_path)
    assert result.returncode == 2
    assert "og-title" in result.stderr and "dupe_smo_rules" in result.stderr and "already used" in result.stderr
    assert "Traceback" not in result.stderr


def test_rules_dir_rules_run_and_a_crashing_rule_becomes_rule_error(tmp_path: Path, page: str) -> None:
    rules_dir = tmp_path / "local_rules"
    rules_dir.mkdir()
    (rules_dir / "ok_rule.py").write_text(_rule_source("local-ok"))
    (rules_dir / "crash_rule.py").write_text(_rule_source("local-crash", "return 1 / 0"))
    result = CliRunner().invoke(app, ["audit", page, "--format", "json", "--quiet", "--max-pages", "1",
                                      "--rules-dir", str(rules_dir)])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    findings = report["pages"][0]["findings"]
    assert {"rule": "local-ok", "status": "pass"}.items() <= next(f for f in findings if f["rule"] == "local-ok").items()
    (crash,) = [f for f in findings if f["rule"] == "rule-error"]
    assert crash["status"] == "error" and crash["severity"] == "error"
    assert "local-crash" in crash["message"] and page in crash["message"] and "ZeroDivisionError" in crash["message"]
    assert crash["data"] == {"rule": "local-crash", "url": page}
    assert any(f["rule"] == "og-title" for f in findings), "the audit went on"
    assert report["score"] is not None


def test_debug_reraises_rule_errors(tmp_path: Path, page: str) -> None:
    rules_dir = tmp_path / "r"
    rules_dir.mkdir()
    (rules_dir / "crash.py").write_text(_rule_source("local-crash", "return 1 / 0"))
    result = CliRunner().invoke(app, ["audit", page, "--quiet", "--max-pages", "1", "--rules-dir", str(rules_dir), "--debug"])
    assert isinstance(result.exception, ZeroDivisionError)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (_rule_source("Bad_ID"), "lower-case slug"),
        (_rule_source("no-docs").replace("## Why it matters", "## Whatever"), "missing '## Why it matters'"),
        (_rule_source("rule-error"), "reserved"),
        (_rule_source("empty-title", title=" "), "title is empty"),
        (_rule_source("bad-category", category="Not A Slug"), "category"),
    ],
)
def test_malformed_rules_fail_at_load(tmp_path: Path, source: str, problem: str) -> None:
    (tmp_path / "rule.py").write_text(source)
    with pytest.raises(RuleLoadError, match="rule") as caught:
        load_rules(rules_dirs=[tmp_path])
    assert problem in str(caught.value) and str(tmp_path / "rule.py") in str(caught.value)


def test_rules_dir_must_exist() -> None:
    with pytest.raises(RuleLoadError, match="not a directory"):
        load_rules(rules_dirs=[Path("/no/such/dir")])


def test_builtin_rules_all_have_complete_docs() -> None:
    for rule in load_rules().rules:
        if rule.source == "builtin":
            assert rule.docs is not None
            assert rule.docs.failing_example and rule.docs.passing_example, rule.id
            assert rule.docs.references, f"{rule.id} has no references"


def test_rules_dir_file_with_syntax_error_stops_or_is_reported(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text(textwrap.dedent("def (:\n"))
    with pytest.raises(RuleLoadError, match=r"broken\.py.*SyntaxError"):
        load_rules(rules_dirs=[tmp_path])
    loaded = load_rules(rules_dirs=[tmp_path], skip_broken=True)
    assert loaded.problems and "SyntaxError" in loaded.problems[0][1] and "broken.py" in loaded.problems[0][1]
