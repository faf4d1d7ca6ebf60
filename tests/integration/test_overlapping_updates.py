"""Updates that overlap: each kind of data is asked for once at a time.

The simulator's answers take a little real time here, so a test can start a
second refresh, or a restart, while the first request is on its way.
"""

from __future__ import annotations

import asyncio
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.update_coordinator import UpdateFailed
import pytest

from simulator import FaultMode, Simulator, SimulatorConfig

from .helpers import advance, state
from .traffic import LATEST

LATENCY = 0.2
# Newer cores queue async_refresh calls behind one lock (the debouncer's): the
# second then asks after the first, instead of sharing its answer.
QUEUED_BY_CORE = hasattr(Debouncer, "async_lock")
ASKED = 2 if QUEUED_BY_CORE else 1
"""Requests two overlapping refreshes send."""
DOMAIN_LOGGER = "custom_components.wattwaechter"


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Every answer takes LATENCY real seconds."""
    return SimulatorConfig(latency=LATENCY)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return what the integration logged at WARNING or above."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith(DOMAIN_LOGGER)
    ]


async def on_its_way(hass: HomeAssistant) -> None:
    """Wait until a request just started is with the device (not yet answered)."""
    await asyncio.sleep(LATENCY / 4)


async def test_two_refreshes_at_once_send_one_request(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """The timer's poll and a refresh asked for meanwhile never overlap.

    They share one answer; on cores that queue refreshes, they ask one after
    the other.
    """
    meter = entry.runtime_data.meter
    device.clear_log()
    first = hass.async_create_task(meter.async_refresh())
    await on_its_way(hass)
    await meter.async_refresh()
    await first
    assert [r.path for r in device.request_log] == [LATEST] * ASKED
    assert meter.last_update_success


async def test_a_shared_failure_reaches_both(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """When the one request fails, both refreshes fail with its reason."""
    meter = entry.runtime_data.meter
    device.set_fault(FaultMode.HTTP_500, paths=["/history/latest"])
    device.clear_log()
    first = hass.async_create_task(meter.async_refresh())
    await on_its_way(hass)
    await meter.async_refresh()
    await first
    assert len(device.request_log) == ASKED
    assert isinstance(meter.last_exception, UpdateFailed)
    assert meter.last_exception.translation_key == "bad_response"
    assert state(hass, entry, "1.8.0").state == STATE_UNAVAILABLE


async def test_a_cancelled_first_refresh_lets_the_second_ask(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """If the refresh that asked is cancelled, the one waiting asks itself."""
    meter = entry.runtime_data.meter
    device.clear_log()
    first = hass.async_create_task(meter.async_refresh())
    await on_its_way(hass)
    second = hass.async_create_task(meter.async_refresh())
    await asyncio.sleep(0)
    first.cancel()
    await second
    assert first.cancelled()
    assert meter.last_update_success
    assert [r.path for r in device.request_log] == [LATEST, LATEST]


async def test_a_cancelled_waiting_refresh_stays_cancelled(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """Cancelling the refresh that waits does not touch the one that asked."""
    meter = entry.runtime_data.meter
    device.clear_log()
    first = hass.async_create_task(meter.async_refresh())
    await on_its_way(hass)
    second = hass.async_create_task(meter.async_refresh())
    await asyncio.sleep(0)
    second.cancel()
    await first
    with pytest.raises(asyncio.CancelledError):
        await second
    assert meter.last_update_success
    assert [r.path for r in device.request_log] == [LATEST]


async def test_a_poll_sent_before_a_restart_does_not_end_it(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A restart begins while a poll is on its way: its answer is not "back".

    Before, that answer ended the pause at once, so polling went on while the
    device restarted and the dropped requests were logged as errors.
    """
    caplog.set_level(logging.INFO, logger=DOMAIN_LOGGER)
    runtime = entry.runtime_data
    poll = hass.async_create_task(runtime.meter.async_refresh())
    await on_its_way(hass)
    runtime.pause_polling(60, "restarts")
    await poll
    assert runtime.meter.restarting
    assert runtime.meter.paused
    assert state(hass, entry, "1.8.0").state == STATE_UNAVAILABLE
    assert "is back" not in caplog.text

    # Polling stays quiet until the pause is over, then the device is back.
    device.clear_log()
    await advance(hass, 30)
    assert device.request_log == []
    await advance(hass, 31)
    assert "is back" in caplog.text
    assert state(hass, entry, "1.8.0").state != STATE_UNAVAILABLE
    assert not warnings(caplog)


async def test_a_poll_that_fails_while_the_device_restarts_stays_quiet(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The device goes away under a poll sent before the restart: no error."""
    runtime = entry.runtime_data
    device.set_fault(FaultMode.RESET, paths=["/history/latest"])
    poll = hass.async_create_task(runtime.meter.async_refresh())
    await on_its_way(hass)
    runtime.pause_polling(60, "restarts")
    await poll
    error = runtime.meter.last_exception
    assert isinstance(error, UpdateFailed)
    assert error.translation_key == "restarting"
    assert not warnings(caplog)
