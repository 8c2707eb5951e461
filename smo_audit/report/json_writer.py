"""JSON output: always valid JSON and valid UTF-8, whatever bytes the crawled pages contained."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from smo_audit.report.model import Report


def to_json(report: Report) -> str:
    """The report as JSON text that always encodes as valid UTF-8."""
    data = report.model_dump(mode="json")
    text = json.dumps(data, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A crawled page smuggled a lone surrogate in through a JSON-LD escape ("\ud800"). Strict
        # parsers reject such escapes, so the lone halves become U+FFFD (valid pairs survive).
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        # mkstemp creates 0600; a report is an ordinary file (CI artifacts, web servers read it).
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            if not text.endswith("\n"):
                handle.write("\n")
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
