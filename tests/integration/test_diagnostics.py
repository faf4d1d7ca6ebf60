"""Diagnostics: complete, free of secrets, and stable (a JSON snapshot).

Values that change from run to run (the port, times, live readings, request
counts) become markers of their type before the comparison.
"""

from __future__ import annotations

import json
import re
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.wattwaechter.const import CONF_WRITE_TOKEN
from simulator import FaultMode, Simulator, SimulatorConfig
from simulator.latest import METER_SERIAL

from .conftest import READ, WRITE
from .entities import INTERVAL
from .timetravel import advance

REDACTED = "**REDACTED**"
SECRETS = (
    READ,
    WRITE,
    "AABBCCDDEEFF",
    "aabbccddeeff",
    "AA:BB:CC:DD:EE:FF",
    "aa:bb:cc:dd:ee:ff",
    "EEFF",  # in the access point's name
    "SimNetwork",
    METER_SERIAL,
    "127.0.0.1",  # the host and the device's IP
    "192.168.1.",  # a static IP setup
    "255.255.255.0",
)
VOLATILE = {
    "timestamp",
    "last_fresh",
    "last_checked",
    "uptime",
    "free_heap",
    "signal_strength",
    "value",
    "rebootCounter",
    "rebootsTotal",
    "rebootsAll",
}
VOLATILE_TREES = {"guards", "history"}
"""Every number below these keys depends on timing."""


def normalise(data: Any, key: str = "", volatile: bool = False) -> Any:
    """Replace what changes from run to run by a marker of its type."""
    volatile = volatile or key in VOLATILE_TREES
    if key == "budget":  # counts by priority depend on timing: only its fields
        return sorted(data)
    if isinstance(data, dict):
        return {k: normalise(v, k, volatile) for k, v in data.items()}
    if isinstance(data, list):
        return [normalise(item, key, volatile) for item in data]
    if data is None or isinstance(data, bool) or data == REDACTED:
        return data
    if key in VOLATILE or (volatile and isinstance(data, int | float)):
        return f"<{type(data).__name__}>"
    if isinstance(data, str):
        return re.sub(r"127\.0\.0\.1:\d+", "<host>", data)
    return data


@pytest.fixture
async def secured(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> ConfigEntry:
    """A loaded entry of a device with auth on, both tokens, a later register."""
    device.set_fault(FaultMode.NEW_OBIS)
    wifi = device.state.settings["wifi"]["primary"]
    wifi.update(static_ip=True, ip="192.168.1.50", gateway="192.168.1.1")
    wifi.update(subnet="255.255.255.0", dns="192.168.1.1")
    await init_integration.runtime_data.settings.async_refresh()
    await advance(hass, INTERVAL)
    return init_integration


SECURED = {
    "simulator_config": SimulatorConfig(auth_required=True),
    "tokens": {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE},
}


@pytest.mark.parametrize(tuple(SECURED), [tuple(SECURED.values())])
async def test_entry_diagnostics(
    hass: HomeAssistant,
    secured: ConfigEntry,
    hass_client: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
) -> None:
    """Everything the integration knows, without a secret."""
    data = await get_diagnostics_for_config_entry(hass, hass_client, secured)
    text = json.dumps(data)
    for secret in SECRETS:
        assert secret not in text, secret
    assert data["entry"]["data"]["token"] == REDACTED
    assert data["entry"]["data"]["write_token"] == REDACTED
    assert data["entry"]["data"]["fw_version"] == "1.2.3"
    registers = data["meter"]["registers"]
    assert registers["96.1.0"]["value"] == REDACTED
    assert registers["1.8.3"]["unit"] == "kWh"
    assert data["system"]["wifi"]["ssid"] == REDACTED
    assert data["system"]["wifi"]["ip_address"] == REDACTED
    assert data["system"]["esp"]["os_version"] == "1.2.3"
    assert data["settings"]["api_auth_required"] is True
    assert data["settings"]["accessPoint"]["ssid"] == REDACTED
    assert data["led"] == {"status": "OK", "enabled": True, "active": ["OK"]}
    assert data["ota"]["version"] == "1.3.0"
    assert data["coordinators"]["meter"]["last_update_success"] is True
    assert snapshot == normalise(data)


@pytest.mark.parametrize(tuple(SECURED), [tuple(SECURED.values())])
async def test_device_diagnostics(
    hass: HomeAssistant,
    secured: ConfigEntry,
    hass_client: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
) -> None:
    """The device's diagnostics add its registry entry."""
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), secured.entry_id)
    data = await get_diagnostics_for_device(hass, hass_client, secured, device)
    text = json.dumps(data)
    for secret in SECRETS:
        assert secret not in text, secret
    assert data["device"] == {
        "name": "WattWaechter",
        "manufacturer": "SmartCircuits GmbH",
        "model": "WattWächter Plus",
        "model_id": "ww_plus",
        "sw_version": "1.2.3",
    }
    assert snapshot == normalise(data)


async def test_diagnostics_of_a_device_that_is_away(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    hass_client: ClientSessionGenerator,
) -> None:
    """A failing coordinator shows its reason; the last data stays."""
    device.set_fault(FaultMode.OFFLINE)
    await advance(hass, INTERVAL)
    data = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert data["coordinators"]["meter"] == {
        "last_update_success": False,
        "last_error": "cannot_connect",
        "supported": True,
    }
    assert data["meter"]["registers"]["1.8.0"]["unit"] == "kWh"
    assert data["entry"]["data"]["host"] == REDACTED
