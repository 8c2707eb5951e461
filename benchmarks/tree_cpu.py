"""CPU time (user+sys) of a command's whole process tree, parse workers included.

    python benchmarks/tree_cpu.py smo-audit audit URL -f json -o FILE --max-pages 2000 -q

`/usr/bin/time` counts the command and the children it waited for; an audit's fork server and
parse workers are not waited for by the audit, so their CPU is missed. This runs the command in a
new session and samples `/proc/PID/stat` of every process of that session every 10 ms, keeping
each one's last utime+stime; the command itself is counted exactly (its rusage). A process's
last <10 ms may be missed. CPU time is robust to other jobs on the machine where throughput is
not, which makes it the measure to compare versions with on a shared machine (alternate them).
Linux only.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _sample(session: int, seen: dict[int, tuple[str, int]]) -> None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[3]) == session:  # field 6: the session id
            seen[int(entry.name)] = (text[text.index("(") + 1:text.rindex(")")], int(fields[11]) + int(fields[12]))


def main() -> int:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    started = time.perf_counter()
    proc = subprocess.Popen(sys.argv[1:], start_new_session=True)
    seen: dict[int, tuple[str, int]] = {}
    while proc.poll() is None:
        _sample(proc.pid, seen)
        time.sleep(0.01)
    wall = time.perf_counter() - started
    time.sleep(0.3)  # the fork server and workers exit after the command: a last look
    _sample(proc.pid, seen)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = usage.ru_utime + usage.ru_stime
    others = sum(ticks for pid, (_, ticks) in seen.items() if pid != proc.pid) / TICKS
    print(f"wall {wall:.2f} s  command {own:.2f} s  other processes {others:.2f} s  total {own + others:.2f} s CPU "
          f"({len(seen)} processes, exit {proc.returncode})", file=sys.stderr)
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
