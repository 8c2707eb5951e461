"""Page work in worker processes, with a time budget per page.

Parsing, classifying and judging a page is CPU work (a hostile page can make it slow), and in the
crawl's process it would stall the event loop: fetches would time out, Ctrl-C would wait. It
would also leave one core to do everything. So pages go to a small pool of worker processes:

    pool = ExtractionPool(size=2, budget=20.0)
    extracted = await pool.extract(raw_page)                        # facts and Document back
    worked = await pool.audit(raw_page, source, spec, resources)    # the page's whole audit back
    pool.close()

- `extract` parses and classifies: --debug (and rules given as objects, which cannot travel) run
  the page rules in the crawl process on what comes back; the rendered mode renders from its
  facts, then has the page `audit`ed by the worker that kept its parse (`extract_kept`).
  `audit` does the page stage there too (engine/page_audit.py): the
  page rules, preview cards and report entry run next to the Document, and the crawl process
  gets back the page's NDJSON line, facts and scores, so the process that fetches does little
  else (the static audit's throughput). The rules' fetches (images, robots.txt, feeds) come back
  to the parent as requests: it makes them through its one fetch policy and cache and answers.
- A page whose work takes longer than `budget` seconds raises `ProcessingTimeout`; its worker is
  killed (a process can be stopped mid-regex, a thread cannot) and replaced (at once when pages
  are waiting), and the audit goes on with the other pages (the pipeline reports kind
  `processing-timeout`). Time the worker spends waiting for the parent's fetches does not count.
  A page whose caller gives up (the rendered mode's page timeout, Ctrl-C) stops its worker too.
- Workers ignore SIGINT (Ctrl-C reaches the whole process group): the parent decides when the
  audit stops and kills them in `close()`, so Ctrl-C never leaves a half-written report behind
  a dying worker. A worker whose parent is gone sees its socket close and exits.
- Workers start from a fork server with the extraction modules preloaded, so a replacement after
  a timeout costs milliseconds, not a second of imports. `size=0` works in-process (tests,
  debugging with --debug).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import multiprocessing
import os
import pickle
import signal
import socket
import struct
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any, cast

from smo_audit.crawl.models import RawPage
from smo_audit.safe_path import children_without_working_directory

if TYPE_CHECKING:
    from smo_audit.engine.page_audit import PageAuditor, PageAuditSpec, WorkedPage
    from smo_audit.engine.resources import Resource, Resources
    from smo_audit.extract import ExtractedPage, Extractor
    from smo_audit.extract.facts import PageFacts
    from smo_audit.render.facts import RenderedPage

    RenderedFacts = tuple[RenderedPage, PageFacts, PageFacts]  # (view, facts judged, facts reported)

KEPT_PAGES = 8  # extracted pages a worker keeps for their audits (rendered mode), oldest dropped first
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
        # Pages extracted for an audit to come (rendered mode): token -> the whole ExtractedPage,
        # so the audit does not parse the page again when it comes to this worker. Bounded: an
        # audit sent to another worker, or never sent, leaves its entry to be pushed out.
        self.kept: OrderedDict[int, ExtractedPage] = OrderedDict()
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
                kind, job_id, *payload = job
                try:
                    status, value = await self.work(kind, payload)
                except Exception as exc:  # reported as a "processing" error for this page
                    status, value = "error", f"{type(exc).__name__}: {exc}"
                try:
                    await self.channel.send(("done", job_id, status, value))
                except (OSError, EOFError):
                    return  # the parent closed the socket (interrupted, or the page's budget ran out)
                except Exception as exc:  # e.g. a result that cannot be pickled
                    await self.channel.send(("done", job_id, "error", f"{type(exc).__name__}: {exc}"))
        finally:
            reader.cancel()

    async def work(self, kind: str, payload: list[Any]) -> tuple[str, Any]:
        if kind == "extract":
            page, keep = payload
            extracted = self.extractor.extract(page)
            if keep is not None:
                self.kept[keep] = extracted
                while len(self.kept) > KEPT_PAGES:
                    self.kept.popitem(last=False)
            return "ok", extracted if self.keep_anchors else without_anchors(extracted)
        if kind == "text":  # a rendered DOM: only its facts and notes go back
            extracted = self.extractor.extract_text(payload[0], payload[1])
            return "ok", (extracted.facts, extracted.notes)
        page, source_path, spec, rendered, kept = payload
        return "ok", await self.audit(page, source_path, spec, rendered, kept)

    async def audit(self, raw: RawPage, source_path: str | None, spec: PageAuditSpec | None,
                    rendered: RenderedFacts | None = None, kept: int | None = None) -> WorkedPage:
        from smo_audit.engine.page_audit import PageAuditor

        if spec is not None:  # sent with a worker's first page, and whenever the run's settings change
            self.auditor = PageAuditor.from_spec(spec)
        assert self.auditor is not None, "the parent sends the audit's spec with the first page"
        extracted = self.kept.pop(kept, None) if kept is not None else None
        if extracted is None:
            extracted = self.extractor.extract(raw)
        if rendered is None:
            audited = await self.auditor.audit(raw, extracted.facts, extracted.document, source_path, self.resources,
                                               thumbnails=self.thumbnails)
        else:  # rendered mode: the rules judge the effective facts, the report keeps the static ones
            view, facts, report_facts = rendered
            audited = await self.auditor.audit(raw, facts, extracted.document, source_path, self.resources,
                                               thumbnails=self.thumbnails, rendered=view, report_facts=report_facts)
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

@dataclass(eq=False)
class _Job:
    """One page's work: queued in the pool, then held by one worker until its answer comes back."""

    id: int
    url: str
    message: Callable[[_Worker], tuple[Any, ...]]  # built when sent: a worker's first page carries the spec
    resources: Resources | None  # where the page's rules' fetches are made (None: extraction only)
    future: asyncio.Future[tuple[str, Any]]
    sent_at: float = math.inf  # loop time the page left for its worker: its budget starts no earlier
    copied: bool = False  # queued again for another worker (see ExtractionPool.HEDGE_AFTER), or a copy
    prefer: _Worker | None = None  # the worker to send it to when it has room (it kept the page's parse)
    answered_by: _Worker | None = None


@dataclass(frozen=True)
class KeptPage:
    """A page's parse kept by the worker that extracted it, for the page's audit (rendered mode:
    extract, render here, then audit; the audit goes to that worker when it has room and skips
    parsing the page a second time)."""

    token: int
    worker: _Worker | None


class _Worker:
    """One worker process, the parent's end of its socket pair, and the pages it holds."""

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
        self.spec: PageAuditSpec | None = None  # the audit spec this worker was last sent
        self.jobs: dict[int, _Job] = {}  # held, in the order sent: the first is the one being worked on
        # Made on the event loop when the worker gets its first page (start() makes workers in a thread):
        self.ready: asyncio.Future[None] | None = None  # its "ready" message came
        self.outbox: asyncio.Queue[_Job] = asyncio.Queue()  # pages to send it, in order
        self.tasks: list[asyncio.Task[None]] = []  # its receiver and its sender
        self.receiving: asyncio.Future[Any] | None = None  # the receiver's pending read
        self.failure: str | None = None  # why the sender gave up on it: the worker is stopped
        self.given_up: int | None = None  # id of a page its caller gave up on while it was first

    def kill(self) -> None:
        # Unregister the socket from the event loop before closing it: a pending read left in the
        # selector would otherwise silence a new socket given the same descriptor.
        with contextlib.suppress(RuntimeError, OSError, ValueError):
            loop = asyncio.get_running_loop()
            fileno = self.channel.sock.fileno()
            if fileno >= 0:
                loop.remove_reader(fileno)
                loop.remove_writer(fileno)
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
        _start_fork_server()
        return context
    return multiprocessing.get_context("spawn")


def _start_fork_server() -> None:
    """Start the fork server (once) without the working directory on its `sys.path`.

    It runs as `python -c ...` (CPython's fork server ignores the `sys_path` it is given), so a
    `json.py` or `selectolax.py` in the folder smo-audit is run from would otherwise be imported,
    and run, by every page worker, and the audit would fail."""
    from multiprocessing import forkserver

    with children_without_working_directory():
        forkserver.ensure_running()


def prestart() -> None:
    """Boot the fork server now, so it imports the page stage on the other core while this
    process imports the crawl stack: the first page no longer waits half a second for a worker."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        _context()


class _WorkerLost(Exception):
    """A worker has to go: `error` is what the page it was working on gets."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class ExtractionPool:
    """`size` worker processes working on pages, at most `budget` seconds of work each.

    A worker holds up to DEPTH pages: while it works on one, the next is already in its socket, so
    it never sits idle while this process (busy fetching) gets round to sending it another; that
    idle time was a third of each worker's time. Answers name their page. A page's budget runs from
    when its worker can start it (it was sent and the page before it answered) and stops while
    the worker waits for our fetches. When a worker is stopped (over budget, or it died), the page
    it was working on gets the error and the pages queued behind it go to another worker. A page
    held behind one that has had HEDGE_AFTER seconds of work already is copied back to the queue
    (the first answer of either copy counts), so a hostile page delays the next by that much at
    most. A page whose caller gives up while its worker works on it stops that worker. A rendered
    page's audit goes to the worker that kept its parse (`extract_kept`), which may then hold one
    page more than DEPTH: elsewhere it would be parsed again (half the audits missed it at DEPTH).
    """

    DEPTH = 2
    IDLE_POLL = 0.1  # seconds: how often an idle worker's receiver looks at its clock
    HEDGE_AFTER = 0.5  # seconds of work on one page before the page behind it is copied elsewhere

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
        self._workers: list[_Worker] = []  # live workers, busy or not
        self._queue: deque[_Job] = deque()  # pages waiting for room in a worker
        self._ids = itertools.count()
        self._context: Any = None
        self._closed = False
        self._starting: asyncio.Future[None] | None = None

    def start(self) -> None:
        """Start the workers in a background thread, so they boot while the first pages are
        fetched (the first start in a process also boots the fork server, ~1 s of imports)."""
        if self.size and self._starting is None:
            self._starting = asyncio.get_running_loop().run_in_executor(None, self._start_workers)

    def _start_workers(self) -> None:
        while not self._closed and len(self._workers) < self.size:
            self._workers.append(self._new_worker())

    async def extract(self, page: RawPage) -> ExtractedPage:
        """The ExtractedPage of `page`; ProcessingTimeout over budget; WorkerCrashed if a worker died."""
        if self.size == 0:
            if self._in_process is None:
                from smo_audit.extract import Extractor

                self._in_process = Extractor().extract
            return self._in_process(page)
        return cast("ExtractedPage", await self._on_worker(page.url, lambda worker: ("extract", page, None), None))

    async def extract_kept(self, page: RawPage) -> tuple[ExtractedPage, KeptPage]:
        """`extract`, the worker keeping the page's parse for `audit(..., kept=...)` of the same page."""
        if self.size == 0:
            raise ValueError("ExtractionPool.extract_kept needs worker processes (size > 0)")
        token = next(self._ids)
        entry = await self._submit(page.url, lambda worker: ("extract", page, token), None)
        extracted = cast("ExtractedPage", await self._answer(entry))
        return extracted, KeptPage(token, entry.answered_by)

    async def extract_text(self, html: str, url: str) -> tuple[PageFacts, tuple[str, ...]]:
        """(facts, notes) of already decoded HTML (a rendered DOM), within the same budget as a page."""
        if self.size == 0:
            raise ValueError("ExtractionPool.extract_text needs worker processes (size > 0)")
        return cast("tuple[PageFacts, tuple[str, ...]]",
                    await self._on_worker(url, lambda worker: ("text", html, url), None))

    async def audit(self, page: RawPage, source_path: str | None, spec: PageAuditSpec,
                    resources: Resources, rendered: RenderedFacts | None = None,
                    kept: KeptPage | None = None) -> WorkedPage:
        """`page` extracted and audited by a worker (see engine/page_audit.py), its fetches made here.

        `rendered` (rendered mode): the page's rendered view, the facts the rules judge and the
        facts the report keeps; the page rules then run in a worker, on the budget, not in this
        process. `kept` (from `extract_kept`): the worker that kept the page's parse gets the
        audit when it has room, and does not parse the page again."""
        if self.size == 0:
            raise ValueError("ExtractionPool.audit needs worker processes (size > 0)")

        def job(worker: _Worker) -> tuple[Any, ...]:
            fresh = worker.spec is not spec
            worker.spec = spec
            return ("audit", page, source_path, spec if fresh else None, rendered,
                    kept.token if kept is not None else None)

        entry = await self._submit(page.url, job, resources, kept.worker if kept is not None else None)
        return cast("WorkedPage", await self._answer(entry))

    async def _on_worker(self, url: str, job: Callable[[_Worker], tuple[Any, ...]],
                         resources: Resources | None) -> Any:
        return await self._answer(await self._submit(url, job, resources))

    async def _submit(self, url: str, job: Callable[[_Worker], tuple[Any, ...]], resources: Resources | None,
                      prefer: _Worker | None = None) -> _Job:
        """Queue a page's work for the workers."""
        if self._starting is not None:
            await asyncio.shield(self._starting)
        if self._closed:
            raise WorkerCrashed("the extraction pool is closed")
        entry = _Job(next(self._ids), url, job, resources, asyncio.get_running_loop().create_future(),
                     prefer=prefer)
        self._queue.append(entry)
        self._dispatch()
        return entry

    async def _answer(self, entry: _Job) -> Any:
        """The answer to a queued page's work (its error raised)."""
        # Cancelled, the awaited future is cancelled too: a queued page is never sent, a held
        # page's answer is dropped, and the worker working on it is stopped (see _receive).
        try:
            status, value = await entry.future
        except asyncio.CancelledError:
            self._abandon(entry)
            raise
        if status == "error":
            raise RuntimeError(value)
        return value

    def _dispatch(self) -> None:
        """Give waiting pages to the workers holding the fewest, starting workers up to `size`."""
        while self._queue and not self._closed:
            if self._queue[0].future.done():  # cancelled while it waited
                self._queue.popleft()
                continue
            future = self._queue[0].future
            prefer = self._queue[0].prefer  # it kept the page's parse: it may hold one page more
            room = [w for w in self._workers if len(w.jobs) < self.DEPTH + (w is prefer)
                    and all(j.future is not future for j in w.jobs.values())]  # not beside its copy
            worker = prefer if prefer in room else min(room, key=lambda w: len(w.jobs), default=None)
            if worker is None or (worker.jobs and worker is not prefer):
                if len(self._workers) >= self.size:
                    if worker is None:
                        return  # every worker is full: the next answer makes room
                else:
                    try:
                        worker = self._new_worker()
                    except Exception as exc:  # fork refused (out of memory, descriptors)
                        if self._workers:
                            if worker is None:
                                return  # the live workers take the page when they have room
                        else:
                            self._queue.popleft().future.set_exception(
                                WorkerCrashed(f"a page worker could not be started: {exc}"))
                            continue
                    else:
                        self._workers.append(worker)
            if worker.ready is None:
                worker.ready = asyncio.get_running_loop().create_future()
                worker.tasks = [asyncio.ensure_future(self._receive(worker)),
                                asyncio.ensure_future(self._send(worker))]
            job = self._queue.popleft()
            worker.jobs[job.id] = job
            worker.outbox.put_nowait(job)

    def _abandon(self, job: _Job) -> None:
        """The caller of `job` gave up: if a worker is working on it, stop that worker (its read
        is cancelled; the receiver then stops the worker and requeues the pages behind)."""
        for worker in self._workers:
            head = next(iter(worker.jobs.values()), None)
            if head is not None and head.future is job.future and worker.receiving is not None:
                worker.given_up = head.id  # seen by the receiver even if its read has completed
                worker.receiving.cancel()

    def _hedge(self, worker: _Worker) -> None:
        """Copy the pages held behind `worker`'s slow first page to the front of the queue."""
        for job in reversed(list(worker.jobs.values())[1:]):
            if not job.copied and not job.future.done():
                self._queue.appendleft(_Job(next(self._ids), job.url, job.message, job.resources, job.future,
                                            copied=True))
            job.copied = True
        self._dispatch()

    def _new_worker(self) -> _Worker:
        if self._context is None:
            self._context = _context()
        return _Worker(self._context, self.keep_anchors)

    async def _send(self, worker: _Worker) -> None:
        """Send the worker its pages, in order, once it has said it is ready."""
        try:
            await self._send_pages(worker)
        except Exception as exc:  # a bug: stop the worker rather than leave its pages unanswered
            worker.failure = f"sending a page failed: {type(exc).__name__}: {exc}"
            if worker.receiving is not None:
                worker.receiving.cancel()

    async def _send_pages(self, worker: _Worker) -> None:
        assert worker.ready is not None
        await worker.ready
        loop = asyncio.get_running_loop()
        while True:
            job = await worker.outbox.get()
            if job.id not in worker.jobs:
                continue
            if job.future.done():  # cancelled before it left: never sent
                del worker.jobs[job.id]
                self._dispatch()
                continue
            kind, *payload = job.message(worker)
            job.sent_at = loop.time()
            try:
                await worker.channel.send((kind, job.id, *payload))
            except (OSError, EOFError):
                return  # the worker is gone: its receiver sees it
            except Exception as exc:  # e.g. a page that cannot be pickled: nothing was sent
                worker.spec = None
                del worker.jobs[job.id]
                job.future.set_exception(exc)
                self._dispatch()

    async def _receive(self, worker: _Worker) -> None:
        """The worker's messages: its ready message, the pages' answers, its rules' fetch requests.

        Keeps the budget of the page it is working on (the first one it holds) and stops the
        worker when it runs out or the worker dies.
        """
        loop = asyncio.get_running_loop()
        fetches: set[asyncio.Task[None]] = set()
        receiving: asyncio.Future[Any] | None = None
        lost: Exception | None = None
        try:
            try:
                async with asyncio.timeout(STARTUP_TIMEOUT):
                    await worker.channel.receive()
            except TimeoutError:
                raise _WorkerLost(WorkerCrashed(f"a page worker did not start within {STARTUP_TIMEOUT:g} s")) from None
            except (EOFError, OSError):
                raise _WorkerLost(WorkerCrashed(
                    f"a page worker failed to start (exit code {worker.process.exitcode})")) from None
            assert worker.ready is not None
            worker.ready.set_result(None)
            used, last = 0.0, loop.time()  # budget the first page held has used; when last counted
            receiving = worker.receiving = asyncio.ensure_future(worker.channel.receive())
            while True:
                head = next(iter(worker.jobs.values()), None)
                if worker.failure is not None:
                    raise _WorkerLost(WorkerCrashed(worker.failure))
                if head is not None and head.id == worker.given_up:
                    raise _WorkerLost(WorkerCrashed("the page's caller gave up on it"))
                if head is None or head.sent_at == math.inf:
                    timeout = self.IDLE_POLL
                else:
                    timeout = 0.5 if fetches else max(0.0, self.budget - used)
                    if any(not job.copied and not job.future.done()
                           for job in itertools.islice(worker.jobs.values(), 1, None)):
                        timeout = min(timeout, max(0.0, self.HEDGE_AFTER - used))  # a page waits behind
                done, _ = await asyncio.wait({receiving}, timeout=timeout)
                now = loop.time()
                head = next(iter(worker.jobs.values()), None)
                if head is not None and not fetches:  # the worker computes: its page's clock runs
                    used += max(0.0, now - max(last, head.sent_at))
                last = now
                if not done:
                    if head is not None and not fetches and used >= self.budget:
                        raise _WorkerLost(ProcessingTimeout(head.url, self.budget))
                    if head is not None and used >= self.HEDGE_AFTER:
                        self._hedge(worker)
                    continue
                if receiving.cancelled():  # the page's caller gave up (_abandon), or sending failed
                    raise _WorkerLost(WorkerCrashed(worker.failure or "the page's caller gave up on it"))
                try:
                    message = receiving.result()
                except (EOFError, OSError):
                    code = worker.process.exitcode
                    where = f" working on {head.url}" if head is not None else ""
                    raise _WorkerLost(WorkerCrashed(f"the worker{where} died (exit code {code})")) from None
                receiving = worker.receiving = asyncio.ensure_future(worker.channel.receive())
                if message[0] == "fetch":
                    if head is None or head.resources is None:
                        raise _WorkerLost(WorkerCrashed("a worker asked for a fetch during extraction"))
                    task = asyncio.ensure_future(_serve_fetch(worker.channel, head.resources, message))
                    fetches.add(task)
                    task.add_done_callback(fetches.discard)
                    continue
                _, job_id, status, value = message
                answered = worker.jobs.pop(job_id, None)
                if answered is not None and not answered.future.done():
                    answered.answered_by = worker
                    answered.future.set_result((status, value))
                used = 0.0
                self._dispatch()  # room for a waiting page
        except _WorkerLost as exc:
            lost = exc.error
        except Exception as exc:  # a bug or a garbled answer: the worker goes, its first page gets the error
            lost = WorkerCrashed(f"the page worker's answer could not be read: {type(exc).__name__}: {exc}")
        finally:
            # Let the cancelled read (and any fetch still answering) leave the event loop's
            # selector before this socket is closed: a new worker's socket can reuse the
            # descriptor, and a late unregistration would then silence the new worker.
            pending: list[asyncio.Future[Any]] = [*fetches] if receiving is None else [receiving, *fetches]
            for future in pending:
                future.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if lost is not None:
            self._lose(worker, lost)

    def _lose(self, worker: _Worker, error: Exception) -> None:
        """Stop `worker`: the page it was working on gets `error`, the others wait for another worker."""
        for task in worker.tasks[1:]:
            task.cancel()
        worker.kill()
        if worker in self._workers:
            self._workers.remove(worker)
        held = list(worker.jobs.values())
        worker.jobs.clear()
        if held and not held[0].future.done():
            held[0].future.set_exception(error)
        for job in reversed(held[1:]):
            job.sent_at = math.inf
            self._queue.appendleft(job)
        self._dispatch()

    def close(self) -> None:
        """Stop every worker now; pages still waiting get WorkerCrashed."""
        self._closed = True
        workers, self._workers = self._workers, []
        waiting = list(self._queue)
        self._queue.clear()
        for worker in workers:
            for task in worker.tasks:
                task.cancel()
            worker.kill()
            waiting.extend(worker.jobs.values())
            worker.jobs.clear()
        for job in waiting:
            if not job.future.done():
                job.future.set_exception(WorkerCrashed("the extraction pool is closed"))


async def _serve_fetch(channel: _Channel, resources: Resources, message: tuple[Any, ...]) -> None:
    """Make one fetch a worker's rule asked for, through the audit's policy and cache, and answer."""
    from smo_audit.engine.resources import Resource

    _, request, url, user_agent, max_bytes, keep_body = message
    try:
        try:
            resource = await resources.fetch(url, user_agent=user_agent, max_bytes=max_bytes, keep_body=keep_body)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this request is being cancelled (its worker was stopped)
            # The cache entry we shared was cancelled with another worker's request: ask again.
            resource = await resources.fetch(url, user_agent=user_agent, max_bytes=max_bytes, keep_body=keep_body)
    except Exception as exc:  # never leave the worker waiting: it would wait for ever, off the budget
        resource = Resource(url, url, None, error_kind="processing", error=f"{type(exc).__name__}: {exc}")
    with contextlib.suppress(OSError, EOFError):
        await channel.send(("resource", request, resource))


def default_pool_size() -> int:
    """Two workers on most machines: the fetching process keeps most of one core for itself."""
    return max(1, min(2, (os.cpu_count() or 1)))
