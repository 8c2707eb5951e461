"""Pages cross to the parse workers and back unchanged, and dropping anchors changes no finding.

The parse workers send each page's Document back without its anchors when only built-in rules
run (extract/workers.py): these tests hold the two promises that rests on. The audits are real:
the demo build served on loopback, parsed in-process (`--workers 0`, full Documents) and by the
worker pool (`--workers 2`, the default, anchors dropped).
"""

from __future__ import annotations

import copyreg
import json
import pickle
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from smo_audit.cli import app
from smo_audit.crawl.models import RawPage, RawResponse
from smo_audit.extract import Extractor
from smo_audit.extract.facts import Anchor, Document, PageFacts
from smo_audit.extract.transfer import register
from smo_audit.extract.workers import without_anchors

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "site"


def _raw(path: Path) -> RawPage:
    url = "https://demo.example/" + path.relative_to(DEMO).as_posix()
    return RawPage(RawResponse(url, url, 200, {"content-type": "text/html; charset=utf-8"}, path.read_bytes()))


def test_extracted_pages_survive_the_fast_reducers_unchanged() -> None:
    register()
    assert {Anchor, Document, PageFacts, RawPage} <= copyreg.dispatch_table.keys()
    extractor = Extractor()
    pages = sorted(DEMO.rglob("*.html"))
    assert len(pages) >= 5
    for path in pages:
        raw = _raw(path)
        extracted = extractor.extract(raw)
        assert pickle.loads(pickle.dumps(raw, protocol=pickle.HIGHEST_PROTOCOL)) == raw
        again = pickle.loads(pickle.dumps(extracted, protocol=pickle.HIGHEST_PROTOCOL))
        assert again == extracted, path.name
        assert type(again.document.anchors[0]) is Anchor if extracted.document.anchors else True
        slim = without_anchors(extracted)
        assert slim.document.anchors == () and slim.facts == extracted.facts and slim.links == extracted.links


def _audit(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["audit", str(DEMO), "--format", "json", "--quiet", *args])
    assert result.exit_code in (0, 1), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _pages(report: dict[str, Any]) -> dict[str, tuple[Any, Any, Any]]:
    return {p["url"]: (p["score"], p["findings"], p["facts"]) for p in report["pages"]}


def test_built_in_rules_judge_alike_with_and_without_anchors() -> None:
    in_process = _audit("--workers", "0")
    pooled = _audit("--workers", "2")
    assert len(in_process["pages"]) >= 5
    assert _pages(pooled) == _pages(in_process)
    assert pooled["score"] == in_process["score"]


ANCHOR_RULE = '''
from smo_audit.engine.api import page_rule, failed


@page_rule(id="count-anchors", title="Counts anchors", category="plugin-checks", severity="info", weight=1)
def check(ctx):
    """
    ## What it checks
    How many anchors the page has.

    ## Why it matters
    A plugin may read the whole Document.

    ## How to fix
    Nothing to fix.
    """
    return failed(f"anchors={len(ctx.doc.anchors)}")
'''


def test_a_plugin_rule_still_sees_every_anchor(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "count.py").write_text(ANCHOR_RULE)
    counts = {}
    for workers in ("0", "2"):
        report = _audit("--workers", workers, "--rules-dir", str(rules_dir), "--select", "count-anchors")
        counts[workers] = {p["url"]: p["findings"][0]["message"] for p in report["pages"] if p["findings"]}
    assert counts["2"] == counts["0"]
    assert any(message != "anchors=0" for message in counts["2"].values())
