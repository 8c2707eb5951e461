"""CSV for spreadsheet users: one row per page x finding (every status; filter on `status`).

Cells that a spreadsheet would read as a formula (starting with = + - @, tab or CR) get a leading
apostrophe: page text such as `=HYPERLINK("http://evil", "click")` must stay text (CSV injection,
OWASP). Only text cells are guarded; the score column is a number we wrote ourselves.
"""

from __future__ import annotations

import csv
import io

from smo_audit.report.model import Report
from smo_audit.report.summary import all_findings, clean

COLUMNS = ("page_url", "source_path", "page_score", "rule", "title", "category", "severity", "status",
           "message", "evidence")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str | None, limit: int = 2000) -> str:
    """A text cell safe to open in a spreadsheet: one line, bounded, never a formula."""
    text = clean(value, limit)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(report: Report) -> str:
    """The report as CSV text with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for page, finding in all_findings(report):
        score = "" if page is None or page.score is None else f"{page.score:g}"
        writer.writerow((
            cell(page.url if page else "(whole site)"), cell(page.source_path if page else ""), score,
            cell(finding.rule), cell(finding.title or ""), cell(finding.category), cell(finding.severity),
            cell(finding.status), cell(finding.message), cell(" | ".join(finding.evidence[:20]), 4000),
        ))
    return out.getvalue()
