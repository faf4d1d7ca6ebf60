"""The request budget every request to one device passes.

The device takes 25 requests per 10 s from all its clients together (web UI,
vendor app, us) and answers 429 beyond. In our sliding window each priority
sends only while the window holds fewer than its cap, so lower priorities leave
room for higher ones and five requests stay free for other clients. A 429 or
503 pauses what it answered (background work only, or everything) and lowers
the background cap to what the device took, creeping back one a minute.
Time is the running event loop's clock, so tests that move it move the budget.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum
import heapq
import itertools
from typing import Final

from .errors import WattwaechterBudgetError

WINDOW: Final = 10.0
MARGIN: Final = 0.25
"""Seconds a request stays counted beyond the window, for transit jitter."""
CAP_RECOVERY: Final = 60.0
"""Seconds after which a lowered background cap grows by one."""


class Priority(IntEnum):
    """Who is asking; lower values are served first."""

    ACTION = 0
    METER = 1
    SYSTEM = 2
    BACKGROUND = 3


CAPS: Final = {
    Priority.ACTION: 20,
    Priority.METER: 10,
    Priority.SYSTEM: 8,
    Priority.BACKGROUND: 5,
}
"""The window fill up to which a priority may send."""
MAX_WAIT: Final = {Priority.ACTION: 3.0, Priority.METER: 5.0}
"""Longest wait before these priorities fail; the others wait their turn."""


@dataclass
class BudgetStats:
    """Counters for diagnostics and the benchmark."""

    granted: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    longest_wait: dict[str, float] = field(default_factory=dict)
    pauses: int = 0
    peak: int = 0


@dataclass(order=True)
class _Waiter:
    priority: Priority
    seq: int
    future: asyncio.Future[None] = field(compare=False)


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


class RequestBudget:
    """A sliding-window budget with priorities, pauses and fail-fast."""

    def __init__(self) -> None:
        """Start with an empty window."""
        self._sent: deque[float] = deque()
        self._polls: deque[float] = deque()
        self._paused_until = float("-inf")
        self._background_until = float("-inf")
        self._background_cap = CAPS[Priority.BACKGROUND]
        self._lowered_at = float("-inf")
        self._waiters: list[_Waiter] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self.stats = BudgetStats()

    def in_window(self) -> int:
        """Return the requests counted in the window now."""
        self._prune(_loop_time())
        return len(self._sent)

    def paused_for(self, priority: Priority = Priority.ACTION) -> float:
        """Return the seconds left of a pause that holds ``priority`` back."""
        return max(0.0, self._resume_at(priority) - _loop_time())

    async def acquire(self, priority: Priority) -> None:
        """Wait for a slot, or raise WattwaechterBudgetError."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        max_wait = MAX_WAIT.get(priority)
        if max_wait is not None:
            wait = self._ready_at(priority, began) - began
            if wait > max_wait:
                raise self._refuse(priority, wait)
        waiter = _Waiter(priority, next(self._seq), loop.create_future())
        heapq.heappush(self._waiters, waiter)
        self._dispatch()
        try:
            if not waiter.future.done():  # no timer when a slot is free at once
                async with asyncio.timeout(max_wait):
                    await waiter.future
        except TimeoutError:
            if waiter.future.cancelled() or not waiter.future.done():
                now = loop.time()
                wait = self._ready_at(priority, now) - now
                raise self._refuse(priority, wait) from None
            # The slot came in the same instant the wait ran out: it is taken.
        finally:
            if not waiter.future.done():
                waiter.future.cancel()
                self._dispatch()
        name = priority.name.lower()
        waited = loop.time() - began
        self.stats.longest_wait[name] = max(
            waited, self.stats.longest_wait.get(name, 0.0)
        )

    def pause(self, seconds: float, priority: Priority, *, full: bool = True) -> None:
        """Back off after the device answered ``priority`` with 429 or 503.

        ``full`` (a 429) says the device's window was full: the background cap
        then drops to what it took. A 503 (low memory) says nothing of that.
        """
        now = _loop_time()
        self.stats.pauses += 1
        until = now + max(0.0, seconds)
        if priority is Priority.BACKGROUND:
            self._background_until = max(self._background_until, until)
        else:
            self._paused_until = max(self._paused_until, until)
        if full:
            self._prune(now)
            # The device was full with this many of ours (the refused one aside).
            self._background_cap = max(1, min(self._cap(now), len(self._sent) - 2))
            self._lowered_at = now
        self._dispatch()

    def close(self) -> None:
        """Fail the waiting requests and stop the timer (the entry unloads)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.set_exception(WattwaechterBudgetError("closed", 0.0))
        self._waiters.clear()

    def _cap(self, now: float) -> int:
        """Return the background cap at ``now`` (it creeps back after a 429)."""
        if self._background_cap >= CAPS[Priority.BACKGROUND]:
            return self._background_cap
        recovered = int((now - self._lowered_at) // CAP_RECOVERY)
        return min(CAPS[Priority.BACKGROUND], self._background_cap + recovered)

    def _limit(self, priority: Priority, now: float) -> int:
        # A meter poll's successor comes 10 s later, when the device may still
        # count the first: background work keeps that slot free.
        if priority is Priority.BACKGROUND:
            return max(1, self._cap(now) - (1 if self._polls else 0))
        return CAPS[priority]

    def _resume_at(self, priority: Priority) -> float:
        if priority is Priority.BACKGROUND:
            return max(self._paused_until, self._background_until)
        return self._paused_until

    def _prune(self, now: float) -> None:
        for sent in (self._sent, self._polls):
            while sent and sent[0] <= now - WINDOW - MARGIN:
                sent.popleft()

    def _ready_at(self, priority: Priority, now: float) -> float:
        """Return when a request of ``priority`` asked now would be sent."""
        self._prune(now)
        ahead = sum(
            1 for w in self._waiters if not w.future.done() and w.priority <= priority
        )
        excess = len(self._sent) + ahead + 1 - self._limit(priority, now)
        ready = max(now, self._resume_at(priority))
        if excess <= 0:
            return ready
        if excess <= len(self._sent):
            return max(ready, self._sent[excess - 1] + WINDOW + MARGIN)
        return max(ready, now + WINDOW + MARGIN)

    def _refuse(self, priority: Priority, wait: float) -> WattwaechterBudgetError:
        name = priority.name.lower()
        self.stats.refused[name] = self.stats.refused.get(name, 0) + 1
        return WattwaechterBudgetError("no request slot free in time", max(wait, 0.0))

    def _dispatch(self) -> None:
        """Send the waiters the window and the pauses let through, in order."""
        now = _loop_time()
        self._prune(now)
        while self._waiters:
            head = self._waiters[0]
            if head.future.done():
                heapq.heappop(self._waiters)
                continue
            paused = now < self._resume_at(head.priority)
            if paused or len(self._sent) >= self._limit(head.priority, now):
                break
            heapq.heappop(self._waiters)
            self._sent.append(now)
            if head.priority is Priority.METER:
                self._polls.append(now)
            name = head.priority.name.lower()
            self.stats.granted[name] = self.stats.granted.get(name, 0) + 1
            self.stats.peak = max(self.stats.peak, len(self._sent))
            head.future.set_result(None)
        self._arm(now)

    def _arm(self, now: float) -> None:
        """Set the one timer for when the first waiter in line may go."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        live = [w for w in self._waiters if not w.future.done()]
        if not live:
            return
        head = min(live)
        at = resume = self._resume_at(head.priority)
        excess = len(self._sent) - self._limit(head.priority, now)
        if excess >= 0:
            at = max(at, self._sent[excess] + WINDOW + MARGIN)
        if (
            head.priority is Priority.BACKGROUND
            and self._cap(now) < CAPS[head.priority]
        ):
            steps = (now - self._lowered_at) // CAP_RECOVERY + 1
            at = min(at, max(self._lowered_at + steps * CAP_RECOVERY, resume))
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(max(at, now + 0.01), self._dispatch)
