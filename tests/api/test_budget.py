"""The request budget on a loop clock that moves only when the test says so.

Caps per priority, fail-fast of actions and meter polls, the others waiting,
the order of service, pauses after a 429/503, the adaptive background cap and
the counters. A request sent at t holds its slot until t + 10.25 s.
"""

from __future__ import annotations

import pytest

from custom_components.wattwaechter.api.budget import (
    BudgetStats,
    Priority,
    RequestBudget,
)
from custom_components.wattwaechter.api.errors import (
    WattwaechterBudgetError,
    WattwaechterRetryLaterError,
)

from .conftest import LoopClock, Outcomes, settle

ACTION, METER, SYSTEM, BACKGROUND = (
    Priority.ACTION,
    Priority.METER,
    Priority.SYSTEM,
    Priority.BACKGROUND,
)
FREES = 10.25
"""Seconds after which a request leaves the window (10 s and a margin)."""
REFUSED = "WattwaechterBudgetError"


async def fill(budget: RequestBudget, count: int, priority: Priority) -> None:
    """Take ``count`` slots that are free now."""
    for _ in range(count):
        await budget.acquire(priority)


@pytest.mark.parametrize(
    ("priority", "cap"), [(ACTION, 20), (METER, 10), (SYSTEM, 8), (BACKGROUND, 5)]
)
async def test_each_priority_stops_at_its_cap(
    clock: LoopClock, outcomes: Outcomes, priority: Priority, cap: int
) -> None:
    """Up to the cap at once; then actions and polls fail, the others wait."""
    budget = RequestBudget()
    await fill(budget, cap, priority)
    assert budget.in_window() == cap
    assert clock.now == 1000.0, "a request below the cap waited"
    await outcomes.start(budget.acquire(priority), "next")
    if priority in (ACTION, METER):
        assert outcomes.log == [("next", REFUSED)]
        return
    assert outcomes.log == []
    await clock.advance(FREES - 0.01)
    assert outcomes.log == []
    await clock.advance(0.01)
    assert outcomes.log == ["next"]


async def test_lower_priorities_leave_room_for_higher(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """Background work fills 5, the slow polls 8, the meter 10, actions 20."""
    budget = RequestBudget()
    await fill(budget, 5, BACKGROUND)
    await outcomes.start(budget.acquire(BACKGROUND), "background")
    await fill(budget, 3, SYSTEM)
    await outcomes.start(budget.acquire(SYSTEM), "system")
    await fill(budget, 2, METER)
    await fill(budget, 10, ACTION)
    assert budget.in_window() == 20
    assert outcomes.log == []
    with pytest.raises(WattwaechterBudgetError):
        await budget.acquire(ACTION)
    await clock.advance(FREES)
    assert outcomes.log == ["system", "background"]


async def test_action_fails_fast(clock: LoopClock) -> None:
    """An action whose slot is more than 3 s away is refused at once."""
    budget = RequestBudget()
    await fill(budget, 20, ACTION)
    with pytest.raises(WattwaechterBudgetError) as err:
        await budget.acquire(ACTION)
    assert isinstance(err.value, WattwaechterRetryLaterError)
    assert err.value.retry_after == pytest.approx(FREES)
    assert clock.now == 1000.0
    assert budget.stats.refused == {"action": 1}
    assert budget.in_window() == 20


async def test_action_waits_up_to_three_seconds(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """A slot 2.5 s away is waited for; one 3.1 s away is not."""
    budget = RequestBudget()
    await fill(budget, 20, ACTION)
    await clock.advance(FREES - 3.1)
    await outcomes.start(budget.acquire(ACTION), "too far")
    assert outcomes.log == [("too far", REFUSED)]
    await clock.advance(0.6)
    await outcomes.start(budget.acquire(ACTION), "press")
    await clock.advance(2.49)
    assert outcomes.log == [("too far", REFUSED)]
    await clock.advance(0.01)
    assert outcomes.log[-1] == "press"
    assert budget.stats.longest_wait["action"] == pytest.approx(2.5)


async def test_meter_waits_up_to_five_seconds(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """A poll waits for a slot up to 5 s away, and fails if it is further."""
    budget = RequestBudget()
    await fill(budget, 10, ACTION)
    await clock.advance(FREES - 5.1)
    with pytest.raises(WattwaechterBudgetError) as err:
        await budget.acquire(METER)
    assert err.value.retry_after == pytest.approx(5.1)
    await clock.advance(0.6)
    await outcomes.start(budget.acquire(METER), "poll")
    await clock.advance(4.5)
    assert outcomes.log == ["poll"]
    assert budget.stats.refused == {"meter": 1}
    assert budget.stats.longest_wait["meter"] == pytest.approx(4.5)


@pytest.mark.parametrize(("priority", "limit"), [(ACTION, 3.0), (METER, 5.0)])
async def test_slot_free_at_the_deadline_is_used(
    clock: LoopClock, outcomes: Outcomes, priority: Priority, limit: float
) -> None:
    """A slot that frees exactly when the wait would end is taken, not wasted."""
    budget = RequestBudget()
    await fill(budget, 20, ACTION)
    await clock.advance(FREES - limit)
    await outcomes.start(budget.acquire(priority), "asked")
    await clock.advance(limit)
    assert outcomes.log == ["asked"]
    assert budget.stats.refused == {}


async def test_pause_during_a_wait_fails_the_poll(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """A pause that outlasts a waiting poll's 5 s ends its wait at the deadline."""
    budget = RequestBudget()
    await fill(budget, 10, ACTION)
    await clock.advance(6)
    await outcomes.start(budget.acquire(METER), "poll")
    await clock.advance(1)
    budget.pause(10, SYSTEM)
    await clock.advance(3.99)
    assert outcomes.log == []
    await clock.advance(0.01)
    assert outcomes.log == [("poll", REFUSED)]
    assert budget.stats.refused == {"meter": 1}


async def test_slow_polls_and_background_wait_their_turn(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """However long the pause, the slow polls and the import are not refused."""
    budget = RequestBudget()
    budget.pause(600, METER)
    await outcomes.start(budget.acquire(BACKGROUND), "background")
    await outcomes.start(budget.acquire(SYSTEM), "system")
    await clock.advance(599.9)
    assert outcomes.log == []
    await clock.advance(0.1)
    assert outcomes.log == ["system", "background"]
    assert budget.stats.refused == {}


async def test_order_of_service(clock: LoopClock, outcomes: Outcomes) -> None:
    """When slots free up: actions, meter, slow polls, background; FIFO within."""
    budget = RequestBudget()
    await fill(budget, 20, ACTION)
    await outcomes.start(budget.acquire(BACKGROUND), "background")
    await outcomes.start(budget.acquire(SYSTEM), "system 1")
    await outcomes.start(budget.acquire(SYSTEM), "system 2")
    await clock.advance(8)
    # Asked later, served first.
    await outcomes.start(budget.acquire(METER), "meter")
    await outcomes.start(budget.acquire(ACTION), "action")
    await clock.advance(FREES - 8)
    assert outcomes.log == ["action", "meter", "system 1", "system 2"]
    # Background work leaves a slot for the next poll: it goes when the poll leaves.
    await clock.advance(FREES)
    assert outcomes.log[-1] == "background"


async def test_slots_free_one_by_one_go_to_the_highest_priority(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """A slot that frees goes to the meter poll, not to the older system read."""
    budget = RequestBudget()
    for _ in range(10):
        await budget.acquire(ACTION)
        await clock.advance(1)
    # Window: 10 requests sent at 0 .. 9 s; now t = 10 s.
    await outcomes.start(budget.acquire(SYSTEM), "system")
    await outcomes.start(budget.acquire(METER), "meter")
    await clock.advance(0.25)  # the one of 0 s leaves: room for the meter only
    assert outcomes.log == ["meter"]
    await clock.advance(2)  # the ones of 1 s and 2 s leave: 8, no room for it
    assert outcomes.log == ["meter"]
    await clock.advance(1)
    assert outcomes.log == ["meter", "system"]


async def test_queued_actions_count_for_the_estimate(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """A second action behind a waiting one is refused when its turn is too far."""
    budget = RequestBudget()
    await budget.acquire(ACTION)
    await clock.advance(5)
    await fill(budget, 19, ACTION)
    await clock.advance(3)  # the slots free at 10.25 s and 15.25 s
    await outcomes.start(budget.acquire(ACTION), "first")
    await outcomes.start(budget.acquire(ACTION), "second")
    assert outcomes.log == [("second", REFUSED)]
    await clock.advance(2.25)
    assert outcomes.log == [("second", REFUSED), "first"]


async def test_pause_after_a_refusal_holds_back_everything(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """A 429/503 to anything but background work pauses all traffic."""
    budget = RequestBudget()
    budget.pause(10, METER)
    assert budget.paused_for() == pytest.approx(10)
    assert budget.paused_for(BACKGROUND) == pytest.approx(10)
    await outcomes.start(budget.acquire(SYSTEM), "system")
    await outcomes.start(budget.acquire(BACKGROUND), "background")
    with pytest.raises(WattwaechterBudgetError) as err:
        await budget.acquire(ACTION)
    assert err.value.retry_after == pytest.approx(10)
    with pytest.raises(WattwaechterBudgetError):
        await budget.acquire(METER)
    await clock.advance(9.99)
    assert outcomes.log == []
    assert budget.in_window() == 0
    await clock.advance(0.01)
    assert outcomes.log == ["system"]
    assert budget.paused_for() == 0
    assert budget.stats.pauses == 1
    # The device refused with none of ours in the window: another client
    # uses it all, so background work goes one at a time for a while.
    await clock.advance(FREES)
    assert outcomes.log == ["system", "background"]


async def test_pause_after_a_background_refusal_holds_back_only_background(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """A 429 answered to the history import does not hold back the meter."""
    budget = RequestBudget()
    await fill(budget, 5, BACKGROUND)
    budget.pause(20, BACKGROUND)
    assert budget.paused_for() == 0
    assert budget.paused_for(SYSTEM) == 0
    assert budget.paused_for(BACKGROUND) == pytest.approx(20)
    await budget.acquire(ACTION)
    await budget.acquire(METER)
    await budget.acquire(SYSTEM)
    assert clock.now == 1000.0
    await outcomes.start(budget.acquire(BACKGROUND), "background")
    await clock.advance(19.99)
    assert outcomes.log == []
    assert budget.in_window() == 0
    await clock.advance(0.01)
    assert outcomes.log == ["background"]


async def test_short_pauses_are_waited_out(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """An action waits for a pause ending within 3 s, a poll for one within 5 s."""
    budget = RequestBudget()
    budget.pause(2, METER)
    await outcomes.start(budget.acquire(ACTION), "press")
    await clock.advance(1.99)
    assert outcomes.log == []
    await clock.advance(0.01)
    assert outcomes.log == ["press"]

    budget.pause(10, METER)
    await clock.advance(5.5)
    await outcomes.start(budget.acquire(METER), "poll")
    await clock.advance(4.49)
    assert outcomes.log == ["press"]
    await clock.advance(0.01)
    assert outcomes.log == ["press", "poll"]


async def test_a_pause_never_shortens(clock: LoopClock) -> None:
    """A shorter Retry-After later does not end a longer pause early."""
    budget = RequestBudget()
    budget.pause(10, METER)
    budget.pause(2, SYSTEM)
    assert budget.paused_for() == pytest.approx(10)
    budget.pause(-5, METER)
    assert budget.paused_for() == pytest.approx(10)


async def test_background_keeps_a_slot_for_the_next_poll(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """With a poll in the window, background work stops one short of its cap.

    The next poll comes 10 s after the last, when the device may still count
    the last one: a device that has five places left for us must not see a
    sixth.
    """
    budget = RequestBudget()
    await budget.acquire(METER)
    await fill(budget, 3, BACKGROUND)
    await outcomes.start(budget.acquire(BACKGROUND), "fourth")
    assert outcomes.log == []
    await clock.advance(FREES)  # the poll and the three leave together
    assert outcomes.log == ["fourth"]
    # Without a poll in the window, all five.
    await fill(budget, 4, BACKGROUND)
    assert budget.in_window() == 5


async def test_background_cap_adapts_to_a_busy_device(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """A 429 lowers the background cap to what the device took, less one.

    Four of ours went through and the fifth was refused: another client uses
    the rest, so background work may use 3 from now on; the cap grows by one
    a minute after the refusal, back to 5.
    """
    budget = RequestBudget()
    await fill(budget, 5, BACKGROUND)
    budget.pause(0, BACKGROUND)
    await clock.advance(55)
    await fill(budget, 3, BACKGROUND)
    await outcomes.start(budget.acquire(BACKGROUND), "fourth")
    await clock.advance(4.99)
    assert outcomes.log == []
    await clock.advance(0.01)  # a minute after the 429: cap 4
    assert outcomes.log == ["fourth"]
    # The lower background cap does not hold back the meter.
    await fill(budget, 6, METER)
    assert budget.in_window() == 10

    await clock.advance(60)  # two minutes: cap 5 again, the window is empty
    assert budget.in_window() == 0
    await fill(budget, 5, BACKGROUND)
    await outcomes.start(budget.acquire(BACKGROUND), "sixth")
    assert outcomes.log == ["fourth"]
    await clock.advance(FREES)
    assert outcomes.log == ["fourth", "sixth"]


async def test_background_cap_after_a_refused_poll(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """A 429 to a poll lowers the cap too, never below one request."""
    budget = RequestBudget()
    await budget.acquire(METER)  # the only one of ours: the device was full
    budget.pause(0, METER)
    await clock.advance(FREES)
    await budget.acquire(BACKGROUND)
    await outcomes.start(budget.acquire(BACKGROUND), "second")
    assert outcomes.log == []
    await clock.advance(FREES)
    assert outcomes.log == ["second"]


async def test_a_full_window_of_our_own_does_not_raise_the_cap(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """Refused with 20 of ours in the window: the background cap stays 5."""
    budget = RequestBudget()
    await fill(budget, 20, ACTION)
    budget.pause(0, ACTION)
    await clock.advance(FREES)
    await fill(budget, 5, BACKGROUND)
    await outcomes.start(budget.acquire(BACKGROUND), "sixth")
    assert outcomes.log == []
    await clock.advance(FREES)
    assert outcomes.log == ["sixth"]


async def test_cancelled_waiter_leaves_the_queue(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """A request whose caller gave up takes no slot later."""
    budget = RequestBudget()
    await fill(budget, 8, SYSTEM)
    await outcomes.start(budget.acquire(SYSTEM), "gone")
    await outcomes.start(budget.acquire(BACKGROUND), "background")
    outcomes.cancel(0)
    await settle()
    await clock.advance(FREES)
    assert outcomes.log == ["background"]
    assert budget.stats.granted == {"system": 8, "background": 1}


async def test_margin_keeps_a_slot_past_the_window(
    clock: LoopClock, outcomes: Outcomes
) -> None:
    """A slot frees 0.25 s after the 10 s window, for transit jitter."""
    budget = RequestBudget()
    await fill(budget, 8, SYSTEM)
    await outcomes.start(budget.acquire(SYSTEM), "ninth")
    await clock.advance(10.0)
    assert outcomes.log == []
    assert budget.in_window() == 8
    await clock.advance(0.25)
    assert outcomes.log == ["ninth"]


async def test_stats(clock: LoopClock, outcomes: Outcomes) -> None:
    """Granted and refused per priority, the longest waits, pauses, the peak."""
    budget = RequestBudget()
    await fill(budget, 3, METER)
    await fill(budget, 12, ACTION)
    budget.pause(2, ACTION)
    await outcomes.start(budget.acquire(ACTION), "waits 2 s")
    await outcomes.start(budget.acquire(BACKGROUND), "waits for the window")
    with pytest.raises(WattwaechterBudgetError):
        await budget.acquire(METER)  # 15 in the window: the meter's slot is far
    await clock.advance(FREES)
    assert outcomes.log == ["waits 2 s", "waits for the window"]
    assert budget.stats == BudgetStats(
        granted={"meter": 3, "action": 13, "background": 1},
        refused={"meter": 1},
        longest_wait={
            "meter": 0.0,
            "action": pytest.approx(2.0),
            "background": pytest.approx(FREES),
        },
        pauses=1,
        peak=16,
    )
