"""How many renders run at once, and which waiting render goes next.

`--render-concurrency` bounds the browser contexts (slots) open at once; a slot is opened for one
viewport and reused page after page. Each page renders all its viewports at once, so renders of
every viewport wait for a turn. With a plain FIFO semaphore the turn freed by a mobile render
often went to a desktop render, which then had to close the idle mobile slot and open a desktop
one: a renderer process start (about 0.3-0.5 s) where reusing the slot costs nothing; 7 of the 11
contexts opened over 120 renders of the rendered benchmark were such swaps.

So a turn stays with the viewport that used it, as its slot does. A turn given back goes:

1. to the oldest render waiting for another viewport that has no render running (it would
   otherwise wait for ever: with one turn, or when the other viewports hold every turn; it swaps
   a slot as before);
2. else to the oldest render waiting for the same viewport, whose slot has just become idle;
3. else back to the free turns, marked with its viewport.

A render arriving takes a free turn of its own viewport or one never used; another viewport's free
turn only when no render of its own viewport is running. A viewport that renders faster than
another thus leaves its spare turn unused rather than swapping its slot for the slower viewport's
backlog: a swap costs more than the wait it saves when the viewports take about as long. The split
is kept for the run: at a concurrency the viewports do not share evenly (3 for desktop and mobile)
the viewport that came first keeps the extra turn, and the other renders one page at a time, as
with 2; give a multiple of the number of viewports.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

_UNUSED = ""  # the viewport mark of a turn no render has used yet


class SlotTokens:
    """At most `count` renders at once, each viewport keeping the turns it uses (see above)."""

    def __init__(self, count: int) -> None:
        self._free: Counter[str] = Counter({_UNUSED: max(1, count)})  # free turns by viewport mark
        self._running: Counter[str] = Counter()  # turns held, per viewport
        self._waiters: deque[tuple[str, asyncio.Future[None]]] = deque()

    @property
    def free(self) -> int:
        """Turns nobody holds or has been handed (for tests and diagnostics)."""
        return self._free.total()

    @asynccontextmanager
    async def hold(self, viewport: str) -> AsyncIterator[None]:
        """Wait for a turn for a render of `viewport`, and give it back on the way out."""
        await self._acquire(viewport)
        try:
            yield
        finally:
            self._release(viewport)

    async def _acquire(self, viewport: str) -> None:
        mark = self._free_turn(viewport)
        if mark is not None:
            self._free[mark] -= 1
            self._running[viewport] += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (viewport, waiter)
        self._waiters.append(entry)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(viewport)  # handed a turn just as it was cancelled: pass it on
            elif entry in self._waiters:
                self._waiters.remove(entry)
            raise

    def _free_turn(self, viewport: str) -> str | None:
        """The mark of the free turn a render of `viewport` may take now, if any."""
        for mark in (viewport, _UNUSED):
            if self._free[mark] > 0:
                return mark
        if self._running[viewport] <= 0:
            return next((mark for mark, count in self._free.items() if count > 0), None)
        return None

    def _release(self, viewport: str) -> None:
        self._running[viewport] -= 1
        # A waiter cancelled a moment ago stays queued until its task runs: skipped (done).
        for index, (name, waiter) in enumerate(self._waiters):
            if name != viewport and self._running[name] <= 0 and not waiter.done():
                self._hand(index, name, waiter)
                return
        for index, (name, waiter) in enumerate(self._waiters):
            if name == viewport and not waiter.done():
                self._hand(index, name, waiter)
                return
        self._free[viewport] += 1

    def _hand(self, index: int, viewport: str, waiter: asyncio.Future[None]) -> None:
        del self._waiters[index]
        self._running[viewport] += 1
        waiter.set_result(None)
