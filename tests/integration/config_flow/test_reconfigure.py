"""Reconfigure: another host, or other tokens, for the same device."""

from __future__ import annotations

from unittest.mock import AsyncMock

from homeassistant.const import CONF_HOST, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.wattwaechter.const import CONF_WRITE_TOKEN
from simulator import FaultMode, Simulator

from ..timetravel import advance
from .helpers import (
    BAD_TOKENS,
    HOST_ERRORS,
    OLD,
    READ,
    RETRY_AFTER,
    WRITE,
    add_entry,
    entry_data,
    host_of,
    requests,
    submit,
    suggested,
)

OLD_HOST = "127.0.0.5"


async def test_reconfigure_host(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    entry = add_entry(hass, OLD_HOST)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert suggested(result, CONF_HOST) == OLD_HOST
    assert suggested(result, CONF_TOKEN) is None

    result = await submit(hass, result, {CONF_HOST: f"http://{host_of(device)}"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == entry_data(host_of(device))
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.parametrize("user_input", [{CONF_TOKEN: ""}, {CONF_TOKEN: "  "}, {}])
async def test_reconfigure_empty_token_keeps_the_stored_one(
    hass: HomeAssistant, device: Simulator, user_input: dict[str, str]
) -> None:
    device.configure(auth_required=True)
    entry = add_entry(hass, OLD_HOST, READ)
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device), **user_input})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == entry_data(host_of(device), READ)
    assert device.request_log[0].token_level == "read"


async def test_reconfigure_new_token(hass: HomeAssistant, device: Simulator) -> None:
    device.configure(auth_required=True)
    entry = add_entry(hass, host_of(device), OLD)
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device), CONF_TOKEN: ""})
    assert result["errors"] == {"base": "invalid_auth"}
    result = await submit(hass, result, {CONF_HOST: host_of(device), CONF_TOKEN: READ})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == entry_data(host_of(device), READ)


async def test_reconfigure_adds_the_write_token(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    """The WRITE token is checked and added; the READ token stays."""
    device.configure(auth_required=True)
    entry = add_entry(hass, host_of(device), READ)
    result = await entry.start_reconfigure_flow(hass)
    assert suggested(result, CONF_WRITE_TOKEN) is None

    result = await submit(
        hass, result, {CONF_HOST: host_of(device), CONF_WRITE_TOKEN: READ}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_WRITE_TOKEN: "write_token_read_only"}
    assert entry.data[CONF_WRITE_TOKEN] is None

    result = await submit(
        hass, result, {CONF_HOST: host_of(device), CONF_WRITE_TOKEN: WRITE}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == entry_data(host_of(device), READ, WRITE)
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


async def test_reconfigure_empty_write_token_keeps_the_stored_one(
    hass: HomeAssistant, device: Simulator
) -> None:
    """An entry with only the WRITE token reads with it; empty fields keep it."""
    device.configure(auth_required=True)
    entry = add_entry(hass, host_of(device), None, WRITE)
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(
        hass, result, {CONF_HOST: host_of(device), CONF_WRITE_TOKEN: " "}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == entry_data(host_of(device), None, WRITE)
    # Only reads: no write check for a token that did not change.
    assert [(m, level) for m, _, level in requests(device)] == [
        ("GET", "write"),
        ("GET", "write"),
    ]


async def test_reconfigure_wrong_device(hass: HomeAssistant, device: Simulator) -> None:
    device.configure(other_device=True)
    entry = add_entry(hass, OLD_HOST)
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data == entry_data(OLD_HOST)


@pytest.mark.parametrize(("host", "reason"), HOST_ERRORS)
async def test_reconfigure_host_errors(
    hass: HomeAssistant, device: Simulator, host: str, reason: str
) -> None:
    entry = add_entry(hass, OLD_HOST)
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result, {CONF_HOST: host})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: reason}
    assert device.request_log == []
    assert entry.data[CONF_HOST] == OLD_HOST


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (FaultMode.OFFLINE, "cannot_connect"),
        (FaultMode.RATE_LIMIT_429, "device_busy"),
        (FaultMode.MALFORMED_JSON, "bad_response"),
    ],
)
async def test_reconfigure_device_errors_then_recovery(
    hass: HomeAssistant, device: Simulator, fault: FaultMode, error: str
) -> None:
    entry = add_entry(hass, OLD_HOST)
    device.set_fault(fault)
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"base": error}
    # The form keeps what the user typed, and the entry is unchanged.
    assert suggested(result, CONF_HOST) == host_of(device)
    assert entry.data[CONF_HOST] == OLD_HOST

    device.clear_faults()
    await advance(hass, RETRY_AFTER)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HOST] == host_of(device)


@pytest.mark.parametrize("bad", BAD_TOKENS)
@pytest.mark.parametrize("field", [CONF_TOKEN, CONF_WRITE_TOKEN])
async def test_reconfigure_rejects_malformed_tokens(
    hass: HomeAssistant, device: Simulator, bad: str, field: str
) -> None:
    device.configure(auth_required=True)
    entry = add_entry(hass, host_of(device), READ)
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device), field: bad})
    assert result["errors"] == {field: "token_invalid"}
    assert device.request_log == []
    assert entry.data[CONF_TOKEN] == READ
