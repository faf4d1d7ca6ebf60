"""A simulated hour with everything on: polling, the import and the user's actions.

The user switches the status LED off and on three times, restarts the device,
installs a firmware update, and sends a burst (the LED toggled twice and the
update entity refreshed, all at once). The history import runs by itself,
a minute after setup. Actions run beside the clock, as for a user: a firmware
update takes minutes of (virtual) time.
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

from tests.integration.beside import running, step

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
    """Controls the integration does not offer for this device."""


def control_entities(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, list[str]]:
    """Return the entry's enabled entity IDs per control domain."""
    found: dict[str, list[str]] = {domain: [] for domain in CONTROL_DOMAINS}
    for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        if item.domain in found and not item.disabled:
            found[item.domain].append(item.entity_id)
    return found


async def call(
    hass: HomeAssistant, report: WorkloadReport, domain: str, service: str, target: str
) -> None:
    """Call one service like a user would, and note how it went."""
    name = f"{domain}.{service}"
    try:
        await hass.services.async_call(
            domain, service, {"entity_id": target}, blocking=True
        )
    except HomeAssistantError as err:
        report.refused.setdefault(name, []).append(str(err))
    else:
        report.actions[name] = report.actions.get(name, 0) + 1


def schedule(
    hass: HomeAssistant, entry: ConfigEntry, report: WorkloadReport
) -> dict[int, list[tuple[str, str, str]]]:
    """Return the actions per second of the hour: (domain, service, entity)."""
    entities = control_entities(hass, entry)
    plan: dict[int, list[tuple[str, str, str]]] = {}

    def at(second: int, *calls: tuple[str, str, str]) -> None:
        plan.setdefault(second, []).extend(calls)

    for domain, absent in (
        ("switch", "switch (LED)"),
        ("button", "button (restart)"),
        ("update", "update (firmware)"),
    ):
        if not entities[domain]:
            report.absent.append(absent)
    for second in (300, 1500, 2700):
        for target in entities["switch"]:
            at(second, ("switch", "turn_off", target))
            at(second + 60, ("switch", "turn_on", target))
    for target in entities["button"]:
        at(600, ("button", "press", target))
    for target in entities["update"]:
        at(1200, ("update", "install", target))
    for _ in range(2):
        for target in entities["switch"]:
            at(2000, ("switch", "toggle", target))
    for target in entities["update"]:
        at(2000, ("homeassistant", "update_entity", target))
    return plan


async def run_hour(
    hass: HomeAssistant, entry: ConfigEntry, *, seconds: int = HOUR
) -> WorkloadReport:
    """Advance ``seconds`` of virtual time in STEP-second steps, acting on the way."""
    await async_setup_component(hass, "homeassistant", {})
    report = WorkloadReport()
    plan = schedule(hass, entry, report)
    calls: set[asyncio.Task[Any]] = set()
    beside: set[asyncio.Task[Any]] = set()
    elapsed = 0
    while elapsed < seconds or (calls and elapsed < seconds + 900):
        await step(hass, STEP, beside)
        elapsed += int(STEP)
        for second in sorted(s for s in plan if s <= elapsed):
            for domain, service, target in plan.pop(second):
                known = running(hass)
                task = hass.loop.create_task(
                    call(hass, report, domain, service, target)
                )
                calls.add(task)
                for _ in range(3):
                    await asyncio.sleep(0)
                # The call and the tasks Home Assistant started for it (an
                # install waits minutes for the device in a task of its own).
                beside |= {task} | (running(hass) - known)
        await step(hass, 0, beside)
        calls = {task for task in calls if not task.done()}
        beside = {task for task in beside if not task.done()}
    assert not calls, "an action did not finish within 15 minutes"
    return report
