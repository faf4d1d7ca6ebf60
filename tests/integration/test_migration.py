"""Entries of HA core's and the vendor's integration load here with their entities."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import DOMAIN
from custom_components.wattwaechter.migration import async_migrate_entry
from simulator import Simulator, SimulatorConfig

from .timetravel import VirtualTime, advance

PLUS_ID = "AABBCCDDEEFF"
GAS_ID = "A1B2C3D4E5F6"
GAS_DEVICE = SimulatorConfig(
    device_id=GAS_ID,
    medium="gas",
    model="WW-GW-MF",
    model_id="ww_gw_mf",
    product_name="WattWächter Gas",
)


def add_entry(
    hass: HomeAssistant,
    sim: Simulator,
    unique_id: str,
    minor_version: int,
    options: dict[str, Any] | None = None,
    **data: Any,
) -> MockConfigEntry:
    """Add an entry as another integration (version) stored it."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Zähler",
        unique_id=unique_id,
        version=1,
        minor_version=minor_version,
        data={"host": f"127.0.0.1:{sim.port}", "token": None, **data},
        options=options or {},
    )
    entry.add_to_hass(hass)
    return entry


def register(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    domain: str,
    unique_id: str,
    object_id: str,
    **kwargs: Any,
) -> str:
    """Register an entity as the other integration left it; return its entity ID."""
    return (
        er.async_get(hass)
        .async_get_or_create(
            domain,
            DOMAIN,
            unique_id,
            config_entry=entry,
            suggested_object_id=object_id,
            **kwargs,
        )
        .entity_id
    )


def registered(hass: HomeAssistant, entity_id: str) -> er.RegistryEntry:
    """Return the registry entry of ``entity_id``, which must exist."""
    entity = er.async_get(hass).async_get(entity_id)
    assert entity is not None, entity_id
    return entity


def state(hass: HomeAssistant, entity_id: str) -> str:
    """Return the state of ``entity_id``, which must exist."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the entry up; it must load."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize("minor_version", [1, 3], ids=["core_2026_10", "core_2026_11"])
async def test_core_electricity_entry_keeps_its_ids(
    hass: HomeAssistant, device: Simulator, minor_version: int
) -> None:
    """Core entries of a WattWächter Plus keep unique IDs, entity IDs, disablings."""
    entry = add_entry(
        hass,
        device,
        PLUS_ID,
        minor_version,
        device_id=PLUS_ID,
        model="ww_plus",
        fw_version="1.2.3",
        mac="AA:BB:CC:DD:EE:FF",
    )
    energy = register(hass, entry, "sensor", f"{PLUS_ID}_1.8.0", "zahler_bezug")
    signal = register(
        hass,
        entry,
        "sensor",
        f"{PLUS_ID}_wifi_signal",
        "zahler_wlan",
        disabled_by=er.RegistryEntryDisabler.INTEGRATION,
    )
    update = register(hass, entry, "update", PLUS_ID, "zahler_firmware")
    await setup(hass, entry)

    assert entry.minor_version == 3
    assert entry.unique_id == PLUS_ID
    assert registered(hass, energy).unique_id == f"{PLUS_ID}_1.8.0"
    assert float(state(hass, energy)) > 0
    assert state(hass, update) in ("on", "off")
    assert registered(hass, signal).disabled_by is er.RegistryEntryDisabler.INTEGRATION
    # Our entries are core entries: same version, core's data keys are all there.
    assert {"host", "token", "device_id", "model", "fw_version", "mac"} <= set(
        entry.data
    )


@pytest.mark.parametrize("simulator_config", [GAS_DEVICE])
async def test_core_2026_10_gas_entry_moves_to_the_bare_mac(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Core 2026.10 stored gas devices as WWGW-<MAC>; entities keep their entity IDs."""
    old_id = f"WWGW-{GAS_ID}"
    entry = add_entry(
        hass,
        device,
        old_id,
        1,
        device_id=old_id,
        model="WW-GW-MF",
        fw_version="1.2.3",
        mac="A1:B2:C3:D4:E5:F6",
    )
    device_registry = dr.async_get(hass)
    device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, old_id)}
    )
    gas = register(hass, entry, "sensor", f"{old_id}_7-0:3.0.0", "gas_verbrauch")
    power = register(
        hass,
        entry,
        "sensor",
        f"{old_id}_7-0:16.7.0",
        "gas_leistung",
        disabled_by=er.RegistryEntryDisabler.INTEGRATION,
    )
    update = register(hass, entry, "update", old_id, "gas_firmware")
    await setup(hass, entry)

    assert entry.minor_version == 3
    assert entry.unique_id == GAS_ID
    assert entry.data["device_id"] == GAS_ID
    assert registered(hass, gas).unique_id == f"{GAS_ID}_7-0:3.0.0"
    assert registered(hass, update).unique_id == GAS_ID
    # The gas power sensor, once a disabled generic sensor, is enabled.
    assert registered(hass, power).disabled_by is None
    assert float(state(hass, gas)) > 0
    (dev,) = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert dev.identifiers == {(DOMAIN, GAS_ID)}


async def test_vendor_entry_keeps_its_entities_and_interval(
    hass: HomeAssistant, device: Simulator, time_travel: VirtualTime
) -> None:
    """The vendor's v0.2.0 entry, options and entities carry over."""
    entry = add_entry(
        hass,
        device,
        PLUS_ID,
        1,
        device_id=PLUS_ID,
        device_name="Keller",
        model="WW-Plus",
        mac="AA:BB:CC:DD:EE:FF",
        fw_version="1.2.3",
        options={"scan_interval": 30},
    )
    energy = register(hass, entry, "sensor", f"{PLUS_ID}_1.8.0", "keller_bezug")
    ssid = register(hass, entry, "sensor", f"{PLUS_ID}_wifi_ssid", "keller_wlan")
    firmware = register(
        hass, entry, "sensor", f"{PLUS_ID}_firmware_version", "keller_fw"
    )
    mdns = register(hass, entry, "sensor", f"{PLUS_ID}_mdns_name", "keller_mdns")
    update = register(
        hass, entry, "update", f"{PLUS_ID}_firmware_update", "keller_update"
    )
    await setup(hass, entry)

    assert entry.minor_version == 3
    assert registered(hass, ssid).unique_id == f"{PLUS_ID}_ssid"
    assert registered(hass, update).unique_id == PLUS_ID
    for entity_id in (energy, ssid, firmware, mdns, update):
        assert state(hass, entity_id) not in ("unavailable", "unknown"), entity_id
    assert state(hass, firmware) == "1.2.3"
    assert state(hass, mdns) == "wattwaechter-aabbccddeeff.local"
    # The vendor's interval option still sets the meter's cadence.
    device.clear_log()
    await advance(hass, 30)
    assert [r.path for r in device.request_log].count("/api/v1/history/latest") == 1


async def test_entry_from_a_newer_version_is_refused(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A downgrade does not touch an entry a future version wrote."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=PLUS_ID,
        version=2,
        minor_version=1,
        data={"host": f"127.0.0.1:{device.port}", "device_id": PLUS_ID},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert entry.version == 2
    assert entry.data["device_id"] == PLUS_ID


async def test_gas_entry_twice_keeps_its_old_id(
    hass: HomeAssistant, device: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """If the bare MAC is already taken by another entry, this one keeps its ID."""
    MockConfigEntry(domain=DOMAIN, unique_id=GAS_ID, data={}).add_to_hass(hass)
    old_id = f"WWGW-{GAS_ID}"
    entry = add_entry(hass, device, old_id, 1, device_id=old_id)
    gas = register(hass, entry, "sensor", f"{old_id}_7-0:3.0.0", "gas_verbrauch")

    assert await async_migrate_entry(hass, entry)
    assert entry.unique_id == old_id
    assert registered(hass, gas).unique_id == f"{old_id}_7-0:3.0.0"
    assert "is set up twice" in caplog.text


async def test_migration_respects_taken_ids_and_new_entity_preference(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A rename never overwrites an existing entity; disabled new entities stay so."""
    entry = add_entry(hass, device, PLUS_ID, 1, device_id=PLUS_ID)
    hass.config_entries.async_update_entry(entry, pref_disable_new_entities=True)
    old = register(hass, entry, "sensor", f"{PLUS_ID}_wifi_ssid", "old_ssid")
    new = register(hass, entry, "sensor", f"{PLUS_ID}_ssid", "new_ssid")
    power = register(
        hass,
        entry,
        "sensor",
        f"{PLUS_ID}_7-0:16.7.0",
        "gas_power",
        disabled_by=er.RegistryEntryDisabler.INTEGRATION,
    )
    assert await async_migrate_entry(hass, entry)
    assert entry.minor_version == 3
    assert registered(hass, old).unique_id == f"{PLUS_ID}_wifi_ssid"
    assert registered(hass, new).unique_id == f"{PLUS_ID}_ssid"
    assert registered(hass, power).disabled_by is er.RegistryEntryDisabler.INTEGRATION
