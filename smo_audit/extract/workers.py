"""Page work in worker processes, with a time budget per page.

Parsing, classifying and judging a page is CPU work (a hostile page can make it slow), and in the
crawl's process it would stall the event loop: fetches would time out, Ctrl-C would wait. It
would also leave one core to do everything. So pages go to a small pool of worker processes:

    pool = ExtractionPool(size=2, budget=20.0)
    extracted = await pool.extract(raw_page)                        # facts and Document back
    worked = await pool.audit(raw_page, source, spec, resources)    # the page's whole audit back
    pool.close()

- `extract` parses and classifies: the rendered mode and --debug run the page rules in the crawl
  process on what comes back. `audit` does the page stage there too (engine/page_audit.py): the
  page rules, preview cards and report entry run next to the Document, and the crawl process
  gets back the page's NDJSON line, facts and scores, so the process that fetches does little
  else (the static audit's throughput). The rules' fetches (images, robots.txt, feeds) come back
  to the parent as requests: it makes them through its one fetch policy and cache and answers.
- A page whose work takes longer than `budget` seconds raises `ProcessingTimeout`; its worker is
  killed (a process can be stopped mid-regex, a thread cannot) and replaced on the next request,
  and the audit goes on with the other pages (the pipeline reports kind `processing-timeout`).
  Time the worker spends waiting for the parent's fetches does not count.
- Workers ignore SIGINT/SIGTERM: the parent decides when the audit stops and kills them in
  `close()`, so Ctrl-C never leaves a half-written report behind a dying worker. A worker whose
  parent is gone sees its socket close and exits.
- Workers start from a fork server with the extraction modules preloaded, so a replacement after
  a timeout costs milliseconds, not a second of imports. `size=0` works in-process (tests,
  debugging with --debug).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import os
import pickle
import signal
import socket
import struct
from collections import OrderedDict
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any, cast

from smo_audit.crawl.models import RawPage

if TYPE_CHECKING:
    from smo_audit.engine.page_audit import PageAuditor, PageAuditSpec, WorkedPage
    from smo_audit.engine.resources import Resource, Resources
    from smo_audit.extract import ExtractedPage, Extractor
    from smo_audit.extract.facts import PageFacts

STARTUP_TIMEOUT = 60.0  # seconds a new worker may take to import and build its catalogues
DEFAULT_BUDGET = 20.0  # seconds of CPU work one page may cost; real pages take milliseconds
_PRELOAD = ["smo_audit.extract.warm"]  # imported once by the fork server, inherited by every worker
SOCKET_BUFFER = 1 << 20  # bytes: a page and its facts fit, so neither side waits on the other


class ProcessingTimeout(Exception):
    """A page's work went over its time budget; the worker that ran it was stopped."""

    def __init__(self, url: str, budget: float) -> None:
        super().__init__(f"processing {url} took longer than {budget:g} s (the page was skipped; "
                         "a hostile or pathological page)")
        self.url = url
        self.budget = budget


class WorkerCrashed(Exception):
    """The worker died while working on a page (out of memory, a crash in a C extension)."""


class _Channel:
    """Pickled messages over a non-blocking socket, framed like multiprocessing's Connection.

    Both ends talk through their event loop: a blocking send or receive of a 50 KB page stalled
    every fetch in flight until the other process was scheduled. Sends are serialised by a lock
    (a page's answer and a fetch's answer may be sent concurrently).
    """

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self._sending = asyncio.Lock()

    async def send(self, message: object) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        size = len(data)
        header = struct.pack("!i", size) if size <= 0x7FFFFFFF else struct.pack("!i", -1) + struct.pack("!Q", size)
        loop = asyncio.get_running_loop()
        async with self._sending:
            await loop.sock_sendall(self.sock, header + data if size < 65536 else header)
            if size >= 65536:
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
                raise EOFError("the other end closed the socket")
            got += count
        return buffer


# -- the worker's side ---------------------------------------------------------------------------

class _RemoteResources:
    """The parent's ResourceCache as rules in a worker see it: each distinct request is asked once.

    Answers are kept here too (bounded by count and bytes), so the pages of a site that share an
    og:image or a robots.txt do not ask again.
    """

    MAX_ENTRIES = 256
    MAX_BYTES = 16 * 1024 * 1024

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel
        self._ids = itertools.count()
        self.waiting: dict[int, asyncio.Future[Resource]] = {}
        self._known: OrderedDict[tuple[str, str | None, int | None, bool], Resource] = OrderedDict()
        self._bytes = 0

    async def fetch(self, url: str, *, user_agent: str | None = None, max_bytes: int | None = None,
                    keep_body: bool = False) -> Resource:
        key = (url, user_agent, max_bytes, keep_body)
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            return known
        request = next(self._ids)
        future: asyncio.Future[Resource] = asyncio.get_running_loop().create_future()
        self.waiting[request] = future
        await self._channel.send(("fetch", request, url, user_agent, max_bytes, keep_body))
        resource = await future
        self._keep(key, resource)
        return resource

    def _keep(self, key: tuple[str, str | None, int | None, bool], resource: Resource) -> None:
        self._known[key] = resource
        self._bytes += len(resource.head)
        while self._known and (len(self._known) > self.MAX_ENTRIES or self._bytes > self.MAX_BYTES):
            _, dropped = self._known.popitem(last=False)
            self._bytes -= len(dropped.head)


def without_anchors(extracted: ExtractedPage) -> ExtractedPage:
    """`extracted` with a Document whose `anchors` is empty (what `extract` sends back)."""
    from dataclasses import replace

    return replace(extracted, document=replace(extracted.document, anchors=()))


class _WorkerLoop:
    """What one worker process does with the parent's messages."""

    def __init__(self, channel: _Channel, extractor: Extractor, keep_anchors: bool) -> None:
        self.channel = channel
        self.extractor = extractor
        self.keep_anchors = keep_anchors
        self.resources = _RemoteResources(channel)
        self.jobs: asyncio.Queue[tuple[Any, ...] | None] = asyncio.Queue()
        self.auditor: PageAuditor | None = None
        self.spec: PageAuditSpec | None = None
        from smo_audit.engine.page_audit import ThumbnailOffers

        self.thumbnails = ThumbnailOffers()

    async def read(self) -> None:
        """Hand fetch answers to the rules waiting for them; queue everything else."""
        try:
            while True:
                message = await self.channel.receive()
                if message is None:
                    break
                if message[0] == "resource":
                    future = self.resources.waiting.pop(message[1], None)
                    if future is not None and not future.done():
                        future.set_result(message[2])
                else:
                    self.jobs.put_nowait(message)
        except (EOFError, OSError):
            pass  # the parent closed the socket or went away
        self.jobs.put_nowait(None)

    async def run(self) -> None:
        reader = asyncio.ensure_future(self.read())
        try:
            while (job := await self.jobs.get()) is not None:
                try:
                    result = await self.work(job)
                except Exception as exc:  # reported as a "processing" error for this page
                    result = ("error", f"{type(exc).__name__}: {exc}")
                try:
                    await self.channel.send(result)
                except (OSError, EOFError):
                    return  # the parent closed the socket (interrupted, or the page's budget ran out)
                except Exception as exc:  # e.g. a result that cannot be pickled
                    await self.channel.send(("error", f"{type(exc).__name__}: {exc}"))
        finally:
            reader.cancel()

    async def work(self, job: tuple[Any, ...]) -> tuple[str, Any]:
        if job[0] == "extract":
            extracted = self.extractor.extract(job[1])
            return "ok", extracted if self.keep_anchors else without_anchors(extracted)
        if job[0] == "text":  # a rendered DOM: only its facts and notes go back
            extracted = self.extractor.extract_text(job[1], job[2])
            return "ok", (extracted.facts, extracted.notes)
        _, page, source_path, spec = job
        return "ok", await self.audit(page, source_path, spec)

    async def audit(self, raw: RawPage, source_path: str | None, spec: PageAuditSpec | None) -> WorkedPage:
        from smo_audit.engine.page_audit import PageAuditor

        if spec is not None:  # sent with a worker's first page, and whenever the run's settings change
            self.auditor = PageAuditor.from_spec(spec)
        assert self.auditor is not None, "the parent sends the audit's spec with the first page"
        extracted = self.extractor.extract(raw)
        audited = await self.auditor.audit(raw, extracted.facts, extracted.document, source_path, self.resources,
                                           thumbnails=self.thumbnails)
        return audited.worked(extracted.links, extracted.notes, thumbnails=self.thumbnails.take())


def _worker_main(conn: Connection, keep_anchors: bool = True) -> None:
    """The worker process: say it is ready, then serve the parent's pages until it goes away.

    Without `keep_anchors`, `extract` sends the Document back without its anchors: the
    classifiers have already turned them into facts and links here, no built-in page rule reads
    them, and they are most of what a page costs to send (about 130 objects of 18 fields).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's kill() still ends it
    from smo_audit.extract.warm import EXTRACTOR as extractor

    try:
        conn.send(("ready", None))  # building the catalogues is not counted in any page's budget
    except OSError:
        return  # the audit ended (or was interrupted) while this worker was starting: nothing to say
    sock = socket.socket(fileno=os.dup(conn.fileno()))
    conn.close()

    async def serve() -> None:
        await _WorkerLoop(_Channel(sock), extractor, keep_anchors).run()

    with contextlib.suppress(OSError, EOFError):
        asyncio.run(serve())


# -- the parent's side ---------------------------------------------------------------------------

class _Worker:
    """One worker process and the parent's end of its socket pair."""

    def __init__(self, context: Any, keep_anchors: bool = True) -> None:
        parent, child = context.Pipe(duplex=True)
        self.conn: Connection = parent
        sock = socket.socket(fileno=os.dup(parent.fileno()))
        for end in (sock, socket.socket(fileno=os.dup(child.fileno()))):
            with contextlib.suppress(OSError):
                end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
                end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
            if end is not sock:
                end.close()
        self.channel = _Channel(sock)
        self.process: BaseProcess = context.Process(target=_worker_main, args=(child, keep_anchors), daemon=True,
                                                    name="smo-audit-extract")
        self.process.start()
        child.close()
        self.ready = False
        self.spec: PageAuditSpec | None = None  # the audit spec this worker was last sent

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.channel.sock.close()
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


def prestart() -> None:
    """Boot the fork server now, so it imports the page stage on the other core while this
    process imports the crawl stack: the first page no longer waits half a second for a worker."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        from multiprocessing import forkserver

        _context()
        forkserver.ensure_running()


class ExtractionPool:
    """`size` worker processes working on pages, at most `budget` seconds of work each."""

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
        self.keep_anchors = keep_anchors  # False: `extract` Documents come back without anchors
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
        return cast("ExtractedPage", await self._on_worker(page.url, lambda worker: ("extract", page), None))

    async def extract_text(self, html: str, url: str) -> tuple[PageFacts, tuple[str, ...]]:
        """(facts, notes) of already decoded HTML (a rendered DOM), within the same budget as a page."""
        if self.size == 0:
            raise ValueError("ExtractionPool.extract_text needs worker processes (size > 0)")
        return cast("tuple[PageFacts, tuple[str, ...]]",
                    await self._on_worker(url, lambda worker: ("text", html, url), None))

    async def audit(self, page: RawPage, source_path: str | None, spec: PageAuditSpec,
                    resources: Resources) -> WorkedPage:
        """`page` extracted and audited by a worker (see engine/page_audit.py), its fetches made here."""
        if self.size == 0:
            raise ValueError("ExtractionPool.audit needs worker processes (size > 0)")

        def job(worker: _Worker) -> tuple[Any, ...]:
            fresh = worker.spec is not spec
            worker.spec = spec
            return ("audit", page, source_path, spec if fresh else None)

        return cast("WorkedPage", await self._on_worker(page.url, job, resources))

    async def _on_worker(self, url: str, job: Callable[[_Worker], tuple[Any, ...]],
                         resources: Resources | None) -> Any:
        if self._starting is not None:
            await asyncio.shield(self._starting)
        async with self._slots:
            worker = self._take()
            self._busy.add(worker)
            try:
                result = await self._run(worker, url, job, resources)
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
        return value

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

    async def _run(self, worker: _Worker, url: str, job: Callable[[_Worker], tuple[Any, ...]],
                   resources: Resources | None) -> tuple[str, Any]:
        if not worker.ready:
            try:
                async with asyncio.timeout(STARTUP_TIMEOUT):
                    await worker.channel.receive()
            except TimeoutError:
                raise WorkerCrashed(f"a page worker did not start within {STARTUP_TIMEOUT:g} s") from None
            except (EOFError, OSError) as exc:
                raise WorkerCrashed(f"a page worker failed to start (exit code {worker.process.exitcode})") from exc
            worker.ready = True
        try:
            await worker.channel.send(job(worker))
            return await self._answer(worker, url, resources)
        except (EOFError, OSError) as exc:
            code = worker.process.exitcode
            raise WorkerCrashed(f"the worker working on {url} died (exit code {code})") from exc

    async def _answer(self, worker: _Worker, url: str, resources: Resources | None) -> tuple[str, Any]:
        """Wait for the page's answer, making the fetches the worker asks for on the way.

        The budget runs only while the worker computes: not while it waits for a fetch of ours.
        """
        loop = asyncio.get_running_loop()
        fetches: set[asyncio.Task[None]] = set()
        remaining = self.budget
        receiving: asyncio.Future[Any] = asyncio.ensure_future(worker.channel.receive())
        try:
            while True:
                started = loop.time()
                done, _ = await asyncio.wait({receiving}, timeout=remaining if not fetches else 0.5)
                if not fetches:
                    remaining -= loop.time() - started
                if not done:
                    if remaining <= 0:
                        raise ProcessingTimeout(url, self.budget)
                    continue
                message = receiving.result()
                if message[0] != "fetch":
                    return cast("tuple[str, Any]", message)
                if resources is None:
                    raise WorkerCrashed("a worker asked for a fetch during extraction")
                task = asyncio.ensure_future(_serve_fetch(worker.channel, resources, message))
                fetches.add(task)
                task.add_done_callback(fetches.discard)
                receiving = asyncio.ensure_future(worker.channel.receive())
        except BaseException:
            for task in fetches:  # the worker is killed next: nobody is waiting for these answers
                task.cancel()
            raise
        finally:
            receiving.cancel()
            # Let the cancelled read (and any fetch still answering) leave the event loop's
            # selector before the caller may close this socket: a new worker's socket can reuse
            # the descriptor, and a late unregistration would then silence the new worker.
            await asyncio.gather(receiving, *fetches, return_exceptions=True)

    def close(self) -> None:
        """Stop every worker now (idle ones and, on cancellation, busy ones)."""
        self._closed = True
        workers, self._idle = self._idle, []
        for worker in [*workers, *self._busy]:
            worker.kill()
        self._busy.clear()


async def _serve_fetch(channel: _Channel, resources: Resources, message: tuple[Any, ...]) -> None:
    """Make one fetch a worker's rule asked for, through the audit's policy and cache, and answer."""
    from smo_audit.engine.resources import Resource

    _, request, url, user_agent, max_bytes, keep_body = message
    try:
        resource = await resources.fetch(url, user_agent=user_agent, max_bytes=max_bytes, keep_body=keep_body)
    except Exception as exc:  # never leave the worker waiting: it would wait for ever, off the budget
        resource = Resource(url, url, None, error_kind="processing", error=f"{type(exc).__name__}: {exc}")
    with contextlib.suppress(OSError, EOFError):
        await channel.send(("resource", request, resource))


def default_pool_size() -> int:
    """Two workers on most machines: the fetching process keeps most of one core for itself."""
    return max(1, min(2, (os.cpu_count() or 1)))
