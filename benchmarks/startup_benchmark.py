"""How long `smo-audit --help`, `rules` and `explain` take, next to a bare `python -c pass`.

Targets: `--help` under 0.5 s; `rules` and `explain` under 0.15 s (they read the rules'
metadata from rules/metadata.json and never import the fetch and preview stack). Heavy imports
(httpx, pydantic models, rich, jinja2, playwright) must stay inside the commands that need them.
Run: `.venv/bin/python benchmarks/startup_benchmark.py [runs]` (median of `runs`, default 9).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path


def _median_seconds(command: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    cli = str(Path(sys.executable).with_name("smo-audit"))
    baseline = _median_seconds([sys.executable, "-c", "pass"], runs)
    help_time = _median_seconds([cli, "--help"], runs)
    rules_time = _median_seconds([cli, "rules"], runs)
    explain_time = _median_seconds([cli, "explain", "og-image"], runs)
    imports = _median_seconds([sys.executable, "-c", "import smo_audit.pipeline"], runs)
    print(f"python -c pass          {baseline * 1000:7.1f} ms (baseline)")
    print(f"smo-audit --help        {help_time * 1000:7.1f} ms (target < 500 ms)")
    print(f"smo-audit rules         {rules_time * 1000:7.1f} ms (target < 150 ms; piped output)")
    print(f"smo-audit explain ID    {explain_time * 1000:7.1f} ms (target < 150 ms)")
    print(f"import smo_audit.pipeline {imports * 1000:5.1f} ms (what an audit pays before crawling)")


if __name__ == "__main__":
    main()
