"""The config flow against the simulated device on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from ipaddress import ip_address
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_USER, SOURCE_ZEROCONF
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_HOST,
    CONF_MAC,
    CONF_MODEL,
    CONF_TOKEN,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from homeassistant.loader import async_get_integration
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.api import (
    SystemInfo,
    WattwaechterForbiddenError,
    WattwaechterNoDataError,
)
from custom_components.wattwaechter.config_flow import device_id_from_discovery
from custom_components.wattwaechter.const import (
    CONF_FW_VERSION,
    CONF_WRITE_TOKEN,
    DOMAIN,
)
from simulator import FaultMode, Simulator, SimulatorConfig

from .helpers import advance

DEVICE_ID = "AABBCCDDEEFF"
OTHER_ID = "112233445566"
READ = "READTOKEN1234567"
WRITE = "WRITETOKEN123456"
CLIENT = "custom_components.wattwaechter.config_flow.WattwaechterClient"
RETRY_AFTER = 10
"""The simulator's longest Retry-After (429: 10 s, 503: 5 s)."""


@pytest.fixture(autouse=True)
def mock_setup_entry() -> Iterator[AsyncMock]:
    """Keep entry setup out of the flow tests; count how often it ran."""
    with (
        patch(
            "custom_components.wattwaechter.async_setup_entry", return_value=True
        ) as setup,
        patch("custom_components.wattwaechter.async_unload_entry", return_value=True),
    ):
        yield setup


@pytest.fixture
async def other_device(
    hass: HomeAssistant, socket_enabled: None
) -> AsyncIterator[Simulator]:
    """A second WattWächter (another device ID) with authentication on."""
    sim = Simulator(SimulatorConfig(device_id=OTHER_ID, auth_required=True))
    await sim.start(host="127.0.0.1", port=0)
    try:
        yield sim
    finally:
        await sim.stop()


def host_of(sim: Simulator) -> str:
    """Return what a user types to reach the simulator."""
    return f"127.0.0.1:{sim.port}"


def entry_data(
    host: str, token: str | None = None, write_token: str | None = None
) -> dict[str, Any]:
    """Return the data of an entry created for the default simulator."""
    return {
        CONF_HOST: host,
        CONF_TOKEN: token,
        CONF_WRITE_TOKEN: write_token,
        CONF_DEVICE_ID: DEVICE_ID,
        CONF_MODEL: "ww_plus",
        CONF_FW_VERSION: "1.2.3",
        CONF_MAC: "AA:BB:CC:DD:EE:FF",
    }


def add_entry(
    hass: HomeAssistant, host: str, token: str | None = None
) -> MockConfigEntry:
    """Add an existing entry for the default device."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="WattWaechter",
        unique_id=DEVICE_ID,
        data=entry_data(host, token),
        version=1,
        minor_version=3,
    )
    entry.add_to_hass(hass)
    return entry


def suggested(result: FlowResult, key: str) -> Any:
    """Return the value a form shows pre-filled in field ``key``."""
    for marker in result["data_schema"].schema:
        if marker == key:
            return (marker.description or {}).get("suggested_value")
    raise KeyError(key)


async def start_user(hass: HomeAssistant) -> FlowResult:
    """Open the user step."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return result


async def submit(
    hass: HomeAssistant, result: FlowResult, user_input: dict[str, Any]
) -> FlowResult:
    """Submit one step of a flow."""
    return await hass.config_entries.flow.async_configure(result["flow_id"], user_input)


# --- user step -----------------------------------------------------------------


async def test_user_creates_entry(
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


async def test_user_title_without_device_name(
    hass: HomeAssistant, device: Simulator
) -> None:
    device.set_fault(FaultMode.HTTP_500, paths=["/api/v1/settings"])
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "WattWächter EEFF"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (FaultMode.OFFLINE, "cannot_connect"),
        (FaultMode.RESET, "cannot_connect"),
        (FaultMode.BUSY_503, "device_busy"),
        (FaultMode.RATE_LIMIT_429, "device_busy"),
        (FaultMode.MALFORMED_JSON, "not_wattwaechter"),
        (FaultMode.HTTP_500, "not_wattwaechter"),
    ],
)
async def test_user_error_and_recovery(
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
    ("host", "reason"),
    [
        ("", "host_empty"),
        ("my meter", "host_whitespace"),
        ("https://x", "host_scheme"),
        ("http://u:p@x", "host_credentials"),
        ("x/api/v1", "host_path"),
        ("bad_host!", "host_invalid"),
    ],
)
async def test_user_host_validation(
    hass: HomeAssistant, device: Simulator, host: str, reason: str
) -> None:
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: reason}
    assert device.request_log == []

    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_answer_without_device_id(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A JSON answer without ``esp.esp_id`` is not a WattWächter."""
    result = await start_user(hass)
    with patch(
        f"{CLIENT}.system_info", AsyncMock(return_value=SystemInfo(sections={}))
    ):
        result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["errors"] == {"base": "not_wattwaechter"}


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (WattwaechterNoDataError("204"), "not_wattwaechter"),
        (WattwaechterForbiddenError("403"), "cannot_connect"),
    ],
)
async def test_user_unexpected_answers(
    hass: HomeAssistant, device: Simulator, error: Exception, key: str
) -> None:
    """Answers the device never gives to /system/info still end in a form error."""
    result = await start_user(hass)
    with patch(f"{CLIENT}.system_info", AsyncMock(side_effect=error)):
        result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["errors"] == {"base": key}
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_already_configured_updates_host(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    entry = add_entry(hass, "192.168.1.5")
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == host_of(device)
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


# --- auth step -----------------------------------------------------------------


async def test_user_with_auth(hass: HomeAssistant, device: Simulator) -> None:
    device.configure(auth_required=True)
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "auth"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {"host": host_of(device)}

    result = await submit(hass, result, {CONF_TOKEN: "WRONGTOKEN000000"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "auth"
    assert result["errors"] == {"base": "invalid_auth"}

    result = await submit(hass, result, {CONF_TOKEN: f"  {READ} "})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "WattWaechter"
    assert result["data"] == entry_data(host_of(device), READ)
    assert result["result"].unique_id == DEVICE_ID
    assert device.request_log[-1].token_level == "read"


async def test_auth_step_device_busy(hass: HomeAssistant, device: Simulator) -> None:
    device.configure(auth_required=True)
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    device.set_fault(FaultMode.BUSY_503)
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["errors"] == {"base": "device_busy"}
    device.clear_faults()
    await advance(hass, RETRY_AFTER)
    result = await submit(hass, result, {CONF_TOKEN: WRITE})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_TOKEN] == WRITE


async def test_auth_already_configured_updates_host_and_token(
    hass: HomeAssistant, device: Simulator
) -> None:
    device.configure(auth_required=True)
    entry = add_entry(hass, "192.168.1.5", "OLDTOKEN00000000")
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["step_id"] == "auth"
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == host_of(device)
    assert entry.data[CONF_TOKEN] == READ


# --- zeroconf ------------------------------------------------------------------


def wattwaechter_service(
    port: int | None,
    device_id: str = DEVICE_ID,
    prefix: str = "WWP",
    model: str = "WW-Plus",
    host: str = "127.0.0.1",
) -> ZeroconfServiceInfo:
    """Return the ``_wattwaechter._tcp`` advertisement of a device."""
    mac = ":".join(device_id[i : i + 2] for i in range(0, 12, 2))
    return ZeroconfServiceInfo(
        ip_address=ip_address(host),
        ip_addresses=[ip_address(host)],
        port=port,
        hostname=f"wattwaechter-{device_id.lower()}.local.",
        type="_wattwaechter._tcp.local.",
        name=f"{prefix}-{device_id}._wattwaechter._tcp.local.",
        properties={
            "id": f"{prefix}-{device_id}",
            "model": model,
            "ver": "1.2.3",
            "mac": mac,
        },
    )


def http_service(port: int | None, host: str = "127.0.0.1") -> ZeroconfServiceInfo:
    """Return the plain ``_http._tcp`` advertisement (no TXT records)."""
    return ZeroconfServiceInfo(
        ip_address=ip_address(host),
        ip_addresses=[ip_address(host)],
        port=port,
        hostname="wattwaechter-aabbccddeeff.local.",
        type="_http._tcp.local.",
        name="wattwaechter-aabbccddeeff._http._tcp.local.",
        properties={},
    )


async def start_zeroconf(hass: HomeAssistant, info: ZeroconfServiceInfo) -> FlowResult:
    """Start a discovery flow."""
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
    )


def title_placeholders(hass: HomeAssistant, flow_id: str) -> Any:
    """Return what the discovered card shows as the device's name."""
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    return next(f for f in flows if f["flow_id"] == flow_id)["context"].get(
        "title_placeholders"
    )


async def test_manifest_matches_both_advertisements(hass: HomeAssistant) -> None:
    integration = await async_get_integration(hass, DOMAIN)
    assert integration.zeroconf == [
        "_wattwaechter._tcp.local.",
        {"type": "_http._tcp.local.", "name": "wattwaechter*"},
    ]


@pytest.mark.parametrize("advertisement", [wattwaechter_service, http_service])
async def test_zeroconf_confirm_creates_entry(
    hass: HomeAssistant,
    device: Simulator,
    mock_setup_entry: AsyncMock,
    advertisement: Any,
) -> None:
    result = await start_zeroconf(hass, advertisement(device.port))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
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


async def test_zeroconf_one_card_per_device(
    hass: HomeAssistant, device: Simulator
) -> None:
    """The device answers on both service types; only one discovery remains."""
    first = await start_zeroconf(hass, wattwaechter_service(device.port))
    assert first["step_id"] == "zeroconf_confirm"
    second = await start_zeroconf(hass, http_service(device.port))
    assert second["type"] is FlowResultType.ABORT
    assert second["reason"] == "already_in_progress"
    assert len(hass.config_entries.flow.async_progress_by_handler(DOMAIN)) == 1


async def test_manual_setup_ends_the_discovery(
    hass: HomeAssistant, device: Simulator
) -> None:
    discovery = await start_zeroconf(hass, wattwaechter_service(device.port))
    assert discovery["step_id"] == "zeroconf_confirm"

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
    assert result["step_id"] == "zeroconf_confirm"
    assert result["description_placeholders"]["model"] == "WattWächter Gas/Wasser"
    result = await submit(hass, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Gas"
    assert result["result"].unique_id == "A1B2C3D4E5F6"
    assert result["data"][CONF_DEVICE_ID] == "A1B2C3D4E5F6"
    assert result["data"][CONF_MODEL] == "ww_gw_mf"


@pytest.mark.parametrize(
    ("port", "host"),
    [(8080, "192.168.1.77:8080"), (80, "192.168.1.77"), (None, "192.168.1.77")],
)
@pytest.mark.parametrize("advertisement", [wattwaechter_service, http_service])
async def test_zeroconf_known_device_updates_host(
    hass: HomeAssistant, advertisement: Any, port: int | None, host: str
) -> None:
    entry = add_entry(hass, "192.168.1.5")
    result = await start_zeroconf(hass, advertisement(port, host="192.168.1.77"))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == host


async def test_zeroconf_without_device_id(hass: HomeAssistant) -> None:
    info = ZeroconfServiceInfo(
        ip_address=ip_address("192.168.1.80"),
        ip_addresses=[ip_address("192.168.1.80")],
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
    result = await start_zeroconf(
        hass, wattwaechter_service(device.port, "112233445566")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_zeroconf_with_auth(hass: HomeAssistant, device: Simulator) -> None:
    device.configure(auth_required=True)
    result = await start_zeroconf(hass, wattwaechter_service(device.port))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "auth"
    assert result["description_placeholders"] == {"host": host_of(device)}
    # The device's name is unknown without a token; the card shows the fallback.
    assert title_placeholders(hass, result["flow_id"]) == {"name": "WattWächter EEFF"}

    result = await submit(hass, result, {CONF_TOKEN: "WRONGTOKEN000000"})
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
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    assert hass.config_entries.async_entries(DOMAIN) == []
    result = await submit(hass, result, {})
    assert result["data"] == entry_data(host_of(device))
    assert result["result"].unique_id == DEVICE_ID


@pytest.mark.parametrize(
    ("properties", "hostname", "name", "device_id"),
    [
        ({"id": "WWP-AABBCCDDEEFF"}, "x.local.", "x", "AABBCCDDEEFF"),
        ({"id": "WWGW-A1B2C3D4E5F6"}, "x.local.", "x", "A1B2C3D4E5F6"),
        ({"mac": "aa:bb:cc:dd:ee:ff"}, "x.local.", "x", "AABBCCDDEEFF"),
        ({}, "wattwaechter-aabbccddeeff.local.", "x", "AABBCCDDEEFF"),
        ({}, "esp32.local.", "WWP-AABBCCDDEEFF._wattwaechter._tcp.local.", DEVICE_ID),
        ({}, "esp32.local.", "Printer._http._tcp.local.", ""),
    ],
)
def test_device_id_from_discovery(
    properties: dict[str, str], hostname: str, name: str, device_id: str
) -> None:
    info = ZeroconfServiceInfo(
        ip_address=ip_address("192.168.1.80"),
        ip_addresses=[ip_address("192.168.1.80")],
        port=80,
        hostname=hostname,
        type="_wattwaechter._tcp.local.",
        name=name,
        properties=properties,
    )
    assert device_id_from_discovery(info) == device_id


# --- reauth --------------------------------------------------------------------


async def test_reauth(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    device.configure(auth_required=True)
    entry = add_entry(hass, host_of(device), "OLDTOKEN00000000")
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["host"] == host_of(device)

    result = await submit(hass, result, {CONF_TOKEN: "WRONGTOKEN000000"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}

    result = await submit(hass, result, {CONF_TOKEN: f" {READ} "})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data == entry_data(host_of(device), READ)
    await hass.async_block_till_done()
    # The entry restarts with the new token.
    assert len(mock_setup_entry.mock_calls) == 1


async def test_reauth_device_offline(hass: HomeAssistant, device: Simulator) -> None:
    device.configure(auth_required=True)
    entry = add_entry(hass, host_of(device), "OLDTOKEN00000000")
    result = await entry.start_reauth_flow(hass)
    device.set_fault(FaultMode.OFFLINE)
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["errors"] == {"base": "cannot_connect"}
    device.clear_faults()
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["reason"] == "reauth_successful"


async def test_reauth_wrong_device(
    hass: HomeAssistant, other_device: Simulator
) -> None:
    entry = add_entry(hass, host_of(other_device), "OLDTOKEN00000000")
    result = await entry.start_reauth_flow(hass)
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data[CONF_TOKEN] == "OLDTOKEN00000000"


# --- reconfigure ---------------------------------------------------------------


async def test_reconfigure_host(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    entry = add_entry(hass, "192.168.1.5")
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert suggested(result, CONF_HOST) == "192.168.1.5"
    assert suggested(result, CONF_TOKEN) is None

    result = await submit(hass, result, {CONF_HOST: f"http://{host_of(device)}"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == entry_data(host_of(device))
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.parametrize("user_input", [{CONF_TOKEN: ""}, {CONF_TOKEN: "  "}, {}])
async def test_reconfigure_empty_token_keeps_stored_token(
    hass: HomeAssistant, device: Simulator, user_input: dict[str, str]
) -> None:
    device.configure(auth_required=True)
    entry = add_entry(hass, "192.168.1.5", READ)
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device), **user_input})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == entry_data(host_of(device), READ)
    assert device.request_log[0].token_level == "read"


async def test_reconfigure_new_token(hass: HomeAssistant, device: Simulator) -> None:
    device.configure(auth_required=True)
    entry = add_entry(hass, host_of(device), "OLDTOKEN00000000")
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device), CONF_TOKEN: ""})
    assert result["errors"] == {"base": "invalid_auth"}
    result = await submit(hass, result, {CONF_HOST: host_of(device), CONF_TOKEN: WRITE})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_TOKEN] == WRITE


async def test_reconfigure_wrong_device(
    hass: HomeAssistant, device: Simulator, other_device: Simulator
) -> None:
    entry = add_entry(hass, host_of(device))
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(
        hass, result, {CONF_HOST: host_of(other_device), CONF_TOKEN: READ}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data == entry_data(host_of(device))


@pytest.mark.parametrize(
    ("host", "fault", "errors"),
    [
        ("x/api/v1", None, {CONF_HOST: "host_path"}),
        ("https://x", None, {CONF_HOST: "host_scheme"}),
        (None, FaultMode.OFFLINE, {"base": "cannot_connect"}),
        (None, FaultMode.RATE_LIMIT_429, {"base": "device_busy"}),
        (None, FaultMode.MALFORMED_JSON, {"base": "not_wattwaechter"}),
    ],
)
async def test_reconfigure_errors(
    hass: HomeAssistant,
    device: Simulator,
    host: str | None,
    fault: FaultMode | None,
    errors: dict[str, str],
) -> None:
    entry = add_entry(hass, "192.168.1.5")
    typed = host or host_of(device)
    if fault is not None:
        device.set_fault(fault)
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result, {CONF_HOST: typed})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == errors
    # The form keeps what the user typed, and the entry is unchanged.
    assert suggested(result, CONF_HOST) == typed
    assert entry.data[CONF_HOST] == "192.168.1.5"

    device.clear_faults()
    await advance(hass, RETRY_AFTER)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HOST] == host_of(device)


# --- the write token -----------------------------------------------------------

SETTINGS = "/api/v1/settings"


async def auth_form(hass: HomeAssistant, device: Simulator) -> FlowResult:
    """Open the auth step for the default device with authentication on."""
    device.configure(auth_required=True)
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["step_id"] == "auth"
    return result


async def test_auth_read_and_write_tokens(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Both tokens are stored apart; the write token is checked without a change."""
    result = await auth_form(hass, device)
    device.clear_log()
    result = await submit(
        hass, result, {CONF_TOKEN: f" {READ} ", CONF_WRITE_TOKEN: f" {WRITE} "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == entry_data(host_of(device), READ, WRITE)
    # Reads go with the READ token; one POST with the WRITE token checks it.
    calls = [(r.method, r.path, r.token_level) for r in device.request_log]
    assert calls == [
        ("GET", "/api/v1/system/info", "read"),
        ("GET", SETTINGS, "read"),
        ("POST", SETTINGS, "write"),
    ]
    # The check set the LED to what it already was.
    assert device.state.settings["ledEnable"] is True


async def test_auth_write_token_only(hass: HomeAssistant, device: Simulator) -> None:
    """The WRITE token alone is enough: it also reads."""
    result = await auth_form(hass, device)
    device.clear_log()
    result = await submit(hass, result, {CONF_TOKEN: "", CONF_WRITE_TOKEN: WRITE})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == entry_data(host_of(device), None, WRITE)
    assert {r.token_level for r in device.request_log} == {"write"}


async def test_auth_needs_a_token(hass: HomeAssistant, device: Simulator) -> None:
    """An empty form asks again, without asking the device."""
    result = await auth_form(hass, device)
    device.clear_log()
    result = await submit(hass, result, {})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "token_required"}
    assert device.request_log == []


@pytest.mark.parametrize(
    ("write_token", "error"),
    [(READ, "write_token_read_only"), ("WRONGTOKEN000000", "invalid_write_token")],
)
async def test_auth_write_token_errors(
    hass: HomeAssistant, device: Simulator, write_token: str, error: str
) -> None:
    """A READ token in the write field, or a wrong one, is a field error."""
    result = await auth_form(hass, device)
    result = await submit(
        hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: write_token}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_WRITE_TOKEN: error}
    # Nothing on the device changed.
    assert device.state.settings["ledEnable"] is True

    result = await submit(hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_WRITE_TOKEN] == WRITE


@pytest.mark.parametrize(
    ("fault", "error"),
    [(FaultMode.RATE_LIMIT_429, "device_busy"), (FaultMode.HTTP_500, "cannot_connect")],
)
async def test_auth_write_check_fails(
    hass: HomeAssistant, device: Simulator, fault: FaultMode, error: str
) -> None:
    """When /settings fails, the write token cannot be checked: ask again."""
    result = await auth_form(hass, device)
    device.set_fault(fault, paths=[SETTINGS])
    result = await submit(hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}


async def test_write_check_without_led_setting(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Firmware without ``ledEnable``: the check re-sends the device name."""
    result = await auth_form(hass, device)
    del device.state.settings["ledEnable"]
    device.clear_log()
    result = await submit(hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "ledEnable" not in device.state.settings
    assert device.state.settings["device_name"] == "WattWaechter"
    assert device.request_log[-1].method == "POST"


async def test_write_check_without_known_setting(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Nothing to re-send unchanged: the write token cannot be checked."""
    result = await auth_form(hass, device)
    del device.state.settings["ledEnable"]
    del device.state.settings["device_name"]
    device.clear_log()
    result = await submit(hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE})
    assert result["errors"] == {"base": "cannot_connect"}
    assert "POST" not in {r.method for r in device.request_log}


async def test_reconfigure_adds_write_token(
    hass: HomeAssistant, device: Simulator, mock_setup_entry: AsyncMock
) -> None:
    """Reconfigure adds the WRITE token and keeps the READ token."""
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


async def test_reconfigure_empty_write_token_keeps_stored_one(
    hass: HomeAssistant, device: Simulator
) -> None:
    """An entry with only the WRITE token reads with it; empty fields keep it."""
    device.configure(auth_required=True)
    entry = add_entry(hass, host_of(device))
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_WRITE_TOKEN: WRITE}
    )
    device.clear_log()
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(
        hass, result, {CONF_HOST: host_of(device), CONF_WRITE_TOKEN: " "}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == entry_data(host_of(device), None, WRITE)
    # Only reads: no write check for a token that did not change.
    assert [r.method for r in device.request_log] == ["GET", "GET"]
    assert {r.token_level for r in device.request_log} == {"write"}


# --- input validation ----------------------------------------------------------

HOST_ERRORS = [
    ("", "host_empty"),
    ("my meter", "host_whitespace"),
    ("https://x", "host_scheme"),
    ("http://u:p@x", "host_credentials"),
    ("x/api/v1", "host_path"),
    ("bad_host!", "host_invalid"),
    ("fe80::1%eth0", "host_invalid"),
    ("x\r\nHost: evil", "host_whitespace"),
]
BAD_TOKENS = ["READ TOKEN", "READ\r\nX-Evil: 1", "READ\x00", "TÖKEN"]


@pytest.mark.parametrize(("host", "reason"), HOST_ERRORS)
async def test_reconfigure_host_validation(
    hass: HomeAssistant, device: Simulator, host: str, reason: str
) -> None:
    """Every reason the user step knows, in the other step that takes a host."""
    entry = add_entry(hass, "192.168.1.5")
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result, {CONF_HOST: host})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: reason}
    assert device.request_log == []
    assert entry.data[CONF_HOST] == "192.168.1.5"


@pytest.mark.parametrize(("host", "reason"), HOST_ERRORS[-2:])
async def test_user_host_validation_smuggling(
    hass: HomeAssistant, device: Simulator, host: str, reason: str
) -> None:
    """Zone IDs and header breaks never reach a URL."""
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host})
    assert result["errors"] == {CONF_HOST: reason}
    assert device.request_log == []


@pytest.mark.parametrize("bad", BAD_TOKENS)
@pytest.mark.parametrize("field", [CONF_TOKEN, CONF_WRITE_TOKEN])
async def test_auth_rejects_malformed_tokens(
    hass: HomeAssistant, device: Simulator, bad: str, field: str
) -> None:
    """A token with white space or control characters inside is a field error."""
    result = await auth_form(hass, device)
    device.clear_log()
    result = await submit(hass, result, {field: bad})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: "token_invalid"}
    assert device.request_log == []


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


# --- reauth with both tokens ---------------------------------------------------


async def start_reauth(
    hass: HomeAssistant,
    device: Simulator,
    token: str | None = "OLDTOKEN00000000",
    write_token: str | None = None,
) -> tuple[MockConfigEntry, FlowResult]:
    """Add an entry with stale tokens for the secured device; start its reauth."""
    device.configure(auth_required=True)
    entry = add_entry(hass, host_of(device), token)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_WRITE_TOKEN: write_token}
    )
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert suggested(result, CONF_TOKEN) is None
    assert suggested(result, CONF_WRITE_TOKEN) is None
    return entry, result


async def test_reauth_both_tokens(hass: HomeAssistant, device: Simulator) -> None:
    """READ and WRITE token together: both stored, the WRITE token checked."""
    entry, result = await start_reauth(hass, device)
    device.clear_log()
    result = await submit(
        hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: f" {WRITE} "}
    )
    assert result["reason"] == "reauth_successful"
    assert entry.data == entry_data(host_of(device), READ, WRITE)
    assert [(r.method, r.token_level) for r in device.request_log] == [
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
    result = await submit(hass, result, {CONF_TOKEN: "  ", CONF_WRITE_TOKEN: ""})
    assert result["reason"] == "reauth_successful"
    assert entry.data == entry_data(host_of(device), READ, WRITE)


async def test_reauth_new_read_token_keeps_the_write_token(
    hass: HomeAssistant, device: Simulator
) -> None:
    entry, result = await start_reauth(hass, device, "OLDTOKEN00000000", WRITE)
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
    [(READ, "write_token_read_only"), ("WRONGTOKEN000000", "invalid_write_token")],
)
async def test_reauth_write_token_errors(
    hass: HomeAssistant, device: Simulator, write_token: str, error: str
) -> None:
    entry, result = await start_reauth(hass, device)
    result = await submit(
        hass, result, {CONF_TOKEN: READ, CONF_WRITE_TOKEN: write_token}
    )
    assert result["errors"] == {CONF_WRITE_TOKEN: error}
    assert entry.data[CONF_TOKEN] == "OLDTOKEN00000000"


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
    """A stored token no device would accept counts as refused, unsent."""
    entry, result = await start_reauth(hass, device, "OLD\nTOKEN")
    device.clear_log()
    result = await submit(hass, result, {})
    assert result["errors"] == {"base": "invalid_auth"}
    assert device.request_log == []
    result = await submit(hass, result, {CONF_TOKEN: READ})
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] == READ


async def test_reauth_write_token_wrong_device(
    hass: HomeAssistant, other_device: Simulator
) -> None:
    """A WRITE token for another device at the stored address: nothing stored."""
    entry = add_entry(hass, host_of(other_device))
    result = await entry.start_reauth_flow(hass)
    other_device.clear_log()
    result = await submit(hass, result, {CONF_WRITE_TOKEN: WRITE})
    assert result["reason"] == "wrong_device"
    assert entry.data[CONF_WRITE_TOKEN] is None
    # The device's identity is checked before the WRITE token is tried.
    assert "POST" not in {r.method for r in other_device.request_log}
