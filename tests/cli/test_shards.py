"""Sites past one machine: `audit --shard K/N` parts merged by `report --merge` give the report
one process gives (same pages, findings, scores, site findings), and no page is fetched twice.

The shards are separate `smo-audit` processes crawling a fixture site over loopback, as they
would be on separate machines or in a CI matrix.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from smo_audit.errors import UsageError
from smo_audit.shard import Shard, parse_shard
from tests.support.shard_site import build_site, comparable, page_hits

CLI = [sys.executable, "-c", "from smo_audit.cli import main; main()"]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=240, cwd=cwd)


def test_merged_shards_equal_the_single_process_report(scripted_server, tmp_path: Path) -> None:
    server = scripted_server({})
    pages = build_site(server, 14)
    common = ["--workers", "0", "-q"]
    single = _run("audit", server.url("/"), "-f", "json", "-o", str(tmp_path / "single.json"), *common, cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    before = len(server.requests)
    for k in (1, 2, 3):
        part = _run("audit", server.url("/"), "--shard", f"{k}/3", "-o", str(tmp_path / f"part-{k}.ndjson"),
                    *common, cwd=tmp_path)
        assert part.returncode == 0, part.stderr
    hits = page_hits(server, before, pages)
    assert set(hits) == set(pages) and set(hits.values()) == {1}, hits  # every page, each fetched once
    parts = [json.loads(line) for k in (1, 2, 3) for line in (tmp_path / f"part-{k}.ndjson").read_text().splitlines()]
    assert 0 < sum(1 for p in parts if p["type"] == "page") == len(pages)
    merged = _run("report", "--merge", *(str(tmp_path / f"part-{k}.ndjson") for k in (3, 1, 2)),
                  "-f", "json", "-o", str(tmp_path / "merged.json"), cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    assert "partial report" not in merged.stderr
    one = json.loads((tmp_path / "single.json").read_text())
    joined = json.loads((tmp_path / "merged.json").read_text())
    assert joined["site_findings"], "the site rules ran over the merged pages"
    assert comparable(joined) == comparable(one)


def test_a_shard_that_owns_no_reachable_page_writes_an_empty_part(scripted_server, tmp_path: Path) -> None:
    """A shard reaches another partition's pages only through the sitemap. Here robots.txt names a
    sitemap that is missing (404), so the shard that does not own the home page finds nothing of
    its own: it writes an empty part and exits 0 (a failed job would stop a CI matrix's merge),
    while the site answering nothing at all stays exit 3 (test_shard_option_is_checked)."""
    server = scripted_server({})
    build_site(server, 6)
    del server.routes["/sitemap.xml"]  # robots.txt still names it
    single = _run("audit", server.url("/"), "-f", "json", "-o", str(tmp_path / "single.json"), "--workers", "0", "-q",
                  cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    home = json.loads((tmp_path / "single.json").read_text())["pages"][0]["url"]
    runs = {k: _run("audit", server.url("/"), "--shard", f"{k}/2", "-o", str(tmp_path / f"part-{k}.ndjson"),
                    "--workers", "0", cwd=tmp_path) for k in (1, 2)}
    other = next(k for k in (1, 2) if not Shard(k, 2).owns(home))
    assert runs[other].returncode == 0, runs[other].stderr
    assert f"shard {other}/2 owns none of the pages it could reach" in runs[other].stderr
    assert runs[3 - other].returncode == 0 and "owns none" not in runs[3 - other].stderr
    pages = [json.loads(line) for line in (tmp_path / f"part-{other}.ndjson").read_text().splitlines()]
    assert [p["type"] for p in pages] == ["shard", "summary"]  # no page lines, a part all the same
    merged = _run("report", "--merge", str(tmp_path / "part-1.ndjson"), str(tmp_path / "part-2.ndjson"),
                  "-f", "json", cwd=tmp_path)
    assert merged.returncode == 0 and home in [p["url"] for p in json.loads(merged.stdout)["pages"]]


def test_a_missing_shard_makes_the_merge_partial_and_says_which(scripted_server, tmp_path: Path) -> None:
    server = scripted_server({})
    build_site(server, 14)
    part = _run("audit", server.url("/"), "--shard", "2/2", "-o", str(tmp_path / "part-2.ndjson"), "--workers", "0",
                "-q", cwd=tmp_path)
    assert part.returncode == 0, part.stderr
    merged = _run("report", "--merge", str(tmp_path / "part-2.ndjson"), "-f", "json", cwd=tmp_path)
    report = json.loads(merged.stdout)
    assert report["partial"] is True and report["stop_reason"] == "shards-missing"
    assert [e["message"] for e in report["errors"] if e["kind"] == "shard-missing"] == [
        "shard 1/2 is missing from the merge: its pages are not in this report"]
    assert "smo-audit: partial report: shard 1/2 is missing" in merged.stderr
    (tmp_path / "merged.json").write_text(merged.stdout)  # a JSON report, not a part
    as_json = _run("report", "--merge", str(tmp_path / "merged.json"), cwd=tmp_path)
    assert as_json.returncode == 2 and "looks like a JSON report" in as_json.stderr
    same_twice = _run("report", "--merge", str(tmp_path / "part-2.ndjson"), str(tmp_path / "part-2.ndjson"), cwd=tmp_path)
    assert same_twice.returncode == 2 and "are both shard 2/2" in same_twice.stderr
    shown = _run("report", str(tmp_path / "part-2.ndjson"), "-f", "json", cwd=tmp_path)  # a part is a report too
    assert shown.returncode == 0 and json.loads(shown.stdout)["pages"]


def test_shard_option_is_checked(tmp_path: Path) -> None:
    for bad in ("0/2", "3/2", "1", "a/b", "1/0"):
        with pytest.raises(UsageError):
            parse_shard(bad)
    no_output = _run("audit", "http://127.0.0.1:9/", "--shard", "1/2", cwd=tmp_path)
    assert no_output.returncode == 2 and "-o part-K.ndjson" in no_output.stderr
    for k in (1, 2):  # a site that does not answer is not auditable, whichever shard owns its start
        down = _run("audit", "http://127.0.0.1:9/", "--shard", f"{k}/2", "-o", str(tmp_path / f"p{k}.ndjson"),
                    "--workers", "0", "-q", cwd=tmp_path)
        assert down.returncode == 3 and "Traceback" not in down.stderr, down.stderr


def test_partitions_cover_every_url_once() -> None:
    urls = [f"https://example.com/p/{i}" for i in range(2000)]
    owners = [[k for k in range(1, 5) if Shard(k, 4).owns(u)] for u in urls]
    assert all(len(o) == 1 for o in owners)
    sizes = Counter(o[0] for o in owners)
    assert min(sizes.values()) > 400  # roughly even
