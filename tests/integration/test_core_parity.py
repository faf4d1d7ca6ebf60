"""Golden devices: what we make of real payloads, against HA core 2026.11.

Each golden device (tests/fixtures/golden/devices.json) is served by the
simulator (``payloads``; an endpoint without a payload drops the connection,
as the reference run treated it) and added through our real user flow. As
scripts/core_entities did with core, every entity is enabled, the entry
reloaded and any further meter payload served as a refresh; the same
extraction (scripts/core_ref_dump.py) then describes our entities. Every field
of every entity is compared with tests/fixtures/core_2026_11/<device>.json; a
difference fails unless DIFFERENCES holds it, with its reason.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from syrupy.assertion import SnapshotAssertion

from custom_components.wattwaechter.const import DOMAIN
from custom_components.wattwaechter.obis import KNOWN_OBIS, REACTIVE_ENERGY
from simulator import FaultMode, Simulator, SimulatorConfig

from .core_reference import (
    CORE_REGISTERS,
    DEVICES,
    DUMP,
    core_result,
    english_name,
    er_ids,
    load,
    meter_payloads,
    no_port,
    normalise,
)
from .entities import setup_via_flow
from .timetravel import VirtualTime, advance

ENDPOINTS = (
    "/settings",
    "/system/led",
    "/ota/check",
    "/history/highRes",
    "/history/lowRes",
)
FIELDS = (
    "original_name",
    "unit_of_measurement",
    "device_class",
    "state_class",
    "suggested_display_precision",
    "state",
    "enabled_by_default",
    "entity_category",
    "supported_features",
)
LATEST = "/api/v1/history/latest"
DEVICE_FIELDS = ("name", "manufacturer", "model", "model_id", "sw_version")
DEVICE_FIELDS += ("configuration_url", "identifiers", "connections")

DIFFERENCES: dict[tuple[str, str], str] = {
    # Entities core does not have (key = unique ID suffix, "extra").
    ("led", "extra"): "status LED switch (settings ledEnable)",
    ("reboot", "extra"): "restart button (with the WRITE token or auth off)",
    ("led_status", "extra"): "LED status, incl. meter_attention and ota_active",
    ("meter_reading", "extra"): "meter reading problem (stale head, 204, LED)",
    ("last_reading", "extra"): "time of the last fresh meter reading",
    ("active_tariff", "extra"): "which tariff register counts now",
    ("ip_address", "extra"): "diagnostic system info, disabled by default",
    ("mdns_name", "extra"): "diagnostic system info, disabled by default",
    ("firmware_version", "extra"): "diagnostic system info, disabled by default",
    ("free_heap", "extra"): "diagnostic system info, disabled by default",
    ("uptime", "extra"): "diagnostic system info, disabled by default",
    # Registers.
    ("1.8.3", "original_name"): "we know tariffs 3 and 4 (translated names)",
    ("1.8.3", "enabled_by_default"): "we know tariffs 3 and 4 (enabled like 1, 2)",
    ("15.8.0", "enabled_by_default"): "rarely used register: disabled by default",
    ("3.8.0", "enabled_by_default"): "rarely used register: disabled by default",
    ("4.8.0", "enabled_by_default"): "rarely used register: disabled by default",
    ("5.8.0", "enabled_by_default"): "rarely used register: disabled by default",
    ("6.8.0", "enabled_by_default"): "rarely used register: disabled by default",
    ("7.8.0", "enabled_by_default"): "rarely used register: disabled by default",
    ("8.8.0", "enabled_by_default"): "rarely used register: disabled by default",
    ("15.7.0", "enabled_by_default"): "rarely used register: disabled by default",
    ("33.7.0", "enabled_by_default"): "per-phase power factor: disabled by default",
    ("53.7.0", "enabled_by_default"): "per-phase power factor: disabled by default",
    ("73.7.0", "enabled_by_default"): "per-phase power factor: disabled by default",
    ("96.5.0", "original_name"): "a known status register: translated name",
    ("94.91.0", "original_name"): "a known status register: translated name",
    ("96.5.0", "entity_category"): "status register: diagnostic",
    ("94.91.0", "entity_category"): "status register: diagnostic",
    ("21.7.0", "original_name"): "import power L1, not a second 'Active power L1'",
    ("41.7.0", "original_name"): "import power L2, not a second 'Active power L2'",
    ("61.7.0", "original_name"): "import power L3, not a second 'Active power L3'",
    # The firmware entity and the device.
    ("", "supported_features"): "install with PROGRESS (core: install, notes)",
    ("device", "configuration_url"): "the address HA reaches it at (core: mDNS name)",
    ("device", "connections"): "no MAC connection without a MAC (core: empty MAC)",
    ("device", "sw_version after a firmware change"): (
        "follows the firmware the device reports (core: the version at setup)"
    ),
    # Setup.
    ("entry", "state"): "204 at setup: loaded, sensors come with the first reading"
    " (core: setup retry)",
    ("entry", "setup"): "no esp_id/MAC: the flow refuses a device it cannot tell"
    " from another (core: an entry with an empty ID)",
}
VERSIONED = {
    (code, "device_class"): "no reactive_energy device class before HA 2025.5"
    for code in ("3.8.0", "4.8.0", "5.8.0", "6.8.0", "7.8.0", "8.8.0")
    if REACTIVE_ENERGY is None
}
"""Differences of the HA version under test, not of the integration."""
DIFFERENCES.update(VERSIONED)


@pytest.fixture
def simulator_config(request: pytest.FixtureRequest) -> SimulatorConfig:
    """Serve the golden device's payloads."""
    golden: str = request.node.callspec.params["golden"]
    endpoints = DEVICES[golden]["endpoints"]
    payloads = {
        p: load(name) for p, name in endpoints.items() if p != "/history/latest"
    }
    payloads["/history/latest"] = meter_payloads(golden)[0]
    return SimulatorConfig(payloads=payloads)


def suffix(unique_id: str, device_id: str) -> str:
    """Return the unique ID without its device ID ("" for the firmware entity)."""
    return unique_id.removeprefix(device_id).removeprefix("_")


def compare(ours: dict[str, Any], core: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """Return {(suffix, field): (ours, core)} for every field that differs."""
    found: dict[tuple[str, str], Any] = {}
    for key in sorted(set(ours) | set(core)):
        if key not in core:
            found[(key, "extra")] = (ours[key]["state"], None)
            continue
        if key not in ours:
            found[(key, "missing")] = (None, core[key]["state"])
            continue
        pairs = [(ours[key][f], core[key][f], f) for f in FIELDS]
        reset = [
            (e["attributes"] or {}).get("last_reset") for e in (ours[key], core[key])
        ]
        for mine, theirs, field in [*pairs, (*reset, "last_reset")]:
            if mine != theirs:
                found[(key, field)] = (mine, theirs)
    return found


@pytest.mark.parametrize("golden", sorted(DEVICES))
async def test_golden_device(
    hass: HomeAssistant,
    device: Simulator,
    time_travel: VirtualTime,
    snapshot: SnapshotAssertion,
    golden: str,
) -> None:
    """Our entities equal core's, apart from the deliberate DIFFERENCES."""
    core = core_result(golden)
    served = DEVICES[golden]["endpoints"]
    if missing := [path for path in ENDPOINTS if path not in served]:
        device.set_fault(FaultMode.RESET, paths=missing)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: f"127.0.0.1:{device.port}"}
    )
    await hass.async_block_till_done()
    found: dict[tuple[str, str], Any] = {}
    if result["type"] is not FlowResultType.CREATE_ENTRY:
        assert core["config_entry"]["unique_id"] == ""
        found[("entry", "setup")] = (result.get("errors"), "created")
        assert set(found) <= set(DIFFERENCES), found
        return
    entry = result["result"]
    device_id = str(entry.unique_id)
    registry = er.async_get(hass)
    created = {}
    for reg in er.async_entries_for_config_entry(registry, entry.entry_id):
        created[reg.unique_id] = reg.disabled_by is None
        if reg.disabled_by is not None:
            registry.async_update_entity(reg.entity_id, disabled_by=None)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    for payload in meter_payloads(golden)[1:]:
        device.configure(payloads={**device.config.payloads, LATEST: payload})
        await advance(hass, 10)

    ours = await DUMP.entities(hass, entry, created)
    ours = {suffix(uid, device_id): record for uid, record in ours.items()}
    (mine,) = DUMP.devices(hass, entry)
    mine["configuration_url"] = no_port(mine["configuration_url"])
    if core["config_entry"]["state"] != "loaded":
        found[("entry", "state")] = (entry.state.value, core["config_entry"]["state"])
    else:
        theirs = core["entities"]
        core_id = core["config_entry"]["unique_id"]
        found.update(compare(ours, {suffix(u, core_id): e for u, e in theirs.items()}))
        (core_device,) = core["devices"]
        for field in DEVICE_FIELDS:
            if mine[field] != core_device[field]:
                found[("device", field)] = (mine[field], core_device[field])
        removed = sorted(set(created) - set(er_ids(hass, entry)))
        assert [suffix(u, device_id) for u in removed] == [
            suffix(u, core_id) for u in core["removed_entities"]
        ]
    unexpected = {key: diff for key, diff in found.items() if key not in DIFFERENCES}
    assert not unexpected, f"differences from core without a reason: {unexpected}"
    assert entry.state is ConfigEntryState.LOADED
    assert snapshot == {
        "device": mine,
        "entities": {key: normalise(record) for key, record in sorted(ours.items())},
        "differences": sorted(f"{k} {f}" for k, f in found if (k, f) not in VERSIONED),
    }


@pytest.mark.parametrize("golden", ["core_electricity"])
async def test_firmware_change_reaches_the_device(
    hass: HomeAssistant, device: Simulator, time_travel: VirtualTime, golden: str
) -> None:
    """Core keeps the version of the setup; we show what the device reports."""
    core = core_result(golden)
    device.set_fault(FaultMode.RESET, paths=["/system/led"])
    entry = await setup_via_flow(hass, device)
    info = load(DEVICES[golden]["endpoints"]["/system/info"])
    for row in info["esp"]:
        if row["name"] == "os_version":
            row["value"] = "1.3.0"
    device.configure(payloads={**device.config.payloads, "/system/info": info})
    await advance(hass, 300)
    (mine,) = DUMP.devices(hass, entry)
    theirs = core["config_entry"]["data"]["fw_version"]
    assert (mine["sw_version"], theirs) == ("1.3.0", "1.2.3")
    assert ("device", "sw_version after a firmware change") in DIFFERENCES


def test_known_registers_against_core() -> None:
    """Core's register table (every code it knows) against ours."""
    found: dict[tuple[str, str], Any] = {}
    for code, theirs in CORE_REGISTERS.items():
        description = KNOWN_OBIS[code]
        mine = {
            "original_name": english_name(description),
            "unit_of_measurement": description.native_unit_of_measurement,
            "device_class": description.device_class,
            "state_class": description.state_class,
            "suggested_display_precision": description.suggested_display_precision,
            "enabled_by_default": description.entity_registry_enabled_default,
        }
        for field, value in mine.items():
            if value != theirs[field]:
                found[(code, field)] = (value, theirs[field])
    unexpected = {key: diff for key, diff in found.items() if key not in DIFFERENCES}
    assert not unexpected, f"differences from core without a reason: {unexpected}"
