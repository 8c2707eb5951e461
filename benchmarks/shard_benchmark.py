"""A sharded audit against one process: `audit --shard K/N` parts run side by side, then merged.

    .venv/bin/python benchmarks/shard_benchmark.py                       # 1,000 pages; 1, 2 and 4 shards
    .venv/bin/python benchmarks/shard_benchmark.py --pages 2000 --shards 2,4

    .venv/bin/python benchmarks/shard_benchmark.py --no-sitemap         # the merge crawls what links lead to

The generated site (benchmarks/sitegen.py, with a sitemap of every page) is served by its own
process on 127.0.0.1. For each shard count N it starts N `smo-audit audit URL --shard K/N -o
part-K.ndjson` processes at once (each one is what a CI matrix job or a Dask task runs), waits for
all of them, then runs `smo-audit report --merge part-*.ndjson -f json -o merged.json`. Every
process runs under `/usr/bin/time -f %M` for its own peak RSS. It prints the wall time of the
parts (slowest), of the merge, pages/s over both, the largest part's and the merge's peak RSS, and
checks that the merged report has every page once. N = 1 is the plain audit, for reference.

On one 2-core machine more shards cannot go faster than the cores allow: the figures show what a
shard costs (memory per worker, time per page), which is what sizing a cluster needs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from audit_benchmark import start_server, stop_server  # noqa: E402


def _wrapped(command: list[str], rss_file: Path) -> list[str]:
    return ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *command]


def _rss_mb(path: Path) -> float:
    lines = path.read_text().strip().splitlines()
    return int(lines[-1]) / 1024 if lines and lines[-1].isdigit() else float("nan")


def run_shards(url: str, pages: int, count: int, smo_audit: str, workers: int, folder: Path) -> str:
    parts = [folder / f"part-{k}.ndjson" for k in range(1, count + 1)]
    started = time.perf_counter()
    procs = []
    for k, part in enumerate(parts, 1):
        command = [smo_audit, "audit", url, "--max-pages", str(pages * 2), "-q", "--workers", str(workers)]
        command += ["--shard", f"{k}/{count}", "-o", str(part)] if count > 1 else ["-f", "json", "-o", str(folder / "merged.json")]
        procs.append(subprocess.Popen(_wrapped(command, folder / f"part-{k}.rss"), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True))
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode not in (0, 1):
            raise SystemExit(f"a shard failed: {err.strip()[:300]}")
    parts_seconds = time.perf_counter() - started
    part_rss = max(_rss_mb(folder / f"part-{k}.rss") for k in range(1, count + 1))
    merge_seconds, merge_rss = 0.0, float("nan")
    if count > 1:
        started = time.perf_counter()
        merged = subprocess.run(_wrapped([smo_audit, "report", "--merge", *map(str, parts), "-f", "json", "-o",
                                          str(folder / "merged.json")], folder / "merge.rss"),
                                capture_output=True, text=True)
        if merged.returncode not in (0, 1):
            raise SystemExit(f"the merge failed: {merged.stderr.strip()[:300]}")
        merge_seconds = time.perf_counter() - started
        merge_rss = _rss_mb(folder / "merge.rss")
    report = json.loads((folder / "merged.json").read_text())
    urls = [p["url"] for p in report["pages"] if p["duplicate_of"] is None and p["status"] == 200]
    assert len(urls) == len(set(urls)), "a page is in the merged report twice"
    total = parts_seconds + merge_seconds
    return (f"  {count} shard{'s' if count > 1 else ' '}  {len(urls):6d} pages  parts {parts_seconds:6.2f} s  "
            f"merge {merge_seconds:5.2f} s  {len(urls) / total:6.1f} pages/s  peak RSS part {part_rss:6.1f} MB  "
            f"merge {merge_rss:6.1f} MB  score {report['score']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--shards", default="1,2,4", help="shard counts, comma-separated (1 = one plain audit)")
    parser.add_argument("--workers", type=int, default=1, help="parse workers per shard (--workers)")
    parser.add_argument("--smo-audit", default=str(Path(sys.executable).with_name("smo-audit")))
    parser.add_argument("--no-sitemap", action="store_true",
                        help="a site without a sitemap: each shard reaches its partition through links only, "
                             "and the merge crawls what the shards handed over")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, {args.pages} pages, "
          f"--workers {args.workers} per shard{', no sitemap' if args.no_sitemap else ''}")
    server, url = start_server(args.pages, sitemap=not args.no_sitemap)
    try:
        for count in (int(s) for s in args.shards.split(",")):
            with tempfile.TemporaryDirectory(prefix="smo-shards-") as tmp:
                print(run_shards(url, args.pages, count, args.smo_audit, args.workers, Path(tmp)), flush=True)
    finally:
        stop_server(server)
    print(f"load average now {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
