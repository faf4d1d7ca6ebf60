"""Firmware update entity: versions, release notes, checks, the device card."""

from __future__ import annotations

from typing import Any

from homeassistant.components.homeassistant import (
    DOMAIN as HA_DOMAIN,
    SERVICE_UPDATE_ENTITY,
)
from homeassistant.components.update import (
    ATTR_INSTALLED_VERSION,
    ATTR_LATEST_VERSION,
    ATTR_RELEASE_SUMMARY,
    DOMAIN as UPDATE,
    UpdateEntityFeature,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    STATE_OFF,
    STATE_ON,
    STATE_UNKNOWN,
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from simulator import FaultMode, Simulator, SimulatorConfig

from .entities import OTA_CHECK, entity_id, paths
from .install import (
    assert_clean,
    drive,
    firmware,
    start_install,
)
from .timetravel import advance


async def test_update_entity(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Installed from system info, latest from the OTA check, notes in English."""
    entry = init_integration
    registered = er.async_get(hass).async_get(entity_id(hass, entry, "", UPDATE))
    assert registered is not None
    assert registered.unique_id == "AABBCCDDEEFF"
    assert registered.entity_category is EntityCategory.CONFIG
    assert registered.translation_key == "firmware"
    current = firmware(hass, entry)
    assert current.state == STATE_ON
    assert current.name == "WattWaechter Firmware"
    assert current.attributes[ATTR_DEVICE_CLASS] == "firmware"
    assert current.attributes[ATTR_INSTALLED_VERSION] == "1.2.3"
    assert current.attributes[ATTR_LATEST_VERSION] == "1.3.0"
    assert current.attributes[ATTR_SUPPORTED_FEATURES] == (
        UpdateEntityFeature.INSTALL
        | UpdateEntityFeature.PROGRESS
        | UpdateEntityFeature.RELEASE_NOTES
    )
    assert current.attributes[ATTR_RELEASE_SUMMARY] == (
        "Version 1.3.0: bug fixes and improvements"
    )
    assert_clean(current)
    client = await hass_ws_client(hass)
    await client.send_json(
        {"id": 1, "type": "update/release_notes", "entity_id": current.entity_id}
    )
    assert (await client.receive_json())["result"] == (
        "## 1.3.0 (2026-01-15)\n\nVersion 1.3.0: bug fixes and improvements"
    )


async def test_release_notes_follow_the_language(
    hass: HomeAssistant, mock_config_entry: ConfigEntry, time_travel: Any
) -> None:
    """A German Home Assistant gets the German notes."""
    hass.config.language = "de"
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert firmware(hass, mock_config_entry).attributes[ATTR_RELEASE_SUMMARY] == (
        "Version 1.3.0: Fehlerbehebungen und Verbesserungen"
    )


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(ota_version="1.2.3")])
async def test_up_to_date(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Up to date: latest is the installed version, no notes."""
    current = firmware(hass, init_integration)
    assert current.state == STATE_OFF
    assert current.attributes[ATTR_LATEST_VERSION] == "1.2.3"
    assert current.attributes[ATTR_RELEASE_SUMMARY] is None
    client = await hass_ws_client(hass)
    await client.send_json(
        {"id": 1, "type": "update/release_notes", "entity_id": current.entity_id}
    )
    assert (await client.receive_json())["result"] is None


async def test_check_on_demand_and_every_six_hours(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """update_entity asks the server once; otherwise every 6 hours."""
    assert await async_setup_component(hass, HA_DOMAIN, {})
    device.configure(ota_version="1.4.0")
    device.clear_log()
    await hass.services.async_call(
        HA_DOMAIN,
        SERVICE_UPDATE_ENTITY,
        {ATTR_ENTITY_ID: entity_id(hass, init_integration, "", UPDATE)},
        blocking=True,
    )
    assert paths(device) == ["/ota/check"]
    assert firmware(hass, init_integration).attributes[ATTR_LATEST_VERSION] == "1.4.0"
    device.clear_log()
    for _ in range(5):
        await advance(hass, 3600)
    assert "/ota/check" not in paths(device)
    await advance(hass, 3600)
    assert paths(device).count("/ota/check") == 1


async def test_update_server_unreachable(
    hass: HomeAssistant,
    device: Simulator,
    mock_config_entry: ConfigEntry,
    time_travel: Any,
) -> None:
    """No answer from the OTA check: latest unknown, the entity still there."""
    device.set_fault(FaultMode.HTTP_500, paths=[OTA_CHECK])
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    current = firmware(hass, mock_config_entry)
    assert current.state == STATE_UNKNOWN
    assert current.attributes[ATTR_INSTALLED_VERSION] == "1.2.3"
    assert current.attributes[ATTR_LATEST_VERSION] is None


async def test_new_firmware_reaches_the_device_card(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """After an OTA the device card and diagnostics name the new firmware.

    At once (the install reads the system info when the device is back), and
    without a reload.
    """
    entry = init_integration
    runtime = entry.runtime_data
    task = await start_install(hass, entry)
    await drive(hass, task)
    await task
    assert sw_version(hass, entry) == "1.3.0"
    data = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert data["entry"]["data"]["fw_version"] == "1.3.0"
    assert entry.runtime_data is runtime  # no reload


async def test_firmware_change_reaches_the_device_card(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    hass_client: ClientSessionGenerator,
) -> None:
    """A firmware changed by other means shows within one system update."""
    entry = init_integration
    runtime = entry.runtime_data
    device.configure(firmware="1.3.1", ota_version="1.3.1")
    await advance(hass, 300)
    assert sw_version(hass, entry) == "1.3.1"
    assert firmware(hass, entry).attributes[ATTR_INSTALLED_VERSION] == "1.3.1"
    data = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert data["entry"]["data"]["fw_version"] == "1.3.1"
    assert entry.runtime_data is runtime  # no reload


def sw_version(hass: HomeAssistant, entry: ConfigEntry) -> str | None:
    """Return the firmware the device registry shows."""
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return device.sw_version


async def test_installed_version_from_setup(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a firmware version in the system info, the one from setup shows."""
    original = device.device.system_info

    def system_info(ip_address: str) -> dict[str, Any]:
        info = original(ip_address)
        info["esp"] = [row for row in info["esp"] if row["name"] != "os_version"]
        return info

    monkeypatch.setattr(device.device, "system_info", system_info)
    await advance(hass, 300)
    current = firmware(hass, init_integration)
    assert current.attributes[ATTR_INSTALLED_VERSION] == "1.2.3"
    assert sw_version(hass, init_integration) == "1.2.3"
