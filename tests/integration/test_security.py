"""Tokens: rotation, turning authentication on (repair), 401 and 403.

Every step leaves Home Assistant able to read the meter with what the entry
holds; a lost answer is settled by asking the device. A 401 asks the user
for tokens while polling goes on, so the entry recovers by itself when the
device stops asking for them; a 403 explains that the WRITE token is missing.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.components.repairs import ConfirmRepairFlow, repairs_flow_manager
from homeassistant.components.switch import DOMAIN as SWITCH
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_TOKEN,
    SERVICE_TURN_OFF,
    STATE_OFF,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest

from custom_components.wattwaechter import repairs
from custom_components.wattwaechter.api.models import PendingTokens
from custom_components.wattwaechter.const import CONF_WRITE_TOKEN, DOMAIN
from simulator import FaultMode, Simulator, SimulatorConfig

from .conftest import READ, WRITE
from .timetravel import advance
from .traffic import LATEST

GENERATE = "/api/v1/auth/tokens/generate"
CONFIRM = "/api/v1/auth/tokens/confirm"
SETTINGS = "/api/v1/settings"
NEW_READ, NEW_WRITE = "NEWREAD000000000", "NEWWRITE00000000"
AUTH_OFF = pytest.mark.parametrize(
    ("simulator_config", "tokens"),
    [(SimulatorConfig(), {CONF_TOKEN: None, CONF_WRITE_TOKEN: None})],
    ids=["auth off"],
)
READ_ONLY = pytest.mark.parametrize(
    "tokens", [{CONF_TOKEN: READ, CONF_WRITE_TOKEN: None}], ids=["read token only"]
)


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """A device with API authentication on."""
    return SimulatorConfig(auth_required=True)


@pytest.fixture
def tokens() -> dict[str, str | None]:
    """The entry holds both tokens."""
    return {CONF_TOKEN: READ, CONF_WRITE_TOKEN: WRITE}


async def rotate(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Call wattwaechter.rotate_tokens for the entry."""
    await hass.services.async_call(
        DOMAIN, "rotate_tokens", {"config_entry_id": entry.entry_id}, blocking=True
    )


def stored(entry: ConfigEntry) -> tuple[str | None, str | None]:
    """Return the tokens the entry holds."""
    return entry.data[CONF_TOKEN], entry.data[CONF_WRITE_TOKEN]


def on_device(device: Simulator) -> tuple[str, str]:
    """Return the tokens the device takes."""
    return device.state.read_token, device.state.write_token


def reauth_flows(hass: HomeAssistant) -> list[Any]:
    """Return the reauth flows in progress."""
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
    ]


def issue(hass: HomeAssistant, kind: str, entry: ConfigEntry) -> ir.IssueEntry | None:
    """Return the entry's repair of ``kind``."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{kind}_{entry.entry_id}")


def power(hass: HomeAssistant) -> str:
    """Return the state of the active power sensor."""
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, "AABBCCDDEEFF_16.7.0"
    )
    found = hass.states.get(entity_id or "")
    assert found is not None
    return found.state


async def assert_polls(hass: HomeAssistant, device: Simulator, level: str) -> None:
    """The next meter update works, sent with the token of ``level``."""
    device.clear_log()
    await advance(hass, 10)
    polls = [r for r in device.request_log if r.path == LATEST]
    assert {(r.status, r.token_level) for r in polls} == {(200, level)}
    assert power(hass) != STATE_UNAVAILABLE
    assert not reauth_flows(hass)


# --- rotation --------------------------------------------------------------------


async def test_rotate_tokens(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Generate, confirm, store: the entry holds the new pair, the old one is dead."""
    runtime = init_integration.runtime_data
    device.clear_log()
    await rotate(hass, init_integration)
    assert on_device(device) != (READ, WRITE)
    assert stored(init_integration) == on_device(device)
    assert [(r.method, r.path, r.token_level) for r in device.request_log] == [
        ("POST", GENERATE, "write"),
        ("POST", CONFIRM, "write"),
    ]
    # No reload: the running client reads with the new READ token.
    assert init_integration.runtime_data is runtime
    await assert_polls(hass, device, "read")
    assert init_integration.state is ConfigEntryState.LOADED


@AUTH_OFF
async def test_rotate_tokens_with_auth_off(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """With auth off the device still makes a pair; it is stored for later."""
    await rotate(hass, init_integration)
    assert stored(init_integration) == on_device(device)
    await assert_polls(hass, device, "read")


async def test_rotation_survives_a_lost_confirm_answer(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The device switched but its answer never came: the new pair is kept."""
    device.set_fault(FaultMode.APPLY_THEN_DROP, paths=[CONFIRM])
    await rotate(hass, init_integration)
    assert on_device(device) != (READ, WRITE)
    assert stored(init_integration) == on_device(device)
    assert "was lost" in caplog.text
    device.clear_faults()
    await assert_polls(hass, device, "read")


async def test_rotation_lost_before_the_device(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """The confirm never arrived: the old pair still works and is kept."""
    device.set_fault(FaultMode.RESET, paths=[CONFIRM])
    with pytest.raises(HomeAssistantError) as err:
        await rotate(hass, init_integration)
    assert err.value.translation_key == "rotation_not_applied"
    assert on_device(device) == (READ, WRITE)
    assert stored(init_integration) == (READ, WRITE)
    device.clear_faults()
    await assert_polls(hass, device, "read")


async def test_rotation_outcome_unknown(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Answer lost and the device unreachable: nothing is stored, it says so."""
    device.set_fault(FaultMode.APPLY_THEN_DROP, paths=[CONFIRM])
    device.set_fault(FaultMode.OFFLINE, paths=[SETTINGS])
    with pytest.raises(HomeAssistantError) as err:
        await rotate(hass, init_integration)
    assert err.value.translation_key == "rotation_unknown"
    assert stored(init_integration) == (READ, WRITE)


@pytest.mark.parametrize(
    ("path", "fault", "key"),
    [
        (GENERATE, FaultMode.HTTP_500, "bad_response"),
        (GENERATE, FaultMode.RATE_LIMIT_429, "device_busy"),
        (CONFIRM, FaultMode.HTTP_500, "bad_response"),
    ],
)
async def test_rotation_failure_changes_nothing(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    path: str,
    fault: FaultMode,
    key: str,
) -> None:
    device.set_fault(fault, paths=[path])
    with pytest.raises(HomeAssistantError) as err:
        await rotate(hass, init_integration)
    assert err.value.translation_key == key
    assert on_device(device) == (READ, WRITE)
    assert stored(init_integration) == (READ, WRITE)
    device.clear_faults()
    await advance(hass, 10)  # a 429 paused everything for 10 s
    await assert_polls(hass, device, "read")


@pytest.mark.parametrize(
    ("read", "write"), [("ONLYREAD00000000", None), ("NEW READ", NEW_WRITE)]
)
async def test_rotation_with_an_unusable_pair(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    read: str,
    write: str | None,
) -> None:
    """A pair that is incomplete or could not be sent is never confirmed."""
    client = init_integration.runtime_data.client
    device.clear_log()
    with (
        patch.object(
            client,
            "generate_tokens",
            AsyncMock(return_value=PendingTokens(read, write)),
        ),
        pytest.raises(HomeAssistantError) as err,
    ):
        await rotate(hass, init_integration)
    assert err.value.translation_key == "bad_response"
    assert CONFIRM not in {r.path for r in device.request_log}
    assert stored(init_integration) == (READ, WRITE)


@READ_ONLY
async def test_rotation_needs_the_write_token(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """With the READ token only, the device refuses: the write-token repair."""
    with pytest.raises(HomeAssistantError) as err:
        await rotate(hass, init_integration)
    assert err.value.translation_key == "write_token_required"
    assert issue(hass, "write_token_required", init_integration) is not None
    assert on_device(device) == (READ, WRITE)


async def test_rotate_an_unknown_or_unloaded_entry(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "rotate_tokens", {"config_entry_id": "nope"}, blocking=True
        )
    await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError):
        await rotate(hass, init_integration)


# --- 403: the WRITE token is missing -------------------------------------------------


async def switch_led_off(hass: HomeAssistant) -> None:
    """Switch the status LED off as a user does."""
    entity_id = er.async_get(hass).async_get_entity_id(
        SWITCH, DOMAIN, "AABBCCDDEEFF_led"
    )
    await hass.services.async_call(
        SWITCH, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


@READ_ONLY
async def test_403_raises_the_write_token_repair(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """A change with the READ token only: the user is told, a repair stays.

    Adding the WRITE token (as Reconfigure does) removes the repair.
    """
    entry = init_integration
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("button", DOMAIN, "AABBCCDDEEFF_reboot") is None
    with pytest.raises(HomeAssistantError) as err:
        await switch_led_off(hass)
    assert err.value.translation_key == "write_token_required"
    assert device.request_log[-1].status == 403
    assert device.state.settings["ledEnable"] is True
    repair = issue(hass, "write_token_required", entry)
    assert repair is not None
    assert not repair.is_fixable
    await assert_polls(hass, device, "read")

    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_WRITE_TOKEN: WRITE}
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert issue(hass, "write_token_required", entry) is None
    await switch_led_off(hass)
    assert device.state.settings["ledEnable"] is False


@READ_ONLY
async def test_write_token_repair_goes_when_a_change_works(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """The device stops asking for tokens: the next change works, the repair goes."""
    with pytest.raises(HomeAssistantError):
        await switch_led_off(hass)
    assert issue(hass, "write_token_required", init_integration) is not None
    device.configure(auth_required=False)
    await switch_led_off(hass)
    assert issue(hass, "write_token_required", init_integration) is None


# --- 401: reauthentication, and recovering without it ---------------------------------


async def test_401_asks_for_tokens_and_polling_goes_on_cheaply(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """New tokens in the device's web interface: one reauth flow, one poll per update.

    Turning authentication off again brings the entry back by itself; the
    reauth flow goes away.
    """
    device.configure(read_token=NEW_READ, write_token=NEW_WRITE)
    await advance(hass, 10)
    assert power(hass) == STATE_UNAVAILABLE
    assert len(reauth_flows(hass)) == 1
    device.clear_log()
    for _ in range(6):
        await advance(hass, 10)
    assert len(reauth_flows(hass)) == 1
    assert [(r.path, r.status) for r in device.request_log] == [(LATEST, 401)] * 6

    device.configure(auth_required=False)
    await advance(hass, 10)
    assert power(hass) != STATE_UNAVAILABLE
    assert reauth_flows(hass) == []
    assert init_integration.state is ConfigEntryState.LOADED
    await advance(hass, 30)
    # Now the device is open to anyone: the repair says so.
    assert issue(hass, "auth_disabled", init_integration) is not None


@AUTH_OFF
async def test_auth_off_repair_not_shown_while_auth_is_on(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Auth turned on in the web interface: the "auth is off" repair goes at once.

    Home Assistant asks for the tokens; polling goes on, one request per update.
    """
    entry = init_integration
    assert issue(hass, "auth_disabled", entry) is not None
    device.configure(auth_required=True)
    await advance(hass, 10)
    assert len(reauth_flows(hass)) == 1
    assert issue(hass, "auth_disabled", entry) is None
    device.clear_log()
    for _ in range(6):
        await advance(hass, 10)
        assert issue(hass, "auth_disabled", entry) is None
    assert {r.path for r in device.request_log} == {LATEST}

    device.configure(auth_required=False)
    await advance(hass, 10)
    await advance(hass, 30)
    assert reauth_flows(hass) == []
    assert issue(hass, "auth_disabled", entry) is not None


async def test_reauth_with_the_new_tokens(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """The user enters the tokens the web interface shows: polling with them."""
    device.configure(read_token=NEW_READ, write_token=NEW_WRITE)
    await advance(hass, 10)
    (flow,) = reauth_flows(hass)
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_TOKEN: "WRONGTOKEN000000"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_TOKEN: NEW_READ, CONF_WRITE_TOKEN: NEW_WRITE}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert stored(init_integration) == (NEW_READ, NEW_WRITE)
    await assert_polls(hass, device, "read")


# --- turning authentication on: the repair's fix flow -------------------------------


async def start_fix(hass: HomeAssistant, entry: ConfigEntry) -> FlowResult:
    """Open the fix flow of the auth issue at its confirm form."""
    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(
        DOMAIN, data={"issue_id": f"auth_disabled_{entry.entry_id}"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {
        "name": entry.title,
        "host": entry.data["host"],
    }
    return result


async def submit_fix(hass: HomeAssistant, result: FlowResult) -> FlowResult:
    """Press Submit in the fix flow."""
    manager = repairs_flow_manager(hass)
    assert manager is not None
    return await manager.async_configure(result["flow_id"], {})


@AUTH_OFF
async def test_auth_off_is_a_fixable_repair(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    found = issue(hass, "auth_disabled", init_integration)
    assert found is not None
    assert found.is_fixable
    assert found.severity is ir.IssueSeverity.WARNING
    assert found.translation_key == "auth_disabled"
    assert found.data == {"entry_id": init_integration.entry_id}


@AUTH_OFF
async def test_fix_turns_auth_on(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Generate, confirm, store, turn on, read back: secured, still polling."""
    entry = init_integration
    result = await start_fix(hass, entry)
    device.clear_log()
    result = await submit_fix(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert device.state.settings["api_auth_required"] is True
    assert stored(entry) == on_device(device)
    assert [(r.method, r.path, r.token_level) for r in device.request_log] == [
        ("POST", GENERATE, "none"),
        ("POST", CONFIRM, "none"),
        ("POST", SETTINGS, "write"),
        ("GET", SETTINGS, "read"),
    ]
    assert issue(hass, "auth_disabled", entry) is None
    await assert_polls(hass, device, "read")
    assert entry.runtime_data.can_write


@AUTH_OFF
@pytest.mark.parametrize(
    ("path", "fault"),
    [
        (GENERATE, FaultMode.HTTP_500),
        (GENERATE, FaultMode.RESET),
        (CONFIRM, FaultMode.HTTP_500),
        (CONFIRM, FaultMode.RESET),
        (CONFIRM, FaultMode.APPLY_THEN_DROP),
    ],
)
async def test_fix_fails_before_anything_is_stored(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    path: str,
    fault: FaultMode,
) -> None:
    """No confirmed pair: nothing stored, auth stays off, the meter is read."""
    entry = init_integration
    result = await start_fix(hass, entry)
    device.set_fault(fault, paths=[path])
    result = await submit_fix(hass, result)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "secure_tokens_failed"}
    assert device.state.settings["api_auth_required"] is False
    assert stored(entry) == (None, None)
    assert issue(hass, "auth_disabled", entry) is not None
    device.clear_faults()
    await assert_polls(hass, device, "none")
    # Try again: it works.
    result = await submit_fix(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert device.state.settings["api_auth_required"] is True
    await assert_polls(hass, device, "read")


@AUTH_OFF
async def test_fix_enable_refused(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Turning auth on fails: the new pair is stored and works, auth stays off."""
    entry = init_integration
    result = await start_fix(hass, entry)
    device.set_fault(FaultMode.HTTP_500, paths=[SETTINGS])
    result = await submit_fix(hass, result)
    assert result["errors"] == {"base": "secure_enable_failed"}
    assert device.state.settings["api_auth_required"] is False
    assert stored(entry) == on_device(device)
    device.clear_faults()
    await assert_polls(hass, device, "read")
    # Turned on later (in the web interface, say): the stored pair is right.
    device.configure(auth_required=True)
    await assert_polls(hass, device, "read")


@AUTH_OFF
async def test_fix_enable_answer_lost(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Auth went on but no answer came back: the stored pair still works."""
    entry = init_integration
    result = await start_fix(hass, entry)
    device.set_fault(FaultMode.APPLY_THEN_DROP, paths=[SETTINGS])
    result = await submit_fix(hass, result)
    assert result["errors"] == {"base": "secure_verify_failed"}
    assert device.state.settings["api_auth_required"] is True
    device.clear_faults()
    await assert_polls(hass, device, "read")
    # The next settings read (hourly) clears the repair.
    await advance(hass, 3600)
    assert issue(hass, "auth_disabled", entry) is None


@AUTH_OFF
async def test_fix_enable_ignored(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """The device says yes but auth stays off: reported, nothing locked."""
    entry = init_integration
    result = await start_fix(hass, entry)
    with patch.object(
        entry.runtime_data.client, "update_settings", AsyncMock(return_value={})
    ):
        result = await submit_fix(hass, result)
    assert result["errors"] == {"base": "secure_enable_failed"}
    assert device.state.settings["api_auth_required"] is False
    assert issue(hass, "auth_disabled", entry) is not None
    await assert_polls(hass, device, "read")


@AUTH_OFF
async def test_fix_of_an_unloaded_entry(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    result = await start_fix(hass, init_integration)
    await hass.config_entries.async_unload(init_integration.entry_id)
    result = await submit_fix(hass, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_loaded"


async def test_unknown_issue_gets_a_confirm_flow(hass: HomeAssistant) -> None:
    flow = await repairs.async_create_fix_flow(hass, "something_else", None)
    assert isinstance(flow, ConfirmRepairFlow)


@AUTH_OFF
async def test_repairs_go_with_the_entry(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    assert issue(hass, "auth_disabled", init_integration) is not None
    await hass.config_entries.async_unload(init_integration.entry_id)
    assert issue(hass, "auth_disabled", init_integration) is None


async def test_led_switch_still_works_after_rotation(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Actions use the new WRITE token at once."""
    await rotate(hass, init_integration)
    await switch_led_off(hass)
    assert device.state.settings["ledEnable"] is False
    assert device.request_log[-1].token_level == "write"
    entity_id = er.async_get(hass).async_get_entity_id(
        SWITCH, DOMAIN, "AABBCCDDEEFF_led"
    )
    state = hass.states.get(entity_id or "")
    assert state is not None
    assert state.state == STATE_OFF
