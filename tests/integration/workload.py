"""A simulated hour with every feature on: polling, backfill and the user's actions.

Shared by the budget tests and ``scripts/bench``. It drives whatever control
entities the integration has (switches, buttons, the update entity) through
Home Assistant's services and reports the ones that do not exist. The history
backfill runs by itself from setup on (the caller lets it start).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.wattwaechter.api import (
    CAUSE_ACTION,
    CAUSE_BACKFILL,
    CAUSE_RESTART,
)
from custom_components.wattwaechter.const import DOMAIN
from simulator import Simulator

from .timetravel import TIME_TRAVEL_KEY, VirtualTime

HOUR = 3600
STEP = 5.0
CONTROL_DOMAINS = ("switch", "button", "update")


@dataclass
class WorkloadReport:
    """What the hour did besides polling."""

    actions: dict[str, int] = field(default_factory=dict)
    """Service calls per ``domain.service`` that succeeded."""
    refused: dict[str, list[str]] = field(default_factory=dict)
    """Service calls that raised (budget fail-fast, device busy, ...): why."""
    absent: list[str] = field(default_factory=list)
    """Features the integration does not have (yet)."""
    action_requests: int = 0
    """Requests the budget granted for user actions during the run."""
    restart_requests: int = 0
    """Requests the budget granted to re-read everything after a restart."""
    backfill_requests: int = 0
    """Requests the budget granted to the history backfill during the run."""

    @property
    def reactive_requests(self) -> int:
        """Return the requests for actions and the restarts they caused."""
        return self.action_requests + self.restart_requests


def control_entities(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, list[str]]:
    """Return the entry's enabled entity IDs per control domain."""
    found: dict[str, list[str]] = {domain: [] for domain in CONTROL_DOMAINS}
    for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        if item.domain in found and not item.disabled:
            found[item.domain].append(item.entity_id)
    return found


async def call(
    hass: HomeAssistant,
    report: WorkloadReport,
    domain: str,
    service: str,
    entity_id: str,
) -> None:
    """Call one service like a user would, and note how it went."""
    name = f"{domain}.{service}"
    try:
        await hass.services.async_call(
            domain, service, {"entity_id": entity_id}, blocking=True
        )
    except HomeAssistantError as err:
        report.refused.setdefault(name, []).append(str(err))
    else:
        report.actions[name] = report.actions.get(name, 0) + 1


def _pending(hass: HomeAssistant) -> set[asyncio.Task[Any]]:
    """Return Home Assistant's unfinished tasks."""
    tasks = set(hass._tasks) | set(hass._background_tasks)
    return {task for task in tasks if not task.done()}


def _backfills(hass: HomeAssistant) -> set[asyncio.Task[Any]]:
    """Return the running history backfills: they pace themselves in loop time."""
    return {
        task
        for task in _pending(hass)
        if task.get_name().startswith(f"{DOMAIN} history backfill")
    }


async def _advance_beside(
    hass: HomeAssistant, seconds: float, actions: set[asyncio.Task[Any]]
) -> None:
    """Move virtual time and settle everything except the running ``actions``.

    A firmware update runs for minutes of virtual time; waiting for it like
    ``hass.async_block_till_done`` does would wait that long in real time.
    """
    time_travel: VirtualTime = hass.data[TIME_TRAVEL_KEY]
    time_travel.tick(seconds)
    async_fire_time_changed(hass)
    await _settle(hass, actions)
    if not actions:
        return
    # The actions may wait for an answer from the device: give them real time
    # until they send nothing new (a request answers in a few milliseconds).
    budgets = [
        entry.runtime_data.client.gate.stats
        for entry in hass.config_entries.async_loaded_entries(DOMAIN)
    ]
    for _ in range(100):
        granted = sum(sum(stats.granted.values()) for stats in budgets)
        await asyncio.wait(actions, timeout=0.02)
        await _settle(hass, actions)
        if sum(sum(stats.granted.values()) for stats in budgets) == granted:
            return


async def _settle(hass: HomeAssistant, actions: set[asyncio.Task[Any]]) -> None:
    """Wait for Home Assistant's tasks, except the running actions."""
    for _ in range(1000):
        await asyncio.sleep(0)
        pending = _pending(hass) - actions
        if not pending:
            return
        await asyncio.wait(pending)
    raise AssertionError("Home Assistant did not settle")


def schedule(
    hass: HomeAssistant, entry: ConfigEntry, report: WorkloadReport
) -> dict[int, list[tuple[str, str, str]]]:
    """Return the actions per second of the hour: (domain, service, entity)."""
    entities = control_entities(hass, entry)
    plan: dict[int, list[tuple[str, str, str]]] = {}
    if entities["switch"]:
        for second in (300, 1500, 2700):
            for entity_id in entities["switch"]:
                plan.setdefault(second, []).append(("switch", "turn_off", entity_id))
                plan.setdefault(second + 60, []).append(
                    ("switch", "turn_on", entity_id)
                )
    else:
        report.absent.append("switch (LED)")
    if entities["button"]:
        for entity_id in entities["button"]:
            plan.setdefault(600, []).append(("button", "press", entity_id))
    else:
        report.absent.append("button (reboot)")
    if entities["update"]:
        for entity_id in entities["update"]:
            plan.setdefault(1200, []).append(("update", "install", entity_id))
    else:
        report.absent.append("update (OTA)")
    # A burst: every control at once, twice within a second.
    burst = [
        (domain, service, entity_id)
        for domain, service in (("switch", "toggle"), ("switch", "toggle"))
        for entity_id in entities["switch"]
    ]
    burst += [
        ("homeassistant", "update_entity", entity_id)
        for entity_id in entities["update"]
    ]
    if burst:
        plan.setdefault(2000, []).extend(burst)
    return plan


async def run_hour(
    hass: HomeAssistant,
    entry: ConfigEntry,
    sim: Simulator,
    *,
    seconds: int = HOUR,
) -> WorkloadReport:
    """Advance ``seconds`` of virtual time in STEP-second steps, acting on the way.

    Actions run beside the polling, as they would for a user: a firmware
    update, for instance, takes minutes of (virtual) time.
    """
    await async_setup_component(hass, "homeassistant", {})
    report = WorkloadReport()
    plan = schedule(hass, entry, report)
    causes = entry.runtime_data.client.gate.stats.by_cause
    before = dict(causes)
    calls: list[asyncio.Task[None]] = []
    actions: set[asyncio.Task[Any]] = set()
    elapsed = 0.0
    while elapsed < seconds or (calls and elapsed < seconds + 900):
        # Long-running work goes on beside the clock: the user's actions and
        # the backfill (waiting for either would wait in real time).
        await _advance_beside(hass, STEP, actions | _backfills(hass))
        elapsed += STEP
        for second in sorted(s for s in plan if s <= elapsed):
            for domain, service, entity_id in plan.pop(second):
                known = _pending(hass)
                calls.append(
                    asyncio.get_running_loop().create_task(
                        call(hass, report, domain, service, entity_id)
                    )
                )
                await asyncio.sleep(0)
                # The tasks Home Assistant started for this service call.
                actions |= _pending(hass) - known
        calls = [task for task in calls if not task.done()]
        actions = {task for task in actions if not task.done()}
    assert not calls, "an action did not finish within 15 minutes"
    await hass.async_block_till_done()

    def grown(cause: str) -> int:
        return causes.get(cause, 0) - before.get(cause, 0)

    report.action_requests = grown(CAUSE_ACTION)
    report.restart_requests = grown(CAUSE_RESTART)
    report.backfill_requests = grown(CAUSE_BACKFILL)
    return report
