"""``scripts/bench``: what the integration costs the device and Home Assistant.

Skipped in the normal test run; ``scripts/bench`` sets WATTWAECHTER_BENCH to
``hour``, ``fleet`` or ``all``. Time is virtual (see timetravel.py): a simulated
hour takes seconds. The simulators run in their own thread, so the CPU times
are Home Assistant's thread only: the integration plus the core work it causes
(state writes, timers), without the simulated devices.
"""

from __future__ import annotations

from datetime import timedelta
import os
import time

from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import DOMAIN, HIGH_RES_DAYS

from .bench_support import SimulatorThread, endpoint_table, table
from .conftest import setup_via_flow
from .helpers import advance
from .timetravel import VirtualTime
from .traffic import summarize
from .workload import HOUR, run_hour

MODE = os.environ.get("WATTWAECHTER_BENCH", "")
FLEET = 20
FLEET_MINUTES = 10

pytestmark = [
    pytest.mark.usefixtures("socket_enabled", "entity_registry_enabled_by_default"),
]


async def imported_hours(hass: HomeAssistant, entry: ConfigEntry) -> int:
    """Return the hours the backfill wrote into the energy import statistic."""
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
    return len(rows.get(statistic_id, []))


def _print(capsys: pytest.CaptureFixture[str], text: str) -> None:
    with capsys.disabled():
        print(text, flush=True)


@pytest.mark.skipif(MODE not in ("hour", "all"), reason="run by scripts/bench")
# The history backfill runs as after a real setup: 30 days, then hourly.
@pytest.mark.parametrize("automatic_backfill", [True])
async def test_bench_one_device_for_an_hour(
    hass: HomeAssistant, time_travel: VirtualTime, capsys: pytest.CaptureFixture[str]
) -> None:
    """One device, every feature on, one simulated hour."""
    sims = SimulatorThread()
    try:
        [sim] = sims.start(1, time_travel.clock)
        cpu, wall = time.thread_time(), time.perf_counter()
        entry = await setup_via_flow(hass, sim)
        setup_cpu, setup_wall = time.thread_time() - cpu, time.perf_counter() - wall
        setup = summarize(sim.request_log)
        first = len(sim.request_log)

        cpu, wall = time.thread_time(), time.perf_counter()
        report = await run_hour(hass, entry, sim)
        hour_cpu, hour_wall = time.thread_time() - cpu, time.perf_counter() - wall
        everything = summarize(sim.request_log)
        traffic = summarize(sim.request_log[first:])
        backfill_hours = await imported_hours(hass, entry)
        budget = entry.runtime_data.client.gate
        stats = budget.stats if budget is not None else None
    finally:
        sims.stop()

    updates = max(traffic.meter_updates, 1)
    polling = traffic.requests - report.reactive_requests - report.backfill_requests
    rows: list[tuple[str, object]] = [
        ("setup requests", f"{setup.requests}  ({', '.join(setup.by_endpoint)})"),
        (
            "setup time",
            f"{setup_wall * 1000:.0f} ms wall, {setup_cpu * 1000:.0f} ms CPU",
        ),
        ("requests in the hour", traffic.requests),
        ("meter updates", traffic.meter_updates),
        ("requests per meter update", f"{traffic.per_meter_update:.3f} (all traffic)"),
        (
            "  polling only",
            f"{polling / updates:.3f} (without {report.backfill_requests} backfill, "
            f"{report.action_requests} action and {report.restart_requests} "
            "restart re-read requests)",
        ),
        (
            "peak in any 10 s",
            f"{everything.peak} handled by the device, "
            f"{everything.attempts_peak} with dropped attempts "
            "(setup included; budget 10, device 25)",
        ),
        ("429 / 503", f"{everything.status_429} / {everything.status_503}"),
        (
            "CPU per update cycle",
            f"{hour_cpu / updates * 1000:.2f} ms "
            f"({hour_cpu:.2f} s per simulated hour, {hour_wall:.1f} s wall; "
            "backfill included)",
        ),
        (
            "history backfill",
            f"{report.backfill_requests} requests, {backfill_hours} hours "
            "imported per statistic",
        ),
        ("actions done", report.actions or "none"),
        (
            "actions refused",
            "; ".join(f"{k}: {', '.join(v)}" for k, v in report.refused.items())
            or "none",
        ),
        ("absent features", ", ".join(report.absent) or "none"),
    ]
    if stats is not None:
        rows.append(
            (
                "budget",
                f"peak {stats.peak}, waited {stats.waited}, pauses {stats.pauses}, "
                f"refused {sum(stats.rejected.values())}; granted by cause "
                f"{dict(sorted(stats.by_cause.items()))}",
            )
        )
    _print(
        capsys,
        "\n== One device, everything on, one simulated hour ==\n"
        + table(rows)
        + "\n  requests per hour by endpoint:\n"
        + endpoint_table(traffic, HOUR / 3600),
    )


@pytest.mark.skipif(MODE not in ("fleet", "all"), reason="run by scripts/bench")
async def test_bench_twenty_devices(
    hass: HomeAssistant, time_travel: VirtualTime, capsys: pytest.CaptureFixture[str]
) -> None:
    """Twenty devices in one Home Assistant: setup time and CPU per minute."""
    sims = SimulatorThread()
    try:
        devices = sims.start(FLEET, time_travel.clock)
        for sim in devices:
            MockConfigEntry(
                domain=DOMAIN,
                title=f"WattWächter {sim.config.device_id[-4:]}",
                unique_id=sim.config.device_id,
                data={
                    CONF_HOST: f"127.0.0.1:{sim.port}",
                    CONF_TOKEN: None,
                    "device_id": sim.config.device_id,
                },
                version=1,
                minor_version=3,
            ).add_to_hass(hass)
        # As at Home Assistant's start: every entry of the domain at once.
        cpu, wall = time.thread_time(), time.perf_counter()
        assert await async_setup_component(hass, DOMAIN, {})
        await hass.async_block_till_done()
        setup_cpu, setup_wall = time.thread_time() - cpu, time.perf_counter() - wall
        loaded = len(hass.config_entries.async_loaded_entries(DOMAIN))
        setup_requests = sum(len(sim.request_log) for sim in devices)
        for sim in devices:
            sim.clear_log()

        cpu, wall = time.thread_time(), time.perf_counter()
        for _ in range(FLEET_MINUTES * 12):
            await advance(hass, 5)
        run_cpu, run_wall = time.thread_time() - cpu, time.perf_counter() - wall
        per_device = [summarize(sim.request_log) for sim in devices]
    finally:
        sims.stop()

    updates = sum(t.meter_updates for t in per_device)
    requests = sum(t.requests for t in per_device)
    rows: list[tuple[str, object]] = [
        ("devices loaded", f"{loaded} of {FLEET}"),
        ("total setup time", f"{setup_wall:.2f} s wall, {setup_cpu:.2f} s CPU"),
        (
            "setup requests",
            f"{setup_requests} ({setup_requests / FLEET:.1f} per device)",
        ),
        (
            "CPU per minute",
            f"{run_cpu / FLEET_MINUTES * 1000:.0f} ms "
            f"({run_cpu / FLEET_MINUTES / 60 * 100:.2f} % of one core; "
            f"{FLEET_MINUTES} simulated minutes in {run_wall:.1f} s wall)",
        ),
        ("CPU per meter update", f"{run_cpu / max(updates, 1) * 1000:.2f} ms"),
        ("requests per meter update", f"{requests / max(updates, 1):.3f}"),
        ("worst peak in any 10 s", max(t.peak for t in per_device)),
        (
            "429 / 503",
            f"{sum(t.status_429 for t in per_device)} / "
            f"{sum(t.status_503 for t in per_device)}",
        ),
    ]
    _print(
        capsys,
        f"\n== {FLEET} devices in one Home Assistant ==\n" + table(rows),
    )
