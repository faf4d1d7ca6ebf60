"""Hour arithmetic on the device's history (no Home Assistant here).

15-minute slots and daily values become hourly statistic rows: ``state`` is the
reading at the hour's end, ``sum`` grows with the meter. Wh and epoch seconds.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
import itertools
from typing import Final

from .api.history_items import HighResItem, LowResItem

IMPORT: Final = "energy_import"
EXPORT: Final = "energy_export"
KINDS: Final = (IMPORT, EXPORT)
SLOT: Final = 900
HOUR: Final = 3600

Row = tuple[int, int]  # (state, sum) of one hourly row, in Wh


@dataclass(frozen=True, slots=True)
class Hour:
    """The meter readings (Wh) of one UTC hour: its first data point and its end."""

    start: int
    first: int
    last: int


def wh(kwh: float) -> int:
    """Return kWh as whole Wh."""
    return round(kwh * 1000)


def midnight(day: date, tz: tzinfo) -> int:
    """Return the epoch of the local midnight that starts ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())


def _total(item: HighResItem | LowResItem, kind: str) -> float | None:
    return item.import_total_kwh if kind == IMPORT else item.export_total_kwh


def energy(hour: Hour, reading: int | None) -> int:
    """Return the energy of ``hour`` after ``reading``; a drop is a new meter."""
    base = hour.first if reading is None or hour.first < reading else reading
    return max(0, hour.last - base)


class SlotHours:
    """Collects the 15-minute slots of ``IMPORT`` or ``EXPORT``; cuts them into hours.

    A slot's reading is the meter at its start. A slot without a successor (the
    newest, or one before a gap) ends at its start plus its power for 15 minutes.
    """

    def __init__(self, kind: str) -> None:
        """Start without slots."""
        self._kind = kind
        self._points: dict[int, tuple[int, bool]] = {}  # reading, slot starts

    def add(self, items: Iterable[HighResItem]) -> None:
        """Add the slots of one day."""
        readable = {
            item.timestamp: (item, wh(total))
            for item in items
            if (total := _total(item, self._kind)) is not None
        }
        for start, (item, reading) in readable.items():
            self._points[start] = (reading, True)
            power = item.import_kw if self._kind == IMPORT else item.export_kw
            if start + SLOT not in readable and power is not None and power >= 0:
                end = (reading + round(power * 250), False)
                self._points.setdefault(start + SLOT, end)

    @property
    def latest(self) -> int | None:
        """Return the time of the newest reading, if any."""
        return max(self._points, default=None)

    def pop_closed(self, boundary: int) -> list[Hour]:
        """Return the hours over by ``boundary`` that have a slot; forget them.

        A reading at the full hour also starts the next hour: it is kept.
        """
        cut = boundary - boundary % HOUR
        times = sorted(self._points)
        hours: list[Hour] = []
        for start in sorted({t - t % HOUR for t in times if t < cut}):
            inside = [t for t in times if start <= t <= start + HOUR]
            if any(self._points[t][1] for t in inside if t < start + HOUR):
                first, last = self._points[inside[0]][0], self._points[inside[-1]][0]
                hours.append(Hour(start, first, last))
        self._points = {t: point for t, point in self._points.items() if t >= cut}
        return hours


def daily_hours(items: Iterable[LowResItem], kind: str, tz: tzinfo) -> list[Hour]:
    """Return one hour per day, at its local midnight, holding the whole day."""
    hours: list[Hour] = []
    for item in items:
        total = _total(item, kind)
        energy = item.import_kwh if kind == IMPORT else item.export_kwh
        if total is None or energy is None or energy < 0:
            continue
        start = midnight(item.day, tz) if item.day else item.timestamp
        hours.append(Hour(start - start % HOUR, wh(total), wh(total) + wh(energy)))
    return sorted(hours, key=lambda hour: hour.start)


class SumCursor:
    """Continues the ``sum`` of a statistic over new hours, around existing rows.

    Hours come in time order; a reading below the previous row's is a new meter.
    """

    def __init__(self, existing: Mapping[int, Row]) -> None:
        """Start with the existing rows: hour start -> (state, sum)."""
        self._existing = existing
        self._starts = sorted(existing)
        self._index = 0
        self._previous: Row | None = None

    def row(self, hour: Hour) -> Row | None:
        """Return (state, sum) of a new row, or None if the hour has one."""
        starts = self._starts
        while self._index < len(starts) and starts[self._index] < hour.start:
            self._previous = self._existing[starts[self._index]]
            self._index += 1
        if hour.start in self._existing:
            return None
        if self._previous is not None:
            state, total = self._previous
            new_sum = total + energy(hour, state)
        elif self._index < len(starts):
            # Before every existing row: line up with the first later one.
            state, total = self._existing[starts[self._index]]
            new_sum = hour.last - (state - total)
        else:
            new_sum = energy(hour, None)
        self._previous = (hour.last, new_sum)
        return self._previous


@dataclass(frozen=True, slots=True)
class Change:
    """One hour a statistics repair writes: its hourly energy and reading (Wh)."""

    start: int
    old: Row | None
    new: Row
    old_energy: int | None
    energy: int

    @property
    def visible(self) -> bool:
        """Return True if the hour's energy or reading changes, not only its sum."""
        old = self.old
        return (
            old is None
            or self.old_energy != self.energy
            or abs(old[0] - self.new[0]) > 1
        )


def rebuild(
    first: int,
    end: int,
    hours: Mapping[int, Hour],
    existing: Mapping[int, Row],
    before: Row | None,
) -> tuple[list[Change], int]:
    """Return the rows a repair of the hours [first, end) writes, and the shift.

    Each hour gets the device's reading and energy, its sum going on from
    ``before`` (the row before the range); the rows after it move by the shift.
    An hour without device data keeps its row, with no energy.
    """
    changes: list[Change] = []
    total = before[1] if before else 0
    old_total = before[1] if before else None
    reading: int | None = None
    for start in range(first, end, HOUR):
        hour, old = hours.get(start), existing.get(start)
        added = 0
        if hour is not None:
            added = energy(hour, reading)
            reading = hour.last
        elif old is None or reading is None:
            continue
        total += added
        old_energy = None if old is None or old_total is None else old[1] - old_total
        change = Change(start, old, (reading, total), old_energy, added)
        if change.visible or (old is not None and old[1] != total):
            changes.append(change)
        if old is not None:
            old_total = old[1]
    return changes, total - (old_total or 0)


def trust_matching_days(
    hours: dict[int, Hour],
    existing: dict[int, Row],
    before: Row | None,
    days: list[tuple[int, int]],
) -> dict[int, Hour]:
    """Keep the recorded hours of a daily-only day [start, end) whose total is right.

    The device has such a day's energy in its first hour only; ``before`` is the
    row before the range.
    """
    trusted = dict(hours)
    ordered = sorted(existing)
    for day_start, day_end in days:
        starts = range(day_start - day_start % HOUR, day_end, HOUR)
        lump = hours.get(starts[0])
        earlier = bisect.bisect_left(ordered, day_start)  # rows before the day
        last = existing[ordered[earlier - 1]] if earlier else before
        if lump is None or last is None or any(s not in existing for s in starts):
            continue
        sums = [last[1], *(existing[start][1] for start in starts)]
        if sums[-1] - sums[0] == lump.last - lump.first:
            offset = lump.first - sums[0]  # a reading is its row's sum plus this
            for start, (old, new) in zip(starts, itertools.pairwise(sums), strict=True):
                trusted[start] = Hour(start, old + offset, new + offset)
    return trusted
