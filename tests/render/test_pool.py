"""The slot pool's cap: idle plus busy browser contexts never exceed --render-concurrency, even
when pages need a viewport no idle slot has (an idle slot of the other viewport is closed first).
With at least one context per viewport, each viewport keeps its own contexts: none is closed to
open one of another viewport (opening a context costs a renderer process start).

Counted by Chromium itself (`Target.getBrowserContexts` on a browser-level DevTools session,
polled while pages render), not by the pool's own bookkeeping."""

from __future__ import annotations

import asyncio

import pytest

from smo_audit.crawl.models import RawResponse
from smo_audit.extract import Extractor
from smo_audit.extract.facts import PageFacts
from smo_audit.render.browser import BrowserSession
from smo_audit.render.settings import RenderSettings
from tests.render.sites import page, target
from tests.support.scripted_server import ScriptedServer, html

PAGES = 6
SLOW_ON_DESKTOP = "<script>if (innerWidth > 600) { const t = Date.now(); while (Date.now() - t < 150) {} }</script>"


async def _render_all(base: str, concurrency: int) -> tuple[int, int, int]:
    """(most contexts Chromium had open at once, contexts it opened in all, renders done) over
    PAGES pages in both viewports, `concurrency` + 1 pages handed to the session at a time (more
    than it may open)."""
    extractor = Extractor()
    settings = RenderSettings(mode="all", viewports=("desktop", "mobile"), concurrency=concurrency,
                              local_target=True, page_timeout=30)
    # The desktop render is the slower one (a busy script at desktop widths): a mobile render's
    # turn comes back first, while desktop renders wait, and must go to the next mobile render.
    body = page(f"<div class='share'>{target()}</div>{SLOW_ON_DESKTOP}").encode()
    responses = [RawResponse(f"{base}/p/{n}", f"{base}/p/{n}", 200, {"content-type": "text/html"}, body)
                 for n in range(PAGES)]
    most = 0
    seen: set[str] = set()
    async with BrowserSession(settings) as session:
        assert session._browser is not None
        cdp = await session._browser.new_browser_cdp_session()
        done = asyncio.Event()

        async def watch() -> None:
            nonlocal most
            while not done.is_set():
                contexts = (await cdp.send("Target.getBrowserContexts"))["browserContextIds"]
                most = max(most, len(contexts))
                seen.update(contexts)
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch())
        queue = list(responses)
        renders = 0

        async def worker() -> None:
            nonlocal renders
            while queue:
                response = queue.pop()

                async def extract(text: str, url: str = response.final_url) -> PageFacts:
                    return extractor.extract_text(text, url).facts

                captures = await session.render(response, extract)
                renders += len(captures)

        await asyncio.gather(*(worker() for _ in range(concurrency + 1)))
        done.set()
        await watcher
    return most, len(seen), renders


@pytest.mark.parametrize("concurrency", [1, 2, 3])
def test_open_contexts_never_exceed_the_concurrency(concurrency: int) -> None:
    with ScriptedServer({"/": html(page("home"))}) as server:
        most, opened, renders = asyncio.run(_render_all(server.base_url, concurrency))
    assert renders == PAGES * 2  # every page in both viewports
    # each page needs both viewports: with one slot, the desktop slot is closed for the mobile one
    assert most == concurrency, most
    if concurrency == 1:
        assert opened > 2, opened  # the one slot goes back and forth between the viewports
    else:  # each viewport keeps its contexts, reused page after page (12 renders < RECYCLE_AFTER)
        assert opened == concurrency, opened
