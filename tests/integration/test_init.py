"""Setup, unload, retry and reauth of a config entry."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_TOKEN
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import DOMAIN
from simulator import FaultMode, Simulator

from .conftest import setup_via_flow
from .helpers import advance


async def test_unload_and_reload(hass: HomeAssistant, device: Simulator) -> None:
    """An entry unloads cleanly and loads again."""
    entry = await setup_via_flow(hass, device)
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED


async def test_setup_retries_while_offline(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A device that is away at start-up makes HA retry later, not fail."""
    device.set_fault(FaultMode("offline"))
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="AABBCCDDEEFF",
        data={
            CONF_HOST: f"127.0.0.1:{device.port}",
            CONF_TOKEN: None,
            "device_id": "AABBCCDDEEFF",
        },
        version=1,
        minor_version=3,
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_invalid_stored_host_is_an_error(hass: HomeAssistant) -> None:
    """A stored host that is not an address fails setup permanently."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="AABBCCDDEEFF",
        data={CONF_HOST: "http://x/y", CONF_TOKEN: None, "device_id": "AABBCCDDEEFF"},
        version=1,
        minor_version=3,
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR


async def test_revoked_token_starts_reauth(
    hass: HomeAssistant, device: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A 401 while polling asks the user for a new token."""
    device.configure(auth_required=True)
    entry = await setup_via_flow(hass, device, token=device.config.read_token)
    # The device's tokens change (e.g. a factory reset); the stored one is refused.
    device.configure(read_token="NEWREADTOKEN0000", write_token="NEWWRITETOKEN000")
    await advance(hass, freezer, 10)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert any(f["context"]["source"] == SOURCE_REAUTH for f in flows)
    assert entry.state is ConfigEntryState.LOADED


async def test_malformed_stored_token_starts_reauth(hass: HomeAssistant) -> None:
    """A stored token no device could accept is never sent: reauth instead."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="AABBCCDDEEFF",
        data={
            CONF_HOST: "192.0.2.1",
            CONF_TOKEN: "BAD\r\nTOKEN",
            "device_id": "AABBCCDDEEFF",
        },
        version=1,
        minor_version=3,
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
