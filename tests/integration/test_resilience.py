"""The fault matrix: one test per simulator fault mode.

Each test asserts that

* nothing is logged with a traceback;
* the affected entities show the fault within one meter update: unavailable,
  unknown (one unreadable value), holding the last good value (a total that
  glitches), or new entities (new registers);
* going away and coming back are logged once each, however long it lasts;
* everything is back within one update after the fault clears.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import logging

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import UpdateFailed
import pytest

from custom_components.wattwaechter.api import client as api_client
from simulator import FaultMode, Simulator

from .entities import INTERVAL, assert_no_traceback, exists, ours, state
from .timetravel import advance

ENERGY = ("1.8.0", "2.8.0")
POWER = ("16.7.0", "32.7.0", "31.7.0")
METER = (*ENERGY, *POWER, "14.7.0")
HOLD_UPDATES = 3
"""Updates the fault stays on after it showed: a long fault is logged once too."""


@dataclass(frozen=True)
class Case:
    """One fault mode and what it should do."""

    fault: FaultMode
    effect: str
    """unavailable, unknown, held (last good value), none, new (entities)."""
    keys: tuple[str, ...] = METER
    went: int = 1
    """Lines at WARNING or above for the whole fault."""
    back: int = 1
    """INFO lines for the recovery."""


CASES = [
    Case(FaultMode.TIMEOUT, "unavailable"),
    Case(FaultMode.RESET, "unavailable"),
    Case(FaultMode.MALFORMED_JSON, "unavailable"),
    Case(FaultMode.HTTP_500, "unavailable"),
    Case(FaultMode.BUSY_503, "unavailable"),
    Case(FaultMode.RATE_LIMIT_429, "unavailable"),
    Case(FaultMode.HUGE_PAYLOAD, "unavailable"),
    Case(FaultMode.OFFLINE, "unavailable"),
    Case(FaultMode.APPLY_THEN_DROP, "unavailable"),
    # The device answers, the meter does not: no error, the problem sensor.
    Case(FaultMode.NO_DATA, "unavailable", went=0, back=0),
    Case(FaultMode.STRING_VALUES, "none", went=0, back=0),
    Case(FaultMode.NAN, "unknown", keys=POWER, went=0, back=0),
    # One warning per total (import and export), nothing when it ends.
    Case(FaultMode.COUNTER_ZERO, "held", keys=ENERGY, went=2, back=0),
    Case(FaultMode.COUNTER_BACKWARDS, "held", keys=ENERGY, went=2, back=0),
    Case(FaultMode.NEW_OBIS, "new", keys=("1.8.3", "3.7.0"), went=0, back=0),
    Case(
        FaultMode.MISSING_FIELDS,
        "unavailable",
        keys=("2.8.1", "13.7.0", "51.7.0"),
        went=0,
        back=0,
    ),
]


async def until(hass: HomeAssistant, done: Callable[[], bool]) -> float:
    """Move the clock a second at a time until ``done``; return the seconds."""
    elapsed = 0.0
    while not done():
        assert elapsed <= INTERVAL, f"not within {INTERVAL:g} s"
        await advance(hass, 1)
        elapsed += 1
    return elapsed


@pytest.mark.parametrize("case", CASES, ids=[str(c.fault) for c in CASES])
async def test_fault(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    case: Case,
) -> None:
    """Set the fault, hold it, clear it: see the module docstring."""
    entry = init_integration
    monkeypatch.setattr(api_client, "TIMEOUT", 0.3)
    caplog.set_level(logging.DEBUG, logger="custom_components.wattwaechter")
    await advance(hass, INTERVAL)

    def shows(wanted: str) -> bool:
        return all(state(hass, entry, key).state == wanted for key in case.keys)

    def numbers() -> bool:
        return all(
            state(hass, entry, key).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
            for key in METER
        )

    held = {key: state(hass, entry, key).state for key in ENERGY}
    caplog.clear()
    device.set_fault(case.fault)
    if case.effect in ("unavailable", "unknown"):
        wanted = STATE_UNAVAILABLE if case.effect == "unavailable" else STATE_UNKNOWN
        await until(hass, lambda: shows(wanted))
    elif case.effect == "new":
        await until(hass, lambda: all(exists(hass, entry, k) for k in case.keys))
    elif case.effect == "held":
        await until(hass, lambda: len(ours(caplog)) > 0)
    else:
        await advance(hass, INTERVAL)
    for _ in range(HOLD_UPDATES):
        await advance(hass, INTERVAL)
        if case.effect == "held":
            assert {key: state(hass, entry, key).state for key in ENERGY} == held
        elif case.effect == "none":
            assert numbers()
        elif case.effect != "new":
            assert shows(wanted)
    went = ours(caplog)
    assert len(went) == case.went, went

    caplog.clear()
    device.clear_faults()
    await advance(hass, INTERVAL)
    assert numbers()
    for key in case.keys if case.effect != "new" else ():  # new ones go again
        assert state(hass, entry, key).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
    assert ours(caplog) == []
    back = [line for line in ours(caplog, logging.INFO) if line.startswith("INFO")]
    assert len(back) == case.back, back
    assert_no_traceback(caplog)
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    ("fault", "key"),
    [
        (FaultMode.MALFORMED_JSON, "bad_response"),
        (FaultMode.HTTP_500, "bad_response"),
        (FaultMode.RATE_LIMIT_429, "device_busy"),
        (FaultMode.BUSY_503, "device_busy"),
        (FaultMode.RESET, "cannot_connect"),
    ],
)
async def test_meter_failure_is_translated(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    fault: FaultMode,
    key: str,
) -> None:
    """Each kind of failure has its own translated reason, naming the device."""
    device.set_fault(fault, paths=["/history/latest"])
    await advance(hass, INTERVAL)
    assert state(hass, init_integration, "1.8.0").state == STATE_UNAVAILABLE
    error = init_integration.runtime_data.meter.last_exception
    assert isinstance(error, UpdateFailed)
    assert error.translation_key == key
    assert error.translation_placeholders is not None
    assert error.translation_placeholders["host"] == init_integration.data["host"]
