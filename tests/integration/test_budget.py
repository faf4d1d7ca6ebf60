"""The request budget in Home Assistant, measured from the simulator's log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import itertools
import logging
import math
import time
from unittest.mock import patch

import aiohttp
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_HOST,
    CONF_TOKEN,
    EVENT_HOMEASSISTANT_STOP,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.update_coordinator import UpdateFailed
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.api import (
    Priority,
    WattwaechterBudgetError,
    WattwaechterBudgetPausedError,
    WattwaechterConnectionError,
    WattwaechterRateLimitedError,
    WattwaechterRetryLaterError,
)
from custom_components.wattwaechter.budgets import DATA_BUDGETS, async_get_budgets
from custom_components.wattwaechter.const import DOMAIN
from custom_components.wattwaechter.coordinator import (
    RetryLaterUpdateFailed,
    update_failed,
)
from simulator import FaultMode, Simulator

from .conftest import setup_via_flow
from .helpers import advance, entity_id, state
from .timetravel import VirtualTime, run_due
from .traffic import LATEST, OTHER_CLIENT, ours, summarize

pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")

DOMAIN_LOGGER = "custom_components.wattwaechter"
LAG = 0.5
"""Real seconds a test may spend between two ticks of the simulator's clock."""


async def saturate(session: aiohttp.ClientSession, sim: Simulator) -> int:
    """Be the other client: send requests until the device answers 429."""
    sent = 0
    while sent < 100:
        sent += 1
        async with session.get(
            f"{sim.url}/api/v1/system/alive?{OTHER_CLIENT}"
        ) as response:
            if response.status == 429:
                return sent
    raise AssertionError("the device never limited the other client")


def no_errors_in_log(caplog: pytest.LogCaptureFixture) -> None:
    """Assert that nothing was logged at ERROR or with a traceback (any level)."""
    bad = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR or r.exc_info or "Traceback" in r.getMessage()
    ]
    assert not bad, [f"{r.levelname} {r.name}: {r.getMessage()}" for r in bad]


LOOP_CLOCK_TESTS = {
    "test_device_at_its_limit_for_a_minute",
    "test_retry_after_pauses_all_traffic",
}
"""Tests whose requests may wait in the budget for a pause to end: that wait
passes in the loop's time, which the simulator must then see too."""


@pytest.fixture
def sim_clock(
    request: pytest.FixtureRequest, time_travel: VirtualTime
) -> Callable[[], float]:
    """The simulator's clock moves only with the test's ticks (see ticks_only_clock).

    Except in LOOP_CLOCK_TESTS, where no other client races the window.
    """
    if request.node.originalname in LOOP_CLOCK_TESTS:
        return time_travel.clock
    return time_travel.ticks_only_clock


async def test_backs_off_while_another_client_saturates_the_device(
    hass: HomeAssistant,
    device: Simulator,
    time_travel: VirtualTime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another client keeps the device at its limit: we pause, stay quiet, recover."""
    entry = await setup_via_flow(hass, device)
    budget = async_get_budgets(hass).get("AABBCCDDEEFF")
    assert budget is not None
    device.clear_log()
    caplog.clear()

    start = math.ceil(hass.loop.time())
    async with aiohttp.ClientSession() as session:
        for second in range(1, 121):
            # Each whole second the other client fills the device's window
            # again, before Home Assistant's timers of that second run (they
            # are due 0.05-0.5 s after the full second).
            time_travel.tick(start + second - hass.loop.time())
            await saturate(session, device)
            await run_due(hass)
    assert state(hass, entry, "16.7.0").state == STATE_UNAVAILABLE
    assert budget.stats.pauses >= 5

    log = ours(device.request_log)
    limited = [r for r in log if r.status == 429]
    assert limited == log, "some requests got through a full device"
    for hit in limited:
        # The simulator's clock moves only with the ticks here; the budget's
        # also with the real time the test spends (far below LAG).
        during = [r for r in log if hit.time < r.time < hit.time + 10 - LAG]
        assert not during, f"sent during the pause after {hit}: {during}"

    # The other client stops: the meter comes back by itself.
    for _ in range(3):
        await advance(hass, 10)
    assert state(hass, entry, "16.7.0").state != STATE_UNAVAILABLE
    assert ours(device.request_log)[-1].status == 200
    no_errors_in_log(caplog)


async def test_device_at_its_limit_for_a_minute(
    hass: HomeAssistant, device: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """While every request gets 429, we ask once per Retry-After and log once."""
    entry = await setup_via_flow(hass, device)
    device.clear_log()
    caplog.clear()
    device.set_fault(FaultMode.RATE_LIMIT_429)
    for _ in range(60):
        await advance(hass, 1)
    assert state(hass, entry, "16.7.0").state == STATE_UNAVAILABLE
    times = [r.time for r in device.request_log]
    assert all(r.status == 429 for r in device.request_log)
    assert 3 <= len(times) <= 6
    assert all(b - a >= 10 for a, b in itertools.pairwise(times))

    device.clear_faults()
    for _ in range(2):
        await advance(hass, 10)
    assert state(hass, entry, "16.7.0").state != STATE_UNAVAILABLE
    no_errors_in_log(caplog)
    ours_logged = [r for r in caplog.records if r.name.startswith(DOMAIN_LOGGER)]
    warnings = [r for r in ours_logged if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "asked to wait" in warnings[0].getMessage()
    assert any("recovered" in r.getMessage() for r in ours_logged)


@pytest.mark.parametrize(
    ("fault", "retry_after"),
    [(FaultMode.RATE_LIMIT_429, 10), (FaultMode.BUSY_503, 5)],
)
async def test_retry_after_pauses_all_traffic(
    hass: HomeAssistant,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
    fault: FaultMode,
    retry_after: int,
) -> None:
    """A 429 or 503 holds back every request for Retry-After; entities recover."""
    entry = await setup_via_flow(hass, device)
    device.clear_log()
    caplog.clear()
    device.set_fault(fault)
    await advance(hass, 10)
    hit = device.request_log[-1]
    assert hit.status in (429, 503)
    assert state(hass, entry, "16.7.0").state == STATE_UNAVAILABLE
    device.clear_faults()
    await advance(hass, retry_after - 1)
    # Nothing during the pause; a poll due just before its end waits for it.
    after = device.request_log[device.request_log.index(hit) + 1 :]
    assert all(r.time >= hit.time + retry_after for r in after), after
    for _ in range(2):
        await advance(hass, 10)
    assert device.request_log[-1].path == LATEST
    assert device.request_log[-1].status == 200
    assert state(hass, entry, "16.7.0").state != STATE_UNAVAILABLE
    no_errors_in_log(caplog)


async def test_meter_poll_during_a_pause_sends_nothing(
    hass: HomeAssistant, device: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A poll that finds the budget paused fails at once, without a request."""
    entry = await setup_via_flow(hass, device)
    budget = async_get_budgets(hass).get("AABBCCDDEEFF")
    assert budget is not None
    device.clear_log()
    budget.pause(60)
    for _ in range(5):
        await advance(hass, 10)
    assert device.request_log == []
    assert budget.stats.rejected[Priority.METER] == 5
    assert state(hass, entry, "16.7.0").state == STATE_UNAVAILABLE
    await advance(hass, 20)
    assert state(hass, entry, "16.7.0").state != STATE_UNAVAILABLE
    no_errors_in_log(caplog)


async def test_entries_of_one_device_share_one_budget(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Two entries that point to one device get one budget; it lives as long as they."""
    first = await setup_via_flow(hass, device)
    second = MockConfigEntry(
        domain=DOMAIN,
        unique_id="legacy-entry",
        data={
            CONF_HOST: f"127.0.0.1:{device.port}",
            CONF_TOKEN: None,
            "device_id": "aabbccddeeff",
        },
        version=1,
        minor_version=3,
    )
    second.add_to_hass(hass)
    assert await hass.config_entries.async_setup(second.entry_id)
    await hass.async_block_till_done()
    assert second.state is ConfigEntryState.LOADED
    assert first.runtime_data.client.gate is second.runtime_data.client.gate

    device.clear_log()
    for _ in range(30):
        await advance(hass, 10)
    traffic = summarize(device.request_log)
    assert traffic.status_429 == 0
    assert traffic.peak <= 10

    budget = first.runtime_data.client.gate
    assert await hass.config_entries.async_unload(first.entry_id)
    assert async_get_budgets(hass).get("AABBCCDDEEFF") is budget
    assert await hass.config_entries.async_unload(second.entry_id)
    # Unused, it stays until its window is over: a reload must not start empty.
    assert async_get_budgets(hass).get("AABBCCDDEEFF") is budget
    await advance(hass, budget.window + budget.margin)
    assert async_get_budgets(hass).get("AABBCCDDEEFF") is None
    assert DATA_BUDGETS in hass.data


async def test_entry_takes_over_the_budget_of_its_flow(
    hass: HomeAssistant, device: Simulator
) -> None:
    """The flow's probe and the setup count in one window, as at the device."""
    entry = await setup_via_flow(hass, device)
    budget = entry.runtime_data.client.gate
    # system info and settings of the flow, as user actions; then the setup
    assert budget.stats.by_cause == {"action": 2, "setup": 5}
    assert budget.in_window() == len(device.request_log)
    assert async_get_budgets(hass).get(f"127.0.0.1:{device.port}") is budget


async def test_reload_keeps_the_window(hass: HomeAssistant, device: Simulator) -> None:
    """An entry that reloads does not start with an empty window.

    Right after the first setup, the setup's requests wait for theirs to end.
    """
    entry = await setup_via_flow(hass, device)
    budget = entry.runtime_data.client.gate
    first = len(device.request_log)
    assert budget.in_window() == first
    reload = hass.async_create_task(hass.config_entries.async_reload(entry.entry_id))
    await asyncio.sleep(0.2)
    assert not reload.done()
    await advance(hass, budget.window + budget.margin)
    assert await reload
    assert entry.runtime_data.client.gate is budget
    traffic = summarize(device.request_log)
    assert traffic.peak <= budget.limit, traffic


async def test_abandoned_flow_gives_its_budget_back(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A discovered device nobody added: its budget ends a window after the flow."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1:9"}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    budgets = async_get_budgets(hass)
    first = budgets.get("127.0.0.1:9")
    assert first is not None
    # The user corrects the address: the first budget is given back.
    device.configure(auth_required=True)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: f"127.0.0.1:{device.port}"}
    )
    assert result["step_id"] == "auth"
    # Without a token the device did not tell its ID: the address names it.
    budget = budgets.get(f"127.0.0.1:{device.port}")
    assert budget is not None
    assert budget is not first
    # ... and walks away.
    hass.config_entries.flow.async_abort(result["flow_id"])
    assert budgets.get(f"127.0.0.1:{device.port}") is budget
    await advance(hass, budget.window + budget.margin)
    assert budgets.get(f"127.0.0.1:{device.port}") is None
    assert budgets.get("127.0.0.1:9") is None


async def test_unused_budget_lingers_through_a_pause(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A pause the device asked for outlives the entry that saw it."""
    entry = await setup_via_flow(hass, device)
    budget = entry.runtime_data.client.gate
    waiting = asyncio.get_running_loop().create_task(budget.acquire(Priority.BACKFILL))
    budget.pause(60)
    await asyncio.sleep(0)
    assert await hass.config_entries.async_unload(entry.entry_id)
    # Nobody will take the answer of a request still waiting.
    await asyncio.sleep(0)
    assert isinstance(waiting.exception(), WattwaechterBudgetError)
    await advance(hass, 30)
    assert async_get_budgets(hass).get("AABBCCDDEEFF") is budget
    await advance(hass, 31)
    assert async_get_budgets(hass).get("AABBCCDDEEFF") is None


async def test_entry_without_device_id_is_keyed_by_host(
    hass: HomeAssistant, device: Simulator
) -> None:
    """An entry that never learned its device ID still gets a budget (by host)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_HOST: f"127.0.0.1:{device.port}", CONF_TOKEN: None},
        version=1,
        minor_version=3,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert async_get_budgets(hass).get(f"127.0.0.1:{device.port}") is not None


async def test_budget_closes_when_home_assistant_stops(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Requests still waiting for a slot are released at shutdown."""
    entry = await setup_via_flow(hass, device)
    budget = entry.runtime_data.client.gate
    budget.pause(600)
    waiting = asyncio.get_running_loop().create_task(budget.acquire(Priority.BACKFILL))
    await asyncio.sleep(0)
    assert not waiting.done()
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert waiting.done()
    assert isinstance(waiting.exception(), WattwaechterBudgetError)


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (WattwaechterBudgetPausedError("paused", 7.2), "budget_paused"),
        (WattwaechterBudgetError("used up", 2.0), "budget_exhausted"),
        (WattwaechterRateLimitedError("429", 10.0), "device_busy"),
    ],
)
async def test_waiting_errors_become_quiet_update_failures(
    hass: HomeAssistant, error: WattwaechterRetryLaterError, key: str
) -> None:
    """Every "come back later" is a translated RetryLaterUpdateFailed."""
    failed = update_failed(error, "192.0.2.1")
    assert isinstance(failed, RetryLaterUpdateFailed)
    assert failed.translation_key == key
    assert failed.translation_placeholders["retry_after"] == f"{error.retry_after:.0f}"


async def test_no_traceback_for_a_retry_later_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Newer cores add the traceback at DEBUG; for back-pressure it is dropped.

    So it is for every other expected failure (a device that is away); only
    unexpected exceptions keep theirs (see test_coordinator).
    """
    failed = update_failed(WattwaechterRateLimitedError("429", 10.0), "192.0.2.1")
    other = update_failed(WattwaechterConnectionError("gone"), "192.0.2.1")
    logger = logging.getLogger("custom_components.wattwaechter.coordinator")
    caplog.set_level(logging.DEBUG, logger=logger.name)
    for err in (failed, other):
        try:
            raise err
        except UpdateFailed:
            logger.debug("Full error:", exc_info=True)
    assert not [r for r in caplog.records if r.name == logger.name and r.exc_info]


async def test_flows_of_a_loaded_device_use_its_budget(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Reconfigure and reauth of a polled device send through its budget."""
    entry = await setup_via_flow(hass, device)
    budget = entry.runtime_data.client.gate
    granted = budget.stats.by_cause["action"]

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    device.clear_log()
    budget.pause(60)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: f"127.0.0.1:{device.port}"}
    )
    assert result["errors"] == {"base": "device_busy"}
    assert device.request_log == []

    budget.pause(0)
    await advance(hass, 60)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_REAUTH, "entry_id": entry.entry_id},
        data=entry.data,
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "READTOKEN1234567"}
    )
    assert result["reason"] == "reauth_successful"
    # system info and settings, as user actions of this device's budget
    assert budget.stats.by_cause["action"] == granted + 2


async def test_budget_found_by_host(hass: HomeAssistant, device: Simulator) -> None:
    """A flow that knows only the address finds the budget of that address."""
    entry = await setup_via_flow(hass, device)
    budgets = async_get_budgets(hass)
    host = f"127.0.0.1:{device.port}"
    assert budgets.async_lend("flow", [None, "112233445566"], host) is (
        entry.runtime_data.client.gate
    )
    assert budgets.get("192.0.2.1") is None
    other = budgets.async_lend("other flow", [], "192.0.2.1")
    assert other is not entry.runtime_data.client.gate
    assert budgets.get("192.0.2.1") is other
    budgets.async_release("flow")
    budgets.async_release("other flow")


async def toggle_led(hass: HomeAssistant, entry: ConfigEntry, service: str) -> None:
    """Switch the status LED like a user would."""
    await hass.services.async_call(
        SWITCH_DOMAIN,
        service,
        {ATTR_ENTITY_ID: entity_id(hass, entry, "led", SWITCH_DOMAIN)},
        blocking=True,
    )


async def test_action_fails_fast_while_the_device_asked_for_a_pause(
    hass: HomeAssistant, device: Simulator
) -> None:
    """No sleeping in an action: a paused budget refuses it at once, translated."""
    entry = await setup_via_flow(hass, device)
    budget = entry.runtime_data.client.gate
    budget.pause(10)
    device.clear_log()
    started = time.monotonic()
    with pytest.raises(HomeAssistantError) as err:
        await toggle_led(hass, entry, SERVICE_TURN_OFF)
    assert time.monotonic() - started < 1
    assert err.value.translation_key == "budget_paused"
    assert err.value.translation_placeholders["retry_after"] == "10"
    assert "Try again in 10 s" in str(err.value)
    assert device.request_log == []


async def test_action_fails_fast_when_the_budget_is_used_up(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Ten requests in the last seconds: an action is refused, not queued."""
    entry = await setup_via_flow(hass, device)
    budget = entry.runtime_data.client.gate
    while budget.in_window() < budget.limit:
        await budget.acquire(Priority.ACTION)
    device.clear_log()
    with pytest.raises(HomeAssistantError) as err:
        await toggle_led(hass, entry, SERVICE_TURN_OFF)
    assert err.value.translation_key == "budget_exhausted"
    assert device.request_log == []
    await advance(hass, 10)
    await toggle_led(hass, entry, SERVICE_TURN_OFF)
    assert state(hass, entry, "led", SWITCH_DOMAIN).state == STATE_OFF


async def test_action_waits_for_a_pause_that_ends_soon(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A pause that ends within 3 s is waited out: the action then succeeds."""
    entry = await setup_via_flow(hass, device)
    budget = entry.runtime_data.client.gate
    budget.pause(2)
    press = hass.async_create_task(toggle_led(hass, entry, SERVICE_TURN_OFF))
    await asyncio.sleep(0)
    assert not press.done()
    await advance(hass, 2)
    await press
    assert state(hass, entry, "led", SWITCH_DOMAIN).state == STATE_OFF


async def test_a_burst_of_actions_stays_within_the_budget(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Fifteen switch changes at once: some are refused, none waits, no 429.

    A change the device made but the budget had no room to read back shows
    the device's "applied" answer instead of failing.
    """
    entry = await setup_via_flow(hass, device)
    await advance(hass, 10)
    device.clear_log()
    services = [SERVICE_TURN_OFF, SERVICE_TURN_ON] * 7 + [SERVICE_TURN_OFF]
    results = await asyncio.gather(
        *(toggle_led(hass, entry, service) for service in services),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, HomeAssistantError)]
    assert refused, "the budget let every change through"
    assert all(r.translation_key == "budget_exhausted" for r in refused)
    assert len(refused) < len(services)
    # The switch shows what the device has now.
    expected = STATE_ON if device.state.settings["ledEnable"] else STATE_OFF
    assert state(hass, entry, "led", SWITCH_DOMAIN).state == expected
    for _ in range(12):
        await advance(hass, 5)
    traffic = summarize(device.request_log)
    assert traffic.peak <= 10, traffic
    assert traffic.status_429 == 0


async def test_change_without_read_back_or_answer_is_an_error(
    hass: HomeAssistant, device: Simulator
) -> None:
    """No room to read back and no "applied" answer: the user is told to retry."""
    entry = await setup_via_flow(hass, device)
    client = entry.runtime_data.client
    budget = client.gate

    async def update_settings(changes: dict[str, object]) -> dict[str, object]:
        budget.pause(10)  # as if the device answered the next request with 429
        return {}

    with (
        patch.object(client, "update_settings", update_settings),
        pytest.raises(HomeAssistantError) as err,
    ):
        await toggle_led(hass, entry, SERVICE_TURN_OFF)
    assert err.value.translation_key == "budget_paused"
