"""Meter sensors: values, classes, names, dynamic registers, request cost."""

from __future__ import annotations

import copy
from datetime import datetime
import json
from pathlib import Path
from typing import Any

from homeassistant.components.sensor import (
    ATTR_LAST_RESET,
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
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest

from custom_components.wattwaechter.const import DOMAIN
from simulator import FaultMode, Simulator, SimulatorConfig
from simulator.latest import DROPPED_REGISTERS

from .entities import (
    LATEST,
    entity_id,
    exists,
    ours,
    paths,
    record,
    state,
    value,
)
from .timetravel import advance

GOLDEN = Path(__file__).parent.parent / "fixtures" / "golden"


def golden(name: str) -> dict[str, Any]:
    """Return a golden payload (a fresh copy)."""
    payload: dict[str, Any] = json.loads((GOLDEN / name).read_text("utf-8"))
    return copy.deepcopy(payload)


def totals(device: Simulator) -> tuple[float, float]:
    """Return the import and export (kWh, or m³) the meter displays now."""
    registers = device.device.counter().reading(device.now())
    return registers.imp / 1000, registers.exp / 1000


async def test_power_and_energy_match_the_device(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Energy and power show what the device reports, ready for the Energy card."""
    entry = init_integration
    await advance(hass, 10)
    imported, exported = totals(device)
    energy = state(hass, entry, "1.8.0")
    assert float(energy.state) == pytest.approx(imported, abs=0.0015)
    assert energy.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"
    assert energy.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.ENERGY
    assert energy.attributes[ATTR_STATE_CLASS] == SensorStateClass.TOTAL_INCREASING
    assert value(hass, entry, "2.8.0") == pytest.approx(exported, abs=0.0015)
    power = state(hass, entry, "16.7.0")
    assert power.attributes[ATTR_UNIT_OF_MEASUREMENT] == "W"
    assert power.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.POWER
    assert power.attributes[ATTR_STATE_CLASS] == SensorStateClass.MEASUREMENT
    # Voltages arrive as strings ("230.4") and still become numbers.
    voltage = state(hass, entry, "32.7.0")
    assert voltage.attributes[ATTR_UNIT_OF_MEASUREMENT] == "V"
    assert 200 < float(voltage.state) < 260
    assert state(hass, entry, "31.7.0").attributes[ATTR_UNIT_OF_MEASUREMENT] == "A"
    assert state(hass, entry, "14.7.0").attributes[ATTR_UNIT_OF_MEASUREMENT] == "Hz"

    before = sum(totals(device))
    shown = value(hass, entry, "1.8.0") + value(hass, entry, "2.8.0")
    await advance(hass, 3600)
    assert sum(totals(device)) > before
    assert value(hass, entry, "1.8.0") + value(hass, entry, "2.8.0") > shown


async def test_names_and_unique_ids(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    """Unique IDs are core's ``<device_id>_<obis>``; names are translated."""
    entry = init_integration
    registry = er.async_get(hass)
    energy = registry.async_get(entity_id(hass, entry, "1.8.0"))
    assert energy is not None
    assert energy.unique_id == "AABBCCDDEEFF_1.8.0"
    assert energy.translation_key == "import_total"
    assert energy.entity_id == "sensor.wattwaechter_total_consumption"
    assert state(hass, entry, "1.8.0").name == "WattWaechter Total consumption"
    assert state(hass, entry, "36.7.0").name == "WattWaechter Active power L1"
    assert state(hass, entry, "13.7.0").name == "WattWaechter Power factor"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_german_register_names_stay_out_of_an_english_ui(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    """The device names registers in German ("Bezug", "Statuswort"); known
    registers get HA's translated names instead."""
    german = {"Bezug", "Einspeisung", "Leistung", "Spannung", "Strom", "Frequenz"}
    german |= {"Statuswort", "Zählernummer", "Tarif"}
    names = [
        s.name
        for s in hass.states.async_all("sensor")
        if s.entity_id.startswith("sensor.wattwaechter")
    ]
    assert len(names) > 20
    assert not [name for name in names if set(name.split()) & german]
    assert state(hass, init_integration, "94.91.0").name == "WattWaechter Status word"
    assert state(hass, init_integration, "1.8.1").name == (
        "WattWaechter Consumption tariff 1"
    )


@pytest.mark.parametrize(
    "simulator_config",
    [
        SimulatorConfig(
            payloads={LATEST: golden("vendor/history_latest.test_meter_data.json")}
        )
    ],
)
async def test_vendor_meter_payload(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    """The vendor's published payload: translated names, its 0.0.0 no entity."""
    entry = init_integration
    assert state(hass, entry, "1.8.0").name == "WattWaechter Total consumption"
    assert state(hass, entry, "2.8.0").name == "WattWaechter Total feed-in"
    assert state(hass, entry, "1.8.0").state == "12345.678"
    assert state(hass, entry, "16.7.0").state == "1234"
    # 0.0.0 ("Unbekannt", value "0") only identifies the meter.
    assert not exists(hass, entry, "0.0.0")


def status_payload() -> dict[str, Any]:
    """Core's meter payload plus unitless registers without a table entry."""
    payload = golden("core/history_latest.meter_data.json")
    payload["96.50.1"] = {"value": 10203, "unit": "", "name": "Zustand"}
    payload["96.6.1"] = {"value": "0", "unit": "", "name": "Fehlercode"}
    return payload


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(payloads={LATEST: status_payload()})]
)
async def test_identifier_and_status_registers(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    """Identifiers get no entity; status registers show the device's text.

    No state class, so HA keeps no statistics of a status code; the value as
    the device wrote it (386, not 386.0).
    """
    entry = init_integration
    for code in ("96.1.0", "0.2.0"):
        assert not exists(hass, entry, code), code
    registry = er.async_get(hass)
    for code, shown, name in (
        ("94.91.0", "0x0182", "Status word"),
        ("96.5.0", "386", "Operating status"),
        ("96.50.1", "10203", "Zustand"),
        ("96.6.1", "0", "Fehlercode"),
    ):
        status = state(hass, entry, code)
        assert status.state == shown, code
        assert ATTR_STATE_CLASS not in status.attributes, code
        assert ATTR_UNIT_OF_MEASUREMENT not in status.attributes, code
        assert status.name == f"WattWaechter {name}"
        registered = registry.async_get(status.entity_id)
        assert registered is not None
        assert registered.disabled_by is None  # enabled by the fixture only
    known = registry.async_get(entity_id(hass, entry, "96.5.0"))
    assert known is not None
    assert known.entity_category is EntityCategory.DIAGNOSTIC


async def test_status_registers_are_disabled_by_default(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    """The status word exists but is disabled; the meter serial has no entity."""
    registry = er.async_get(hass)
    status = registry.async_get(entity_id(hass, init_integration, "94.91.0"))
    assert status is not None
    assert status.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert not exists(hass, init_integration, "96.1.0")


async def test_device_info(hass: HomeAssistant, init_integration: ConfigEntry) -> None:
    """The device card: manufacturer, model, firmware, MAC, link to its web UI."""
    registry = dr.async_get(hass)
    (device,) = dr.async_entries_for_config_entry(registry, init_integration.entry_id)
    assert device.identifiers == {(DOMAIN, "AABBCCDDEEFF")}
    assert device.name == "WattWaechter"
    assert device.manufacturer == "SmartCircuits GmbH"
    assert (device.model, device.model_id) == ("WattWächter Plus", "ww_plus")
    assert device.sw_version == "1.2.3"
    assert (dr.CONNECTION_NETWORK_MAC, "aa:bb:cc:dd:ee:ff") in device.connections
    assert device.configuration_url == f"http://{init_integration.data['host']}"


async def test_one_request_per_meter_update(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Each meter update is one request; system info every 5 minutes."""
    device.clear_log()
    for _ in range(61):
        await advance(hass, 10)
    asked = paths(device)
    assert asked.count("/history/latest") == 61
    assert asked.count("/system/info") == 2
    # Settings, LED status and the OTA check are slower still (hourly, 6 h).
    assert len(asked) == 63
    assert all(r.status == 200 for r in device.request_log)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_system_diagnostics(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    """Wi-Fi signal and friends come from the slower system info."""
    entry = init_integration
    signal = state(hass, entry, "wifi_signal")
    assert signal.attributes[ATTR_UNIT_OF_MEASUREMENT] == "dBm"
    assert int(signal.state) < 0
    assert state(hass, entry, "ip_address").state == "127.0.0.1"
    assert state(hass, entry, "ssid").state
    assert state(hass, entry, "firmware_version").state == "1.2.3"


async def test_new_register_appears_without_reload(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """A register that appears later gets its sensor at the next update."""
    entry = init_integration
    assert not exists(hass, entry, "3.7.0")
    device.set_fault(FaultMode.NEW_OBIS)
    await advance(hass, 10)
    reactive = state(hass, entry, "3.7.0")
    assert reactive.attributes[ATTR_UNIT_OF_MEASUREMENT] == "var"
    assert float(reactive.state) == 231.7


async def test_device_offline_and_back(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Meter entities go unavailable while the device is away, then recover."""
    device.set_fault(FaultMode.OFFLINE)
    await advance(hass, 10)
    assert state(hass, init_integration, "1.8.0").state == STATE_UNAVAILABLE
    device.clear_faults()
    await advance(hass, 10)
    assert value(hass, init_integration, "1.8.0") > 0


async def test_unreadable_value_is_unknown(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """A NaN power makes that sensor unknown; the energy sensors stay fine."""
    device.set_fault(FaultMode.NAN)
    await advance(hass, 10)
    assert state(hass, init_integration, "16.7.0").state == STATE_UNKNOWN
    assert value(hass, init_integration, "1.8.0") > 0


async def test_missing_register_is_unavailable(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """A register that drops out makes only its own sensor unavailable."""
    device.set_fault(FaultMode.MISSING_FIELDS)
    await advance(hass, 10)
    for code in ("2.8.1", "13.7.0", "51.7.0"):
        assert code in DROPPED_REGISTERS
        assert state(hass, init_integration, code).state == STATE_UNAVAILABLE
    assert value(hass, init_integration, "1.8.0") > 0


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(first_reading_delay=60)])
async def test_no_reading_yet_then_sensors_appear(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Right after boot (204) setup succeeds; sensors come with the first reading."""
    assert not exists(hass, init_integration, "1.8.0")
    await advance(hass, 70)
    assert value(hass, init_integration, "1.8.0") == pytest.approx(
        totals(device)[0], abs=0.0015
    )


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(profile="no_feed_in")])
async def test_a_total_that_was_always_zero(
    hass: HomeAssistant,
    device: Simulator,
    init_integration: ConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A home without PV: feed-in 0.0 from the first update on, no warning."""
    entry = init_integration
    seen = record(hass, [entity_id(hass, entry, "2.8.0")])
    assert state(hass, entry, "2.8.0").state == "0.0"
    for _ in range(3):
        await advance(hass, 10)
    assert state(hass, entry, "2.8.0").state == "0.0"
    assert value(hass, entry, "1.8.0") > 0
    assert ours(caplog) == []
    assert all(s.state == "0.0" for s in seen[entity_id(hass, entry, "2.8.0")])


GAS = SimulatorConfig(profile="gas", firmware="1.3.0", ota_version="1.3.0")


@pytest.mark.parametrize("simulator_config", [GAS])
async def test_gas_meter_cycles(
    hass: HomeAssistant,
    device: Simulator,
    init_integration: ConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Gas volume is a ``total`` whose cycle starts at the device's meterSince.

    A new meter (a new meterSince) starts a new cycle at its own reading: no
    glitch warning, and the Energy dashboard sees a reset, not a leap.
    """
    entry = init_integration
    gas = state(hass, entry, "7-0:3.0.0")
    assert gas.attributes[ATTR_UNIT_OF_MEASUREMENT] == "m³"
    assert gas.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.GAS
    assert gas.attributes[ATTR_STATE_CLASS] == SensorStateClass.TOTAL
    assert gas.attributes[ATTR_LAST_RESET] == "2025-01-01T00:00:00+00:00"
    assert float(gas.state) == pytest.approx(totals(device)[0], abs=0.0015)

    device.exchange_meter(start_value=3.0)
    exchanged = device.now()
    await advance(hass, 10)
    gas = state(hass, entry, "7-0:3.0.0")
    assert float(gas.state) == pytest.approx(totals(device)[0], abs=0.0015)
    assert float(gas.state) < 4
    since = datetime.fromisoformat(gas.attributes[ATTR_LAST_RESET])
    assert since.timestamp() == pytest.approx(exchanged, abs=1)
    assert ours(caplog) == []
