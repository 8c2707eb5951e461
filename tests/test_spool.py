"""The page spool, the streamed JSON report, partial-report pacing and compact site-rule records."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path
from typing import Any

from smo_audit.config import AuditConfig
from smo_audit.engine.api import PageRecord
from smo_audit.engine.records import compact_record
from smo_audit.pipeline import Audit, Target
from smo_audit.report.json_writer import to_json, write_report
from smo_audit.report.model import Facts, Page
from smo_audit.report.ndjson import page_line
from smo_audit.report.outputs import PartialReportPacing
from smo_audit.report.spool import PageSpool

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo" / "site"
BASE = "https://northwind-coffee.example"


def _page(url: str, title: str = "t") -> Page:
    return Page(url=url, final_url=url, status=200, score=50.0, facts=Facts(title=title))


def _without_times(data: dict[str, Any]) -> dict[str, Any]:
    """The report minus what differs between two runs: timestamps and the folder server's port."""
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", json.dumps(data, sort_keys=True))
    data = {k: v for k, v in json.loads(text).items() if k not in ("started_at", "finished_at")}
    for key in ("pages", "errors"):  # a concurrent crawl audits pages in no fixed order
        data[key] = sorted(data[key], key=lambda item: json.dumps(item, sort_keys=True))
    return data


def test_spool_reads_back_pages_in_order_with_later_changes_applied() -> None:
    with PageSpool() as spool:
        for n in range(3):
            spool.append(_page(f"http://127.0.0.1/{n}"))
        spool.patch(1, duplicate_of="http://127.0.0.1/0")
        pages = list(spool.pages())
        folder = spool.path.parent
        assert folder.exists()
    assert [p.url for p in pages] == ["http://127.0.0.1/0", "http://127.0.0.1/1", "http://127.0.0.1/2"]
    assert [p.duplicate_of for p in pages] == [None, "http://127.0.0.1/0", None]
    assert not folder.exists()  # closing removes the spool


def test_spool_lines_are_valid_utf8_json_even_with_lone_surrogates() -> None:
    with PageSpool() as spool:
        spool.append(_page("http://127.0.0.1/", title="a\ud800b"))
        (line,) = list(spool.lines())
    line.encode("utf-8")
    assert json.loads(line)["facts"]["title"] == "a\ufffdb"


def _demo_audit(spool: PageSpool | None) -> Audit:
    config = AuditConfig(base_url=BASE, quiet=True, timeout=10, retries=0)
    run = Audit(Target(str(DEMO), folder=DEMO), config, spool=spool)
    asyncio.run(run.execute())
    return run


def test_streamed_report_from_the_spool_equals_the_in_memory_report() -> None:
    in_memory = _demo_audit(None).snapshot(finished=True)
    with PageSpool() as spool:
        run = _demo_audit(spool)
        out = io.StringIO()
        write_report(out, run.summary(finished=True), run.page_lines())
        from_snapshot = run.snapshot(finished=True)
    streamed = json.loads(out.getvalue())
    expected = json.loads(to_json(in_memory))
    assert len(streamed["pages"]) == len(in_memory.pages) > 3
    assert _without_times(streamed) == _without_times(expected)
    assert _without_times(from_snapshot.model_dump(mode="json")) == _without_times(in_memory.model_dump(mode="json"))


def test_the_report_puts_one_page_on_each_line() -> None:
    report = _demo_audit(None).snapshot(finished=True)
    lines = to_json(report).splitlines()
    page_lines = [line for line in lines if line.startswith('    {"url":')]
    assert len(page_lines) == len(report.pages)


def test_partial_reports_wait_longer_the_longer_a_write_took() -> None:
    pacing = PartialReportPacing()
    assert not pacing.due()  # none in the first two seconds
    pacing.schedule(0.01)
    assert pacing.interval == PartialReportPacing.MIN_INTERVAL
    pacing.schedule(1.5)
    assert pacing.interval == PartialReportPacing.RATIO * 1.5  # 15 s later, not after every page


def test_spool_lines_are_the_ndjson_report_page_lines() -> None:
    page = _page("http://127.0.0.1/x")
    with PageSpool() as spool:
        spool.append(page)
        (line,) = list(spool.ndjson_lines())
        (report_page,) = list(spool.lines())
    assert line == page_line(page)
    assert json.loads(line) == {"type": "page", **page.model_dump(mode="json")}
    assert json.loads(report_page) == page.model_dump(mode="json")


def test_compact_records_equal_the_full_ones_and_share_repeated_facts() -> None:
    run = _demo_audit(None)
    full = [PageRecord(r.url, r.final_url, r.status, r.facts, r.source_path) for r in run.collected.records]
    again = [compact_record(r.url, r.final_url, r.status, r.facts, r.source_path) for r in full]
    assert again == full
    with_profiles = [r for r in again if r.facts.profile_links]
    assert len(with_profiles) >= 2
    assert len({id(r.facts.profile_links) for r in with_profiles}) < len(with_profiles)
