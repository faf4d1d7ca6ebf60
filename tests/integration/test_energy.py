"""What the Energy dashboard gets: the active tariff and the grid power sensor."""

from __future__ import annotations

from datetime import datetime
import importlib
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
import pytest

from simulator import Simulator, SimulatorConfig

from .entities import INTERVAL, entity_id, record, state, value
from .timetravel import advance

TARIFF = SimulatorConfig(profile="tariff")  # tariff 1 from 06:00, tariff 2 from 22:00


def at(text: str) -> float:
    """Return the epoch seconds of an ISO time."""
    return datetime.fromisoformat(text).timestamp()


async def tariffs(hass: HomeAssistant, entry: ConfigEntry, updates: int) -> str:
    """Return the active tariff after each of ``updates`` meter updates.

    One letter an update: "1", "2" (tariff_1, tariff_2) or "-" (unknown).
    """
    shown = ""
    for _ in range(updates):
        await advance(hass, INTERVAL)
        tariff = state(hass, entry, "active_tariff").state
        shown += "-" if tariff == STATE_UNKNOWN else tariff.removeprefix("tariff_")
    return shown


@pytest.mark.parametrize("simulator_config", [TARIFF])
@pytest.mark.parametrize("start_time", [at("2027-01-15T04:55:00+00:00")])
async def test_active_tariff_follows_the_meter(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    """05:55 local: tariff 2 until 06:00, tariff 1 from then on."""
    entry = init_integration
    tariff = state(hass, entry, "active_tariff")
    assert tariff.attributes["options"][:2] == ["tariff_1", "tariff_2"]
    assert tariff.name == "WattWaechter Active tariff"
    # The first update may not see a register grow yet (whole Wh).
    shown = (await tariffs(hass, entry, 60)).lstrip("-")
    assert shown.startswith("2")
    assert shown.endswith("1")
    assert shown == "2" * shown.count("2") + "1" * shown.count("1")


@pytest.mark.parametrize("simulator_config", [TARIFF])
@pytest.mark.parametrize("start_time", [at("2027-01-15T02:00:00+00:00")])
async def test_active_tariff_at_a_low_load(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    """03:00 local, ~170 W: the register gains a Wh every few updates only.

    The tariff stays shown between the steps instead of flickering to unknown.
    """
    shown = await tariffs(hass, init_integration, 60)
    assert shown.lstrip("-") == "2" * 59


@pytest.mark.parametrize("simulator_config", [TARIFF])
@pytest.mark.parametrize("start_time", [at("2027-06-15T10:00:00+00:00")])
async def test_active_tariff_unknown_while_nothing_is_consumed(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Summer noon: the PV covers the home, no tariff register counts."""
    entry = init_integration
    before = value(hass, entry, "1.8.0")
    seen = record(hass, [entity_id(hass, entry, "active_tariff")])
    assert await tariffs(hass, entry, 30) == "-" * 30
    assert value(hass, entry, "1.8.0") == before
    assert seen[entity_id(hass, entry, "active_tariff")] == []


@pytest.mark.parametrize("start_time", [at("2027-06-15T10:00:00+00:00")])
async def test_power_is_a_valid_grid_power_sensor(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    init_integration: ConfigEntry,
) -> None:
    """HA's own energy validation accepts 16.7.0 (signed: negative on feed-in).

    HA versions with a grid power setting validate it with
    ``_async_validate_power_stat``; the statistic itself exists once the
    recorder compiled an hour, so it is given here.
    """
    validate: Any = importlib.import_module("homeassistant.components.energy.validate")
    if not hasattr(validate, "_async_validate_power_stat"):
        pytest.skip("this HA's Energy dashboard has no grid power sensor setting")
    power = entity_id(hass, init_integration, "16.7.0")
    assert value(hass, init_integration, "16.7.0") < 0  # feeding in at noon
    issues = validate.ValidationIssues()
    validate._async_validate_power_stat(
        hass,
        {power: (1, {})},
        power,
        validate.POWER_USAGE_DEVICE_CLASSES,
        validate.POWER_USAGE_UNITS,
        validate.POWER_UNIT_ERROR,
        issues,
    )
    assert issues.issues == {}
