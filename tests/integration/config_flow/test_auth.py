"""The auth step: READ and WRITE tokens of a device with authentication on."""

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
    DEVICE_ID,
    INFO,
    OLD,
    READ,
    RETRY_AFTER,
    SETTINGS,
    WRITE,
    WRONG,
    add_entry,
    auth_form,
    entry_data,
    host_of,
    requests,
    start_user,
    submit,
)


async def test_auth_read_token(hass: HomeAssistant, device: Simulator) -> None:
    device.configure(auth_required=True)
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "auth"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {"host": host_of(device)}

    result = await submit(hass, result, {CONF_TOKEN: WRONG})
    assert result["step_id"] == "auth"
    assert result["errors"] == {"base": "invalid_auth"}

    device.clear_log()
    result = await submit(hass, result, {CONF_TOKEN: f"  {READ} "})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "WattWaechter"
    assert result["data"] == entry_data(host_of(device), READ)
    assert result["result"].unique_id == DEVICE_ID
    # Reading only: the READ token is not tried on a write.
    assert {level for _, _, level in requests(device)} == {"read"}
    assert "POST" not in {method for method, _, _ in requests(device)}


async def test_auth_write_token_only(hass: HomeAssistant, device: Simulator) -> None:
    """The WRITE token alone is enough: it also reads."""
    result = await auth_form(hass, device)
    device.clear_log()
    result = await submit(hass, result, {CONF_TOKEN: "", CONF_WRITE_TOKEN: WRITE})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == entry_data(host_of(device), None, WRITE)
    assert {level for _, _, level in requests(device)} == {"write"}


async def test_auth_read_and_write_tokens(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Both are stored apart; the WRITE token is checked by a change to nothing."""
    result = await auth_form(hass, device)
    device.clear_log()
    result = await submit(
        hass, result, {CONF_TOKEN: f" {READ} ", CONF_WRITE_TOKEN: f" {WRITE} "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == entry_data(host_of(device), READ, WRITE)
    assert requests(device) == [
        ("GET", INFO, "read"),
        ("GET", SETTINGS, "read"),
        ("POST", SETTINGS, "write"),
    ]
    assert device.state.settings["ledEnable"] is True


@pytest.mark.parametrize(
    ("write_token", "error"),
    [(READ, "write_token_read_only"), (WRONG, "invalid_write_token")],
)
async def test_auth_write_token_errors(
    hass: HomeAssistant, device: Simulator, write_token: str, error: str
) -> None:
    """A READ token in the WRITE field, or a wrong one, is a field error."""
    result = await auth_form(hass, device)
    result = await submit(
        hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: write_token}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_WRITE_TOKEN: error}
    assert device.state.settings["ledEnable"] is True

    result = await submit(hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_WRITE_TOKEN] == WRITE


async def test_auth_needs_a_token(hass: HomeAssistant, device: Simulator) -> None:
    """An empty form asks again, without asking the device."""
    result = await auth_form(hass, device)
    device.clear_log()
    result = await submit(hass, result, {})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "token_required"}
    assert device.request_log == []


@pytest.mark.parametrize("bad", BAD_TOKENS)
@pytest.mark.parametrize("field", [CONF_TOKEN, CONF_WRITE_TOKEN])
async def test_auth_rejects_malformed_tokens(
    hass: HomeAssistant, device: Simulator, bad: str, field: str
) -> None:
    """A token with spaces or control characters inside is a field error, unsent."""
    result = await auth_form(hass, device)
    device.clear_log()
    result = await submit(hass, result, {field: bad})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: "token_invalid"}
    assert device.request_log == []


async def test_auth_device_busy_then_recovery(
    hass: HomeAssistant, device: Simulator
) -> None:
    result = await auth_form(hass, device)
    device.set_fault(FaultMode.BUSY_503)
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["errors"] == {"base": "device_busy"}
    device.clear_faults()
    await advance(hass, RETRY_AFTER)
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("fault", "error"),
    [(FaultMode.RATE_LIMIT_429, "device_busy"), (FaultMode.HTTP_500, "bad_response")],
)
async def test_auth_write_check_fails(
    hass: HomeAssistant, device: Simulator, fault: FaultMode, error: str
) -> None:
    """When /settings fails, the WRITE token cannot be checked: ask again."""
    result = await auth_form(hass, device)
    device.set_fault(fault, paths=[SETTINGS])
    result = await submit(hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert "POST" not in {method for method, _, _ in requests(device)}


async def test_write_check_on_firmware_without_led_setting(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Older firmware has no ``ledEnable``: the check re-sends the device name."""
    device.configure(legacy_firmware=True)
    result = await auth_form(hass, device)
    device.clear_log()
    result = await submit(hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert device.state.settings["device_name"] == "WattWaechter"
    assert requests(device)[-1] == ("POST", SETTINGS, "write")


async def test_write_check_without_a_setting_to_resend(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Nothing to re-send unchanged: the WRITE token cannot be checked, nothing sent."""
    result = await auth_form(hass, device)
    device.configure(payloads={SETTINGS: {}})
    device.clear_log()
    result = await submit(hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE})
    assert result["errors"] == {"base": "bad_response"}
    assert "POST" not in {method for method, _, _ in requests(device)}


async def test_auth_known_device_gets_the_new_tokens(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    """Adding a device set up already updates its token; an empty field keeps one."""
    entry = add_entry(hass, host_of(device), OLD, WRITE)
    result = await auth_form(hass, device)
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured_tokens"
    assert result["description_placeholders"] == {"name": "WattWaechter"}
    assert entry.data == entry_data(host_of(device), READ, WRITE)
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


async def test_auth_known_device_same_tokens_is_already_configured(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    entry = add_entry(hass, host_of(device), READ)
    result = await auth_form(hass, device)
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["reason"] == "already_configured"
    assert entry.data == entry_data(host_of(device), READ)
    await hass.async_block_till_done()
    assert mock_setup_entry.mock_calls == []


async def test_auth_known_device_new_host_and_token(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    entry = add_entry(hass, f"127.0.0.2:{device.port}", OLD)
    result = await auth_form(hass, device)
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["reason"] == "already_configured_updated"
    assert entry.data == entry_data(host_of(device), READ)
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


async def test_write_check_refused_by_the_device(
    hass: HomeAssistant, device: Simulator
) -> None:
    """The device refuses the unchanged value: the WRITE token is not confirmed."""
    result = await auth_form(hass, device)
    device.configure(payloads={SETTINGS: {"device_name": " "}})
    result = await submit(hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE})
    assert result["errors"] == {"base": "bad_response"}
    assert requests(device)[-1] == ("POST", SETTINGS, "write")
    assert device.state.settings["device_name"] == "WattWaechter"
