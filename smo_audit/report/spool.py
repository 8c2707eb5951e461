"""The page spool: audited pages on disk, one JSON object a line, read back in URL order.

Why: a report built whole in memory grows with the site (1.7 GB at 10,000 pages) and serialising
it at the end costs as much again. Each page is written here as soon as it is audited (pydantic's
`model_dump_json`, in Rust), and the final report is streamed from these lines
(`json_writer.write_report`), so memory stays flat however large the site. The lines are the
report's own `pages[]` objects, each opened with `"type":"page"`: the page lines of the NDJSON
report format (`report/ndjson.py`), so a spool is an NDJSON report without its summary line.

A page found to be a duplicate after it was written is not rewritten on disk: the spool remembers
the change and applies it while the lines are read back.

Pages are written in the order they were audited, which differs from run to run (requests in
flight finish in any order) and between one process and a merge of shards; they are read back
sorted by URL (the spool keeps each line's URL and offset: about 100 bytes a page), so the same
audit writes the same report.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from array import array
from collections.abc import Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]  # public, untyped in typeshed
from pathlib import Path

from pydantic_core import PydanticSerializationError

from smo_audit.report.model import Page


def valid_utf8_json(text: str) -> str:
    """JSON text that encodes as UTF-8: lone surrogates (from a page's JSON-LD escapes) become U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


PAGE_PREFIX = '{"type":"page",'
_URL_START = PAGE_PREFIX + '"url":"'


def _line_url(line: str) -> str:
    """The page URL of a spool line: read with JSON's string scanner where the line starts as ours
    do, else by parsing the line (a part written out again by another tool)."""
    if line.startswith(_URL_START):
        with contextlib.suppress(ValueError):
            return str(scanstring(line, len(_URL_START))[0])
    with contextlib.suppress(ValueError, AttributeError):
        return str(json.loads(line).get("url", ""))
    return ""


def page_json(page: Page) -> str:
    """One page as compact JSON text: pydantic's fast path, the slow one only for lone surrogates."""
    try:
        return page.model_dump_json()
    except PydanticSerializationError:
        return valid_utf8_json(json.dumps(page.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")))


def ndjson_page_line(page: Page) -> str:
    """The NDJSON report's page line: `{"type":"page", <the page's fields>}`."""
    return PAGE_PREFIX + page_json(page)[1:]


def report_page_text(line: str) -> str:
    """An NDJSON page line as the JSON report's page object (string slicing, no parsing)."""
    if line.startswith(PAGE_PREFIX):
        return "{" + line[len(PAGE_PREFIX):]
    data = json.loads(line)
    data.pop("type", None)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class PageEntry:
    """A page's report entry as its NDJSON line, with the model parsed only when someone asks.

    Pages audited in a parse worker arrive as lines: the spool writes them as they are, and only
    a caller that needs the model (NDJSON streamed to stdout, library callers without a spool)
    pays for parsing it.
    """

    __slots__ = ("_page", "line")

    def __init__(self, line: str, page: Page | None = None) -> None:
        self.line = line
        self._page = page

    def page(self) -> Page:
        if self._page is None:
            self._page = Page.model_validate_json(report_page_text(self.line))
        return self._page


class PageSpool:
    """Append-only NDJSON file of audited pages in a private temporary folder; `close()` removes it."""

    def __init__(self, directory: Path | None = None) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="smo-audit-spool-", dir=directory))
        self.path = self._dir / "pages.ndjson"
        self._file = self.path.open("wb", buffering=1024 * 1024)
        self._count = 0
        self._patches: dict[int, dict[str, object]] = {}  # line number -> fields changed after writing
        self._urls: list[str] = []  # line number -> the page's URL (the order lines are read back in)
        self._offsets = array("q")  # line number -> where the line starts in the file

    def __len__(self) -> int:
        return self._count

    def append(self, page: Page) -> int:
        """Write one page; return its line number."""
        return self._write(ndjson_page_line(page).encode("utf-8"), page.url)

    def append_line(self, line: str) -> int:
        """Write one page that is already an NDJSON page line (a parse worker's answer)."""
        line = line.rstrip("\r\n")
        return self._write(line.encode("utf-8"), _line_url(line))

    def _write(self, line: bytes, url: str) -> int:
        self._offsets.append(self._file.tell())
        self._urls.append(url)
        self._file.write(line)
        self._file.write(b"\n")
        self._count += 1
        return self._count - 1

    def patch(self, position: int, **fields: object) -> None:
        """Change fields of an already written page (`duplicate_of`) when it is read back."""
        self._patches.setdefault(position, {}).update(fields)

    def ndjson_lines(self) -> Iterator[str]:
        """Every page's NDJSON line, by URL, patches applied. Reads the file; memory stays flat."""
        self._file.flush()
        urls = self._urls
        order = sorted(range(self._count), key=lambda number: (urls[number], number))
        with self.path.open("rb") as handle:
            for number in order:
                handle.seek(self._offsets[number])
                text = handle.readline().rstrip(b"\n").decode("utf-8")
                patch = self._patches.get(number)
                if patch:
                    data = json.loads(text)
                    data.update(patch)
                    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
                yield text

    def lines(self) -> Iterator[str]:
        """Every page as the JSON report's `pages[]` object text (the NDJSON line minus its type)."""
        for line in self.ndjson_lines():
            yield report_page_text(line)

    def pages(self) -> Iterator[Page]:
        """The pages as models again (for writers that need the whole report in memory)."""
        for text in self.lines():
            yield Page.model_validate_json(text)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> PageSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten spool must not leave files behind
        with contextlib.suppress(Exception):  # at interpreter shutdown nothing more can be done
            self.close()

