"""The import rides out gaps, failures, a busy device and the wrong device."""

from __future__ import annotations

from datetime import timedelta
import itertools
import logging

from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.wattwaechter.api.budget import Priority
from custom_components.wattwaechter.const import DOMAIN
from simulator import FaultMode, Simulator, SimulatorConfig

from .conftest import finish_import
from .driver import Driver
from .helpers import (
    HIGH_RES,
    IDS,
    IMPORT_ID,
    LATEST,
    assert_rows_match_device,
    days_asked,
    history_requests,
    midnight,
    rows,
    today,
)

GAP = "2026-10-17"  # ten days before the test's date
OLD_GAP = "2026-09-29"  # the second day of the first import
FULL = 29 * 24 + 1 + 11
"""Rows of 30 days: 29 past days (one of 25 hours) and today's 11 hours."""


def attempts(device: Simulator, day: str) -> list[tuple[float, int]]:
    """Return (time, status) of every request for one day's 15-minute values."""
    return [
        (r.time, r.status)
        for r in device.request_log
        if r.path == HIGH_RES and r.query == f"date={day}"
    ]


def each_day_once(device: Simulator) -> None:
    """Every one of the 30 days was read successfully exactly once."""
    good = [r.query for r in history_requests(device) if r.status == 200]
    assert len(good) == len(set(good)) == 30


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(firmware="1.3.1", history_gaps=(GAP,))]
)
async def test_day_without_data_is_asked_again_next_hour(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    slow_meter: ConfigEntry,
) -> None:
    """Issue 11: a day answering 204 does not stop the import; the other 29 days
    arrive, the missing day is asked again at the next hourly run, and its rows
    arrive once the device has them."""
    await finish_import(driver, slow_meter, device)
    assert [status for _, status in attempts(device, GAP)] == [204]
    assert len(set(days_asked(device))) == 30
    gap_start = midnight(today(device) - timedelta(days=10))
    for statistic_id, index in IDS:
        found = await rows(hass, statistic_id)
        assert len(found) == FULL - 24
        assert not [r for r in found if gap_start <= r["start"] < gap_start + 86_400]
        # The sums run on over the gap: the next hour holds the gap's energy.
        before = [r for r in found if r["start"] < gap_start]
        after = [r for r in found if r["start"] >= gap_start + 86_400]
        assert_rows_match_device(device, before, index)
        assert_rows_match_device(device, after, index)
        assert round((after[0]["state"] - after[0]["sum"]) * 1000) == round(
            (before[-1]["state"] - before[-1]["sum"]) * 1000
        )

    await driver.run_until(lambda: len(attempts(device, GAP)) == 2)
    assert attempts(device, GAP)[1][1] == 204
    await driver.run_until(lambda: not slow_meter.runtime_data.history.running)

    device.configure(history_gaps=())
    await driver.run_until(lambda: len(attempts(device, GAP)) == 3)
    await driver.run_until(lambda: not slow_meter.runtime_data.history.running)
    assert attempts(device, GAP)[2][1] == 200
    for statistic_id, index in IDS:
        assert_rows_match_device(device, await rows(hass, statistic_id), index)

    # Read once, the day is not asked again.
    await driver.run_for(3600)
    assert len(attempts(device, GAP)) == 3


@pytest.mark.parametrize(
    "simulator_config",
    [SimulatorConfig(firmware="1.3.1", history_gaps=(OLD_GAP,))],
)
async def test_missing_day_is_not_asked_once_out_of_memory(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    slow_meter: ConfigEntry,
) -> None:
    """A day still missing when the device forgot it is no longer asked."""
    await finish_import(driver, slow_meter, device)
    assert str(today(device) - timedelta(days=28)) == OLD_GAP
    await driver.run_until(lambda: len(attempts(device, OLD_GAP)) == 2)
    await driver.run_until(lambda: not slow_meter.runtime_data.history.running)

    driver.virtual.tick(2 * 86_400)  # the gap day is 30 days old now
    device.clear_log()
    await driver.run_until(lambda: str(today(device)) in days_asked(device))
    await driver.run_until(lambda: not slow_meter.runtime_data.history.running)
    assert attempts(device, OLD_GAP) == []
    assert_rows_match_device(device, (await rows(hass, IMPORT_ID))[-48:], 0)


async def test_transient_errors_do_not_end_the_import(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """Issue 13: a timeout, a dropped connection and three 503s in the middle of
    the import: the day is asked again after growing pauses, all 30 days arrive."""
    await driver.run_until(lambda: len(days_asked(device)) >= 10)
    device.set_fault(FaultMode.RESET, paths=[HIGH_RES], count=1)
    device.set_fault(FaultMode.TIMEOUT, paths=[HIGH_RES], count=1)
    device.set_fault(FaultMode.BUSY_503, paths=[HIGH_RES], count=3)
    await finish_import(driver, init_integration, device)

    (day,) = {r.query for r in history_requests(device) if r.status != 200}
    tries = attempts(device, day.removeprefix("date="))
    statuses = [status for _, status in tries]
    assert -1 in statuses  # held until our timeout
    assert [s for s in statuses if s > 0] == [503, 503, 503, 200]
    pauses = [b[0] - a[0] for a, b in itertools.pairwise(tries)]
    # After the timeout 2 s, then doubled each time, at least the Retry-After.
    # (the log's times are when the device saw a request: allow for transit)
    assert pauses[-4] > 10 + 2 - 0.1
    busy = zip(pauses[-3:], (5, 8, 16), strict=True)
    assert all(pause > least - 0.1 for pause, least in busy), pauses
    assert pauses[-1] > pauses[-3]
    each_day_once(device)
    for statistic_id, index in IDS:
        found = await rows(hass, statistic_id)
        assert len(found) == FULL
        assert_rows_match_device(device, found, index)


async def test_import_waits_while_offline_and_resumes_when_back(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """Issue 13: the device goes away in the middle of the import. The import
    sends nothing meanwhile, and resumes as soon as the meter answers again
    (not after its longest pause), keeping the days it has."""
    await driver.run_until(lambda: len(days_asked(device)) >= 10)
    device.set_fault(FaultMode.OFFLINE)
    await driver.run_for(15 * 60)
    # Once the meter failed, the import sends nothing (but for a request that
    # already waited for its slot).
    failed = next(
        r.time for r in device.request_log if r.path == LATEST and r.status == 0
    )
    # (aiohttp sends a GET again once when a kept-alive connection was dropped)
    assert len({r.query for r in history_requests(device) if r.time > failed}) <= 1
    assert [r for r in history_requests(device) if r.time > failed + 11] == []
    asked = len(history_requests(device))
    device.clear_faults()
    back = hass.loop.time()
    await driver.run_until(lambda: len(history_requests(device)) > asked)
    # The meter's next update (10 s), then one budget window, since the slow
    # data is read again first; the import's own pause had grown to 5 minutes.
    assert hass.loop.time() - back < 25
    await finish_import(driver, init_integration, device)

    each_day_once(device)
    for statistic_id, index in IDS:
        assert_rows_match_device(device, await rows(hass, statistic_id), index)


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(cotenant_rate=20)])
async def test_busy_device_keeps_the_meter_and_finishes_the_import(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """Issue 13: another client uses 20 of the device's 25 requests per 10 s
    during a full import. The power sensor never goes unavailable and the
    import completes."""
    meter = init_integration.runtime_data.meter
    states: list[str] = []

    def record() -> None:
        # From the import's start (a minute after setup) on.
        if history_requests(device):
            state = hass.states.get("sensor.wattwaechter_active_power")
            states.append(state.state if state else "missing")

    init_integration.async_on_unload(meter.async_add_listener(record))
    took = await driver.run_until(
        lambda: (
            len({r.query for r in history_requests(device) if r.status == 200}) == 30
        )
    )
    await finish_import(driver, init_integration, device)

    assert len(states) >= (took - 60) // 12  # every update of the import checked
    assert "unavailable" not in states
    each_day_once(device)
    for statistic_id, index in IDS:
        assert_rows_match_device(device, await rows(hass, statistic_id), index)
    logging.getLogger(__name__).warning(
        "co-tenant import: %.0f virtual s, %s history requests, refused %s",
        took,
        len(history_requests(device)),
        sum(r.status == 429 for r in device.request_log),
    )


async def test_429_to_the_import_does_not_pause_the_meter(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """A 429 answered to a history request pauses only background work."""
    await driver.run_until(lambda: len(days_asked(device)) >= 5)
    device.set_fault(FaultMode.RATE_LIMIT_429, paths=[HIGH_RES], count=1)
    await driver.run_until(lambda: any(r.status == 429 for r in device.request_log))
    budget = init_integration.runtime_data.client.budget
    assert budget.paused_for(Priority.BACKGROUND) > 5
    assert budget.paused_for(Priority.METER) == 0
    refused = next(r.time for r in device.request_log if r.status == 429)
    await finish_import(driver, init_integration, device)

    polls = [r.time for r in device.request_log if r.path == LATEST]
    around = [t for t in polls if refused - 25 <= t <= refused + 25]
    assert len(around) >= 4
    # The polls keep their pace through the 10 s the import pauses.
    spacing = [b - a for a, b in itertools.pairwise(around)]
    assert max(spacing) - min(spacing) < 0.5, spacing
    assert max(spacing) < 11.5
    each_day_once(device)


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(missing_endpoints=("/history/highRes",))]
)
async def test_firmware_without_history_turns_the_import_off(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 404 to the history: one log line, and the import stays off."""
    await driver.run_until(lambda: bool(history_requests(device)))
    await driver.run_for(3600)  # the next hourly run
    assert [r.status for r in history_requests(device)] == [404]
    assert caplog.text.count("keeps no history") == 1
    assert not init_integration.runtime_data.history.supported


async def test_no_import_while_another_device_answers(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """Another device at the address: its history is never read; ours is, once
    our device is back."""
    device.configure(other_device=True)
    await driver.run_for(2 * 3600)
    assert history_requests(device) == []
    assert await rows(hass, IMPORT_ID) == []
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"wrong_device_{init_integration.entry_id}"
    )
    assert issue is not None

    device.configure(other_device=False)
    await driver.run_until(lambda: bool(history_requests(device)))
    await finish_import(driver, init_integration, device)
    for statistic_id, index in IDS:
        assert_rows_match_device(device, await rows(hass, statistic_id), index)
