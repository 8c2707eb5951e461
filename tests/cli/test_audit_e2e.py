"""End to end: fixture pages over real loopback HTTP, audited through the CLI, JSON checked
field by field against the contract in DESIGN.md, exit codes checked."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from smo_audit.cli import app
from tests.support.scripted_server import html, png

GOOD = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Good</title>
<link rel="canonical" href="{base}/">
<meta property="og:title" content="A good page"><meta property="og:description" content="Described.">
<meta property="og:image" content="{base}/og.png"><meta property="og:image" content="{base}/og2.png">
<meta property="og:url" content="{base}/"><meta name="twitter:card" content="summary_large_image">
</head><body><p>hello</p></body></html>"""
BAD = "<!doctype html><html><head><title>Bad</title></head><body><p>nothing</p></body></html>"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def site(scripted_server):
    server = scripted_server({})
    server.routes["/"] = html(GOOD.format(base=server.base_url.rstrip("/")))
    server.routes["/bad"] = html(BAD)
    server.routes["/og.png"] = png(1200, 630)  # `--select twitter-card` also selects twitter-fallbacks,
    return server                             # which needs the card's image to load


FIRST_RULES = ("og-title", "og-description", "og-image", "og-url", "twitter-card")


def _audit(runner: CliRunner, *args: str, all_rules: bool = False) -> tuple[int, str, str]:
    """Audit with the foundation's first rules only, so scores here are exact and stable."""
    selection = [] if all_rules or "--select" in args else [x for r in FIRST_RULES for x in ("--select", r)]
    result = runner.invoke(app, ["audit", *args, "--max-pages", "1", "--quiet", *selection])
    return result.exit_code, result.stdout, result.stderr


def test_json_report_follows_the_contract(runner, site) -> None:
    code, out, _ = _audit(runner, site.url("/"), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["schema_version"] == "1.4"
    assert report["tool"]["name"] == "smo-audit" and report["tool"]["version"]
    assert report["target"] == site.url("/")
    assert report["mode"] == "static"
    assert datetime.fromisoformat(report["started_at"]) <= datetime.fromisoformat(report["finished_at"])
    assert report["score"] == 100.0 and report["passed"] is None and report["partial"] is False  # no threshold: not judged
    assert {c["id"] for c in report["categories"]} >= {"open-graph", "twitter-card"}
    assert all({"id", "title", "score", "points_lost", "costs", "reason"} == set(c) for c in report["categories"])
    assert report["fix_first"] == [] and report["score_basis"]["pages"] == 1
    assert report["errors"] == [] and isinstance(report["site_findings"], list)
    assert report["settings"]["target"] == site.url("/") and report["settings"]["base_url"] is None
    assert report["folder"] is None, "a URL target has no build folder"
    (page,) = report["pages"]
    assert page["url"] == site.url("/") and page["final_url"] == site.url("/")
    assert page["status"] == 200 and page["score"] == 100.0
    assert page["source_path"] is None and page["duplicate_of"] is None
    facts = page["facts"]
    assert facts["title"] == "Good"
    assert facts["canonical"] == site.url("/")
    assert facts["open_graph"]["og:title"] == "A good page"
    assert facts["open_graph"]["og:image"] == site.url("/og.png"), "first value wins"
    assert facts["twitter"] == {"twitter:card": "summary_large_image"}
    for key in ("share_buttons", "share_widgets", "profile_links", "sign_in"):
        assert isinstance(facts[key], list)
    assert isinstance(page["preview"], dict)
    by_rule = {f["rule"]: f for f in page["findings"]}
    assert by_rule["og-title"]["status"] == "pass"
    assert by_rule["og-title"]["category"] == "open-graph"
    assert by_rule["og-title"]["severity"] == "error"
    assert any("A good page" in e for e in by_rule["og-title"]["evidence"])


def test_json_report_validates_against_the_published_schema(runner, site) -> None:
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    code, out, _ = _audit(runner, site.url("/bad"), "--format", "json", all_rules=True)
    assert code == 0
    jsonschema.Draft202012Validator(schema).validate(json.loads(out))


def test_bad_page_fails_and_threshold_sets_exit_code(runner, site) -> None:
    code, out, _ = _audit(runner, site.url("/bad"), "--format", "json", "--fail-under", "50")
    report = json.loads(out)
    assert code == 1
    assert report["passed"] is False and report["fail_under"] == 50
    assert report["score"] == 0.0
    statuses = {f["rule"]: f["status"] for f in report["pages"][0]["findings"]}
    assert statuses["og-title"] == "fail" and statuses["twitter-card"] == "fail"
    code, _, _ = _audit(runner, site.url("/"), "--format", "json", "--fail-under", "90")
    assert code == 0


def test_terminal_report_shows_score_and_fixes(runner, site) -> None:
    code, out, _ = _audit(runner, site.url("/bad"))
    assert code == 0
    assert "Score 0/100" in out
    assert "og-title" in out and "Add `<meta property=\"og:title\"" in out


def test_output_file_gets_the_report_and_stdout_stays_empty(runner, site, tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    code, out, _ = _audit(runner, site.url("/"), "--format", "json", "--output", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["pages"][0]["url"] == site.url("/")


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ("http://127.0.0.1:1/", "could not connect"),
        ("ftp://example.com/", "not an http(s) URL"),
        ("http://", "not a valid URL"),
        ("http://[::1/", "not a valid URL"),  # urlsplit raises on the unclosed bracket
        ("./no/such/folder", "neither an http(s) URL nor an existing folder"),
    ],
)
def test_unauditable_targets_exit_3_with_one_sentence(runner, target: str, needle: str) -> None:
    code, out, err = _audit(runner, target, "--format", "json", "--timeout", "5")
    assert code == 3
    assert needle.lower() in err.lower()
    assert "Traceback" not in err and err.count("\n") == 1
    assert out == ""


def test_usage_errors_exit_2(runner, site, tmp_path: Path) -> None:
    code, _, err = _audit(runner, site.url("/"), "--select", "no-such-rule")
    assert code == 2 and "unknown rule or category 'no-such-rule'" in err
    bad = tmp_path / "smo-audit.toml"
    bad.write_text("concurrency = 'many'\n")
    code, _, err = _audit(runner, site.url("/"), "--config", str(bad))
    assert code == 2 and "concurrency" in err and str(bad) in err and "Traceback" not in err
    broken = tmp_path / "broken.toml"
    broken.write_text("max_pages = [\n")
    code, _, err = _audit(runner, site.url("/"), "--config", str(broken))
    assert code == 2 and "not valid TOML" in err


def test_config_file_is_read_and_flags_win(runner, site, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.smo-audit]\nignore = ["twitter-card"]\nfail-under = 99\n')
    monkeypatch.chdir(tmp_path)
    code, out, _ = _audit(runner, site.url("/bad"), "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["fail_under"] == 99
    assert "twitter-card" not in {f["rule"] for f in report["pages"][0]["findings"]}
    code, out, _ = _audit(runner, site.url("/bad"), "--format", "json", "--fail-under", "0")
    assert code == 0


def test_rules_explain_schema_version(runner) -> None:
    listing = runner.invoke(app, ["rules"])
    assert listing.exit_code == 0 and "og-image" in listing.stdout and "twitter-card" in listing.stdout
    explained = runner.invoke(app, ["explain", "og-image"])
    assert explained.exit_code == 0
    for heading in ("## What it checks", "## Why it matters", "## How to fix", "## References"):
        assert heading in explained.stdout
    missing = runner.invoke(app, ["explain", "no-such-rule"])
    assert missing.exit_code == 2 and "no rule named" in missing.stderr
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    assert {"schema_version", "pages", "errors", "site_findings", "fix_first", "score_basis"} <= set(schema["properties"])
    cost = schema["$defs"]["RuleCost"]["properties"]  # the score explanation (schema 1.1)
    assert {"rule", "title", "category", "scope", "points_lost", "pages_affected", "pages_scored"} <= set(cost)
    assert {"costs", "points_lost", "reason"} <= set(schema["$defs"]["CategoryScore"]["properties"])
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.stdout.startswith("smo-audit ")


def test_demo_audits_the_bundled_site(runner) -> None:
    result = runner.invoke(app, ["demo", "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    paths = {p["source_path"] for p in report["pages"]}
    assert {"index.html", "blog/first-crack.html", "about.html"} <= paths
    scores = {p["source_path"]: p["score"] for p in report["pages"]}
    assert scores["blog/first-crack.html"] > scores["about.html"], "the demo has good and bad pages"
    assert all(e["kind"] != "dns" for e in report["errors"]), "the demo never leaves loopback"


def test_terminal_report_prints_page_content_literally(runner, scripted_server) -> None:
    hostile = '[bold red]pwned[/bold red]\x1b[2J\x07'
    server = scripted_server({"/": html(f'<html><head><title>t</title><meta name="twitter:card" content="{hostile}">'
                                        '</head><body></body></html>')})
    code, out, _ = _audit(runner, server.url("/"), "--select", "twitter-card")
    assert code == 0
    assert "[bold red]pwned[/bold" in out, "rich markup from a page must not be interpreted"
    assert "\x1b" not in out and "\x07" not in out, "control characters from a page never reach the terminal"
