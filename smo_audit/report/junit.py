"""JUnit XML, for CI systems that show test results: a testsuite per category, a testcase per
page x rule (classname = the page, name = the rule), failures with the rule's message.

Status mapping: fail -> <failure>, error (the rule crashed) -> <error>, skip -> <skipped> with
the reason, warn -> a passing testcase whose <system-out> carries the warning (a warning should
not turn a CI test view red; the score and --fail-under decide the build), pass -> passing.
Text from pages is escaped by ElementTree; characters XML 1.0 cannot carry are replaced.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import TYPE_CHECKING

from smo_audit.report.model import Finding, Page, Report
from smo_audit.report.summary import all_findings, first_paragraph, page_label, rule_infos

if TYPE_CHECKING:
    from smo_audit.engine.api import Rule

# Characters XML 1.0 forbids (controls but tab/newline/CR, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str | None, limit: int = 4000) -> str:
    value = _NOT_XML.sub("\ufffd", text or "")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _case(page: Page | None, finding: Finding, report: Report, fix: str) -> ET.Element:
    case = ET.Element("testcase", {
        "classname": xml_text(page_label(page, report), 1000),
        "name": xml_text(f"{finding.rule}: {finding.title or finding.rule}", 300),
        "time": "0",
    })
    message = xml_text(finding.message, 1000)
    details = "\n".join(xml_text(e, 1000) for e in finding.evidence[:20])
    if fix:
        details = f"{details}\n\nHow to fix: {fix}".strip()
    if finding.status == "fail":
        element = ET.SubElement(case, "failure", {"message": message, "type": finding.severity})
        element.text = details or message
    elif finding.status == "error":
        ET.SubElement(case, "error", {"message": message, "type": "rule-error"}).text = details or message
    elif finding.status == "skip":
        ET.SubElement(case, "skipped", {"message": message})
    elif finding.status == "warn":
        ET.SubElement(case, "system-out").text = f"warning: {message}\n{details}".strip()
    return case


def to_junit(report: Report, rules: Mapping[str, Rule] | None = None) -> str:
    """The report as JUnit XML text."""
    infos = rule_infos(report, rules)
    titles = {c.id: c.title for c in report.categories}
    suites: dict[str, ET.Element] = {}
    counts: dict[str, dict[str, int]] = {}
    for page, finding in all_findings(report):
        category = finding.category
        if category not in suites:
            suites[category] = ET.Element("testsuite", {"name": xml_text(titles.get(category, category), 200),
                                                        "id": xml_text(category, 200)})
            counts[category] = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        info = infos.get(finding.rule)
        fix = first_paragraph(info.fix) if info and info.fix and finding.status in ("fail", "warn") else ""
        suites[category].append(_case(page, finding, report, fix))
        tally = counts[category]
        tally["tests"] += 1
        tally["failures"] += finding.status == "fail"
        tally["errors"] += finding.status == "error"
        tally["skipped"] += finding.status == "skip"
    root = ET.Element("testsuites", {"name": xml_text(f"smo-audit {report.target}", 500)})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for category, suite in suites.items():
        for key, value in counts[category].items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", "0")
        suite.set("timestamp", xml_text(report.started_at[:19], 40))
        root.append(suite)
    for key, value in totals.items():
        if key != "skipped":
            root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
