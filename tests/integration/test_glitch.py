"""Meter totals: glitches never reach the state machine; a new meter does."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    mock_restore_cache_with_extra_data,
)

from custom_components.wattwaechter.guard import REPLACEMENT_SECONDS
from simulator import FaultMode, Simulator, SimulatorConfig, latest as sim_latest

from .conftest import setup_via_flow
from .helpers import advance, entity_id, state

SENSOR_LOGGER = "custom_components.wattwaechter.sensor"
IMPORT = "sensor.wattwaechter_energy_import"
TOTALS = ("1.8.0", "2.8.0")


def record(hass: HomeAssistant, entities: list[str]) -> dict[str, list[State]]:
    """Collect every state written for ``entities`` from now on."""
    seen: dict[str, list[State]] = {entity: [] for entity in entities}

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            seen[new.entity_id].append(new)

    async_track_state_change_event(hass, entities, changed)
    return seen


def numbers(states: list[State]) -> list[float]:
    """Return the numeric states, in order."""
    return [
        float(s.state)
        for s in states
        if s.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE)
    ]


def truth(device: Simulator, code: str) -> float:
    """Return the exact total the device holds now (kWh)."""
    imp, exp = device.meter.reading(device.now())
    return (imp if code == "1.8.0" else exp) / 1000


def glitch_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the sensor module's warnings."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == SENSOR_LOGGER and r.levelno >= logging.WARNING
    ]


@pytest.mark.parametrize("fault", [FaultMode.COUNTER_ZERO, FaultMode.COUNTER_BACKWARDS])
async def test_glitch_keeps_the_last_good_value(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
    fault: FaultMode,
) -> None:
    """0 or a step back: the entity holds its value, one warning per register."""
    ids = [entity_id(hass, entry, code) for code in TOTALS]
    seen = record(hass, ids)
    before = {code: float(state(hass, entry, code).state) for code in TOTALS}

    device.set_fault(fault)
    for _ in range(6):
        await advance(hass, 10)
        for code in TOTALS:
            held = state(hass, entry, code)
            assert float(held.state) == before[code]
    warnings = glitch_warnings(caplog)
    assert len(warnings) == len(TOTALS)
    assert all("ignoring the reading" in w for w in warnings)
    assert {w.split(":")[0] for w in warnings} == set(ids)

    device.clear_faults()
    await advance(hass, 10)
    for code in TOTALS:
        assert float(state(hass, entry, code).state) == pytest.approx(
            truth(device, code), abs=0.0015
        )
    # Never a dip, so never a reset or negative consumption in the statistics.
    for entity in ids:
        values = numbers(seen[entity])
        assert values == sorted(values)
    assert len(glitch_warnings(caplog)) == len(TOTALS)


async def test_jump_after_a_restart_is_held_back(
    hass: HomeAssistant, device: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The last good value survives a restart; an implausible rise is held back.

    The stored value is 500 kWh below the device's, one minute ago: at most
    100 kW could have flowed, 1.7 kWh. The entity stays at the stored value.
    """
    now = truth(device, "1.8.0")
    stored = round(now - 500, 3)
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(
                    IMPORT,
                    str(stored),
                    last_updated=dt_util.utcnow() - timedelta(minutes=1),
                ),
                {"native_value": stored, "native_unit_of_measurement": "kWh"},
            )
        ],
    )
    entry = await setup_via_flow(hass, device)
    assert entity_id(hass, entry, "1.8.0") == IMPORT
    assert float(state(hass, entry, "1.8.0").state) == stored
    (warning,) = glitch_warnings(caplog)
    assert "(jump; last good value" in warning
    await advance(hass, 10)
    assert float(state(hass, entry, "1.8.0").state) == stored
    assert len(glitch_warnings(caplog)) == 1


async def test_zero_after_a_restart_is_held_back(
    hass: HomeAssistant, device: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A reader that comes up reading 0: the restored value stays."""
    stored = round(truth(device, "1.8.0") - 0.5, 3)
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(IMPORT, str(stored)),
                {"native_value": stored, "native_unit_of_measurement": "kWh"},
            )
        ],
    )
    device.set_fault(FaultMode.COUNTER_ZERO)
    entry = await setup_via_flow(hass, device)
    assert float(state(hass, entry, "1.8.0").state) == stored
    device.clear_faults()
    await advance(hass, 10)
    assert float(state(hass, entry, "1.8.0").state) == pytest.approx(
        truth(device, "1.8.0"), abs=0.0015
    )


async def test_restored_value_in_another_unit_is_ignored(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Only a value in the sensor's own unit is a good value to start from."""
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(IMPORT, "5"),
                {"native_value": 5.0, "native_unit_of_measurement": "MWh"},
            )
        ],
    )
    entry = await setup_via_flow(hass, device)
    assert float(state(hass, entry, "1.8.0").state) == pytest.approx(
        truth(device, "1.8.0"), abs=0.0015
    )


async def test_meter_replacement_is_accepted_after_it_held(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A new meter is accepted once its readings held for 10 minutes.

    It was fitted a day ago (so both its totals have counted something),
    and the reader only now reads it.
    """
    ids = [entity_id(hass, entry, code) for code in TOTALS]
    seen = record(hass, ids)
    old = float(state(hass, entry, "1.8.0").state)
    device.configure(meter_replaced_at=device.now() - 86400)
    elapsed = 0
    while elapsed < REPLACEMENT_SECONDS - 10:
        await advance(hass, 10)
        elapsed += 10
        assert float(state(hass, entry, "1.8.0").state) == old
    for _ in range(3):
        await advance(hass, 10)
    new = float(state(hass, entry, "1.8.0").state)
    assert new < old
    imp, _ = device.meter.reading(device.now())
    replaced, _ = device.meter.reading(device.config.meter_replaced_at)
    assert new == pytest.approx((imp - replaced) / 1000, abs=0.0015)

    warnings = glitch_warnings(caplog)
    ignoring = [w.split(":")[0] for w in warnings if "ignoring the reading" in w]
    accepting = [w.split(":")[0] for w in warnings if "meter replaced?" in w]
    # Every total of the meter (1.8.0, 1.8.1, 1.8.2, 2.8.0, 2.8.1), each once.
    assert len(ignoring) == len(set(ignoring)) == 5
    assert sorted(accepting) == sorted(ignoring)
    assert len(warnings) == 10
    # One step down (a reset the Energy dashboard understands), then growing.
    values = [old, *numbers(seen[ids[0]])]
    drops = [i for i, (a, b) in enumerate(pairwise(values), 1) if b < a]
    assert len(drops) == 1
    after = values[drops[0] :]
    assert after == sorted(after)
    assert after[-1] == new


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(medium="gas")])
async def test_gas_total_is_guarded(
    hass: HomeAssistant, device: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The m³ total of a gas meter has the same guard."""
    entry = await setup_via_flow(hass, device)
    before = float(state(hass, entry, "7-0:3.0.0").state)
    device.set_fault(FaultMode.COUNTER_ZERO)
    await advance(hass, 10)
    assert float(state(hass, entry, "7-0:3.0.0").state) == before
    assert len(glitch_warnings(caplog)) == 1
    assert " m³ " in glitch_warnings(caplog)[0]


async def test_unreadable_total_is_unknown(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A total that cannot be read is unknown (not a glitch), then back."""
    monkeypatch.setattr(sim_latest, "NAN_REGISTERS", ("1.8.0",))
    device.set_fault(FaultMode.NAN)
    await advance(hass, 10)
    assert state(hass, entry, "1.8.0").state == STATE_UNKNOWN
    device.clear_faults()
    await advance(hass, 10)
    assert float(state(hass, entry, "1.8.0").state) == pytest.approx(
        truth(device, "1.8.0"), abs=0.0015
    )
    assert glitch_warnings(caplog) == []
