"""`audit URL --dask ADDRESS`: the shards of one audit as tasks on a Dask distributed cluster.

The split is the one of `audit --shard K/N` (smo_audit/shard.py); Dask only places the shards.
The client (the `smo-audit audit` process) resolves the settings once (config file, flags), so
every worker audits with the same effective config whatever its working directory, and submits
one task per shard, N = the cluster's worker threads (`local:N`: N worker processes of one
thread each). A task runs the shard as a child process of the worker, `python -m
smo_audit.distributed` with the request on stdin, exactly what `audit --shard K/N -o part.ndjson`
does: a child process, because a Dask worker is a daemon process (it cannot start the audit's
parse workers) and runs tasks in threads (no signal handlers). The task returns its part
compressed, so workers need no shared filesystem; the client writes the parts to a temporary
folder and merges them as `report --merge` does (the CLI does that part).

Stopping: Ctrl-C or SIGTERM on the client sets a Dask Event every running task polls; the task
terminates its shard, which writes its partial part. A shard also stops by itself when its
worker dies (its stdin closes). The parts that arrived are merged into a partial report that
names the missing shards, so nothing audited is lost.

Failure sentences: without `distributed` installed, a malformed address or a scheduler that
cannot be reached within Dask's connect timeout (`distributed.comm.timeouts.connect`, 30 s by
default), `--dask` exits 2 (usage/config): nothing was audited and the fix is in the command.
A shard whose target cannot be audited exits 3 like a single audit.

`local:N` starts a `distributed.LocalCluster` bound to 127.0.0.1 (scheduler, workers and nannies
on loopback, ephemeral ports, no dashboard); it stops with the run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smo_audit.errors import (
    EXIT_INTERRUPTED,
    EXIT_NOT_AUDITABLE,
    EXIT_TERMINATED,
    EXIT_USAGE,
    InternalError,
    TargetError,
    UsageError,
)
from smo_audit.safe_path import children_without_working_directory
from smo_audit.shard import Shard

INSTALL_HINT = "--dask needs Dask's distributed scheduler: install it with pip install 'smo-audit[dask]'"
MAX_LOCAL_WORKERS = 256
_CHUNK = 1 << 20
# Exit codes of a shard after which its part file holds its pages (a finished or partial audit).
_PART_WRITTEN = (0, 1, EXIT_INTERRUPTED, EXIT_TERMINATED)


@dataclass(frozen=True)
class DaskAddress:
    """Where the shards run: an existing scheduler (`tcp://host:port`) or `local:N` workers."""

    scheduler: str | None  # tcp://host:port, or None for a LocalCluster
    local_workers: int = 0

    def __str__(self) -> str:
        return self.scheduler or f"local:{self.local_workers}"


def parse_address(text: str) -> DaskAddress:
    """`tcp://HOST:PORT` or `local:N`, or one sentence (exit 2)."""
    value = text.strip()
    local = re.fullmatch(r"local:(\d{1,4})", value)
    if local is not None:
        count = int(local.group(1))
        if not 1 <= count <= MAX_LOCAL_WORKERS:
            raise UsageError(f"--dask local:N needs 1 <= N <= {MAX_LOCAL_WORKERS} worker processes, not {count}")
        return DaskAddress(None, count)
    remote = re.fullmatch(r"tcp://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})", value)
    if remote is None or not 0 < int(remote.group(2)) < 65536:
        raise UsageError(f"--dask must be a scheduler address tcp://HOST:PORT (e.g. tcp://scheduler:8786) "
                         f"or local:N, not {text!r}")
    return DaskAddress(value)


def require_distributed() -> None:
    """Exit 2 with the install command when Dask's distributed is not installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


@dataclass
class DaskRun:
    """What came back: the part files written here, the shard count, and why it stopped early."""

    parts: list[Path]
    count: int
    stop_reason: str | None = None  # "interrupted" / "terminated" when the client was stopped


def local_cluster_options(workers: int) -> dict[str, Any]:
    """A LocalCluster on loopback only: scheduler, nannies, workers and their HTTP endpoints bind
    127.0.0.1 on ephemeral ports, and there is no dashboard. (Without an address the scheduler's
    health endpoint would take port 8787, or warn that it is taken.)"""
    return {"n_workers": workers, "threads_per_worker": 1, "processes": True, "host": "127.0.0.1",
            "scheduler_port": 0, "dashboard_address": None,
            "scheduler_kwargs": {"dashboard": False, "dashboard_address": "127.0.0.1:0"}}


@contextmanager
def _client(address: DaskAddress) -> Iterator[Any]:
    """A Dask client of the scheduler, or of a LocalCluster on loopback started for this run."""
    import logging

    from distributed import Client, LocalCluster

    if address.scheduler is None:
        # Its worker processes run as `python -c ...` (and a nanny may restart one at any time):
        # none imports from the working directory while the cluster lives.
        with children_without_working_directory():
            cluster = LocalCluster(**local_cluster_options(address.local_workers), silence_logs=logging.ERROR)
            try:
                with Client(cluster, set_as_default=False) as client:
                    yield client
            finally:
                cluster.close()
        return
    try:
        client = Client(address.scheduler, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise UsageError(f"cannot reach the Dask scheduler at {address.scheduler} ({reason}); "
                         "start it or check --dask") from None
    try:
        yield client
    finally:
        client.close()


def run_shards(address: DaskAddress, target: str, config: dict[str, Any], folder: Path,
               notice: Callable[[str], None] | None = None) -> DaskRun:
    """Run the shards on the cluster; write their parts to `folder`; return them."""
    from distributed import Event, as_completed

    token = uuid.uuid4().hex[:12]
    with _client(address) as client:
        count = sum(client.nthreads().values())
        if count < 1:
            raise UsageError(f"the Dask cluster at {address} has no workers: start some, then run again")
        if notice is not None:
            notice(f"auditing in {count} shards on the Dask cluster at {address}")
        stop = Event(f"smo-audit-stop-{token}", client=client)
        futures = [client.submit(audit_shard, _request(target, config, Shard(k, count)), stop.name,
                                 key=f"smo-audit-shard-{k}-of-{count}-{token}", pure=False)
                   for k in range(1, count + 1)]
        run = DaskRun([], count)
        unauditable: list[str] = []
        try:
            for future in as_completed(futures, loop=client.loop):
                result = _result(future)
                run.parts.append(_write_part(folder, result))
                if result["code"] == EXIT_NOT_AUDITABLE:
                    unauditable.append(result["message"])
                if notice is not None:
                    notice(f"shard {result['shard']} done ({len(run.parts)} of {count})")
            if len(unauditable) == count:
                # the shard that owns the start URL says why (the others only found no page of theirs)
                specific = [m for m in unauditable if not m.startswith("nothing could be audited")]
                raise TargetError((specific or unauditable)[0])
        except (KeyboardInterrupt, _terminated()) as signal:
            run.stop_reason = "interrupted" if isinstance(signal, KeyboardInterrupt) else "terminated"
            _stop_shards(stop, futures, client)  # running shards write their partial parts and end
            written = {p.name for p in run.parts}
            for future in futures:
                if future.status != "finished":
                    continue  # a shard that did not finish is named missing by the merge
                result = future.result()
                if result["part"] and _part_name(result) not in written:
                    run.parts.append(_write_part(folder, result))
        except BaseException:
            _stop_shards(stop, futures, client)  # one shard failed: the others are of no use
            raise
        return run


def _stop_shards(stop: Any, futures: list[Any], client: Any, grace: float = 60.0) -> None:
    """Ask every running shard to stop and give them `grace` seconds to do so before cancelling:
    on a shared cluster a cancelled task's thread would go on crawling."""
    stop.set()
    deadline = time.monotonic() + grace
    while any(f.status == "pending" for f in futures) and time.monotonic() < deadline:
        time.sleep(0.2)
    client.cancel([f for f in futures if f.status == "pending"])  # the finished ones hold parts


def shard_config(config: dict[str, Any]) -> dict[str, Any]:
    """The settings a shard runs with: the client's, writing one quiet NDJSON part.

    The baseline is compared once, on the merged report (its file is the client's); rule folders
    are absolute paths, which every worker must have too.
    """
    dirs = [str(Path(d).resolve()) for d in config.get("rules_dirs") or []]
    return {**config, "format": ["ndjson"], "output": None, "output_dir": None, "quiet": True,
            "baseline": None, "rules_dirs": dirs}


def _terminated() -> type[BaseException]:
    from smo_audit.interrupt import Terminated

    return Terminated


def _request(target: str, config: dict[str, Any], shard: Shard) -> dict[str, Any]:
    return {"target": target, "config": config, "shard": str(shard)}


def _result(future: Any) -> dict[str, Any]:
    """The task's result, or the sentence for a shard that did not produce a part."""
    try:
        result: dict[str, Any] = future.result()
    except ImportError as exc:
        raise UsageError(f"a Dask worker cannot run smo-audit ({exc}): install smo-audit[dask] on every "
                         "worker") from None
    except Exception as exc:
        detail = " ".join(str(exc).split())[:200]
        raise InternalError(f"a shard failed on the Dask cluster ({type(exc).__name__}: {detail})") from None
    code, message = result["code"], result["message"] or f"exit status {result['code']}"
    if (code in _PART_WRITTEN or code == EXIT_NOT_AUDITABLE) and result["part"]:
        return result  # 3 with a part: nothing of this partition could be audited (judged over all shards)
    where = f"shard {result['shard']} on the Dask cluster"
    if code == EXIT_NOT_AUDITABLE:
        raise TargetError(f"{message} ({where})")
    if code == EXIT_USAGE:
        raise UsageError(f"{message} ({where})")
    raise InternalError(f"{where} failed: {message}")


def _part_name(result: dict[str, Any]) -> str:
    return f"part-{str(result['shard']).split('/')[0]}.ndjson"


def _write_part(folder: Path, result: dict[str, Any]) -> Path:
    path = folder / _part_name(result)
    inflate = zlib.decompressobj()
    data: bytes = result["part"]
    with path.open("wb") as out:
        for start in range(0, len(data), _CHUNK):
            out.write(inflate.decompress(data[start:start + _CHUNK]))
        out.write(inflate.flush())
    return path


# --- on a worker ------------------------------------------------------------------------------


def audit_shard(request: dict[str, Any], stop_name: str | None = None) -> dict[str, Any]:
    """A Dask task: audit one shard in a child process; return its exit status and part.

    The part comes back zlib-compressed (NDJSON report lines shrink about tenfold), so the
    workers and the client share no filesystem.
    """
    stop = None
    if stop_name:
        from distributed import Event, get_client

        stop = Event(stop_name, client=get_client())  # the worker's own client
    shard = str(request["shard"])
    if stop is not None and stop.is_set():  # queued behind other shards when the run was stopped
        return {"shard": shard, "code": EXIT_INTERRUPTED, "message": "stopped before it started", "part": b""}
    with tempfile.TemporaryDirectory(prefix="smo-audit-shard-") as tmp:
        part = Path(tmp) / "part.ndjson"
        errors = Path(tmp) / "stderr.txt"
        config = {**request["config"], "output": str(part)}
        line = json.dumps({**request, "config": config}, ensure_ascii=True) + "\n"
        with errors.open("wb") as err:
            # -P: the working directory (the Dask worker's) is not put on the shard's import path.
            child = subprocess.Popen([sys.executable, "-P", "-m", "smo_audit.distributed"], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=err)
            assert child.stdin is not None
            child.stdin.write(line.encode("ascii"))
            child.stdin.flush()
            try:
                code = _wait(child, stop)
            finally:
                if child.poll() is None:
                    child.kill()
                    child.wait()
                child.stdin.close()
        message = _last_error(errors.read_text("utf-8", "replace"))
        packed = _compress(part) if part.is_file() else b""
    return {"shard": shard, "code": code, "message": message, "part": packed}


def _wait(child: subprocess.Popen[bytes], stop: Any) -> int:
    """The shard's exit status; SIGTERM it when the client asked the run to stop."""
    asked = False
    while True:
        try:
            return child.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        if not asked and stop is not None and stop.is_set():
            child.terminate()  # the shard stops fetching and writes its partial part
            asked = True


def _last_error(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("smo-audit: "):
            return line.removeprefix("smo-audit: ").removeprefix("error: ")
    return lines[-1][:300] if lines else ""


def _compress(path: Path) -> bytes:
    deflate = zlib.compressobj(level=1)
    chunks: list[bytes] = []
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            chunks.append(deflate.compress(block))
    chunks.append(deflate.flush())
    return b"".join(chunks)


def _watch_stdin() -> None:
    """End the shard (SIGTERM to itself: a partial part) when its worker goes away."""
    import signal

    def watch() -> None:
        # os.read, not sys.stdin: a daemon thread blocked in a buffered reader aborts the
        # interpreter's shutdown (it cannot take the reader's lock).
        while os.read(0, 65536):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="smo-audit-worker-watch", daemon=True).start()


def shard_main() -> None:
    """`python -m smo_audit.distributed`: one shard, its request (target, config, shard) on stdin."""
    from smo_audit.cli import run_shard_request

    request = json.loads(sys.stdin.buffer.readline() or b"{}")
    _watch_stdin()
    sys.exit(run_shard_request(request))


if __name__ == "__main__":
    shard_main()
