"""The JSON report is valid UTF-8 JSON whatever the crawled pages contained."""

from __future__ import annotations

import json
from pathlib import Path

from smo_audit.report.json_writer import to_json
from smo_audit.report.model import Facts, Page, Report, Tool


def _report(title: str) -> Report:
    page = Page(url="http://127.0.0.1/", final_url="http://127.0.0.1/", status=200, score=None, facts=Facts(title=title))
    return Report(tool=Tool(name="smo-audit", version="0"), target="t", mode="static", started_at="s",
                  finished_at="f", score=None, passed=True, categories=[], pages=[page])


def test_lone_surrogates_become_replacement_characters() -> None:
    text = to_json(_report("a\ud800b \U0001f600 \x00\x1b"))
    text.encode("utf-8")  # would raise on a lone surrogate
    assert "\\ud800" not in text
    assert json.loads(text)["pages"][0]["facts"]["title"] == "a\ufffdb \U0001f600 \x00\x1b"


def test_dev_stdout_redirected_to_a_file_is_written_in_place(tmp_path: Path) -> None:
    """/dev/stdout links to /proc/self/fd/1, which resolves to a plain file when stdout is
    redirected to one: taken for a file, `-o /dev/stdout` renamed the report over the machine's
    /dev/stdout link (as root). It is special, whatever fd 1 is."""
    import os

    from smo_audit.report.json_writer import is_special

    target = tmp_path / "out.txt"
    saved = os.dup(1)
    try:
        with target.open("w") as handle:
            os.dup2(handle.fileno(), 1)
            try:
                redirected = is_special(Path("/dev/stdout"))
            finally:
                os.dup2(saved, 1)
    finally:
        os.close(saved)
    assert redirected
    assert not is_special(target)  # a plain file elsewhere is replaced atomically, as before
