"""The device-wide sliding-window rate limit (25 requests / 10 s)."""

from __future__ import annotations

from collections import deque


class SlidingWindow:
    """Counts accepted requests over the last ``window`` seconds."""

    def __init__(self) -> None:
        """Start with an empty window."""
        self._accepted: deque[float] = deque()

    def _prune(self, now: float, window: float) -> None:
        """Forget requests that left the window (or lie after ``now``)."""
        while self._accepted and self._accepted[0] <= now - window:
            self._accepted.popleft()
        # The clock may have been moved backwards by a test.
        while self._accepted and self._accepted[-1] > now:
            self._accepted.pop()

    def allows(self, now: float, limit: int, window: float) -> bool:
        """Return True when one more request fits into the window."""
        self._prune(now, window)
        return len(self._accepted) < limit

    def record(self, now: float) -> None:
        """Count one accepted request at ``now``."""
        self._accepted.append(now)

    def count(self, now: float, window: float) -> int:
        """Return the number of accepted requests in the window at ``now``."""
        self._prune(now, window)
        return len(self._accepted)

    def reset(self) -> None:
        """Forget every request (the device rebooted)."""
        self._accepted.clear()
