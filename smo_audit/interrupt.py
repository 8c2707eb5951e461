"""SIGINT / SIGTERM at any moment: stop fetching at once, keep what was audited, exit 130 / 143.

Python's own Ctrl-C handling raises KeyboardInterrupt wherever the main thread happens to be and
knows nothing of SIGTERM (the default action kills the process: no report, a JSON snapshot left
marked "in-progress"). An audit instead treats both signals the same way:

- while the event loop runs, the signal cancels the audit's task. Every await in flight (page
  fetches, image and profile checks of the site rules, a page being parsed in a worker, the
  browser) is cancelled, nothing new starts, and the report of the pages audited so far is
  written, marked partial with stop_reason "interrupted" or "terminated";
- before and after the loop (start-up, writing the report) SIGTERM raises `Terminated`, the
  counterpart of KeyboardInterrupt, so both end the same way.

    stopper = Stopper(on_stop=audit.stop)
    with stopper.installed():                # SIGTERM -> Terminated outside the loop
        signal_name = asyncio.run(stopper.run(audit.execute()))   # None, "interrupted" or "terminated"
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any

from smo_audit.errors import EXIT_INTERRUPTED, EXIT_TERMINATED

STOP_REASONS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}
EXIT_CODES = {"interrupted": EXIT_INTERRUPTED, "terminated": EXIT_TERMINATED}


class Terminated(BaseException):
    """SIGTERM outside the event loop: like KeyboardInterrupt, not an error to report."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


class Stopper:
    """Turns the first SIGINT/SIGTERM into a cancellation of the running audit."""

    def __init__(self, on_stop: Callable[[str], None] | None = None) -> None:
        self.reason: str | None = None  # "interrupted" / "terminated" once a signal arrived
        self._on_stop = on_stop  # told before the cancellation lands (the audit skips its site rules)

    @contextmanager
    def installed(self) -> Iterator[Stopper]:
        """SIGTERM raises `Terminated` while this is active (SIGINT already raises KeyboardInterrupt)."""
        try:
            previous = signal.signal(signal.SIGTERM, _raise_terminated)
        except ValueError:  # not the main thread (a library caller, a test runner's thread)
            yield self
            return
        try:
            yield self
        finally:
            signal.signal(signal.SIGTERM, previous)

    async def run(self, work: Coroutine[Any, Any, None]) -> str | None:
        """Run `work`; a signal cancels it. Returns the stop reason, or None if none came."""
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(work)
        installed: list[signal.Signals] = []
        for signum, reason in STOP_REASONS.items():
            try:
                loop.add_signal_handler(signum, self._stop, task, reason)
            except (ValueError, RuntimeError, NotImplementedError):  # not the main thread / Windows
                continue
            installed.append(signum)
        try:
            await task
        except asyncio.CancelledError:
            if self.reason is None:
                raise  # cancelled by someone else: not ours to swallow
        finally:
            for signum in installed:
                with suppress(ValueError, RuntimeError):
                    loop.remove_signal_handler(signum)
        return self.reason

    def _stop(self, task: asyncio.Future[None], reason: str) -> None:
        if self.reason is None:
            self.reason = reason
            if self._on_stop is not None:
                self._on_stop(reason)
        task.cancel()  # again on a second signal: a step that swallowed the first stops too


def exit_code(reason: str | None) -> int | None:
    """130 for an interrupted audit, 143 for a terminated one, None if it was not stopped."""
    return EXIT_CODES.get(reason or "")


__all__ = ["STOP_REASONS", "Stopper", "Terminated", "exit_code"]
