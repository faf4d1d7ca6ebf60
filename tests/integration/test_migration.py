"""Entries of HA core's and the vendor's integration load here with their entities."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import DOMAIN
from simulator import Simulator, SimulatorConfig

from .helpers import advance

PLUS_ID = "AABBCCDDEEFF"
GAS_ID = "A1B2C3D4E5F6"


def _entry(
    hass: HomeAssistant,
    sim: Simulator,
    unique_id: str,
    minor_version: int,
    options: dict[str, Any] | None = None,
    **data: Any,
) -> MockConfigEntry:
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


def _register(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    domain: str,
    unique_id: str,
    object_id: str,
    **kwargs: Any,
) -> str:
    registry = er.async_get(hass)
    return registry.async_get_or_create(
        domain,
        DOMAIN,
        unique_id,
        config_entry=entry,
        suggested_object_id=object_id,
        **kwargs,
    ).entity_id


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_core_2026_11_entry_loads_unchanged(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A core entry (1.3) keeps its unique IDs and entity IDs; nothing migrates."""
    entry = _entry(
        hass,
        device,
        PLUS_ID,
        3,
        device_id=PLUS_ID,
        model="ww_plus",
        fw_version="1.2.3",
        mac="AA:BB:CC:DD:EE:FF",
    )
    energy = _register(hass, entry, "sensor", f"{PLUS_ID}_1.8.0", "zahler_bezug")
    signal = _register(
        hass,
        entry,
        "sensor",
        f"{PLUS_ID}_wifi_signal",
        "zahler_wlan",
        disabled_by=er.RegistryEntryDisabler.INTEGRATION,
    )
    update = _register(hass, entry, "update", PLUS_ID, "zahler_firmware")
    await _setup(hass, entry)

    assert entry.minor_version == 3
    assert entry.unique_id == PLUS_ID
    assert float(hass.states.get(energy).state) > 0  # type: ignore[union-attr]
    assert hass.states.get(update).state in ("on", "off")  # type: ignore[union-attr]
    registry = er.async_get(hass)
    assert (
        registry.async_get(signal).disabled_by is er.RegistryEntryDisabler.INTEGRATION
    )  # type: ignore[union-attr]
    # Our entries are core entries: same version, core's data keys are all there.
    assert {"host", "token", "device_id", "model", "fw_version", "mac"} <= set(
        entry.data
    )


@pytest.mark.parametrize(
    "simulator_config",
    [
        SimulatorConfig(
            device_id=GAS_ID,
            medium="gas",
            model="WW-GW-MF",
            model_id="ww_gw_mf",
            product_name="WattWächter Gas",
        )
    ],
)
async def test_core_2026_10_gas_entry_moves_to_the_bare_mac(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Core 2026.10 stored gas devices as WWGW-<MAC>; entities keep their entity IDs."""
    old_id = f"WWGW-{GAS_ID}"
    entry = _entry(
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
    gas = _register(hass, entry, "sensor", f"{old_id}_7-0:3.0.0", "gas_verbrauch")
    power = _register(
        hass,
        entry,
        "sensor",
        f"{old_id}_7-0:16.7.0",
        "gas_leistung",
        disabled_by=er.RegistryEntryDisabler.INTEGRATION,
    )
    update = _register(hass, entry, "update", old_id, "gas_firmware")
    await _setup(hass, entry)

    assert entry.minor_version == 3
    assert entry.unique_id == GAS_ID
    assert entry.data["device_id"] == GAS_ID
    registry = er.async_get(hass)
    assert registry.async_get(gas).unique_id == f"{GAS_ID}_7-0:3.0.0"  # type: ignore[union-attr]
    assert registry.async_get(update).unique_id == GAS_ID  # type: ignore[union-attr]
    # The gas power sensor, once a disabled generic sensor, is enabled.
    assert registry.async_get(power).disabled_by is None  # type: ignore[union-attr]
    assert float(hass.states.get(gas).state) > 0  # type: ignore[union-attr]
    (dev,) = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert dev.identifiers == {(DOMAIN, GAS_ID)}


async def test_vendor_entry_keeps_its_entities(
    hass: HomeAssistant, device: Simulator
) -> None:
    """The vendor's v0.2.0 entry, options and entities carry over."""
    entry = _entry(
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
    energy = _register(hass, entry, "sensor", f"{PLUS_ID}_1.8.0", "keller_bezug")
    ssid = _register(hass, entry, "sensor", f"{PLUS_ID}_wifi_ssid", "keller_wlan")
    firmware = _register(
        hass, entry, "sensor", f"{PLUS_ID}_firmware_version", "keller_fw"
    )
    mdns = _register(hass, entry, "sensor", f"{PLUS_ID}_mdns_name", "keller_mdns")
    update = _register(
        hass, entry, "update", f"{PLUS_ID}_firmware_update", "keller_update"
    )
    await _setup(hass, entry)

    registry = er.async_get(hass)
    assert entry.minor_version == 3
    assert registry.async_get(ssid).unique_id == f"{PLUS_ID}_ssid"  # type: ignore[union-attr]
    assert registry.async_get(update).unique_id == PLUS_ID  # type: ignore[union-attr]
    for entity_id in (energy, ssid, firmware, mdns, update):
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        assert state.state not in ("unavailable", "unknown"), entity_id
    assert hass.states.get(firmware).state == "1.2.3"  # type: ignore[union-attr]
    assert hass.states.get(mdns).state == "wattwaechter-aabbccddeeff.local"  # type: ignore[union-attr]
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


async def test_gas_entry_twice_keeps_its_old_id(
    hass: HomeAssistant, device: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """If the bare MAC is already taken by another entry, this one keeps its ID."""
    MockConfigEntry(domain=DOMAIN, unique_id=GAS_ID, data={}).add_to_hass(hass)
    old_id = f"WWGW-{GAS_ID}"
    entry = _entry(hass, device, old_id, 1, device_id=old_id)
    gas = _register(hass, entry, "sensor", f"{old_id}_7-0:3.0.0", "gas_verbrauch")
    from custom_components.wattwaechter.migration import (  # noqa: PLC0415
        async_migrate_entry,
    )

    assert await async_migrate_entry(hass, entry)
    assert entry.unique_id == old_id
    assert er.async_get(hass).async_get(gas).unique_id == f"{old_id}_7-0:3.0.0"  # type: ignore[union-attr]
    assert "is set up twice" in caplog.text


async def test_migration_respects_taken_ids_and_new_entity_preference(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A rename never overwrites an existing entity; disabled new entities stay so."""
    from custom_components.wattwaechter.migration import (  # noqa: PLC0415
        async_migrate_entry,
    )

    entry = _entry(hass, device, PLUS_ID, 1, device_id=PLUS_ID)
    hass.config_entries.async_update_entry(entry, pref_disable_new_entities=True)
    old = _register(hass, entry, "sensor", f"{PLUS_ID}_wifi_ssid", "old_ssid")
    new = _register(hass, entry, "sensor", f"{PLUS_ID}_ssid", "new_ssid")
    power = _register(
        hass,
        entry,
        "sensor",
        f"{PLUS_ID}_7-0:16.7.0",
        "gas_power",
        disabled_by=er.RegistryEntryDisabler.INTEGRATION,
    )
    assert await async_migrate_entry(hass, entry)
    registry = er.async_get(hass)
    assert registry.async_get(old).unique_id == f"{PLUS_ID}_wifi_ssid"  # type: ignore[union-attr]
    assert registry.async_get(new).unique_id == f"{PLUS_ID}_ssid"  # type: ignore[union-attr]
    assert registry.async_get(power).disabled_by is er.RegistryEntryDisabler.INTEGRATION  # type: ignore[union-attr]
