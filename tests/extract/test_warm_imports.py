"""The page workers' fork server preloads smo_audit.extract.warm once per audit; what it imports
is CPU every audit pays again. Workers never fetch (their rules ask the parent), so the HTTP
client stack (httpx, httpcore, h2, anyio: about 0.1 s of imports) must stay out of it."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import smo_audit.extract.warm
assert smo_audit.extract.warm.EXTRACTOR.classifiers  # the preload did its job
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in ("httpx", "httpcore", "h2", "anyio")
                      or m in ("smo_audit.crawl.fetcher", "smo_audit.crawl.wire", "smo_audit.crawl.backend"))))
"""


def test_the_worker_preload_imports_no_http_client() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"the page workers' preload imported {result.stdout.strip()}"


def test_the_probe_sees_an_http_client_import() -> None:
    # The control: the same probe does report the stack when the crawl side is imported.
    probe = PROBE.replace("import smo_audit.extract.warm\n", "import smo_audit.extract.warm\nimport smo_audit.crawl.fetcher\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "httpx" in result.stdout.split(",") and "smo_audit.crawl.fetcher" in result.stdout.split(",")


GC_PROBE = """
import gc
import smo_audit.extract.warm
print(gc.get_threshold()[0], gc.get_freeze_count())
"""


def test_the_worker_preload_leaves_the_collector_tuned_for_the_workers_it_forks() -> None:
    # Workers are forked from the fork server and inherit its collector settings: what the preload
    # built is frozen (not walked again per collection, not copied by it), the first generation large.
    result = subprocess.run([sys.executable, "-c", GC_PROBE], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    threshold, frozen = map(int, result.stdout.split())
    assert threshold >= 10_000 and frozen > 10_000, result.stdout
