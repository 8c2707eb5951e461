"""Page extraction in worker processes, with a time budget per page.

Parsing and classifying a page is CPU work (a hostile page can make it slow), and in the crawl's
process it would stall the event loop: fetches would time out, Ctrl-C would wait. So extraction
runs in a small pool of worker processes. The interface is deliberately narrow so a bigger pool
(engineer 13's throughput work) can sit on it unchanged:

    pool = ExtractionPool(size=2, budget=20.0)
    extracted = await pool.extract(raw_page)     # RawPage bytes in, ExtractedPage out
    pool.close()

- A page that takes longer than `budget` seconds raises `ProcessingTimeout`; its worker is killed
  (a process can be stopped mid-regex, a thread cannot) and replaced on the next request, and the
  audit goes on with the other pages (the pipeline reports kind `processing-timeout`).
- Workers ignore SIGINT/SIGTERM: the parent decides when the audit stops and kills them in
  `close()`, so Ctrl-C never leaves a half-written report behind a dying worker. A worker whose
  parent is gone sees its pipe close and exits.
- Workers start from a fork server with the extraction modules preloaded, so a replacement after
  a timeout costs milliseconds, not a second of imports. `size=0` extracts in-process (tests,
  debugging with --debug).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import pickle
import signal
import socket
import struct
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any, cast

from smo_audit.crawl.models import RawPage

if TYPE_CHECKING:
    from smo_audit.extract import ExtractedPage

STARTUP_TIMEOUT = 60.0  # seconds a new worker may take to import and build its catalogues
DEFAULT_BUDGET = 20.0  # seconds of CPU work one page may cost; real pages take milliseconds
_PRELOAD = ["smo_audit.extract.warm"]  # imported once by the fork server, inherited by every worker


class ProcessingTimeout(Exception):
    """A page's extraction went over its time budget; the worker that ran it was stopped."""

    def __init__(self, url: str, budget: float) -> None:
        super().__init__(f"processing {url} took longer than {budget:g} s (the page was skipped; "
                         "a hostile or pathological page)")
        self.url = url
        self.budget = budget


class WorkerCrashed(Exception):
    """The worker died while extracting a page (out of memory, a crash in a C extension)."""


def _worker_main(conn: Connection, keep_anchors: bool = True) -> None:
    """Loop in the worker: receive a RawPage, send back ("ok", ExtractedPage) or ("error", text).

    Without `keep_anchors` the Document goes back without its anchors: the classifiers have
    already turned them into facts and links here, no built-in page rule reads them, and they are
    most of what a page costs to send (about 130 objects of 18 fields on a typical page).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's kill() still ends it
    from smo_audit.extract.warm import EXTRACTOR as extractor

    try:
        conn.send(("ready", None))  # building the catalogues is not counted in any page's budget
    except OSError:
        return  # the audit ended (or was interrupted) while this worker was starting: nothing to say
    while True:
        try:
            page = conn.recv()
        except (EOFError, OSError):
            return  # the parent closed the pipe or went away
        if page is None:
            return
        try:
            extracted = extractor.extract(page)
            if not keep_anchors:
                extracted = without_anchors(extracted)
            result: tuple[str, Any] = ("ok", extracted)
        except Exception as exc:  # reported as a "processing" error for this page
            result = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(result)
        except OSError:
            return  # the parent closed the pipe (interrupted, or this page's budget ran out)
        except Exception as exc:  # e.g. a result that cannot be pickled
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


SOCKET_BUFFER = 1 << 20  # bytes: a page and its facts fit, so neither side waits on the other


class _Worker:
    """One worker process and the parent's end of its socket pair.

    The parent talks to it through the event loop (`_send`/`_recv`, non-blocking, the framing of
    multiprocessing's Connection, which the worker uses as is): a blocking send or receive of a
    50 KB page stalled every fetch in flight until the worker was scheduled (11% of the parent's
    time on a busy machine).
    """

    def __init__(self, context: Any, keep_anchors: bool = True) -> None:
        parent, child = context.Pipe(duplex=True)
        self.conn: Connection = parent
        self.sock = socket.socket(fileno=os.dup(parent.fileno()))
        for end in (self.sock, socket.socket(fileno=os.dup(child.fileno()))):
            with contextlib.suppress(OSError):
                end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
                end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
            if end is not self.sock:
                end.close()
        self.sock.setblocking(False)
        self.process: BaseProcess = context.Process(target=_worker_main, args=(child, keep_anchors), daemon=True,
                                                    name="smo-audit-extract")
        self.process.start()
        child.close()
        self.ready = False

    async def send(self, message: object) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        size = len(data)
        header = struct.pack("!i", size) if size <= 0x7FFFFFFF else struct.pack("!i", -1) + struct.pack("!Q", size)
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(self.sock, header)
        await loop.sock_sendall(self.sock, data)

    async def receive(self) -> Any:
        (size,) = struct.unpack("!i", await self._exactly(4))
        if size == -1:
            (size,) = struct.unpack("!Q", await self._exactly(8))
        return pickle.loads(await self._exactly(size))

    async def _exactly(self, size: int) -> bytearray:
        loop = asyncio.get_running_loop()
        buffer = bytearray(size)
        view = memoryview(buffer)
        got = 0
        while got < size:
            count = await loop.sock_recv_into(self.sock, view[got:])
            if count == 0:
                raise EOFError("the worker closed its end")
            got += count
        return buffer

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(OSError):
            self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(1)


def _context() -> Any:
    """A fork server with extraction preloaded: cheap restarts, no fork of a threaded parent."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # "__main__" too: otherwise every worker re-imports the main script (pytest, the CLI's
        # entry point) before it can start, ~0.25 s each.
        context.set_forkserver_preload(["__main__", *_PRELOAD])
        return context
    return multiprocessing.get_context("spawn")


class ExtractionPool:
    """`size` worker processes extracting pages, at most `budget` seconds each."""

    def __init__(self, size: int = 2, budget: float = DEFAULT_BUDGET,
                 extract_in_process: Callable[[RawPage], ExtractedPage] | None = None,
                 *, keep_anchors: bool = True) -> None:
        if size < 0 or budget <= 0:
            raise ValueError("ExtractionPool needs size >= 0 and a positive budget")
        self.size = size
        self.budget = budget
        if size:
            from smo_audit.extract.transfer import register

            register()  # pages go out and facts come back through the fast reducers
        self._in_process = extract_in_process
        self.keep_anchors = keep_anchors  # False: Documents come back without anchors (see _worker_main)
        self._idle: list[_Worker] = []
        self._started = 0  # live workers (idle or busy)
        self._slots = asyncio.Semaphore(max(size, 1))
        self._context: Any = None
        self._closed = False
        self._busy: set[_Worker] = set()
        self._starting: asyncio.Future[None] | None = None

    def start(self) -> None:
        """Start the workers in a background thread, so they boot while the first pages are
        fetched (the first start in a process also boots the fork server, ~1 s of imports)."""
        if self.size and self._starting is None:
            self._starting = asyncio.get_running_loop().run_in_executor(None, self._start_workers)

    def _start_workers(self) -> None:
        while not self._closed and self._started < self.size:
            self._idle.append(self._new_worker())

    async def extract(self, page: RawPage) -> ExtractedPage:
        """The ExtractedPage of `page`; ProcessingTimeout over budget; WorkerCrashed if a worker died."""
        if self.size == 0:
            if self._in_process is None:
                from smo_audit.extract import Extractor

                self._in_process = Extractor().extract
            return self._in_process(page)
        if self._starting is not None:
            await asyncio.shield(self._starting)
        async with self._slots:
            worker = self._take()
            self._busy.add(worker)
            try:
                result = await self._run(worker, page)
            except BaseException:
                self._busy.discard(worker)
                self._discard(worker)
                raise
            self._busy.discard(worker)
            if self._closed:
                self._discard(worker)
            else:
                self._idle.append(worker)
        status, value = result
        if status == "error":
            raise RuntimeError(value)
        return cast("ExtractedPage", value)

    def _take(self) -> _Worker:
        if self._idle:
            return self._idle.pop()
        if self._closed:
            raise WorkerCrashed("the extraction pool is closed")
        return self._new_worker()

    def _new_worker(self) -> _Worker:
        if self._context is None:
            self._context = _context()
        self._started += 1
        return _Worker(self._context, self.keep_anchors)

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        self._started -= 1

    async def _run(self, worker: _Worker, page: RawPage) -> tuple[str, Any]:
        if not worker.ready:
            try:
                await self._receive(worker, STARTUP_TIMEOUT)
            except TimeoutError:
                raise WorkerCrashed(f"a page worker did not start within {STARTUP_TIMEOUT:g} s") from None
            except (EOFError, OSError) as exc:
                raise WorkerCrashed(f"a page worker failed to start (exit code {worker.process.exitcode})") from exc
            worker.ready = True
        await worker.send(page)
        try:
            return await self._receive(worker, self.budget)
        except TimeoutError:
            raise ProcessingTimeout(page.url, self.budget) from None
        except (EOFError, OSError) as exc:
            code = worker.process.exitcode
            raise WorkerCrashed(f"the worker extracting {page.url} died (exit code {code})") from exc

    @staticmethod
    async def _receive(worker: _Worker, timeout: float) -> tuple[str, Any]:
        """Wait (without blocking the event loop) for the worker's next message."""
        async with asyncio.timeout(timeout):
            message: tuple[str, Any] = await worker.receive()
        return message

    def close(self) -> None:
        """Stop every worker now (idle ones and, on cancellation, busy ones)."""
        self._closed = True
        workers, self._idle = self._idle, []
        for worker in [*workers, *self._busy]:
            worker.kill()
        self._busy.clear()


def without_anchors(extracted: ExtractedPage) -> ExtractedPage:
    """`extracted` with a Document whose `anchors` is empty (what the worker sends back)."""
    from dataclasses import replace

    return replace(extracted, document=replace(extracted.document, anchors=()))


def default_pool_size() -> int:
    """Two workers on most machines: extraction is a small part of an audit's time per page."""
    return max(1, min(2, (os.cpu_count() or 1)))
