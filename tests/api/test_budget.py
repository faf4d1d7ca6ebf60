"""The request budget, driven by a fake clock: priorities, window, pause, fail-fast."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
import heapq
import itertools
import time
from typing import Any

import pytest

from custom_components.wattwaechter.api import (
    CAUSE_ACTION,
    CAUSE_POLLING,
    CAUSE_RESTART,
    CAUSE_SETUP,
    LoopClock,
    Priority,
    RequestBudget,
    WattwaechterBudgetError,
    WattwaechterBudgetPausedError,
    WattwaechterRetryLaterError,
    request_cause,
)


@dataclass(order=True)
class FakeTimer:
    when: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock that moves only when told; its timers fire in time order.

    With ``stalled`` the time never moves but timers still fire: a patched
    ``time.monotonic`` under an event loop that keeps running.
    """

    def __init__(self, *, stalled: bool = False) -> None:
        self.base = 1000.0
        self.stalled = stalled
        self.elapsed = 0.0  # timer time, which moves even when stalled
        self._timers: list[FakeTimer] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self.base if self.stalled else self.base + self.elapsed

    def call_later(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(self.elapsed + delay, next(self._seq), callback)
        heapq.heappush(self._timers, timer)
        return timer

    def pending(self) -> int:
        return sum(not t.cancelled for t in self._timers)

    async def advance(self, seconds: float) -> None:
        """Move time, firing due timers in order and letting waiters run."""
        target = self.elapsed + seconds
        while self._timers and self._timers[0].when <= target:
            timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self.elapsed = timer.when
            timer.callback()
            await settle()
        self.elapsed = target
        await settle()


async def settle() -> None:
    """Let every ready task run."""
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def start(
    coro: Coroutine[Any, Any, None], log: list[Any], tag: Any
) -> asyncio.Task[None]:
    """Run ``coro`` in a task that logs ``tag`` (or the error); let it queue up."""

    async def run() -> None:
        try:
            await coro
        except WattwaechterRetryLaterError as err:
            log.append((tag, type(err).__name__))
        else:
            log.append(tag)

    task = asyncio.get_running_loop().create_task(run())
    await settle()
    return task


async def fill(budget: RequestBudget, count: int, priority: Priority) -> None:
    for _ in range(count):
        await budget.acquire(priority)


async def test_window_cap_and_expiry(clock: FakeClock) -> None:
    """At most ``limit`` requests in any window; the next waits for the oldest."""
    budget = RequestBudget(10, 10.0, clock=clock, margin=0, headroom={})
    await fill(budget, 5, Priority.SYSTEM)
    await clock.advance(4)
    await fill(budget, 5, Priority.SYSTEM)
    assert budget.in_window() == 10

    log: list[Any] = []
    await start(budget.acquire(Priority.SYSTEM), log, "late")
    await clock.advance(5.9)
    assert log == []  # the first five were sent at t=0, so free only at t=10
    await clock.advance(0.1)
    assert log == ["late"]
    assert budget.in_window() == 6
    assert budget.stats.waited == 1
    assert budget.stats.peak == 10
    assert clock.pending() == 0


async def test_priority_order(clock: FakeClock) -> None:
    """When slots free up, actions go first and backfill last; FIFO within one."""
    budget = RequestBudget(3, 10.0, clock=clock, margin=0, headroom={}, meter_wait=30)
    await fill(budget, 3, Priority.BACKFILL)
    log: list[Any] = []
    arrivals = [
        (Priority.BACKFILL, "backfill"),
        (Priority.OTA, "ota"),
        (Priority.SYSTEM, "system"),
        (Priority.SYSTEM, "system2"),
        (Priority.METER, "meter"),
    ]
    for priority, tag in arrivals:
        await start(budget.acquire(priority), log, tag)
    await clock.advance(9)
    # An action arriving later still overtakes everyone waiting.
    await start(budget.acquire(Priority.ACTION), log, "action")
    await clock.advance(1)
    assert log == ["action", "meter", "system"]
    await clock.advance(10)
    assert log == ["action", "meter", "system", "system2", "ota", "backfill"]


async def test_headroom_keeps_slots_for_actions(clock: FakeClock) -> None:
    """Backfill fills half the window; meter polls and actions still get through."""
    budget = RequestBudget(clock=clock, margin=0)
    assert [budget.cap(p) for p in Priority] == [10, 8, 7, 7, 5]
    await fill(budget, 5, Priority.BACKFILL)
    log: list[Any] = []
    await start(budget.acquire(Priority.BACKFILL), log, "backfill")
    await settle()
    assert log == []
    await fill(budget, 3, Priority.METER)  # up to 8
    await budget.acquire(Priority.ACTION)
    await budget.acquire(Priority.ACTION)
    assert budget.in_window() == 10
    await clock.advance(10)
    assert log == ["backfill"]


async def test_headroom_stays_monotone() -> None:
    """A lower priority never gets a higher cap than the one above it."""
    budget = RequestBudget(
        4, 10.0, headroom={Priority.METER: 2, Priority.SYSTEM: 0, Priority.OTA: 9}
    )
    assert [budget.cap(p) for p in Priority] == [4, 2, 2, 1, 1]


async def test_action_fails_fast_when_window_is_full(clock: FakeClock) -> None:
    """An action that would wait longer than action_wait fails at once."""
    budget = RequestBudget(2, 10.0, clock=clock, margin=0, action_wait=3.0)
    await fill(budget, 2, Priority.ACTION)
    with pytest.raises(WattwaechterBudgetError) as err:
        await budget.acquire(Priority.ACTION)
    assert not isinstance(err.value, WattwaechterBudgetPausedError)
    assert err.value.retry_after == pytest.approx(10.0)
    assert budget.stats.rejected[Priority.ACTION] == 1
    assert clock.pending() == 0  # nothing was left waiting


async def test_action_waits_a_short_while(clock: FakeClock) -> None:
    """An action whose slot frees within action_wait waits for it."""
    budget = RequestBudget(2, 10.0, clock=clock, margin=0, action_wait=3.0)
    await fill(budget, 2, Priority.ACTION)
    await clock.advance(8)
    log: list[Any] = []
    await start(budget.acquire(Priority.ACTION), log, "press")
    await clock.advance(1.9)
    assert log == []
    await clock.advance(0.1)
    assert log == ["press"]
    assert clock.pending() == 0  # its deadline timer was cancelled


async def test_queued_actions_count_for_the_estimate(clock: FakeClock) -> None:
    """A second action behind a waiting one is refused when its turn is too far."""
    budget = RequestBudget(2, 10.0, clock=clock, margin=0, action_wait=3.0)
    await budget.acquire(Priority.ACTION)
    await clock.advance(5)
    await budget.acquire(Priority.ACTION)
    await clock.advance(3)  # the slots free at t=10 and t=15
    log: list[Any] = []
    await start(budget.acquire(Priority.ACTION), log, "first")
    await settle()
    with pytest.raises(WattwaechterBudgetError):
        await budget.acquire(Priority.ACTION)
    await clock.advance(2)
    assert log == ["first"]


async def test_action_deadline_when_the_clock_stalls() -> None:
    """If time.monotonic stands still while timers run, an action still fails."""
    clock = FakeClock(stalled=True)
    budget = RequestBudget(1, 10.0, clock=clock, margin=0, action_wait=3.0)
    clock.base -= 8  # the slot was taken 8 s ago: it frees in 2 s
    await budget.acquire(Priority.ACTION)
    clock.base += 8
    log: list[Any] = []
    await start(budget.acquire(Priority.ACTION), log, "press")
    await clock.advance(2.5)
    assert log == []
    await clock.advance(0.5)
    assert log == [("press", "WattwaechterBudgetError")]
    assert budget.stats.rejected[Priority.ACTION] == 1


async def test_pause_holds_back_everything(clock: FakeClock) -> None:
    """During a pause nothing is sent; low priority waits, meter and actions fail.

    (They fail because the pause outlasts their time to wait.)
    """
    budget = RequestBudget(clock=clock, margin=0)
    budget.pause(10)
    assert budget.paused_for == pytest.approx(10)
    log: list[Any] = []
    await start(budget.acquire(Priority.SYSTEM), log, "system")
    await start(budget.acquire(Priority.BACKFILL), log, "backfill")
    with pytest.raises(WattwaechterBudgetPausedError) as err:
        await budget.acquire(Priority.METER)
    assert err.value.retry_after == pytest.approx(10)
    with pytest.raises(WattwaechterBudgetPausedError):
        await budget.acquire(Priority.ACTION)
    await clock.advance(9.99)
    assert log == []
    assert budget.in_window() == 0
    await clock.advance(0.01)
    assert log == ["system", "backfill"]
    assert budget.paused_for == 0
    assert budget.stats.pauses == 1


async def test_action_waits_out_a_short_pause(clock: FakeClock) -> None:
    """An action may wait for a pause that ends within action_wait."""
    budget = RequestBudget(clock=clock, margin=0)
    budget.pause(5)
    await clock.advance(3)
    log: list[Any] = []
    await start(budget.acquire(Priority.ACTION), log, "press")
    await clock.advance(1.9)
    assert log == []
    await clock.advance(0.1)
    assert log == ["press"]


async def test_longer_pause_fails_waiting_actions_and_meter(clock: FakeClock) -> None:
    """A new pause fails the bounded waiters it would keep past their deadline."""
    budget = RequestBudget(2, 10.0, clock=clock, margin=0, headroom={})
    await fill(budget, 2, Priority.SYSTEM)
    await clock.advance(8)
    log: list[Any] = []
    await start(budget.acquire(Priority.ACTION), log, "action")
    await start(budget.acquire(Priority.METER), log, "meter")
    await start(budget.acquire(Priority.OTA), log, "ota")
    await settle()
    budget.pause(1)  # ends before both deadlines: they keep waiting
    await settle()
    assert log == []
    budget.pause(10)
    await settle()
    assert set(log) == {
        ("action", "WattwaechterBudgetPausedError"),
        ("meter", "WattwaechterBudgetPausedError"),
    }
    await clock.advance(10)
    assert log[2] == "ota"


async def test_meter_waits_out_the_end_of_a_pause(clock: FakeClock) -> None:
    """A poll just before a pause ends goes out when it ends, not a poll later."""
    budget = RequestBudget(clock=clock, margin=0, meter_wait=5.0)
    budget.pause(10)
    await clock.advance(9.5)
    log: list[Any] = []
    await start(budget.acquire(Priority.METER), log, "meter")
    assert log == []
    await clock.advance(0.5)
    assert log == ["meter"]


async def test_meter_waits_for_the_window_but_not_too_long(clock: FakeClock) -> None:
    """A meter poll waits up to meter_wait for a slot, then the update fails."""
    budget = RequestBudget(2, 10.0, clock=clock, margin=0, meter_wait=5.0, headroom={})
    await fill(budget, 2, Priority.ACTION)
    with pytest.raises(WattwaechterBudgetError):
        await budget.acquire(Priority.METER)
    await clock.advance(6)
    log: list[Any] = []
    await start(budget.acquire(Priority.METER), log, "meter")
    await clock.advance(4)
    assert log == ["meter"]


async def test_deadline_prefers_a_free_slot(clock: FakeClock) -> None:
    """A deadline timer that fires together with a free slot still grants it."""
    budget = RequestBudget(1, 10.0, clock=clock, margin=0, action_wait=3.0)
    await budget.acquire(Priority.ACTION)
    await clock.advance(7)
    log: list[Any] = []
    await start(budget.acquire(Priority.ACTION), log, "press")
    # A later arrival re-arms the slot timer, so the deadline (also due at
    # t=10) fires first; it must find the free slot, not fail the action.
    await start(budget.acquire(Priority.BACKFILL), log, "backfill")
    await clock.advance(3)
    assert log == ["press"]
    await clock.advance(10)
    assert log == ["press", "backfill"]


async def test_cancelled_caller_leaves_the_queue(clock: FakeClock) -> None:
    """A waiter that is cancelled does not take a slot later."""
    budget = RequestBudget(1, 10.0, clock=clock, margin=0, headroom={})
    await budget.acquire(Priority.SYSTEM)
    log: list[Any] = []
    task = await start(budget.acquire(Priority.SYSTEM), log, "gone")
    await start(budget.acquire(Priority.OTA), log, "ota")
    await settle()
    task.cancel()
    await settle()
    await clock.advance(10)
    assert log == ["ota"]
    assert budget.stats.granted[Priority.SYSTEM] == 1


async def test_close_fails_waiters_and_new_requests(clock: FakeClock) -> None:
    """Closing the budget (the last entry unloads) releases every waiter."""
    budget = RequestBudget(1, 10.0, clock=clock, margin=0)
    await budget.acquire(Priority.SYSTEM)
    log: list[Any] = []
    await start(budget.acquire(Priority.BACKFILL), log, "backfill")
    await settle()
    budget.close()
    await settle()
    assert log == [("backfill", "WattwaechterBudgetError")]
    budget.pause(10)  # a late 429 after the close arms nothing
    assert clock.pending() == 0
    with pytest.raises(WattwaechterBudgetError):
        await budget.acquire(Priority.ACTION)


async def test_invalid_size() -> None:
    """A budget needs at least one request per window and no negative margin."""
    with pytest.raises(ValueError, match="limit"):
        RequestBudget(0)
    with pytest.raises(ValueError, match="margin"):
        RequestBudget(10, 10.0, margin=-1)


async def test_margin_keeps_a_slot_past_the_window(clock: FakeClock) -> None:
    """A slot frees only ``margin`` after the window, for transit jitter.

    Ten requests sent at 0 s and the eleventh at 10 s could reach the device
    within less than 10 s if the first ones travelled slower.
    """
    budget = RequestBudget(2, 10.0, clock=clock, headroom={}, margin=0.25)
    await fill(budget, 2, Priority.SYSTEM)
    log: list[Any] = []
    await start(budget.acquire(Priority.SYSTEM), log, "third")
    await clock.advance(10.0)
    assert log == []
    await clock.advance(0.25)
    assert log == ["third"]
    await budget.acquire(Priority.ACTION)
    with pytest.raises(WattwaechterBudgetError) as err:
        await budget.acquire(Priority.ACTION)
    assert err.value.retry_after == pytest.approx(10.25)


async def test_loop_clock_waits_in_real_time() -> None:
    """The default clock sleeps on the event loop until the slot is free."""
    budget = RequestBudget(1, 0.05, headroom={})
    assert isinstance(budget._clock, LoopClock)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await budget.acquire(Priority.SYSTEM)
    await budget.acquire(Priority.SYSTEM)
    assert loop.time() - started >= 0.04


def test_loop_clock_outside_a_loop() -> None:
    """Outside an event loop the default clock is time.monotonic."""
    before = time.monotonic()
    assert LoopClock().now() >= before


async def test_request_cause_counts_and_serves_actions_first(clock: FakeClock) -> None:
    """Requests inside request_cause are counted per cause; actions fail fast."""
    budget = RequestBudget(2, 10.0, clock=clock, margin=0, headroom={})
    await budget.acquire(Priority.METER)
    with request_cause(CAUSE_RESTART):
        await budget.acquire(Priority.SYSTEM)
    with request_cause(CAUSE_ACTION), pytest.raises(WattwaechterBudgetError):
        # Passed as backfill, served as an action: refused instead of queued.
        await budget.acquire(Priority.BACKFILL)
    assert budget.stats.by_cause == {CAUSE_POLLING: 1, CAUSE_RESTART: 1}
    assert budget.stats.rejected[Priority.ACTION] == 1
    # Asked as an action outside request_cause: counted as one.
    await clock.advance(10)
    await budget.acquire(Priority.ACTION)
    assert budget.stats.by_cause[CAUSE_ACTION] == 1


async def test_setup_uses_the_whole_window_and_waits(clock: FakeClock) -> None:
    """A setup's reads may fill the window like an action, and wait, not fail."""
    budget = RequestBudget(4, 10.0, clock=clock, margin=0)
    log: list[Any] = []
    with request_cause(CAUSE_SETUP):
        await fill(budget, 4, Priority.SYSTEM)  # a system read alone stops at 1
        await start(budget.acquire(Priority.OTA), log, "ota")
    await clock.advance(9.9)
    assert log == []
    await clock.advance(0.1)
    assert log == ["ota"]
    assert budget.stats.by_cause == {CAUSE_SETUP: 5}
