"""JSON output: always valid JSON and valid UTF-8, whatever bytes the crawled pages contained.

The report is written as a stream: the small top-level fields, then `pages`, `site_findings` and
`errors` one object a line, each serialised on its own by pydantic (in Rust). Nothing the size of
the whole report is ever built in memory, so a 10,000-page report costs what one page costs, and
the pages come straight from the on-disk spool (`report/spool.py`). The layout stays readable and
greppable: one page a line.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from pydantic import TypeAdapter

from smo_audit.report.model import CrawlError, Finding, Report
from smo_audit.report.spool import page_json, valid_utf8_json

_LISTS = ("pages", "site_findings", "errors")
_findings = TypeAdapter(Finding)


def _compact(value: Any) -> str:
    return valid_utf8_json(json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False))


def _finding_json(finding: Finding) -> str:
    try:
        return _findings.dump_json(finding).decode("utf-8")
    except Exception:  # a lone surrogate in a message: the slow, forgiving path
        return _compact(_findings.dump_python(finding, mode="json"))


def _error_json(error: CrawlError) -> str:
    try:
        return error.model_dump_json()
    except Exception:
        return _compact(error.model_dump(mode="json"))


def write_report(out: IO[str], head: Report, pages: Iterable[str] | None = None) -> None:
    """Stream `head` to `out`, with `pages` (JSON texts) in place of `head.pages` when given."""
    fields = head.model_dump(mode="json", exclude=set(_LISTS))
    out.write("{\n")
    for key, value in fields.items():
        out.write(f"  {json.dumps(key)}: {_compact(value)},\n")
    page_lines: Iterable[str] = pages if pages is not None else (page_json(p) for p in head.pages)
    _write_list(out, "pages", page_lines, last=False)
    _write_list(out, "site_findings", (_finding_json(f) for f in head.site_findings), last=False)
    _write_list(out, "errors", (_error_json(e) for e in head.errors), last=True)
    out.write("}\n")


def _write_list(out: IO[str], key: str, items: Iterable[str], *, last: bool) -> None:
    out.write(f'  "{key}": [')
    separator = "\n    "
    for text in items:
        out.write(separator)
        out.write(text)
        separator = ",\n    "
    out.write("\n  ]" if separator != "\n    " else "]")
    out.write("\n" if last else ",\n")


def to_json(report: Report) -> str:
    """The whole report as JSON text (small reports, tests); large ones use `write_report`."""
    buffer = io.StringIO()
    write_report(buffer, report)
    return buffer.getvalue()


def write_report_atomic(path: Path, head: Report, pages: Iterable[str] | None = None) -> None:
    """Stream the report to a temporary file and rename it: a reader never sees half a report."""
    with atomic_text(path) as handle:
        write_report(handle, head, pages)


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a report."""
    with atomic_text(path) as handle:
        handle.write(text)
        if not text.endswith("\n"):
            handle.write("\n")


def is_special(path: Path) -> bool:
    """`path` exists and is neither a file nor a folder: /dev/stdout, /dev/null, a named pipe.

    Anything under /dev or /proc is written in place too: /dev/stdout is a link to /proc/self/fd/1,
    which resolves to a plain file when stdout is redirected to one, and a rename over it would
    replace the machine's /dev/stdout link itself (as root) instead of writing to stdout."""
    try:
        if str(path.absolute()).startswith(("/dev/", "/proc/")):
            return path.exists()
        return path.exists() and not path.is_file() and not path.is_dir()
    except OSError:
        return False


@contextmanager
def atomic_text(path: Path) -> Iterator[IO[str]]:
    """A UTF-8 text handle whose content replaces `path` only once it is complete.

    A temporary file next to `path` is renamed over it, so a reader (a dashboard, the next CI
    step) never sees half a report. A device or a pipe (`-o /dev/stdout`, a FIFO) is written in
    place: renaming a file over it would replace the device node itself.
    """
    if is_special(path):
        with path.open("w", encoding="utf-8", buffering=1024 * 1024) as handle:
            yield handle
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        # mkstemp creates 0600; a report is an ordinary file (CI artifacts, web servers read it).
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8", buffering=1024 * 1024) as handle:
            yield handle
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
