"""Repair the energy sensors' long-term statistics from the device's memory.

Rows Home Assistant recorded can hold spikes (a 0 reading counted as a new
meter, a step back, a jump) and holes (Home Assistant was down). Each hour of
the range gets the device's reading and energy; later rows keep their own.
"""

from __future__ import annotations

from datetime import date, timedelta
import itertools
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from .const import DOMAIN, HIGH_RES_DAYS
from .coordinator import WattwaechterConfigEntry, device_id
from .history import EXPORT, HOUR, IMPORT, KINDS, Change, Hour, Row, midnight, rebuild
from .recorder import metadata, read_rows, rows_before, shift_sums, write

_LOGGER = logging.getLogger(__name__)

REGISTERS = {IMPORT: "1.8.0", EXPORT: "2.8.0"}


async def async_repair_statistics(
    hass: HomeAssistant,
    entry: WattwaechterConfigEntry,
    first: date,
    last: date,
    *,
    dry_run: bool,
) -> dict[str, Any]:
    """Rebuild the energy sensors' rows of the days ``first`` to ``last``."""
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
    importer = entry.runtime_data.history
    requests = importer.reader.requests
    start, end = importer.span(first, last)
    device: dict[str, dict[int, Hour]] = {kind: {} for kind in KINDS}
    async for _day, _following, found_hours, _failed in importer.async_read_hours(
        first, last, end, lambda _day: False
    ):
        for kind, found in found_hours.items():
            device[kind].update((hour.start, hour) for hour in found)
    tz, one_day = importer.timezone(), timedelta(days=1)
    daily_last = min(last, importer.today() - timedelta(days=HIGH_RES_DAYS))
    days = [first + n * one_day for n in range((daily_last - first).days + 1)]
    daily_days = [(midnight(day, tz), midnight(day + one_day, tz)) for day in days]
    rows = await read_rows(hass, set(entities.values()), start)
    previous = await rows_before(hass, set(entities.values()), start)
    report: dict[str, Any] = {}
    for kind, entity_id in entities.items():
        existing, before = rows[entity_id], previous[entity_id]
        trusted = _trust_matching_days(device[kind], existing, before, daily_days)
        changes, shift = rebuild(start, end, trusted, existing, before)
        report[entity_id] = [_describe(c) for c in changes if c.visible]
        if not dry_run:
            write(hass, metadata(entity_id, None), [(c.start, c.new) for c in changes])
            shift_sums(hass, entity_id, end, shift)
    if not dry_run:
        _LOGGER.info(
            "Repaired the statistics of %s from %s to %s: %s",
            entry.title,
            first,
            last,
            ", ".join(f"{e} {len(c)} hours" for e, c in report.items()),
        )
    return {"statistics": report, "requests": importer.reader.requests - requests}


def _trust_matching_days(
    hours: dict[int, Hour],
    existing: dict[int, Row],
    before: Row | None,
    days: list[tuple[int, int]],
) -> dict[int, Hour]:
    """Keep Home Assistant's hours of a daily-only day whose total is right.

    The device holds such a day's energy in its first hour; when the recorded
    rows add up to it, they keep their hourly split. ``before`` is the row
    before the range.
    """
    trusted = dict(hours)
    for day_start, day_end in days:
        starts = range(day_start - day_start % HOUR, day_end, HOUR)
        lump = hours.get(starts[0])
        earlier = [start for start in existing if start < day_start]
        last = existing[max(earlier)] if earlier else before
        if lump is None or last is None or any(s not in existing for s in starts):
            continue
        sums = [last[1], *(existing[start][1] for start in starts)]
        if sums[-1] - sums[0] == lump.last - lump.first:
            offset = lump.first - sums[0]  # a reading is its row's sum plus this
            for start, (old, new) in zip(starts, itertools.pairwise(sums), strict=True):
                trusted[start] = Hour(start, old + offset, new + offset)
    return trusted


def _describe(change: Change) -> dict[str, Any]:
    """Return one changed hour for the action's response (kWh)."""
    old = change.old
    return {
        "start": dt_util.as_local(dt_util.utc_from_timestamp(change.start)).isoformat(),
        "old_energy": None if change.old_energy is None else change.old_energy / 1000,
        "new_energy": change.energy / 1000,
        "old_reading": None if old is None else old[0] / 1000,
        "new_reading": change.new[0] / 1000,
    }
