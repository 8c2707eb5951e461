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
from typing import Any

import pytest

from smo_audit.errors import UsageError
from smo_audit.shard import Shard, parse_shard
from tests.support.scripted_server import ScriptedServer, html, png, text

CLI = [sys.executable, "-c", "from smo_audit.cli import main; main()"]
PAGES = [f"/post-{i}/" for i in range(14)]


def _page(base: str, path: str, index: int) -> str:
    share = "" if index % 5 == 0 else (
        f'<a href="https://www.facebook.com/sharer/sharer.php?u={base}{path}">Share on Facebook</a>'
        f'<a href="https://twitter.com/intent/tweet?url={base}{path}">Post on X</a>')
    image = "" if index % 4 == 0 else f'<meta property="og:image" content="{base}/og.png">'
    signin = '<form method="post"><input name="u"><input type="password" name="p"></form>' if index == 3 else ""
    return (f'<!doctype html><html lang="en"><head><title>Post {index}</title>'
            f'<link rel="canonical" href="{base}{path}">'
            f'<meta property="og:title" content="Post {index}"><meta property="og:type" content="article">'
            f'<meta property="og:url" content="{base}{path}">{image}'
            f'<meta name="twitter:card" content="summary_large_image">'
            f'<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body><main>'
            f'<article><h1>Post {index}</h1><p>{"Words. " * 40}</p>{share}</article>{signin}'
            f'<a href="/post-{(index + 1) % len(PAGES)}/">next</a></main>'
            f'<footer><a href="https://x.com/northwind">X</a> <a href="https://www.instagram.com/northwind/">Instagram'
            f'</a></footer></body></html>')


def _site(server: ScriptedServer) -> None:
    base = server.base_url.rstrip("/")
    server.routes["/"] = html(_page(base, "/", 99).replace("Post 99", "Home"))
    for index, path in enumerate(PAGES):
        server.routes[path] = html(_page(base, path, index))
    urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in ["/", *PAGES])
    server.routes["/sitemap.xml"] = text(f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                                         f'sitemap/0.9">{urls}</urlset>', "application/xml")
    server.routes["/robots.txt"] = text(f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n")
    server.routes["/og.png"] = png(1200, 630)
    server.routes["/feed.xml"] = text('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
                                      "application/rss+xml")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=240, cwd=cwd)


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    pages = {p["url"]: (p["score"], p["status"], p["duplicate_of"],
                        sorted((f["rule"], f["status"], f["message"]) for f in p["findings"]), p["facts"])
             for p in report["pages"]}
    return {
        "pages": pages, "score": report["score"], "categories": report["categories"],
        # evidence lists pages in audit order, which differs between one crawl and merged parts
        "site_findings": sorted(json.dumps({**f, "evidence": sorted(f["evidence"])}, sort_keys=True)
                                for f in report["site_findings"]),
        "fix_first": report["fix_first"], "errors": sorted(json.dumps(e, sort_keys=True) for e in report["errors"]),
        "partial": report["partial"],
    }


def _page_hits(server: ScriptedServer, since: int) -> Counter[str]:
    return Counter(r.path for r in server.requests[since:] if r.path in ("/", *PAGES) and r.method == "GET"
                   and "smo-audit" in r.user_agent)


def test_merged_shards_equal_the_single_process_report(scripted_server, tmp_path: Path) -> None:
    server = scripted_server({})
    _site(server)
    common = ["--workers", "0", "-q"]
    single = _run("audit", server.url("/"), "-f", "json", "-o", str(tmp_path / "single.json"), *common, cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    before = len(server.requests)
    for k in (1, 2, 3):
        part = _run("audit", server.url("/"), "--shard", f"{k}/3", "-o", str(tmp_path / f"part-{k}.ndjson"),
                    *common, cwd=tmp_path)
        assert part.returncode == 0, part.stderr
    hits = _page_hits(server, before)
    assert set(hits) == {"/", *PAGES} and set(hits.values()) == {1}, hits  # every page, each fetched once
    parts = [json.loads(line) for k in (1, 2, 3) for line in (tmp_path / f"part-{k}.ndjson").read_text().splitlines()]
    assert 0 < sum(1 for p in parts if p["type"] == "page") == len(PAGES) + 1
    merged = _run("report", "--merge", *(str(tmp_path / f"part-{k}.ndjson") for k in (3, 1, 2)),
                  "-f", "json", "-o", str(tmp_path / "merged.json"), cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    one = json.loads((tmp_path / "single.json").read_text())
    joined = json.loads((tmp_path / "merged.json").read_text())
    assert joined["site_findings"], "the site rules ran over the merged pages"
    assert _comparable(joined) == _comparable(one)


def test_a_missing_shard_makes_the_merge_partial_and_says_which(scripted_server, tmp_path: Path) -> None:
    server = scripted_server({})
    _site(server)
    part = _run("audit", server.url("/"), "--shard", "2/2", "-o", str(tmp_path / "part-2.ndjson"), "--workers", "0",
                "-q", cwd=tmp_path)
    assert part.returncode == 0, part.stderr
    merged = _run("report", "--merge", str(tmp_path / "part-2.ndjson"), "-f", "json", cwd=tmp_path)
    report = json.loads(merged.stdout)
    assert report["partial"] is True and report["stop_reason"] == "shards-missing"
    assert [e["message"] for e in report["errors"] if e["kind"] == "shard-missing"] == [
        "shard 1/2 is missing from the merge: its pages are not in this report"]
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


def test_partitions_cover_every_url_once() -> None:
    urls = [f"https://example.com/p/{i}" for i in range(2000)]
    owners = [[k for k in range(1, 5) if Shard(k, 4).owns(u)] for u in urls]
    assert all(len(o) == 1 for o in owners)
    sizes = Counter(o[0] for o in owners)
    assert min(sizes.values()) > 400  # roughly even
