"""Fixtures of the client tests: a loop clock that moves only when told.

The budget and the client read the running loop's clock (waits, timeouts,
pauses). Here that clock stands still until a test calls ``clock.advance``,
which steps from timer to timer, so every timer runs at its own time and a
ten-second wait takes no real time. Sockets keep working: the loop still
polls them. The simulator reads the same clock as epoch seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from custom_components.wattwaechter.api.errors import WattwaechterError

START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC).timestamp()
"""Where the simulator's (virtual) wall clock starts: a Tuesday noon."""


async def settle() -> None:
    """Let every task that can run, run (sockets included)."""
    for _ in range(10):
        await asyncio.sleep(0)


class LoopClock:
    """The running loop's clock, frozen except when a test moves it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Take over ``loop.time``; the loop starts at 1000 s."""
        self._loop = loop
        self.now = 1000.0
        self._origin = self.now
        loop.time = self.time  # type: ignore[method-assign]

    def time(self) -> float:
        """Return the loop time."""
        return self.now

    def wall(self) -> float:
        """Return the matching wall-clock time (epoch seconds)."""
        return START + self.now - self._origin

    def restore(self) -> None:
        """Give the loop its own clock back."""
        del self._loop.time  # type: ignore[attr-defined]

    def _next_timer(self, until: float) -> float | None:
        scheduled: list[asyncio.TimerHandle] = self._loop._scheduled  # type: ignore[attr-defined]
        due = [h.when() for h in scheduled if not h.cancelled() and h.when() <= until]
        return min(due, default=None)

    async def advance(self, seconds: float) -> None:
        """Move time forward, running each timer at its own time."""
        target = round(self.now + seconds, 6)  # no float drift past a timer
        await settle()
        while (when := self._next_timer(target)) is not None:
            self.now = max(self.now, when)
            await settle()
        self.now = target
        await settle()


@pytest.fixture
async def clock() -> AsyncIterator[LoopClock]:
    """The loop's clock under the test's control."""
    virtual = LoopClock(asyncio.get_running_loop())
    yield virtual
    virtual.restore()


@pytest.fixture
def sim_clock(clock: LoopClock) -> Callable[[], float]:
    """The simulator reads the virtual clock."""
    return clock.wall


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """Give each test its own aiohttp session."""
    async with aiohttp.ClientSession() as session:
        yield session


class Outcomes:
    """Runs coroutines as tasks and notes how each ended, in order."""

    def __init__(self) -> None:
        """Start empty."""
        self.log: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, coro: Coroutine[Any, Any, Any], tag: Any) -> None:
        """Run ``coro``; log ``tag`` or ``(tag, error class name)``; let it queue."""

        async def run() -> None:
            try:
                await coro
            except WattwaechterError as err:
                self.log.append((tag, type(err).__name__))
            else:
                self.log.append(tag)

        self._tasks.append(asyncio.get_running_loop().create_task(run()))
        await settle()

    def cancel(self, index: int) -> None:
        """Cancel the ``index``-th task started."""
        self._tasks[index].cancel()

    async def finish(self) -> None:
        """Cancel what still waits."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@pytest.fixture
async def outcomes(clock: LoopClock) -> AsyncIterator[Outcomes]:
    """Tasks that record their outcome; those still waiting are cancelled."""
    runner = Outcomes()
    yield runner
    await runner.finish()
