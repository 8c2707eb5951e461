"""CPU-heavy pages run in the worker pool with a time budget: over budget is an error of kind
processing-timeout for that page only, and the crawl goes on."""

from __future__ import annotations

import asyncio

import pytest

from smo_audit.crawl.models import RawPage, RawResponse
from smo_audit.extract.workers import ExtractionPool, ProcessingTimeout
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
