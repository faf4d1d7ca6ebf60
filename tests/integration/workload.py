"""A simulated hour with every feature on: polling plus the user's actions.

Shared by the budget tests and ``scripts/bench``. It drives whatever control
entities the integration has (switches, buttons, the update entity) through
Home Assistant's services and reports the ones that do not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er

from simulator import RequestLogEntry, Simulator

from .helpers import advance

HOUR = 3600
STEP = 5.0
CONTROL_DOMAINS = ("switch", "button", "update")


@dataclass
class WorkloadReport:
    """What the hour did besides polling."""

    actions: dict[str, int] = field(default_factory=dict)
    """Service calls per ``domain.service`` that succeeded."""
    refused: dict[str, int] = field(default_factory=dict)
    """Service calls that raised (budget fail-fast, device busy, ...)."""
    absent: list[str] = field(default_factory=list)
    """Features the integration does not have (yet)."""
    action_requests: list[RequestLogEntry] = field(default_factory=list)
    """Requests sent while a service call ran."""

    @property
    def action_times(self) -> set[float]:
        """Return the log times of the actions' requests."""
        return {r.time for r in self.action_requests}


def control_entities(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, list[str]]:
    """Return the entry's enabled entity IDs per control domain."""
    found: dict[str, list[str]] = {domain: [] for domain in CONTROL_DOMAINS}
    for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        if item.domain in found and not item.disabled:
            found[item.domain].append(item.entity_id)
    return found


async def call(
    hass: HomeAssistant,
    sim: Simulator,
    report: WorkloadReport,
    domain: str,
    service: str,
    entity_id: str,
) -> None:
    """Call one service like a user would, and note what it sent."""
    name = f"{domain}.{service}"
    before = len(sim.request_log)
    try:
        await hass.services.async_call(
            domain, service, {"entity_id": entity_id}, blocking=True
        )
    except HomeAssistantError:
        report.refused[name] = report.refused.get(name, 0) + 1
    else:
        report.actions[name] = report.actions.get(name, 0) + 1
    report.action_requests.extend(sim.request_log[before:])


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
    report.absent.append("history backfill")
    return plan


async def run_hour(
    hass: HomeAssistant,
    entry: ConfigEntry,
    sim: Simulator,
    *,
    seconds: int = HOUR,
    on_step: Callable[[int], None] | None = None,
) -> WorkloadReport:
    """Advance ``seconds`` of virtual time in STEP-second steps, acting on the way."""
    report = WorkloadReport()
    plan = schedule(hass, entry, report)
    elapsed = 0.0
    while elapsed < seconds:
        await advance(hass, STEP)
        elapsed += STEP
        due = [s for s in plan if s <= elapsed]
        for second in sorted(due):
            for domain, service, entity_id in plan.pop(second):
                await call(hass, sim, report, domain, service, entity_id)
        if on_step is not None:
            on_step(int(elapsed))
    return report
