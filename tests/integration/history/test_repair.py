"""The repair_statistics action: spikes and holes in the sensors' statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import itertools
import logging
import time
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import StatisticData, StatisticMeanType
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.compat import metadata_unit_class
from custom_components.wattwaechter.const import CONF_DAILY_HISTORY, DOMAIN
from simulator import Simulator

from .conftest import setup_entry
from .driver import Driver
from .helpers import (
    BERLIN,
    HOUR,
    LATEST,
    LOW_RES,
    call,
    energy,
    history_requests,
    last_closed_hour,
    midnight,
    reading,
    rows,
    today,
    wh,
)

CONSUMPTION = "sensor.wattwaechter_total_consumption"
FEED_IN = "sensor.wattwaechter_total_feed_in"
SENSORS = ((CONSUMPTION, 0), (FEED_IN, 1))


def local(day_offset: int, hour: int, device: Simulator) -> int:
    """Return the epoch of ``hour`` o'clock on the local day ``day_offset`` back."""
    day = today(device) - timedelta(days=day_offset)
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN).timestamp())


def record(
    hass: HomeAssistant,
    device: Simulator,
    entity_id: str,
    index: int,
    hours: range,
    hole: range = range(0),
    spike: int | None = None,
) -> None:
    """Write a sensor's hourly rows as Home Assistant recorded them.

    Hours of ``hole`` (Home Assistant was down) have no row: the next row's
    sum holds their energy. At ``spike`` the sensor read 0, which counts as a
    new meter: that hour gains nothing, the next one the whole reading.
    """
    offset = reading(device, hours[0], index)
    extra = 0
    data = []
    for start in hours:
        state = reading(device, start + HOUR, index)
        if start == spike:
            data.append((start, 0, reading(device, start, index) - offset))
            extra = reading(device, start, index)  # counted again from 0
            continue
        if start not in hole:
            data.append((start, state, state - offset + extra))
    meta = {
        "has_sum": True,
        "mean_type": StatisticMeanType.NONE,
        "name": None,
        "source": "recorder",
        "statistic_id": entity_id,
        "unit_of_measurement": "kWh",
        **metadata_unit_class("energy"),
    }
    async_import_statistics(
        hass,
        meta,  # type: ignore[arg-type]
        [
            StatisticData(
                start=datetime.fromtimestamp(start, UTC),
                state=state / 1000,
                sum=total / 1000,
            )
            for start, state, total in data
        ],
    )


def hourly(found: list[dict[str, Any]]) -> dict[int, int]:
    """Return each row's hourly energy (Wh): its sum less the previous row's."""
    return {
        int(after["start"]): wh(after["sum"]) - wh(before["sum"])
        for before, after in itertools.pairwise(found)
    }


def iso(epoch: int) -> str:
    """Return an hour as the repair reports it: in Home Assistant's time zone."""
    return dt_util.as_local(datetime.fromtimestamp(epoch, UTC)).isoformat()


@pytest.fixture
async def entry(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    mock_config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """An entry whose sensors were recorded for 30 days; no import runs (HA
    has not finished starting), so only the repair talks to the device."""
    hass.set_state(CoreState.starting)
    await setup_entry(hass, mock_config_entry)
    registry = er.async_get(hass)
    for entity_id, code in ((CONSUMPTION, "1.8.0"), (FEED_IN, "2.8.0")):
        assert (
            registry.async_get_entity_id("sensor", DOMAIN, f"AABBCCDDEEFF_{code}")
            == entity_id
        )
    device.clear_log()
    return mock_config_entry


async def test_spike_and_hole_are_repaired(
    hass: HomeAssistant, device: Simulator, driver: Driver, entry: MockConfigEntry
) -> None:
    """Issue 15: a spike and a 6-hour hole. The dry run changes nothing and
    names exactly those hours; the repair makes every hour of the range the
    device's, and every later row keeps its hourly value."""
    hours = range(
        midnight(today(device) - timedelta(days=29)),
        last_closed_hour(device) + HOUR,
        HOUR,
    )
    hole = range(local(10, 10, device), local(10, 16, device), HOUR)
    spike = local(8, 15, device)
    for entity_id, index in SENSORS:
        record(hass, device, entity_id, index, hours, hole, spike)
    first, last = today(device) - timedelta(days=12), today(device) - timedelta(days=6)
    start, end = midnight(first), midnight(last + timedelta(days=1))
    before = {entity_id: await rows(hass, entity_id) for entity_id, _ in SENSORS}

    answer = await call(
        hass,
        driver,
        "repair_statistics",
        config_entry_id=entry.entry_id,
        start=first,
        end=last,
        dry_run=True,
    )

    assert {e: await rows(hass, e) for e, _ in SENSORS} == before
    for entity_id, index in SENSORS:
        changed = answer["statistics"][entity_id]
        expected = [*hole, hole[-1] + HOUR, spike, spike + HOUR]
        assert [c["start"] for c in changed] == [iso(h) for h in expected]
        for change, hour in zip(changed, expected, strict=True):
            assert change["new_energy"] * 1000 == pytest.approx(
                energy(device, hour, hour + HOUR, index), abs=0.5
            )
            assert change["new_reading"] * 1000 == pytest.approx(
                reading(device, hour + HOUR, index), abs=0.5
            )
        assert [c["old_energy"] for c in changed[:6]] == [None] * 6
        assert [c["old_reading"] for c in changed[:6]] == [None] * 6
        hole_and_after = energy(device, hole[0], hole[-1] + 2 * HOUR, index)
        assert changed[6]["old_energy"] * 1000 == pytest.approx(hole_and_after, abs=0.5)
        assert changed[7]["old_reading"] == 0
        assert changed[7]["old_energy"] == 0
        assert changed[8]["old_energy"] * 1000 == pytest.approx(
            reading(device, spike + 2 * HOUR, index), abs=0.5
        )
    assert answer["requests"] == 8  # seven days, and who answers

    await call(
        hass,
        driver,
        "repair_statistics",
        config_entry_id=entry.entry_id,
        start=first,
        end=last,
    )

    for entity_id, index in SENSORS:
        found = await rows(hass, entity_id)
        inside = [r for r in found if start <= r["start"] < end]
        assert len(inside) == (end - start) // HOUR
        for row in inside:
            hour = int(row["start"])
            assert wh(row["state"]) == reading(device, hour + HOUR, index)
        values = hourly(found)
        for hour in range(start, end, HOUR):
            assert values[hour] == energy(device, hour, hour + HOUR, index), iso(hour)
        old = hourly(before[entity_id])
        later = [h for h in values if h >= end]
        assert later
        assert {h: values[h] for h in later} == {h: old[h] for h in later}


async def test_daily_only_days_keep_a_right_hourly_split(
    hass: HomeAssistant, device: Simulator, driver: Driver, entry: MockConfigEntry
) -> None:
    """Days older than 30 days are known as totals only: a day whose recorded
    rows add up to the device's total keeps its hours; a day with a spike gets
    the device's total in its first hour, as the import does."""
    hass.config_entries.async_update_entry(entry, options={CONF_DAILY_HISTORY: True})
    hours = range(local(37, 0, device), local(30, 0, device), HOUR)
    spike = local(34, 9, device)
    record(hass, device, CONSUMPTION, 0, hours, spike=spike)
    record(hass, device, FEED_IN, 1, hours)
    first, last = today(device) - timedelta(days=35), today(device) - timedelta(33)
    before = {entity_id: await rows(hass, entity_id) for entity_id, _ in SENSORS}

    answer = await call(
        hass,
        driver,
        "repair_statistics",
        config_entry_id=entry.entry_id,
        start=first,
        end=last,
    )

    # Only the day with the spike changes, and only on the meter that had it.
    assert answer["statistics"][FEED_IN] == []
    bad_day = range(local(34, 0, device), local(33, 0, device), HOUR)
    changed = answer["statistics"][CONSUMPTION]
    assert [c["start"] for c in changed] == [iso(h) for h in bad_day]
    day_energy = energy(device, bad_day[0], bad_day[-1] + HOUR, 0)
    assert changed[0]["new_energy"] * 1000 == pytest.approx(day_energy, abs=0.5)
    assert {c["new_energy"] for c in changed[1:]} == {0}
    assert [r.path for r in history_requests(device)] == [LOW_RES]

    for entity_id, index in SENSORS:
        found = await rows(hass, entity_id)
        values, old = hourly(found), hourly(before[entity_id])
        for hour in values:
            if hour in bad_day and entity_id == CONSUMPTION:
                continue
            assert values[hour] == old[hour] == energy(device, hour, hour + HOUR, index)
    repaired = hourly(await rows(hass, CONSUMPTION))
    assert sum(repaired[h] for h in bad_day) == day_energy


async def test_daily_only_range_longer_than_one_request(
    hass: HomeAssistant, device: Simulator, driver: Driver, entry: MockConfigEntry
) -> None:
    """The device gives at most 31 daily values per request: a longer range of
    daily-only days is asked in parts, and a spike in its last part repaired."""
    hass.config_entries.async_update_entry(entry, options={CONF_DAILY_HISTORY: True})
    hours = range(local(80, 0, device), local(30, 0, device), HOUR)
    spike = local(35, 9, device)
    record(hass, device, CONSUMPTION, 0, hours, spike=spike)
    record(hass, device, FEED_IN, 1, hours)
    first, last = today(device) - timedelta(days=75), today(device) - timedelta(31)

    answer = await call(
        hass,
        driver,
        "repair_statistics",
        config_entry_id=entry.entry_id,
        start=first,
        end=last,
    )

    assert answer["statistics"][FEED_IN] == []
    bad_day = range(local(35, 0, device), local(34, 0, device), HOUR)
    changed = answer["statistics"][CONSUMPTION]
    assert [c["start"] for c in changed] == [iso(h) for h in bad_day]
    assert [r.query for r in history_requests(device)] == [
        f"start={first.isoformat()}&days=31",
        f"start={(first + timedelta(days=31)).isoformat()}&days=14",
    ]


async def test_30_day_repair_cost(
    hass: HomeAssistant, device: Simulator, driver: Driver, entry: MockConfigEntry
) -> None:
    """A 30-day repair, paced at background priority: what it costs."""
    hours = range(
        midnight(today(device) - timedelta(days=29)),
        last_closed_hour(device) + HOUR,
        HOUR,
    )
    spike = local(5, 12, device)
    for entity_id, index in SENSORS:
        record(hass, device, entity_id, index, hours, spike=spike)
    await rows(hass, CONSUMPTION)  # written before the clock starts
    budget = entry.runtime_data.client.budget
    granted = budget.stats.granted.get("background", 0)
    began, real = hass.loop.time(), time.perf_counter()

    answer = await call(
        hass,
        driver,
        "repair_statistics",
        config_entry_id=entry.entry_id,
        start=today(device) - timedelta(days=29),
    )

    took = hass.loop.time() - began
    await get_instance(hass).async_block_till_done()  # the rows are written
    real = time.perf_counter() - real
    history = history_requests(device)
    assert len(history) == 30
    assert answer["requests"] == 31  # and the one asking who answers
    assert budget.stats.granted["background"] - granted == 31
    # Background pace: at most five history requests in any ten seconds.
    times = [r.time for r in history]
    assert max(sum(t <= u < t + 10 for u in times) for t in times) <= 5
    for entity_id, index in SENSORS:
        values = hourly(await rows(hass, entity_id))
        assert all(values[h] == energy(device, h, h + HOUR, index) for h in hours[1:])
    logging.getLogger(__name__).warning(
        "30-day repair: %s requests (%s history), %.1f virtual s, %.2f real s",
        len(device.request_log) - sum(r.path == LATEST for r in device.request_log),
        len(history),
        took,
        real,
    )


async def test_range_after_a_long_hole_continues_the_sums(
    hass: HomeAssistant, device: Simulator, driver: Driver, entry: MockConfigEntry
) -> None:
    """Home Assistant was down for two days right before the range: the
    repaired rows go on from the last row before the hole, not from 0."""
    hours = range(
        midnight(today(device) - timedelta(days=8)), local(2, 0, device), HOUR
    )
    hole = range(local(6, 0, device), local(4, 0, device), HOUR)
    spike = local(3, 12, device)
    for entity_id, index in SENSORS:
        record(hass, device, entity_id, index, hours, hole, spike)
    first = today(device) - timedelta(days=4)
    await call(
        hass,
        driver,
        "repair_statistics",
        config_entry_id=entry.entry_id,
        start=first,
        end=first + timedelta(days=1),
    )
    for entity_id, index in SENSORS:
        found = await rows(hass, entity_id)
        values = hourly(found)
        start = midnight(first)
        # The first row after the hole holds its own hour, as every other one.
        assert values[start] == energy(device, start, start + HOUR, index)
        for hour in range(start, local(2, 0, device), HOUR):
            assert values[hour] == energy(device, hour, hour + HOUR, index), iso(hour)
