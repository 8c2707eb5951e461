"""The render turns (render/slot_tokens.py): a turn stays with its viewport, a viewport with no
render running is never left waiting, cancelled waiters lose nothing. Pure asyncio, no browser."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from smo_audit.render.slot_tokens import SlotTokens


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 5))


class Renders:
    """Renders holding turns until told to finish; records the order turns were granted."""

    def __init__(self, tokens: SlotTokens) -> None:
        self.tokens = tokens
        self.granted: list[str] = []
        self._finish: dict[str, asyncio.Event] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str) -> None:
        """A render named `viewport:n` asks for a turn."""
        self._finish[name] = asyncio.Event()
        self.tasks[name] = asyncio.create_task(self._render(name))

    async def _render(self, name: str) -> None:
        async with self.tokens.hold(name.split(":")[0]):
            self.granted.append(name)
            await self._finish[name].wait()

    async def finish(self, name: str) -> None:
        self._finish[name].set()
        await self.tasks[name]
        await asyncio.sleep(0)  # let a render handed the turn record it


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def test_a_turn_given_back_goes_to_the_same_viewport_before_an_older_waiter() -> None:
    async def test() -> None:
        renders = Renders(SlotTokens(2))
        for name in ("desktop:1", "mobile:1", "desktop:2", "mobile:2"):
            renders.start(name)
        await settle()
        assert renders.granted == ["desktop:1", "mobile:1"]
        await renders.finish("mobile:1")  # desktop:2 waited longer, but mobile's slot is the idle one
        assert renders.granted[-1] == "mobile:2"
        await renders.finish("desktop:1")
        assert renders.granted[-1] == "desktop:2"

    run(test)


def test_a_viewport_with_nothing_running_goes_first() -> None:
    async def test() -> None:
        renders = Renders(SlotTokens(1))  # fewer turns than viewports: they must alternate
        for name in ("desktop:1", "desktop:2", "mobile:1"):
            renders.start(name)
        await settle()
        await renders.finish("desktop:1")
        assert renders.granted == ["desktop:1", "mobile:1"]  # not desktop:2, which would starve mobile
        await renders.finish("mobile:1")
        assert renders.granted[-1] == "desktop:2"

    run(test)


def test_a_free_turn_waits_for_its_viewport_unless_another_has_none() -> None:
    async def test() -> None:
        tokens = SlotTokens(2)
        renders = Renders(tokens)
        renders.start("desktop:1")
        renders.start("mobile:1")
        await settle()
        await renders.finish("mobile:1")  # nobody waits: mobile's turn is free, marked mobile
        assert tokens.free == 1
        renders.start("desktop:2")  # desktop has a render running: it does not take mobile's turn
        await settle()
        assert "desktop:2" not in renders.granted
        renders.start("mobile:2")  # mobile takes its own free turn at once
        await settle()
        assert renders.granted[-1] == "mobile:2"
        await renders.finish("desktop:1")
        assert renders.granted[-1] == "desktop:2"
        await renders.finish("desktop:2")
        await renders.finish("mobile:2")
        assert tokens.free == 2
        renders.start("tablet:1")  # no tablet render running: another viewport's free turn will do
        await settle()
        assert renders.granted[-1] == "tablet:1"

    run(test)


def test_never_more_holders_than_turns() -> None:
    async def test() -> None:
        tokens = SlotTokens(3)
        holding = most = 0

        async def render(viewport: str, seconds: float) -> None:
            nonlocal holding, most
            async with tokens.hold(viewport):
                holding += 1
                most = max(most, holding)
                await asyncio.sleep(seconds)
                holding -= 1

        await asyncio.gather(*(render(("desktop", "mobile")[n % 2], 0.001 * (n % 4)) for n in range(40)))
        assert most == 3
        assert tokens.free == 3

    run(test)


def test_cancelled_waiters_lose_no_turn() -> None:
    async def test() -> None:
        tokens = SlotTokens(1)
        renders = Renders(tokens)
        renders.start("desktop:1")
        renders.start("mobile:1")
        renders.start("mobile:2")
        await settle()
        renders.tasks["mobile:1"].cancel()  # cancelled while waiting: skipped
        await renders.finish("desktop:1")
        assert renders.granted == ["desktop:1", "mobile:2"]
        # Handed the turn, then cancelled before it ran: the turn is passed on, not lost.
        renders.start("desktop:2")
        await settle()
        await renders.finish("mobile:2")
        renders.tasks["desktop:2"].cancel()
        await asyncio.gather(renders.tasks["desktop:2"], return_exceptions=True)
        assert tokens.free == 1
        renders.start("desktop:3")
        await settle()
        assert renders.granted[-1] == "desktop:3"

    run(test)
