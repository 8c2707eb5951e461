"""The JSON report is valid UTF-8 JSON whatever the crawled pages contained."""

from __future__ import annotations

import json

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
