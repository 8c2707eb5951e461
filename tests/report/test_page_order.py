"""The same audit writes the same report: pages are listed by URL, not in the order they finished.

Requests in flight finish in any order, so pages[] (and every format written from it: Markdown,
SARIF, JUnit, CSV) differed between two runs of the same audit, and between one process and a
merge of shards. Here the same site is audited twice with other pages slowed down, so they
finish in another order: every format must list the pages alike.
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from typer.testing import CliRunner

from smo_audit.cli import app
from tests.support.scripted_server import Reply, ScriptedServer

PATHS = ["/a", "/b", "/c", "/d", "/e"]
PAGE = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{t}</title>'
        '<meta property="og:title" content="{t}"></head><body>{links}</body></html>')


def _audit(tmp_path: Path, name: str, slow: set[str]) -> dict[str, list[str]]:
    routes: dict[str, Reply] = {"/robots.txt": Reply(404)}
    for path in ["/", *PATHS]:
        links = "".join(f'<a href="{p}">{p}</a>' for p in PATHS) if path == "/" else ""
        routes[path] = Reply(200, {"content-type": "text/html; charset=utf-8"},
                             PAGE.format(t=f"Page {path}", links=links), delay=0.3 if path in slow else 0.0)
    out = tmp_path / name
    with ScriptedServer(routes) as server:
        result = CliRunner().invoke(app, ["audit", server.url("/"), "--quiet", "--workers", "0", "--format",
                                          "json,csv,junit,markdown", "--output-dir", str(out)])
        assert result.exit_code == 0, result.stderr
        base = server.url("/")[:-1]
    def path(url: str) -> str:
        return url.removeprefix(base) or "/"
    report = json.loads((out / "report.json").read_text("utf-8"))
    with (out / "report.csv").open(encoding="utf-8", newline="") as handle:
        csv_pages = list(dict.fromkeys(path(row["page_url"]) for row in csv.DictReader(handle) if row["page_url"]))
    junit = [path(case.get("classname", "")) for case in ET.parse(out / "report.junit.xml").iter("testcase")]
    markdown = re.sub(r"127\\\.0\\\.0\\\.1\\:[0-9]+", "HOST", (out / "report.md").read_text("utf-8"))
    return {
        "json": [path(p["url"]) for p in report["pages"]],
        "csv": csv_pages,
        "junit": list(dict.fromkeys(junit)),
        "markdown": [line for line in markdown.splitlines() if "HOST" in line],
    }


def test_two_runs_finishing_pages_in_another_order_write_the_same_report(tmp_path: Path) -> None:
    first = _audit(tmp_path, "first", slow={"/a", "/b"})
    second = _audit(tmp_path, "second", slow={"/d", "/e"})
    assert first["json"] == ["/", *PATHS]  # by URL
    assert first == second
