"""SARIF 2.1.0: findings for code-scanning tools (GitHub code scanning, IDE SARIF viewers).

One `tool.driver.rules[]` entry per rule the report has findings of; one result per failure or
warning. Locations: for a folder target, the source file behind the page (and the line of the
offending tag, found from the finding's evidence, when `source_root` is given and the file can be
read); for a URL target, the page's URL. Site-wide findings point at the start page.

`partialFingerprints` must survive re-runs so code scanning can follow an alert across commits:
they hash the rule, where (file, or URL for URL targets; never the ephemeral port of a folder
audit's loopback server) and the finding's position among that rule's findings on that page, not
the message, whose numbers change as the page changes.
"""

from __future__ import annotations

import hashlib
import html
import json
import posixpath
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_from_bytes

from smo_audit import TOOL_NAME, TOOL_URL
from smo_audit.report.model import Finding, Page, Report
from smo_audit.report.summary import (
    PROBLEM_STATUSES,
    RuleInfo,
    all_findings,
    clean,
    first_paragraph,
    rule_infos,
)

if TYPE_CHECKING:
    from smo_audit.engine.api import Rule

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "smoAuditFinding/v1"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_MAX_SOURCE_BYTES = 8 * 1024 * 1024
_QUOTED = re.compile(r'="([^"]{4,})"')
_PREFIX = re.compile(r"^[a-z0-9_-]{1,30}: ")
_TAG = re.compile(r"^<([a-zA-Z][a-zA-Z0-9]{0,20})[\s>]")
_SELECTOR = re.compile(r"^([a-zA-Z][a-zA-Z0-9]{0,20})[\[.#]")


def _level(rule: RuleInfo, finding: Finding) -> str:
    level = _LEVEL.get(finding.severity, "warning")
    if finding.status == "warn" and level == "error":
        return "warning"  # the rule only warned: not as bad as its failure
    return level


def _rule_entry(rule: RuleInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", rule.id) if part) or rule.id,
        "shortDescription": {"text": clean(rule.title, 200) or rule.id},
        "fullDescription": {"text": first_paragraph(rule.what) if rule.what else clean(rule.title, 200) or rule.id},
        "defaultConfiguration": {"level": _LEVEL.get(rule.severity, "warning")},
        "properties": {"category": rule.category, "tags": ["smo", rule.category]},
    }
    if rule.help_uri:
        entry["helpUri"] = rule.help_uri
    if rule.why or rule.fix:
        parts = [f"Why it matters: {rule.why.strip()}" if rule.why else "", f"How to fix: {rule.fix.strip()}" if rule.fix else ""]
        entry["help"] = {"text": "\n\n".join(p for p in parts if p)}
    return entry


def _source_uri(report: Report, source_path: str) -> str:
    """The file's URI: relative to the working directory when the target was given relatively
    (what GitHub code scanning maps onto the repository), else an absolute file: URI. Both are
    percent-encoded alike (RFC 3986): a file named 'my page#1.html', '100%.html' or 'a:b.html'
    would otherwise read as a fragment, a broken escape or a URI scheme."""
    path = posixpath.normpath(posixpath.join(_path_bytes(report.target), _source_bytes(source_path)))
    quoted = quote_from_bytes(path, safe="/")  # every byte but unreserved characters and '/', as as_uri
    return f"file://{quoted}" if path.startswith(b"/") else quoted


def _path_bytes(path: str) -> bytes:
    """A path's bytes; a name that is no valid UTF-8 (a lone surrogate from a saved report) has
    '?' (%3F once quoted) where it breaks."""
    try:
        return path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return path.encode("utf-8", "replace")


def _source_bytes(source_path: str) -> bytes:
    """The file system bytes of a page's source_path: a folder audit names a file that is not
    UTF-8 with escapes (`caf\\xe9.html`, a real backslash `\\x5c`), which are undone here, so
    the URI is the file's own (`caf%E9.html`), not that of a file named with a backslash."""
    from smo_audit.crawl.folder import fs_bytes

    try:
        return fs_bytes(source_path)
    except UnicodeEncodeError:
        return _path_bytes(source_path)


def _needles(finding: Finding) -> list[tuple[str, str]]:
    """(tag name, text) pairs from tag-shaped evidence worth searching the source for: the whole
    tag first, then its quoted attribute values. Other evidence ("missing: x") names no tag."""
    needles: list[tuple[str, str]] = []
    for item in finding.evidence[:5]:
        text = _PREFIX.sub("", item.strip()[:2000])
        tag = _TAG.match(text) or _SELECTOR.match(text)
        if tag is None:
            continue
        name = tag.group(1).lower()
        if text.startswith("<"):
            needles.append((name, text))
        needles += [(name, m.group(1)) for m in _QUOTED.finditer(text)]
    return needles


class _Sources:
    """Line numbers of evidence in the target folder's files (each file read once, bounded)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root.resolve() if root is not None else None
        self._lines: dict[str, list[str] | None] = {}

    def lines(self, source_path: str) -> list[str] | None:
        if source_path not in self._lines:
            self._lines[source_path] = self._read(source_path)
        return self._lines[source_path]

    def _read(self, source_path: str) -> list[str] | None:
        if self.root is None:
            return None
        from smo_audit.crawl.folder import file_of

        try:
            path = file_of(self.root, source_path).resolve()  # the real name behind `caf\\xe9.html`
            if not path.is_relative_to(self.root) or not path.is_file():
                return None  # a saved report is untrusted: never read outside the target folder
            with path.open("rb") as handle:
                data = handle.read(_MAX_SOURCE_BYTES)
        except (OSError, UnicodeEncodeError):
            return None
        return data.decode("utf-8", "replace").splitlines()

    def line_of(self, source_path: str, finding: Finding) -> int | None:
        lines = self.lines(source_path)
        if not lines:
            return None
        for tag, needle in _needles(finding):
            opening = f"<{tag}"
            for variant in dict.fromkeys((needle, html.escape(needle, quote=False), html.escape(needle))):
                for number, line in enumerate(lines, 1):
                    if variant in line and opening in line.lower():
                        return number
        return None


def _location(report: Report, page: Page | None, finding: Finding, sources: _Sources) -> tuple[dict[str, Any], str]:
    """The result's location and the stable place key its fingerprint hashes."""
    anchor = page if page is not None else (report.pages[0] if report.pages else None)
    if anchor is not None and anchor.source_path:
        physical: dict[str, Any] = {"artifactLocation": {"uri": _source_uri(report, anchor.source_path)}}
        line = sources.line_of(anchor.source_path, finding) if page is not None else None
        if line is not None:
            physical["region"] = {"startLine": line}
        place = f"file:{anchor.source_path}" if page is not None else "site"
    else:
        url = anchor.url if anchor is not None else report.target
        physical = {"artifactLocation": {"uri": url}}
        place = f"url:{url}" if page is not None else f"site:{report.target}"
    location: dict[str, Any] = {"physicalLocation": physical}
    if page is not None:
        location["logicalLocations"] = [{"name": clean(page.url, 500), "kind": "resource"}]
    return location, place


def to_sarif_dict(report: Report, rules: Mapping[str, Rule] | None = None, *, source_root: Path | None = None) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log (a JSON-ready dict)."""
    infos = rule_infos(report, rules)
    index = {rule_id: i for i, rule_id in enumerate(infos)}
    sources = _Sources(source_root)
    results: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for page, finding in all_findings(report):
        if finding.status not in PROBLEM_STATUSES:
            continue
        rule = infos[finding.rule]
        location, place = _location(report, page, finding, sources)
        key = f"{finding.rule}\x1f{place}"
        seen[key] = seen.get(key, 0) + 1
        fingerprint = hashlib.sha256(f"{key}\x1f{seen[key]}".encode("utf-8", "replace")).hexdigest()[:32]
        message = clean(finding.message, 2000) or rule.title
        if page is None:
            message = f"Site-wide: {message}"
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": _level(rule, finding),
            "kind": "fail",
            "message": {"text": message},
            "locations": [location],
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
            "properties": {"status": finding.status, "category": finding.category},
        }
        if finding.evidence:
            result["properties"]["evidence"] = [clean(e, 1000) for e in finding.evidence[:20]]
        if page is not None:
            result["properties"]["pageUrl"] = page.url
        results.append(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "informationUri": TOOL_URL,
                "rules": [_rule_entry(rule) for rule in infos.values()],
            }
        },
        "invocations": [
            {
                "executionSuccessful": not report.partial,
                "startTimeUtc": report.started_at,
                "endTimeUtc": report.finished_at,
                "toolExecutionNotifications": [
                    {"level": "warning", "message": {"text": clean(f"{e.url}: {e.kind}: {e.message}", 1000)}}
                    for e in report.errors[:1000]
                ],
            }
        ],
        "results": results,
        "properties": {"target": report.target, "mode": report.mode, "score": report.score,
                       "passed": report.passed, "partial": report.partial},
    }
    if not _valid_time(report.started_at) or not _valid_time(report.finished_at):
        run["invocations"][0].pop("startTimeUtc")
        run["invocations"][0].pop("endTimeUtc")
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _valid_time(value: str) -> bool:
    return bool(_ISO.match(value))


def to_sarif(report: Report, rules: Mapping[str, Rule] | None = None, *, source_root: Path | None = None) -> str:
    """The report as SARIF 2.1.0 JSON text."""
    text = json.dumps(to_sarif_dict(report, rules, source_root=source_root), indent=2, ensure_ascii=False)
    # Lone surrogates from a page's JSON-LD would make the file invalid UTF-8 (see json_writer).
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
