"""NDJSON: the streaming form of the report, one JSON object per line.

The line format (documented in the README; the on-disk spool uses the same lines):

    {"type": "page", <every field of pages[] in the JSON report>}       one per page, as audited
    ...
    {"type": "summary", <every top-level field of the JSON report except "pages">,
     "page_count": N, "pages_amended": [<page>, ...]}                   last line, once

A page line is written the moment the page is audited, so a consumer (or `tail -f`) sees results
while the crawl runs. Pages can change after they were streamed (a later page reveals one as the
canonical duplicate of another) or appear without being audited (a redirect to an audited page):
the summary's `pages_amended` holds their final form; a reader replaces streamed pages by `url`
and appends the rest. `read_ndjson` does exactly that and gives back the Report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import IO, Any

from smo_audit.report.json_writer import to_json
from smo_audit.report.model import Page, Report

PAGE = "page"
SUMMARY = "summary"


def _line(data: dict[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # Same rule as the JSON writer: lone surrogates from a page become U+FFFD, the line stays UTF-8.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def page_line(page: Page) -> str:
    """One page as an NDJSON line (no newline); the page spool writes the same lines."""
    from smo_audit.report.spool import ndjson_page_line

    return ndjson_page_line(page)


def summary_line(report: Report, streamed: Iterable[Page] = ()) -> str:
    """The closing line: the report without its pages, plus the pages that differ from `streamed`."""
    data = json.loads(to_json(report.model_copy(update={"pages": []})))
    data.pop("pages")
    sent = {page.url: page for page in streamed}
    amended = [p.model_dump(mode="json") for p in report.pages if sent.get(p.url) != p]
    return _line({"type": SUMMARY, **data, "page_count": len(report.pages), "pages_amended": amended})


def to_ndjson(report: Report) -> str:
    """The whole report as NDJSON text (every page line, then the summary line)."""
    lines = [page_line(page) for page in report.pages]
    lines.append(summary_line(report, report.pages))
    return "\n".join(lines) + "\n"


class NdjsonStream:
    """Writes page lines as pages are audited and the summary at the end, flushing each line."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.streamed: dict[str, Page] = {}

    def page(self, page: Page) -> None:
        self.handle.write(page_line(page) + "\n")
        self.handle.flush()
        self.streamed[page.url] = page

    def finish(self, report: Report) -> None:
        self.handle.write(summary_line(report, self.streamed.values()) + "\n")
        self.handle.flush()


class NotNdjsonReport(ValueError):
    """The text is not smo-audit NDJSON (no summary line, or a line that is not JSON)."""


class NonFiniteNumber(ValueError):
    """A saved report holds NaN, Infinity or a number beyond a float's range (1e400): no report
    smo-audit writes does, and JSON itself has no such value."""


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise NonFiniteNumber(f"the number {text[:40]} is beyond a float's range")
    return number


def _no_constant(text: str) -> Any:
    raise NonFiniteNumber(f"{text} is not a JSON value")


def loads_finite(text: str) -> Any:
    """json.loads that refuses NaN, Infinity and numbers beyond a float's range (NonFiniteNumber):
    read back, they would turn a report into one no JSON parser reads ("score": Infinity)."""
    return json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)


def read_ndjson(lines: Iterable[str]) -> Report:
    """The Report an NDJSON stream describes (page lines + summary), as `to_json` would write it."""
    pages: list[dict[str, Any]] = []
    summary: dict[str, Any] | None = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = loads_finite(line)
        except NonFiniteNumber as exc:
            raise NotNdjsonReport(f"line {number} is not valid: {exc}") from None
        except json.JSONDecodeError:
            raise NotNdjsonReport(f"line {number} is not JSON") from None
        except RecursionError:
            raise NotNdjsonReport(f"line {number} is JSON nested too deep") from None
        kind = data.pop("type", None) if isinstance(data, dict) else None
        if kind == PAGE:
            pages.append(data)
        elif kind == SUMMARY:
            summary = data
        elif kind == "shard":
            continue  # a shard part's merge facts (smo_audit/shard.py): not part of the report
        else:
            raise NotNdjsonReport(f"line {number} is neither a page nor the summary line")
    if summary is None:
        raise NotNdjsonReport("there is no summary line (the run did not finish)")
    summary.pop("page_count", None)
    position = {page.get("url"): i for i, page in enumerate(pages)}
    for page in summary.pop("pages_amended", []):
        if page.get("url") in position:
            pages[position[page["url"]]] = page
        else:
            pages.append(page)
    # The stream is in the order pages were audited; the report lists them by URL, as the JSON
    # report does (report/spool.py), so both describe the same report.
    pages.sort(key=lambda page: str(page.get("url", "")) if isinstance(page, dict) else "")
    return Report.model_validate({**summary, "pages": pages})
