"""The per-device request budget every request to one device passes.

The device accepts 25 requests per 10 s for all clients together (its web UI,
the vendor app, and us) and answers 429 beyond that. The client asks the gate
for a slot before each request and reports 429/503 back to it, so one
``RequestBudget`` per device keeps all of the integration's traffic to that
device, from every entry, coordinator and entity, well below the limit.

How a request gets its slot:

* A sliding window allows at most ``limit`` requests in any ``window`` seconds
  (default 10 in 10 s: under half of the device's limit). A slot frees
  ``margin`` seconds after the window, for the jitter of the transit time.
* Waiting requests are served by priority (``Priority``), FIFO within one.
  Lower priorities also leave headroom: backfill may fill the window only up
  to ``limit - 5``, system/OTA checks up to ``limit - 3``, meter polls up to
  ``limit - 2``; user actions may use every slot. So a button press finds a
  free slot even while a history import is running.
* ``pause(seconds)`` (a 429 or 503 with ``Retry-After``) holds back every
  request until the pause is over.
* Time-bounded priorities fail fast with ``WattwaechterBudgetError`` instead
  of sleeping: an action gets its slot within ``action_wait`` seconds (default
  3) or fails at once; a meter poll gets its slot within ``meter_wait``
  seconds or fails at once (the coordinator tries again at its next
  interval). Both wait out a pause that ends within their time, so a poll
  that falls just before the end of the device's Retry-After is not lost.
  System info, OTA checks and backfill wait as long as it takes.
* ``request_cause("action")`` around an entity action makes every request
  inside it (also in coordinator refreshes the action awaits) an action, so
  nothing in an action waits longer than ``action_wait``; grants are counted
  per cause (action, setup, restart, backfill, polling) for diagnostics and
  the benchmark.

Clocks. The budget reads time from an injectable ``Clock`` that also sets the
timers waiters sleep on. The default ``LoopClock`` is the running event loop's
own clock, so the window, the pauses and the timers can never disagree: in
production that is ``time.monotonic``; in tests that move the loop's clock
(virtual time, or freezegun, which patches ``time.monotonic`` under the loop)
the budget moves with everything else and no real time has to pass. Nothing
polls: a waiter sleeps on one timer set for the moment the window or the pause
lets it through, and the fail-fast decision is clock arithmetic made when the
request arrives. If an injected clock ever stands still while timers run, a
bounded waiter (an action, a meter poll) still fails when its own deadline
timer fires, so it cannot wait forever.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import IntEnum
import functools
import heapq
import itertools
import time
from typing import Protocol

from .errors import WattwaechterBudgetError, WattwaechterBudgetPausedError

DEFAULT_LIMIT = 10
"""Requests allowed in any ``DEFAULT_WINDOW`` (the device allows 25)."""
DEFAULT_WINDOW = 10.0
DEFAULT_MARGIN = 0.25
"""Seconds a request stays in the window beyond ``window``.

The budget counts a request when it is sent, the device when it arrives. A
margin longer than the jitter of the transit time keeps the two counts equal:
ten requests sent in ten seconds never arrive within less.
"""
DEFAULT_ACTION_WAIT = 3.0
"""Longest wait for a user action before it fails fast."""
DEFAULT_METER_WAIT = 5.0
"""Longest wait for a meter poll before the update fails."""
# Never arm a timer shorter than this, so rounding cannot make a busy loop.
_MIN_DELAY = 0.01


class Priority(IntEnum):
    """Who is asking; lower values are served first."""

    ACTION = 0
    METER = 1
    SYSTEM = 2
    OTA = 3
    BACKFILL = 4


CAUSE_ACTION = "action"
"""Requests for a user action (and whatever the action awaits)."""
CAUSE_RESTART = "restart"
"""Re-reads after the device restarted."""
CAUSE_BACKFILL = "backfill"
"""The history import (a one-off catch-up, then one request an hour)."""
CAUSE_SETUP = "setup"
"""The first reads of an entry's setup, which the user waits for: served like
an action (the whole window) but without a deadline, so a device the config
flow just probed is set up at once, and a reload waits instead of failing."""
CAUSE_POLLING = "polling"
"""Everything else: the coordinators' regular updates."""

_CAUSE: ContextVar[str | None] = ContextVar("wattwaechter_request_cause", default=None)


@contextmanager
def request_cause(cause: str) -> Iterator[None]:
    """Tag the requests made inside, and in tasks started inside, with ``cause``.

    The budget counts its grants per cause. Requests for a user action
    (``CAUSE_ACTION``) are also served as ``Priority.ACTION`` whatever priority
    the caller passed: a coordinator refresh an action awaits then fails fast
    too, instead of waiting behind background work. ``CAUSE_SETUP`` is served
    as ``Priority.ACTION`` too, but waits as long as it takes.
    """
    token = _CAUSE.set(cause)
    try:
        yield
    finally:
        _CAUSE.reset(token)


DEFAULT_HEADROOM: Mapping[Priority, int] = {
    Priority.ACTION: 0,
    Priority.METER: 2,
    Priority.SYSTEM: 3,
    Priority.OTA: 3,
    Priority.BACKFILL: 5,
}
"""Slots of the window a priority must leave free for the ones above it."""


class RequestGate(Protocol):
    """What the client needs from a request budget."""

    async def acquire(self, priority: Priority) -> None:
        """Wait for a slot; raise WattwaechterRetryLaterError if none comes in time."""

    def pause(self, seconds: float) -> None:
        """Hold back all traffic to the device for ``seconds`` (429/503 Retry-After)."""


class Timer(Protocol):
    """A scheduled callback that can be cancelled."""

    def cancel(self) -> None:
        """Do not run the callback."""


class Clock(Protocol):
    """The budget's time source and the timers waiters sleep on."""

    def now(self) -> float:
        """Return the current time in seconds."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` after ``delay`` seconds of this clock."""


class LoopClock:
    """The running event loop's clock and timers (``time.monotonic`` outside a loop)."""

    def now(self) -> float:
        """Return the event loop's time."""
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:
            return time.monotonic()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Schedule ``callback`` on the running event loop."""
        return asyncio.get_running_loop().call_later(delay, callback)


@dataclass(order=True)
class _Waiter:
    """One request waiting for a slot; ordered by priority, then arrival."""

    priority: Priority
    seq: int
    future: asyncio.Future[None] = field(compare=False)
    deadline: float | None = field(compare=False, default=None)
    cause: str = field(compare=False, default=CAUSE_POLLING)


@dataclass
class BudgetStats:
    """Counters for diagnostics and the benchmark."""

    granted: dict[Priority, int] = field(
        default_factory=lambda: dict.fromkeys(Priority, 0)
    )
    rejected: dict[Priority, int] = field(
        default_factory=lambda: dict.fromkeys(Priority, 0)
    )
    waited: int = 0
    """Requests that did not get a slot at once."""
    pauses: int = 0
    """Pauses the device asked for (429/503)."""
    peak: int = 0
    """Most slots ever in use in one window."""
    by_cause: dict[str, int] = field(default_factory=dict)
    """Granted requests per cause (see ``request_cause``)."""


class RequestBudget:
    """A sliding-window request budget with priorities, pauses and fail-fast."""

    def __init__(
        self,
        limit: int = DEFAULT_LIMIT,
        window: float = DEFAULT_WINDOW,
        *,
        action_wait: float = DEFAULT_ACTION_WAIT,
        meter_wait: float = DEFAULT_METER_WAIT,
        margin: float = DEFAULT_MARGIN,
        headroom: Mapping[Priority, int] | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Allow ``limit`` requests in any ``window`` seconds."""
        if limit < 1 or window <= 0 or margin < 0:
            raise ValueError("limit must be >= 1, window > 0 and margin >= 0")
        self.limit = limit
        self.window = window
        self.margin = margin
        # How long a sent request occupies its slot.
        self._hold = window + margin
        self._clock: Clock = clock or LoopClock()
        headroom = DEFAULT_HEADROOM if headroom is None else headroom
        # The window fill up to which each priority may go. Kept monotone, so
        # when the first waiter in line cannot go, nobody behind it can.
        caps: dict[Priority, int] = {}
        cap = limit
        for priority in Priority:
            cap = min(cap, max(1, limit - headroom.get(priority, 0)))
            caps[priority] = cap
        self._caps = caps
        self._max_wait: dict[Priority, float] = {
            Priority.ACTION: action_wait,
            Priority.METER: meter_wait,
        }
        self._sent: deque[float] = deque()
        self._paused_until = float("-inf")
        self._waiters: list[_Waiter] = []
        self._seq = itertools.count()
        self._timer: Timer | None = None
        self._closed = False
        self.stats = BudgetStats()

    # -- public ---------------------------------------------------------------

    def cap(self, priority: Priority) -> int:
        """Return how full the window may get for a request of ``priority``."""
        return self._caps[priority]

    @property
    def paused_for(self) -> float:
        """Return the seconds left of the current pause (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock.now())

    def in_window(self) -> int:
        """Return the requests sent within the last ``window`` seconds."""
        self._prune(self._clock.now())
        return len(self._sent)

    async def acquire(self, priority: Priority) -> None:
        """Wait for a slot for one request, or raise WattwaechterBudgetError."""
        if self._closed:
            raise WattwaechterBudgetError("request budget closed", 0.0)
        # Outside ``request_cause`` a request asked as an action (a config
        # flow's probe, say) is counted as one.
        cause = _CAUSE.get() or (
            CAUSE_ACTION if priority is Priority.ACTION else CAUSE_POLLING
        )
        if cause in (CAUSE_ACTION, CAUSE_SETUP):
            priority = Priority.ACTION
        now = self._clock.now()
        self._prune(now)
        max_wait = None if cause == CAUSE_SETUP else self._max_wait.get(priority)
        if max_wait is not None:
            wait = self._estimate_ready(priority, now) - now
            if wait > max_wait:
                raise self._reject(priority, now, wait)
        waiter = _Waiter(
            priority,
            next(self._seq),
            asyncio.get_running_loop().create_future(),
            None if max_wait is None else now + max_wait,
            cause,
        )
        heapq.heappush(self._waiters, waiter)
        self._dispatch()
        if waiter.future.done():
            waiter.future.result()  # raises when the waiter was refused
            return
        self.stats.waited += 1
        deadline: Timer | None = None
        if max_wait is not None:
            deadline = self._clock.call_later(
                max_wait, functools.partial(self._expire, waiter)
            )
        try:
            await waiter.future
        finally:
            if deadline is not None:
                deadline.cancel()
            if waiter.future.cancelled():
                # The caller was cancelled: the next in line may take its turn.
                self._dispatch()

    def pause(self, seconds: float) -> None:
        """Hold back every request for ``seconds`` (the device's Retry-After)."""
        now = self._clock.now()
        self.stats.pauses += 1
        self._paused_until = max(self._paused_until, now + max(0.0, seconds))
        for waiter in self._live_waiters():
            if waiter.deadline is not None and self._paused_until > waiter.deadline:
                self.stats.rejected[waiter.priority] += 1
                waiter.future.set_exception(
                    WattwaechterBudgetPausedError(
                        "device asked to pause requests", self._paused_until - now
                    )
                )
        self._dispatch()

    def fail_waiting(self) -> None:
        """Fail every request waiting for a slot (their caller is gone)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for waiter in self._live_waiters():
            waiter.future.set_exception(
                WattwaechterBudgetError("request budget closed", 0.0)
            )
        self._waiters.clear()

    def close(self) -> None:
        """Fail every waiting request and refuse new ones (the device is gone)."""
        self._closed = True
        self.fail_waiting()

    # -- internals -----------------------------------------------------------

    def _prune(self, now: float) -> None:
        """Forget requests that left the window."""
        while self._sent and self._sent[0] <= now - self._hold:
            self._sent.popleft()

    def _live_waiters(self) -> list[_Waiter]:
        """Return the waiters still waiting, in no particular order."""
        return [w for w in self._waiters if not w.future.done()]

    def _estimate_ready(self, priority: Priority, now: float) -> float:
        """Return when a request of ``priority`` arriving now would get its slot.

        Counts the waiters that would be served first (same or higher
        priority) and assumes nothing else arrives.
        """
        ahead = sum(1 for w in self._live_waiters() if w.priority <= priority)
        # Slots that must leave the window before this request fits under its cap.
        expire = len(self._sent) + ahead + 1 - self._caps[priority]
        ready = max(now, self._paused_until)
        if expire <= 0:
            return ready
        if expire <= len(self._sent):
            return max(ready, self._sent[expire - 1] + self._hold)
        return max(ready, now + self._hold)

    def _reject(
        self, priority: Priority, now: float, wait: float
    ) -> WattwaechterBudgetError:
        """Count and return the fail-fast error for a request that must wait."""
        self.stats.rejected[priority] += 1
        if now < self._paused_until and self._paused_until - now >= wait:
            return WattwaechterBudgetPausedError("device asked to pause requests", wait)
        return WattwaechterBudgetError(
            f"request budget of {self.limit} per {self.window:g} s used up", wait
        )

    def _dispatch(self) -> None:
        """Give free slots to the waiters in priority order; re-arm the timer."""
        if self._closed:
            return
        now = self._clock.now()
        self._prune(now)
        while self._waiters:
            head = self._waiters[0]
            if head.future.done():
                heapq.heappop(self._waiters)
                continue
            if now < self._paused_until or len(self._sent) >= self._caps[head.priority]:
                break
            heapq.heappop(self._waiters)
            self._sent.append(now)
            self.stats.granted[head.priority] += 1
            self.stats.by_cause[head.cause] = self.stats.by_cause.get(head.cause, 0) + 1
            self.stats.peak = max(self.stats.peak, len(self._sent))
            head.future.set_result(None)
        self._arm(now)

    def _arm(self, now: float) -> None:
        """Set the one timer for when the first waiter in line may go."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._waiters:
            return
        head = self._waiters[0]
        if now < self._paused_until:
            at = self._paused_until
        else:
            # The window is at the head's cap: wait for enough slots to expire.
            index = len(self._sent) - self._caps[head.priority]
            at = self._sent[index] + self._hold
        self._timer = self._clock.call_later(max(at - now, _MIN_DELAY), self._on_timer)

    def _on_timer(self) -> None:
        """Serve the waiters the window or the end of the pause lets through."""
        self._timer = None
        self._dispatch()

    def _expire(self, waiter: _Waiter) -> None:
        """Fail a bounded waiter whose time is up (unless a slot is free now)."""
        self._dispatch()
        if waiter.future.done():
            return
        now = self._clock.now()
        wait = self._estimate_ready(waiter.priority, now) - now
        waiter.future.set_exception(self._reject(waiter.priority, now, wait))
        self._dispatch()
