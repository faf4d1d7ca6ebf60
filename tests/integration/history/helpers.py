"""Helpers of the history backfill tests: read statistics, expected values."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime
import itertools
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.components.recorder.statistics import (
    get_metadata,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance

from simulator import Simulator

from ..timetravel import VirtualTime

BERLIN = ZoneInfo("Europe/Berlin")
IMPORT_ID = "wattwaechter:aabbccddeeff_energy_import"
EXPORT_ID = "wattwaechter:aabbccddeeff_energy_export"
HIGH_RES = "/api/v1/history/highRes"
LOW_RES = "/api/v1/history/lowRes"
LATEST = "/api/v1/history/latest"
SETTINGS = "/api/v1/settings"


def epoch(text: str) -> float:
    """Return the epoch of an ISO time."""
    return datetime.fromisoformat(text).timestamp()


NOW = epoch("2026-10-27T10:07:00+00:00")
"""Two days after the autumn DST change in Berlin, 7 min into a slot."""


def midnight(day: date) -> int:
    """Return the epoch of Berlin midnight starting ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=BERLIN).timestamp())


def berlin_today(sim: Simulator) -> date:
    """Return the simulated device's local date."""
    assert sim.config.clock is not None
    return datetime.fromtimestamp(sim.config.clock(), BERLIN).date()


async def settle(hass: HomeAssistant) -> None:
    """Let the backfill finish and the recorder write what it queued."""
    await hass.async_block_till_done(wait_background_tasks=True)
    await get_instance(hass).async_block_till_done()


async def rows(
    hass: HomeAssistant, statistic_id: str, start: float = 0.0
) -> list[dict[str, Any]]:
    """Return the hourly rows of a statistic from ``start`` on."""
    await get_instance(hass).async_block_till_done()
    stats = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime.fromtimestamp(start, UTC),
        None,
        {statistic_id},
        "hour",
        None,
        {"state", "sum"},
    )
    return [dict(row) for row in stats.get(statistic_id, [])]


async def metadata(hass: HomeAssistant, statistic_id: str) -> dict[str, Any]:
    """Return the stored metadata of a statistic."""
    found = await get_instance(hass).async_add_executor_job(
        lambda: get_metadata(hass, statistic_ids={statistic_id})
    )
    return dict(found[statistic_id][1])


def hour_energy(sim: Simulator, hour: int, index: int) -> int:
    """Return the Wh of the four 15-minute slots of an hour (0 import, 1 export)."""
    first = hour // 900
    return sum(sim.meter.slot_energy(slot)[index] for slot in range(first, first + 4))


def reading(sim: Simulator, at: int, index: int) -> int:
    """Return the exact reading (Wh) at a slot boundary."""
    return sim.meter.reading_at_slot(at // 900)[index]


def wh(kwh: float) -> int:
    """Return kWh as whole Wh."""
    return round(kwh * 1000)


def history_requests(sim: Simulator) -> list[Any]:
    """Return the logged history requests."""
    return [r for r in sim.request_log if r.path in (HIGH_RES, LOW_RES)]


def assert_rows_match_device(
    sim: Simulator, found: list[dict[str, Any]], index: int
) -> None:
    """Check contiguous hourly rows against the simulator's 15-minute slots.

    Each row's state is the reading at the end of its hour, and its sum grows
    by exactly the energy of the hour's four slots, to the Wh.
    """
    assert found
    for row in found:
        start = int(row["start"])
        assert start % 3600 == 0
        assert wh(row["state"]) == reading(sim, start + 3600, index)
    for before, after in itertools.pairwise(found):
        start = int(after["start"])
        assert int(before["start"]) + 3600 == start, "rows are contiguous"
        assert wh(after["sum"]) - wh(before["sum"]) == hour_energy(sim, start, index)


async def wait_for_request(sim: Simulator, path: str, count: int = 1) -> None:
    """Wait until the simulator has logged ``count`` requests to ``path``.

    The backfill runs on its own; the log is the only thing that tells.
    """
    async with asyncio.timeout(10):
        while sum(r.path == path for r in sim.request_log) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def fast_forward(time_travel: VirtualTime, done: Callable[[], bool]) -> None:
    """Move the virtual clock 1 s per 10 ms of real time until ``done()``.

    Unlike ``advance`` it does not wait for background tasks, so a backfill that
    sleeps (a Retry-After, its request spacing) wakes up without real waiting.
    """
    for _ in range(3000):
        if done():
            return
        time_travel.tick(1)
        await asyncio.sleep(0.01)
    raise AssertionError("fast_forward: condition not reached")
