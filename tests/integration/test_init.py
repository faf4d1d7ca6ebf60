"""Setup, unload, retry and reauth of an entry; firmware without optional features."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_TOKEN
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import CONF_WRITE_TOKEN, DOMAIN
from simulator import FaultMode, Simulator, SimulatorConfig

from .conftest import READ, WRITE
from .entities import INTERVAL, exists, ours, paths, state, value
from .timetravel import advance

FEATURES = (("led", "switch"), ("led_status", "sensor"), ("", "update"))
OLD_FIRMWARE = SimulatorConfig(
    legacy_firmware=True,
    missing_endpoints=(
        "/system/led",
        "/ota/check",
        "/settings",
        "/history/highRes",
        "/history/lowRes",
    ),
)


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add the entry and try to set it up."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def reauth_flows(hass: HomeAssistant) -> list[Any]:
    """Return the reauth flows in progress."""
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    return [f for f in flows if f["context"]["source"] == SOURCE_REAUTH]


async def test_unload_and_reload(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    """An entry unloads cleanly and loads again."""
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get("sensor.wattwaechter_total_consumption").state == (  # type: ignore[union-attr]
        "unavailable"
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED


async def test_setup_retries_while_offline(
    hass: HomeAssistant,
    device: Simulator,
    mock_config_entry: MockConfigEntry,
    time_travel: Any,
) -> None:
    """A device that is away at start-up makes HA retry later, not fail."""
    device.set_fault(FaultMode.OFFLINE)
    await setup(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    device.clear_faults()
    await advance(hass, 60)
    assert mock_config_entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize("host", ["http://x/y", ""])
async def test_invalid_stored_host_is_an_error(hass: HomeAssistant, host: str) -> None:
    """A stored host that is not an address fails setup for good."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="AABBCCDDEEFF",
        data={CONF_HOST: host, CONF_TOKEN: None, "device_id": "AABBCCDDEEFF"},
        version=1,
        minor_version=3,
    )
    await setup(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert reauth_flows(hass) == []


async def test_malformed_stored_token_starts_reauth(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A stored token no device could accept is never sent: reauth instead.

    (The reauth flow then asks the device whether it needs a token at all.)
    """
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="AABBCCDDEEFF",
        data={
            CONF_HOST: f"127.0.0.1:{device.port}",
            CONF_TOKEN: "BAD\r\nTOKEN",
            "device_id": "AABBCCDDEEFF",
        },
        version=1,
        minor_version=3,
    )
    await setup(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert len(reauth_flows(hass)) == 1


@pytest.mark.parametrize(
    ("simulator_config", "tokens"),
    [(SimulatorConfig(auth_required=True), {CONF_TOKEN: READ, CONF_WRITE_TOKEN: None})],
)
async def test_revoked_token_starts_reauth(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """A 401 while polling asks for a new token; the entry keeps running.

    When the device accepts again (here: its auth turned off), the entities
    come back by themselves and the reauth request goes away.
    """
    entry = init_integration
    device.configure(read_token="NEWREADTOKEN0000", write_token="NEWWRITETOKEN000")
    await advance(hass, INTERVAL)
    assert len(reauth_flows(hass)) == 1
    assert entry.state is ConfigEntryState.LOADED
    assert state(hass, entry, "1.8.0").state == "unavailable"
    device.configure(auth_required=False)
    await advance(hass, INTERVAL)
    assert value(hass, entry, "1.8.0") > 0
    assert reauth_flows(hass) == []


@pytest.mark.parametrize(
    ("simulator_config", "tokens"),
    [
        (
            SimulatorConfig(auth_required=True),
            {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE},
        )
    ],
)
async def test_setup_cost_and_token_levels(
    hass: HomeAssistant, device: Simulator, mock_config_entry: MockConfigEntry
) -> None:
    """Setup is one request per kind of data, all with the READ token."""
    await setup(hass, mock_config_entry)
    assert sorted(paths(device)) == [
        "/history/latest",
        "/ota/check",
        "/settings",
        "/system/info",
        "/system/led",
    ]
    assert {r.token_level for r in device.request_log} == {"read"}


@pytest.mark.parametrize("simulator_config", [OLD_FIRMWARE])
async def test_firmware_without_optional_features(
    hass: HomeAssistant,
    device: Simulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    time_travel: Any,
) -> None:
    """No LED, OTA check, settings or history: the meter works, said once.

    After a firmware update that brings the endpoints, the features appear
    (the entry reloads by itself).
    """
    caplog.set_level(logging.INFO)
    await setup(hass, mock_config_entry)
    entry = mock_config_entry
    assert entry.state is ConfigEntryState.LOADED
    for code in ("1.8.0", "2.8.0", "16.7.0", "32.7.0", "31.7.0", "14.7.0"):
        assert value(hass, entry, code) is not None
    for key, domain in (*FEATURES, ("reboot", "button")):
        assert not exists(hass, entry, key, domain), key
    device.clear_log()
    for _ in range(6):
        await advance(hass, 600)
    said = [line for line in ours(caplog, logging.INFO) if "stays off" in line]
    assert len(said) == 3
    for feature in ("settings", "led", "ota"):
        assert len([line for line in said if f" has no {feature};" in line]) == 1
    assert set(paths(device)) == {"/history/latest", "/system/info"}
    assert ours(caplog, logging.WARNING) == []

    device.configure(missing_endpoints=(), legacy_firmware=False, firmware="1.3.0")
    await advance(hass, 300)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    for key, domain in FEATURES:
        assert exists(hass, entry, key, domain), key
    assert state(hass, entry, "led", "switch").state == "on"
    assert state(hass, entry, "", "update").attributes["installed_version"] == "1.3.0"
