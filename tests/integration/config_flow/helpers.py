"""Helpers of the config and options flow tests."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigFlowResult
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_HOST,
    CONF_MAC,
    CONF_MODEL,
    CONF_TOKEN,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import (
    CONF_FW_VERSION,
    CONF_WRITE_TOKEN,
    DOMAIN,
)
from simulator import Simulator, SimulatorConfig

DEFAULTS = SimulatorConfig()
DEVICE_ID = DEFAULTS.device_id
OTHER_ID = DEFAULTS.other_device_id
READ, WRITE = DEFAULTS.read_token, DEFAULTS.write_token
WRONG = "WRONGTOKEN000000"
OLD = "OLDTOKEN00000000"
RETRY_AFTER = 10
"""The simulator's longest Retry-After (429: 10 s, 503: 5 s)."""
SETTINGS = "/api/v1/settings"
INFO = "/api/v1/system/info"
CHECKER = "custom_components.wattwaechter.flow_checks"
HOST_ERRORS = [
    ("", "host_empty"),
    ("my meter", "host_whitespace"),
    ("x\r\nHost: evil", "host_whitespace"),
    ("https://x", "host_scheme"),
    ("http://u:p@x", "host_credentials"),
    ("x/api/v1", "host_path"),
    ("bad_host!", "host_invalid"),
    ("fe80::1%eth0", "host_invalid"),
    ("127.0.0.256", "host_invalid"),
]
BAD_TOKENS = ["READ TOKEN", "READ\r\nX-Evil: 1", "READ\x00", "TÖKEN"]


def host_of(sim: Simulator) -> str:
    """Return what a user types to reach the simulator."""
    return f"127.0.0.1:{sim.port}"


def entry_data(
    host: str, token: str | None = None, write_token: str | None = None
) -> dict[str, Any]:
    """Return the data of an entry the flow creates for the default simulator."""
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
    hass: HomeAssistant,
    host: str,
    token: str | None = None,
    write_token: str | None = None,
) -> MockConfigEntry:
    """Add an entry of the default device, as the flow writes it."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="WattWaechter",
        unique_id=DEVICE_ID,
        data=entry_data(host, token, write_token),
        version=1,
        minor_version=3,
    )
    entry.add_to_hass(hass)
    return entry


def suggested(result: ConfigFlowResult, key: str) -> Any:
    """Return the value a form shows pre-filled in field ``key``."""
    for marker in result["data_schema"].schema:  # type: ignore[union-attr]
        if marker == key:
            return (marker.description or {}).get("suggested_value")
    raise KeyError(key)


async def start_user(hass: HomeAssistant) -> ConfigFlowResult:
    """Open the user step."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return result


async def submit(
    hass: HomeAssistant, result: ConfigFlowResult, user_input: dict[str, Any]
) -> ConfigFlowResult:
    """Submit one step of a config flow."""
    return await hass.config_entries.flow.async_configure(result["flow_id"], user_input)


async def auth_form(hass: HomeAssistant, device: Simulator) -> ConfigFlowResult:
    """Open the auth step for the default device with authentication on."""
    device.configure(auth_required=True)
    result = await start_user(hass)
    result = await submit(hass, result, {CONF_HOST: host_of(device)})
    assert result["step_id"] == "auth"
    return result


def requests(sim: Simulator) -> list[tuple[str, str, str]]:
    """Return the device's request log as (method, path, token level)."""
    return [(r.method, r.path, r.token_level) for r in sim.request_log]


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
