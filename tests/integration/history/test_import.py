"""The automatic import of the device's history into external statistics."""

from __future__ import annotations

from datetime import date, timedelta
import itertools
import logging
from unittest.mock import patch

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.compat import UNIT_CLASS_IN_METADATA
from custom_components.wattwaechter.const import CONF_DAILY_HISTORY, DOMAIN
from custom_components.wattwaechter.recorder import metadata as statistic_metadata
from simulator import Simulator, SimulatorConfig

from .conftest import finish_import
from .driver import Driver
from .helpers import (
    EXPORT_ID,
    IDS,
    IMPORT_ID,
    LATEST,
    NOW,
    YOUNG,
    assert_rows_match_device,
    days_asked,
    energy,
    epoch,
    history_requests,
    history_started,
    last_closed_hour,
    metadata,
    midnight,
    rows,
    today,
    wh,
)


async def test_first_setup_imports_30_days(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """A minute after start the last 30 days arrive as hourly rows, exact to the Wh."""
    importer = init_integration.runtime_data.history
    began = hass.loop.time()
    await driver.run_for(59)
    assert history_requests(device) == []
    await driver.run_until(lambda: bool(history_requests(device)))
    assert 59 < hass.loop.time() - began < 61
    await driver.run_until(lambda: not importer.running)

    oldest = today(device) - timedelta(days=29)
    assert days_asked(device) == [str(oldest + timedelta(days=n)) for n in range(30)]
    assert {r.status for r in history_requests(device)} == {200}
    for statistic_id, index in IDS:
        found = await rows(hass, statistic_id)
        assert int(found[0]["start"]) == midnight(oldest)
        assert int(found[-1]["start"]) == last_closed_hour(device)
        assert_rows_match_device(device, found, index)
        # The sum starts with the first hour's own energy.
        first = midnight(oldest)
        assert wh(found[0]["sum"]) == energy(device, first, first + 3600, index)

    meta = await metadata(hass, IMPORT_ID)
    assert meta is not None
    assert meta["has_sum"] is True
    assert meta["mean_type"] is StatisticMeanType.NONE
    assert meta["source"] == DOMAIN
    assert meta["unit_of_measurement"] == "kWh"
    assert meta["name"] == "WattWaechter Total consumption (device history)"
    if UNIT_CLASS_IN_METADATA:
        assert meta["unit_class"] == "energy"
    else:
        assert "unit_class" not in meta
    export = await metadata(hass, EXPORT_ID)
    assert export is not None
    assert export["name"] == "WattWaechter Total feed-in (device history)"


@pytest.mark.parametrize(
    ("start_time", "day", "hours"),
    [
        (NOW, "2026-10-25", 25),
        (epoch("2026-03-31T10:07:00+00:00"), "2026-03-29", 23),
    ],
)
@pytest.mark.parametrize("simulator_config", [YOUNG])
async def test_dst_days(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    imported: ConfigEntry,
    day: str,
    hours: int,
) -> None:
    """A day with a DST change has 25 (or 23) rows, each right to the Wh."""
    start = midnight(date.fromisoformat(day))
    end = midnight(date.fromisoformat(day) + timedelta(days=1))
    assert (end - start) // 3600 == hours
    for statistic_id, index in IDS:
        found = await rows(hass, statistic_id, start - 3600, end)
        assert len(found) == hours + 1
        assert_rows_match_device(device, found, index)
        # The day's rows add up to the day's change of the meter reading.
        day_energy = wh(found[-1]["sum"]) - wh(found[0]["sum"])
        assert day_energy == energy(device, start, end, index)


async def test_waits_a_minute_after_home_assistant_started(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    mock_config_entry: MockConfigEntry,
) -> None:
    """While Home Assistant starts, nothing is read; a minute after, the import runs."""
    hass.set_state(CoreState.starting)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await driver.run_for(600)
    assert history_requests(device) == []

    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    began = hass.loop.time()
    await driver.run_until(lambda: history_started(device))
    assert 59 < hass.loop.time() - began < 61
    await finish_import(driver, mock_config_entry, device)
    assert len(days_asked(device)) == 30


@pytest.mark.parametrize(
    "simulator_config",
    [SimulatorConfig(profile="gas"), SimulatorConfig(profile="water")],
)
async def test_gas_and_water_import_nothing(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """A gas or water meter has no kWh history: nothing is read or written."""
    await driver.run_for(2 * 3600)
    assert history_requests(device) == []
    for statistic_id, _ in IDS:
        assert await rows(hass, statistic_id) == []
        assert await metadata(hass, statistic_id) is None


@pytest.mark.parametrize("simulator_config", [YOUNG])
async def test_statistic_names_follow_language_and_title(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The names come from the translations and the entry's title."""
    hass.config.language = "de"
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await finish_import(driver, mock_config_entry, device)
    meta = await metadata(hass, IMPORT_ID)
    assert meta is not None
    assert meta["name"] == "WattWaechter Gesamtbezug (Geräteverlauf)"

    hass.config_entries.async_update_entry(mock_config_entry, title="Keller")
    await driver.run_for(3600)
    meta = await metadata(hass, EXPORT_ID)
    assert meta is not None
    assert meta["name"] == "Keller Gesamteinspeisung (Geräteverlauf)"


@pytest.mark.parametrize("unit_class", [True, False])
def test_metadata_with_and_without_unit_class(unit_class: bool) -> None:
    """unit_class only where HA has it (2025.11+); has_mean only where not."""
    with patch(
        "custom_components.wattwaechter.compat.UNIT_CLASS_IN_METADATA", unit_class
    ):
        external = statistic_metadata("wattwaechter:x_energy_import", "X")
        sensor = statistic_metadata("sensor.x_total_consumption", None)
    for meta in (external, sensor):
        assert meta["has_sum"] is True
        assert meta["mean_type"] is StatisticMeanType.NONE
        assert meta["unit_of_measurement"] == "kWh"
        if unit_class:
            assert meta.get("unit_class") == "energy"
            assert "has_mean" not in meta
        else:
            assert "unit_class" not in meta
            assert meta.get("has_mean") is False
    assert external["source"] == DOMAIN
    assert sensor["source"] == "recorder"


async def test_meter_keeps_its_pace_during_the_import(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """A 30-day import through the real budget, against the device's real
    limit: the device refuses nothing, the meter polls keep their pace, at
    most five history requests in any ten seconds."""
    await finish_import(driver, init_integration, device)

    assert {r.status for r in device.request_log} == {200}
    history = history_requests(device)
    took = history[-1].time - history[0].time
    times = [r.time for r in history]
    assert max(sum(t <= u < t + 10 for u in times) for t in times) <= 5
    polls = [r.time for r in device.request_log if r.path == LATEST]
    during = [t for t in polls if history[0].time - 15 <= t <= history[-1].time + 15]
    assert len(during) >= took // 11
    spacing = [b - a for a, b in itertools.pairwise(during)]
    assert max(spacing) - min(spacing) < 0.5
    logging.getLogger(__name__).warning(
        "30-day import: %.0f virtual s, %s history requests, %s meter polls meanwhile",
        took,
        len(history),
        len(during),
    )


@pytest.mark.parametrize("simulator_config", [YOUNG])
async def test_options_flow_turns_daily_values_on(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """The options flow stores the opt-in; the import follows without reload."""
    importer = init_integration.runtime_data.history
    assert importer.daily is False
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 30, CONF_DAILY_HISTORY: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_DAILY_HISTORY] is True
    assert importer.daily is True
    assert init_integration.state is ConfigEntryState.LOADED
    # The new meter interval applies from the next update on.
    device.clear_log()
    await driver.run_for(130)
    polls = [r.time for r in device.request_log if r.path == LATEST]
    spacing = [b - a for a, b in itertools.pairwise(polls)][1:]
    assert len(spacing) >= 2
    assert all(29.5 < gap < 31.5 for gap in spacing), spacing
