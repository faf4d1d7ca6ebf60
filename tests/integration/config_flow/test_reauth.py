"""Reauthentication: after the device refused the stored token."""

from __future__ import annotations

from unittest.mock import AsyncMock

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import CONF_WRITE_TOKEN
from simulator import FaultMode, Simulator

from .helpers import (
    OLD,
    READ,
    WRITE,
    WRONG,
    add_entry,
    entry_data,
    host_of,
    requests,
    submit,
    suggested,
)


async def start_reauth(
    hass: HomeAssistant,
    device: Simulator,
    token: str | None = OLD,
    write_token: str | None = None,
) -> tuple[MockConfigEntry, ConfigFlowResult]:
    """Add an entry with stale tokens for the secured device; start its reauth."""
    device.configure(auth_required=True)
    entry = add_entry(hass, host_of(device), token, write_token)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["host"] == host_of(device)
    assert suggested(result, CONF_TOKEN) is None
    assert suggested(result, CONF_WRITE_TOKEN) is None
    return entry, result


async def test_reauth_new_token(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    entry, result = await start_reauth(hass, device)
    result = await submit(hass, result, {CONF_TOKEN: WRONG})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}

    result = await submit(hass, result, {CONF_TOKEN: f" {READ} "})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data == entry_data(host_of(device), READ)
    await hass.async_block_till_done()
    # The entry restarts with the new token.
    assert len(mock_setup_entry.mock_calls) == 1


async def test_reauth_device_needs_no_token_any_more(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    """Auth went off on the device: confirming drops the stored tokens."""
    entry = add_entry(hass, host_of(device), READ, WRITE)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_no_token"
    assert result["description_placeholders"]["host"] == host_of(device)

    result = await submit(hass, result, {})
    assert result["reason"] == "reauth_successful"
    assert entry.data == entry_data(host_of(device))
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


async def test_reauth_no_token_but_another_device(
    hass: HomeAssistant, device: Simulator
) -> None:
    device.configure(other_device=True)
    entry = add_entry(hass, host_of(device), READ)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data[CONF_TOKEN] == READ


async def test_reauth_both_tokens(hass: HomeAssistant, device: Simulator) -> None:
    """READ and WRITE token together: both stored, the WRITE token checked."""
    entry, result = await start_reauth(hass, device)
    device.clear_log()
    result = await submit(
        hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: f" {WRITE} "}
    )
    assert result["reason"] == "reauth_successful"
    assert entry.data == entry_data(host_of(device), READ, WRITE)
    assert [(method, level) for method, _, level in requests(device)] == [
        ("GET", "read"),
        ("GET", "read"),
        ("POST", "write"),
    ]


async def test_reauth_write_token_only(hass: HomeAssistant, device: Simulator) -> None:
    """An entry that reads with its WRITE token takes a new WRITE token alone."""
    entry, result = await start_reauth(hass, device, None, "OLDWRITE00000000")
    result = await submit(hass, result, {CONF_WRITE_TOKEN: WRITE})
    assert result["reason"] == "reauth_successful"
    assert entry.data == entry_data(host_of(device), None, WRITE)


async def test_reauth_empty_fields_keep_the_stored_tokens(
    hass: HomeAssistant, device: Simulator
) -> None:
    """The stored token works again (say, the device came back): nothing typed."""
    entry, result = await start_reauth(hass, device, READ, WRITE)
    device.clear_log()
    result = await submit(hass, result, {CONF_TOKEN: "  ", CONF_WRITE_TOKEN: ""})
    assert result["reason"] == "reauth_successful"
    assert entry.data == entry_data(host_of(device), READ, WRITE)
    # Only reads: a WRITE token not typed anew is not tried.
    assert "POST" not in {method for method, _, _ in requests(device)}


async def test_reauth_new_read_token_keeps_the_write_token(
    hass: HomeAssistant, device: Simulator
) -> None:
    entry, result = await start_reauth(hass, device, OLD, WRITE)
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["reason"] == "reauth_successful"
    assert entry.data == entry_data(host_of(device), READ, WRITE)


async def test_reauth_needs_a_token(hass: HomeAssistant, device: Simulator) -> None:
    _, result = await start_reauth(hass, device, None, None)
    device.clear_log()
    result = await submit(hass, result, {})
    assert result["errors"] == {"base": "token_required"}
    assert device.request_log == []
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["reason"] == "reauth_successful"


@pytest.mark.parametrize(
    ("write_token", "error"),
    [(READ, "write_token_read_only"), (WRONG, "invalid_write_token")],
)
async def test_reauth_write_token_errors(
    hass: HomeAssistant, device: Simulator, write_token: str, error: str
) -> None:
    entry, result = await start_reauth(hass, device)
    result = await submit(
        hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: write_token}
    )
    assert result["errors"] == {CONF_WRITE_TOKEN: error}
    assert entry.data[CONF_TOKEN] == OLD


@pytest.mark.parametrize("field", [CONF_TOKEN, CONF_WRITE_TOKEN])
async def test_reauth_rejects_malformed_tokens(
    hass: HomeAssistant, device: Simulator, field: str
) -> None:
    _, result = await start_reauth(hass, device)
    device.clear_log()
    result = await submit(hass, result, {field: "NEW TOKEN"})
    assert result["errors"] == {field: "token_invalid"}
    assert device.request_log == []


async def test_reauth_stored_token_malformed(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A stored token no header may carry is never sent; a new one replaces it."""
    entry, result = await start_reauth(hass, device, "OLD\nTOKEN")
    device.clear_log()
    result = await submit(hass, result, {})
    assert result["errors"] == {"base": "token_invalid"}
    assert device.request_log == []
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] == READ


async def test_reauth_device_offline_then_back(
    hass: HomeAssistant, device: Simulator
) -> None:
    entry, result = await start_reauth(hass, device)
    device.set_fault(FaultMode.OFFLINE)
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["errors"] == {"base": "cannot_connect"}
    device.clear_faults()
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] == READ


async def test_reauth_wrong_device(hass: HomeAssistant, device: Simulator) -> None:
    """Another device answers at the stored address: nothing stored or written."""
    entry, result = await start_reauth(hass, device)
    device.configure(other_device=True)
    device.clear_log()
    result = await submit(hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data == entry_data(host_of(device), OLD)
    # The device's identity is checked before the WRITE token is tried.
    assert "POST" not in {method for method, _, _ in requests(device)}
