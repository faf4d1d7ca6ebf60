"""Runs virtual time from one event to the next while the history import works.

``advance()`` waits for every background task, and the import is one: a
pause of the import (the request budget, a retry) would then take as long in
real time. Instead the driver lets what is under way finish (requests to the
simulator, the recorder's work), then moves the clocks to the next timer of
the event loop, so a budget-paced 30-day import takes a fraction of a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
from contextlib import contextmanager
from typing import Any, TypeVar
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance

from custom_components.wattwaechter.api.budget import RequestBudget
from custom_components.wattwaechter.api.client import WattwaechterClient

from ..timetravel import TIME_TRAVEL_KEY, VirtualTime

T = TypeVar("T")

HANG_GRACE = 0.05
"""Real seconds the driver waits for requests while the device holds one until
its timeout (that one needs virtual time to pass)."""
STALL_LIMIT = 5.0
"""Real seconds after which the driver lets time pass with requests on the
wire anyway, rather than wait for ever (a busy machine takes far less)."""


class Driver:
    """Knows what is under way, and moves virtual time when nothing is."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Drive ``hass``'s loop and the virtual clocks of the test."""
        self.hass = hass
        self.loop = hass.loop
        self.virtual: VirtualTime = hass.data[TIME_TRAVEL_KEY]
        # Jumps of the virtual clock inside a callback are no slow callbacks,
        # and the debug mode's stack of every callback would cost most of the
        # time of a test that runs hours of meter polls.
        self.loop.slow_callback_duration = 1e9
        self.loop.set_debug(False)
        self._sending: dict[asyncio.Task[Any] | None, asyncio.Future[None]] = {}
        self._recorder: set[asyncio.Future[Any]] = set()
        self._instance: Any = None
        self.holding: Callable[[], bool] = lambda: False
        """Whether the device holds a request until its timeout."""

    @contextmanager
    def watch(self) -> Generator[None]:
        """Count requests on the wire (budget slot granted, answer not yet read)."""
        sending: dict[asyncio.Task[Any] | None, asyncio.Future[None]] = {}
        self._sending = sending
        acquire, send = RequestBudget.acquire, WattwaechterClient._send

        async def watched_acquire(budget: RequestBudget, *args: Any) -> None:
            await acquire(budget, *args)
            sending[asyncio.current_task()] = self.loop.create_future()

        async def watched_send(client: WattwaechterClient, *args: Any) -> Any:
            try:
                return await send(client, *args)
            finally:
                if (done := sending.pop(asyncio.current_task(), None)) is not None:
                    done.set_result(None)

        with (
            patch.object(RequestBudget, "acquire", watched_acquire),
            patch.object(WattwaechterClient, "_send", watched_send),
        ):
            yield

    def watch_recorder(self, instance: Any) -> None:
        """Count the recorder instance's executor jobs and queue waits."""
        self._instance = instance
        job, block = instance.async_add_executor_job, instance.async_block_till_done

        def watched_job(*args: Any) -> asyncio.Future[Any]:
            future = job(*args)
            self._recorder.add(future)
            future.add_done_callback(self._recorder.discard)
            return future

        async def watched_block() -> None:
            future = asyncio.ensure_future(block())
            self._recorder.add(future)
            future.add_done_callback(self._recorder.discard)
            await future

        instance.async_add_executor_job = watched_job
        instance.async_block_till_done = watched_block

    async def settle(self) -> None:
        """Let requests on the wire, the recorder and ready callbacks finish."""
        if self._instance is None and "recorder" in self.hass.config.components:
            self.watch_recorder(get_instance(self.hass))
        for _ in range(1000):
            await asyncio.sleep(0)
            if self._recorder:
                await asyncio.wait(set(self._recorder))
                continue
            if self._sending and not await self._answered():
                return  # held until a timeout: time has to pass
            if not self.loop._ready:  # type: ignore[attr-defined]
                return

    async def _answered(self) -> bool:
        """Wait for one request on the wire to be answered; False if it is held."""
        for _ in range(round(STALL_LIMIT / HANG_GRACE)):
            waiting = set(self._sending.values())
            done, _ = await asyncio.wait(waiting, timeout=HANG_GRACE)
            if done or not self._sending:
                return True
            if self.holding():
                return False
        return False

    def _next_timer(self) -> float | None:
        scheduled = self.loop._scheduled  # type: ignore[attr-defined]
        return min((h.when() for h in scheduled if not h.cancelled()), default=None)

    async def run_until(self, done: Callable[[], bool], limit: float = 7200.0) -> float:
        """Move time from timer to timer until ``done()``; return the seconds."""
        began = self.loop.time()
        while True:
            await self.settle()
            if done():
                return self.loop.time() - began
            now = self.loop.time()
            if now - began > limit:
                raise AssertionError(f"not done within {limit} virtual seconds")
            due = self._next_timer()
            step = 1.0 if due is None else min(max(due - now, 0.0) + 1e-3, limit)
            self.virtual.tick(step)

    async def run_for(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass, handling every timer on the way."""
        end = self.loop.time() + seconds
        while True:
            await self.settle()
            now = self.loop.time()
            if now >= end:
                return
            due = self._next_timer()
            target = end if due is None else min(end, max(due, now) + 1e-3)
            self.virtual.tick(target - now)

    async def run(self, awaitable: Awaitable[T], limit: float = 7200.0) -> T:
        """Run ``awaitable`` (a service call, an import) while time moves."""
        task = asyncio.ensure_future(awaitable)
        await self.run_until(task.done, limit)
        return task.result()
