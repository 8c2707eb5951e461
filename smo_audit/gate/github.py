"""Publish a finished report to GitHub Actions: job summary, annotations, step outputs, PR comment.

The composite action (action.yml) only moves files around and calls `gh`; everything it shows is
produced here, so it is tested offline with a simulated runner environment:

- the Markdown report (and the baseline diff) appended to $GITHUB_STEP_SUMMARY;
- `::error` / `::warning` workflow commands for failing findings, with `file=` and `line=` when
  the target is a folder, so they annotate the source file in the pull request; GitHub shows at
  most 10 error and 10 warning annotations per step, so at most that many are printed, followed by
  a `::notice` that says how many more there are and where to see them;
- `score`, `passed`, `report-path`, `sarif-path`, `pr-number`, `comment-marker` in $GITHUB_OUTPUT;
- the pull-request comment body, which starts with a hidden marker of the audited target, so that
  a later run of that target finds and updates its comment instead of adding one per push, and
  jobs auditing other targets keep theirs (the action updates only a bot's comment with it).

Everything in a finding came from a crawled page: workflow commands escape it as GitHub documents
(`%`, CR, LF in data; also `:` and `,` in properties), and the Markdown writer escapes the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from smo_audit.report.summary import clean

if TYPE_CHECKING:
    from smo_audit.engine.api import Rule
    from smo_audit.gate.diff import ReportDiff
    from smo_audit.report.model import Finding, Report

PER_LEVEL = 10  # GitHub's cap on error (and on warning) annotations shown per step
COMMENT_LIMIT = 65_000  # GitHub refuses comment bodies over 65,536 characters (UTF-16 code units)
REPORT_FLOOR = 8_000  # room the report keeps beside the longest baseline diff: its score, verdict and fix-first


@dataclass(frozen=True)
class Annotation:
    level: str  # error | warning
    title: str
    message: str
    file: str | None = None
    line: int | None = None

    def command(self) -> str:
        props = [f"title={escape_property(self.title)}"]
        if self.file:
            props.insert(0, f"file={escape_property(self.file)}")
            props.insert(1, f"line={self.line or 1}")
        return f"::{self.level} {','.join(props)}::{escape_data(self.message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _level(finding: Finding) -> str | None:
    if finding.status not in ("fail", "warn") or finding.severity == "info":
        return None
    return "error" if finding.status == "fail" and finding.severity == "error" else "warning"


def find_annotations(report: Report, workspace: Path | None = None) -> list[Annotation]:
    """One annotation per failing or warning finding (info-level rules apart), errors first."""
    from smo_audit.report.sarif import _Sources

    root = Path(report.target) if _is_folder(report.target) else None
    sources = _Sources(root)
    found: list[Annotation] = []
    for page in report.pages:
        if page.duplicate_of is not None:
            continue
        for finding in page.findings:
            level = _level(finding)
            if level is None:
                continue
            title = f"smo-audit: {finding.rule}"
            if root is not None and page.source_path:
                file = _relative(root, page.source_path, workspace)
                line = sources.line_of(page.source_path, finding)
                found.append(Annotation(level, title, clean(finding.message, 500), file, line))
            else:
                found.append(Annotation(level, title, f"{clean(page.url, 300)}: {clean(finding.message, 500)}"))
    for finding in report.site_findings:
        level = _level(finding)
        if level is not None:
            found.append(Annotation(level, f"smo-audit: {finding.rule} (site-wide)", clean(finding.message, 500)))
    return sorted(found, key=lambda a: a.level != "error")


def _is_folder(target: str) -> bool:
    return not target.startswith(("http://", "https://")) and Path(target).is_dir()


def _relative(root: Path, source_path: str, workspace: Path | None) -> str:
    path = Path(posixpath.normpath((root / source_path).as_posix()))
    base = (workspace or Path.cwd()).resolve()
    try:
        return path.resolve().relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def workflow_commands(found: list[Annotation], per_level: int = PER_LEVEL) -> list[str]:
    """The annotations GitHub will show, then a notice about the ones it would drop."""
    lines: list[str] = []
    hidden = 0
    for level in ("error", "warning"):
        of_level = [a for a in found if a.level == level]
        lines += [a.command() for a in of_level[:per_level]]
        hidden += max(0, len(of_level) - per_level)
    if hidden:
        lines.append(f"::notice title=smo-audit::{hidden} more finding{'' if hidden == 1 else 's'} not annotated "
                     f"(GitHub shows at most {per_level} errors and {per_level} warnings per step); "
                     "the job summary and the SARIF report list them all")
    return lines


def comment_marker(target: str) -> str:
    """The hidden first line of the comment about one target. A hash of the target, so that its
    text (a folder may be named anything) reaches neither the HTML comment nor the action's jq
    filter that looks for it: the marker is always `<!-- smo-audit-report ` + 16 hex digits + ` -->`.
    The target is taken as `comment_key` spells it, so `public`, `./public` and `public/` share one."""
    digest = hashlib.sha256(comment_key(target).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"<!-- smo-audit-report {digest} -->"


def comment_key(target: str) -> str:
    """One spelling per target: a folder's normalised POSIX path; a URL's host, port (unless the
    scheme's default), path and query, the scheme and a trailing slash aside (http:// and https://
    of one site are one target; two local servers on two ports, or ?store=de and ?store=fr, two)."""
    text = target.strip()
    if "://" in text:
        try:
            parts = urlsplit(text)
            host = (parts.hostname or "").lower().rstrip(".")
            port = parts.port
        except ValueError:
            return text
        netloc = host if port in (None, 80, 443) else f"{host}:{port}"
        return netloc + (parts.path.rstrip("/") or "/") + (f"?{parts.query}" if parts.query else "")
    return posixpath.normpath(text.replace("\\", "/")).rstrip("/") or "/"


def outputs(report: Report, report_path: Path, sarif_path: Path | None, pr_number: int | None) -> dict[str, str]:
    passed = "" if report.passed is None else "true" if report.passed else "false"
    return {
        "score": "" if report.score is None else f"{report.score:g}",
        "passed": passed,
        "report-path": str(report_path),
        "sarif-path": str(sarif_path) if sarif_path is not None else "",
        "pr-number": str(pr_number) if pr_number is not None else "",
        "comment-marker": comment_marker(report.target),
    }


def pull_request_number(event_path: str | None) -> int | None:
    """The pull request of a pull_request(_target) event, or of an issue_comment on a PR."""
    if not event_path:
        return None
    try:
        event = json.loads(Path(event_path).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(event, dict):
        return None
    for key in ("pull_request", "issue"):
        number = (event.get(key) or {}).get("number") if isinstance(event.get(key), dict) else None
        if isinstance(number, int) and (key == "pull_request" or "pull_request" in event.get("issue", {})):
            return number
    return None


def summary_markdown(report: Report, rules: Mapping[str, Rule] | None, diff: ReportDiff | None) -> str:
    from smo_audit.gate.diff_render import to_markdown as diff_markdown
    from smo_audit.report.markdown import to_markdown

    parts = [to_markdown(report, rules)]
    if diff is not None:
        parts.append(diff_markdown(diff))
    return "\n".join(parts)


def comment_body(report: Report, rules: Mapping[str, Rule] | None, diff: ReportDiff | None, marker: str) -> str:
    """The marker, the Markdown report and the baseline diff in at most COMMENT_LIMIT UTF-16 code
    units (GitHub's count: an emoji is two). The diff goes in first, since it says what this pull
    request changed; the report gets the room left and cuts its own problem list to fit."""
    from smo_audit.gate.diff_render import to_markdown as diff_markdown
    from smo_audit.report.markdown import size, to_markdown

    head = f"{marker}\n"
    tail = "" if diff is None else _fit("\n" + diff_markdown(diff), COMMENT_LIMIT - REPORT_FLOOR)
    room = COMMENT_LIMIT - size(head) - size(tail)
    return head + _fit(to_markdown(report, rules, limit=room), room) + tail


def _fit(text: str, limit: int) -> str:
    """At most `limit` UTF-16 code units of whole lines, with a note where it was cut (a safety net:
    the report's own cut, which keeps its <details> closed, normally leaves nothing to cut)."""
    from smo_audit.report.markdown import size

    if size(text) <= limit:
        return text
    note = "\n… (cut to fit a comment; the job summary has it all)\n"
    kept: list[str] = []
    used = size(note)
    for line in text.split("\n"):
        if used + size(line) + 1 > limit:
            break
        kept.append(line)
        used += size(line) + 1
    return "\n".join(kept) + note


def append(path: str | None, text: str) -> None:
    if path:
        with Path(path).open("a", encoding="utf-8") as handle:
            handle.write(text)


def write_outputs(path: str | None, values: Mapping[str, str]) -> None:
    append(path, "".join(f"{name}={value}\n" for name, value in values.items()))


def environment() -> Mapping[str, str]:
    return os.environ
