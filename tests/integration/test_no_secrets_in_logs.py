"""No token appears in any log line (at DEBUG, any logger) or in diagnostics."""

from __future__ import annotations

import json
import logging

from homeassistant.components.button import DOMAIN as BUTTON, SERVICE_PRESS
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.components.switch import DOMAIN as SWITCH
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_TOKEN,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest

from custom_components.wattwaechter.const import CONF_WRITE_TOKEN, DOMAIN
from custom_components.wattwaechter.diagnostics import (
    async_get_config_entry_diagnostics,
    async_get_device_diagnostics,
)
from simulator import FaultMode, Simulator, SimulatorConfig

from .conftest import READ, WRITE
from .timetravel import advance

CONFIRM = "/api/v1/auth/tokens/confirm"
NEW_READ, NEW_WRITE = "REAUTHREAD000001", "REAUTHWRITE00001"


@pytest.fixture(autouse=True)
def debug_everything(caplog: pytest.LogCaptureFixture) -> None:
    """Capture every logger down to DEBUG."""
    caplog.set_level(logging.DEBUG)


def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Return the records of the setup (the entry's too) and of the test."""
    return [*caplog.get_records("setup"), *caplog.records]


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Return everything the records hold: messages, arguments, tracebacks."""
    parts = [caplog.text]
    for record in records(caplog):
        parts.append(logging.Formatter().format(record))
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        parts.append(record.exc_text or "")
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


async def diagnostics(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """Return both diagnostics downloads of the entry as JSON text."""
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    data = [
        await async_get_config_entry_diagnostics(hass, entry),
        await async_get_device_diagnostics(hass, entry, device),
    ]
    return json.dumps(data, default=str)


def entity_id(hass: HomeAssistant, domain: str, key: str) -> str:
    """Return the entity ID of the simulated device's ``key``."""
    found = er.async_get(hass).async_get_entity_id(
        domain, DOMAIN, f"AABBCCDDEEFF_{key}"
    )
    assert found is not None
    return found


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """A device with API authentication on."""
    return SimulatorConfig(auth_required=True)


@pytest.fixture
def tokens() -> dict[str, str | None]:
    """The entry holds both tokens."""
    return {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE}


async def test_no_token_in_any_log_line(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Setup, polling, actions, failures, reauth and rotation, all at DEBUG."""
    entry = init_integration
    secrets = {READ, WRITE}
    await advance(hass, 10)
    await advance(hass, 300)

    # Actions, and an action that fails.
    led = entity_id(hass, SWITCH, "led")
    for service in (SERVICE_TURN_OFF, SERVICE_TURN_ON):
        await hass.services.async_call(
            SWITCH, service, {ATTR_ENTITY_ID: led}, blocking=True
        )
    device.set_fault(FaultMode.HTTP_500, paths=["/api/v1/settings"])
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            SWITCH, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: led}, blocking=True
        )
    device.clear_faults()
    await hass.services.async_call(
        BUTTON,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: entity_id(hass, BUTTON, "reboot")},
        blocking=True,
    )
    await advance(hass, 15)
    await advance(hass, 10)

    # The tokens change on the device: 401, reauth with the new ones.
    device.configure(read_token=NEW_READ, write_token=NEW_WRITE)
    secrets |= {NEW_READ, NEW_WRITE, "WRONGTOKEN000000"}
    await advance(hass, 10)
    (flow,) = [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
    ]
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_TOKEN: "WRONGTOKEN000000"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_TOKEN: NEW_READ, CONF_WRITE_TOKEN: NEW_WRITE}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    await advance(hass, 11)

    # Rotation, twice: once plain, once with the confirm's answer lost.
    for fault in (None, FaultMode.APPLY_THEN_DROP):
        if fault is not None:
            device.set_fault(fault, paths=[CONFIRM])
        await hass.services.async_call(
            DOMAIN, "rotate_tokens", {"config_entry_id": entry.entry_id}, blocking=True
        )
        device.clear_faults()
        secrets |= {device.state.read_token, device.state.write_token}
        assert entry.data[CONF_TOKEN] == device.state.read_token
    await advance(hass, 10)
    await advance(hass, 300)
    downloads = await diagnostics(hass, entry)

    text = logged(caplog)
    assert len(records(caplog)) > 100, "the log must really have been captured"
    assert caplog.text.count("has new API tokens") == 2
    assert "was lost" in text
    assert "refused the API token" in text
    assert len(secrets) == 9
    for token in secrets:
        assert token not in text, f"{token} appears in the log"
        assert token not in downloads, f"{token} appears in the diagnostics"


@pytest.mark.parametrize(
    ("simulator_config", "tokens"),
    [(SimulatorConfig(), {CONF_TOKEN: None, CONF_WRITE_TOKEN: None})],
    ids=["auth off"],
)
async def test_no_token_in_the_log_when_auth_is_turned_on(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The repair's fix flow makes and stores tokens without logging them."""
    entry = init_integration
    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(
        DOMAIN, data={"issue_id": f"auth_disabled_{entry.entry_id}"}
    )
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await advance(hass, 10)
    secrets = {device.state.read_token, device.state.write_token}
    assert entry.data[CONF_TOKEN] in secrets
    text = logged(caplog)
    downloads = await diagnostics(hass, entry)
    assert "requires API tokens now" in text
    for token in secrets:
        assert token not in text, f"{token} appears in the log"
        assert token not in downloads, f"{token} appears in the diagnostics"
