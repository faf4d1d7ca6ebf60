"""The glitch guard of a meter total: which readings may reach the state machine.

A misread telegram can make a total read 0, drop or leap; a ``total_increasing``
statistic would count that as a new meter plus the whole reading again. So:

* 0 after a non-zero good value is a glitch (a total that has always been 0,
  such as the export of a home without feed-in, is a good value);
* a value below the last good one is a glitch;
* a rise beyond ``max_rate`` times the time since the last good value (counted
  as at least a minute) is a glitch;
* glitches that agree with each other for ``REPLACEMENT_UPDATES`` updates and
  ``REPLACEMENT_SECONDS`` form a new baseline: a replaced meter.

The guard is pure logic; the sensor logs what it decides. ``totals_leap``
applies the same rules to two whole readings, for the meter coordinator.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .api.models import MeterReading
from .obis import KNOWN_OBIS

MAX_POWER_KW: Final = 100.0
"""Largest plausible import or export of a household connection (kWh per hour)."""
MAX_FLOW_M3H: Final = 40.0
"""Largest plausible gas or water flow (m³ per hour; a G25 gas meter)."""
MAX_RATES: Final = {"Wh": MAX_POWER_KW * 1000, "m³": MAX_FLOW_M3H}
"""Largest plausible rise per hour by unit; MAX_POWER_KW for the others."""
MIN_ELAPSED_SECONDS: Final = 60.0
"""The allowance for a rise is never computed over less time than this."""
REPLACEMENT_UPDATES: Final = 5
"""Consistent rejected readings needed before a new baseline is accepted."""
REPLACEMENT_SECONDS: Final = 600.0
"""...and for at least this long (10 minutes)."""
EPSILON: Final = 1e-6
"""Rounding noise of the device's decimal values that is not a step back."""


class Verdict(StrEnum):
    """What the guard made of one reading."""

    ACCEPTED = "accepted"
    ZERO = "zero"
    BACKWARDS = "backwards"
    JUMP = "jump"
    REPLACED = "replaced"
    """Accepted as the new baseline after a sustained series of glitches."""

    @property
    def is_glitch(self) -> bool:
        """Return True when the reading was held back."""
        return self in (Verdict.ZERO, Verdict.BACKWARDS, Verdict.JUMP)


@dataclass
class _Candidate:
    """A series of rejected readings that agree with each other."""

    first_at: float
    value: float
    at: float
    count: int = 1


def max_rate(unit: str | None) -> float:
    """Return how much a total in ``unit`` can plausibly rise in an hour."""
    return MAX_RATES.get(unit or "", MAX_POWER_KW)


def allowance(max_rate_per_hour: float, elapsed: float) -> float:
    """Return the largest plausible rise of a total within ``elapsed`` seconds."""
    return max_rate_per_hour * max(elapsed, MIN_ELAPSED_SECONDS) / 3600


def impossible_step(
    good: float, value: float, elapsed: float, max_rate_per_hour: float
) -> bool:
    """Return True when one meter cannot go from ``good`` to ``value``.

    Backwards, or up by more than ``max_rate_per_hour`` allows in ``elapsed``
    seconds; a glitch, a new meter, or another meter altogether.
    """
    return (
        value < good - EPSILON
        or value - good > allowance(max_rate_per_hour, elapsed) + EPSILON
    )


class CounterGuard:
    """Holds the last good value of one total and judges new readings."""

    def __init__(self, max_rate_per_hour: float) -> None:
        """Guard a total that cannot rise faster than ``max_rate_per_hour``."""
        self.max_rate_per_hour = max_rate_per_hour
        self.value: float | None = None
        """The last good value (what the entity shows)."""
        self.at: float | None = None
        """When the last good value was read (monotonic seconds)."""
        self._candidate: _Candidate | None = None

    def restore(self, value: float, at: float) -> None:
        """Start from a value known from before (a restart), read at ``at``."""
        self.value = value
        self.at = at
        self._candidate = None

    def allowance(self, elapsed: float) -> float:
        """Return the largest plausible rise within ``elapsed`` seconds."""
        return allowance(self.max_rate_per_hour, elapsed)

    @property
    def candidate(self) -> tuple[float, int, float] | None:
        """Return the pending new baseline: (value, readings, first seen at)."""
        candidate = self._candidate
        if candidate is None:
            return None
        return candidate.value, candidate.count, candidate.first_at

    def check(self, value: float, now: float) -> Verdict:
        """Judge ``value`` read at ``now``; accepted values become the good one."""
        verdict = self._classify(value, now)
        if not verdict.is_glitch:
            self._accept(value, now)
            return verdict
        if value > 0 and self._sustained(value, now):
            self._accept(value, now)
            return Verdict.REPLACED
        return verdict

    def _classify(self, value: float, now: float) -> Verdict:
        """Compare with the last good value."""
        good, at = self.value, self.at
        if good is None or at is None:
            return Verdict.ZERO if value < 0 else Verdict.ACCEPTED
        if value <= 0 < good:
            return Verdict.ZERO
        if value < good - EPSILON:
            return Verdict.BACKWARDS
        if value - good > self.allowance(now - at) + EPSILON:
            return Verdict.JUMP
        return Verdict.ACCEPTED

    def _sustained(self, value: float, now: float) -> bool:
        """Count a rejected reading toward a new baseline; True once it holds."""
        candidate = self._candidate
        if candidate is not None and (
            candidate.value - EPSILON
            <= value
            <= candidate.value + self.allowance(now - candidate.at) + EPSILON
        ):
            candidate.value = value
            candidate.at = now
            candidate.count += 1
        else:
            candidate = self._candidate = _Candidate(first_at=now, value=value, at=now)
        return (
            candidate.count >= REPLACEMENT_UPDATES
            and now - candidate.first_at >= REPLACEMENT_SECONDS
        )

    def _accept(self, value: float, now: float) -> None:
        """Make ``value`` the good value."""
        self.value = value
        self.at = now
        self._candidate = None


def totals_leap(old: MeterReading, new: MeterReading, elapsed: float) -> bool:
    """Return True when a meter total moved as no single meter can."""
    for code, register in new.values.items():
        description = KNOWN_OBIS.get(code)
        before = old.values.get(code)
        if description is None or not description.is_total or before is None:
            continue
        if before.number is None or register.number is None:
            continue
        rate = max_rate(description.native_unit_of_measurement)
        if impossible_step(before.number, register.number, elapsed, rate):
            return True
    return False
