"""Hour arithmetic on the device's history (no Home Assistant here).

The device keeps 15-minute readings for 30 days and daily values for two
years. These functions turn them into hourly rows of a statistic with a
``state`` (the meter reading at the end of the hour) and a ``sum`` that grows
with the meter, to the Wh. All readings are whole Wh; times are epoch seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Final

from .api.models import HighResItem, LowResItem

IMPORT: Final = "energy_import"
EXPORT: Final = "energy_export"
KINDS: Final = (IMPORT, EXPORT)
SLOT: Final = 900
HOUR: Final = 3600

Row = tuple[int, int]
"""(state, sum) of one hourly row, in Wh."""


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


class SlotHours:
    """Collects 15-minute slots and cuts them into hours.

    A slot's reading is the meter at its start. The end of a slot without a
    successor (the newest so far, or one before a gap) is its start plus its
    average power times 15 minutes.
    """

    def __init__(self, kind: str) -> None:
        """Collect the readings of ``IMPORT`` or ``EXPORT``."""
        self._kind = kind
        self._points: dict[int, tuple[int, bool]] = {}
        """epoch -> (reading Wh, whether a slot starts there)"""

    def add(self, items: Iterable[HighResItem]) -> None:
        """Add the slots of one day."""
        ordered = sorted(items, key=lambda item: item.timestamp)
        for index, item in enumerate(ordered):
            if (total := _total(item, self._kind)) is None:
                continue
            reading = wh(total)
            self._points[item.timestamp] = (reading, True)
            following = ordered[index + 1] if index + 1 < len(ordered) else None
            if (
                following is not None
                and following.timestamp == item.timestamp + SLOT
                and _total(following, self._kind) is not None
            ):
                continue
            power = item.import_kw if self._kind == IMPORT else item.export_kw
            if power is not None and power >= 0:
                end = item.timestamp + SLOT
                self._points.setdefault(end, (reading + round(power * 250), False))

    @property
    def latest(self) -> int | None:
        """Return the time of the newest reading, if any."""
        return max(self._points, default=None)

    def pop_closed(self, boundary: int) -> list[Hour]:
        """Return the hours over by ``boundary`` that have a slot; forget them.

        A reading at the full hour ends one hour and starts the next, so it is
        kept for the hour after ``boundary``.
        """
        cut = boundary - boundary % HOUR
        times = sorted(self._points)
        hours: list[Hour] = []
        index = 0
        while index < len(times) and times[index] < cut:
            start = times[index] - times[index] % HOUR
            last = index
            while last + 1 < len(times) and times[last + 1] <= start + HOUR:
                last += 1
            if any(
                self._points[t][1] for t in times[index : last + 1] if t < start + HOUR
            ):
                first = self._points[times[index]][0]
                hours.append(Hour(start, first, self._points[times[last]][0]))
            index = last if times[last] == start + HOUR else last + 1
        for moment in times:
            if moment < cut:
                del self._points[moment]
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

    Hours must come in time order. A reading below the previous row's is a new
    meter: only that hour's own energy counts.
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
            base = hour.first if hour.first < state else state
            new_sum = total + max(0, hour.last - base)
        elif self._index < len(starts):
            # Before every existing row: line up with the first later one.
            state, total = self._existing[starts[self._index]]
            new_sum = hour.last - (state - total)
        else:
            new_sum = max(0, hour.last - hour.first)
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
        """Return True if the hour's energy or reading changes, not only its sum.

        A row after a repaired hour keeps its energy while its sum moves with
        the ones before; that is no change a user sees.
        """
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

    Each hour gets the device's reading and energy; the sum continues from
    ``before``, the row before the range, so a row whose energy is right is
    written too when its sum moves. Rows after the range keep their own
    energy when their sums move by the returned shift. An hour without device
    data keeps its row, with no energy, so the sums stay continuous.
    """
    changes: list[Change] = []
    total = before[1] if before else 0
    old_total = before[1] if before else None
    reading: int | None = None
    for start in range(first, end, HOUR):
        hour, old = hours.get(start), existing.get(start)
        energy = 0
        if hour is not None:
            base = hour.first if reading is None or hour.first < reading else reading
            energy = max(0, hour.last - base)
            reading = hour.last
        elif old is None or reading is None:
            continue
        total += energy
        old_energy = None if old is None or old_total is None else old[1] - old_total
        change = Change(start, old, (reading, total), old_energy, energy)
        if change.visible or (old is not None and old[1] != total):
            changes.append(change)
        if old is not None:
            old_total = old[1]
    return changes, total - (old_total or 0)
