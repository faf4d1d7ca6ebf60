"""Later runs of the import: re-runs, downtimes, the hourly run, skipped days."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
import pytest

from simulator import FaultMode, Simulator, SimulatorConfig

from .conftest import finish_import
from .driver import Driver
from .helpers import (
    HIGH_RES,
    IDS,
    IMPORT_ID,
    YOUNG,
    assert_rows_match_device,
    days_asked,
    history_requests,
    history_started,
    last_closed_hour,
    midnight,
    rows,
    today,
)


@pytest.mark.parametrize("simulator_config", [YOUNG])
async def test_rerun_reads_and_writes_nothing(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    imported: ConfigEntry,
) -> None:
    """Importing the same days again reads nothing and changes no row."""
    importer = imported.runtime_data.history
    before = {sid: await rows(hass, sid) for sid, _ in IDS}
    first = today(device) - timedelta(days=4)

    assert await driver.run(importer.async_backfill()) == 0
    assert await driver.run(importer.async_import_days(first, today(device))) == 0

    assert history_requests(device) == []
    assert {sid: await rows(hass, sid) for sid, _ in IDS} == before


@pytest.mark.parametrize("simulator_config", [YOUNG])
async def test_three_day_downtime_is_filled(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    imported: ConfigEntry,
) -> None:
    """Home Assistant away for three days: the next start fills exactly those hours."""
    before = await rows(hass, IMPORT_ID)
    assert await hass.config_entries.async_unload(imported.entry_id)
    driver.virtual.tick(3 * 86_400)
    device.clear_log()

    assert await hass.config_entries.async_setup(imported.entry_id)
    await finish_import(driver, imported, device)

    for statistic_id, index in IDS:
        found = await rows(hass, statistic_id)
        new = found[len(before) :]
        assert len(new) == 72
        assert int(new[0]["start"]) == int(before[-1]["start"]) + 3600
        assert int(new[-1]["start"]) == last_closed_hour(device)
        assert_rows_match_device(device, found, index)
    # One request per local day since the last row.
    assert days_asked(device) == [
        str(today(device) - timedelta(days=n)) for n in (3, 2, 1, 0)
    ]


@pytest.mark.parametrize("simulator_config", [YOUNG])
async def test_hourly_run_adds_only_new_hours(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    imported: ConfigEntry,
) -> None:
    """Every hour the hours that are over arrive; earlier rows stay as they are."""
    before = await rows(hass, IMPORT_ID)

    await driver.run_for(2 * 3600)

    after = await rows(hass, IMPORT_ID)
    assert after[: len(before)] == before
    assert len(after) == len(before) + 2
    assert int(after[-1]["start"]) == last_closed_hour(device)
    assert_rows_match_device(device, after, 0)
    # Each run read today only.
    assert days_asked(device) == [str(today(device))] * 2


async def test_unload_stops_a_running_import(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """Unloading the entry ends the import in the middle; nothing more is read."""
    await driver.run_until(lambda: len(days_asked(device)) >= 5)
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    asked = len(days_asked(device))
    await driver.run_for(600)
    assert len(days_asked(device)) == asked < 30


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(history_days=3)])
async def test_days_before_the_device_existed_are_skipped(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    imported: ConfigEntry,
) -> None:
    """A device younger than 30 days answers 400 for older days: skipped, and
    not asked again by the hourly run."""
    found = await rows(hass, IMPORT_ID)
    assert int(found[0]["start"]) == midnight(today(device) - timedelta(days=2))
    assert_rows_match_device(device, found, 0)
    await driver.run_for(3600)
    assert days_asked(device) == [str(today(device))]


async def test_bad_answers_skip_a_day_until_the_next_run(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    slow_meter: ConfigEntry,
) -> None:
    """A day the device answers with garbage three times is skipped; the others
    arrive, and the next hourly run asks for it again."""
    device.set_fault(FaultMode.HTTP_500, paths=[HIGH_RES], count=3)
    await finish_import(driver, slow_meter, device)
    first = str(today(device) - timedelta(days=29))
    assert [r.status for r in history_requests(device)][:3] == [500] * 3
    assert days_asked(device).count(first) == 3
    assert len(set(days_asked(device))) == 30
    assert int((await rows(hass, IMPORT_ID))[0]["start"]) == midnight(
        today(device) - timedelta(days=28)
    )

    await driver.run_until(lambda: days_asked(device).count(first) == 4)
    await driver.run_until(lambda: not slow_meter.runtime_data.history.running)
    for statistic_id, index in IDS:
        assert_rows_match_device(device, await rows(hass, statistic_id), index)


async def test_a_tick_during_a_run_starts_no_second_one(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """The hourly timer ticking while an import runs does not start another."""
    importer = init_integration.runtime_data.history
    await driver.run_until(lambda: history_started(device))
    importer.async_schedule()  # what the timer calls
    await finish_import(driver, init_integration, device)
    assert len(days_asked(device)) == len(set(days_asked(device))) == 30


async def test_old_days_without_the_option_are_skipped(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """Should the option go off after the action checked it, old days are skipped."""
    importer = init_integration.runtime_data.history
    first = today(device) - timedelta(days=40)
    written = await driver.run(
        importer.async_import_days(first, today(device) - timedelta(days=28))
    )
    assert days_asked(device) == [
        str(today(device) - timedelta(days=n)) for n in (29, 28)
    ]
    assert written == 2 * 48
