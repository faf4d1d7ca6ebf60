"""Request priorities and the gate every request to one device passes.

The device accepts 25 requests per 10 s for all clients together. The client
asks its gate for a slot before each request and reports 429/503 back to it,
so one gate per device can keep the whole integration under that limit.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Protocol


class Priority(IntEnum):
    """Who is asking; lower values are served first."""

    ACTION = 0
    METER = 1
    SYSTEM = 2
    OTA = 3
    BACKFILL = 4


class RequestGate(Protocol):
    """What the client needs from a request budget."""

    async def acquire(self, priority: Priority) -> None:
        """Wait for a slot; raise WattwaechterRetryLaterError if none comes in time."""

    def pause(self, seconds: float) -> None:
        """Hold back all traffic to the device for ``seconds`` (429/503 Retry-After)."""
