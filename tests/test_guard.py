"""The energy counter glitch guard, rule by rule."""

from __future__ import annotations

import pytest

from custom_components.wattwaechter.api.models import MeterReading
from custom_components.wattwaechter.guard import (
    MAX_FLOW_M3H,
    MAX_POWER_KW,
    REPLACEMENT_SECONDS,
    REPLACEMENT_UPDATES,
    CounterGuard,
    Verdict,
    allowance,
    impossible_step,
    max_rate,
    totals_leap,
)

START = 12_000.0


def guard_at(value: float = START, at: float = 0.0) -> CounterGuard:
    """Return a kWh guard whose last good value is ``value`` at ``at``."""
    guard = CounterGuard(MAX_POWER_KW)
    assert guard.check(value, at) is Verdict.ACCEPTED
    return guard


def test_first_reading_is_accepted() -> None:
    guard = CounterGuard(MAX_POWER_KW)
    assert guard.value is None
    assert guard.check(START, 0.0) is Verdict.ACCEPTED
    assert (guard.value, guard.at) == (START, 0.0)


def test_zero_after_a_reading_is_a_glitch() -> None:
    guard = guard_at()
    assert guard.check(0.0, 10.0) is Verdict.ZERO
    assert guard.check(-1.0, 20.0) is Verdict.ZERO
    assert guard.value == START


def test_a_total_that_was_always_zero_is_good() -> None:
    """The export of a home without feed-in: 0 from the first reading on."""
    guard = CounterGuard(MAX_POWER_KW)
    assert guard.check(0.0, 0.0) is Verdict.ACCEPTED
    assert guard.check(0.0, 10.0) is Verdict.ACCEPTED
    assert guard.value == 0.0
    assert guard.check(0.5, 20.0) is Verdict.ACCEPTED  # the first feed-in
    assert CounterGuard(MAX_POWER_KW).check(-1.0, 0.0) is Verdict.ZERO


def test_steady_growth_is_accepted() -> None:
    guard = guard_at()
    for step in range(1, 100):
        # 3.6 kW: 0.01 kWh every 10 s
        assert guard.check(START + step * 0.01, step * 10.0) is Verdict.ACCEPTED
    assert guard.value == pytest.approx(START + 0.99)


def test_no_change_is_accepted() -> None:
    guard = guard_at()
    assert guard.check(START, 10.0) is Verdict.ACCEPTED
    # Decimal noise below a milli-Wh is not a step back.
    assert guard.check(START - 1e-9, 20.0) is Verdict.ACCEPTED


def test_backwards_is_a_glitch() -> None:
    guard = guard_at()
    assert guard.check(START - 0.001, 10.0) is Verdict.BACKWARDS
    assert guard.check(START - 5, 20.0) is Verdict.BACKWARDS
    assert guard.value == START
    # The good value comes back: accepted, as if nothing happened.
    assert guard.check(START + 0.01, 30.0) is Verdict.ACCEPTED
    assert guard.candidate is None


def test_jump_beyond_100_kw_is_a_glitch() -> None:
    """The allowance is 100 kW times the elapsed time, at least 60 s of it."""
    guard = guard_at()
    allowed_in_a_minute = MAX_POWER_KW / 60  # 1.67 kWh
    assert allowance(MAX_POWER_KW, 10.0) == pytest.approx(allowed_in_a_minute)
    assert guard.check(START + allowed_in_a_minute + 0.01, 10.0) is Verdict.JUMP
    assert guard.check(START + allowed_in_a_minute - 0.01, 10.0) is Verdict.ACCEPTED
    # After an hour away, 100 kWh more is still plausible, 101 is not.
    guard = guard_at()
    assert guard.check(START + 101, 3600.0) is Verdict.JUMP
    assert guard.check(START + 99, 3600.0) is Verdict.ACCEPTED


def test_sustained_new_baseline_is_accepted() -> None:
    """Consistent rejected readings for N updates and M seconds: a new meter."""
    guard = guard_at()
    new = 3.0
    at = 0.0
    step = REPLACEMENT_SECONDS / (REPLACEMENT_UPDATES - 1)
    for index in range(REPLACEMENT_UPDATES - 1):
        at += step if index else 10.0
        assert guard.check(new, at) is Verdict.BACKWARDS
        new += 0.05
    assert guard.candidate is not None
    at += step
    assert guard.check(new, at) is Verdict.REPLACED
    assert (guard.value, guard.at) == (new, at)
    assert guard.candidate is None
    # From there on, the new meter is judged like any other.
    assert guard.check(new + 0.01, at + 10) is Verdict.ACCEPTED
    assert guard.check(START, at + 20) is Verdict.JUMP


def test_replacement_needs_enough_updates_and_enough_time() -> None:
    guard = guard_at()
    # Many updates, but within less than the time: not yet.
    for second in range(10, int(REPLACEMENT_SECONDS), 10):
        assert guard.check(3.0, float(second)) is Verdict.BACKWARDS
    assert guard.check(3.0, REPLACEMENT_SECONDS + 10) is Verdict.REPLACED

    # Enough time, but too few updates (a slow interval): not yet.
    guard = guard_at()
    for index in range(1, REPLACEMENT_UPDATES):
        assert guard.check(3.0, index * REPLACEMENT_SECONDS) is Verdict.BACKWARDS
    assert guard.check(3.0, REPLACEMENT_UPDATES * REPLACEMENT_SECONDS) is (
        Verdict.REPLACED
    )


def test_inconsistent_glitches_never_become_a_baseline() -> None:
    """Glitches that disagree with each other restart the count."""
    guard = guard_at()
    at = 0.0
    for index in range(50):
        at += REPLACEMENT_SECONDS / 4
        value = 5.0 if index % 2 else 500.0
        assert guard.check(value, at).is_glitch
    assert guard.value == START
    candidate = guard.candidate
    assert candidate is not None
    assert candidate[1] == 1


def test_zero_never_becomes_a_baseline() -> None:
    guard = guard_at()
    for second in range(10, 10 * int(REPLACEMENT_SECONDS), 10):
        assert guard.check(0.0, float(second)) is Verdict.ZERO
    assert guard.value == START
    assert guard.candidate is None


def test_a_good_reading_ends_the_candidate() -> None:
    guard = guard_at()
    assert guard.check(3.0, 10.0) is Verdict.BACKWARDS
    assert guard.candidate == (3.0, 1, 10.0)
    assert guard.check(START + 0.01, 20.0) is Verdict.ACCEPTED
    assert guard.candidate is None


def test_upward_jump_sustained_is_accepted_too() -> None:
    """A meter swapped for one with a higher reading."""
    guard = guard_at()
    higher = START + 10_000
    at = 0.0
    verdicts = []
    for _ in range(REPLACEMENT_UPDATES * 20):
        at += 10.0
        verdicts.append(guard.check(higher, at))
        if verdicts[-1] is Verdict.REPLACED:
            break
    assert verdicts[-1] is Verdict.REPLACED
    assert at >= REPLACEMENT_SECONDS
    assert set(verdicts[:-1]) == {Verdict.JUMP}


def test_restore_starts_from_a_known_value() -> None:
    """After a restart, the restored value is the good one (and its age counts)."""
    guard = CounterGuard(MAX_POWER_KW)
    guard.restore(START, -3600.0)
    assert guard.check(0.0, 0.0) is Verdict.ZERO
    assert guard.check(START - 5, 0.0) is Verdict.BACKWARDS
    assert guard.check(START + 150, 0.0) is Verdict.JUMP
    assert guard.check(START + 50, 0.0) is Verdict.ACCEPTED


def test_rates_by_unit() -> None:
    assert max_rate("kWh") == max_rate("kvarh") == max_rate(None) == MAX_POWER_KW
    assert max_rate("Wh") == MAX_POWER_KW * 1000
    assert max_rate("m³") == MAX_FLOW_M3H


def test_impossible_step() -> None:
    assert not impossible_step(START, START, 10.0, MAX_POWER_KW)
    assert not impossible_step(START, START + 1.6, 10.0, MAX_POWER_KW)
    assert impossible_step(START, START + 1.7, 10.0, MAX_POWER_KW)
    assert impossible_step(START, START - 0.01, 10.0, MAX_POWER_KW)
    assert not impossible_step(START, START + 99, 3600.0, MAX_POWER_KW)


def reading(totals: dict[str, float]) -> MeterReading:
    """Return a reading of the given registers."""
    return MeterReading.from_json({code: {"value": v} for code, v in totals.items()})


def test_totals_leap() -> None:
    """Only known totals count; power may jump, unknown registers are ignored."""
    old = reading({"1.8.0": START, "16.7.0": 100.0, "1.8.7": 5.0})
    assert not totals_leap(old, reading({"1.8.0": START + 0.01}), 10.0)
    assert not totals_leap(old, reading({"16.7.0": 9000.0, "1.8.7": 0.0}), 10.0)
    assert totals_leap(old, reading({"1.8.0": START - 1}), 10.0)
    assert totals_leap(old, reading({"1.8.0": START + 50}), 10.0)
    assert not totals_leap(old, reading({"1.8.0": START + 50}), 3600.0)
    gas = reading({"7-0:3.0.0": 100.0})
    assert totals_leap(gas, reading({"7-0:3.0.0": 102.0}), 10.0)  # > 40 m³/h
    assert not totals_leap(gas, reading({"7-0:3.0.0": 100.5}), 10.0)
