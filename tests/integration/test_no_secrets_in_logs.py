"""No token appears in any log line, at any level, from any logger."""

from __future__ import annotations

import logging

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import (
    ATTR_DEVICE_ID,
    ATTR_ENTITY_ID,
    CONF_TOKEN,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest

from custom_components.wattwaechter.const import CONF_WRITE_TOKEN, DOMAIN
from simulator import FaultMode, Simulator

from .conftest import setup_via_flow
from .helpers import advance, entity_id, outlast_setup_requests

READ = "READTOKEN1234567"
WRITE = "WRITETOKEN123456"
CONFIRM = "/api/v1/auth/tokens/confirm"


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Return everything the records hold: messages, arguments, tracebacks."""
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        parts.append(record.exc_text or "")
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


async def test_no_token_in_any_log_line(
    hass: HomeAssistant, device: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Setup, polling, actions, failures, reauth and rotation, all at DEBUG."""
    caplog.set_level(logging.DEBUG)
    tokens = {READ, WRITE}
    device.configure(auth_required=True)

    # Setup through the flow, then polling of everything.
    entry = await setup_via_flow(hass, device, token=READ, write_token=WRITE)
    await outlast_setup_requests(hass)
    await advance(hass, 10)
    await advance(hass, 300)

    # Actions, and an action that fails.
    led = entity_id(hass, entry, "led", "switch")
    for service in (SERVICE_TURN_OFF, SERVICE_TURN_ON):
        await hass.services.async_call(
            SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: led}, blocking=True
        )
    device.set_fault(FaultMode.HTTP_500, paths=["/api/v1/settings"])
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: led}, blocking=True
        )
    device.clear_faults()
    await hass.services.async_call(
        BUTTON_DOMAIN,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: entity_id(hass, entry, "reboot", "button")},
        blocking=True,
    )
    await advance(hass, 15)
    await advance(hass, 10)

    # The tokens change on the device: 401, reauth with the new ones.
    device.configure(read_token="REAUTHREAD000001", write_token="REAUTHWRITE00001")
    tokens |= {"REAUTHREAD000001", "REAUTHWRITE00001"}
    await advance(hass, 10)
    (flow,) = [
        f
        for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if f["context"]["source"] == SOURCE_REAUTH
    ]
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_TOKEN: "WRONGTOKEN000000"}
    )
    tokens.add("WRONGTOKEN000000")
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"],
        {CONF_TOKEN: "REAUTHREAD000001", CONF_WRITE_TOKEN: "REAUTHWRITE00001"},
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    await outlast_setup_requests(hass)
    entry = hass.config_entries.async_get_entry(entry.entry_id)
    assert entry is not None

    # Rotation, twice: once plain, once with the confirm's answer lost.
    (dev,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    for fault in (None, FaultMode.APPLY_THEN_DROP):
        if fault is not None:
            device.set_fault(fault, paths=[CONFIRM])
        await hass.services.async_call(
            DOMAIN, "rotate_tokens", {ATTR_DEVICE_ID: dev.id}, blocking=True
        )
        device.clear_faults()
        tokens |= {device.state.read_token, device.state.write_token}
        assert entry.data[CONF_TOKEN] == device.state.read_token
    await advance(hass, 10)
    await advance(hass, 300)

    text = logged(caplog)
    assert len(caplog.records) > 100, "the log must really have been captured"
    assert caplog.text.count("has new API tokens") == 2
    assert "the answer to the token confirmation was lost" in text
    assert "Authentication failed while fetching" in text
    for token in tokens:
        assert token not in text, f"{token} appears in the log"


async def test_no_token_in_the_log_when_auth_is_turned_on(
    hass: HomeAssistant, device: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The repair's fix flow makes and stores tokens without logging them."""
    caplog.set_level(logging.DEBUG)
    entry = await setup_via_flow(hass, device)
    await outlast_setup_requests(hass)
    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(
        DOMAIN, data={"issue_id": f"auth_disabled_{entry.entry_id}"}
    )
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await advance(hass, 10)
    tokens = {device.state.read_token, device.state.write_token}
    assert entry.data[CONF_TOKEN] in tokens
    text = logged(caplog)
    assert "API authentication is on" in text
    for token in tokens:
        assert token not in text, f"{token} appears in the log"
