"""Days older than 30 days: from the daily values, only with the option."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import CONF_DAILY_HISTORY
from simulator import Simulator, SimulatorConfig

from .conftest import finish_import, setup_entry
from .driver import Driver
from .helpers import (
    HIGH_RES,
    HOUR,
    IDS,
    IMPORT_ID,
    LOW_RES,
    assert_rows_match_device,
    call,
    energy,
    history_requests,
    midnight,
    plant,
    reading,
    rows,
    today,
    wh,
)

DAILY = {CONF_DAILY_HISTORY: True}


def offsets(found: list[dict[str, Any]]) -> set[int]:
    """Return the readings at which the rows' sums are 0: one when continuous."""
    return {wh(row["state"]) - wh(row["sum"]) for row in found}


def plant_before_outage(hass: HomeAssistant, device: Simulator) -> tuple[int, date]:
    """Rows of an earlier import up to 14:00 on the day 45 days back."""
    day = today(device) - timedelta(days=45)
    hours = range(midnight(day - timedelta(days=1)), midnight(day) + 14 * HOUR, HOUR)
    for statistic_id, index in IDS:
        plant(hass, device, statistic_id, index, hours)
    return hours[-1], day


def assert_daily_rows(
    device: Simulator, found: list[dict[str, Any]], days: list[date], index: int
) -> None:
    """One row per day at its local midnight: the reading at the day's end,
    the sum grown by the day's energy."""
    assert [int(row["start"]) for row in found] == [midnight(day) for day in days]
    for row, day in zip(found, days, strict=True):
        assert wh(row["state"]) == reading(device, midnight(day + timedelta(1)), index)
    for before, after, day in zip(found, found[1:], days[1:], strict=False):
        end = midnight(day + timedelta(days=1))
        assert wh(after["sum"]) - wh(before["sum"]) == energy(
            device, midnight(day), end, index
        )


async def test_outage_beyond_30_days_needs_the_option(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Without daily values, a 45-day outage leaves its part beyond 30 days open."""
    last, _ = plant_before_outage(hass, device)
    await setup_entry(hass, mock_config_entry)
    await finish_import(driver, mock_config_entry, device)

    assert [r.path for r in history_requests(device)] == [HIGH_RES] * 30
    found = await rows(hass, IMPORT_ID, last + HOUR)
    assert int(found[0]["start"]) == midnight(today(device) - timedelta(days=29))
    assert_rows_match_device(device, found, 0)


async def test_outage_beyond_30_days_from_daily_values(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    mock_config_entry: MockConfigEntry,
) -> None:
    """With the option, the whole days beyond 30 days come from one request of
    daily values, one row each at local midnight; the sums run on throughout.
    The outage's first day is not asked: its midnight row is there."""
    last, outage_day = plant_before_outage(hass, device)
    await setup_entry(hass, mock_config_entry, **DAILY)
    await finish_import(driver, mock_config_entry, device)

    first_15 = today(device) - timedelta(days=29)
    requests = history_requests(device)
    assert [r.path for r in requests] == [LOW_RES] + [HIGH_RES] * 30
    assert requests[0].query == f"start={outage_day + timedelta(days=1)}&days=15"
    days = [outage_day + timedelta(days=n) for n in range(1, 16)]
    for statistic_id, index in IDS:
        found = await rows(hass, statistic_id)
        daily = [r for r in found if last < r["start"] < midnight(first_15)]
        assert_daily_rows(device, daily, days, index)
        assert len(offsets(found)) == 1
        assert_rows_match_device(
            device, [r for r in found if r["start"] >= midnight(first_15)], index
        )


async def test_hourly_run_after_daily_rows_asks_only_newer_days(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    mock_config_entry: MockConfigEntry,
) -> None:
    """When the newest row is a day's midnight row (an import of daily values
    ran, or still runs), the hourly run starts at the next day: it does not
    read that day again."""
    newest = today(device) - timedelta(days=40)
    for statistic_id, index in IDS:
        first = midnight(newest - timedelta(days=20))
        days = range(first, midnight(newest) + 1, 86_400)
        plant(hass, device, statistic_id, index, days)
    await setup_entry(hass, mock_config_entry, **DAILY)
    await finish_import(driver, mock_config_entry, device)

    assert [(r.path, r.query) for r in history_requests(device)][:1] == [
        (LOW_RES, f"start={newest + timedelta(days=1)}&days=10")
    ]


async def test_action_reads_older_days_from_daily_values(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The action with the option: older days in one request, one row per day,
    lined up with the 15-minute rows; a second call reads nothing."""
    entry = await setup_entry(hass, mock_config_entry)
    await finish_import(driver, entry, device)
    hass.config_entries.async_update_entry(entry, options=DAILY)
    kept = {sid: await rows(hass, sid) for sid, _ in IDS}
    device.clear_log()
    first, last = today(device) - timedelta(days=40), today(device) - timedelta(20)

    for _ in range(2):
        await call(
            hass,
            driver,
            "import_history",
            config_entry_id=entry.entry_id,
            start=first,
            end=last,
        )
    # One request for eleven days; the 15-minute days already had rows.
    assert [(r.path, r.query) for r in history_requests(device)] == [
        (LOW_RES, f"start={first}&days=11")
    ]
    days = [first + timedelta(days=n) for n in range(11)]
    for statistic_id, index in IDS:
        found = await rows(hass, statistic_id)
        assert found[11:] == kept[statistic_id]
        assert_daily_rows(device, found[:11], days, index)
        assert len(offsets(found)) == 1


async def test_two_years_back(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    mock_config_entry: MockConfigEntry,
) -> None:
    """With the option, 729 days back are allowed: 31 days per request."""
    entry = await setup_entry(hass, mock_config_entry, **DAILY)
    first = today(device) - timedelta(days=729)
    last = today(device) - timedelta(days=30)
    await call(
        hass,
        driver,
        "import_history",
        config_entry_id=entry.entry_id,
        start=first,
        end=last,
    )
    # (the hourly import, a minute after the start, may read recent days
    # meanwhile: only the days older than 30 are the action's)
    requests = [r for r in history_requests(device) if r.path == LOW_RES]
    assert len(requests) == 23  # 700 days
    oldest_high_res = str(today(device) - timedelta(days=29))
    assert all(
        r.query.removeprefix("date=") >= oldest_high_res
        for r in history_requests(device)
        if r.path != LOW_RES
    )
    end = midnight(last + timedelta(days=1))
    found = [row for row in await rows(hass, IMPORT_ID) if row["start"] < end]
    assert len(found) == 700
    assert int(found[0]["start"]) == midnight(first)
    assert len(offsets(found)) == 1


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(history_days=45)])
async def test_daily_memory_starting_inside_a_request(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The device refuses a range that starts before its memory (firmware 1.2:
    400); bisection finds the first day it has."""
    entry = await setup_entry(hass, mock_config_entry, **DAILY)
    first, last = today(device) - timedelta(days=60), today(device) - timedelta(30)
    await call(
        hass,
        driver,
        "import_history",
        config_entry_id=entry.entry_id,
        start=first,
        end=last,
    )
    requests = history_requests(device)
    assert requests[0].status == 400
    assert requests[-1].query == f"start={today(device) - timedelta(days=44)}&days=15"
    assert len(requests) <= 8
    found = await rows(hass, IMPORT_ID)
    assert int(found[0]["start"]) == midnight(today(device) - timedelta(days=44))
    assert len(found) == 15
    assert len(offsets(found)) == 1


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(history_days=20)])
async def test_no_daily_memory_in_the_range(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    mock_config_entry: MockConfigEntry,
) -> None:
    """A range the device has no daily values for imports nothing."""
    entry = await setup_entry(hass, mock_config_entry, **DAILY)
    first, last = today(device) - timedelta(days=40), today(device) - timedelta(31)
    await call(
        hass,
        driver,
        "import_history",
        config_entry_id=entry.entry_id,
        start=first,
        end=last,
    )
    assert [r.status for r in history_requests(device)] == [400, 400]
    assert await rows(hass, IMPORT_ID) == []
