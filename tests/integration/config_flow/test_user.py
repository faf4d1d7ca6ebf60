"""The user step against the simulated device on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from unittest.mock import AsyncMock

from aiohttp import web
from homeassistant.config_entries import SOURCE_IGNORE
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import DOMAIN
from simulator import FaultMode, Simulator, SimulatorConfig

from ..timetravel import advance
from .helpers import (
    DEVICE_ID,
    HOST_ERRORS,
    INFO,
    RETRY_AFTER,
    add_entry,
    entry_data,
    host_of,
    start_user,
    submit,
    suggested,
)


@pytest.fixture
async def web_page(socket_enabled: None) -> AsyncIterator[str]:
    """Another web server on loopback (a router page, say): 404 on the API."""
    runner = web.AppRunner(web.Application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_user_adds_the_device_by_ip(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: f"http://{host_of(device)}/"})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "WattWaechter"
    assert result["data"] == entry_data(host_of(device))
    assert result["result"].unique_id == DEVICE_ID
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1
    # Without auth the flow sends no token.
    assert {e.token_level for e in device.request_log} == {"none"}


async def test_user_adds_the_device_by_host_name(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A name is kept as typed and resolved through HA's shared session."""
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: f"LocalHost:{device.port}"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == entry_data(f"localhost:{device.port}")
    assert device.request_log


async def test_user_zero_padded_ip_is_decimal(
    hass: HomeAssistant, device: Simulator
) -> None:
    """127.000.000.001 is 127.0.0.1, not an octal address of another host."""
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: f"127.000.000.001:{device.port}"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOST] == host_of(device)
    assert device.request_log


async def test_user_title_without_device_name(
    hass: HomeAssistant, device: Simulator
) -> None:
    device.set_fault(FaultMode.HTTP_500, paths=["/api/v1/settings"])
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "WattWächter EEFF"


@pytest.mark.parametrize(("host", "reason"), HOST_ERRORS)
async def test_user_host_errors(
    hass: HomeAssistant, device: Simulator, host: str, reason: str
) -> None:
    """A host that cannot be used is a field error; nothing is sent."""
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: reason}
    assert suggested(result, CONF_HOST) == host
    assert device.request_log == []

    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (FaultMode.OFFLINE, "cannot_connect"),
        (FaultMode.RESET, "cannot_connect"),
        (FaultMode.BUSY_503, "device_busy"),
        (FaultMode.RATE_LIMIT_429, "device_busy"),
        (FaultMode.MALFORMED_JSON, "bad_response"),
        (FaultMode.HTTP_500, "bad_response"),
    ],
)
async def test_user_device_errors_then_recovery(
    hass: HomeAssistant, device: Simulator, fault: FaultMode, error: str
) -> None:
    result = await start_user(hass)
    device.set_fault(fault)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": error}
    assert suggested(result, CONF_HOST) == host_of(device)

    device.clear_faults()
    if error == "device_busy":
        # The device asked to wait: a retry within its Retry-After sends nothing.
        device.clear_log()
        result = await submit(hass, result, {CONF_HOST: host_of(device)})
        assert result["errors"] == {"base": error}
        assert device.request_log == []
        await advance(hass, RETRY_AFTER)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == DEVICE_ID


async def test_user_device_not_running(hass: HomeAssistant, device: Simulator) -> None:
    stopped = host_of(device)
    await device.stop()
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: stopped})
    assert result["errors"] == {"base": "cannot_connect"}

    await device.start(host="127.0.0.1", port=0)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOST] == host_of(device)


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(payloads={INFO: {"wifi": [], "esp": []}})]
)
async def test_user_json_without_device_id_is_not_a_wattwaechter(
    hass: HomeAssistant, device: Simulator
) -> None:
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["errors"] == {"base": "bad_response"}
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_user_other_web_server_is_not_a_wattwaechter(
    hass: HomeAssistant, web_page: str
) -> None:
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: web_page})
    assert result["errors"] == {"base": "not_supported"}


async def test_user_stale_field_error_goes(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A host error is not shown again when the next submit fails otherwise."""
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: "bad_host!"})
    assert result["errors"] == {CONF_HOST: "host_invalid"}
    device.set_fault(FaultMode.OFFLINE)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["errors"] == {"base": "cannot_connect"}


# --- a device set up already ---------------------------------------------------


async def test_user_same_host_is_already_configured(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    entry = add_entry(hass, host_of(device))
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == entry_data(host_of(device))
    await hass.async_block_till_done()
    assert mock_setup_entry.mock_calls == []


async def test_user_new_host_updates_the_entry_and_reloads(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    """The old address was an IP the device left: the entry moves and reloads."""
    entry = add_entry(hass, f"127.0.0.2:{device.port}")
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured_updated"
    assert result["description_placeholders"] == {
        "name": "WattWaechter",
        "old": f"127.0.0.2:{device.port}",
        "new": host_of(device),
    }
    assert entry.data == entry_data(host_of(device))
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


async def test_user_new_host_no_reload_while_old_name_reaches(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    """The user's new address is stored; the running entry keeps working as is."""
    entry = add_entry(hass, f"localhost:{device.port}")
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["reason"] == "already_configured_updated"
    assert entry.data[CONF_HOST] == host_of(device)
    await hass.async_block_till_done()
    assert mock_setup_entry.mock_calls == []


async def test_user_replaces_an_ignored_device(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A device the user once ignored can still be added by hand."""
    MockConfigEntry(
        domain=DOMAIN, unique_id=DEVICE_ID, source=SOURCE_IGNORE, data={}
    ).add_to_hass(hass)
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    assert entry.source == "user"
    assert entry.data == entry_data(host_of(device))
