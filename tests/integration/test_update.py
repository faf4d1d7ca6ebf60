"""Firmware update entity against the simulator: check, install, progress, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any
from unittest.mock import patch

from homeassistant.components.homeassistant import (
    DOMAIN as HA_DOMAIN,
    SERVICE_UPDATE_ENTITY,
)
from homeassistant.components.update import (
    ATTR_IN_PROGRESS,
    ATTR_INSTALLED_VERSION,
    ATTR_LATEST_VERSION,
    ATTR_RELEASE_SUMMARY,
    ATTR_UPDATE_PERCENTAGE,
    DOMAIN as UPDATE_DOMAIN,
    SERVICE_INSTALL,
    UpdateEntityFeature,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    EntityCategory,
)
from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.wattwaechter import update
from custom_components.wattwaechter.const import DOMAIN
from simulator import FaultMode, Simulator, SimulatorConfig

from .conftest import setup_via_flow
from .helpers import advance, outlast_setup_requests
from .timetravel import TIME_TRAVEL_KEY, VirtualTime

READ = "READTOKEN1234567"
WRITE = "WRITETOKEN123456"
OTA_START = "/api/v1/ota/start"
OTA_CHECK = "/api/v1/ota/check"
ALIVE = "/api/v1/system/alive"
LED = "/api/v1/system/led"
LATEST = "/api/v1/history/latest"


class SleepSpy:
    """Tells when the install waits (each wait is a real ``asyncio.sleep``)."""

    def __init__(self) -> None:
        """Start with no wait seen."""
        self.calls = 0
        self.waiting = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        """Signal the wait, then wait on the (virtual) event-loop clock."""
        self.calls += 1
        self.waiting.set()
        await asyncio.sleep(seconds)


@pytest.fixture
def sleep_spy() -> Iterator[SleepSpy]:
    """Let the test see when the install waits for its next poll."""
    spy = SleepSpy()
    with patch.object(update, "sleep", spy):
        yield spy


def firmware_id(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """Return the update entity's ID (unique ID = the bare device ID)."""
    found = er.async_get(hass).async_get_entity_id(
        UPDATE_DOMAIN, DOMAIN, str(entry.unique_id)
    )
    assert found is not None
    return found


def firmware(hass: HomeAssistant, entry: ConfigEntry) -> State:
    """Return the update entity's state."""
    found = hass.states.get(firmware_id(hass, entry))
    assert found is not None
    return found


def record(hass: HomeAssistant, entity: str) -> list[State]:
    """Collect every new state of ``entity`` from now on."""
    states: list[State] = []

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            states.append(new)

    async_track_state_change_event(hass, [entity], changed)
    return states


def start_install(hass: HomeAssistant, entry: ConfigEntry) -> asyncio.Task[Any]:
    """Call update.install in the background (not tracked by HA)."""
    return asyncio.ensure_future(
        hass.services.async_call(
            UPDATE_DOMAIN,
            SERVICE_INSTALL,
            {ATTR_ENTITY_ID: firmware_id(hass, entry)},
            blocking=True,
        )
    )


async def drive(
    hass: HomeAssistant,
    task: asyncio.Task[Any],
    spy: SleepSpy,
    on_step: Callable[[int], None] | None = None,
    limit: int = 200,
) -> None:
    """Move time one poll interval each time the install waits, until it ends.

    HA runs the install as a task of its own, so ``async_block_till_done``
    would wait for the whole install; the clock is moved without it.
    """
    time_travel: VirtualTime = hass.data[TIME_TRAVEL_KEY]
    for step in range(limit):
        waiting = asyncio.ensure_future(spy.waiting.wait())
        await asyncio.wait({waiting, task}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if task.done():
            await hass.async_block_till_done()
            return
        spy.waiting.clear()
        if on_step is not None:
            on_step(step)
        time_travel.tick(update.OTA_POLL_INTERVAL)
        async_fire_time_changed(hass)
    raise AssertionError("the install did not end")


def polls(device: Simulator, since: float = 0.0) -> list[tuple[str, str, str]]:
    """Return (method, path, token level) per request, one per poll.

    aiohttp retries a GET once when a kept-alive connection is dropped, so
    dropped attempts of one poll (same path, within a second) count once.
    """
    last_dropped: dict[str, float] = {}
    result = []
    for entry in device.request_log:
        if entry.time < since:
            continue
        if entry.status == 0:
            previous = last_dropped.get(entry.path)
            last_dropped[entry.path] = entry.time
            if previous is not None and entry.time - previous < 1:
                continue
        result.append((entry.method, entry.path, entry.token_level))
    return result


def percentages(states: list[State]) -> list[float]:
    """Return every percentage the entity showed, in order."""
    return [
        p for s in states if (p := s.attributes[ATTR_UPDATE_PERCENTAGE]) is not None
    ]


def phases(shown: list[float]) -> list[float]:
    """Return the distinct steps (other attributes change in between)."""
    return [p for i, p in enumerate(shown) if i == 0 or p != shown[i - 1]]


def assert_clean(state: State) -> None:
    """No install left behind."""
    assert state.attributes[ATTR_IN_PROGRESS] is False
    assert state.attributes[ATTR_UPDATE_PERCENTAGE] is None


# --- the entity ------------------------------------------------------------------


async def test_update_entity(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Installed from system info, latest from the OTA check, notes in English."""
    entity = er.async_get(hass).async_get(firmware_id(hass, entry))
    assert entity is not None
    assert entity.unique_id == "AABBCCDDEEFF"
    assert entity.entity_category is EntityCategory.CONFIG
    assert entity.translation_key == "firmware"

    state = firmware(hass, entry)
    assert state.state == STATE_ON
    assert state.name == "WattWaechter Firmware"
    assert state.attributes[ATTR_DEVICE_CLASS] == "firmware"
    assert state.attributes[ATTR_INSTALLED_VERSION] == "1.2.3"
    assert state.attributes[ATTR_LATEST_VERSION] == "1.3.0"
    assert state.attributes[ATTR_SUPPORTED_FEATURES] == (
        UpdateEntityFeature.INSTALL
        | UpdateEntityFeature.PROGRESS
        | UpdateEntityFeature.RELEASE_NOTES
    )
    assert state.attributes[ATTR_RELEASE_SUMMARY] == (
        "Version 1.3.0: bug fixes and improvements"
    )
    assert_clean(state)

    client = await hass_ws_client(hass)
    await client.send_json(
        {"id": 1, "type": "update/release_notes", "entity_id": state.entity_id}
    )
    result = await client.receive_json()
    assert result["result"] == (
        "## 1.3.0 (2026-01-15)\n\nVersion 1.3.0: bug fixes and improvements"
    )


async def test_release_notes_follow_the_language(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A German Home Assistant gets the German notes."""
    hass.config.language = "de"
    entry = await setup_via_flow(hass, device)
    assert firmware(hass, entry).attributes[ATTR_RELEASE_SUMMARY] == (
        "Version 1.3.0: Fehlerbehebungen und Verbesserungen"
    )


async def test_no_update(hass: HomeAssistant, device: Simulator) -> None:
    """Up to date: latest is the installed version, no notes."""
    device.configure(ota_version="1.2.3")
    entry = await setup_via_flow(hass, device)
    state = firmware(hass, entry)
    assert state.state == STATE_OFF
    assert state.attributes[ATTR_LATEST_VERSION] == "1.2.3"
    assert state.attributes[ATTR_RELEASE_SUMMARY] is None


async def test_check_on_demand_and_every_six_hours(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """update_entity asks the server once; otherwise it is asked every 6 hours."""
    assert await async_setup_component(hass, HA_DOMAIN, {})
    device.configure(ota_version="1.4.0")
    device.clear_log()
    await hass.services.async_call(
        HA_DOMAIN,
        SERVICE_UPDATE_ENTITY,
        {ATTR_ENTITY_ID: firmware_id(hass, entry)},
        blocking=True,
    )
    assert [r.path for r in device.request_log] == [OTA_CHECK]
    assert firmware(hass, entry).attributes[ATTR_LATEST_VERSION] == "1.4.0"

    device.clear_log()
    for _ in range(5):
        await advance(hass, 3600)
    assert [r.path for r in device.request_log].count(OTA_CHECK) == 0
    await advance(hass, 3600)
    assert [r.path for r in device.request_log].count(OTA_CHECK) == 1


async def test_update_server_unreachable(
    hass: HomeAssistant, device: Simulator
) -> None:
    """No answer from the OTA check: no latest version, the entity still there."""
    device.set_fault(FaultMode.HTTP_500, paths=[OTA_CHECK])
    entry = await setup_via_flow(hass, device)
    state = firmware(hass, entry)
    assert state.state == STATE_UNKNOWN
    assert state.attributes[ATTR_INSTALLED_VERSION] == "1.2.3"
    assert state.attributes[ATTR_LATEST_VERSION] is None


async def test_unavailable_while_the_device_is_away(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """The entity follows the system info's availability."""
    device.set_fault(FaultMode.OFFLINE)
    await advance(hass, 300)
    assert firmware(hass, entry).state == STATE_UNAVAILABLE
    device.clear_faults()
    await advance(hass, 300)
    assert firmware(hass, entry).state == STATE_ON


# --- install ------------------------------------------------------------------


async def test_full_install(
    hass: HomeAssistant,
    controlled: ConfigEntry,
    device: Simulator,
    sleep_spy: SleepSpy,
    auth: str,
) -> None:
    """Started, downloading, rebooting, back, verified: never going down."""
    states = record(hass, firmware_id(hass, controlled))
    device.clear_log()
    started = device.now()
    task = start_install(hass, controlled)
    await drive(hass, task, sleep_spy)
    await task

    shown = percentages(states)
    assert shown == sorted(shown)
    assert phases(shown) == [5, 25, 30, 35, 70, 90, 100]
    assert all(s.attributes[ATTR_IN_PROGRESS] for s in states[:-1])

    final = firmware(hass, controlled)
    assert_clean(final)
    assert final.state == STATE_OFF
    assert final.attributes[ATTR_INSTALLED_VERSION] == "1.3.0"
    assert final.attributes[ATTR_LATEST_VERSION] == "1.3.0"
    assert device.state.firmware == "1.3.0"

    read = "none" if auth == "auth_off" else "read"
    write = "none" if auth == "auth_off" else "write"
    assert polls(device, started) == [
        ("POST", OTA_START, write),
        ("GET", LED, read),  # 5 s: OTA_ACTIVE
        ("GET", LED, read),  # 10 s
        ("GET", LED, read),  # 15 s
        ("GET", LED, read),  # 20 s: flashing, no answer
        ("GET", ALIVE, "none"),  # 25 s: still away
        ("GET", ALIVE, "none"),  # 30 s: back with 1.3.0
        ("GET", "/api/v1/system/info", read),
        ("GET", "/api/v1/settings", read),
        ("GET", LED, read),
        ("GET", LATEST, read),
        ("GET", OTA_CHECK, read),
    ]
    # Polling went on as usual afterwards.
    device.clear_log()
    await advance(hass, 10)
    assert [r.path for r in device.request_log] == [LATEST]


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(ota_fail=True)])
async def test_install_comes_back_on_the_old_version(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    sleep_spy: SleepSpy,
) -> None:
    """The device reboots into the old firmware: a clear error naming it."""
    states = record(hass, firmware_id(hass, entry))
    task = start_install(hass, entry)
    await drive(hass, task, sleep_spy)
    with pytest.raises(HomeAssistantError) as err:
        await task
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "ota_old_version"
    assert err.value.translation_placeholders["version"] == "1.2.3"
    assert err.value.translation_placeholders["target"] == "1.3.0"

    shown = percentages(states)
    assert shown == sorted(shown)
    assert shown[-1] == 90
    final = firmware(hass, entry)
    assert_clean(final)
    assert final.state == STATE_ON
    assert final.attributes[ATTR_INSTALLED_VERSION] == "1.2.3"


async def test_install_not_back_in_time(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator, sleep_spy: SleepSpy
) -> None:
    """Away for good: the install gives up after 10 minutes, about 1 poll per 5 s."""
    device.clear_log()
    task = start_install(hass, entry)

    def away(step: int) -> None:
        if step == 0:
            device.set_fault(FaultMode.OFFLINE)

    await drive(hass, task, sleep_spy, on_step=away)
    with pytest.raises(HomeAssistantError) as err:
        await task
    assert err.value.translation_key == "ota_timeout"
    assert err.value.translation_placeholders["version"] == "1.2.3"
    assert err.value.translation_placeholders["minutes"] == "10"
    # The device is still away, and the entity says so.
    assert firmware(hass, entry).state == STATE_UNAVAILABLE
    # One look every 5 s; the coordinators' pause ended with the install.
    ota = [p for p in polls(device) if p[1] in (OTA_START, LED, ALIVE)]
    assert len(ota) == 1 + update.OTA_TIMEOUT / update.OTA_POLL_INTERVAL
    assert len(polls(device)) - len(ota) <= 3

    # Polling resumes; the entities come back once the device does. Behind
    # the outage the device finished the update after all.
    device.clear_faults()
    await advance(hass, 10)
    final = firmware(hass, entry)
    assert_clean(final)
    assert final.attributes[ATTR_INSTALLED_VERSION] == "1.3.0"
    assert final.state == STATE_OFF


async def test_install_cancelled(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator, sleep_spy: SleepSpy
) -> None:
    """Cancelling leaves no progress behind and polling resumes."""
    task = start_install(hass, entry)

    def cancel(step: int) -> None:
        if step == 2:
            task.cancel()

    await drive(hass, task, sleep_spy, on_step=cancel)
    with pytest.raises(asyncio.CancelledError):
        await task
    # Polling resumes. The device goes on with the update (away from 20 s
    # to 30 s); once the meter finds it back, the slower data follow.
    await advance(hass, 10)
    device.clear_log()
    await advance(hass, 10)
    assert sorted(r.path for r in device.request_log) == [
        "/api/v1/history/latest",
        "/api/v1/settings",
        "/api/v1/system/info",
        "/api/v1/system/led",
    ]
    assert_clean(firmware(hass, entry))
    assert firmware(hass, entry).attributes[ATTR_INSTALLED_VERSION] == "1.3.0"


async def test_install_rejected(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator, sleep_spy: SleepSpy
) -> None:
    """The device does not start the update (``ok: false``)."""
    device.configure(ota_version="1.2.3")
    with pytest.raises(HomeAssistantError) as err:
        await start_install(hass, entry)
    assert err.value.translation_key == "ota_rejected"
    assert_clean(firmware(hass, entry))
    assert sleep_spy.calls == 0


async def test_install_with_read_token(hass: HomeAssistant, device: Simulator) -> None:
    """403 on /ota/start: write-token error and repair issue, clean state."""
    device.configure(auth_required=True)
    entry = await setup_via_flow(hass, device, token=READ)
    await outlast_setup_requests(hass)
    with pytest.raises(HomeAssistantError) as err:
        await start_install(hass, entry)
    assert err.value.translation_key == "write_token_required"
    assert ir.async_get(hass).async_get_issue(
        DOMAIN, f"write_token_required_{entry.entry_id}"
    )
    assert_clean(firmware(hass, entry))
    assert device.state.firmware == "1.2.3"


async def test_busy_device_during_install(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator, sleep_spy: SleepSpy
) -> None:
    """A 429 or 500 while downloading is not a failure: look again later."""
    task = start_install(hass, entry)

    def faults(step: int) -> None:
        if step == 0:
            device.set_fault(FaultMode.RATE_LIMIT_429, paths=[LED])
        elif step == 1:
            device.clear_faults()
            device.set_fault(FaultMode.HTTP_500, paths=[LED])
        elif step == 2:
            device.clear_faults()

    await drive(hass, task, sleep_spy, on_step=faults)
    await task
    assert firmware(hass, entry).attributes[ATTR_INSTALLED_VERSION] == "1.3.0"


@pytest.mark.parametrize(
    ("simulator_config", "ok"),
    [
        (SimulatorConfig(reboot_seconds=0.0), True),
        (SimulatorConfig(reboot_seconds=0.0, ota_fail=True), False),
    ],
)
async def test_reboot_faster_than_a_poll(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    sleep_spy: SleepSpy,
    ok: bool,
) -> None:
    """The LED leaves OTA_ACTIVE without a poll ever missing the device."""
    task = start_install(hass, entry)
    await drive(hass, task, sleep_spy)
    if ok:
        await task
        assert firmware(hass, entry).attributes[ATTR_INSTALLED_VERSION] == "1.3.0"
    else:
        with pytest.raises(HomeAssistantError) as err:
            await task
        assert err.value.translation_key == "ota_old_version"
    assert_clean(firmware(hass, entry))


async def test_firmware_without_ota_led(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator, sleep_spy: SleepSpy
) -> None:
    """No OTA_ACTIVE on the LED: a device still up counts as downloading."""
    original = device.device.led

    def led() -> dict[str, object]:
        return {**original(), "status": "OK"}

    device.device.led = led  # type: ignore[method-assign]
    states = record(hass, firmware_id(hass, entry))
    task = start_install(hass, entry)
    await drive(hass, task, sleep_spy)
    await task
    assert phases(percentages(states)) == [5, 25, 30, 35, 70, 90, 100]
    assert firmware(hass, entry).attributes[ATTR_INSTALLED_VERSION] == "1.3.0"


async def test_installed_version_from_setup(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Without a firmware version in the system info, the one from setup shows."""
    original = device.device.system_info

    def system_info(ip_address: str) -> dict[str, Any]:
        info = original(ip_address)
        info["esp"] = [row for row in info["esp"] if row["name"] != "os_version"]
        return info

    entry = await setup_via_flow(hass, device)
    device.device.system_info = system_info  # type: ignore[method-assign]
    await advance(hass, 300)
    assert firmware(hass, entry).attributes[ATTR_INSTALLED_VERSION] == "1.2.3"


async def test_no_release_notes_without_update(
    hass: HomeAssistant, device: Simulator, hass_ws_client: WebSocketGenerator
) -> None:
    """Up to date: no release notes to show."""
    device.configure(ota_version="1.2.3")
    entry = await setup_via_flow(hass, device)
    client = await hass_ws_client(hass)
    await client.send_json(
        {"id": 1, "type": "update/release_notes", "entity_id": firmware_id(hass, entry)}
    )
    assert (await client.receive_json())["result"] is None
