"""One Chromium per audit, driven by Playwright: open a page in each viewport, settle, measure.

Only rendered mode imports this module (and Playwright with it); static mode never does.

* A pool of at most `concurrency` browser contexts (the slots), each with one viewport and one
  page that is navigated from audited page to audited page: a new context and page per page
  cost a renderer process start each time, three times the rest of the render. Between pages the
  slot is reset to a first-time visitor's state (cookie banners included): the measured page is
  ended (its requests refused, its connections cut, loading stopped, the timers of every frame
  cancelled), then every cookie of the context, the storage of every origin the previous page made
  requests to (local and session storage, IndexedDB, cache storage; `Storage.clearDataForOrigin`)
  and the tab's history are cleared; no permission is ever granted. Chromium's HTTP cache stays
  on: no Playwright route is registered (a route turns it off).
  A slot is closed and replaced after `RECYCLE_AFTER` pages (memory stays flat over long crawls)
  and after any page that failed (timed out, crashed, errored), so a broken page never leaks
  into the next one.
* The document is the one the crawler fetched (fulfilled from its bytes), so the raw and the
  rendered DOM are of the same response. Every other request leaves Chromium only through the
  slot's loopback proxy (render/proxy.py), under the audit's fetch policy; further top-level navigations (a page that navigates away, forever or
  not) are refused, popups closed, downloads refused, dialogs dismissed.
* Bounds: navigation timeout (document parsed), settle time (load, then a quiet DOM), and a hard
  page budget around everything. A page past its budget is a `render-timeout`; a renderer that
  crashes is a `render-crash`. A browser that dies is relaunched once per audit.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from playwright.async_api import (
    Browser,
    BrowserContext,
    CDPSession,
    Frame,
    Page,
    Playwright,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from smo_audit.crawl.addresses import AddressRefused, check_addresses, resolve
from smo_audit.crawl.models import RawResponse
from smo_audit.extract.dom import MAX_ATTR
from smo_audit.extract.facts import PageFacts
from smo_audit.render.chromium import LAUNCH_ARGS, find_chromium, hermetic_env
from smo_audit.render.facts import TAP_MINIMUM, TAP_RECOMMENDED, Box, ButtonView, ViewportView
from smo_audit.render.probe import (
    INIT_SCRIPT,
    MEASURE_SCRIPT,
    OUTLINE_SCRIPT,
    SETTLE_SCRIPT,
    STOP_SCRIPT,
)
from smo_audit.render.proxy import Admitted, PolicyProxy
from smo_audit.render.settings import RenderSettings, Viewport, subrequest_allowed
from smo_audit.render.slot_tokens import SlotTokens

log = logging.getLogger(__name__)

RECYCLE_AFTER = 50  # pages one slot renders before its context is closed and a new one opened
RESET_TIMEOUT = 5.0  # seconds for resetting a slot between pages; past it the slot is closed
STOP_FRAMES = 50  # frames of a measured page stopped one by one; a page with more closes its slot
CLEAR_ORIGINS = 50  # origins whose storage is cleared one by one; a page with more document origins closes its slot
SCREENSHOT_MAX_HEIGHT = 3000  # CSS px: a long page is cut here (JPEG, quality 60: ~100-300 KB)
_FORWARDED_HEADERS = ("content-type", "content-security-policy", "content-language")


class RenderFailure(Exception):
    """A page could not be rendered; `kind` is the report's error kind."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class _BrowserDied(Exception):
    pass


class _NotReusable(Exception):
    """The slot cannot be reset safely (too many frames to stop, or document origins to clear): it
    is closed instead."""


@dataclass
class ViewportCapture:
    """One viewport's result: the rendered DOM's facts and the measured buttons."""

    view: ViewportView
    facts: PageFacts
    script_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


Extract = Callable[[str], Awaitable[PageFacts]]
_T = TypeVar("_T")


class BrowserSession:
    """The audit's Chromium. `async with BrowserSession(settings) as session: ...`."""

    def __init__(self, settings: RenderSettings) -> None:
        self.settings = settings
        self.restarts = 0
        self._executable = find_chromium(settings.chromium)  # ChromiumNotFound before anything starts
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._gone = asyncio.Event()
        self._profile: tempfile.TemporaryDirectory[str] | None = None
        self._slots = SlotTokens(settings.concurrency)  # a turn goes to the viewport whose slot is free
        self._idle: list[_Slot] = []  # open slots not rendering now
        # slots open now, from the moment one is being opened until its context is closed: idle,
        # rendering, being reset or being closed (never more than `concurrency`)
        self._open = 0
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> BrowserSession:
        self._playwright = await async_playwright().start()
        try:
            await self._launch()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _launch(self) -> None:
        assert self._playwright is not None
        if self._profile is None:
            self._profile = tempfile.TemporaryDirectory(prefix="smo-audit-chromium-")
        env: dict[str, str | float | bool] = dict(hermetic_env(Path(self._profile.name)))
        try:
            browser = await self._playwright.chromium.launch(
                executable_path=self._executable, args=list(LAUNCH_ARGS), headless=True, env=env, timeout=30_000,
            )
        except PlaywrightError as exc:
            raise RenderFailure("render-crash", f"Chromium ({self._executable}) did not start: "
                                f"{str(exc).splitlines()[0][:200]}") from None
        gone = asyncio.Event()  # this browser's own: set when it disconnects (dies or is closed)
        browser.on("disconnected", lambda _browser: gone.set())
        self._browser, self._gone = browser, gone

    async def close(self) -> None:
        """Close the browser and Playwright's driver; safe to call twice and on Ctrl-C."""
        idle, self._idle = self._idle, []  # their contexts close with the browser, their proxies here
        for slot in idle:
            with contextlib.suppress(Exception):
                await slot.proxy.close()
        self._open = 0
        browser, self._browser = self._browser, None
        if browser is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(browser.close(), 10)
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(playwright.stop(), 10)
        if self._profile is not None:
            with contextlib.suppress(Exception):
                self._profile.cleanup()
            self._profile = None

    @property
    def connected(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    async def _ensure_browser(self) -> Browser:
        async with self._lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            if self.restarts >= 1:
                raise RenderFailure("render-crash", "Chromium died twice during this audit; "
                                    "the remaining pages keep their static results")
            self.restarts += 1
            log.warning("Chromium died; relaunching it once")
            if self._browser is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._browser.close(), 5)
            await self._launch()
            assert self._browser is not None
            return self._browser

    # -- one page ----------------------------------------------------------------------------
    async def render(self, response: RawResponse, extract: Extract) -> list[ViewportCapture]:
        """Every configured viewport of one page, each within the page budget. When one viewport
        fails the others are cancelled (their contexts closed) rather than left running."""
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._viewport_with_restart(vp, response, extract))
                         for vp in self.settings.viewport_list()]
        except* RenderFailure as failures:
            raise failures.exceptions[0] from None
        return [task.result() for task in tasks]

    async def _viewport_with_restart(self, viewport: Viewport, response: RawResponse,
                                     extract: Extract) -> ViewportCapture:
        for attempt in (1, 2):
            # The budget starts once a slot is free: time queued behind other pages (the crawler
            # hands over more pages than there are contexts) is not this page's fault.
            async with self._slots.hold(viewport.name):
                browser = await self._ensure_browser()
                slot: _Slot | None = None
                reusable = False
                try:
                    async with asyncio.timeout(self.settings.page_timeout):
                        slot = await self._unless_browser_dies(self._gone, self._take(browser, viewport))
                        capture = await self._unless_browser_dies(self._gone, self._viewport(slot, response, extract))
                    reusable = not slot.state.crashed
                    return capture
                except TimeoutError:
                    raise RenderFailure("render-timeout", f"rendering {response.final_url} ({viewport.name}) took "
                                        f"longer than {self.settings.page_timeout:g} s; the page keeps its static "
                                        "results") from None
                except _BrowserDied:
                    if attempt == 2:
                        break
                finally:
                    if slot is not None:
                        await self._give_back(slot, reusable)
        raise RenderFailure("render-crash", f"Chromium died while rendering {response.final_url}")

    @staticmethod
    async def _unless_browser_dies(gone: asyncio.Event, work: Awaitable[_T]) -> _T:
        """`work`, or _BrowserDied as soon as the browser disconnects: some Playwright calls
        (a navigation, a route) never return when the browser process is killed under them."""
        task = asyncio.ensure_future(work)
        waiter = asyncio.ensure_future(gone.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if task.cancelled():
            raise _BrowserDied()
        return task.result()

    # -- the pool of slots -------------------------------------------------------------------
    async def _take(self, browser: Browser, viewport: Viewport) -> _Slot:
        """An idle slot of this viewport, or a new one (closing an idle slot of another viewport
        when `concurrency` slots are open already). Called holding one of the `_slots` tokens."""
        for gone in [s for s in self._idle if s.browser is not browser]:  # a dead browser's slots
            self._idle.remove(gone)
            await self._discard(gone)
        for slot in self._idle:
            if slot.viewport == viewport:
                self._idle.remove(slot)
                return slot
        waited = 0
        while self._open >= max(1, self.settings.concurrency):
            if self._idle:  # an idle slot of another viewport makes room
                await self._discard(self._idle.pop(0))
            elif waited < 1000:  # a slot being closed by the page that held it: a moment
                waited += 1
                await asyncio.sleep(0.01)
            else:  # a count left behind by a cancelled opening: go on rather than stall every page
                log.warning("render slot count out of step (%d open); recounting", self._open)
                self._open = len(self._idle)
        self._open += 1  # counted while it opens: two pages opening at once both count
        try:
            slot = await _Slot.open(browser, viewport)
        except BaseException as exc:
            self._open -= 1
            if not isinstance(exc, PlaywrightError):
                raise
            if await _died(browser, exc):
                raise _BrowserDied() from None
            raise RenderFailure("render-crash", f"Chromium could not open a page: {_first_line(exc)}") from None
        return slot

    async def _give_back(self, slot: _Slot, reusable: bool) -> None:
        """Reset the slot for the next page, or close it (failed page, worn out, browser gone)."""
        slot.uses += 1
        if (reusable and slot.uses < RECYCLE_AFTER and slot.browser is self._browser
                and slot.browser.is_connected()):
            try:
                await asyncio.wait_for(slot.reset(), RESET_TIMEOUT)
            except (PlaywrightError, TimeoutError, _NotReusable):
                pass
            else:
                self._idle.append(slot)
                return
        await self._discard(slot)

    async def _discard(self, slot: _Slot) -> None:
        """Close a slot; it stops counting as open once its context is closed."""
        try:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(slot.context.close(), 5)
            with contextlib.suppress(Exception):
                await slot.proxy.close()
        finally:
            self._open = max(0, self._open - 1)

    # -- one page in one slot ----------------------------------------------------------------
    async def _viewport(self, slot: _Slot, response: RawResponse, extract: Extract) -> ViewportCapture:
        state = slot.begin(response, self.settings)
        viewport = slot.viewport
        try:
            return await self._in_page(slot.page, state, viewport, response, extract)
        except PlaywrightTimeout as exc:
            raise RenderFailure("render-timeout", f"{viewport.name}: {_first_line(exc)}") from None
        except PlaywrightError as exc:
            state.crashed = True  # whatever happened, this slot is not reused
            if await _died(slot.browser, exc):
                raise _BrowserDied() from None
            # the crash event comes before the error of the call it broke; the message says it too
            if state.renderer_crashed or "Target crashed" in str(exc):
                raise RenderFailure("render-crash", f"the page crashed the renderer ({viewport.name})") from None
            raise RenderFailure("render-error", f"{viewport.name}: {_first_line(exc)}") from None
        except BaseException:
            state.crashed = True  # cancelled (over budget) or failed: the slot is closed, not reused
            raise

    async def _in_page(self, page: Page, state: _PageState, viewport: Viewport,
                       response: RawResponse, extract: Extract) -> ViewportCapture:
        settings = self.settings
        try:
            await page.goto(response.final_url, wait_until="domcontentloaded",
                            timeout=settings.navigation_timeout * 1000)
        except PlaywrightTimeout:
            raise RenderFailure("render-timeout", f"the document was not parsed within "
                                f"{settings.navigation_timeout:g} s ({viewport.name}): a script or "
                                "stylesheet never finished loading") from None
        # The DOM at `load` is extracted while the page goes quiet, and measured once quiet if it
        # did not change meanwhile (the usual case: the extraction and a round trip cost no wait);
        # if it did, it is taken again once quiet and measured as it is then.
        quiet, bound = settings.quiet * 1000, settings.settle * 1000
        settled = await page.evaluate(SETTLE_SCRIPT, {"quiet": 0, "max": bound, "start": None})
        document = _same_document(settled, None, response.final_url, viewport)
        if not settled.get("loaded"):
            state.notes.append(f"the load event did not fire within {settings.settle:g} s "
                               f"({viewport.name}): facts are from the page as it stood")
        facts = await extract(str(settled.get("html") or ""))
        start = settled.get("start")
        measured: dict[str, Any] = await page.evaluate(MEASURE_SCRIPT, {
            "targets": _targets(facts), "quiet": quiet, "max": bound, "start": start, "mark": settled.get("mark"),
            "limit": MAX_ATTR})
        _same_document(measured, document, response.final_url, viewport)
        if measured.get("changed"):
            settled = await page.evaluate(SETTLE_SCRIPT, {"quiet": quiet, "max": bound, "start": start})
            _same_document(settled, document, response.final_url, viewport)
            facts = await extract(str(settled.get("html") or ""))
            measured = await page.evaluate(MEASURE_SCRIPT, {
                "targets": _targets(facts), "quiet": 0, "max": bound, "start": start, "mark": None, "limit": MAX_ATTR})
            _same_document(measured, document, response.final_url, viewport)
        for name, count in dict(measured.get("blocked") or {}).items():
            state.notes.append(f"{name}() called {count} time(s): ignored ({viewport.name})")
        scale = float(measured.get("scale") or 1.0)
        buttons = tuple(
            _button_view(button, data, scale)
            for button, data in zip(facts.share_buttons, measured["buttons"], strict=True)
        )
        screenshot = None
        if settings.screenshots is not None:
            try:
                screenshot = await self._screenshot(page, viewport, response.final_url, buttons, int(measured["pageHeight"]))
            except OSError as exc:  # a full disk, a folder removed mid-audit: the page keeps its facts
                state.notes.append(f"the screenshot could not be written ({viewport.name}): "
                                   f"{exc.strerror or type(exc).__name__}")
        view = ViewportView(viewport.name, viewport.width, viewport.height, buttons,
                            int(measured["pageHeight"]), screenshot, round(scale, 3))
        return ViewportCapture(view, facts, state.errors, state.notes)

    async def _screenshot(self, page: Page, viewport: Viewport, url: str, buttons: tuple[ButtonView, ...],
                          page_height: int) -> str:
        assert self.settings.screenshots is not None
        boxes = [{"x": b.box.x, "y": b.box.y, "width": b.box.width, "height": b.box.height,
                  "ok": b.visible and b.covered_by is None} for b in buttons if b.box is not None]
        await page.evaluate(OUTLINE_SCRIPT, boxes)
        name = hashlib.sha1(url.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        path = self.settings.screenshots / f"{name}-{viewport.name}.jpg"
        height = max(1, min(page_height, SCREENSHOT_MAX_HEIGHT))
        await page.screenshot(path=str(path), type="jpeg", quality=60, full_page=True,
                              clip={"x": 0, "y": 0, "width": viewport.width, "height": height},
                              timeout=10_000, animations="disabled")
        return str(path)


def _same_document(result: dict[str, Any], document: object, url: str, viewport: Viewport) -> object:
    """The identity of the document a script ran in (its time origin), checked against the
    page's: navigations to other http(s) URLs are refused before they leave (see `document`),
    but one to a blob:, data: or about: URL never reaches the network, so it is caught here. The
    facts of another document are not the page's: the render fails and the static facts stay."""
    here = result.get("doc")
    where = str(result.get("url") or url)
    if (document is not None and here != document) or urlsplit(where).scheme not in ("http", "https"):
        where = where if document is None else "another document"
        raise RenderFailure("render-error", f"the page navigated to {where[:200]} ({viewport.name}), which "
                            "cannot be refused: its rendered facts are not used")
    return here


async def _died(browser: Browser, exc: PlaywrightError) -> bool:
    """The browser itself is gone (not only this page). Playwright may report the closed page
    a moment before the browser's disconnection, so a 'has been closed' error waits a little."""
    if not browser.is_connected():
        return True
    if "closed" not in str(exc):
        return False
    for _ in range(20):
        await asyncio.sleep(0.05)
        if not browser.is_connected():
            return True
    return False


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _targets(facts: PageFacts) -> list[dict[str, Any]]:
    """How MEASURE_SCRIPT finds each share button: its selector, href and occurrence."""
    seen: dict[tuple[str, str], int] = {}
    targets = []
    for button in facts.share_buttons:
        key = (button.selector, button.href)
        n = seen.get(key, 0)
        seen[key] = n + 1
        targets.append({"selector": button.selector or "*:not(*)", "href": button.href, "n": n})
    return targets


def _button_view(button: Any, data: dict[str, Any], scale: float) -> ButtonView:
    if not data.get("found"):
        return ButtonView(button.network, button.selector, button.href, found=False, visible=False,
                          hidden_because=("not an element of this viewport's page",))
    box = data.get("box")
    # tap targets are judged at their size on screen (CSS px times the page's initial zoom)
    smallest = min(float(box["width"]), float(box["height"])) * min(scale, 1.0) if box else 0.0
    return ButtonView(
        network=button.network, selector=button.selector, href=button.href, found=True,
        visible=bool(data["visible"]), displayed=bool(data["displayed"]), visibility=str(data["visibility"]),
        opacity=round(float(data["opacity"]), 3), clipped=bool(data["clipped"]), offscreen=bool(data["offscreen"]),
        fixed=bool(data["fixed"]), in_first_viewport=bool(data["inFirst"]),
        box=Box(*(round(float(box[k]), 1) for k in ("x", "y", "width", "height"))) if box else None,
        covered_by=data.get("coveredBy"), accessible_name=str(data.get("name") or ""),
        hidden_because=tuple(str(r) for r in data.get("reasons") or ()),
        tap_ok=smallest >= TAP_MINIMUM, tap_recommended=smallest >= TAP_RECOMMENDED,
    )


class _Slot:
    """One browser context with one viewport and one page, rendering page after page.

    Its event handlers are registered once and act for the page being rendered now (`state`);
    between pages (`state` None) any request is refused.

    Every request of the context (frames, workers, popups, WebSockets included) goes out through
    the slot's own loopback proxy (render/proxy.py), which asks the page's state about it; only
    the tab's documents are intercepted (through the tab's DevTools session, not Playwright's
    routes, which would turn the HTTP cache off): the first is served from the crawler's bytes,
    later top-level navigations are answered 204, a frame's document goes on to the proxy.
    """

    def __init__(self, browser: Browser, viewport: Viewport, proxy: PolicyProxy) -> None:
        self.browser, self.viewport, self.proxy = browser, viewport, proxy
        self.context: BrowserContext
        self.page: Page
        self.cdp: CDPSession
        self.main_frame = ""
        self.uses = 0
        self._state: _PageState | None = None
        self._tasks: set[asyncio.Future[None]] = set()  # popups being closed, dialogs dismissed

    @classmethod
    async def open(cls, browser: Browser, viewport: Viewport) -> _Slot:
        slot = cls(browser, viewport, await PolicyProxy.start(lambda url, tunnel: slot._admit(url, tunnel)))
        try:
            # Playwright adds `<-loopback>` to the bypass list: loopback goes through the proxy too
            slot.context = context = await browser.new_context(
                viewport={"width": viewport.width, "height": viewport.height}, is_mobile=viewport.mobile,
                has_touch=viewport.mobile, user_agent=viewport.user_agent, accept_downloads=False,
                service_workers="block", device_scale_factor=1, proxy={"server": slot.proxy.server},
            )
        except BaseException:
            await slot.proxy.close()
            raise
        try:
            await context.add_init_script(INIT_SCRIPT)
            slot.page = page = await context.new_page()
            slot.cdp = cdp = await context.new_cdp_session(page)
            tree = await cdp.send("Page.getFrameTree")
            slot.main_frame = str(tree["frameTree"]["frame"]["id"])
            context.on("page", slot._popup)
            page.on("dialog", slot._dialog)
            page.on("download", slot._download)
            page.on("pageerror", slot._error)
            page.on("crash", slot._crash)
            cdp.on("Fetch.requestPaused", slot._paused)
            await cdp.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "resourceType": "Document",
                                                          "requestStage": "Request"}]})
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(context.close(), 5)
            await slot.proxy.close()
            raise
        return slot

    @property
    def state(self) -> _PageState:
        assert self._state is not None
        return self._state

    def begin(self, response: RawResponse, settings: RenderSettings) -> _PageState:
        self._state = _PageState(response, settings)
        return self._state

    async def reset(self) -> None:
        """Back to a first-time visitor's state: end the page (its requests refused, its
        connections cut, loading stopped, the timers of all its frames cancelled), then clear the
        context's cookies, the storage of every origin the page reached and the tab's history. A
        page with more frames or document origins than are handled one by one closes its slot instead
        (`_NotReusable`): a fresh context costs a renderer start, a partial clear would leak. The
        tab stays on the old document until the next page commits: navigating to about:blank in
        between cost a second navigation (and renderer process swap) per page, a third of the
        render."""
        origins, documents = self.state.origins, self.state.documents
        self._state = None  # from now on every request of the old page is refused
        self.proxy.drop()  # and what it still has open (downloads, WebSockets) is cut
        # Every frame is stopped, not only the top one: a frame's timers would otherwise go on
        # writing cookies and storage after they are cleared (cross-origin frames included).
        frames = [frame for frame in self.page.frames if frame is not self.page.main_frame]
        if len(frames) > STOP_FRAMES:
            raise _NotReusable(f"{len(frames)} frames")
        # Only a document (the page, a frame) or its workers write storage, so its origin must be
        # cleared; the other origins requested (images, scripts, refused navigations) are cleared
        # too while they fit, so an ad-heavy page does not cost a new context.
        if len(documents) > CLEAR_ORIGINS:
            raise _NotReusable(f"{len(documents)} document origins")
        cleared = documents | set(sorted(origins - documents)[:CLEAR_ORIGINS - len(documents)])
        await asyncio.gather(self.page.evaluate(STOP_SCRIPT), *(_stopped(frame) for frame in frames))
        await asyncio.gather(  # independent of each other: one round trip's wait, not several
            self.context.clear_cookies(), self.cdp.send("Page.resetNavigationHistory"),
            *(self.cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
              for origin in sorted(cleared)),
        )

    # -- event handlers (registered once per slot) ----------------------------------------------
    def _popup(self, popup: Page) -> None:
        if popup is self.page:
            return
        if self._state is not None:
            self._state.popup()
        self._keep(asyncio.ensure_future(_quietly(popup.close())))

    def _dialog(self, dialog: Any) -> None:
        self._keep(asyncio.ensure_future(_quietly(dialog.dismiss())))

    def _download(self, download: Any) -> None:
        """A download the page started without a navigation (a blob: or data: URL behind
        `<a download>`): the context refuses it (accept_downloads=False); say so in the notes. A
        download by URL is a top-level navigation, answered 204 before any request (see document)."""
        if self._state is not None:
            self._state.download(str(download.suggested_filename))
        self._keep(asyncio.ensure_future(_quietly(download.cancel())))

    def _keep(self, task: asyncio.Future[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _error(self, error: Any) -> None:
        if self._state is not None:
            self._state.error(error)

    def _crash(self, _page: Page) -> None:
        if self._state is not None:
            self._state.crashed = self._state.renderer_crashed = True

    def _paused(self, event: dict[str, Any]) -> None:
        self._keep(asyncio.ensure_future(self._document(event)))

    async def _document(self, event: dict[str, Any]) -> None:
        """A document request of the tab (Fetch.requestPaused, documents only)."""
        request_id = event["requestId"]
        try:
            state = self._state
            if state is None:
                await self.cdp.send("Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"})
                return
            top = event.get("frameId") == self.main_frame
            reply = state.document(str(event["request"]["url"]), top=top)
            if reply is None:  # a frame's document: on to the proxy and its policy
                await self.cdp.send("Fetch.continueRequest", {"requestId": request_id})
                return
            status, headers, body = reply
            await self.cdp.send("Fetch.fulfillRequest", {
                "requestId": request_id, "responseCode": status,
                "responseHeaders": [{"name": k, "value": v} for k, v in headers.items()],
                "body": base64.b64encode(body).decode("ascii"),
            })
        except PlaywrightError:
            pass  # the page or context closed meanwhile

    async def _admit(self, url: str, tunnel: bool) -> Admitted | str:
        """The proxy's question about one request of this context."""
        if self._state is None:
            return "the page has been measured; its requests are refused"
        return await self._state.admit(url, tunnel)


class _PageState:
    """What the slot's handlers noticed while rendering one page, and its requests' policy."""

    def __init__(self, response: RawResponse, settings: RenderSettings) -> None:
        self.response = response
        self.settings = settings
        self.served = False
        self.crashed = False  # the slot must not be reused (failed, cancelled, or renderer crash)
        self.renderer_crashed = False
        self.errors: list[str] = []
        self.notes: list[str] = []
        self.origins: set[str] = set()  # every origin a request went to: its storage is cleared after
        self.documents: set[str] = set()  # the origins of the page's documents (its own, its frames')
        self._popups = 0
        self._downloads = 0
        self._navigations = 0

    def popup(self) -> None:
        self._popups += 1
        if self._popups == 1:
            self.notes.append("the page opened a window: closed")

    def download(self, filename: str) -> None:
        self._downloads += 1
        if self._downloads == 1:
            self.notes.append(f"the page started a download ({filename[:100]}): refused")

    def error(self, error: Any) -> None:
        if len(self.errors) < 20:
            self.errors.append(str(error).strip().splitlines()[0][:300] if str(error).strip() else repr(error))

    def document(self, url: str, *, top: bool) -> tuple[int, dict[str, str], bytes] | None:
        """The reply to a document request of the tab, or None to let it go on to the proxy."""
        if url.startswith(("http://", "https://")):
            self.origins.add(_origin(url))
            if not top or not self.served:  # a frame's document, or the page's own (not a refused navigation)
                self.documents.add(_origin(url))
        if not top:
            return None
        if not self.served:
            self.served = True
            response = self.response
            headers = {k: v for k, v in response.headers.items() if k in _FORWARDED_HEADERS}
            headers.setdefault("content-type", "text/html")
            return response.status, headers, response.body
        self._navigations += 1
        if self._navigations == 1:
            self.notes.append(f"the page tried to navigate to {url[:200]}: refused")
        # 204 No Content: the browser stays on the page (an aborted navigation would
        # replace it with an error page and lose the DOM being measured).
        return 204, {}, b""

    async def admit(self, url: str, tunnel: bool) -> Admitted | str:
        """The fetch policy for one request the browser sends out: scope, robots.txt (by URL;
        a tunnel's path is unknown, so by its host's `/`), then every address the host resolves
        to. The addresses returned are the only ones the proxy connects to."""
        self.origins.add(_tunnel_origin(url) if tunnel else _origin(url))
        settings = self.settings
        host, port = _host_port(url)
        reason: str | None = None
        if not subrequest_allowed(url, local_target=settings.local_target, only_local=settings.only_local):
            reason = "outside the audit's address scope"
        elif settings.check_url is not None:
            reason = await settings.check_url(url)
        addresses: list[Any] = []
        if reason is None:
            try:
                addresses = await resolve(host, port)
                if settings.addresses is not None:
                    check_addresses(settings.addresses, host, addresses)
                if settings.only_local and any(a.is_global for a in addresses):
                    reason = f"{host} is not on this machine (folder audits stay on loopback)"
            except AddressRefused as refused:
                reason = str(refused)
            except (OSError, UnicodeError, ValueError) as exc:
                return f"{host} could not be resolved ({exc})"
        if reason is not None:
            if len(self.notes) < 10:
                shown = f"{host} (a tunnel)" if tunnel else url[:200]
                self.notes.append(f"not requested by the browser: {shown} ({reason[:200]})")
            return reason
        return Admitted(tuple(str(a) for a in addresses), port)


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _tunnel_origin(url: str) -> str:
    """The origin a tunnel to host:port most likely serves (its scheme is not known)."""
    host, port = _host_port(url)
    shown = f"[{host}]" if ":" in host else host
    if port == 443:
        return f"https://{shown}"
    return f"http://{shown}" if port == 80 else f"https://{shown}:{port}"


def _origin(url: str) -> str:
    """scheme://host[:port] of an http(s) URL, without parsing the rest of it."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme.lower()}://{host.lower()}"


async def _stopped(frame: Frame) -> None:
    """Stop one frame of the measured page; a frame detached meanwhile needs no stopping."""
    with contextlib.suppress(PlaywrightError):
        await frame.evaluate(STOP_SCRIPT)


async def _quietly(awaitable: Any) -> None:
    with contextlib.suppress(Exception):
        await awaitable
