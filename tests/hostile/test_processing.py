"""CPU-heavy pages run in the worker pool with a time budget: over budget is an error of kind
processing-timeout for that page only, and the crawl goes on."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from smo_audit.crawl.models import RawPage, RawResponse
from smo_audit.extract import Extractor, workers
from smo_audit.extract.workers import ExtractionPool, ProcessingTimeout, WorkerCrashed
from tests.hostile.harness import assert_case, run_site, site_routes
from tests.support.scripted_server import html

# 95,000 share-looking anchors (9 MB, under the body limit) (just under the element cap): seconds of classification work,
# two orders of magnitude more than a normal page, so a 0.4 s budget separates them reliably.
HEAVY = "<html><head><title>Heavy</title></head><body>" + (
    "<a href=https://facebook.com/sharer.php?u=x class=share-facebook onclick=window.open(this.href)>f</a>"
    * 95_000) + "</body></html>"


def _page(body: str, url: str = "http://127.0.0.1/p") -> RawPage:
    return RawPage(RawResponse(url, url, 200, {"content-type": "text/html"}, body.encode()))


def test_a_page_over_budget_is_skipped_and_the_crawl_goes_on(scripted_server) -> None:
    server = scripted_server(site_routes(**{"/hostile": html(HEAVY)}))
    outcome = run_site(server, "--page-budget", "0.4", bound=40)
    assert_case(outcome, {"/hostile": ["processing-timeout"]})


def test_the_pool_replaces_a_worker_stopped_over_budget() -> None:
    async def scenario() -> tuple[str | None, str | None]:
        pool = ExtractionPool(size=1, budget=0.4)
        pool.start()
        try:
            first = await pool.extract(_page("<title>before</title>"))
            with pytest.raises(ProcessingTimeout):
                await pool.extract(_page(HEAVY))
            after = await pool.extract(_page("<title>after</title>"))
        finally:
            pool.close()
        return first.facts.title, after.facts.title

    assert asyncio.run(scenario()) == ("before", "after")


def test_the_pool_extracts_pages_concurrently_in_order_of_completion() -> None:
    async def scenario() -> list[str | None]:
        pool = ExtractionPool(size=2, budget=30)
        pool.start()
        try:
            results = await asyncio.gather(*(pool.extract(_page(f"<title>p{n}</title>")) for n in range(6)))
        finally:
            pool.close()
        return [r.facts.title for r in results]

    assert asyncio.run(scenario()) == [f"p{n}" for n in range(6)]


def test_in_process_mode_gives_the_same_facts() -> None:
    async def scenario(size: int) -> tuple[object, ...]:
        pool = ExtractionPool(size=size, budget=30)
        pool.start()
        try:
            page = await pool.extract(_page("<title>T</title><meta property='og:title' content='O'>"
                                            "<a href='https://twitter.com/acme'>x</a>"))
        finally:
            pool.close()
        return page.facts.title, page.facts.open_graph, page.facts.profile_links, page.links

    assert asyncio.run(scenario(0)) == asyncio.run(scenario(1))


def test_a_page_queued_behind_one_over_budget_is_extracted_by_the_replacement() -> None:
    """A worker holds two pages; when it is stopped over budget, only the page it was working on
    fails: the one queued behind it goes to the worker that replaces it."""
    async def scenario() -> tuple[BaseException | None, str | None]:
        pool = ExtractionPool(size=1, budget=0.4)
        pool.start()
        try:
            heavy, light = await asyncio.gather(pool.extract(_page(HEAVY)), pool.extract(_page("<title>behind</title>")),
                                                return_exceptions=True)
        finally:
            pool.close()
        assert not isinstance(light, BaseException), light
        return (heavy if isinstance(heavy, BaseException) else None), light.facts.title

    heavy, title = asyncio.run(scenario())
    assert isinstance(heavy, ProcessingTimeout)
    assert title == "behind"


def test_a_worker_that_dies_fails_only_the_page_it_was_working_on() -> None:
    async def scenario() -> tuple[BaseException | None, str | None, str | None]:
        pool = ExtractionPool(size=1, budget=60)
        pool.start()
        try:
            heavy = asyncio.ensure_future(pool.extract(_page(HEAVY)))
            light = asyncio.ensure_future(pool.extract(_page("<title>behind</title>")))
            for _ in range(1000):  # the worker starts in a thread (start()), then gets both pages
                if pool._workers and len(pool._workers[0].jobs) == 2:
                    break
                await asyncio.sleep(0.01)
            [worker] = pool._workers
            assert len(worker.jobs) == 2  # the second page waits in the worker, not here
            await asyncio.sleep(1.0)  # the worker is deep in the heavy page
            worker.process.kill()  # as the kernel's OOM killer would
            results = await asyncio.gather(heavy, light, return_exceptions=True)
            after = await pool.extract(_page("<title>after</title>"))
        finally:
            pool.close()
        first, second = results
        assert not isinstance(second, BaseException), second
        return (first if isinstance(first, BaseException) else None), second.facts.title, after.facts.title

    error, behind, after = asyncio.run(scenario())
    assert isinstance(error, WorkerCrashed)
    assert (behind, after) == ("behind", "after")


def test_a_cancelled_page_leaves_the_pool_working() -> None:
    async def scenario() -> list[str | None]:
        pool = ExtractionPool(size=1, budget=30)
        pool.start()
        try:
            pages = [asyncio.ensure_future(pool.extract(_page(f"<title>p{n}</title>"))) for n in range(5)]
            await asyncio.sleep(0)
            pages[1].cancel()  # held by the worker already
            pages[3].cancel()  # still waiting here
            done = await asyncio.gather(*pages, return_exceptions=True)
            after = await pool.extract(_page("<title>after</title>"))
        finally:
            pool.close()
        titles = [None if isinstance(d, BaseException) else d.facts.title for d in done]
        return [*titles, after.facts.title]

    assert asyncio.run(scenario()) == ["p0", None, "p2", None, "p4", "after"]


def test_a_page_held_behind_a_slow_one_is_copied_to_a_free_worker() -> None:
    """Three pages on two workers, the third queued in the worker busy with the heavy one: it is
    copied to the other worker after HEDGE_AFTER seconds and answered long before the heavy page
    (seconds of work) is done."""
    async def scenario() -> tuple[str | None, bool]:
        pool = ExtractionPool(size=2, budget=60)
        pool.start()
        try:
            await pool.extract(_page("<title>warm</title>"))  # both workers up, neither holding a page
            heavy = asyncio.ensure_future(pool.extract(_page(HEAVY)))
            light = asyncio.ensure_future(pool.extract(_page("<title>b</title>")))
            await asyncio.sleep(0)  # heavy and b each go to a worker; c then queues behind heavy
            third = await pool.extract(_page("<title>c</title>"))
            heavy_done = heavy.done()
            await light
            heavy.cancel()
            await asyncio.gather(heavy, return_exceptions=True)
        finally:
            pool.close()
        return third.facts.title, heavy_done

    assert asyncio.run(scenario()) == ("c", False)


def test_a_page_whose_caller_gives_up_stops_its_worker() -> None:
    """The rendered mode bounds each page with asyncio.timeout: when it fires, the worker working on
    that page is stopped at once (not after the page budget) and the next page gets a fresh one."""
    async def scenario() -> tuple[bool, str | None]:
        pool = ExtractionPool(size=1, budget=60)
        pool.start()
        try:
            await pool.extract(_page("<title>warm</title>"))  # the worker is up: the timeout is the page's alone
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5):
                    await pool.extract(_page(HEAVY))
            [stopped] = pool._workers
            after = await pool.extract(_page("<title>after</title>"))
            stopped.process.join(5)
            alive = stopped.process.is_alive()
        finally:
            pool.close()
        return alive, after.facts.title

    assert asyncio.run(scenario()) == (False, "after")


def test_when_no_replacement_worker_can_start_the_waiting_page_fails_instead_of_hanging(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Right after a worker is stopped, starting its replacement can fail (fork refused when memory
    or descriptors run out): the page that was waiting for it gets WorkerCrashed, nothing hangs."""
    async def scenario() -> list[type[BaseException] | str | None]:
        pool = ExtractionPool(size=1, budget=0.4)
        pool.start()
        try:
            await pool.extract(_page("<title>up</title>"))

            def refused() -> None:
                raise OSError(24, "Too many open files")

            monkeypatch.setattr(pool, "_new_worker", refused)
            async with asyncio.timeout(30):
                done = await asyncio.gather(pool.extract(_page(HEAVY)), pool.extract(_page("<title>b</title>")),
                                            return_exceptions=True)
        finally:
            pool.close()
        return [type(d) if isinstance(d, BaseException) else d.facts.title for d in done]

    assert asyncio.run(scenario()) == [ProcessingTimeout, WorkerCrashed]


def test_a_page_behind_a_slow_one_is_never_sent_again_beside_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """One worker: the copy of the page held behind the heavy one has nowhere else to go, and is
    not queued behind its own original (it would be worked on twice)."""
    sent: list[str] = []
    real_send = workers._Channel.send

    async def counting_send(channel: workers._Channel, message: object) -> None:
        if isinstance(message, tuple) and message[0] == "extract":
            sent.append(message[2].url)
        await real_send(channel, message)

    monkeypatch.setattr(workers._Channel, "send", counting_send)

    async def scenario() -> None:
        pool = ExtractionPool(size=1, budget=60)
        pool.start()
        try:
            await pool.extract(_page("<title>warm</title>", "http://127.0.0.1/warm"))
            await asyncio.gather(pool.extract(_page(HEAVY, "http://127.0.0.1/heavy")),
                                 pool.extract(_page("<title>c</title>", "http://127.0.0.1/c")))
            await asyncio.sleep(0.3)  # a late second send would show here
        finally:
            pool.close()

    asyncio.run(scenario())
    assert sent == ["http://127.0.0.1/warm", "http://127.0.0.1/heavy", "http://127.0.0.1/c"]


def test_a_cancelled_page_behind_a_slow_one_is_not_copied_over_and_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page cancelled while held behind a slow one once kept the receiver trying to copy it, in a
    loop at 100% CPU, until the slow page ended."""
    async def scenario() -> int:
        pool = ExtractionPool(size=1, budget=60)
        pool.start()
        copies = 0
        real_hedge = pool._hedge

        def counting_hedge(worker: workers._Worker) -> None:
            nonlocal copies
            copies += 1
            real_hedge(worker)

        monkeypatch.setattr(pool, "_hedge", counting_hedge)
        try:
            await pool.extract(_page("<title>warm</title>"))
            heavy = asyncio.ensure_future(pool.extract(_page(HEAVY)))
            behind = asyncio.ensure_future(pool.extract(_page("<title>b</title>")))
            [worker] = pool._workers
            for _ in range(1000):  # both pages sent, the heavy one being worked on
                if len(worker.jobs) == 2 and all(job.sent_at < float("inf") for job in worker.jobs.values()):
                    break
                await asyncio.sleep(0.005)
            behind.cancel()
            await asyncio.gather(heavy, behind, return_exceptions=True)
        finally:
            pool.close()
        return copies

    assert asyncio.run(scenario()) <= 2


def test_a_kept_parse_waits_in_its_worker_and_the_page_audit_is_routed_there() -> None:
    """Rendered mode extracts a page, renders it, then audits it: the worker that extracted it keeps
    the parse (bounded), and the audit goes to that worker when it has room."""

    async def scenario() -> None:
        pool = ExtractionPool(size=2, budget=30)
        pool.start()
        try:
            kept = [await pool.extract_kept(_page(f"<title>p{n}</title>")) for n in range(4)]
            assert [extracted.facts.title for extracted, _ in kept] == [f"p{n}" for n in range(4)]
            assert len({k.token for _, k in kept}) == 4
            for _, k in kept:
                assert k.worker in pool._workers
                # any work for that page (here a plain extract) goes to the worker that kept it
                entry = await pool._submit("http://127.0.0.1/p", lambda worker: ("extract", _page("<p>"), None),
                                           None, k.worker)
                await pool._answer(entry)
                assert entry.answered_by is k.worker
        finally:
            pool.close()

    asyncio.run(scenario())


def test_a_worker_keeps_a_bounded_number_of_parses() -> None:
    loop = workers._WorkerLoop(cast(Any, None), Extractor(), keep_anchors=False)

    async def scenario() -> None:
        for token in range(workers.KEPT_PAGES + 3):
            status, value = await loop.work("extract", [_page(f"<title>k{token}</title><a href=/x>x</a>"), token])
            assert status == "ok" and value.facts.title == f"k{token}"
            assert not value.document.anchors  # what goes back: no anchors (keep_anchors=False)
        status, _ = await loop.work("extract", [_page("<title>not kept</title>"), None])
        assert status == "ok"

    asyncio.run(scenario())
    assert list(loop.kept) == list(range(3, workers.KEPT_PAGES + 3))  # the oldest went first
    assert loop.kept[3].facts.title == "k3"
    assert len(loop.kept[3].document.anchors) == 1  # kept whole, anchors included, for the rules
