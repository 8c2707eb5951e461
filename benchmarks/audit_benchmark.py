"""What users run, against the least a crawler can do: the whole command vs the bare loop.

    .venv/bin/python benchmarks/audit_benchmark.py                       # 1,000 and 10,000 pages, 3 rounds
    .venv/bin/python benchmarks/audit_benchmark.py --sizes 1000 --rounds 5

For each site size it starts the generated site (benchmarks/sitegen.py) in its own server process
on 127.0.0.1, then alternates, round by round (order swapped every round, so drift and other
load hit both alike):

- bare:  `python benchmarks/bare_loop.py URL` (httpx + selectolax fetch-parse-links loop);
- audit: `smo-audit audit URL -f json -o FILE --max-pages N -q`: start-up, crawl, every built-in
  rule, site rules, previews, the JSON report written to a file: what a user waits for.

Before the first run it compiles smo-audit's modules to bytecode (`compileall`), as `pip install`
does for a regular install: an editable install under PYTHONDONTWRITEBYTECODE (set on these
machines) otherwise compiles all ~80 of them from source on every start, in the audit process and
in its fork server, about 0.15 s of CPU each that no user pays. Third-party packages (httpx,
selectolax: the bare loop's imports) are compiled by pip already.

Each run is a fresh process, wrapped in `/usr/bin/time -f %M` for its peak RSS (never wait4 of
this parent). pages/s = HTML pages audited / wall time of the whole process. It prints per run,
then per tool: pages/s median (min-max), the ratio of the medians, peak RSS median (max), the
load average before and after (a loaded machine makes throughput figures unreliable; RSS is not
affected), and the server's CPU time (to show it was not the bottleneck).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import server as loopback_server  # noqa: E402  (a sibling script, not a package)


@dataclass
class Run:
    tool: str
    pages: int
    seconds: float
    peak_rss_mb: float
    note: str = ""

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def start_server(pages: int, *, sitemap: bool = True) -> tuple[subprocess.Popen[str], str]:
    extra = [] if sitemap else ["--no-sitemap"]
    return loopback_server.start([sys.executable, str(HERE / "server.py"), "--pages", str(pages), *extra])


def stop_server(proc: subprocess.Popen[str]) -> None:
    loopback_server.stop(proc)


def timed(tool: str, command: list[str], timeout: float) -> tuple[subprocess.CompletedProcess[str] | None, float, float]:
    """Run `command` under /usr/bin/time; return (result or None on timeout, seconds, peak RSS MB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as rss_file:
        wrapped = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *command]
        started = time.perf_counter()
        try:
            result: subprocess.CompletedProcess[str] | None = subprocess.run(
                wrapped, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            result = None
        seconds = time.perf_counter() - started
        text = Path(rss_file.name).read_text().strip().splitlines()
        peak = int(text[-1]) / 1024 if text and text[-1].isdigit() else float("nan")
    return result, seconds, peak


def run_bare(url: str, pages: int, concurrency: int, timeout: float) -> Run:
    command = [sys.executable, str(HERE / "bare_loop.py"), url, "--max-pages", str(pages * 2), "--concurrency", str(concurrency)]
    result, seconds, peak = timed("bare", command, timeout)
    if result is None or result.returncode != 0:
        return Run("bare", 0, seconds, peak, note="failed" if result else "timeout")
    return Run("bare", int(result.stdout.strip().splitlines()[-1]), seconds, peak)


def run_audit(url: str, pages: int, concurrency: int, timeout: float, smo_audit: str, extra: list[str]) -> Run:
    with tempfile.TemporaryDirectory(prefix="smo-bench-") as tmp:
        out = Path(tmp) / "report.json"
        command = [smo_audit, "audit", url, "-f", "json", "-o", str(out), "--max-pages", str(pages * 2),
                   "--concurrency", str(concurrency), "-q", *extra]
        result, seconds, peak = timed("audit", command, timeout)
        note = "" if result is not None else "timeout"
        if result is not None and result.returncode not in (0, 1):
            note = f"exit {result.returncode}: {result.stderr.strip()[:200]}"
        audited = 0
        if out.exists():
            with out.open("rb") as handle:
                report = json.load(handle)
            audited = sum(1 for p in report["pages"] if p.get("duplicate_of") is None and p["status"] == 200)
            if report.get("partial"):
                note = (note + " partial").strip()
    return Run("audit", audited, seconds, peak, note)


def summarise(runs: list[Run], tool: str) -> tuple[float, str]:
    rates = [r.pages_per_second for r in runs if r.tool == tool]
    rss = [r.peak_rss_mb for r in runs if r.tool == tool]
    median = statistics.median(rates)
    return median, (f"{tool:5s} {median:7.1f} pages/s ({min(rates):.1f}-{max(rates):.1f}), "
                    f"peak RSS {statistics.median(rss):6.1f} MB (max {max(rss):.1f})")


def compile_package() -> None:
    """Bytecode for smo-audit's own modules, as a regular (non-editable) install has."""
    import compileall
    import importlib.util

    for name in ("smo_audit", "smo_audit_rules"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            for folder in spec.submodule_search_locations:
                compileall.compile_dir(folder, quiet=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="site sizes in HTML pages, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one run may take")
    parser.add_argument("--smo-audit", default=str(Path(sys.executable).with_name("smo-audit")))
    parser.add_argument("--only", choices=["bare", "audit"], help="run one tool only (no ratio)")
    parser.add_argument("audit_args", nargs="*", help="extra options for smo-audit audit (after --)")
    args = parser.parse_args()
    compile_package()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
          f"concurrency {args.concurrency}, {args.rounds} rounds, tools alternated")
    for size in (int(s) for s in args.sizes.split(",")):
        server, url = start_server(size)
        runs: list[Run] = []
        try:
            for round_no in range(args.rounds):
                tools = ["bare", "audit"] if round_no % 2 == 0 else ["audit", "bare"]
                if args.only:
                    tools = [args.only]
                for tool in tools:
                    if tool == "bare":
                        run = run_bare(url, size, args.concurrency, args.timeout)
                    else:
                        run = run_audit(url, size, args.concurrency, args.timeout, args.smo_audit, args.audit_args)
                    runs.append(run)
                    print(f"  {size:>6} pages  round {round_no + 1}  {tool:5s} {run.pages:6d} pages  {run.seconds:7.2f} s  "
                          f"{run.pages_per_second:7.1f} pages/s  peak RSS {run.peak_rss_mb:6.1f} MB {run.note}", flush=True)
        finally:
            stop_server(server)
        print(f"{size} pages (load average now {os.getloadavg()[0]:.2f}):")
        medians = {}
        for tool in ("bare", "audit"):
            if any(r.tool == tool for r in runs):
                medians[tool], line = summarise(runs, tool)
                print("  " + line)
        if len(medians) == 2 and medians["bare"]:
            per_round = [a.pages_per_second / b.pages_per_second
                         for b, a in zip([r for r in runs if r.tool == "bare"], [r for r in runs if r.tool == "audit"], strict=False)
                         if b.pages_per_second]
            print(f"  ratio audit/bare {medians['audit'] / medians['bare']:.2f}x "
                  f"(per round {min(per_round):.2f}-{max(per_round):.2f})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
