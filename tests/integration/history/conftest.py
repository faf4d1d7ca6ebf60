"""Fixtures of the history tests: a recorder, a fixed date, the event driver."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import DOMAIN
from simulator import Simulator
from simulator.requestlog import STATUS_TIMEOUT

from ..timetravel import VirtualTime
from .driver import Driver
from .helpers import NOW, history_started


@pytest.fixture
def start_time() -> float:
    """Two days after the autumn DST change in Berlin, 7 min into a slot."""
    return NOW


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: Any) -> None:
    """Prepare the test recorder's database before Home Assistant starts."""


@pytest.fixture
def recorder_config() -> dict[str, Any]:
    """The test recorder keeps statistics only: no entity states to write."""
    return {"exclude": {"entity_globs": ["*.*"]}}


@pytest.fixture
async def driver(
    hass: HomeAssistant, time_travel: VirtualTime, device: Simulator
) -> AsyncGenerator[Driver]:
    """Move virtual time from event to event; at the end, unload and let the
    recorder finish (a query running while its database closes crashes SQLite).

    The recorder's work counts as under way once it is set up.
    """
    driver = Driver(hass)
    driver.holding = lambda: any(
        entry.status == STATUS_TIMEOUT
        and entry.time + device.config.timeout_seconds > device.now()
        for entry in device.request_log
    )
    with driver.watch():
        yield driver
        for entry in hass.config_entries.async_entries(DOMAIN):
            if entry.state is ConfigEntryState.LOADED:
                await hass.config_entries.async_unload(entry.entry_id)
        await driver.settle()


@pytest.fixture
async def imported(
    driver: Driver, init_integration: ConfigEntry, device: Simulator
) -> ConfigEntry:
    """The entry once its first import (a minute after start) is over."""
    await finish_import(driver, init_integration, device)
    device.clear_log()
    return init_integration


async def finish_import(driver: Driver, entry: ConfigEntry, device: Simulator) -> None:
    """Run time until the entry's import asked the device and is over."""
    importer = entry.runtime_data.history
    await driver.run_until(lambda: history_started(device) and not importer.running)


async def setup_entry(
    hass: HomeAssistant, entry: MockConfigEntry, **options: Any
) -> MockConfigEntry:
    """Add the entry with ``options`` and set it up."""
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_setup(entry.entry_id)
    return entry


@pytest.fixture
async def slow_meter(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, time_travel: VirtualTime
) -> MockConfigEntry:
    """The entry reading the meter once a minute, for tests that run for hours
    where the meter's pace is not the point."""
    return await setup_entry(hass, mock_config_entry, scan_interval=60)
