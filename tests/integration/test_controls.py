"""Controls against the simulator: LED switch and status, restart, their errors."""

from __future__ import annotations

import logging

from homeassistant.components.button import DOMAIN as BUTTON, SERVICE_PRESS
from homeassistant.components.sensor import ATTR_OPTIONS
from homeassistant.components.switch import DOMAIN as SWITCH
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigEntryState
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_ENTITY_ID,
    CONF_TOKEN,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.wattwaechter.const import CONF_WRITE_TOKEN, DOMAIN
from simulator import FaultMode, Simulator, SimulatorConfig

from .conftest import READ, WRITE
from .entities import (
    INTERVAL,
    REBOOT,
    SETTINGS,
    assert_no_traceback,
    entity_id,
    exists,
    issue,
    state,
)
from .timetravel import advance

AUTH_ON = SimulatorConfig(auth_required=True)
BOTH_TOKENS = {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE}
READ_ONLY = {CONF_TOKEN: READ, CONF_WRITE_TOKEN: None}
CONTROLS = (("led", SWITCH), ("led_status", "sensor"), ("reboot", BUTTON))


async def switch_led(hass: HomeAssistant, entry: ConfigEntry, service: str) -> None:
    """Turn the LED switch on or off and wait for the result."""
    await hass.services.async_call(
        SWITCH,
        service,
        {ATTR_ENTITY_ID: entity_id(hass, entry, "led", SWITCH)},
        blocking=True,
    )


async def press_restart(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Press the restart button."""
    await hass.services.async_call(
        BUTTON,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: entity_id(hass, entry, "reboot", BUTTON)},
        blocking=True,
    )


def calls(device: Simulator) -> list[tuple[str, str, str]]:
    """Return (method, path, token level) of every answered request."""
    return [(r.method, r.path, r.token_level) for r in device.request_log]


@pytest.mark.parametrize(
    ("simulator_config", "tokens", "read", "write"),
    [
        (SimulatorConfig(), {CONF_TOKEN: None, CONF_WRITE_TOKEN: None}, "none", "none"),
        (AUTH_ON, BOTH_TOKENS, "read", "write"),
    ],
    ids=["auth_off", "auth_on"],
)
async def test_led_switch(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    read: str,
    write: str,
) -> None:
    """Each change is one POST with the WRITE token; the device's answer shows."""
    entry = init_integration
    led = state(hass, entry, "led", SWITCH)
    assert led.state == STATE_ON
    assert led.name == "WattWaechter Status LED"
    registered = er.async_get(hass).async_get(led.entity_id)
    assert registered is not None
    assert registered.entity_category is EntityCategory.CONFIG
    device.clear_log()
    await switch_led(hass, entry, SERVICE_TURN_OFF)
    assert device.state.settings["ledEnable"] is False
    assert state(hass, entry, "led", SWITCH).state == STATE_OFF
    await switch_led(hass, entry, SERVICE_TURN_ON)
    assert device.state.settings["ledEnable"] is True
    assert state(hass, entry, "led", SWITCH).state == STATE_ON
    assert calls(device) == [("POST", SETTINGS, write)] * 2
    await advance(hass, 300)
    assert {level for _, _, level in calls(device)[2:]} == {read}


async def test_led_changed_on_the_device(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """A change made in the device's web UI shows at the next settings read."""
    device.state.settings["ledEnable"] = False
    await advance(hass, 300)
    assert state(hass, init_integration, "led", SWITCH).state == STATE_ON
    await advance(hass, 3300)
    assert state(hass, init_integration, "led", SWITCH).state == STATE_OFF


async def test_failed_toggle_shows_the_real_state(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Refused: the LED stays on. Answer lost after the device applied it: off."""
    entry = init_integration
    device.set_fault(FaultMode.HTTP_500, paths=[SETTINGS], count=1)
    with pytest.raises(HomeAssistantError) as err:
        await switch_led(hass, entry, SERVICE_TURN_OFF)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "bad_response"
    assert state(hass, entry, "led", SWITCH).state == STATE_ON

    device.set_fault(FaultMode.APPLY_THEN_DROP, paths=[SETTINGS], count=1)
    with pytest.raises(HomeAssistantError) as err:
        await switch_led(hass, entry, SERVICE_TURN_OFF)
    assert err.value.translation_key == "cannot_connect"
    assert device.state.settings["ledEnable"] is False
    assert state(hass, entry, "led", SWITCH).state == STATE_OFF
    assert_no_traceback(caplog)


@pytest.mark.parametrize(
    ("fault", "key", "retry_after"),
    [
        (FaultMode.RATE_LIMIT_429, "device_busy", "10"),
        (FaultMode.BUSY_503, "device_busy", "5"),
        (FaultMode.OFFLINE, "cannot_connect", "0"),
        (FaultMode.TIMEOUT, "cannot_connect", "0"),
        (FaultMode.HTTP_500, "bad_response", "0"),
    ],
)
async def test_action_errors(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
    fault: FaultMode,
    key: str,
    retry_after: str,
) -> None:
    """Busy, unreachable and broken devices each get their own message."""
    device.configure(timeout_seconds=0.2)
    device.set_fault(fault, paths=[REBOOT])
    with pytest.raises(HomeAssistantError) as err:
        await press_restart(hass, init_integration)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    placeholders = err.value.translation_placeholders or {}
    assert placeholders["host"] == init_integration.data["host"]
    assert placeholders["retry_after"] == retry_after
    assert issue(hass, "write_token_required", init_integration) is None
    assert_no_traceback(caplog)


async def test_led_status_sensor(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    """An enum diagnostic sensor with the lower-case LED statuses."""
    status = state(hass, init_integration, "led_status")
    assert status.state == "ok"
    assert status.name == "WattWaechter LED status"
    assert status.attributes[ATTR_DEVICE_CLASS] == "enum"
    assert status.attributes[ATTR_OPTIONS] == [
        "none",
        "ok",
        "startup",
        "info",
        "meter_attention",
        "ble_active",
        "ble_connected",
        "ota_active",
        "error",
        "reset_pending",
    ]
    registered = er.async_get(hass).async_get(status.entity_id)
    assert registered is not None
    assert registered.entity_category is EntityCategory.DIAGNOSTIC


async def test_unknown_led_status_is_unknown(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A status a newer firmware may add is not forced into the options."""
    original = device.device.led
    monkeypatch.setattr(device.device, "led", lambda: {**original(), "status": "X"})
    await advance(hass, 3600)
    assert state(hass, init_integration, "led_status").state == STATE_UNKNOWN


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(reboot_seconds=15)])
async def test_restart_and_recovery(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One POST; away while it reboots; one update brings everything back."""
    entry = init_integration
    button = state(hass, entry, "reboot", BUTTON)
    assert button.attributes[ATTR_DEVICE_CLASS] == "restart"
    assert button.name == "WattWaechter Restart"
    boots = device.state.boots
    device.clear_log()
    await press_restart(hass, entry)
    assert [(m, p) for m, p, _ in calls(device)] == [("POST", REBOOT)]
    await advance(hass, INTERVAL)  # rebooting: the meter does not answer
    for key, domain in (*CONTROLS, ("1.8.0", "sensor")):
        assert state(hass, entry, key, domain).state == STATE_UNAVAILABLE, key
    await advance(hass, INTERVAL)  # back: the slow data is read once
    assert device.state.boots == boots + 1
    assert state(hass, entry, "1.8.0").state != STATE_UNAVAILABLE
    assert state(hass, entry, "led", SWITCH).state == STATE_ON
    assert state(hass, entry, "led_status").state == "ok"
    assert state(hass, entry, "reboot", BUTTON).state != STATE_UNAVAILABLE
    back = sorted({p for _, p, _ in calls(device)[1:]} - {"/api/v1/history/latest"})
    assert back == [
        "/api/v1/ota/check",
        "/api/v1/settings",
        "/api/v1/system/info",
        "/api/v1/system/led",
    ]
    assert_no_traceback(caplog)
    ours = [r for r in caplog.records if r.name.startswith("custom_components")]
    assert [r.levelno for r in ours if r.levelno >= logging.INFO] == [
        logging.ERROR,  # HA's coordinator: the device is away (once)
        logging.INFO,  # ... and back
    ]


async def test_controls_unavailable_while_offline(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """LED switch, LED status, restart and firmware follow the device."""
    entry = init_integration
    controls = (*CONTROLS, ("", "update"))
    device.set_fault(FaultMode.OFFLINE)
    await advance(hass, INTERVAL)
    for key, domain in controls:
        assert state(hass, entry, key, domain).state == STATE_UNAVAILABLE, key
    device.clear_faults()
    await advance(hass, INTERVAL)
    for key, domain in controls:
        assert state(hass, entry, key, domain).state != STATE_UNAVAILABLE, key


@pytest.mark.parametrize(("simulator_config", "tokens"), [(AUTH_ON, READ_ONLY)])
async def test_read_only_token(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """403: a clear error and a repair, no reauth; the device changed nothing."""
    entry = init_integration
    assert not exists(hass, entry, "reboot", BUTTON)  # it could only fail
    device.clear_log()
    with pytest.raises(HomeAssistantError) as err:
        await switch_led(hass, entry, SERVICE_TURN_OFF)
    assert err.value.translation_key == "write_token_required"
    assert calls(device) == [("POST", SETTINGS, "read")]
    assert device.request_log[0].status == 403
    assert device.state.settings["ledEnable"] is True
    assert state(hass, entry, "led", SWITCH).state == STATE_ON
    assert entry.state is ConfigEntryState.LOADED
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert not [f for f in flows if f["context"]["source"] == SOURCE_REAUTH]
    repair = issue(hass, "write_token_required", entry)
    assert repair is not None
    assert repair.translation_placeholders == {
        "name": "WattWaechter",
        "host": entry.data["host"],
    }
    # Authentication turned off on the device: the action works, the repair goes.
    device.configure(auth_required=False)
    await switch_led(hass, entry, SERVICE_TURN_OFF)
    assert state(hass, entry, "led", SWITCH).state == STATE_OFF
    assert issue(hass, "write_token_required", entry) is None


@pytest.mark.parametrize(("simulator_config", "tokens"), [(AUTH_ON, BOTH_TOKENS)])
async def test_stale_write_token(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """401 on an action: the WRITE token is wrong; polling (READ) goes on."""
    device.configure(write_token="NEWWRITETOKEN000")
    with pytest.raises(HomeAssistantError) as err:
        await press_restart(hass, init_integration)
    assert err.value.translation_key == "invalid_auth"
    await advance(hass, INTERVAL)
    assert init_integration.state is ConfigEntryState.LOADED
    assert state(hass, init_integration, "1.8.0").state != STATE_UNAVAILABLE


@pytest.mark.parametrize(("simulator_config", "tokens"), [(AUTH_ON, READ_ONLY)])
async def test_removing_the_entry_removes_the_issue(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    """No repair outlives its entry."""
    with pytest.raises(HomeAssistantError):
        await switch_led(hass, init_integration, SERVICE_TURN_OFF)
    assert issue(hass, "write_token_required", init_integration) is not None
    await hass.config_entries.async_remove(init_integration.entry_id)
    assert issue(hass, "write_token_required", init_integration) is None
