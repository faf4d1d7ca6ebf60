"""Discovery by mDNS (zeroconf) and DHCP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from ipaddress import ip_address
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import (
    SOURCE_DHCP,
    SOURCE_IGNORE,
    SOURCE_ZEROCONF,
    ConfigFlowResult,
)
from homeassistant.const import CONF_DEVICE_ID, CONF_HOST, CONF_MODEL, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from homeassistant.loader import async_get_integration
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import DOMAIN
from custom_components.wattwaechter.flow_checks import device_id_from_discovery
from simulator import FaultMode, Simulator, SimulatorConfig

from .helpers import (
    DEVICE_ID,
    READ,
    WRONG,
    add_entry,
    entry_data,
    host_of,
    http_service,
    start_user,
    submit,
    wattwaechter_service,
)


async def start_zeroconf(
    hass: HomeAssistant, info: ZeroconfServiceInfo
) -> ConfigFlowResult:
    """Start a flow for an mDNS advertisement."""
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
    )


async def start_dhcp(hass: HomeAssistant, ip: str) -> ConfigFlowResult:
    """Start a flow for a DHCP lease of the default device."""
    info = DhcpServiceInfo(
        ip=ip, hostname="wattwaechter-aabbccddeeff", macaddress=DEVICE_ID.lower()
    )
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=info
    )


def title_placeholders(hass: HomeAssistant, flow_id: str) -> Any:
    """Return what the discovered card shows as the device's name."""
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    return next(f for f in flows if f["flow_id"] == flow_id)["context"].get(
        "title_placeholders"
    )


@pytest.fixture
async def device_on_port_80(
    hass: HomeAssistant, socket_enabled: None
) -> AsyncIterator[Simulator]:
    """The device where DHCP says it is: 127.0.0.1, port 80 (needs the right)."""
    sim = Simulator(SimulatorConfig())
    try:
        await sim.start(host="127.0.0.1", port=80)
    except OSError as err:
        pytest.skip(f"cannot listen on 127.0.0.1:80 ({err})")
    try:
        yield sim
    finally:
        await sim.stop()


async def test_manifest_matches_the_advertisements(hass: HomeAssistant) -> None:
    integration = await async_get_integration(hass, DOMAIN)
    assert integration.zeroconf == [
        "_wattwaechter._tcp.local.",
        {"type": "_http._tcp.local.", "name": "wattwaechter*"},
    ]
    assert integration.dhcp == [
        {"registered_devices": True},
        {"hostname": "wattwaechter*"},
    ]


@pytest.mark.parametrize("advertisement", [wattwaechter_service, http_service])
async def test_zeroconf_confirm_creates_the_entry(
    hass: HomeAssistant,
    device: Simulator,
    mock_setup_entry: AsyncMock,
    advertisement: Any,
) -> None:
    result = await start_zeroconf(hass, advertisement(device.port))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "discovery_confirm"
    assert result["description_placeholders"] == {
        "name": "WattWaechter",
        "model": "WattWächter Plus",
        "firmware": "1.2.3",
        "host": host_of(device),
    }
    assert title_placeholders(hass, result["flow_id"]) == {"name": "WattWaechter"}

    result = await submit(hass, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "WattWaechter"
    assert result["data"] == entry_data(host_of(device))
    assert result["result"].unique_id == DEVICE_ID
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


async def test_dhcp_confirm_creates_the_entry(
    hass: HomeAssistant, device_on_port_80: Simulator
) -> None:
    result = await start_dhcp(hass, "127.0.0.1")
    assert result["step_id"] == "discovery_confirm"
    assert result["description_placeholders"]["host"] == "127.0.0.1"
    assert title_placeholders(hass, result["flow_id"]) == {"name": "WattWaechter"}
    result = await submit(hass, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == entry_data("127.0.0.1")


async def test_dhcp_device_with_auth_asks_for_tokens(
    hass: HomeAssistant, device_on_port_80: Simulator
) -> None:
    device_on_port_80.configure(auth_required=True)
    result = await start_dhcp(hass, "127.0.0.1")
    assert result["step_id"] == "auth"
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["data"] == entry_data("127.0.0.1", READ)


async def test_zeroconf_one_card_per_device(
    hass: HomeAssistant, device: Simulator
) -> None:
    """The device answers on both service types; only one discovery remains."""
    first = await start_zeroconf(hass, wattwaechter_service(device.port))
    assert first["step_id"] == "discovery_confirm"
    second = await start_zeroconf(hass, http_service(device.port))
    assert second["type"] is FlowResultType.ABORT
    assert second["reason"] == "already_in_progress"
    assert len(hass.config_entries.flow.async_progress_by_handler(DOMAIN)) == 1


async def test_manual_setup_ends_the_discovery(
    hass: HomeAssistant, device: Simulator
) -> None:
    discovery = await start_zeroconf(hass, wattwaechter_service(device.port))
    assert discovery["step_id"] == "discovery_confirm"

    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []


@pytest.mark.parametrize(
    "simulator_config",
    [SimulatorConfig(device_id="A1B2C3D4E5F6", medium="gas", device_name="Gas")],
)
async def test_zeroconf_gas_meter(hass: HomeAssistant, device: Simulator) -> None:
    info = wattwaechter_service(
        device.port, "A1B2C3D4E5F6", prefix="WWGW", model="WW-GW-MF"
    )
    result = await start_zeroconf(hass, info)
    assert result["step_id"] == "discovery_confirm"
    assert result["description_placeholders"]["model"] == "WattWächter Gas/Wasser"
    result = await submit(hass, result, {})
    assert result["title"] == "Gas"
    assert result["result"].unique_id == "A1B2C3D4E5F6"
    assert result["data"][CONF_DEVICE_ID] == "A1B2C3D4E5F6"
    assert result["data"][CONF_MODEL] == "ww_gw_mf"


async def test_zeroconf_device_with_auth(
    hass: HomeAssistant, device: Simulator
) -> None:
    device.configure(auth_required=True)
    result = await start_zeroconf(hass, wattwaechter_service(device.port))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "auth"
    assert result["description_placeholders"] == {"host": host_of(device)}
    # The device's name is unknown without a token; the card shows the fallback.
    assert title_placeholders(hass, result["flow_id"]) == {"name": "WattWächter EEFF"}

    result = await submit(hass, result, {CONF_TOKEN: WRONG})
    assert result["errors"] == {"base": "invalid_auth"}
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "WattWaechter"
    assert result["data"] == entry_data(host_of(device), READ)
    assert result["result"].unique_id == DEVICE_ID


async def test_zeroconf_during_onboarding_waits_for_the_user(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A device found while HA is still onboarding waits under Discovered."""
    with patch(
        "homeassistant.components.onboarding.async_is_onboarded", return_value=False
    ):
        result = await start_zeroconf(hass, wattwaechter_service(device.port))
    assert result["step_id"] == "discovery_confirm"
    assert hass.config_entries.async_entries(DOMAIN) == []


# --- a device set up already ---------------------------------------------------


async def test_discovery_keeps_a_host_name_that_still_reaches(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    """The user typed a name; the device announcing its IP does not replace it."""
    entry = add_entry(hass, f"localhost:{device.port}")
    result = await start_zeroconf(hass, wattwaechter_service(device.port))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == f"localhost:{device.port}"
    result = await start_dhcp(hass, "127.0.0.1")
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == f"localhost:{device.port}"
    await hass.async_block_till_done()
    assert mock_setup_entry.mock_calls == []


@pytest.mark.parametrize(
    ("port", "host"),
    [(8080, "127.0.0.77:8080"), (80, "127.0.0.77"), (None, "127.0.0.77")],
)
@pytest.mark.parametrize("advertisement", [wattwaechter_service, http_service])
async def test_zeroconf_moves_an_old_ip_and_reloads(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    advertisement: Any,
    port: int | None,
    host: str,
) -> None:
    entry = add_entry(hass, "127.0.0.5")
    result = await start_zeroconf(hass, advertisement(port, host="127.0.0.77"))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured_updated"
    assert result["description_placeholders"] == {
        "name": "WattWaechter",
        "old": "127.0.0.5",
        "new": host,
    }
    assert entry.data == entry_data(host)
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


async def test_discovery_moves_a_host_name_that_no_longer_reaches(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    entry = add_entry(hass, "localhost:1")
    result = await start_zeroconf(hass, wattwaechter_service(device.port))
    assert result["reason"] == "already_configured_updated"
    assert entry.data[CONF_HOST] == host_of(device)
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


async def test_dhcp_moves_a_registered_device(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    entry = add_entry(hass, "127.0.0.5")
    result = await start_dhcp(hass, "127.0.0.6")
    assert result["reason"] == "already_configured_updated"
    assert entry.data == entry_data("127.0.0.6")
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


async def test_dhcp_same_address_changes_nothing(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    entry = add_entry(hass, "127.0.0.5")
    result = await start_dhcp(hass, "127.0.0.5")
    assert result["reason"] == "already_configured"
    assert entry.data == entry_data("127.0.0.5")
    await hass.async_block_till_done()
    assert mock_setup_entry.mock_calls == []


async def test_discovery_of_an_ignored_device_stays_ignored(
    hass: HomeAssistant, device: Simulator
) -> None:
    MockConfigEntry(
        domain=DOMAIN, unique_id=DEVICE_ID, source=SOURCE_IGNORE, data={}
    ).add_to_hass(hass)
    result = await start_zeroconf(hass, wattwaechter_service(device.port))
    assert result["reason"] == "already_configured"
    assert device.request_log == []


# --- aborts --------------------------------------------------------------------


async def test_zeroconf_without_device_id(hass: HomeAssistant) -> None:
    info = ZeroconfServiceInfo(
        ip_address=ip_address("127.0.0.80"),
        ip_addresses=[ip_address("127.0.0.80")],
        port=80,
        hostname="printer.local.",
        type="_http._tcp.local.",
        name="Printer._http._tcp.local.",
        properties={"id": "", "mac": ""},
    )
    result = await start_zeroconf(hass, info)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_device_id"


@pytest.mark.parametrize(
    "fault", [FaultMode.OFFLINE, FaultMode.HTTP_500, FaultMode.BUSY_503]
)
async def test_zeroconf_cannot_connect(
    hass: HomeAssistant, device: Simulator, fault: FaultMode
) -> None:
    device.set_fault(fault)
    result = await start_zeroconf(hass, wattwaechter_service(device.port))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []


async def test_zeroconf_stale_address_is_another_device(
    hass: HomeAssistant, device: Simulator
) -> None:
    """An advertisement whose address now answers with another device ID aborts."""
    device.configure(other_device=True)
    result = await start_zeroconf(hass, wattwaechter_service(device.port))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert hass.config_entries.async_entries(DOMAIN) == []


@pytest.mark.parametrize(
    ("properties", "hostname", "name", "device_id"),
    [
        ({"id": "WWP-AABBCCDDEEFF"}, "x.local.", "x", DEVICE_ID),
        ({"id": "WWGW-A1B2C3D4E5F6"}, "x.local.", "x", "A1B2C3D4E5F6"),
        ({"mac": "aa:bb:cc:dd:ee:ff"}, "x.local.", "x", DEVICE_ID),
        ({}, "wattwaechter-aabbccddeeff.local.", "x", DEVICE_ID),
        ({}, "esp32.local.", "WWP-AABBCCDDEEFF._wattwaechter._tcp.local.", DEVICE_ID),
        ({}, "esp32.local.", "Printer._http._tcp.local.", ""),
    ],
)
def test_device_id_from_discovery(
    properties: dict[str, str], hostname: str, name: str, device_id: str
) -> None:
    assert device_id_from_discovery(properties, hostname, name) == device_id
