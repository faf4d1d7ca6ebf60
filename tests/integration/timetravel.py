"""Virtual time for tests that talk real HTTP to the simulator.

freezegun freezes the event loop's clock, which stalls the timers aiohttp
needs for real sockets. Instead Home Assistant's clocks (the loop's and
``dt_util.utcnow``) and the simulator's run at real speed plus an offset that
tests move forward: timers fire as if that much time had passed, and sockets
keep working.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import time
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

TIME_TRAVEL_KEY = "wattwaechter_test_time_travel"


class VirtualTime:
    """Real time plus an offset, for the event loop, HA's date and the simulator."""

    def __init__(self, loop: asyncio.AbstractEventLoop, start: float | None) -> None:
        """Hook into the clocks; ``start`` (epoch seconds) is where time begins."""
        self.offset = 0.0 if start is None else start - time.time()
        # The loop's clock keeps its own origin (a start in the past would
        # make it negative, and HA's int() of it would round timers up).
        self._loop_origin = self.offset
        self._loop = loop
        self._real_loop_time = loop.time
        loop.time = self._loop_time  # type: ignore[method-assign]
        self._utcnow = patch("homeassistant.util.dt.utcnow", self.utcnow)
        self._utcnow.start()

    def _loop_time(self) -> float:
        return self._real_loop_time() + self.offset - self._loop_origin

    def clock(self) -> float:
        """Return the virtual wall-clock time (epoch seconds)."""
        return time.time() + self.offset

    def utcnow(self) -> datetime:
        """Return the virtual wall-clock time as HA's ``dt_util.utcnow`` does."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def tick(self, delta: timedelta | float = 1.0) -> None:
        """Move time forward."""
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else delta
        self.offset += seconds

    def restore(self) -> None:
        """Give the clocks back."""
        self._utcnow.stop()
        del self._loop.time  # type: ignore[attr-defined]


async def advance(hass: HomeAssistant, seconds: float = 0.0) -> None:
    """Move the virtual clocks and run every timer that became due."""
    virtual: VirtualTime = hass.data[TIME_TRAVEL_KEY]
    virtual.tick(seconds)
    # Timers are due by the loop's (virtual) clock: fire those, no others.
    async_fire_time_changed(hass, datetime.fromtimestamp(time.time(), UTC))
    await hass.async_block_till_done(wait_background_tasks=True)
