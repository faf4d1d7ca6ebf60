"""Moving virtual time while long work runs beside it.

``timetravel.advance`` waits for every task, as ``async_block_till_done``
does. The history import, a firmware update and any request waiting for its
slot in the budget wait for the loop's (virtual) clock; waiting for them
would wait that long in real time. ``step`` moves the clock and waits until
only the clock can move things: every task is done or waits for a timer or a
budget slot, and no request is on its way to a device (``track``). The long
work then goes on as its timers come due, at the pace it would have in real
time.
"""

from __future__ import annotations

import asyncio
from asyncio import FIRST_COMPLETED
from collections.abc import Iterable
import time
from types import TracebackType
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from custom_components.wattwaechter.const import DOMAIN

from .timetravel import TIME_TRAVEL_KEY, VirtualTime

IMPORT_TASK = f"{DOMAIN} history import"
IN_FLIGHT_KEY = "wattwaechter_test_in_flight"
OVERHEAD = [0.0]
"""CPU seconds (this thread) the stepping itself spent looking at tasks and
timers: the benchmark subtracts it."""


class InFlight:
    """Counts the requests on their way to the devices."""

    def __init__(self) -> None:
        """Start with none."""
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def begin(self) -> None:
        """Note a request sent."""
        self.count += 1
        self._idle.clear()

    def end(self) -> None:
        """Note a request answered (or failed)."""
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def wait(self) -> None:
        """Wait until no request is on its way."""
        await self._idle.wait()


class _Tracked:
    """One request's context manager, counted while it is open."""

    def __init__(self, manager: Any, flight: InFlight) -> None:
        self._manager = manager
        self._flight = flight

    async def __aenter__(self) -> Any:
        self._flight.begin()
        try:
            return await self._manager.__aenter__()
        except BaseException:
            self._flight.end()
            raise

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> Any:
        try:
            return await self._manager.__aexit__(kind, error, traceback)
        finally:
            self._flight.end()


class _CountingSession:
    """An aiohttp session whose requests are counted while on their way."""

    def __init__(self, session: Any, flight: InFlight) -> None:
        self._session = session
        self._flight = flight

    def request(self, *args: Any, **kwargs: Any) -> _Tracked:
        return _Tracked(self._session.request(*args, **kwargs), self._flight)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def track(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Count the requests of ``entry``'s client, so ``step`` waits for them."""
    flight: InFlight = hass.data.setdefault(IN_FLIGHT_KEY, InFlight())
    client = entry.runtime_data.client
    client._session = _CountingSession(client._session, flight)


def running(hass: HomeAssistant) -> set[asyncio.Task[Any]]:
    """Return Home Assistant's unfinished tasks, background ones included."""
    tasks = (*hass._tasks, *hass._background_tasks)
    return {task for task in tasks if not task.done()}


def imports(hass: HomeAssistant) -> set[asyncio.Task[Any]]:
    """Return the running history imports."""
    return {
        task
        for task in running(hass)
        if isinstance(task, asyncio.Task) and task.get_name().startswith(IMPORT_TASK)
    }


def _waiting_for_time(hass: HomeAssistant) -> set[asyncio.Future[Any]]:
    """Return the futures that only the loop's clock resolves.

    Those of the request budgets (a request waiting for its slot) and those
    of ``asyncio.sleep``: a task awaiting one is idle until time moves.
    """
    futures: set[asyncio.Future[Any]] = set()
    for entry in hass.config_entries.async_entries(DOMAIN):
        runtime = getattr(entry, "runtime_data", None)
        if runtime is not None:
            futures |= {w.future for w in runtime.client.budget._waiters}
    for handle in hass.loop._scheduled:  # type: ignore[attr-defined]
        if not handle.cancelled():
            futures |= {a for a in handle._args or () if isinstance(a, asyncio.Future)}
    return futures


def _busy(hass: HomeAssistant, skip: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    """Return the tasks that are working or waiting for something but time."""
    began = time.thread_time()
    idle = _waiting_for_time(hass)
    busy = {
        task
        for task in running(hass) - imports(hass) - skip
        if getattr(task, "_fut_waiter", None) not in idle
    }
    OVERHEAD[0] += time.thread_time() - began
    return busy


async def settle(hass: HomeAssistant, beside: Iterable[asyncio.Task[Any]] = ()) -> None:
    """Wait until only time can move things: no task busy, no request on its way.

    The imports and the ``beside`` tasks are not waited for, but their
    requests are.
    """
    skip = set(beside)
    flight: InFlight | None = hass.data.get(IN_FLIGHT_KEY)
    for _ in range(20_000):
        for _ in range(5):
            await asyncio.sleep(0)
        if busy := _busy(hass, skip):
            await asyncio.wait(busy, timeout=0.005, return_when=FIRST_COMPLETED)
        elif flight is not None and flight.count:
            await flight.wait()
        else:
            return
    names = sorted(task.get_name() for task in _busy(hass, skip))
    raise AssertionError(f"Home Assistant did not settle: {names}")


def _next_timer(hass: HomeAssistant, until: float) -> float | None:
    """Return when the loop's next timer is due, if it is due by ``until``."""
    began = time.thread_time()
    due = [
        handle.when()
        for handle in hass.loop._scheduled  # type: ignore[attr-defined]
        if not handle.cancelled() and handle.when() <= until
    ]
    OVERHEAD[0] += time.thread_time() - began
    return min(due, default=None)


async def step(
    hass: HomeAssistant, seconds: float, beside: Iterable[asyncio.Task[Any]] = ()
) -> None:
    """Move the virtual clocks by ``seconds``, from timer to timer.

    Each timer runs at its own time (and everything it starts settles before
    the next), so a poll every 10 s stays 10 s apart, as in real life.
    """
    virtual: VirtualTime = hass.data[TIME_TRAVEL_KEY]
    target = hass.loop.time() + seconds
    await settle(hass, beside)
    for _ in range(100_000):
        when = _next_timer(hass, target)
        if when is None:
            break
        virtual.tick(max(0.0, when - hass.loop.time()))
        await settle(hass, beside)
    else:
        raise AssertionError("timers keep coming due")
    virtual.tick(max(0.0, target - hass.loop.time()))
    await settle(hass, beside)


async def run_for(
    hass: HomeAssistant,
    seconds: float,
    every: float = 1.0,
    beside: Iterable[asyncio.Task[Any]] = (),
) -> None:
    """Move the clocks ``seconds`` on in steps of ``every``."""
    tasks = list(beside)
    elapsed = 0.0
    while elapsed < seconds:
        await step(hass, min(every, seconds - elapsed), tasks)
        elapsed += every
