"""Token rotation, turning authentication on (repair), and the rate-limit issue."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.components.repairs import (
    ConfirmRepairFlow,
    repairs_flow_manager,
)
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID, CONF_TOKEN, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest

from custom_components.wattwaechter import repairs
from custom_components.wattwaechter.const import (
    CONF_WRITE_TOKEN,
    CONTROLS_INTERVAL,
    DOMAIN,
)
from custom_components.wattwaechter.issues import RATE_LIMITED_AFTER
from simulator import FaultMode, Simulator

from .conftest import setup_via_flow
from .helpers import advance, outlast_setup_requests, state

READ = "READTOKEN1234567"
WRITE = "WRITETOKEN123456"
GENERATE = "/api/v1/auth/tokens/generate"
CONFIRM = "/api/v1/auth/tokens/confirm"
SETTINGS = "/api/v1/settings"
LATEST = "/api/v1/history/latest"


def device_id(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """Return the registry ID of the entry's device."""
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return device.id


async def rotate(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Call wattwaechter.rotate_tokens for the entry's device."""
    await hass.services.async_call(
        DOMAIN,
        "rotate_tokens",
        {ATTR_DEVICE_ID: device_id(hass, entry)},
        blocking=True,
    )


def reauth_started(hass: HomeAssistant) -> bool:
    """Return True when a reauth flow is in progress."""
    return any(
        flow["context"]["source"] == SOURCE_REAUTH
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    )


@pytest.fixture
async def secured(hass: HomeAssistant, device: Simulator) -> ConfigEntry:
    """A loaded entry of a device with auth on, both tokens stored."""
    device.configure(auth_required=True)
    entry = await setup_via_flow(hass, device, token=READ, write_token=WRITE)
    await outlast_setup_requests(hass)
    return entry


async def assert_still_polls(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator, level: str
) -> None:
    """The next meter update works, sent with the token of ``level``."""
    device.clear_log()
    await advance(hass, 10)
    assert state(hass, entry, "1.8.0").state != STATE_UNAVAILABLE
    polls = [r for r in device.request_log if r.path == LATEST]
    assert polls
    assert {(r.status, r.token_level) for r in polls} == {(200, level)}
    assert not reauth_started(hass)


# --- rotation ----------------------------------------------------------------------


async def test_rotate_tokens(
    hass: HomeAssistant, secured: ConfigEntry, device: Simulator
) -> None:
    """Generate, confirm, store: the entry holds the new pair, the old one is dead."""
    device.clear_log()
    await rotate(hass, secured)
    new_read, new_write = device.state.read_token, device.state.write_token
    assert (new_read, new_write) != (READ, WRITE)
    assert secured.data[CONF_TOKEN] == new_read
    assert secured.data[CONF_WRITE_TOKEN] == new_write
    assert [(r.method, r.path, r.token_level) for r in device.request_log] == [
        ("POST", GENERATE, "write"),
        ("POST", CONFIRM, "write"),
    ]
    # No reload: the running client reads with the new READ token.
    await assert_still_polls(hass, secured, device, "read")
    assert secured.state is ConfigEntryState.LOADED


async def test_rotate_tokens_with_auth_off(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """With auth off the device still makes a pair; it is stored for later."""
    await rotate(hass, entry)
    assert entry.data[CONF_TOKEN] == device.state.read_token
    assert entry.data[CONF_WRITE_TOKEN] == device.state.write_token
    await assert_still_polls(hass, entry, device, "read")


async def test_rotate_survives_a_lost_confirm_answer(
    hass: HomeAssistant, secured: ConfigEntry, device: Simulator
) -> None:
    """The device switched, but its answer never came: the new pair is kept."""
    device.set_fault(FaultMode.APPLY_THEN_DROP, paths=[CONFIRM])
    await rotate(hass, secured)
    assert secured.data[CONF_TOKEN] == device.state.read_token != READ
    assert secured.data[CONF_WRITE_TOKEN] == device.state.write_token != WRITE
    device.clear_faults()
    await assert_still_polls(hass, secured, device, "read")


async def test_rotate_confirm_lost_before_the_device(
    hass: HomeAssistant, secured: ConfigEntry, device: Simulator
) -> None:
    """The confirm never arrived: the old pair still works and is kept."""
    device.set_fault(FaultMode.RESET, paths=[CONFIRM])
    with pytest.raises(HomeAssistantError) as err:
        await rotate(hass, secured)
    assert err.value.translation_key == "rotation_not_applied"
    assert (device.state.read_token, device.state.write_token) == (READ, WRITE)
    assert (secured.data[CONF_TOKEN], secured.data[CONF_WRITE_TOKEN]) == (READ, WRITE)
    device.clear_faults()
    await assert_still_polls(hass, secured, device, "read")


async def test_rotate_outcome_unknown(
    hass: HomeAssistant, secured: ConfigEntry, device: Simulator
) -> None:
    """Answer lost and the device unreachable: nothing is stored, it says so."""
    device.set_fault(FaultMode.APPLY_THEN_DROP, paths=[CONFIRM])
    device.set_fault(FaultMode.OFFLINE, paths=[SETTINGS])
    with pytest.raises(HomeAssistantError) as err:
        await rotate(hass, secured)
    assert err.value.translation_key == "rotation_unknown"
    assert secured.data[CONF_TOKEN] == READ


async def test_rotate_outcome_unknown_old_tokens_unanswered(
    hass: HomeAssistant, secured: ConfigEntry, device: Simulator
) -> None:
    """The new pair is refused and the old one gets no answer either."""
    device.set_fault(FaultMode.RESET, paths=[CONFIRM])
    real = device.device.token_level

    def refuse_new_drop_old(authorization: str | None) -> Any:
        if authorization == f"Bearer {READ}":
            device.set_fault(FaultMode.OFFLINE, paths=[SETTINGS])
        return real(authorization)

    with (
        patch.object(device.device, "token_level", refuse_new_drop_old),
        pytest.raises(HomeAssistantError) as err,
    ):
        await rotate(hass, secured)
    assert err.value.translation_key == "rotation_unknown"
    assert secured.data[CONF_TOKEN] == READ


@pytest.mark.parametrize(
    ("path", "fault", "key"),
    [
        (GENERATE, FaultMode.HTTP_500, "action_failed"),
        (GENERATE, FaultMode.RATE_LIMIT_429, "action_device_busy"),
        (CONFIRM, FaultMode.HTTP_500, "action_failed"),
    ],
)
async def test_rotate_failure_changes_nothing(
    hass: HomeAssistant,
    secured: ConfigEntry,
    device: Simulator,
    path: str,
    fault: FaultMode,
    key: str,
) -> None:
    device.set_fault(fault, paths=[path])
    with pytest.raises(HomeAssistantError) as err:
        await rotate(hass, secured)
    assert err.value.translation_key == key
    assert (device.state.read_token, device.state.write_token) == (READ, WRITE)
    assert (secured.data[CONF_TOKEN], secured.data[CONF_WRITE_TOKEN]) == (READ, WRITE)
    device.clear_faults()
    await assert_still_polls(hass, secured, device, "read")


@pytest.mark.parametrize(
    ("read", "write"),
    [("ONLYREAD00000000", None), ("NEW READ", "NEWWRITE00000000")],
)
async def test_rotate_unusable_answer(
    hass: HomeAssistant,
    secured: ConfigEntry,
    device: Simulator,
    read: str,
    write: str | None,
) -> None:
    """A pair that is incomplete or could not be sent is never confirmed."""
    from custom_components.wattwaechter.api import PendingTokens  # noqa: PLC0415

    client = secured.runtime_data.client
    with (
        patch.object(
            client,
            "generate_tokens",
            AsyncMock(return_value=PendingTokens(read, write, 60)),
        ),
        pytest.raises(HomeAssistantError) as err,
    ):
        await rotate(hass, secured)
    assert err.value.translation_key == "action_failed"
    assert CONFIRM not in {r.path for r in device.request_log}
    assert secured.data[CONF_TOKEN] == READ


async def test_rotate_needs_the_write_token(
    hass: HomeAssistant, device: Simulator
) -> None:
    """With the READ token only, the device refuses: the write-token issue."""
    device.configure(auth_required=True)
    entry = await setup_via_flow(hass, device, token=READ)
    await outlast_setup_requests(hass)
    with pytest.raises(HomeAssistantError) as err:
        await rotate(hass, entry)
    assert err.value.translation_key == "write_token_required"
    assert ir.async_get(hass).async_get_issue(
        DOMAIN, f"write_token_required_{entry.entry_id}"
    )
    assert device.state.read_token == READ


async def test_rotate_unknown_or_unloaded_device(
    hass: HomeAssistant, entry: ConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "rotate_tokens", {ATTR_DEVICE_ID: "nope"}, blocking=True
        )
    assert err.value.translation_key == "unknown_device"

    await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await rotate(hass, entry)
    assert err.value.translation_key == "device_not_loaded"


async def test_rotate_device_of_another_integration(
    hass: HomeAssistant, entry: ConfigEntry
) -> None:
    """A device without a WattWächter entry is not a target."""
    from pytest_homeassistant_custom_component.common import (  # noqa: PLC0415
        MockConfigEntry,
    )

    foreign = MockConfigEntry(domain="other")
    foreign.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=foreign.entry_id, identifiers={("other", "x")}
    )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "rotate_tokens", {ATTR_DEVICE_ID: [device.id]}, blocking=True
        )
    assert err.value.translation_key == "unknown_device"


async def test_poll_during_rotation_is_no_reauth(
    hass: HomeAssistant, secured: ConfigEntry, device: Simulator
) -> None:
    """A poll sent with the old token after the device switched waits and retries."""
    runtime = secured.runtime_data
    async with runtime.token_lock:
        # The device has the new pair; the client does not know it yet.
        device.configure(read_token="NEWREAD000000000", write_token="NEWWRITE00000000")
        refresh = asyncio.ensure_future(runtime.meter.async_refresh())
        await asyncio.sleep(0.2)
        assert not refresh.done()
        runtime.client.set_tokens("NEWREAD000000000", "NEWWRITE00000000")
    await refresh
    assert runtime.meter.last_update_success
    assert not reauth_started(hass)
    levels = [r.token_level for r in device.request_log if r.path == LATEST][-2:]
    assert levels == ["invalid", "read"]


# --- turning authentication on -------------------------------------------------------


def auth_issue(hass: HomeAssistant, entry: ConfigEntry) -> ir.IssueEntry | None:
    """Return the entry's "auth is off" issue."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"auth_disabled_{entry.entry_id}")


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


async def test_auth_off_is_a_fixable_issue(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    issue = auth_issue(hass, entry)
    assert issue is not None
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_key == "auth_disabled"
    assert issue.data == {"entry_id": entry.entry_id}


async def test_fix_turns_auth_on(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """Generate, confirm, store, turn on, read back: secured, still polling."""
    result = await start_fix(hass, entry)
    device.clear_log()
    result = await submit_fix(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert device.state.settings["api_auth_required"] is True
    assert entry.data[CONF_TOKEN] == device.state.read_token != READ
    assert entry.data[CONF_WRITE_TOKEN] == device.state.write_token != WRITE
    assert [(r.method, r.path) for r in device.request_log] == [
        ("POST", GENERATE),
        ("POST", CONFIRM),
        ("POST", SETTINGS),
        ("GET", SETTINGS),
    ]
    assert device.request_log[-1].token_level == "read"
    assert device.request_log[-2].token_level == "write"
    assert auth_issue(hass, entry) is None
    await assert_still_polls(hass, entry, device, "read")
    # Actions still work, with the new WRITE token.
    assert entry.runtime_data.can_write


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
    entry: ConfigEntry,
    device: Simulator,
    path: str,
    fault: FaultMode,
) -> None:
    """No confirmed pair: nothing stored, auth stays off, the meter stays read."""
    result = await start_fix(hass, entry)
    device.set_fault(fault, paths=[path])
    result = await submit_fix(hass, result)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "secure_tokens_failed"}
    assert device.state.settings["api_auth_required"] is False
    assert entry.data[CONF_TOKEN] is None
    assert auth_issue(hass, entry) is not None
    device.clear_faults()
    await assert_still_polls(hass, entry, device, "none")
    # Try again: it works.
    result = await submit_fix(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert device.state.settings["api_auth_required"] is True
    await assert_still_polls(hass, entry, device, "read")


async def test_fix_enable_refused(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """Turning auth on fails: the new pair is stored and works, auth stays off."""
    result = await start_fix(hass, entry)
    device.set_fault(FaultMode.HTTP_500, paths=[SETTINGS])
    result = await submit_fix(hass, result)
    assert result["errors"] == {"base": "secure_enable_failed"}
    assert device.state.settings["api_auth_required"] is False
    assert entry.data[CONF_TOKEN] == device.state.read_token
    device.clear_faults()
    await assert_still_polls(hass, entry, device, "read")
    # Turned on later (say, in the web interface): the stored pair is right.
    device.configure(auth_required=True)
    await assert_still_polls(hass, entry, device, "read")


async def test_fix_enable_answer_lost(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """Auth went on but neither answer came back: the stored pair still works."""
    result = await start_fix(hass, entry)
    device.set_fault(FaultMode.APPLY_THEN_DROP, paths=[SETTINGS])
    result = await submit_fix(hass, result)
    assert result["errors"] == {"base": "secure_verify_failed"}
    assert device.state.settings["api_auth_required"] is True
    device.clear_faults()
    await assert_still_polls(hass, entry, device, "read")
    # The next settings read clears the issue.
    await advance(hass, CONTROLS_INTERVAL.total_seconds())
    assert auth_issue(hass, entry) is None


async def test_fix_enable_ignored(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """The device says yes but auth stays off: reported, nothing locked."""
    result = await start_fix(hass, entry)
    with patch.object(
        entry.runtime_data.client, "update_settings", AsyncMock(return_value={})
    ):
        result = await submit_fix(hass, result)
    assert result["errors"] == {"base": "secure_enable_failed"}
    assert device.state.settings["api_auth_required"] is False
    assert auth_issue(hass, entry) is not None
    await assert_still_polls(hass, entry, device, "read")


async def test_fix_entry_unloaded(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    result = await start_fix(hass, entry)
    await hass.config_entries.async_unload(entry.entry_id)
    result = await submit_fix(hass, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_loaded"


async def test_unknown_issue_gets_a_confirm_flow(hass: HomeAssistant) -> None:
    flow = await repairs.async_create_fix_flow(hass, "something_else", None)
    assert isinstance(flow, ConfirmRepairFlow)


async def test_issues_go_with_the_entry(
    hass: HomeAssistant, entry: ConfigEntry
) -> None:
    assert auth_issue(hass, entry) is not None
    await hass.config_entries.async_unload(entry.entry_id)
    assert auth_issue(hass, entry) is None


# --- another client at the rate limit -----------------------------------------------


async def test_rate_limit_for_minutes_raises_a_warning(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """Refused for minutes: a warning issue; one normal answer clears it."""
    issue_id = f"rate_limited_{entry.entry_id}"
    registry = ir.async_get(hass)
    device.set_fault(FaultMode.RATE_LIMIT_429)
    elapsed = 0
    while elapsed < RATE_LIMITED_AFTER.total_seconds() - 20:
        await advance(hass, 10)
        elapsed += 10
        assert registry.async_get_issue(DOMAIN, issue_id) is None
    for _ in range(4):
        await advance(hass, 10)
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable
    assert issue.translation_placeholders["minutes"] == "3"

    device.clear_faults()
    await advance(hass, 10)
    assert state(hass, entry, "1.8.0").state != STATE_UNAVAILABLE
    assert registry.async_get_issue(DOMAIN, issue_id) is None


async def test_short_storms_and_outages_raise_no_warning(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """Refusals interrupted by an outage start counting again."""
    issue_id = f"rate_limited_{entry.entry_id}"
    for _ in range(3):
        device.set_fault(FaultMode.BUSY_503)
        for _ in range(10):
            await advance(hass, 10)
        device.clear_faults()
        device.set_fault(FaultMode.OFFLINE)
        await advance(hass, 10)
        device.clear_faults()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
