"""`smo-audit audit URL --dask ADDRESS` on a Dask LocalCluster of 2 and 4 worker processes.

    .venv/bin/python benchmarks/dask_benchmark.py                        # 2,000 pages; 2 and 4 workers
    .venv/bin/python benchmarks/dask_benchmark.py --pages 1000 --dask-workers 2,4 --workers 1

The generated site (benchmarks/sitegen.py, a sitemap of every page) is served by its own process
on 127.0.0.1. For each worker count W it starts a LocalCluster of W one-thread worker processes
(the options `--dask local:W` uses: loopback only, no dashboard), timed on its own, then runs
`smo-audit audit URL --dask tcp://127.0.0.1:PORT -f json -o merged.json` under
`/usr/bin/time -f %M` (the client: it submits W shards, receives the parts and merges them),
sampling every 0.1 s the RSS of each worker process and of the process tree below it (the shard
process that audits, and its parse workers). Sampled, not `getrusage`: a process's ru_maxrss
survives exec, so a worker spawned by a large parent would report the parent's size. pages/s = pages in the report / wall time of the
client process (start-up, shards, merge). It also checks every page is in the report once, and
prints the plain one-process audit for reference.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil  # a dependency of distributed

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from audit_benchmark import start_server, stop_server, timed  # noqa: E402


class RssSampler:
    """Peak RSS, in MB, of each worker process and of the process tree below it (its shard)."""

    def __init__(self, pids: list[int]) -> None:
        self.workers = [psutil.Process(pid) for pid in pids]
        self.own = dict.fromkeys(pids, 0.0)
        self.tree = dict.fromkeys(pids, 0.0)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            for worker in self.workers:
                with contextlib.suppress(psutil.Error):
                    self.own[worker.pid] = max(self.own[worker.pid], worker.memory_info().rss / 2**20)
                    below = 0.0
                    for child in worker.children(recursive=True):
                        with contextlib.suppress(psutil.Error):
                            below += child.memory_info().rss / 2**20
                    self.tree[worker.pid] = max(self.tree[worker.pid], below)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


def _pages(path: Path) -> int:
    report = json.loads(path.read_text())
    urls = [p["url"] for p in report["pages"] if p["duplicate_of"] is None and p["status"] == 200]
    assert len(urls) == len(set(urls)), "a page is in the merged report twice"
    return len(urls)


def run_plain(url: str, pages: int, smo_audit: str, workers: int, folder: Path) -> str:
    command = [smo_audit, "audit", url, "--max-pages", str(pages * 2), "-q", "--workers", str(workers), "-f",
               "json", "-o", str(folder / "plain.json")]
    result, seconds, peak = timed("plain", command, 3600)
    if result is None or result.returncode not in (0, 1):
        raise SystemExit(f"the plain audit failed: {result.stderr.strip()[:300] if result else 'timeout'}")
    audited = _pages(folder / "plain.json")
    return (f"  1 process         {audited:6d} pages  {seconds:7.2f} s  {audited / seconds:6.1f} pages/s  "
            f"peak RSS {peak:6.1f} MB (audit process)")


def _timed_client(command: list[str], rss_file: Path) -> tuple[float, float, float]:
    """Run the client under /usr/bin/time; return (wall seconds, seconds after the last shard
    arrived: receiving its part, the merge and the report), peak RSS MB)."""
    started = time.perf_counter()
    last_shard = started
    proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *command], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if " done (" in line:
            last_shard = time.perf_counter()
    proc.wait()
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"the --dask audit failed: {''.join(lines)[-300:]}")
    text = rss_file.read_text().strip().splitlines()
    peak = int(text[-1]) / 1024 if text and text[-1].isdigit() else float("nan")
    return seconds, seconds - (last_shard - started), peak


def run_dask(url: str, pages: int, count: int, smo_audit: str, workers: int, folder: Path) -> str:
    from distributed import Client, LocalCluster

    from smo_audit.distributed import local_cluster_options

    started = time.perf_counter()
    cluster = LocalCluster(**local_cluster_options(count), silence_logs=logging.ERROR)
    startup = time.perf_counter() - started
    try:
        with Client(cluster, set_as_default=False) as client:
            pids = list(client.run(os.getpid).values())
        command = [smo_audit, "audit", url, "--dask", str(cluster.scheduler_address), "--max-pages", str(pages * 2),
                   "--workers", str(workers), "-f", "json", "-o", str(folder / "merged.json")]
        with RssSampler(pids) as rss:
            seconds, merge, client_peak = _timed_client(command, folder / "client.rss")
    finally:
        cluster.close()
    audited = _pages(folder / "merged.json")
    own, tree = max(rss.own.values()), max(rss.tree.values())
    return (f"  {count} Dask workers    {audited:6d} pages  {seconds:7.2f} s (merge {merge:5.2f} s)  "
            f"{audited / seconds:6.1f} pages/s  "
            f"peak RSS per worker {own:6.1f} MB + shard processes {tree:6.1f} MB  client {client_peak:6.1f} MB  "
            f"(cluster start {startup:4.1f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--dask-workers", default="2,4", help="worker counts, comma-separated")
    parser.add_argument("--workers", type=int, default=1, help="parse workers per shard (--workers)")
    parser.add_argument("--no-plain", action="store_true", help="skip the one-process reference run")
    parser.add_argument("--smo-audit", default=str(Path(sys.executable).with_name("smo-audit")))
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {'/'.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min), "
          f"{args.pages} pages, --workers {args.workers} per shard", flush=True)
    server, url = start_server(args.pages)
    try:
        with tempfile.TemporaryDirectory(prefix="smo-dask-") as tmp:
            if not args.no_plain:
                print(run_plain(url, args.pages, args.smo_audit, args.workers, Path(tmp)), flush=True)
            for count in (int(s) for s in args.dask_workers.split(",")):
                print(run_dask(url, args.pages, count, args.smo_audit, args.workers, Path(tmp)), flush=True)
                print(f"  load average now {os.getloadavg()[0]:.2f}", flush=True)
    finally:
        stop_server(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
