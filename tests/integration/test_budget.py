"""The request budget in Home Assistant, measured in the simulator's request log.

A user's action never fails because of our own work (setup reads, polling,
the history import); our own traffic stays within 10 requests per 10 s and
all of it within 20; another client may use most of the device and the meter
keeps its cadence; a 429/503 pauses what it should, and a lasting one becomes
a repair that goes away by itself.
"""

from __future__ import annotations

import asyncio
from itertools import pairwise
import logging
from typing import Any

from homeassistant.components.button import DOMAIN as BUTTON, SERVICE_PRESS
from homeassistant.components.switch import DOMAIN as SWITCH
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
import pytest

from custom_components.wattwaechter.api.budget import Priority
from custom_components.wattwaechter.const import DOMAIN
from simulator import FaultMode, Simulator, SimulatorConfig

from .beside import imports, run_for, step, track
from .timetravel import advance
from .traffic import LATEST, summarize

INTERVAL = 10.0
"""The meter's default update interval (s)."""


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: Any) -> None:
    """Tests that ask for ``recorder_mock`` get it before Home Assistant starts."""


@pytest.fixture
def recorder_config() -> dict[str, Any]:
    """The recorder keeps statistics only: no entity states to write."""
    return {"exclude": {"entity_globs": ["*.*"]}}


def entity_id(hass: HomeAssistant, key: str, domain: str = "sensor") -> str:
    """Return the entity ID of the simulated device's ``key``."""
    found = er.async_get(hass).async_get_entity_id(
        domain, DOMAIN, f"AABBCCDDEEFF_{key}"
    )
    assert found is not None, key
    return found


def state(hass: HomeAssistant, key: str, domain: str = "sensor") -> str:
    """Return the state of the simulated device's ``key``."""
    found = hass.states.get(entity_id(hass, key, domain))
    assert found is not None
    return found.state


async def switch_led(hass: HomeAssistant, service: str) -> None:
    """Switch the status LED as a user does."""
    await hass.services.async_call(
        SWITCH, service, {ATTR_ENTITY_ID: entity_id(hass, "led", SWITCH)}, blocking=True
    )


async def restart(hass: HomeAssistant) -> None:
    """Press the restart button."""
    await hass.services.async_call(
        BUTTON,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: entity_id(hass, "reboot", BUTTON)},
        blocking=True,
    )


class Unavailable:
    """Notes when the active power sensor went unavailable."""

    def __init__(self, hass: HomeAssistant, device: Simulator) -> None:
        """Follow the sensor from now on."""
        self.times: list[float] = []

        @callback
        def changed(event: Event[EventStateChangedData]) -> None:
            new = event.data["new_state"]
            if new is not None and new.state == STATE_UNAVAILABLE:
                self.times.append(device.now())

        async_track_state_change_event(hass, [entity_id(hass, "16.7.0")], changed)


def meter_gaps(device: Simulator) -> list[float]:
    """Return the seconds between successful meter polls."""
    polls = [r.time for r in device.request_log if r.path == LATEST and r.status == 200]
    return [b - a for a, b in pairwise(polls)]


async def unload(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Unload before the recorder closes (an import writing to it would crash)."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


# --- issue 12.2: the user's actions and our own work ------------------------------


async def test_actions_right_after_setup(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """The setup's reads are in the window: switching and restarting still work."""
    for service in (SERVICE_TURN_OFF, SERVICE_TURN_ON, SERVICE_TURN_OFF):
        await switch_led(hass, service)
    await restart(hass)
    assert state(hass, "led", SWITCH) == STATE_OFF
    assert device.state.settings["ledEnable"] is False
    assert [(r.method, r.path, r.status) for r in device.request_log[-4:]] == [
        ("POST", "/api/v1/settings", 200),
        ("POST", "/api/v1/settings", 200),
        ("POST", "/api/v1/settings", 200),
        ("POST", "/api/v1/system/reboot", 200),
    ]
    budget = init_integration.runtime_data.client.budget
    assert budget.stats.refused == {}
    assert budget.stats.longest_wait["action"] < 0.5


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(history_days=3)])
async def test_actions_while_the_history_import_runs(
    recorder_mock: Any,
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
) -> None:
    """The import starts a minute after setup and fills its share; actions pass.

    Our own traffic (polling, re-reads, the import) stays within 10 requests
    in any 10 s, all of it within 20; the device never refuses anything.
    """
    entry = init_integration
    track(hass, entry)
    await switch_led(hass, SERVICE_TURN_OFF)
    await switch_led(hass, SERVICE_TURN_ON)
    await run_for(hass, 60)
    while not any(r.path.endswith("highRes") for r in device.request_log):
        await step(hass, 0.5)
    assert imports(hass), "the import should run now"
    for service in (SERVICE_TURN_OFF, SERVICE_TURN_ON):
        await switch_led(hass, service)
    await restart(hass)
    await run_for(hass, 180)

    budget = entry.runtime_data.client.budget
    assert budget.stats.refused == {}
    assert budget.stats.longest_wait["action"] < 0.5
    traffic = summarize(device.request_log)
    assert traffic.own_peak <= 10, traffic
    assert traffic.peak <= 20, traffic
    assert (traffic.status_429, traffic.status_503) == (0, 0)
    assert traffic.by_endpoint["POST /settings"] == 4
    # The import went on after the restart and asked for all 30 days.
    assert traffic.by_endpoint["GET /history/highRes"] >= 30
    assert budget.stats.granted["background"] >= 30
    assert state(hass, "led", SWITCH) == STATE_ON
    await unload(hass, entry)


# --- issue 13.3: another client uses most of the device ----------------------------


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(history_days=3)])
async def test_another_client_uses_most_of_the_device(
    recorder_mock: Any,
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
) -> None:
    """Another client sends 20 of the 25 requests per 10 s: polls keep going.

    It starts after the setup; the history import runs a minute later. The
    device never refuses a poll and the sensors never go unavailable.
    """
    track(hass, init_integration)
    await run_for(hass, 11)
    device.configure(cotenant_rate=20)
    away = Unavailable(hass, device)
    await run_for(hass, 300)
    assert away.times == []
    gaps = meter_gaps(device)
    assert len(gaps) >= 30
    assert max(gaps) <= INTERVAL + 1
    polls = [r for r in device.request_log if r.path == LATEST]
    assert {r.status for r in polls} == {200}
    traffic = summarize(device.request_log)
    assert traffic.by_endpoint["GET /history/highRes"] >= 30, "the import finished"
    assert state(hass, "16.7.0") != STATE_UNAVAILABLE
    await unload(hass, init_integration)


# --- 429 and 503 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "retry_after"), [(FaultMode.RATE_LIMIT_429, 10), (FaultMode.BUSY_503, 5)]
)
async def test_retry_after_pauses_all_traffic(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    fault: FaultMode,
    retry_after: int,
) -> None:
    """A refused poll holds back every request for Retry-After; back one update on."""
    device.clear_log()
    device.set_fault(fault)
    while not device.request_log:
        await advance(hass, 1)
    (hit,) = device.request_log
    assert hit.status in (429, 503)
    assert state(hass, "16.7.0") == STATE_UNAVAILABLE
    device.clear_faults()
    await advance(hass, INTERVAL + 1)
    after = device.request_log[1:]
    assert after
    # Nothing during the pause; a poll due just before its end waits for it.
    assert all(r.time >= hit.time + retry_after for r in after), after
    assert (after[0].path, after[0].status) == (LATEST, 200)
    assert state(hass, "16.7.0") != STATE_UNAVAILABLE
    # A refusal is no restart: the slow data is not read again.
    assert {r.path for r in after} == {LATEST}


async def test_action_during_a_pause_fails_at_once(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """The device asked for 10 s: a switch change is refused with the wait."""
    init_integration.runtime_data.client.budget.pause(10, Priority.METER)
    device.clear_log()
    with pytest.raises(HomeAssistantError) as err:
        await switch_led(hass, SERVICE_TURN_OFF)
    assert err.value.translation_key == "budget_exhausted"
    assert err.value.translation_placeholders["retry_after"] == "10"
    assert "Try again in 10 s" in str(err.value)
    assert device.request_log == []
    assert state(hass, "led", SWITCH) == STATE_ON


async def test_action_waits_for_a_pause_that_ends_soon(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """A pause ending within 3 s is waited out: the change then goes through."""
    init_integration.runtime_data.client.budget.pause(2, Priority.METER)
    change = hass.async_create_task(switch_led(hass, SERVICE_TURN_OFF))
    await asyncio.sleep(0)
    assert not change.done()
    await advance(hass, 2)
    await change
    assert state(hass, "led", SWITCH) == STATE_OFF
    assert device.state.settings["ledEnable"] is False


async def test_device_at_its_limit_for_a_minute(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every request refused: we ask once per Retry-After and log it once."""
    device.clear_log()
    caplog.clear()
    device.set_fault(FaultMode.RATE_LIMIT_429)
    track(hass, init_integration)
    await run_for(hass, 60)  # (a poll waiting out a pause waits in virtual time)
    assert state(hass, "16.7.0") == STATE_UNAVAILABLE
    times = [r.time for r in device.request_log]
    assert {r.status for r in device.request_log} == {429}
    assert 5 <= len(times) <= 7
    assert all(b - a >= 10 for a, b in pairwise(times))
    device.clear_faults()
    await advance(hass, INTERVAL + 1)
    assert state(hass, "16.7.0") != STATE_UNAVAILABLE
    ours = [r for r in caplog.records if r.name.startswith("custom_components")]
    errors = [r.getMessage() for r in ours if r.levelno >= logging.WARNING]
    assert len(errors) == 1, errors
    assert "busy" in errors[0]
    assert any("recovered" in r.getMessage() for r in ours)


async def test_meter_poll_during_a_long_pause_sends_nothing(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """A pause longer than a poll may wait: the polls fail at once, unsent."""
    budget = init_integration.runtime_data.client.budget
    device.clear_log()
    budget.pause(60, Priority.METER)
    for _ in range(5):
        await advance(hass, INTERVAL)
    assert device.request_log == []
    assert budget.stats.refused["meter"] == 5
    assert state(hass, "16.7.0") == STATE_UNAVAILABLE
    await advance(hass, INTERVAL + 1)
    assert state(hass, "16.7.0") != STATE_UNAVAILABLE


async def test_a_burst_of_actions_stays_within_the_budget(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Thirty switch changes at once: the excess is refused at once, no 429.

    The switch shows what the device has.
    """
    budget = init_integration.runtime_data.client.budget
    device.clear_log()
    services = [SERVICE_TURN_OFF, SERVICE_TURN_ON] * 15
    results = await asyncio.gather(
        *(switch_led(hass, service) for service in services), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, HomeAssistantError)]
    assert refused, "the budget let every change through"
    assert len(refused) < len(services)
    assert {r.translation_key for r in refused} == {"budget_exhausted"}
    assert all(not isinstance(r, Exception) or r in refused for r in results)
    assert budget.stats.longest_wait["action"] < 0.5
    expected = STATE_ON if device.state.settings["ledEnable"] else STATE_OFF
    assert state(hass, "led", SWITCH) == expected
    for _ in range(6):
        await advance(hass, INTERVAL)
    traffic = summarize(device.request_log)
    assert traffic.peak <= 20, traffic
    assert traffic.status_429 == 0
    assert state(hass, "16.7.0") != STATE_UNAVAILABLE


def rate_issue(hass: HomeAssistant, entry: ConfigEntry) -> ir.IssueEntry | None:
    """Return the entry's rate-limit repair."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"rate_limited_{entry.entry_id}")


async def test_refused_for_minutes_raises_a_repair(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Refused for 3 minutes: a warning repair; the first good poll clears it."""
    entry = init_integration
    device.set_fault(FaultMode.RATE_LIMIT_429)
    await advance(hass, INTERVAL)
    refused_at = device.now()
    while device.now() - refused_at < 180 - INTERVAL:
        await advance(hass, INTERVAL)
        assert rate_issue(hass, entry) is None
    for _ in range(3):
        await advance(hass, INTERVAL)
    issue = rate_issue(hass, entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable
    assert issue.translation_placeholders["minutes"] == "3"
    # While refused, we ask about once per Retry-After: no hammering.
    assert len(device.request_log) <= 5 + 3 + 21

    device.clear_faults()
    await advance(hass, INTERVAL + 1)
    assert state(hass, "16.7.0") != STATE_UNAVAILABLE
    assert rate_issue(hass, entry) is None


async def test_short_refusals_raise_no_repair(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Refusals broken up by an outage or a good answer start counting again."""
    for _ in range(3):
        device.set_fault(FaultMode.BUSY_503)
        for _ in range(10):
            await advance(hass, INTERVAL)
        device.clear_faults()
        device.set_fault(FaultMode.OFFLINE)
        await advance(hass, INTERVAL)
        device.clear_faults()
    assert rate_issue(hass, init_integration) is None
    for _ in range(15):
        await advance(hass, INTERVAL)
    device.set_fault(FaultMode.RATE_LIMIT_429)
    for _ in range(14):
        await advance(hass, INTERVAL)
    device.clear_faults()
    await advance(hass, INTERVAL + 1)
    device.set_fault(FaultMode.RATE_LIMIT_429)
    for _ in range(14):
        await advance(hass, INTERVAL)
    assert rate_issue(hass, init_integration) is None
