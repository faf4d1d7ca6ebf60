"""``scripts/bench``: what the integration costs the device and Home Assistant.

Not part of the test run (``testpaths`` is ``tests``): ``scripts/bench hour``
or ``fleet`` runs one of these. Time is virtual (see tests/integration/
timetravel.py and beside.py): a simulated hour takes seconds.

* hour: one device, everything on: polling, the 30-day history import, LED
  switches, a restart, a firmware update, a burst of actions;
* fleet: twenty devices in one Home Assistant for ten minutes.
"""

from __future__ import annotations

from copy import deepcopy
from datetime import timedelta
import time
from typing import Any
from unittest.mock import patch

from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.const import CONF_DEVICE_ID, CONF_HOST, CONF_MAC, CONF_MODEL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.wattwaechter.const import CONF_FW_VERSION, DOMAIN
from custom_components.wattwaechter.importer import HistoryImporter
from simulator import Simulator
from tests.integration.beside import OVERHEAD, run_for, track
from tests.integration.timetravel import VirtualTime
from tests.integration.traffic import LATEST, summarize

from .support import SimulatorThread, endpoint_table, table
from .workload import HOUR, run_hour

FLEET = 20
FLEET_MINUTES = 10
POLLING = {
    "GET /history/latest",
    "GET /system/info",
    "GET /settings",
    "GET /system/led",
    "GET /ota/check",
}
IMPORT = {"GET /history/highRes", "GET /history/lowRes"}

pytestmark = pytest.mark.usefixtures(
    "socket_enabled", "entity_registry_enabled_by_default"
)


def _print(capsys: pytest.CaptureFixture[str], text: str) -> None:
    with capsys.disabled():
        print(text, flush=True)


async def add_via_flow(hass: HomeAssistant, sim: Simulator) -> ConfigEntry:
    """Add the device as a user does (the flow's probe counts as setup)."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: f"127.0.0.1:{sim.port}"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry = hass.config_entries.async_get_entry(result["result"].entry_id)
    assert entry is not None
    return entry


async def imported_rows(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, int]:
    """Return the hourly rows the import wrote, per statistic."""
    await async_wait_recording_done(hass)
    ids = entry.runtime_data.history.statistic_ids
    rows: dict[str, list[Any]] = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        dt_util.utcnow() - timedelta(days=40),
        None,
        set(ids.values()),
        "hour",
        None,
        {"sum"},
    )
    return {kind: len(rows.get(statistic, [])) for kind, statistic in ids.items()}


def share(part: int, whole: int) -> str:
    """Return ``part / whole`` with three decimals."""
    return f"{part / max(whole, 1):.3f}"


async def test_hour(
    recorder_mock: Any,
    hass: HomeAssistant,
    time_travel: VirtualTime,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One device, everything on, one simulated hour."""
    sims = SimulatorThread()
    try:
        [sim] = sims.start(1, time_travel.clock)
        cpu, wall = time.thread_time(), time.perf_counter()
        entry = await add_via_flow(hass, sim)
        setup_cpu, setup_wall = time.thread_time() - cpu, time.perf_counter() - wall
        setup = summarize(list(sim.request_log))
        first = setup.requests
        track(hass, entry)
        budget = entry.runtime_data.client.budget

        cpu, wall, stepping = time.thread_time(), time.perf_counter(), OVERHEAD[0]
        report = await run_hour(hass, entry)
        hour_cpu, hour_wall = time.thread_time() - cpu, time.perf_counter() - wall
        stepping = OVERHEAD[0] - stepping
        hour_cpu -= stepping
        log, stats = list(sim.request_log), deepcopy(budget.stats)
        rows = await imported_rows(hass, entry)
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        sims.stop()

    everything = summarize(log)
    hour = summarize(log[first:])
    updates = max(hour.meter_updates, 1)
    polling = sum(n for name, n in hour.by_endpoint.items() if name in POLLING)
    imports = sum(n for name, n in hour.by_endpoint.items() if name in IMPORT)
    actions = hour.requests - polling - imports
    waits = ", ".join(f"{k} {v:.2f} s" for k, v in sorted(stats.longest_wait.items()))
    rows_text = ", ".join(f"{kind} {count}" for kind, count in sorted(rows.items()))
    lines: list[tuple[str, object]] = [
        (
            "LONGEST WAIT OF A USER ACTION",
            f"{stats.longest_wait.get('action', 0.0):.2f} s",
        ),
        (
            "setup requests",
            f"{setup.requests} (flow and setup: {', '.join(setup.by_endpoint)})",
        ),
        (
            "setup time",
            f"{setup_wall * 1000:.0f} ms wall, {setup_cpu * 1000:.0f} ms CPU",
        ),
        ("requests in the hour", hour.requests),
        ("meter updates", hour.meter_updates),
        ("requests per meter update", f"{share(hour.requests, updates)} (all traffic)"),
        (
            "  polling only",
            f"{share(polling, updates)} (without {imports} import and {actions} "
            "action requests)",
        ),
        (
            "peak in any 10 s",
            f"{everything.peak} handled / {everything.attempts_peak} attempted "
            f"(our own work {everything.own_peak}; caps: own 10, all 20, device 25)",
        ),
        ("429 / 503", f"{everything.status_429} / {everything.status_503}"),
        (
            "CPU per update cycle",
            f"{hour_cpu / updates * 1000:.2f} ms ({hour_cpu:.2f} s CPU of Home "
            f"Assistant's thread for the hour, import included, the recorder's "
            f"thread not; the stepping's own {stepping:.2f} s left out; "
            f"{hour_wall:.1f} s wall)",
        ),
        ("history import", f"{imports} requests; hourly rows: {rows_text}"),
        ("actions done", report.actions or "none"),
        (
            "actions refused",
            "; ".join(f"{k}: {' | '.join(v)}" for k, v in report.refused.items())
            or "none",
        ),
        ("absent controls", ", ".join(report.absent) or "none"),
        (
            "budget",
            f"granted {dict(sorted(stats.granted.items()))}, refused "
            f"{dict(sorted(stats.refused.items())) or 0}, pauses {stats.pauses}, "
            f"peak {stats.peak}",
        ),
        ("  longest waits", waits),
    ]
    _print(
        capsys,
        "\n== One device, everything on, one simulated hour ==\n"
        + table(lines)
        + "\n  requests per hour by endpoint:\n"
        + endpoint_table(hour, HOUR / 3600),
    )


async def test_fleet(
    recorder_mock: Any,
    hass: HomeAssistant,
    time_travel: VirtualTime,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Twenty devices in one Home Assistant: setup time and CPU per minute.

    With the recorder, as in a usual installation; the history imports stay off
    to measure steady polling.
    """
    sims = SimulatorThread()
    no_import = patch.object(HistoryImporter, "async_start")
    no_import.start()
    try:
        devices = sims.start(FLEET, time_travel.clock)
        for sim in devices:
            config = sim.config
            MockConfigEntry(
                domain=DOMAIN,
                title=f"WattWächter {config.device_id[-4:]}",
                unique_id=config.device_id,
                version=1,
                minor_version=3,
                data={
                    CONF_HOST: f"127.0.0.1:{sim.port}",
                    CONF_DEVICE_ID: config.device_id,
                    CONF_MAC: config.mac,
                    CONF_MODEL: config.effective_model_id,
                    CONF_FW_VERSION: config.firmware,
                },
            ).add_to_hass(hass)
        # As at Home Assistant's start: every entry of the domain at once.
        cpu, wall = time.thread_time(), time.perf_counter()
        assert await async_setup_component(hass, DOMAIN, {})
        await hass.async_block_till_done()
        setup_cpu, setup_wall = time.thread_time() - cpu, time.perf_counter() - wall
        entries = hass.config_entries.async_entries(DOMAIN)
        loaded = [entry for entry in entries if hasattr(entry, "runtime_data")]
        setup_requests = sum(len(sim.request_log) for sim in devices)
        firsts = [len(sim.request_log) for sim in devices]
        for entry in loaded:
            track(hass, entry)

        cpu, wall, stepping = time.thread_time(), time.perf_counter(), OVERHEAD[0]
        await run_for(hass, FLEET_MINUTES * 60, every=5)
        run_cpu, run_wall = time.thread_time() - cpu, time.perf_counter() - wall
        stepping = OVERHEAD[0] - stepping
        run_cpu -= stepping
        per_device = [
            summarize(list(sim.request_log)[first:])
            for sim, first in zip(devices, firsts, strict=True)
        ]
        longest = max(
            (e.runtime_data.client.budget.stats.longest_wait for e in loaded),
            key=lambda waits: waits.get("meter", 0.0),
        )
        for entry in loaded:
            assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        no_import.stop()
        sims.stop()

    updates = sum(t.meter_updates for t in per_device)
    requests = sum(t.requests for t in per_device)
    lines: list[tuple[str, object]] = [
        ("devices loaded", f"{len(loaded)} of {FLEET}"),
        ("total setup time", f"{setup_wall:.2f} s wall, {setup_cpu:.2f} s CPU"),
        (
            "setup requests",
            f"{setup_requests} ({setup_requests / FLEET:.1f} per device)",
        ),
        (
            "CPU per minute",
            f"{run_cpu / FLEET_MINUTES * 1000:.0f} ms "
            f"({run_cpu / FLEET_MINUTES / 60 * 100:.2f} % of one core; "
            f"{FLEET_MINUTES} simulated minutes in {run_wall:.1f} s wall; the "
            f"stepping's own {stepping:.2f} s left out)",
        ),
        ("CPU per meter update", f"{run_cpu / max(updates, 1) * 1000:.2f} ms"),
        ("meter updates", f"{updates} ({updates / FLEET:.0f} per device)"),
        ("requests per meter update", share(requests, updates)),
        ("worst peak in any 10 s", max(t.peak for t in per_device)),
        (
            "429 / 503",
            f"{sum(t.status_429 for t in per_device)} / "
            f"{sum(t.status_503 for t in per_device)}",
        ),
        ("longest meter wait", f"{longest.get('meter', 0.0):.3f} s"),
    ]
    polls = [r for sim in devices for r in sim.request_log if r.path == LATEST]
    assert polls
    _print(capsys, f"\n== {FLEET} devices in one Home Assistant ==\n" + table(lines))
