"""Device controls against the simulator: LED switch and status, reboot, tokens."""

from __future__ import annotations

import logging

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.components.sensor import ATTR_OPTIONS
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_ENTITY_ID,
    CONF_HOST,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest

from custom_components.wattwaechter.const import CONF_WRITE_TOKEN, DOMAIN
from simulator import FaultMode, Simulator, SimulatorConfig

from .conftest import setup_via_flow
from .helpers import advance, entity_id, outlast_setup_requests, state

READ = "READTOKEN1234567"
WRITE = "WRITETOKEN123456"
SETTINGS = "/api/v1/settings"
REBOOT = "/api/v1/system/reboot"
LATEST = "/api/v1/history/latest"
ISSUE_ID = "write_token_required_{}"


async def read_only(hass: HomeAssistant, device: Simulator) -> ConfigEntry:
    """Set up with auth on and only the READ token."""
    device.configure(auth_required=True)
    entry = await setup_via_flow(hass, device, token=READ)
    await outlast_setup_requests(hass)
    device.clear_log()
    return entry


def assert_least_privilege(device: Simulator, auth: str) -> None:
    """Actions (POST) sent the WRITE token, everything else the READ token."""
    for request in device.request_log:
        if auth == "auth_off":
            expected = "none"
        elif request.method == "POST":
            expected = "write"
        elif request.path == "/api/v1/system/alive":
            expected = "none"
        else:
            expected = "read"
        assert request.token_level == expected, request


def calls(device: Simulator) -> list[tuple[str, str]]:
    """Return (method, path) of every logged request."""
    return [(r.method, r.path) for r in device.request_log]


async def switch_led(hass: HomeAssistant, entry: ConfigEntry, service: str) -> None:
    """Turn the LED switch on or off and wait for the result."""
    await hass.services.async_call(
        SWITCH_DOMAIN,
        service,
        {ATTR_ENTITY_ID: entity_id(hass, entry, "led", SWITCH_DOMAIN)},
        blocking=True,
    )


async def press_reboot(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Press the reboot button."""
    await hass.services.async_call(
        BUTTON_DOMAIN,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: entity_id(hass, entry, "reboot", BUTTON_DOMAIN)},
        blocking=True,
    )


# --- LED ----------------------------------------------------------------------


async def test_led_switch_off_and_on(
    hass: HomeAssistant, controlled: ConfigEntry, device: Simulator, auth: str
) -> None:
    """Each change is one POST and one GET; the state is what the device says."""
    led = state(hass, controlled, "led", SWITCH_DOMAIN)
    assert led.state == STATE_ON
    registry = er.async_get(hass)
    entry = registry.async_get(led.entity_id)
    assert entry is not None
    assert entry.entity_category is EntityCategory.CONFIG
    assert entry.translation_key == "led"
    assert led.name == "WattWaechter Status LED"

    await switch_led(hass, controlled, SERVICE_TURN_OFF)
    assert device.state.settings["ledEnable"] is False
    assert state(hass, controlled, "led", SWITCH_DOMAIN).state == STATE_OFF
    assert calls(device) == [("POST", SETTINGS), ("GET", SETTINGS)]

    await switch_led(hass, controlled, SERVICE_TURN_ON)
    assert device.state.settings["ledEnable"] is True
    assert state(hass, controlled, "led", SWITCH_DOMAIN).state == STATE_ON
    assert len(device.request_log) == 4
    assert all(r.status == 200 for r in device.request_log)
    assert_least_privilege(device, auth)


async def test_led_state_is_read_back(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """The switch shows the device's answer, not what was asked for."""
    device.set_fault(FaultMode.HTTP_500, paths=[SETTINGS])
    with pytest.raises(HomeAssistantError) as err:
        await switch_led(hass, entry, SERVICE_TURN_OFF)
    assert err.value.translation_key == "action_failed"
    assert state(hass, entry, "led", SWITCH_DOMAIN).state == STATE_ON

    # Changed on the device itself: seen at the next settings poll (hourly).
    device.clear_faults()
    device.state.settings["ledEnable"] = False
    await advance(hass, 300)
    assert state(hass, entry, "led", SWITCH_DOMAIN).state == STATE_ON
    await advance(hass, 3300)
    assert state(hass, entry, "led", SWITCH_DOMAIN).state == STATE_OFF


async def test_led_status_sensor(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """An enum diagnostic sensor with the lower-case LED statuses."""
    status = state(hass, entry, "led_status")
    assert status.state == "ok"
    assert status.attributes[ATTR_DEVICE_CLASS] == "enum"
    assert status.attributes[ATTR_OPTIONS] == [
        "none",
        "ok",
        "startup",
        "info",
        "ble_active",
        "ble_connected",
        "ota_active",
        "error",
        "reset_pending",
    ]
    registry_entry = er.async_get(hass).async_get(status.entity_id)
    assert registry_entry is not None
    assert registry_entry.entity_category is EntityCategory.DIAGNOSTIC
    assert status.name == "WattWaechter LED status"


async def test_unknown_led_status_is_unknown(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """A status newer firmware may add is not forced into the options."""
    original = device.device.led

    def led() -> dict[str, object]:
        return {**original(), "status": "RAINBOW"}

    device.device.led = led  # type: ignore[method-assign]
    await advance(hass, 3600)
    assert state(hass, entry, "led_status").state == "unknown"


# --- reboot -------------------------------------------------------------------


async def test_reboot_and_recovery(
    hass: HomeAssistant,
    controlled: ConfigEntry,
    device: Simulator,
    auth: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Polling pauses while the device reboots; one update brings it all back."""
    caplog.set_level(logging.INFO, logger="custom_components.wattwaechter")
    button = state(hass, controlled, "reboot", BUTTON_DOMAIN)
    assert button.attributes[ATTR_DEVICE_CLASS] == "restart"
    assert button.name == "WattWaechter Restart"
    entity = er.async_get(hass).async_get(button.entity_id)
    assert entity is not None
    assert entity.entity_category is EntityCategory.CONFIG
    boots = device.state.boots
    caplog.clear()

    await press_reboot(hass, controlled)
    assert calls(device) == [("POST", REBOOT)]
    # The device is away: its entities say so at once, and nothing is asked.
    assert state(hass, controlled, "1.8.0").state == STATE_UNAVAILABLE
    assert state(hass, controlled, "led", SWITCH_DOMAIN).state == STATE_UNAVAILABLE
    await advance(hass, 5)
    assert len(device.request_log) == 1

    # The device is back after 10 s; the next meter update finds it and wakes
    # the slower coordinators, so every entity is back with that update.
    await advance(hass, 5)
    assert device.state.boots == boots + 1
    assert state(hass, controlled, "1.8.0").state != STATE_UNAVAILABLE
    assert state(hass, controlled, "led", SWITCH_DOMAIN).state == STATE_ON
    assert state(hass, controlled, "led_status").state == "ok"
    assert state(hass, controlled, "reboot", BUTTON_DOMAIN).state != STATE_UNAVAILABLE
    assert sorted(calls(device)[1:]) == [
        ("GET", "/api/v1/history/latest"),
        ("GET", "/api/v1/settings"),
        ("GET", "/api/v1/system/info"),
        ("GET", "/api/v1/system/led"),
    ]
    assert all(r.status == 200 for r in device.request_log)
    assert_least_privilege(device, auth)

    # One line when it went, one when it came back; no errors.
    ours = [r for r in caplog.records if r.name.startswith("custom_components")]
    assert [r.levelno for r in ours] == [logging.INFO, logging.INFO]
    assert "restarts" in ours[0].getMessage()
    assert "is back" in ours[1].getMessage()


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(reboot_seconds=25.0)])
async def test_slow_reboot_is_quiet(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A reboot longer than the pause: one request per meter update, no error."""
    caplog.set_level(logging.INFO, logger="custom_components.wattwaechter")
    device.clear_log()
    caplog.clear()
    await press_reboot(hass, entry)
    for _ in range(2):
        await advance(hass, 10)
        assert state(hass, entry, "1.8.0").state == STATE_UNAVAILABLE
    await advance(hass, 10)
    assert state(hass, entry, "1.8.0").state != STATE_UNAVAILABLE
    assert state(hass, entry, "led", SWITCH_DOMAIN).state == STATE_ON
    # The reboot, then the meter every 10 s: twice while away, once back;
    # and the slower coordinators once when it is back.
    # aiohttp retries a GET once when the server drops a kept-alive
    # connection, so count polls by their (virtual) second, not log lines.
    offline = {(r.path, round(r.time)) for r in device.request_log if r.status == 0}
    assert sorted(path for path, _ in offline) == [LATEST, LATEST]
    answered = [r for r in device.request_log if r.status != 0]
    assert len(answered) == 1 + 1 + 3
    ours = [r for r in caplog.records if r.name.startswith("custom_components")]
    assert [r.levelno for r in ours] == [logging.INFO, logging.INFO]


async def test_reboot_while_offline(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """Pressing while the device is away: a clear error, no pause."""
    device.set_fault(FaultMode.OFFLINE)
    with pytest.raises(HomeAssistantError) as err:
        await press_reboot(hass, entry)
    assert err.value.translation_key == "action_cannot_connect"
    assert err.value.translation_placeholders["host"] == f"127.0.0.1:{device.port}"


# --- which entities exist -----------------------------------------------------


async def test_read_only_token_has_no_reboot_button(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Entities that can only act need a write-capable credential."""
    entry = await read_only(hass, device)
    registry = er.async_get(hass)
    assert (
        registry.async_get_entity_id(BUTTON_DOMAIN, DOMAIN, f"{entry.unique_id}_reboot")
        is None
    )
    # The LED switch still shows the setting; the update entity the versions.
    assert state(hass, entry, "led", SWITCH_DOMAIN).state == STATE_ON


# --- a READ token where the WRITE token is needed -----------------------------


async def test_read_only_token_action(hass: HomeAssistant, device: Simulator) -> None:
    """403: a clear error and a repair issue, no reauth; reconfigure fixes it."""
    entry = await read_only(hass, device)
    issues = ir.async_get(hass)

    with pytest.raises(HomeAssistantError) as err:
        await switch_led(hass, entry, SERVICE_TURN_OFF)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "write_token_required"
    # The device refused the READ token and changed nothing.
    assert calls(device) == [("POST", SETTINGS)]
    assert device.request_log[0].status == 403
    assert device.request_log[0].token_level == "read"
    assert device.state.settings["ledEnable"] is True
    assert state(hass, entry, "led", SWITCH_DOMAIN).state == STATE_ON

    # Not a reauth: the entry keeps running and no flow was started.
    assert entry.state is ConfigEntryState.LOADED
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert not [f for f in flows if f["context"]["source"] == SOURCE_REAUTH]
    issue = issues.async_get_issue(DOMAIN, ISSUE_ID.format(entry.entry_id))
    assert issue is not None
    assert issue.translation_key == "write_token_required"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {
        "name": "WattWaechter",
        "host": entry.data[CONF_HOST],
    }

    # The issue leads to Reconfigure, where the WRITE token is added.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: entry.data[CONF_HOST], CONF_WRITE_TOKEN: WRITE}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert issues.async_get_issue(DOMAIN, ISSUE_ID.format(entry.entry_id)) is None
    assert entity_id(hass, entry, "reboot", BUTTON_DOMAIN)

    await outlast_setup_requests(hass)
    device.clear_log()
    await switch_led(hass, entry, SERVICE_TURN_OFF)
    assert device.state.settings["ledEnable"] is False
    assert state(hass, entry, "led", SWITCH_DOMAIN).state == STATE_OFF
    assert [r.token_level for r in device.request_log] == ["write", "read"]


async def test_successful_action_clears_the_issue(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Once an action succeeds (e.g. auth was turned off), the issue goes."""
    entry = await read_only(hass, device)
    issues = ir.async_get(hass)
    with pytest.raises(HomeAssistantError):
        await switch_led(hass, entry, SERVICE_TURN_OFF)
    assert issues.async_get_issue(DOMAIN, ISSUE_ID.format(entry.entry_id))
    device.configure(auth_required=False)
    await switch_led(hass, entry, SERVICE_TURN_OFF)
    assert issues.async_get_issue(DOMAIN, ISSUE_ID.format(entry.entry_id)) is None


async def test_removing_the_entry_removes_the_issue(
    hass: HomeAssistant, device: Simulator
) -> None:
    """No repair issue outlives its entry."""
    entry = await read_only(hass, device)
    with pytest.raises(HomeAssistantError):
        await switch_led(hass, entry, SERVICE_TURN_OFF)
    await hass.config_entries.async_remove(entry.entry_id)
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_ID.format(entry.entry_id))
        is None
    )


# --- one error helper for every action ----------------------------------------


@pytest.mark.parametrize(
    ("fault", "key"),
    [
        (FaultMode.RATE_LIMIT_429, "action_device_busy"),
        (FaultMode.BUSY_503, "action_device_busy"),
        (FaultMode.OFFLINE, "action_cannot_connect"),
        (FaultMode.TIMEOUT, "action_cannot_connect"),
        (FaultMode.HTTP_500, "action_failed"),
    ],
)
async def test_action_errors(
    hass: HomeAssistant,
    controlled: ConfigEntry,
    device: Simulator,
    fault: FaultMode,
    key: str,
) -> None:
    """Busy, unreachable and broken devices each get their own message."""
    device.configure(timeout_seconds=0.2)
    device.set_fault(fault)
    with pytest.raises(HomeAssistantError) as err:
        await switch_led(hass, controlled, SERVICE_TURN_OFF)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    # Not a token problem: no write-token issue (auth_disabled may be there).
    assert not [
        issue_id
        for domain, issue_id in ir.async_get(hass).issues
        if issue_id.startswith("write_token_required")
    ]


async def test_busy_error_tells_how_long(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """The device's Retry-After reaches the message."""
    device.set_fault(FaultMode.RATE_LIMIT_429)
    with pytest.raises(HomeAssistantError) as err:
        await press_reboot(hass, entry)
    assert err.value.translation_placeholders["retry_after"] == "10"


async def test_stale_write_token(hass: HomeAssistant, device: Simulator) -> None:
    """401 on an action: the WRITE token is wrong; polling (READ) goes on."""
    device.configure(auth_required=True)
    entry = await setup_via_flow(hass, device, token=READ, write_token=WRITE)
    device.configure(write_token="NEWWRITETOKEN000")
    with pytest.raises(HomeAssistantError) as err:
        await press_reboot(hass, entry)
    assert err.value.translation_key == "action_invalid_auth"
    assert entry.state is ConfigEntryState.LOADED
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert not [f for f in flows if f["context"]["source"] == SOURCE_REAUTH]


async def test_setup_cost_and_token_levels(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Flow and setup: 9 requests; only the write check carries the WRITE token."""
    device.configure(auth_required=True)
    await setup_via_flow(hass, device, token=READ, write_token=WRITE)
    assert [(r.method, r.path, r.token_level) for r in device.request_log] == [
        # config flow: the auth step after a 401 without token
        ("GET", "/api/v1/system/info", "none"),
        ("GET", "/api/v1/system/info", "read"),
        ("GET", SETTINGS, "read"),
        ("POST", SETTINGS, "write"),
        # setup: one request per coordinator, controls needs two
        ("GET", "/api/v1/system/info", "read"),
        ("GET", LATEST, "read"),
        ("GET", SETTINGS, "read"),
        ("GET", "/api/v1/system/led", "read"),
        ("GET", "/api/v1/ota/check", "read"),
    ]
    # Polling from then on: READ only.
    device.clear_log()
    await advance(hass, 300)
    assert {r.token_level for r in device.request_log} == {"read"}
