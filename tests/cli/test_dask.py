"""`audit --dask`: the shards of one audit as tasks on a real Dask cluster of worker processes.

One `distributed.LocalCluster` (2 worker processes, loopback only) serves the module; the CLI
connects to it as to any scheduler (`--dask tcp://127.0.0.1:PORT`). `--dask local:2` starts its
own. The fixture site is served over real HTTP on 127.0.0.1 and crawled by the real crawler in
each worker's shard process; the merged report must equal the one-process report, and the server
counts that no page was fetched twice.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed  # in the dev extra: `make test` installs it
import pytest

from smo_audit.distributed import local_cluster_options
from tests.support.scripted_server import ScriptedServer
from tests.support.shard_site import build_site, comparable, page_hits

CLI = [sys.executable, "-c", "from smo_audit.cli import main; main()"]
POSTS = 29  # 30 pages with the home page


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A LocalCluster of 2 worker processes with the options `--dask local:2` uses."""
    local = distributed.LocalCluster(**local_cluster_options(2))
    local.wait_for_workers(2, timeout=120)  # the cluster may return before its second worker registered
    try:
        yield local
    finally:
        local.close()


@pytest.fixture(scope="module")
def scheduler(cluster: Any) -> str:
    return str(cluster.scheduler_address)


def test_the_local_cluster_listens_on_loopback_only(cluster: Any) -> None:
    info = cluster.scheduler_info
    workers = info["workers"]
    assert len(workers) == 2 and all(w["nthreads"] == 1 for w in workers.values())
    addresses = [info["address"], *workers, *(w["nanny"] for w in workers.values())]
    assert all(a.startswith("tcp://127.0.0.1:") for a in addresses), addresses
    http = [s.getsockname() for s in cluster.scheduler.http_server._sockets.values()]
    assert http and all(host == "127.0.0.1" and port != 8787 for host, port, *_ in http), http


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ScriptedServer, list[str], dict[str, Any]]]:
    """The fixture site, its page paths, and the report one process writes of it."""
    folder = tmp_path_factory.mktemp("single")
    with ScriptedServer({}) as server:
        pages = build_site(server, POSTS)
        single = _run("audit", server.url("/"), "-f", "json", "-o", str(folder / "single.json"), "--workers", "0",
                      "-q", cwd=folder)
        assert single.returncode == 0, single.stderr
        yield server, pages, json.loads((folder / "single.json").read_text())


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None, prelude: str = "") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", f"{prelude}from smo_audit.cli import main; main()"] if prelude else CLI
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env={**os.environ, **(env or {})})


def _audited_once(server: ScriptedServer, since: int, pages: list[str]) -> None:
    hits = page_hits(server, since, pages)
    assert set(hits) == set(pages) and set(hits.values()) == {1}, hits  # every page, each fetched once


def test_shards_on_a_dask_cluster_equal_the_single_process_report(site, scheduler: str, tmp_path: Path) -> None:
    server, pages, single = site
    before = len(server.requests)
    done = _run("audit", server.url("/"), "--dask", scheduler, "-f", "json", "-o", str(tmp_path / "dask.json"),
                "--workers", "0", "--fail-under", "99", cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # the threshold judges the merged report
    assert "Traceback" not in done.stderr
    assert f"auditing in 2 shards on the Dask cluster at {scheduler}" in done.stderr
    _audited_once(server, before, pages)
    merged = json.loads((tmp_path / "dask.json").read_text())
    assert merged["site_findings"], "the site rules ran over the merged pages"
    assert len(merged["pages"]) == len(pages)
    assert merged["passed"] is False and merged["fail_under"] == 99 and merged["score"] == single["score"] < 99
    assert comparable(merged) == comparable(single)


def test_pages_no_sitemap_lists_are_audited_once_on_a_cluster(scheduler: str, scripted_server, tmp_path: Path) -> None:
    """Without a sitemap each shard reaches only its partition's part of the link graph; the
    merge audits what they linked to and did not reach (crawl/handover.py): the same report."""
    server = scripted_server({})
    pages = build_site(server, 9)
    del server.routes["/sitemap.xml"]
    single = _run("audit", server.url("/"), "-f", "json", "-o", str(tmp_path / "single.json"), "--workers", "0", "-q",
                  cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    before = len(server.requests)
    done = _run("audit", server.url("/"), "--dask", scheduler, "-f", "json", "-o", str(tmp_path / "dask.json"),
                "--workers", "0", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    _audited_once(server, before, pages)
    merged = json.loads((tmp_path / "dask.json").read_text())
    assert len(merged["pages"]) == len(pages)
    assert comparable(merged) == comparable(json.loads((tmp_path / "single.json").read_text()))


def test_shards_as_separate_processes_equal_the_single_process_report(site, tmp_path: Path) -> None:
    server, pages, single = site
    before = len(server.requests)
    parts = [tmp_path / f"part-{k}.ndjson" for k in (1, 2)]
    shards = [subprocess.Popen([*CLI, "audit", server.url("/"), "--shard", f"{k}/2", "-o", str(part), "--workers",
                                "0", "-q"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
              for k, part in enumerate(parts, 1)]
    for shard in shards:  # side by side, as on two machines
        _, err = shard.communicate(timeout=300)
        assert shard.returncode == 0, err
    _audited_once(server, before, pages)
    merged = _run("report", "--merge", *map(str, parts), "-f", "json", "-o", str(tmp_path / "merged.json"),
                  cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    assert comparable(json.loads((tmp_path / "merged.json").read_text())) == comparable(single)


def test_local_workers_write_every_requested_format(site, tmp_path: Path) -> None:
    """Run by the `smo-audit` command from a folder with modules named like the standard ones:
    the cluster's worker processes (`python -c ...`) must not import them."""
    server, pages, single = site
    before = len(server.requests)
    for name in ("selectors.py", "json.py"):
        (tmp_path / name).write_text('raise SystemExit("planted module imported from the working directory")\n')
    command = [str(Path(sys.executable).with_name("smo-audit")), "audit", server.url("/"), "--dask", "local:2",
               "-f", "json,markdown", "--output-dir", str(tmp_path / "out"), "--workers", "0", "-q"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # -q: nothing on stderr, Dask's logs included
    _audited_once(server, before, pages)
    assert comparable(json.loads((tmp_path / "out" / "report.json").read_text())) == comparable(single)
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert f"· {len(pages)} pages ·" in markdown and f"**{single['score']}/100**" in markdown


def test_ctrl_c_stops_the_shards_on_the_cluster_and_writes_the_partial_report(scheduler: str, scripted_server,
                                                                             tmp_path: Path) -> None:
    server = scripted_server({})
    pages = build_site(server, 39)
    for path in pages[1:]:  # slow pages: the shards are mid-crawl when the client is stopped
        server.routes[path] = dataclasses.replace(server.routes[path], delay=0.4)
    client = subprocess.Popen([*CLI, "audit", server.url("/"), "--dask", scheduler, "--concurrency", "1",
                               "--workers", "0", "-f", "json", "-o", str(tmp_path / "partial.json")],
                              cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while sum(page_hits(server, 0, pages).values()) < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
    client.send_signal(signal.SIGINT)
    _, err = client.communicate(timeout=120)
    assert client.returncode == 130, err
    assert "interrupted; the partial report of 2 of 2 shards was written" in err and "Traceback" not in err
    report = json.loads((tmp_path / "partial.json").read_text())
    assert report["partial"] is True and report["stop_reason"] == "interrupted"
    assert 0 < len(report["pages"]) < len(pages)
    settled = len(server.requests)
    time.sleep(2)  # the shards on the cluster were stopped too: nothing fetches any more
    assert len(server.requests) == settled


def test_an_unauditable_target_exits_3_from_the_cluster(scheduler: str, tmp_path: Path) -> None:
    port = _closed_port()
    done = _run("audit", f"http://127.0.0.1:{port}/", "--dask", scheduler, "-q", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    # the sentence a single audit prints, from the shard that owns the start URL
    assert done.stderr.startswith(f"smo-audit: error: Could not connect to http://127.0.0.1:{port}/"), done.stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(("args", "env", "prelude", "sentence"), [
    (["--dask", "udp://x"], {}, "", "--dask must be a scheduler address tcp://HOST:PORT"),
    (["--dask", "local:0"], {}, "", "--dask local:N needs 1 <= N <= 256"),
    (["--dask", "local:2", "--shard", "1/2"], {}, "", "--dask runs every shard itself: leave out --shard"),
    (["--dask", "local:2"], {}, "import sys; sys.modules['distributed'] = None; ",  # as if it were not installed
     "--dask needs Dask's distributed scheduler: install it with pip install 'smo-audit[dask]'"),
    (["--dask", "tcp://127.0.0.1:{port}"], {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"}, "",
     "cannot reach the Dask scheduler at tcp://127.0.0.1:{port} ("),
])
def test_dask_problems_are_one_sentence_and_exit_2(args: list[str], env: dict[str, str], prelude: str, sentence: str,
                                                  tmp_path: Path) -> None:
    port = str(_closed_port())
    done = _run("audit", "http://127.0.0.1:9/", *(a.replace("{port}", port) for a in args), cwd=tmp_path, env=env,
                prelude=prelude)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("smo-audit: error: " + sentence.replace("{port}", port)), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_a_folder_is_not_split(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<title>x</title>")
    done = _run("audit", str(tmp_path), "--dask", "local:2", cwd=tmp_path)
    assert done.returncode == 2 and "--dask splits the crawl of a site by URL" in done.stderr, done.stderr
