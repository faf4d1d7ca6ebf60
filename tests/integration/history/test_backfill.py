"""History backfill into external statistics, against the simulator's history."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import itertools
import logging

from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.wattwaechter.const import CONF_DAILY_HISTORY, DOMAIN
from custom_components.wattwaechter.statistics import UNIT_CLASS_SUPPORTED
from simulator import FaultMode, Simulator, SimulatorConfig

from ..conftest import setup_via_flow
from ..helpers import advance
from ..timetravel import VirtualTime
from .helpers import (
    BERLIN,
    EXPORT_ID,
    HIGH_RES,
    IMPORT_ID,
    LATEST,
    LOW_RES,
    NOW,
    assert_rows_match_device,
    berlin_today,
    epoch,
    fast_forward,
    history_requests,
    hour_energy,
    metadata,
    midnight,
    reading,
    rows,
    settle,
    wait_for_request,
    wh,
)


def last_closed_hour(sim: Simulator) -> int:
    """Return the start of the newest hour whose four slots are complete."""
    assert sim.config.clock is not None
    completed = int(sim.config.clock()) // 900 * 900
    return completed - completed % 3600 - 3600


async def test_first_setup_imports_30_days(
    hass: HomeAssistant, device: Simulator
) -> None:
    """At first setup the last 30 days arrive as hourly rows, exact to the Wh."""
    await setup_via_flow(hass, device)
    await settle(hass)
    today = berlin_today(device)
    oldest = today - timedelta(days=29)

    requests = history_requests(device)
    assert [r.path for r in requests] == [HIGH_RES] * 30
    assert [r.query for r in requests] == [
        f"date={oldest + timedelta(days=n)}" for n in range(30)
    ]
    assert all(r.status == 200 for r in requests)

    for statistic_id, index in ((IMPORT_ID, 0), (EXPORT_ID, 1)):
        found = await rows(hass, statistic_id)
        assert int(found[0]["start"]) == midnight(oldest)
        assert int(found[-1]["start"]) == last_closed_hour(device)
        assert_rows_match_device(device, found, index)
        # The sum starts with the first hour's own energy.
        assert wh(found[0]["sum"]) == hour_energy(device, midnight(oldest), index)

    meta = await metadata(hass, IMPORT_ID)
    assert meta["has_sum"] is True
    assert meta["mean_type"] is StatisticMeanType.NONE
    assert meta["source"] == DOMAIN
    assert meta["unit_of_measurement"] == "kWh"
    assert meta["name"] == "WattWaechter energy import (device history)"
    if UNIT_CLASS_SUPPORTED:
        assert meta["unit_class"] == "energy"
    assert (await metadata(hass, EXPORT_ID))["name"] == (
        "WattWaechter energy export (device history)"
    )


@pytest.mark.parametrize(
    ("sim_start", "day", "hours"),
    [
        (NOW, "2026-10-25", 25),
        (epoch("2026-03-31T10:07:00+00:00"), "2026-03-29", 23),
    ],
)
async def test_dst_days(
    hass: HomeAssistant, device: Simulator, day: str, hours: int
) -> None:
    """A day with a DST change has 25 (or 23) rows, each right to the Wh."""
    await setup_via_flow(hass, device)
    await settle(hass)
    start = midnight(datetime.fromisoformat(day).date())
    end = midnight(datetime.fromisoformat(day).date() + timedelta(days=1))
    assert (end - start) // 3600 == hours
    for statistic_id, index in ((IMPORT_ID, 0), (EXPORT_ID, 1)):
        found = [r for r in await rows(hass, statistic_id, start) if r["start"] < end]
        assert len(found) == hours
        assert_rows_match_device(device, found, index)
        # The day's rows add up to the day's change of the meter reading.
        before = (await rows(hass, statistic_id, start - 3600))[0]
        day_energy = wh(found[-1]["sum"]) - wh(before["sum"])
        assert day_energy == reading(device, end, index) - reading(device, start, index)


async def test_hourly_update_adds_only_new_hours(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Every hour the new hours arrive; existing rows and sums stay as they are."""
    await setup_via_flow(hass, device)
    await settle(hass)
    before = await rows(hass, IMPORT_ID)
    device.clear_log()

    await advance(hass, 2 * 3600)  # two hourly runs were due; they run once
    await settle(hass)

    after = await rows(hass, IMPORT_ID)
    assert after[: len(before)] == before
    assert int(after[-1]["start"]) == last_closed_hour(device)
    assert len(after) == len(before) + 2
    assert_rows_match_device(device, after, 0)
    # Only today's day was read again (plus nothing else of the history).
    assert [r.query for r in history_requests(device)] == [
        f"date={berlin_today(device)}"
    ]


async def test_rerun_is_idempotent(hass: HomeAssistant, device: Simulator) -> None:
    """Importing the same days again reads nothing and changes no row."""
    entry = await setup_via_flow(hass, device)
    await settle(hass)
    before = {sid: await rows(hass, sid) for sid in (IMPORT_ID, EXPORT_ID)}
    device.clear_log()

    await entry.runtime_data.history.async_backfill()
    today = berlin_today(device)
    await entry.runtime_data.history.async_import_days(
        today - timedelta(days=29), today
    )
    await settle(hass)

    assert history_requests(device) == []
    assert {sid: await rows(hass, sid) for sid in (IMPORT_ID, EXPORT_ID)} == before


async def test_three_day_downtime_is_filled(
    hass: HomeAssistant, device: Simulator
) -> None:
    """HA down for three days: the next start fills exactly those 72 hours."""
    entry = await setup_via_flow(hass, device)
    await settle(hass)
    before = await rows(hass, IMPORT_ID)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await advance(hass, 3 * 86_400)
    device.clear_log()

    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)

    for statistic_id, index in ((IMPORT_ID, 0), (EXPORT_ID, 1)):
        found = await rows(hass, statistic_id)
        new = found[len(before) :]
        assert len(new) == 72
        assert int(new[0]["start"]) == int(before[-1]["start"]) + 3600
        assert int(new[-1]["start"]) == last_closed_hour(device)
        assert_rows_match_device(device, found, index)
    # One request per local day since the last row.
    today = berlin_today(device)
    assert [r.query for r in history_requests(device) if r.path == HIGH_RES] == [
        f"date={today - timedelta(days=n)}" for n in (3, 2, 1, 0)
    ]


@pytest.mark.parametrize("budget_limit", [None])
@pytest.mark.parametrize("request_spacing", [2.0])
@pytest.mark.parametrize("simulator_config", [SimulatorConfig()])
async def test_polling_keeps_its_cadence_during_backfill(
    hass: HomeAssistant, device: Simulator, time_travel: VirtualTime
) -> None:
    """A 30-day backfill at the production pace, through the real request budget
    and against the device's real rate limit: meter polls stay 10 s apart, and
    the device refuses nothing.

    Time runs five times faster than real time here (the virtual clock moves
    the event loop, HA's timers and the simulator alike); the request log is in
    simulated seconds. This also measures the cost of a 30-day backfill.
    """
    entry = await setup_via_flow(hass, device)
    async with asyncio.timeout(600):  # virtual seconds
        while sum(r.path == HIGH_RES for r in device.request_log) < 30:
            time_travel.tick(0.04)
            await asyncio.sleep(0.01)
    await settle(hass)

    # One request per day: the time zone comes from the settings HA reads anyway.
    history = history_requests(device)
    assert [r.path for r in history] == [HIGH_RES] * 30
    assert all(r.status == 200 for r in device.request_log)
    assert entry.runtime_data.history.requests == 30
    # One history request at a time, at least 2 s apart, and the budget leaves
    # the backfill 5 of its 10 requests per 10 s minus the polls: 30 requests
    # in a bit over a minute.
    gaps = [b.time - a.time for a, b in itertools.pairwise(history)]
    assert min(gaps) >= 2.0
    took = history[-1].time - history[0].time
    assert 58.0 <= took < 90.0
    # Meter polls kept their 10 s cadence the whole time.
    polls = [r.time for r in device.request_log if r.path == LATEST]
    during = [t for t in polls if history[0].time <= t <= history[-1].time]
    assert len(during) >= 5
    intervals = [b - a for a, b in itertools.pairwise(polls)]
    assert all(9.0 <= interval <= 11.0 for interval in intervals), intervals
    logging.getLogger(__name__).warning(
        "30-day backfill: %.1f s, %s requests, %s meter polls meanwhile",
        took,
        len(history),
        len(during),
    )


async def test_gap_older_than_30_days_needs_the_option(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Without daily values a 40-day outage leaves the part beyond 30 days open."""
    entry = await setup_via_flow(hass, device)
    await settle(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await advance(hass, 40 * 86_400)
    device.clear_log()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    today = berlin_today(device)
    found = await rows(hass, IMPORT_ID, midnight(today - timedelta(days=35)))
    assert int(found[0]["start"]) == midnight(today - timedelta(days=29))
    assert [r.path for r in history_requests(device)] == [HIGH_RES] * 30


async def test_gap_older_than_30_days_from_daily_values(
    hass: HomeAssistant, device: Simulator
) -> None:
    """With the option, an outage beyond 30 days is filled with daily values."""
    entry = await setup_via_flow(hass, device)
    await settle(hass)
    kept = {sid: await rows(hass, sid) for sid in (IMPORT_ID, EXPORT_ID)}
    before = kept[IMPORT_ID]
    hass.config_entries.async_update_entry(entry, options={CONF_DAILY_HISTORY: True})
    assert await hass.config_entries.async_unload(entry.entry_id)
    await advance(hass, 40 * 86_400)
    device.clear_log()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)

    today = berlin_today(device)
    first_high_res = today - timedelta(days=29)
    # The whole gap beyond 30 days costs one daily request.
    assert [r.path for r in history_requests(device)] == [LOW_RES] + [HIGH_RES] * 30
    outage_day = datetime.fromtimestamp(before[-1]["start"] + 3600, BERLIN).date()
    for statistic_id, index in ((IMPORT_ID, 0), (EXPORT_ID, 1)):
        found = await rows(hass, statistic_id)
        assert found[: len(before)] == kept[statistic_id]
        daily = [
            r
            for r in found
            if before[-1]["start"] < r["start"] < midnight(first_high_res)
        ]
        # One row per whole day after the day the outage began, at midnight.
        days = (first_high_res - outage_day).days - 1
        assert [int(r["start"]) for r in daily] == [
            midnight(outage_day + timedelta(days=n)) for n in range(1, days + 1)
        ]
        for row in daily:
            day_end = int(row["start"]) + 86_400 + 7200  # the next local midnight
            day_end = midnight(datetime.fromtimestamp(day_end, BERLIN).date())
            assert wh(row["state"]) == reading(device, day_end, index)
        # The sums follow the meter reading across all three kinds of rows.
        assert len({wh(r["state"]) - wh(r["sum"]) for r in found}) == 1
        assert_rows_match_device(
            device, [r for r in found if r["start"] >= midnight(first_high_res)], index
        )


async def test_options_flow_turns_daily_values_on(
    hass: HomeAssistant, device: Simulator
) -> None:
    """The options flow stores the opt-in beside the meter interval."""
    entry = await setup_via_flow(hass, device)
    hass.config_entries.async_update_entry(entry, options={"unknown": 1})
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 30, CONF_DAILY_HISTORY: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        "unknown": 1,
        "scan_interval": 30,
        CONF_DAILY_HISTORY: True,
    }
    assert entry.runtime_data.history.daily_history is True
    assert entry.state is ConfigEntryState.LOADED


async def test_failed_backfill_is_logged_once_and_retried(
    hass: HomeAssistant, device: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing device ends the run; the next hour picks up where it stopped."""
    device.set_fault(FaultMode.HTTP_500, paths=[HIGH_RES])
    await setup_via_flow(hass, device)
    await settle(hass)
    assert await rows(hass, IMPORT_ID) == []
    assert caplog.text.count("Reading the history of the WattWächter") == 1

    await advance(hass, 3600)
    await settle(hass)
    assert caplog.text.count("Reading the history of the WattWächter") == 1

    device.clear_faults()
    await advance(hass, 3600)
    await settle(hass)
    assert "works again" in caplog.text
    assert_rows_match_device(device, await rows(hass, IMPORT_ID), 0)


async def test_device_busy_is_retried(
    hass: HomeAssistant, device: Simulator, time_travel: VirtualTime
) -> None:
    """A 503 makes the backfill wait the Retry-After, then it goes on."""
    device.set_fault(FaultMode.BUSY_503, paths=[HIGH_RES])
    await setup_via_flow(hass, device)
    await wait_for_request(device, HIGH_RES)
    device.clear_faults()
    await fast_forward(time_travel, lambda: len(history_requests(device)) > 1)
    await settle(hass)
    statuses = [r.status for r in device.request_log if r.path == HIGH_RES]
    assert statuses[0] == 503
    assert statuses[1:] == [200] * 30
    assert_rows_match_device(device, await rows(hass, IMPORT_ID), 0)


async def test_device_busy_too_long_ends_the_run(
    hass: HomeAssistant,
    device: Simulator,
    time_travel: VirtualTime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After three refusals the run stops and tries again an hour later."""
    device.set_fault(FaultMode.BUSY_503, paths=[HIGH_RES])
    await setup_via_flow(hass, device)
    # The Retry-After of 5 s passes twice.
    await fast_forward(time_travel, lambda: len(history_requests(device)) == 3)
    await settle(hass)
    assert [r.status for r in device.request_log if r.path == HIGH_RES] == [503] * 3
    assert "device busy" in caplog.text


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(rate_limit=100_000, history_days=3)]
)
async def test_days_without_history_are_skipped(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A device younger than 30 days answers 400 for older days; they are skipped."""
    await setup_via_flow(hass, device)
    await settle(hass)
    statuses = [r.status for r in device.request_log if r.path == HIGH_RES]
    assert statuses == [400] * 27 + [200] * 3
    found = await rows(hass, IMPORT_ID)
    assert int(found[0]["start"]) == midnight(berlin_today(device) - timedelta(days=2))
    assert_rows_match_device(device, found, 0)


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(rate_limit=100_000, medium="gas")]
)
async def test_gas_device_has_no_energy_backfill(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A gas/water device has no kWh history; nothing is read or imported."""
    await setup_via_flow(hass, device)
    await settle(hass)
    assert history_requests(device) == []
    assert await rows(hass, IMPORT_ID) == []


async def test_unload_cancels_a_running_backfill(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Unloading the entry stops the backfill in the middle."""
    device.configure(history_delay=0.2)
    entry = await setup_via_flow(hass, device)
    await wait_for_request(device, HIGH_RES, 2)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len([r for r in device.request_log if r.path == HIGH_RES]) < 30


async def test_hourly_tick_during_a_run_starts_no_second_one(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A tick of the hourly timer while a backfill runs does not start another."""
    device.configure(history_delay=0.05)
    entry = await setup_via_flow(hass, device)
    await wait_for_request(device, HIGH_RES)
    entry.runtime_data.history.async_schedule_backfill()  # what the timer calls
    await settle(hass)
    days = [r.query for r in history_requests(device)]
    assert len(days) == len(set(days)) == 30


async def test_statistic_names_follow_language_and_title(
    hass: HomeAssistant, device: Simulator
) -> None:
    """The names come from the translations and the entry's title."""
    hass.config.language = "de"
    entry = await setup_via_flow(hass, device)
    await settle(hass)
    assert (await metadata(hass, IMPORT_ID))["name"] == (
        "WattWaechter Energie Bezug (Geräteverlauf)"
    )
    before = await rows(hass, EXPORT_ID)
    hass.config_entries.async_update_entry(entry, title="Keller")
    await advance(hass, 3600)
    await settle(hass)
    after = await rows(hass, EXPORT_ID)
    assert len(after) == len(before) + 1, (after[-1], device.request_log[-5:])
    assert (await metadata(hass, EXPORT_ID))["name"] == (
        "Keller Energie Einspeisung (Geräteverlauf)"
    )


async def test_waits_for_home_assistant_to_start(
    hass: HomeAssistant, device: Simulator
) -> None:
    """During Home Assistant's start the import waits until it has started."""
    hass.set_state(CoreState.starting)
    await setup_via_flow(hass, device)
    await settle(hass)
    assert history_requests(device) == []
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await settle(hass)
    assert len(history_requests(device)) == 30
