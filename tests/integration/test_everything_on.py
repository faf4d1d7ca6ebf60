"""A simulated hour with every feature on, measured from the simulator's log.

The simulator's clock here is the same virtual time as Home Assistant's loop
(real time plus the test's ticks), so the budget's window and the device's
window measure the same seconds, also while the backfill paces itself.
"""

from __future__ import annotations

from datetime import timedelta

from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest

from custom_components.wattwaechter.const import HIGH_RES_DAYS
from simulator import Simulator

from .conftest import setup_via_flow
from .traffic import summarize
from .workload import run_hour

pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")


# The history backfill runs as after a real setup: 30 days, then hourly.
@pytest.mark.parametrize("automatic_backfill", [True])
async def test_an_hour_with_everything_on(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A simulated hour of every feature stays inside the budget, without a 429.

    Every feature: polling, the 30-day history backfill that starts at setup,
    LED switching, a restart, a firmware update and a burst of actions.
    """
    entry = await setup_via_flow(hass, device)
    setup = len(device.request_log)

    report = await run_hour(hass, entry, device)

    # From the config flow on: never more than 10 in 10 s, never a 429.
    everything = summarize(device.request_log)
    assert everything.peak <= 10, everything
    assert everything.status_429 == everything.status_503 == 0, everything
    assert report.absent == [], report
    assert not report.refused, report
    assert report.actions["update.install"] == 1
    assert report.actions["button.press"] == 1

    # The backfill read a day per request and filled the statistics.
    assert report.backfill_requests >= HIGH_RES_DAYS, report
    statistic_id = entry.runtime_data.history.statistic_ids["energy_import"]
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        dt_util.utcnow() - timedelta(days=HIGH_RES_DAYS + 1),
        None,
        {statistic_id},
        "hour",
        None,
        {"sum"},
    )
    assert len(rows[statistic_id]) >= (HIGH_RES_DAYS - 1) * 24

    # The hour: one request per meter update, plus a few percent for system
    # info, the hourly settings/LED look and firmware checks. The user's
    # actions, the re-reads after the restarts they caused and the history
    # backfill are counted apart.
    hour = summarize(device.request_log[setup:])
    assert hour.meter_updates >= 350, hour
    polling = hour.requests - report.reactive_requests - report.backfill_requests
    assert polling / hour.meter_updates <= 1.05, (hour, report)
