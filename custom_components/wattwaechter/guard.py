"""The glitch guard of a meter total: which readings may reach the state machine.

A misread telegram can make a total read 0, drop or leap; a ``total_increasing``
statistic would count that as a new meter. Such readings are held back unless
they agree with each other long enough to mean a replaced meter.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from .api.models import MeterReading
from .obis import KNOWN_OBIS

MAX_POWER_KW: Final = 100.0  # a household connection: kWh per hour at most
MAX_FLOW_M3H: Final = 40.0  # gas or water: m³ per hour at most (a G25 gas meter)
MAX_RATES: Final = {"Wh": MAX_POWER_KW * 1000, "m³": MAX_FLOW_M3H}
MIN_ELAPSED_SECONDS: Final = 60.0  # a rise is allowed for a minute at least
REPLACEMENT_UPDATES: Final = 5  # agreeing glitches that make a new baseline...
REPLACEMENT_SECONDS: Final = 600.0  # ...when they held this long
EPSILON: Final = 1e-6  # rounding noise of the device's decimals, no step back


class Verdict(StrEnum):
    """What the guard made of one reading."""

    ACCEPTED = "accepted"
    ZERO = "zero"
    BACKWARDS = "backwards"
    JUMP = "jump"
    REPLACED = "replaced"  # a new baseline after a sustained series of glitches

    @property
    def is_glitch(self) -> bool:
        """Return True when the reading was held back."""
        return self in (Verdict.ZERO, Verdict.BACKWARDS, Verdict.JUMP)


def max_rate(unit: str | None) -> float:
    """Return how much a total in ``unit`` can plausibly rise in an hour."""
    return MAX_RATES.get(unit or "", MAX_POWER_KW)


def allowance(max_rate_per_hour: float, elapsed: float) -> float:
    """Return the largest plausible rise of a total within ``elapsed`` seconds."""
    return max_rate_per_hour * max(elapsed, MIN_ELAPSED_SECONDS) / 3600


def impossible_step(
    good: float, value: float, elapsed: float, max_rate_per_hour: float
) -> bool:
    """Return True when no meter goes from ``good`` to ``value`` in ``elapsed`` s."""
    return (
        value < good - EPSILON
        or value - good > allowance(max_rate_per_hour, elapsed) + EPSILON
    )


class CounterGuard:
    """Holds the last good value of one total and judges new readings."""

    def __init__(self, max_rate_per_hour: float) -> None:
        """Guard a total that cannot rise faster than ``max_rate_per_hour``."""
        self.max_rate_per_hour = max_rate_per_hour
        self.value: float | None = None  # the last good value, shown
        self.at = 0.0  # when it was read (loop time)
        # A pending new baseline: (value, readings, first seen at), last seen at.
        self.candidate: tuple[float, int, float] | None = None
        self._candidate_at = 0.0

    def restore(self, value: float, at: float) -> None:
        """Take ``value``, read at ``at``, as the good value."""
        self.value = value
        self.at = at
        self.candidate = None

    def check(self, value: float, now: float) -> Verdict:
        """Judge ``value`` read at ``now``; accepted values become the good one."""
        good = self.value
        if good is None:
            verdict = Verdict.ZERO if value < 0 else Verdict.ACCEPTED
        elif value <= 0 < good:  # a total that has always been 0 may stay so
            verdict = Verdict.ZERO
        elif not impossible_step(good, value, now - self.at, self.max_rate_per_hour):
            verdict = Verdict.ACCEPTED
        else:
            verdict = Verdict.BACKWARDS if value < good else Verdict.JUMP
        if verdict.is_glitch and value > 0 and self._sustained(value, now):
            verdict = Verdict.REPLACED
        if not verdict.is_glitch:
            self.restore(value, now)
        return verdict

    def _sustained(self, value: float, now: float) -> bool:
        """Count a held-back reading toward a new baseline; True once it holds."""
        readings, first_at = 1, now
        if self.candidate:
            last, count, since = self.candidate
            elapsed = now - self._candidate_at
            if not impossible_step(last, value, elapsed, self.max_rate_per_hour):
                readings, first_at = count + 1, since
        self.candidate, self._candidate_at = (value, readings, first_at), now
        return readings >= REPLACEMENT_UPDATES and now - first_at >= REPLACEMENT_SECONDS


TOTAL_RATES: Final = {
    code: max_rate(description.native_unit_of_measurement)
    for code, description in KNOWN_OBIS.items()
    if description.is_total
}


def totals_leap(old: MeterReading, new: MeterReading, elapsed: float) -> bool:
    """Return True when a meter total moved as no single meter can."""
    for code in TOTAL_RATES.keys() & new.values.keys() & old.values.keys():
        before, after = old.values[code].number, new.values[code].number
        if before is None or after is None:
            continue
        if impossible_step(before, after, elapsed, TOTAL_RATES[code]):
            return True
    return False
