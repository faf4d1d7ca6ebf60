"""The fault matrix: every fault the simulator can inject, as a user sees it.

Each case sets the fault, holds it for a few updates, clears it. The entities
show it within one meter update (a frozen reading within the updates it
takes to tell it from a quiet meter), nothing logs a traceback, a fault that
makes the device unreachable logs one line when the entities go and one when
they are back (Home Assistant's coordinator), and everything is back within
one update after the fault ends.

With ``WATTWAECHTER_FAULT_TABLE=<file>`` each case appends its measurements as
one JSON line; ``scripts/fault_table`` runs the matrix and prints the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
import json
import logging
import os
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.wattwaechter.const import DOMAIN, STALE_UPDATES
from simulator import FaultMode, Simulator

from .beside import step
from .entities import assert_no_traceback
from .traffic import LATEST

OURS = "custom_components.wattwaechter"
INTERVAL = 10.0
HOLD_UPDATES = 3
"""Updates the fault stays after it showed: a long fault still logs once."""
ENERGY = ("1.8.0", "2.8.0")
POWER = ("16.7.0", "32.7.0", "31.7.0")
METER = (*ENERGY, *POWER, "14.7.0")


@dataclass(frozen=True)
class Case:
    """One fault mode and what it does to the entities."""

    fault: FaultMode
    effect: str
    """unavailable, stale, unknown, held (last good value), none, new."""
    keys: tuple[str, ...] = METER
    paths: tuple[str, ...] | None = None
    lines: int = 1
    """WARNING/ERROR lines of our loggers for the whole fault."""
    updates: int = 1
    """Meter updates until the entities show the fault."""

    @property
    def recovers(self) -> int:
        """Return the INFO lines expected when the fault ends."""
        return 1 if self.effect == "unavailable" else 0


CASES = [
    Case(FaultMode.TIMEOUT, "unavailable"),
    Case(FaultMode.RESET, "unavailable"),
    Case(FaultMode.MALFORMED_JSON, "unavailable"),
    Case(FaultMode.HTTP_500, "unavailable"),
    Case(FaultMode.NO_DATA, "stale", paths=("/history/latest",), lines=0),
    Case(FaultMode.BUSY_503, "unavailable"),
    Case(FaultMode.RATE_LIMIT_429, "unavailable"),
    Case(FaultMode.STRING_VALUES, "none", lines=0),
    Case(FaultMode.NAN, "unknown", keys=POWER, lines=0),
    # One warning per total (import and export), none when it ends.
    Case(FaultMode.COUNTER_ZERO, "held", keys=ENERGY, lines=2),
    Case(FaultMode.COUNTER_BACKWARDS, "held", keys=ENERGY, lines=2),
    Case(FaultMode.HUGE_PAYLOAD, "unavailable"),
    Case(FaultMode.NEW_OBIS, "new", keys=("1.8.3", "3.7.0"), lines=0),
    Case(FaultMode.MISSING_FIELDS, "gone", keys=("2.8.1", "13.7.0", "51.7.0"), lines=0),
    Case(FaultMode.OFFLINE, "unavailable"),
    Case(FaultMode.APPLY_THEN_DROP, "unavailable"),
    # The frozen reading is new once, then the same for STALE_UPDATES updates.
    Case(FaultMode.FROZEN_READING, "stale", lines=0, updates=STALE_UPDATES + 1),
]


@dataclass
class Measured:
    """One row of the fault table."""

    fault: str
    effect: str
    shows_after: float | None
    """Virtual seconds from the fault until the entities showed it."""
    recovered_after: float | None
    """Virtual seconds from the end of the fault until everything was back."""
    warnings: int
    """Records of our loggers at WARNING or above, fault and recovery."""
    infos: int
    """Records of our loggers at INFO, fault and recovery."""


def report(row: Measured) -> None:
    """Append the row to the table file, if one was asked for."""
    if path := os.environ.get("WATTWAECHTER_FAULT_TABLE"):
        with open(path, "a", encoding="utf-8") as table:
            table.write(json.dumps(asdict(row)) + "\n")


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Capture everything our loggers say, down to DEBUG."""
    caplog.set_level(logging.DEBUG, logger=OURS)
    caplog.set_level(logging.DEBUG, logger="homeassistant.helpers.update_coordinator")


@contextmanager
def short_timeout(case: Case) -> Iterator[None]:
    """While the device hangs, a request is given up after 50 ms, not 10 s."""
    if case.fault is not FaultMode.TIMEOUT:
        yield
        return
    with patch("custom_components.wattwaechter.api.client.TIMEOUT", 0.05):
        yield


def ours(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """Return our records at ``level`` (WARNING means WARNING and above)."""
    return [
        f"{r.levelname} {r.name} {r.getMessage()}"
        for r in caplog.records
        if r.name.startswith(OURS)
        and (r.levelno >= level if level >= logging.WARNING else r.levelno == level)
    ]


class Look:
    """Reads the simulated device's entities."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Look into ``hass``."""
        self.hass = hass

    def state(self, key: str, domain: str = "sensor") -> str | None:
        """Return the state of the entity of ``key``; None when there is none."""
        entity_id = er.async_get(self.hass).async_get_entity_id(
            domain, DOMAIN, f"AABBCCDDEEFF_{key}"
        )
        found = self.hass.states.get(entity_id) if entity_id else None
        return found.state if found else None

    def all(self, keys: tuple[str, ...], wanted: str) -> bool:
        """Return True when every entity of ``keys`` is in state ``wanted``."""
        return all(self.state(key) == wanted for key in keys)

    def numbers(self, keys: tuple[str, ...]) -> bool:
        """Return True when every entity of ``keys`` shows a number."""
        for key in keys:
            try:
                float(self.state(key) or "")
            except ValueError:
                return False
        return True

    @property
    def problem(self) -> str | None:
        """Return the state of the meter reading problem sensor."""
        return self.state("meter_reading", "binary_sensor")

    def shows(self, case: Case, held: dict[str, str | None]) -> bool:
        """Return True when the entities show ``case``'s fault."""
        effect = case.effect
        if effect == "unavailable":
            return self.all(case.keys, STATE_UNAVAILABLE)
        if effect == "stale":
            return self.all(case.keys, STATE_UNAVAILABLE) and self.problem == STATE_ON
        if effect == "unknown":
            return self.all(case.keys, STATE_UNKNOWN)
        if effect == "new":
            return self.numbers(case.keys)
        if effect == "gone":
            return self.all(case.keys, STATE_UNAVAILABLE) and self.numbers(ENERGY)
        if effect == "held":
            return {key: self.state(key) for key in ENERGY} == held
        return self.numbers(METER)


async def until(hass: HomeAssistant, done: Callable[[], bool], limit: float) -> float:
    """Move the clock a second at a time until ``done``; return the seconds."""
    elapsed = 0.0
    while not done():
        assert elapsed < limit, f"not within {limit:g} s"
        await step(hass, 1)
        elapsed += 1
    return elapsed


def polled(device: Simulator, since: float) -> bool:
    """Return True when a meter update reached the device since ``since``."""
    return any(
        r.path == LATEST and r.status == 200 and r.time >= since
        for r in device.request_log
    )


def truth(device: Simulator, code: str) -> float:
    """Return the exact total the device holds now (kWh)."""
    imported, exported = device.meter.reading(device.now())
    return (imported if code == "1.8.0" else exported) / 1000


@pytest.mark.parametrize("case", CASES, ids=[str(c.fault) for c in CASES])
async def test_fault(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
    case: Case,
) -> None:
    """Set the fault, hold it, clear it: see the module docstring."""
    look = Look(hass)
    assert look.numbers(METER)
    assert look.problem == STATE_OFF
    held = {key: look.state(key) for key in ENERGY}
    caplog.clear()

    with short_timeout(case):
        device.set_fault(case.fault, paths=case.paths)
        if case.effect == "none":
            await step(hass, INTERVAL)
            shows = None
            assert look.shows(case, held)
        else:

            def showing() -> bool:
                # A held total shows nothing: the guard's warnings tell it acted.
                if case.effect == "held" and not ours(caplog, logging.WARNING):
                    return False
                return look.shows(case, held)

            shows = await until(hass, showing, case.updates * INTERVAL + 1)
        for _ in range(HOLD_UPDATES):
            await step(hass, INTERVAL)
            assert look.shows(case, held), case
        went = ours(caplog, logging.WARNING)

        device.clear_faults()
    cleared = device.now()
    recovered = await until(
        hass,
        lambda: (
            polled(device, cleared)
            and look.numbers(METER)
            and look.problem == STATE_OFF
        ),
        limit=INTERVAL + 1,
    )
    if case.effect == "held":
        for key in ENERGY:
            assert float(look.state(key) or "") == pytest.approx(
                truth(device, key), abs=0.0015
            )
    await step(hass, INTERVAL)
    assert look.numbers(METER)

    assert_no_traceback(caplog)
    assert len(went) == case.lines, went
    assert ours(caplog, logging.WARNING) == went, "logged again after recovery"
    back = ours(caplog, logging.INFO)
    assert len(back) == case.recovers, back
    if case.effect == "unavailable":
        assert "Error fetching" in went[0]
        assert "recovered" in back[0]
    report(
        Measured(
            fault=str(case.fault),
            effect=case.effect,
            shows_after=shows,
            recovered_after=recovered,
            warnings=len(went),
            infos=len(back),
        )
    )
    assert init_integration.state is ConfigEntryState.LOADED
