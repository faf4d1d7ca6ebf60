"""Virtual time for tests that talk real HTTP to the simulator.

freezegun freezes the event loop's clock, which stalls the timers aiohttp
needs for real sockets. Instead, the loop's clock (and the simulator's) run
at real speed plus an offset that tests move forward: scheduled Home Assistant
timers fire as if that much time had passed, and sockets keep working.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import time

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

TIME_TRAVEL_KEY = "wattwaechter_test_time_travel"


class VirtualTime:
    """Real time plus an offset, for the event loop and the simulator."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hook into the loop's clock."""
        self.offset = 0.0
        self._wall_start = time.time()
        self._loop = loop
        self._real_loop_time = loop.time
        loop.time = self._loop_time  # type: ignore[method-assign]

    def _loop_time(self) -> float:
        return self._real_loop_time() + self.offset

    def clock(self) -> float:
        """Return the simulator's wall-clock time (epoch seconds)."""
        return time.time() + self.offset

    def ticks_only_clock(self) -> float:
        """Return a wall-clock time that only ticks move, never real time.

        For tests that race the simulator's rate-limit window against another
        client: on a busy machine the real time a test spends must not let
        that window slide on its own.
        """
        return self._wall_start + self.offset

    def tick(self, delta: timedelta | float = 1.0) -> None:
        """Move time forward (freezegun's ``tick`` signature)."""
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else delta
        self.offset += seconds

    def restore(self) -> None:
        """Give the loop its real clock back."""
        del self._loop.time  # type: ignore[attr-defined]


async def run_due(hass: HomeAssistant) -> None:
    """Run every timer that is due now (HA adds up to 0.5 s of jitter)."""
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
