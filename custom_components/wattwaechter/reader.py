"""Reads one device's history at background priority, riding out failures.

A failed request is asked again after a growing pause, or as soon as the meter
is back; nothing is sent while the meter does not vouch for the device.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from datetime import date, timedelta
import logging
from typing import Final

from homeassistant.core import callback

from .api.budget import Priority
from .api.client import WattwaechterClient
from .api.errors import (
    WattwaechterBadResponseError,
    WattwaechterConnectionError,
    WattwaechterRetryLaterError,
)
from .api.history_items import HighResItem, LowResItem

_LOGGER = logging.getLogger(__name__)

FIRST_RETRY: Final = 2.0
MAX_RETRY: Final = 300.0
MAX_FAILURES: Final = 3  # bad answers before a request is skipped (for this run)
TRUST: Final = 300.0  # seconds a check of who answers at the address holds


class NotOurDeviceError(Exception):
    """Another device answers at the address: its history is not read."""


class HistoryReader:
    """Reads the device's history; counts the requests it sends."""

    def __init__(
        self,
        client: WattwaechterClient,
        ready: Callable[[], bool],
        identify: Callable[[], Awaitable[bool]],
    ) -> None:
        """Read while ``ready()``; ``identify()`` tells whether our device answers."""
        self._client = client
        self._ready = ready
        self._identify = identify
        self._trusted_until = float("-inf")
        self._wake = asyncio.Event()
        self.requests = 0

    async def ours(self) -> bool:
        """Return whether our device answers (another may take the address)."""
        loop = asyncio.get_running_loop()
        if loop.time() >= self._trusted_until and await self._fetch(self._identify):
            self._trusted_until = loop.time() + TRUST
        return loop.time() < self._trusted_until

    @callback
    def wake(self) -> None:
        """End a pause now: the device is back."""
        self._wake.set()

    async def high_res(self, day: date) -> tuple[HighResItem, ...] | None:
        """Return a day's 15-minute slots; None when the device kept failing."""
        return await self._fetch(self._client.high_res, day, Priority.BACKGROUND)

    async def low_res(self, first: date, last: date) -> tuple[LowResItem, ...]:
        """Return the daily values from ``first`` to ``last`` that the device has.

        It refuses a range that starts before its memory: bisect for its first day.
        """
        days = (last - first).days + 1
        if (items := await self._low_res(first, days)) or days == 1:
            return items
        if not await self._low_res(last, 1):
            return ()
        low, high = first + timedelta(days=1), last
        while low < high:
            middle = low + timedelta(days=(high - low).days // 2)
            if await self._low_res(middle, 1):
                high = middle
            else:
                low = middle + timedelta(days=1)
        return await self._low_res(low, (last - low).days + 1)

    async def _low_res(self, first: date, days: int) -> tuple[LowResItem, ...]:
        items = await self._fetch(
            self._client.low_res, first, days, Priority.BACKGROUND
        )
        return items or ()

    async def _fetch[**P, T](
        self, request: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T | None:
        delay, failures = FIRST_RETRY, 0
        while True:
            wait = delay
            if self._ready():
                self.requests += 1
                try:
                    return await request(*args, **kwargs)
                except WattwaechterRetryLaterError as err:
                    wait = max(delay, err.retry_after)
                except WattwaechterConnectionError:
                    pass
                except WattwaechterBadResponseError as err:
                    failures += 1
                    if failures >= MAX_FAILURES:
                        _LOGGER.debug("Skipping a history request: %s", err)
                        return None
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            delay = min(delay * 2, MAX_RETRY)
