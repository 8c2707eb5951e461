"""Rendered mode against a bare Playwright loop, and `--render auto` against `--render all`.

    .venv/bin/python benchmarks/render_benchmark.py                         # 200 pages, 5 templates, 3 rounds
    .venv/bin/python benchmarks/render_benchmark.py --pages 200 --rounds 1 --memory-pages 500

A generated site (benchmarks/render_site.py: N pages from a handful of templates) is served on
127.0.0.1 by its own process. Round by round (the order rotated each round, so drift and other
load hit every tool alike), each a fresh process:

- bare: `python benchmarks/render_bare.py` (same Chromium, same concurrency: goto + read meta);
- all:  `smo-audit audit URL --render all -f json -o FILE -q`: crawl, render every page in every
  viewport (a pooled context reset between pages, settle, measure), every rule, the report;
- auto: the same with `--render auto` (a few pages per template rendered, the rest inherit).

pages/s = pages / wall time of the whole process (browser start-up included). Chromium tree
memory = the summed PSS (/proc/PID/smaps_rollup) of every Chromium process under the tool's
process, sampled every 0.2 s; the peak is printed, and with --memory-pages a longer `--render all`
run prints the tree's PSS at each fifth of the run: flat memory means the last fifths are no
higher than the second. Targets (issue 11): all >= 0.8x bare; auto >= 5x all on 5 templates.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import server as loopback_server  # noqa: E402  (a sibling script, not a package)


@dataclass
class Run:
    tool: str
    pages: int
    seconds: float
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds, Chromium PSS MB)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def peak_pss(self) -> float:
        return max((mb for _, mb in self.samples), default=0.0)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(parent, []).append(int(entry.name))
    return tree


def chromium_pss_mb(root: int) -> float:
    """Summed PSS of the Chromium processes below `root` (PSS shares shared pages fairly)."""
    tree = _children()
    todo, total = [root], 0
    while todo:
        for pid in tree.get(todo.pop(), []):
            todo.append(pid)
            try:
                if b"chrom" not in Path(f"/proc/{pid}/cmdline").read_bytes().lower():
                    continue
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
            except OSError:
                continue
    return total / 1024


def measured(command: list[str], timeout: float) -> tuple[subprocess.CompletedProcess[str] | None, float,
                                                         list[tuple[float, float]]]:
    """Run `command`, sampling its Chromium tree's PSS; (result or None on timeout, seconds, samples)."""
    samples: list[tuple[float, float]] = []
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            samples.append((time.perf_counter() - started, chromium_pss_mb(process.pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = process.communicate(timeout=timeout)
        result: subprocess.CompletedProcess[str] | None = subprocess.CompletedProcess(command, process.returncode, out, err)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        result = None
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    return result, seconds, [s for s in samples if s[1] > 0]


def start_server(pages: int, templates: int, cache_max_age: int = 0) -> tuple[subprocess.Popen[str], str]:
    return loopback_server.start([sys.executable, str(HERE / "render_site.py"), "--pages", str(pages),
                         "--templates", str(templates), "--cache-max-age", str(cache_max_age)])


def stop_server(proc: subprocess.Popen[str]) -> None:
    loopback_server.stop(proc)


def run_bare(url: str, args: argparse.Namespace, pages: int) -> Run:
    command = [sys.executable, str(HERE / "render_bare.py"), url, "--pages", str(pages), "--templates",
               str(args.templates), "--concurrency", str(args.concurrency), "--viewports", args.viewports]
    result, seconds, samples = measured(command, args.timeout)
    if result is None or result.returncode != 0:
        return Run("bare", 0, seconds, samples, "timeout" if result is None else f"failed: {result.stderr[-300:]}")
    renders = int(result.stdout.strip().splitlines()[-1])
    return Run("bare", renders // len(args.viewports.split(",")), seconds, samples)


def run_audit(tool: str, url: str, args: argparse.Namespace, pages: int) -> Run:
    with tempfile.TemporaryDirectory(prefix="smo-bench-") as tmp:
        out = Path(tmp) / "report.json"
        command = [args.smo_audit, "audit", url, "--render", tool, "--render-concurrency", str(args.concurrency),
                   "--viewports", args.viewports, "-f", "json", "-o", str(out), "--max-pages", str(pages), "-q"]
        result, seconds, samples = measured(command, args.timeout)
        note = "timeout" if result is None else ""
        if result is not None and result.returncode not in (0, 1):
            note = f"exit {result.returncode}: {result.stderr.strip()[:200]}"
        done = 0
        if out.exists():
            report = json.loads(out.read_text("utf-8"))
            done = len(report["pages"])
            summary = report.get("render") or {}
            note = (f"{note} rendered {summary.get('rendered')} inherited {summary.get('inherited')} "
                    f"static-only {summary.get('static_only')} templates {summary.get('templates')} "
                    f"restarts {summary.get('browser_restarts')}").strip()
    return Run(tool, done, seconds, samples, note)


def fifths(run: Run) -> str:
    if not run.samples:
        return "no samples"
    end = run.samples[-1][0]
    parts = []
    for k in range(5):
        window = [mb for t, mb in run.samples if k * end / 5 <= t <= (k + 1) * end / 5]
        parts.append(f"{max(window):.0f}" if window else "-")
    return " / ".join(parts) + " MB (max PSS per fifth of the run)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--templates", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--viewports", default="desktop,mobile")
    parser.add_argument("--tools", default="bare,all,auto")
    parser.add_argument("--memory-pages", type=int, default=0, help="also a --render all run this long, PSS over time")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--cache-max-age", type=int, default=0,
                        help="the site's stylesheet, script and image say Cache-Control: max-age=N (0: no cache headers)")
    parser.add_argument("--smo-audit", default=str(Path(sys.executable).with_name("smo-audit")))
    args = parser.parse_args()
    tools = args.tools.split(",")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
          f"{args.pages} pages, {args.templates} templates, viewports {args.viewports}, "
          f"concurrency {args.concurrency}, {args.rounds} rounds, cache max-age {args.cache_max_age}")
    server, url = start_server(args.pages, args.templates, args.cache_max_age)
    runs: list[Run] = []
    try:
        for round_no in range(args.rounds):
            order = tools[round_no % len(tools):] + tools[:round_no % len(tools)]
            for tool in order:
                run = run_bare(url, args, args.pages) if tool == "bare" else run_audit(tool, url, args, args.pages)
                runs.append(run)
                print(f"  round {round_no + 1}  {tool:4s} {run.pages:5d} pages {run.seconds:7.2f} s {run.rate:6.2f} pages/s "
                      f"Chromium PSS peak {run.peak_pss:6.1f} MB  {run.note}", flush=True)
    finally:
        stop_server(server)
    medians = {}
    print(f"summary (load average now {os.getloadavg()[0]:.2f}):")
    for tool in tools:
        mine = [r for r in runs if r.tool == tool]
        medians[tool] = statistics.median(r.rate for r in mine)
        print(f"  {tool:4s} {medians[tool]:6.2f} pages/s ({min(r.rate for r in mine):.2f}-{max(r.rate for r in mine):.2f}), "
              f"Chromium PSS peak median {statistics.median(r.peak_pss for r in mine):.1f} MB")
    if medians.get("bare") and "all" in medians:
        print(f"  all / bare  {medians['all'] / medians['bare']:.2f}x   (target >= 0.8x)")
    if medians.get("all") and "auto" in medians:
        print(f"  auto / all  {medians['auto'] / medians['all']:.2f}x   (target >= 5x on 5 templates)")
    if args.memory_pages:
        server, url = start_server(args.memory_pages, args.templates, args.cache_max_age)
        try:
            run = run_audit("all", url, args, args.memory_pages)
        finally:
            stop_server(server)
        print(f"memory, --render all over {run.pages} pages in {run.seconds:.1f} s: {fifths(run)}  {run.note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
