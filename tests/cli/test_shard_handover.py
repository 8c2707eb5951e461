"""What shards hand over to the merge (smo_audit/crawl/handover.py), case by case.

Each site is built so that the case crosses partitions whatever port the test server got (the
paths are picked by the partition that owns them); the merged report must equal the one-process
report and, unless said otherwise, no page is fetched twice by the shards and the merge together.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from smo_audit.shard import partition_of
from tests.support.scripted_server import Reply, ScriptedServer, html, redirect, text
from tests.support.shard_site import comparable

CLI = [sys.executable, "-c", "from smo_audit.cli import main; main()"]
N = 2


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=240, cwd=cwd)


def _pick(server: ScriptedServer, pattern: str, partition: int, avoid: Iterable[str] = ()) -> str:
    """The first path `pattern.format(i)` that `partition` owns."""
    return next(path for path in (pattern.format(i) for i in range(1000))
                if path not in avoid and partition_of(server.url(path), N) == partition)


def _page(title: str, links: Iterable[str] = (), head: str = "", body: str = "") -> Reply:
    anchors = "".join(f'<a href="{link}">{link}</a>' for link in links)
    return html(f'<!doctype html><html lang="en"><head><title>{title}</title>{head}</head>'
                f'<body><main><h1>{title}</h1><p>{"Words. " * 30}</p>{anchors}{body}</main></body></html>')


def _sitemap(server: ScriptedServer, paths: Iterable[str]) -> None:
    base = server.base_url.rstrip("/")
    urls = "".join(f"<url><loc>{base}{path}</loc></url>" for path in paths)
    server.routes["/sitemap.xml"] = text(f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                                         f'sitemap/0.9">{urls}</urlset>', "application/xml")
    server.routes["/robots.txt"] = text(f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap.xml\n")


def _hits(server: ScriptedServer, since: int) -> Counter[str]:
    return Counter(r.path for r in server.requests[since:] if r.method == "GET" and "smo-audit" in r.user_agent
                   and not r.path.startswith(("/robots.txt", "/sitemap.xml", "/favicon.ico", "/apple-touch-icon")))


def _single_and_merged(server: ScriptedServer, tmp_path: Path, *extra: str,
                       parts: Iterable[int] = range(1, N + 1)) -> tuple[dict[str, Any], dict[str, Any], Counter[str]]:
    """The one-process report, the merged report, and the page fetches of the shards and merge."""
    single = _run("audit", server.url("/"), "-f", "json", "-o", str(tmp_path / "single.json"), "--workers", "0",
                  "-q", *extra, cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    before = len(server.requests)
    for k in range(1, N + 1):
        done = _run("audit", server.url("/"), "--shard", f"{k}/{N}", "-o", str(tmp_path / f"part-{k}.ndjson"),
                    "--workers", "0", "-q", *extra, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    merged = _run("report", "--merge", *(str(tmp_path / f"part-{k}.ndjson") for k in parts), "-f", "json", "-o",
                  str(tmp_path / "merged.json"), cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    return (json.loads((tmp_path / "single.json").read_text()), json.loads((tmp_path / "merged.json").read_text()),
            _hits(server, before))


@pytest.mark.parametrize("target", ["a page", "an excluded page", "a broken page", "a disallowed page"])
def test_a_redirect_onto_another_partition_is_the_redirecting_urls_page(scripted_server, tmp_path: Path,
                                                                       target: str) -> None:
    """One process follows a redirect wherever --exclude says, reports the page (or the error)
    under the URL that redirects, and robots.txt stops the hop; the shard stops at the other
    partition and the merge goes on with the chain from there."""
    server = scripted_server({})
    home = partition_of(server.url("/"), N)
    moved = _pick(server, "/old-{}", home)
    there = _pick(server, "/private/new-{}/" if target == "a disallowed page" else "/new-{}/", N + 1 - home)
    server.routes["/"] = _page("Home", [moved])
    server.routes[moved] = redirect(server.url(there))
    server.routes[there] = text("gone", status=404) if target == "a broken page" else _page("New")
    _sitemap(server, ["/"])
    extra = ("--exclude", "/new-*") if target == "an excluded page" else ()
    single, merged, hits = _single_and_merged(server, tmp_path, *extra)
    assert comparable(merged) == comparable(single)
    assert set(hits.values()) == {1}, hits
    if target in ("a page", "an excluded page"):
        page = next(p for p in merged["pages"] if p["url"] == server.url(moved))
        assert page["final_url"] == server.url(there) and page["duplicate_of"] is None
    else:
        assert [e["url"] for e in merged["errors"]] == [server.url(moved)]


@pytest.mark.parametrize("listed", [False, True])
@pytest.mark.parametrize("ends", ["in a loop", "in a loop past A", "at a page", "past the redirect limit"])
def test_a_redirect_chain_through_both_partitions_ends_as_in_one_process(scripted_server, tmp_path: Path,
                                                                         ends: str, listed: bool) -> None:
    """A -> B -> (A | C) with A and C in one partition and B in the other: each shard stops at the
    other's URL, and the merge follows the chain through the redirects the shards handed over.
    A loop is a redirect-loop error for each URL of it that was asked for, a chain ending at a page
    makes A (and B) its duplicates, a chain longer than max_redirects fails A, as in one process
    (`listed`: B and C are in the sitemap, so B's shard fetched B; else the merge goes on from B)."""
    server = scripted_server({})
    home = partition_of(server.url("/"), N)
    a = _pick(server, "/a{}/", home)
    b = _pick(server, "/b{}/", N + 1 - home)
    c = _pick(server, "/c{}/", home)
    d = _pick(server, "/d{}/", N + 1 - home)
    server.routes["/"] = _page("Home", [] if listed else [a])  # listed: C, then B, then A, one at a time
    server.routes[a] = redirect(server.url(b))
    server.routes[b] = redirect(server.url({"in a loop": a, "in a loop past A": d}.get(ends, c)))
    server.routes[c] = _page("C")
    server.routes[d] = redirect(server.url(b))
    _sitemap(server, ["/", c, b, a] if listed else ["/"])
    if ends == "past the redirect limit":
        (tmp_path / "smo-audit.toml").write_text("max_redirects = 1\n")
    # One fetch at a time: which of two URLs leading to one page one process audits under its own
    # name depends on which it fetched first (a documented naming difference of the split)
    single, merged, hits = _single_and_merged(server, tmp_path, "--concurrency", "1")
    assert comparable(merged) == comparable(single)
    assert set(hits.values()) == {1}, hits
    errors = {e["url"]: e["kind"] for e in merged["errors"]}
    duplicates = {p["url"]: p["duplicate_of"] for p in merged["pages"] if p["duplicate_of"]}
    if ends.startswith("in a loop"):
        asked = [a, b] if listed else [a]
        assert errors == {server.url(u): "redirect-loop" for u in asked} and not duplicates
        assert merged["score"] < 10  # a page of the site that answers nothing counts 0 in the site score
    elif ends == "at a page":
        assert not errors
        assert duplicates == ({server.url(a): server.url(c), server.url(b): server.url(c)} if listed else {})
    else:
        assert errors[server.url(a)] == "too-many-redirects"


@pytest.mark.parametrize("case", ["through a page the merge audited", "a loop found past the limit",
                                  "into a disallowed page",
                                  "a loop through a hop a shard followed", "two URLs into one loop",
                                  "two URLs into one broken page", "two URLs into one page"])
def test_more_redirect_chains_through_both_partitions(scripted_server, tmp_path: Path, case: str) -> None:
    """Chains the merge settles from the redirects the shards handed over and from its own crawl
    (`home` and `other` are the partitions; every case is checked against one process)."""
    server = scripted_server({})
    home = partition_of(server.url("/"), N)
    other = N + 1 - home
    # zero-padded: A sorts before A2 as text too (the merge names a page several URLs redirect to
    # after the first of them by depth, then URL; one process after the first it fetched, A, the
    # first link: with /a3/ and /a11/ the two differed, a documented limit, by the port's luck)
    a = _pick(server, "/a{:03d}/", home)
    a2 = _pick(server, "/a{:03d}/", home, avoid={a})
    b = _pick(server, "/b{}/", other)
    c = _pick(server, "/c{}/", other)
    d = _pick(server, "/d{}/", home)
    x = _pick(server, "/x{}/", other)
    linked, listed = [a], ["/"]
    if case == "through a page the merge audited":  # X -> A -> B -> C: A is a page (its final URL C)
        server.routes[x], server.routes[a], server.routes[b] = (redirect(server.url(a)), redirect(server.url(b)),
                                                                redirect(server.url(c)))
        server.routes[c] = _page("C")
        listed.append(x)
        expected = {x: "duplicate of A"}
    elif case == "a loop found past the limit":  # A -> B -> D -> B with max_redirects = 1
        server.routes[a], server.routes[b], server.routes[d] = (redirect(server.url(b)), redirect(server.url(d)),
                                                                redirect(server.url(b)))
        listed += [b, d]
        (tmp_path / "smo-audit.toml").write_text("max_redirects = 1\n")
        expected = {a: "too-many-redirects", b: "redirect-loop", d: "redirect-loop"}  # B's and D's close at hop 2
    elif case == "into a disallowed page":  # A -> B -> /private/...: B's shard hands B's error over
        hidden = _pick(server, "/private/p{}/", other)
        server.routes[a], server.routes[b] = redirect(server.url(b)), redirect(server.url(hidden))
        server.routes[hidden] = _page("P")
        listed.append(b)
        expected = {a: "robots-disallowed", b: "robots-disallowed"}
    elif case == "a loop through a hop a shard followed":  # A -> B -> D -> A: D's shard follows D -> A -> B
        server.routes[a], server.routes[b], server.routes[d] = (redirect(server.url(b)), redirect(server.url(d)),
                                                                redirect(server.url(a)))
        listed += [b, d]
        expected = {a: "redirect-loop", b: "redirect-loop", d: "redirect-loop"}
    else:  # A and A2 -> B (no shard reaches B) -> C -> B | 404 | a page
        linked.append(a2)
        server.routes[a] = server.routes[a2] = redirect(server.url(b))
        if case == "two URLs into one broken page":
            server.routes[b] = text("gone", status=404)
            expected = {a: "http-status", a2: "http-status"}
        else:
            server.routes[b] = redirect(server.url(c))
            server.routes[c] = redirect(server.url(b)) if case == "two URLs into one loop" else _page("C")
            expected = {a2: "duplicate of A"} if case == "two URLs into one page" else \
                {a: "redirect-loop", a2: "redirect-loop"}
    server.routes["/"] = _page("Home", linked)
    _sitemap(server, listed)
    single, merged, _hits = _single_and_merged(server, tmp_path, "--concurrency", "1")  # as above
    assert comparable(merged) == comparable(single)
    outcomes = {**{e["url"]: e["kind"] for e in merged["errors"]},
                **{p["url"]: "duplicate of A" for p in merged["pages"] if p["duplicate_of"] == server.url(a)}}
    assert outcomes == {server.url(k): v for k, v in expected.items()}


def test_session_ids_one_shard_found_are_stripped_by_the_merge(scripted_server, tmp_path: Path) -> None:
    server = scripted_server({})
    home = partition_of(server.url("/"), N)
    other = N + 1 - home
    token = "a1b2c3d4e5f6a7b8c9d0"
    first = _pick(server, "/p{}/", home)
    second = _pick(server, "/p{}/", home, avoid={first})
    # The link with its session id belongs to the home's partition: the other shard, which never
    # saw `sid` repeat, hands it over as it is, and the merge strips what the home's shard found.
    third = next(p for p in (f"/p{i}/" for i in range(1000)) if p not in (first, second)
                 and partition_of(server.url(p), N) == home
                 and partition_of(server.url(f"{p}?sid={token}"), N) == home)
    elsewhere = _pick(server, "/q{}/", other)
    server.routes["/"] = _page("Home", [f"{first}?sid={token}", f"{second}?sid={token}", f"{third}?sid={token}"])
    server.routes["/p*"] = _page("Post")
    server.routes[elsewhere] = _page("Q", [f"{third}?sid={token}"])
    _sitemap(server, ["/", elsewhere])
    single, merged, hits = _single_and_merged(server, tmp_path)
    handed = [url for k in range(1, N + 1) for line in (tmp_path / f"part-{k}.ndjson").read_text().splitlines()
              if '"type":"shard"' in line for url, *_ in json.loads(line)["handover"]["links"]]
    assert handed == [server.url(f"{third}?sid={token}")]
    assert comparable(merged) == comparable(single)
    assert hits[third] == 1 and set(hits.values()) == {1}, hits


def test_a_page_whose_canonical_names_a_part_page_that_is_not_its_own_canonical(scripted_server,
                                                                               tmp_path: Path) -> None:
    """A canonical chain (X names Y, Y names another URL) marks no duplicate, in one process and
    in the merge, which audits X (not in the sitemap) while a shard audited Y."""
    server = scripted_server({})
    home = partition_of(server.url("/"), N)
    x = _pick(server, "/x{}/", N + 1 - home)
    y = _pick(server, "/y{}/", home)
    server.routes["/"] = _page("Home", [y, x])
    server.routes[x] = _page("X", head=f'<link rel="canonical" href="{server.url(y)}">')
    # Y names a URL on another host (never fetched): Y is not its own canonical
    server.routes[y] = _page("Y", head=f'<link rel="canonical" href="http://localhost:{server.port}{y}">')
    _sitemap(server, ["/", y])
    single, merged, hits = _single_and_merged(server, tmp_path)
    assert comparable(merged) == comparable(single)
    assert all(p["duplicate_of"] is None for p in merged["pages"])
    assert set(hits.values()) == {1}, hits


@pytest.mark.parametrize("title", ["same title", "another title"])
@pytest.mark.parametrize("reached", ["both listed", "target crawled by the merge", "duplicate crawled by the merge"])
def test_a_page_naming_another_partitions_page_as_its_canonical_is_its_duplicate(scripted_server, tmp_path: Path,
                                                                                  reached: str, title: str) -> None:
    """X names Y as its canonical and Y is its own: X is Y's duplicate (it stays in the report,
    marked, and no longer counts), in one process and in the merge, wherever X and Y were audited:
    each by its shard, or one of them by the merge's crawl (not in the sitemap). Unless X's title
    is not Y's: then X is a page with a wrong canonical, not Y under another name, everywhere."""
    server = scripted_server({})
    home = partition_of(server.url("/"), N)
    other = N + 1 - home
    x = _pick(server, "/x{}/", other)
    y = _pick(server, "/y{}/", home)
    z = _pick(server, "/z{}/", other)  # names itself: a page's own canonical is not a duplicate
    # A page no sitemap lists and only another partition's page links to is audited by the merge.
    home_links, x_links, y_links, listed = {
        "both listed": ([x, y, z], [], [], ["/", x, y, z]),
        "target crawled by the merge": ([x, z], [y], [], ["/", x, z]),
        "duplicate crawled by the merge": ([y, z], [], [x], ["/", y, z]),
    }[reached]
    server.routes["/"] = _page("Home", home_links)
    server.routes[x] = _page("Y" if title == "same title" else "X", x_links,
                             head=f'<link rel="canonical" href="{server.url(y)}">')
    server.routes[y] = _page("Y", y_links, head=f'<link rel="canonical" href="{server.url(y)}">')
    server.routes[z] = _page("Z", head=f'<link rel="canonical" href="{server.url(z)}">')
    _sitemap(server, listed)
    single, merged, hits = _single_and_merged(server, tmp_path)
    duplicates = {p["url"]: p["duplicate_of"] for p in single["pages"] if p["duplicate_of"]}
    # what one process reports
    assert duplicates == ({server.url(x): server.url(y)} if title == "same title" else {})
    assert comparable(merged) == comparable(single)
    assert set(hits.values()) == {1}, hits
    handed = {url for k in range(1, N + 1) for line in (tmp_path / f"part-{k}.ndjson").read_text().splitlines()
              if '"type":"shard"' in line for url, *_ in json.loads(line)["handover"]["links"]}
    assert handed == {"both listed": set(), "target crawled by the merge": {server.url(y)},
                      "duplicate crawled by the merge": {server.url(x)}}[reached]


@pytest.mark.parametrize("case", ["session id", "session id, duplicate crawled by the merge",
                                  "untidy redirect to the target", "canonical names a redirect to the target"])
def test_a_canonical_written_otherwise_than_its_pages_url_finds_it_across_partitions(scripted_server, tmp_path: Path,
                                                                                     case: str) -> None:
    """X (one partition) names Y (the other) as its canonical, but not as Y's URL reads: with a
    session id the shards strip (found on the home page's links), through a redirect whose
    Location carries a tracking parameter, or as a URL that redirects to Y and that only X's
    canonical leads to. One process marks X as Y's duplicate (under the name it audited Y by);
    so does the merge."""
    server = scripted_server({})
    home = partition_of(server.url("/"), N)
    token = "a1b2c3d4e5f6a7b8c9d0"
    x = _pick(server, "/x{}/", N + 1 - home)
    # Y with its session id is Y's partition's too: X's shard, which never saw `sid` repeat,
    # hands the URL over (not a page of its own: the documented limit of the split)
    y = next(p for p in (f"/y{i}/" for i in range(1000)) if partition_of(server.url(p), N) == home
             and partition_of(server.url(f"{p}?sid={token}"), N) == home)
    old = _pick(server, "/old{}", home)
    extra: tuple[str, ...] = ()
    if case.startswith("session id"):
        merge_crawls_x = case.endswith("by the merge")
        named = f'<link rel="canonical" href="{server.url(y)}?sid={token}">'
        server.routes["/"] = _page("Home", [f"/a/?sid={token}", f"/b/?sid={token}"])
        server.routes["/a/*"] = _page("A")
        server.routes["/b/*"] = _page("B")
        server.routes[x + "*"] = _page("Y", head=named)  # Y under another name: its title too
        server.routes[y + "*"] = _page("Y", [x] if merge_crawls_x else [], head=named)
        _sitemap(server, ["/", y] if merge_crawls_x else ["/", x, y])
        expected = {x: y}
    elif case == "untidy redirect to the target":
        server.routes["/"] = _page("Home", [old])
        server.routes[old] = redirect(server.url(y) + "?utm_source=feed")
        server.routes[y] = _page("Y", head=f'<link rel="canonical" href="{server.url(y)}">')
        server.routes[x] = _page("Y", head=f'<link rel="canonical" href="{server.url(y)}">')
        _sitemap(server, ["/", old, x])
        extra = ("--concurrency", "1")  # else one process may fetch Y itself first, from X's canonical
        expected = {x: old}
    else:
        server.routes["/"] = _page("Home", [x])
        server.routes[old] = redirect(server.url(y))
        server.routes[y] = _page("Y", head=f'<link rel="canonical" href="{server.url(y)}">')
        server.routes[x] = _page("Y", head=f'<link rel="canonical" href="{server.url(old)}">')
        _sitemap(server, ["/", x])
        expected = {x: old}
    single, merged, hits = _single_and_merged(server, tmp_path, *extra)
    duplicates = {p["url"]: p["duplicate_of"] for p in single["pages"] if p["duplicate_of"]}
    assert duplicates == {server.url(k): server.url(v) for k, v in expected.items()}  # what one process reports
    assert comparable(merged) == comparable(single)
    assert set(hits.values()) == {1}, hits


def test_a_start_url_that_redirects_onto_a_listed_page_is_one_page(scripted_server, tmp_path: Path) -> None:
    """`/` redirects to `/en-N/`, which the sitemap lists and another partition owns: its shard
    audits it too (it cannot know it is the start's), and the merge keeps the start's page."""
    server = scripted_server({})
    landing = _pick(server, "/en-{}/", N + 1 - partition_of(server.url("/"), N))
    server.routes["/"] = redirect(server.url(landing))
    server.routes[landing] = _page("Home", ["/about/"])
    server.routes["/about/"] = _page("About")
    _sitemap(server, [landing, "/about/"])
    single, merged, hits = _single_and_merged(server, tmp_path)
    assert comparable(merged) == comparable(single)
    assert [p["url"] for p in merged["pages"]].count(server.url(landing)) == 0
    assert hits[landing] == 2  # once as the start's page, once from the sitemap: the documented cost


def test_the_merge_leaves_a_missing_partitions_pages_alone(scripted_server, tmp_path: Path) -> None:
    server = scripted_server({})
    home = partition_of(server.url("/"), N)
    other = N + 1 - home
    there = _pick(server, "/p{}/", other)
    back = _pick(server, "/q{}/", home)
    server.routes["/"] = _page("Home", [there])
    server.routes[there] = _page("P", [back])
    server.routes[back] = _page("Q")
    _sitemap(server, ["/", there])
    _single, merged, hits = _single_and_merged(server, tmp_path, parts=[other])
    assert merged["stop_reason"] == "shards-missing"
    assert [p["url"] for p in merged["pages"]] == [server.url(there)]
    assert set(hits.values()) == {1}, hits  # the start's shard fetched "/" and /q: the merge did not


def test_a_redirect_onto_a_url_another_shard_reported_fails_under_its_own_name(scripted_server,
                                                                                tmp_path: Path) -> None:
    """The target's shard fetched it (a 404 the sitemap lists) or refused it (robots.txt): one
    process reports the redirecting URL too; the merge copies the error under its name."""
    server = scripted_server({})
    home = partition_of(server.url("/"), N)
    other = N + 1 - home
    to_gone, to_private = _pick(server, "/r{}", home), _pick(server, "/s{}", home)
    gone, private = _pick(server, "/gone-{}", other), _pick(server, "/private/p{}/", other)
    linker = _pick(server, "/op-{}/", other)
    server.routes["/"] = _page("Home", [to_gone, to_private])
    server.routes[to_gone], server.routes[gone] = redirect(server.url(gone)), text("no", status=404)
    server.routes[to_private], server.routes[private] = redirect(server.url(private)), _page("Private")
    server.routes[linker] = _page("OP", [private])
    _sitemap(server, ["/", gone, linker])
    single, merged, hits = _single_and_merged(server, tmp_path)
    assert comparable(merged) == comparable(single)
    assert {e["url"] for e in merged["errors"]} == {server.url(p) for p in (to_gone, to_private, gone, private)}
    assert set(hits.values()) == {1}, hits


def test_account_pages_on_another_partition_count_once(scripted_server, tmp_path: Path) -> None:
    """Sign-in pages outside the crawl's scope are audited up to 5 per audit: the shards hand
    over the ones of other partitions, and the merge admits what the shards left of the 5."""
    server = scripted_server({})
    start = "/app/"
    nested = _pick(server, "/app/a{}/", N + 1 - partition_of(server.url(start), N))
    logins = [f"/login-{i}" for i in range(8)]

    def sign_in(paths: list[str]) -> str:
        return "".join(f'<a href="{path}">Log in</a>' for path in paths)

    form = '<form method="post"><input name="u"><input type="password" name="p"></form>'
    server.routes[start] = _page("App", [nested], head="", body=sign_in(logins[:4]))
    server.routes[nested] = _page("A", body=sign_in(logins[4:]))
    for path in logins:
        server.routes[path] = _page(f"Sign in {path}", body=form)
    server.routes["/robots.txt"] = text("User-agent: *\nAllow: /\n")
    single = _run("audit", server.url(start), "--scope", "prefix", "-f", "json", "-o", str(tmp_path / "single.json"),
                  "--workers", "0", "-q", cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    before = len(server.requests)
    for k in range(1, N + 1):
        done = _run("audit", server.url(start), "--scope", "prefix", "--shard", f"{k}/{N}", "-o",
                    str(tmp_path / f"part-{k}.ndjson"), "--workers", "0", "-q", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    merged = _run("report", "--merge", *(str(tmp_path / f"part-{k}.ndjson") for k in range(1, N + 1)), "-f", "json",
                  cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    one, joined = json.loads((tmp_path / "single.json").read_text()), json.loads(merged.stdout)
    assert sum(1 for p in one["pages"] if "/login-" in p["url"]) == 5
    assert comparable(joined) == comparable(one)
    assert set(_hits(server, before).values()) == {1}


def test_a_url_redirecting_to_the_start_pages_landing_is_the_start_pages_duplicate(scripted_server,
                                                                                  tmp_path: Path) -> None:
    """`/` redirects to `/en-N/` (another partition's) and so does `/index-M.html`, linked from the
    pages: one process lists `/index-M.html` as the duplicate of the start page, `/`. The merge
    keeps the start's page and must point the duplicate at it, not at the landing's page it
    leaves out (a duplicate of a page the report does not hold)."""
    server = scripted_server({})
    home = partition_of(server.url("/"), N)
    landing = _pick(server, "/en-{}/", N + 1 - home)
    alias = _pick(server, "/index-{}.html", N + 1 - home)
    posts = [_pick(server, "/post-{}/", k) for k in (home, N + 1 - home)]
    server.routes["/"] = redirect(server.url(landing))
    server.routes[alias] = redirect(server.url(landing))
    server.routes[landing] = _page("Home", [alias, *posts])
    for post in posts:
        server.routes[post] = _page("Post", [landing, alias])
    _sitemap(server, posts)
    single, merged, _hits = _single_and_merged(server, tmp_path)
    duplicates = {p["url"]: (p["duplicate_of"], p["final_url"]) for p in merged["pages"] if p["duplicate_of"]}
    assert duplicates == {server.url(alias): (server.url("/"), server.url("/"))}
    urls = {p["url"] for p in merged["pages"]}
    assert all(of in urls for of, _final in duplicates.values())
    assert comparable(merged) == comparable(single)


def test_trap_and_session_id_findings_are_one_per_pattern_with_the_shards_counts_added(scripted_server,
                                                                                      tmp_path: Path) -> None:
    """Each shard reports the traps and session ids it met; one process reports one finding per
    trap pattern (with every link counted) and one per session-id parameter: so does the merge."""
    server = scripted_server({})
    posts = [f"/p{i}/" for i in range(6)]
    token = "a1b2c3d4e5f6a7b8c9d0"
    server.routes["/"] = _page("Home", posts)
    for i, post in enumerate(posts):
        # 3 ever-growing paths per page, and links with a session id on every page
        server.routes[post] = _page(f"Post {i}", [*(f"/t{i}{j}/a/a/a/" for j in range(3)),
                                                  f"/x{i}/?PHPSESSID={token}", f"/y{i}/?PHPSESSID={token}"])
    server.routes["/x*"] = _page("X")
    server.routes["/y*"] = _page("Y")
    _sitemap(server, ["/", *posts])
    single, merged, hits = _single_and_merged(server, tmp_path)

    def findings(report: dict[str, Any]) -> list[tuple[str, str]]:
        """(kind, message without its example URL): examples depend on which page came first."""
        return sorted((e["kind"], e["message"].split(" (e.g. ")[0]) for e in report["errors"])

    assert [kind for kind, _ in findings(single)] == ["crawl-trap", "session-id"]
    assert findings(single)[0][1].startswith("18 link(s) like /t#/a/a/a/")
    assert findings(merged) == findings(single)
    assert set(hits.values()) == {1}, hits


def test_a_start_page_its_shard_cannot_audit_fails_the_merge_with_exit_3(scripted_server, tmp_path: Path) -> None:
    """One process stops at a start page that answers 500 (exit 3); its shard does too, while the
    other shard audits the sitemap's pages. The merge keeps those pages in its report, crawls and
    judges nothing more, and exits 3 with the start page's reason (a CI gate must not pass it)."""
    server = scripted_server({})
    owner = partition_of(server.url("/"), N)
    posts: list[str] = []
    for partition in (N + 1 - owner,) * 6 + (owner,) * 2:  # whatever port the server got
        posts.append(_pick(server, "/e{}/", partition, avoid=posts))
    server.routes["/"] = Reply(500, {"content-type": "text/html"}, b"<h1>down</h1>")
    server.routes["/e*"] = _page("Post")
    _sitemap(server, ["/", *posts])
    codes = {k: _run("audit", server.url("/"), "--shard", f"{k}/{N}", "-o", str(tmp_path / f"part-{k}.ndjson"),
                     "--workers", "0", "-q", cwd=tmp_path).returncode for k in range(1, N + 1)}
    assert codes == {owner: 3, N + 1 - owner: 0}
    kept = sum(1 for post in posts if partition_of(server.url(post), N) != owner)
    assert kept == 6  # the other shard audited its pages
    merged = _run("report", "--merge", *(str(tmp_path / f"part-{k}.ndjson") for k in range(1, N + 1)),
                  "-f", "json", "-o", str(tmp_path / "merged.json"), cwd=tmp_path)
    assert merged.returncode == 3, merged.stderr
    assert "500" in merged.stderr and f"keeps the {kept} pages" in merged.stderr, merged.stderr
    assert "Traceback" not in merged.stderr
    report = json.loads((tmp_path / "merged.json").read_text())
    assert report["stop_reason"] == "not-auditable" and report["partial"] is True
    assert len(report["pages"]) == kept and not report["site_findings"]
    # The start page's part alone: still exit 3, and the report still says which shard is missing.
    alone = _run("report", "--merge", str(tmp_path / f"part-{owner}.ndjson"), "-f", "json",
                 "-o", str(tmp_path / "alone.json"), cwd=tmp_path)
    assert alone.returncode == 3, alone.stderr
    report = json.loads((tmp_path / "alone.json").read_text())
    kinds = [error["kind"] for error in report["errors"]]
    assert report["stop_reason"] == "not-auditable" and "not-auditable" in kinds and "shard-missing" in kinds, kinds
