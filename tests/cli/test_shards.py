"""Sites past one machine: `audit --shard K/N` parts merged by `report --merge` give the report
one process gives (same pages, findings, scores, site findings), and no page is fetched twice.

The shards are separate `smo-audit` processes crawling a fixture site over loopback, as they
would be on separate machines or in a CI matrix.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smo_audit.errors import UsageError
from smo_audit.shard import Shard, parse_shard
from tests.support.scripted_server import html, redirect, text
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


def _parts(server, tmp_path: Path, count: int) -> list[Path]:
    """Run the `count` shards of the site one after the other; their part files."""
    parts = [tmp_path / f"part-{k}.ndjson" for k in range(1, count + 1)]
    for k, part in enumerate(parts, 1):
        done = _run("audit", server.url("/"), "--shard", f"{k}/{count}", "-o", str(part), "--workers", "0", "-q",
                    cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    return parts


def _edit_part(part: Path, kind: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit the part's line of that type (a part is a file anyone can edit or damage)."""
    lines = [json.loads(line) for line in part.read_text().splitlines()]
    for line in lines:
        if line["type"] == kind:
            edit(line)
    part.write_text("".join(json.dumps(line) + "\n" for line in lines))


def _shards_and_merge(server, tmp_path: Path, count: int) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """Run `count` shards one after the other, then the merge: (merged report, shard lines, its stderr)."""
    parts = _parts(server, tmp_path, count)
    merged = _run("report", "--merge", *map(str, parts), "-f", "json", "-o", str(tmp_path / "merged.json"),
                  cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    lines = [json.loads(line) for part in parts for line in part.read_text().splitlines()]
    return json.loads((tmp_path / "merged.json").read_text()), [x for x in lines if x["type"] == "shard"], merged.stderr


@pytest.mark.parametrize("sitemap", ["none", "home only"])
def test_pages_no_sitemap_lists_are_audited_by_the_merge(scripted_server, tmp_path: Path, sitemap: str) -> None:
    """A partition follows only its own links; the pages of other partitions it links to are
    handed over in its part, and the merge audits the ones no shard reached, crawling on from
    them: the report one process writes, every page fetched once (shards and merge together)."""
    server = scripted_server({})
    pages = build_site(server, 14)
    base = server.base_url.rstrip("/")
    if sitemap == "none":
        del server.routes["/sitemap.xml"]
    else:
        server.routes["/sitemap.xml"] = text(f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                                             f'sitemap/0.9"><url><loc>{base}/</loc></url></urlset>', "application/xml")
    single = _run("audit", server.url("/"), "-f", "json", "-o", str(tmp_path / "single.json"), "--workers", "0", "-q",
                  cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    one = json.loads((tmp_path / "single.json").read_text())
    reached = {"/" + page["url"].split("/", 3)[3] for page in one["pages"]}
    assert len(reached) == 11 and one["stop_reason"] == "max-depth"  # a ring of posts past --max-depth 10
    before = len(server.requests)
    joined, shard_lines, said = _shards_and_merge(server, tmp_path, 3)
    hits = page_hits(server, before, pages)
    assert set(hits) == reached and set(hits.values()) == {1}, hits
    assert any(line["handover"]["links"] for line in shard_lines)
    assert "no shard audited (not in the sitemaps): auditing them" in said
    assert comparable(joined) == comparable(one)


def test_the_merge_fetches_nothing_a_shard_fetched(scripted_server, tmp_path: Path) -> None:
    """Handed-over links that a shard did reach are not fetched again by the merge: a redirect
    onto an audited page is a duplicate, a linked non-HTML URL is not a page, a broken link is
    the shard's error; and the sitemap's pages are never handed over."""
    server = scripted_server({})
    pages = build_site(server, 8)
    def owner(path: str) -> int:
        return next(k for k in (1, 2, 3) if Shard(k, 3).owns(server.url(path)))

    # A redirect from one partition onto the home page of another: not followed by its shard (a
    # shard that owns one of the posts, so that it meets the link itself).
    crawled = next(owner(path) for path in pages if owner(path) != owner("/"))
    old_home = next(path for path in (f"/old-home-{i}" for i in range(200)) if owner(path) == crawled)
    extra = {old_home: redirect(server.url("/")), "/data": text("not a page"), "/gone/": text("gone", status=404)}
    server.routes.update(extra)
    links = "".join(f'<a href="{path}">x</a>' for path in extra)
    for path in pages:
        body = server.routes[path].body
        page = body.decode() if isinstance(body, bytes) else body
        server.routes[path] = html(page.replace("</main>", links + "</main>"))
    single = _run("audit", server.url("/"), "-f", "json", "-o", str(tmp_path / "single.json"), "--workers", "0", "-q",
                  cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    before = len(server.requests)
    joined, shard_lines, _said = _shards_and_merge(server, tmp_path, 3)
    handed = {url for line in shard_lines for url, *_ in line["handover"]["links"]}
    assert handed and handed <= {server.url(path) for path in extra}  # sitemap pages are never handed over
    redirects = [line["handover"]["redirects"] for line in shard_lines if line["handover"]["redirects"]]
    assert [{url: target for url, (target, *_) in r.items()} for r in redirects] == [
        {server.url(old_home): server.url("/")}]
    hits = page_hits(server, before, [*pages, *extra])
    assert set(hits) == {*pages, *extra} and set(hits.values()) == {1}, hits
    one = json.loads((tmp_path / "single.json").read_text())
    for report in (joined, one):  # which page reported the broken link first depends on the partition
        for error in report["errors"]:
            error["referrer"] = None
    assert comparable(joined) == comparable(one)


def test_a_shard_that_kept_too_few_links_makes_the_merge_partial(scripted_server, tmp_path: Path) -> None:
    server = scripted_server({})
    build_site(server, 6)
    parts = _parts(server, tmp_path, 2)

    def drop(line: dict[str, Any]) -> None:  # as if shard 1 had linked to more pages than it keeps
        line["handover"]["dropped"] = 7

    _edit_part(parts[0], "shard", drop)
    merged = _run("report", "--merge", *map(str, parts), "-f", "json", cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    report = json.loads(merged.stdout)
    assert report["partial"] is True and report["stop_reason"] == "shard-links-dropped"
    assert [e["message"] for e in report["errors"] if e["kind"] == "shard-links-dropped"] == [
        "shard 1/2 linked to 7 pages of other partitions that no sitemap lists and kept 0: pages only the "
        "others lead to may be missing from this report (list them in a sitemap)"]
    assert "smo-audit: partial report: shard 1/2 linked to 7 pages" in merged.stderr


def test_ctrl_c_during_the_merges_crawl_writes_what_it_has(scripted_server, tmp_path: Path) -> None:
    server = scripted_server({})
    pages = build_site(server, 12)
    del server.routes["/sitemap.xml"]
    parts = _parts(server, tmp_path, 2)
    in_parts = sum(1 for part in parts for line in part.read_text().splitlines() if line.startswith('{"type":"page"'))
    for path in pages:  # the pages the merge goes on to are slow: it is mid-crawl when stopped
        server.routes[path] = dataclasses.replace(server.routes[path], delay=0.5)
    before = len(server.requests)
    merge = subprocess.Popen([*CLI, "report", "--merge", *map(str, parts), "-f", "json", "-o",
                              str(tmp_path / "merged.json")], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not page_hits(server, before, pages) and time.monotonic() < deadline:
        time.sleep(0.05)
    merge.send_signal(signal.SIGINT)
    _, err = merge.communicate(timeout=60)
    assert merge.returncode == 130, err
    assert "interrupted; the partial merged report was written" in err and "Traceback" not in err
    report = json.loads((tmp_path / "merged.json").read_text())
    assert report["partial"] is True and report["stop_reason"] == "interrupted"
    assert in_parts <= len(report["pages"]) < len(pages)  # the parts' pages are all kept
    assert report["site_findings"] == []  # stopped: the site rules do not fetch any more


def test_parts_written_out_again_by_another_tool_keep_their_pages(scripted_server, tmp_path: Path) -> None:
    """A part passed through jq or `json.dumps` (spaces after ":" and ",", keys reordered) is the
    same part: the merge reads every page of it. Its pages used to be dropped without a word."""
    server = scripted_server({})
    pages = build_site(server, 6)
    parts = _parts(server, tmp_path, 2)
    compact = _run("report", "--merge", *map(str, parts), "-f", "json", cwd=tmp_path)
    assert compact.returncode == 0, compact.stderr
    for part in parts:
        lines = [json.loads(line) for line in part.read_text().splitlines()]
        part.write_text("".join(json.dumps(dict(sorted(line.items()))) + "\n" for line in lines))  # "type" not first
    rewritten = _run("report", "--merge", *map(str, parts), "-f", "json", cwd=tmp_path)
    assert rewritten.returncode == 0, rewritten.stderr
    before, after = json.loads(compact.stdout), json.loads(rewritten.stdout)
    assert len(after["pages"]) == len(pages) == len(before["pages"])
    assert [p["url"] for p in after["pages"]] == [p["url"] for p in before["pages"]]
    assert after["score"] == before["score"] and after["site_findings"] == before["site_findings"]


def test_a_part_a_signal_stopped_is_still_judged_by_the_site_rules(scripted_server, tmp_path: Path) -> None:
    """A CI job killed by its timeout leaves a partial part ("terminated"): the merge, a later job,
    still runs the site rules over the pages there are, and says the report is partial."""
    server = scripted_server({})
    build_site(server, 6)
    parts = _parts(server, tmp_path, 2)
    _edit_part(parts[0], "summary", lambda line: line.update(partial=True, stop_reason="terminated"))
    merged = _run("report", "--merge", *map(str, parts), "-f", "json", cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    report = json.loads(merged.stdout)
    assert report["partial"] is True and report["stop_reason"] == "terminated"
    assert report["site_findings"]


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


def _cut_first_page_line(part: Path) -> None:
    lines = part.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith('{"type":"page"'))
    lines[at] = lines[at][: len(lines[at]) // 2] + "\n"
    part.write_text("".join(lines))


def _cut_after_pages(part: Path) -> None:
    part.write_text("".join(line for line in part.read_text().splitlines(keepends=True) if '"type":"page"' in line))


def _set(kind: str, key: str, value: Any) -> Callable[[Path], None]:
    return lambda part: _edit_part(part, kind, lambda line: line.__setitem__(key, value))


# A part is a file: cut off by a full disk, edited by hand. Each damage is one sentence, exit 2.
DAMAGED_PARTS: list[tuple[str, Callable[[Path], None], str]] = [
    ("a page line cut in half", _cut_first_page_line, "is not a page: Invalid JSON"),
    ("page lines only", _cut_after_pages, "page lines but no shard line"),
    ("records a list", _set("shard", "records", [1]), "records are not URL"),
    ("records of numbers", _set("shard", "records", {"x": 1}), "records are not URL"),
    ("site without a start URL", _set("shard", "site", {"robots_txt": None}), "site has no start URL"),
    ("site a string", _set("shard", "site", "example.com"), "site has no start URL"),
    ("errors of numbers", _set("summary", "errors", [1]), "its summary line"),
    ("a start time that is not one", _set("summary", "started_at", "yesterday"), "its summary line"),
    ("a shard that is not K/N", _set("shard", "shard", "abc"), "its shard line says shard 'abc'"),
    ("a shard of null", _set("shard", "shard", None), "its shard line says shard 'None'"),
    ("a stop reason that is an object", lambda part: _edit_part(
        part, "summary", lambda line: line.update(partial=True, stop_reason={"a": 1})), "stop_reason"),
    ("partial a string", _set("summary", "partial", "yes"), "partial"),
    ("a start time without a time zone", _set("summary", "started_at", "2020-01-01T00:00:00"), "time zone"),
    ("a start time that is a number", _set("summary", "started_at", 5), "started_at"),
]


@pytest.mark.parametrize(("damage", "edit", "said"), DAMAGED_PARTS, ids=[case[0] for case in DAMAGED_PARTS])
def test_a_damaged_part_is_one_sentence_and_exit_2(scripted_server, tmp_path: Path, damage: str,
                                                   edit: Callable[[Path], None], said: str) -> None:
    server = scripted_server({})
    build_site(server, 6)
    parts = _parts(server, tmp_path, 2)
    # The part with page lines (one shard may own every page: the partition depends on the port).
    damaged = max(parts, key=lambda part: part.read_text().count('{"type":"page"'))
    edit(damaged)
    merged = _run("report", "--merge", *map(str, parts), "-f", "json", "-o", str(tmp_path / "merged.json"),
                  cwd=tmp_path)
    assert merged.returncode == 2, (damage, merged.returncode, merged.stderr)
    assert said in merged.stderr and str(damaged) in merged.stderr, merged.stderr
    assert merged.stderr.count("\n") == 1 and "Traceback" not in merged.stderr
    assert not (tmp_path / "merged.json").exists()


def test_shards_may_run_at_their_own_pace(scripted_server, tmp_path: Path) -> None:
    """--concurrency and --workers are each machine's (they change no finding): parts that differ
    only in them merge; any other option must be the same."""
    server = scripted_server({})
    build_site(server, 8)
    paces = {1: ["--concurrency", "2", "--workers", "0"], 2: ["--concurrency", "6", "--workers", "1"]}
    for k, pace in paces.items():
        done = _run("audit", server.url("/"), "--shard", f"{k}/2", "-o", str(tmp_path / f"part-{k}.ndjson"), "-q",
                    *pace, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    parts = [str(tmp_path / f"part-{k}.ndjson") for k in (1, 2)]
    merged = _run("report", "--merge", *parts, "-f", "json", "-o", str(tmp_path / "merged.json"), cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    other = _run("audit", server.url("/"), "--shard", "2/2", "-o", parts[1], "-q", "--workers", "0",
                 "--max-pages", "50", cwd=tmp_path)
    assert other.returncode == 0, other.stderr
    refused = _run("report", "--merge", *parts, cwd=tmp_path)
    assert refused.returncode == 2 and "ran with other settings" in refused.stderr, refused.stderr


def test_shards_leave_the_thresholds_to_the_merge(scripted_server, tmp_path: Path) -> None:
    # A part's score leaves out the site rules and the pages handed to the merge: a shard below
    # --fail-under still exits 0 (in a CI matrix its failure would stop the merge job), and the
    # merge, which the threshold travels to, exits 1.
    server = scripted_server({})
    build_site(server, 6)
    parts = [tmp_path / f"part-{k}.ndjson" for k in (1, 2)]
    for k, part in enumerate(parts, 1):
        done = _run("audit", server.url("/"), "--shard", f"{k}/2", "--fail-under", "100", "-o", str(part),
                    "--workers", "0", "-q", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    merged = _run("report", "--merge", *map(str, parts), "-f", "json", "-o", str(tmp_path / "merged.json"),
                  cwd=tmp_path)
    assert merged.returncode == 1, merged.stderr
    report = json.loads((tmp_path / "merged.json").read_text())
    assert report["fail_under"] == 100 and report["passed"] is False and report["score"] < 100
