"""Meter sensors: values, classes, dynamic registers, request cost."""

from __future__ import annotations

from typing import Any

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.sensor import (
    ATTR_STATE_CLASS,
    SensorDeviceClass,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest

from custom_components.wattwaechter.const import DOMAIN
from simulator import FaultMode, Simulator, SimulatorConfig

from .conftest import setup_via_flow
from .helpers import advance, entity_id, state

LATEST = "/api/v1/history/latest"


async def _device_registers(sim: Simulator) -> dict[str, Any]:
    """Read /history/latest the way the integration does, as the truth to compare."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sim.url}{LATEST}") as resp,
    ):
        data = await resp.json(content_type=None)
    return {code: item for code, item in data.items() if isinstance(item, dict)}


async def _device_values(sim: Simulator) -> dict[str, object]:
    """Return the registers' values as the device sends them."""
    data = await _device_registers(sim)
    return {
        code: item["value"]
        for code, item in data.items()
        if isinstance(item, dict) and "value" in item
    }


async def test_power_and_energy_match_the_device(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Energy and power show what the device reports, with Energy-ready classes."""
    await advance(hass, freezer, 10)
    truth = await _device_values(device)

    energy = state(hass, entry, "1.8.0")
    assert float(energy.state) == pytest.approx(float(truth["1.8.0"]), abs=0.0005)
    assert energy.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"
    assert energy.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.ENERGY
    assert energy.attributes[ATTR_STATE_CLASS] == SensorStateClass.TOTAL_INCREASING

    export = state(hass, entry, "2.8.0")
    assert float(export.state) == pytest.approx(float(truth["2.8.0"]), abs=0.0005)

    power = state(hass, entry, "16.7.0")
    assert power.attributes[ATTR_UNIT_OF_MEASUREMENT] == "W"
    assert power.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.POWER
    assert power.attributes[ATTR_STATE_CLASS] == SensorStateClass.MEASUREMENT
    assert float(power.state) == pytest.approx(float(truth["16.7.0"]), abs=150)

    # Voltages arrive as strings ("230.4") and still become numbers.
    voltage = state(hass, entry, "32.7.0")
    assert voltage.attributes[ATTR_UNIT_OF_MEASUREMENT] == "V"
    assert 200 < float(voltage.state) < 260
    assert state(hass, entry, "31.7.0").attributes[ATTR_UNIT_OF_MEASUREMENT] == "A"
    assert state(hass, entry, "14.7.0").attributes[ATTR_UNIT_OF_MEASUREMENT] == "Hz"


async def test_energy_follows_the_counter(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The meter's totals grow as time passes on the device.

    Import or export: around noon the simulated PV covers the load, and only
    the export counter moves.
    """

    def totals() -> float:
        return sum(float(state(hass, entry, code).state) for code in ("1.8.0", "2.8.0"))

    before = totals()
    await advance(hass, freezer, 3600)
    assert totals() > before


async def test_entity_names_and_unique_ids(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """Unique IDs follow core's ``<device_id>_<obis>``; names are translated."""
    registry = er.async_get(hass)
    assert entry.unique_id == "AABBCCDDEEFF"
    energy = registry.async_get(entity_id(hass, entry, "1.8.0"))
    assert energy is not None
    assert energy.unique_id == "AABBCCDDEEFF_1.8.0"
    assert energy.translation_key == "import_total"
    assert hass.states.get(energy.entity_id).name == "WattWaechter Energy import"  # type: ignore[union-attr]
    phase = hass.states.get(entity_id(hass, entry, "36.7.0"))
    assert phase is not None
    assert phase.name == "WattWaechter Power L1"


async def test_device_info(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """The device card shows manufacturer, model, firmware, MAC and a link."""
    registry = dr.async_get(hass)
    # async_get_device is deprecated (an error from 2026.10); this works everywhere.
    (dev,) = dr.async_entries_for_config_entry(registry, entry.entry_id)
    assert dev.identifiers == {(DOMAIN, "AABBCCDDEEFF")}
    assert dev.manufacturer == "SmartCircuits GmbH"
    assert dev.model == "WattWächter Plus"
    assert dev.sw_version == "1.2.3"
    assert (dr.CONNECTION_NETWORK_MAC, "aa:bb:cc:dd:ee:ff") in dev.connections
    assert dev.configuration_url == "http://wattwaechter-aabbccddeeff.local"


async def test_text_and_unknown_registers_are_disabled_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """The meter serial exists but is disabled; no register is dropped."""
    registry = er.async_get(hass)
    serial = registry.async_get(entity_id(hass, entry, "96.1.0"))
    assert serial is not None
    assert serial.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    truth = await _device_values(device)
    for code in truth:
        assert registry.async_get_entity_id("sensor", DOMAIN, f"AABBCCDDEEFF_{code}")


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_text_register_keeps_its_text(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """Text registers such as the status word show their text."""
    assert state(hass, entry, "94.91.0").state == "0x0182"


async def test_one_request_per_meter_update(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Each meter update costs exactly one request: /history/latest."""
    device.clear_log()
    updates = 61
    for _ in range(updates):
        await advance(hass, freezer, 10)
    latest = [r for r in device.request_log if r.path == LATEST]
    assert len(latest) == updates
    # Everything else is slow: system info (firmware version for the update
    # entity) every 5 minutes; settings and LED status (LED entities) only
    # hourly, unless something changed them.
    paths = [r.path for r in device.request_log]
    assert paths.count("/api/v1/system/info") == 2
    assert len(device.request_log) == updates + 2
    assert all(r.status == 200 for r in device.request_log)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_system_info_on_its_own_slow_cadence(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """With the diagnostic sensors enabled, system info is read every 5 minutes."""
    device.clear_log()
    for _ in range(61):
        await advance(hass, 10)
    paths = [r.path for r in device.request_log]
    assert paths.count(LATEST) == 61
    assert paths.count("/api/v1/system/info") == 2
    # Settings and LED status (the LED entities) only hourly.
    assert len(paths) == 63
    assert all(r.status == 200 for r in device.request_log)


async def test_new_register_appears_without_reload(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A register that appears later gets its sensor at the next update."""
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("sensor", DOMAIN, "AABBCCDDEEFF_1.8.3") is None
    device.set_fault(FaultMode("new_obis"))
    await advance(hass, freezer, 10)
    tariff3 = state(hass, entry, "1.8.3")
    assert tariff3.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"
    assert float(tariff3.state) > 0


async def test_device_offline_and_back(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Meter entities go unavailable while the device is away and recover."""
    device.set_fault(FaultMode("offline"))
    await advance(hass, freezer, 10)
    assert state(hass, entry, "1.8.0").state == STATE_UNAVAILABLE
    device.clear_faults()
    await advance(hass, freezer, 10)
    assert state(hass, entry, "1.8.0").state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


async def test_unreadable_value_is_unknown(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A NaN power makes that sensor unknown; the energy sensors stay fine."""
    device.set_fault(FaultMode("nan"))
    await advance(hass, freezer, 10)
    assert state(hass, entry, "16.7.0").state == STATE_UNKNOWN
    assert state(hass, entry, "1.8.0").state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


async def test_missing_register_is_unavailable(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A register that drops out of the reading makes only its sensor unavailable."""
    before = set(await _device_registers(device))
    device.set_fault(FaultMode("missing_fields"))
    await advance(hass, freezer, 10)
    gone = before - set(await _device_registers(device))
    assert gone
    for code in gone:
        assert state(hass, entry, code).state == STATE_UNAVAILABLE
    assert state(hass, entry, "1.8.0").state != STATE_UNAVAILABLE or "1.8.0" in gone


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(first_reading_delay=60)])
async def test_no_reading_yet_then_sensors_appear(
    hass: HomeAssistant, device: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Right after boot (204) setup succeeds; sensors come with the first reading."""
    entry = await setup_via_flow(hass, device)
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("sensor", DOMAIN, "AABBCCDDEEFF_1.8.0") is None
    await advance(hass, freezer, 70)
    assert float(state(hass, entry, "1.8.0").state) > 0


@pytest.mark.parametrize(
    "simulator_config",
    [
        SimulatorConfig(
            medium="gas",
            model="WW-GW-MF",
            model_id="ww_gw_mf",
            product_name="WattWächter Gas",
        )
    ],
)
async def test_gas_meter(hass: HomeAssistant, device: Simulator) -> None:
    """A gas WattWächter gets a gas volume sensor in m³ for the Energy dashboard."""
    entry = await setup_via_flow(hass, device)
    gas = state(hass, entry, "7-0:3.0.0")
    assert gas.attributes[ATTR_UNIT_OF_MEASUREMENT] == "m³"
    assert gas.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.GAS
    assert gas.attributes[ATTR_STATE_CLASS] == SensorStateClass.TOTAL_INCREASING
    assert float(gas.state) > 0


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_system_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """Wi-Fi signal and friends come from the slower system coordinator."""
    signal = state(hass, entry, "wifi_signal")
    assert signal.attributes[ATTR_UNIT_OF_MEASUREMENT] == "dBm"
    assert int(signal.state) < 0
    assert state(hass, entry, "ip_address").state
    assert state(hass, entry, "ssid").state
