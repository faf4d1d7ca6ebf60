"""Repair the energy sensors' long-term statistics from the device's memory.

Rows recorded by Home Assistant (also by core's or the vendor's integration
before) can hold spikes (a 0 reading counted as a meter reset, a step back, a
jump) and holes (Home Assistant was down). Each hour of the range gets the
device's reading and energy; every later row moves by the same amount, so it
keeps its own hourly energy. A day older than the 15-minute memory is known
only as a total: when Home Assistant's rows add up to it, they stay as they
are; otherwise the day's energy goes into its first hour, as the import does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from .const import DOMAIN, HIGH_RES_DAYS
from .coordinator import WattwaechterConfigEntry, device_id
from .history import (
    EXPORT,
    HOUR,
    IMPORT,
    Change,
    Hour,
    Row,
    SlotHours,
    daily_hours,
    midnight,
    rebuild,
)
from .importer import MAX_LOW_RES_DAYS
from .reader import NotOurDeviceError
from .recorder import metadata, read_rows, rows_before, shift_sums, write

_LOGGER = logging.getLogger(__name__)

REGISTERS = {IMPORT: "1.8.0", EXPORT: "2.8.0"}


@dataclass(frozen=True, slots=True)
class RepairRange:
    """The hours [start, end) of a repair and the days behind them."""

    first: date
    last: date
    start: int
    end: int


def repair_range(
    entry: WattwaechterConfigEntry, first: date, last: date
) -> RepairRange:
    """Return the hours of the days ``first`` to ``last`` that are over."""
    tz = entry.runtime_data.history.timezone()
    now = int(dt_util.utcnow().timestamp())
    end = min(midnight(last + timedelta(days=1), tz), now - now % HOUR)
    return RepairRange(first, last, midnight(first, tz), end)


async def async_repair_statistics(
    hass: HomeAssistant,
    entry: WattwaechterConfigEntry,
    span: RepairRange,
    *,
    dry_run: bool,
) -> dict[str, Any]:
    """Rebuild the energy sensors' rows in ``span``; return what changes."""
    registry = er.async_get(hass)
    entities = {
        kind: entity_id
        for kind, code in REGISTERS.items()
        if (
            entity_id := registry.async_get_entity_id(
                "sensor", DOMAIN, f"{device_id(entry)}_{code}"
            )
        )
    }
    reader = entry.runtime_data.history.reader
    requests = reader.requests
    device, days = await _async_device_hours(entry, span)
    rows = await read_rows(hass, set(entities.values()), span.start)
    last = await rows_before(hass, set(entities.values()), span.start)
    report: dict[str, Any] = {}
    for kind, entity_id in entities.items():
        existing, before = rows[entity_id], last[entity_id]
        hours = _trust_matching_days(device[kind], existing, before, days)
        changes, shift = rebuild(span.start, span.end, hours, existing, before)
        report[entity_id] = [_describe(c) for c in changes if c.visible]
        if not dry_run:
            write(hass, metadata(entity_id, None), [(c.start, c.new) for c in changes])
            shift_sums(hass, entity_id, span.end, shift)
    if not dry_run:
        _LOGGER.info(
            "Repaired the statistics of %s from %s to %s: %s",
            entry.title,
            span.first,
            span.last,
            ", ".join(f"{e} {len(c)} hours" for e, c in report.items()),
        )
    return {"statistics": report, "requests": reader.requests - requests}


async def _async_device_hours(
    entry: WattwaechterConfigEntry, span: RepairRange
) -> tuple[dict[str, dict[int, Hour]], list[tuple[int, int]]]:
    """Return the device's hours of the span per kind, and its daily-only days."""
    importer = entry.runtime_data.history
    if not await importer.reader.ours():
        raise NotOurDeviceError
    tz, today = importer.timezone(), importer.today()
    hours: dict[str, dict[int, Hour]] = {IMPORT: {}, EXPORT: {}}
    days: list[tuple[int, int]] = []
    daily_last = min(span.last, today - timedelta(days=HIGH_RES_DAYS))
    chunk = span.first
    while chunk <= daily_last:  # the device gives up to 31 days per request
        chunk_end = min(daily_last, chunk + timedelta(days=MAX_LOW_RES_DAYS - 1))
        items = await importer.reader.low_res(chunk, chunk_end)
        chunk = chunk_end + timedelta(days=1)
        for kind, known in hours.items():
            known.update({hour.start: hour for hour in daily_hours(items, kind, tz)})
        days += [
            (midnight(item.day, tz), midnight(item.day + timedelta(days=1), tz))
            for item in items
            if item.day
        ]
    slots = {kind: SlotHours(kind) for kind in hours}
    day = max(span.first, daily_last + timedelta(days=1))
    while day <= span.last:
        items_15 = await importer.reader.high_res(day) or ()
        for builder in slots.values():
            builder.add(items_15)
        day += timedelta(days=1)
    for kind, builder in slots.items():
        hours[kind].update({hour.start: hour for hour in builder.pop_closed(span.end)})
    return hours, days


def _trust_matching_days(
    hours: dict[int, Hour],
    existing: dict[int, Row],
    before: Row | None,
    days: list[tuple[int, int]],
) -> dict[int, Hour]:
    """Keep Home Assistant's hours of a daily-only day whose total is right.

    Of such a day the device knows the reading at its start and its energy,
    held in its first hour; matching rows keep their hourly split. ``before``
    is the row before the range.
    """
    trusted = dict(hours)
    for day_start, day_end in days:
        lump = hours.get(day_start - day_start % HOUR)
        earlier = [start for start in existing if start < day_start]
        last = existing[max(earlier)] if earlier else before
        if lump is None or last is None:
            continue
        starts = range(lump.start, day_end, HOUR)
        previous = last[1]
        if any(s not in existing for s in starts) or (
            existing[starts[-1]][1] - previous != lump.last - lump.first
        ):
            continue
        reading = lump.first
        for start in starts:
            energy = existing[start][1] - previous
            trusted[start] = Hour(start, reading, reading + energy)
            reading, previous = reading + energy, existing[start][1]
    return trusted


def _describe(change: Change) -> dict[str, Any]:
    """Return one changed hour for the action's response (kWh)."""
    old = change.old
    return {
        "start": datetime.fromtimestamp(change.start, UTC).isoformat(),
        "old_energy": None if change.old_energy is None else change.old_energy / 1000,
        "new_energy": change.energy / 1000,
        "old_reading": None if old is None else old[0] / 1000,
        "new_reading": change.new[0] / 1000,
    }
