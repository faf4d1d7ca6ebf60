"""Helpers of the history tests: read statistics, what the device says."""

from __future__ import annotations

from datetime import UTC, date, datetime
import itertools
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    async_import_statistics,
    get_metadata,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance

from custom_components.wattwaechter.compat import metadata_unit_class
from custom_components.wattwaechter.const import DOMAIN
from simulator import Simulator, SimulatorConfig

from .driver import Driver

BERLIN = ZoneInfo("Europe/Berlin")
IMPORT_ID = "wattwaechter:aabbccddeeff_energy_import"
EXPORT_ID = "wattwaechter:aabbccddeeff_energy_export"
IDS = ((IMPORT_ID, 0), (EXPORT_ID, 1))
HIGH_RES = "/api/v1/history/highRes"
LOW_RES = "/api/v1/history/lowRes"
LATEST = "/api/v1/history/latest"
HOUR = 3600


def epoch(text: str) -> int:
    """Return the epoch of an ISO time."""
    return int(datetime.fromisoformat(text).timestamp())


NOW = epoch("2026-10-27T10:07:00+00:00")
"""Two days after the autumn DST change in Berlin, 7 min into a slot."""


def midnight(day: date) -> int:
    """Return the epoch of the Berlin midnight that starts ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=BERLIN).timestamp())


def today(sim: Simulator) -> date:
    """Return the device's local date."""
    return datetime.fromtimestamp(sim.now(), BERLIN).date()


def last_closed_hour(sim: Simulator) -> int:
    """Return the start of the newest hour whose four slots are complete."""
    completed = int(sim.now()) // 900 * 900
    return completed - completed % HOUR - HOUR


def wh(kwh: float | None) -> int:
    """Return kWh as whole Wh."""
    return round((kwh or 0.0) * 1000)


def reading(sim: Simulator, at: int, index: int) -> int:
    """Return the device's reading (Wh) at a slot boundary (0 import, 1 export)."""
    return sim.meter.reading_at_slot(at // 900)[index]


def energy(sim: Simulator, start: int, end: int, index: int) -> int:
    """Return the Wh the meter counted from ``start`` to ``end`` (slot bounds)."""
    return reading(sim, end, index) - reading(sim, start, index)


async def rows(
    hass: HomeAssistant, statistic_id: str, start: float = 0, end: float | None = None
) -> list[dict[str, Any]]:
    """Return the hourly rows of a statistic that start in [start, end)."""
    instance = get_instance(hass)
    await instance.async_block_till_done()
    stats = await instance.async_add_executor_job(
        statistics_during_period,
        hass,
        datetime.fromtimestamp(start, UTC),
        None,
        {statistic_id},
        "hour",
        None,
        {"state", "sum"},
    )
    return [
        dict(row)
        for row in stats.get(statistic_id, [])
        if end is None or row["start"] < end
    ]


async def metadata(hass: HomeAssistant, statistic_id: str) -> dict[str, Any] | None:
    """Return the stored metadata of a statistic, or None."""
    instance = get_instance(hass)
    await instance.async_block_till_done()
    found = await instance.async_add_executor_job(
        lambda: get_metadata(hass, statistic_ids={statistic_id})
    )
    return dict(found[statistic_id][1]) if statistic_id in found else None


def history_requests(sim: Simulator) -> list[Any]:
    """Return the logged history requests."""
    return [r for r in sim.request_log if r.path in (HIGH_RES, LOW_RES)]


def days_asked(sim: Simulator) -> list[str]:
    """Return the days of the logged 15-minute requests, in order."""
    return [
        r.query.removeprefix("date=") for r in sim.request_log if r.path == HIGH_RES
    ]


def assert_rows_match_device(
    sim: Simulator, found: list[dict[str, Any]], index: int
) -> None:
    """Check contiguous hourly rows against the device's 15-minute readings.

    Each row's state is the reading at the end of its hour, and its sum grows
    by exactly the meter's energy of that hour, to the Wh.
    """
    assert found
    for row in found:
        start = int(row["start"])
        assert start % HOUR == 0
        assert wh(row["state"]) == reading(sim, start + HOUR, index), row
    for before, after in itertools.pairwise(found):
        start = int(after["start"])
        assert int(before["start"]) + HOUR == start, "rows are contiguous"
        assert wh(after["sum"]) - wh(before["sum"]) == energy(
            sim, start, start + HOUR, index
        )


def history_started(sim: Simulator) -> bool:
    """Return True once the import asked the device for anything."""
    return bool(history_requests(sim))


def plant(
    hass: HomeAssistant,
    sim: Simulator,
    statistic_id: str,
    index: int,
    hours: range,
    offset: int | None = None,
) -> int:
    """Write hourly rows as an earlier import would have (true to the device).

    ``offset`` is the reading where the sum is 0 (default: the first hour's
    start); returns it. External IDs (with a colon) are this integration's.
    """
    if offset is None:
        offset = reading(sim, hours[0], index)
    external = ":" in statistic_id
    meta = {
        "has_sum": True,
        "mean_type": StatisticMeanType.NONE,
        "name": None,
        "source": DOMAIN if external else "recorder",
        "statistic_id": statistic_id,
        "unit_of_measurement": "kWh",
        **metadata_unit_class("energy"),
    }
    data = [
        StatisticData(
            start=datetime.fromtimestamp(start, UTC),
            state=reading(sim, start + HOUR, index) / 1000,
            sum=(reading(sim, start + HOUR, index) - offset) / 1000,
        )
        for start in hours
    ]
    add = async_add_external_statistics if external else async_import_statistics
    add(hass, meta, data)  # type: ignore[arg-type]
    return offset


async def call(hass: HomeAssistant, driver: Driver, service: str, **data: Any) -> Any:
    """Call one of the integration's actions while virtual time runs."""
    data = {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}
    return await driver.run(
        hass.services.async_call(
            DOMAIN,
            service,
            data,
            blocking=True,
            return_response=service == "repair_statistics",
        )
    )


YOUNG = SimulatorConfig(history_days=5)
"""A device five days old: a short first import, for tests about later runs."""
