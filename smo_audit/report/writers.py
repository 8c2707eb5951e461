"""The report formats, by name: what file each writes and the function that renders it.

Every writer is a pure function of the Report (plus the rule registry for docs): callers such as
the CLI, `smo-audit report` and the GitHub Action render any format from a saved JSON report the
same way as from a live run. Formats and their file names in an --output-dir are documented in
the README ("Report formats").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from smo_audit.report.model import Report

if TYPE_CHECKING:
    from smo_audit.engine.api import Rule


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What a writer may use besides the report: rule docs, the target folder (SARIF lines) and
    the file being written (the HTML report links screenshots relative to its own folder)."""

    rules: Mapping[str, Rule] | None = None
    source_root: Path | None = None
    output: Path | None = None  # None: stdout (relative links are then relative to the working folder)


def _json(report: Report, ctx: RenderContext) -> str:
    from smo_audit.report.json_writer import to_json

    return to_json(report)


def _markdown(report: Report, ctx: RenderContext) -> str:
    from smo_audit.report.markdown import to_markdown

    return to_markdown(report, ctx.rules)


def _sarif(report: Report, ctx: RenderContext) -> str:
    from smo_audit.report.sarif import to_sarif

    return to_sarif(report, ctx.rules, source_root=ctx.source_root)


def _junit(report: Report, ctx: RenderContext) -> str:
    from smo_audit.report.junit import to_junit

    return to_junit(report, ctx.rules)


def _csv(report: Report, ctx: RenderContext) -> str:
    from smo_audit.report.csv_writer import to_csv

    return to_csv(report)


def _ndjson(report: Report, ctx: RenderContext) -> str:
    from smo_audit.report.ndjson import to_ndjson

    return to_ndjson(report)


def _html(report: Report, ctx: RenderContext) -> str:
    from smo_audit.report.html import to_html

    return to_html(report, ctx.rules, output=ctx.output)


RENDERERS: dict[str, Callable[[Report, RenderContext], str]] = {
    "json": _json,
    "html": _html,
    "markdown": _markdown,
    "sarif": _sarif,
    "junit": _junit,
    "csv": _csv,
    "ndjson": _ndjson,
}


def render_report(name: str, report: Report, ctx: RenderContext | None = None) -> str:
    """The report in format `name` (one of FILE_FORMATS) as text."""
    text = RENDERERS[name](report, ctx or RenderContext())
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate from a page (a JSON-LD "\\ud800" escape) cannot be written as UTF-8.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text

