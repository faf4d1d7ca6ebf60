"""Misreadings never reach the state machine; a new meter does, once it held.

A total that reads 0, steps back or leaps keeps its last good value (one
warning per register), also right after a restart; a new baseline is accepted
after 5 updates and 10 minutes; a power value beyond what a household
connection carries is held back and logged once.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)

from custom_components.wattwaechter.guard import REPLACEMENT_SECONDS
from simulator import FaultMode, Simulator, SimulatorConfig, latest as sim_latest

from .entities import LATEST, entity_id, ours, record, state, value
from .timetravel import advance

IMPORT = "sensor.wattwaechter_total_consumption"
TOTALS = ("1.8.0", "2.8.0")
SENSOR_LOGGER = "custom_components.wattwaechter.sensor"


def truth(device: Simulator, code: str) -> float:
    """Return the total the meter displays now (kWh)."""
    registers = device.device.counter().reading(device.now())
    return (registers.imp if code == "1.8.0" else registers.exp) / 1000


def numbers(states: list[State]) -> list[float]:
    """Return the numeric states, in order."""
    return [
        float(s.state)
        for s in states
        if s.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE)
    ]


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the sensors' warnings."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == SENSOR_LOGGER and r.levelno >= logging.WARNING
    ]


def restore(
    hass: HomeAssistant, stored: float, unit: str = "kWh", age: float = 60.0
) -> None:
    """Pretend HA last ran with ``stored`` on the import total ``age`` s ago."""
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(
                    IMPORT,
                    str(stored),
                    last_updated=dt_util.utcnow() - timedelta(seconds=age),
                ),
                {"native_value": stored, "native_unit_of_measurement": unit},
            )
        ],
    )


@pytest.mark.parametrize("fault", [FaultMode.COUNTER_ZERO, FaultMode.COUNTER_BACKWARDS])
async def test_glitch_keeps_the_last_good_value(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
    fault: FaultMode,
) -> None:
    """0 or a step back: the entity holds its value, one warning per register."""
    entry = init_integration
    ids = [entity_id(hass, entry, code) for code in TOTALS]
    seen = record(hass, ids)
    before = {code: value(hass, entry, code) for code in TOTALS}
    device.set_fault(fault)
    for _ in range(6):
        await advance(hass, 10)
        assert {code: value(hass, entry, code) for code in TOTALS} == before
    said = warnings(caplog)
    assert len(said) == len(TOTALS)
    assert all("ignoring the reading" in line for line in said)
    assert {line.split(":")[0] for line in said} == set(ids)

    device.clear_faults()
    await advance(hass, 10)
    for code in TOTALS:
        assert value(hass, entry, code) == pytest.approx(truth(device, code), abs=2e-3)
    for entity in ids:  # never a dip: no reset, no negative consumption
        assert numbers(seen[entity]) == sorted(numbers(seen[entity]))
    assert len(warnings(caplog)) == len(TOTALS)


async def test_jump_after_a_restart_is_held_back(
    hass: HomeAssistant,
    device: Simulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    time_travel: Any,
) -> None:
    """The last good value survives a restart; an implausible rise is held back.

    Stored 500 kWh below the device's, one minute ago: at most 100 kW could
    have flowed, 1.7 kWh. The entity stays at the stored value.
    """
    stored = round(truth(device, "1.8.0") - 500, 3)
    restore(hass, stored)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert entity_id(hass, mock_config_entry, "1.8.0") == IMPORT
    assert value(hass, mock_config_entry, "1.8.0") == stored
    (warning,) = warnings(caplog)
    assert "(jump)" in warning
    await advance(hass, 10)
    assert value(hass, mock_config_entry, "1.8.0") == stored
    assert len(warnings(caplog)) == 1


async def test_zero_after_a_restart_is_held_back(
    hass: HomeAssistant,
    device: Simulator,
    mock_config_entry: MockConfigEntry,
    time_travel: Any,
) -> None:
    """A reader that comes up reading 0: the restored value stays."""
    stored = round(truth(device, "1.8.0") - 0.5, 3)
    restore(hass, stored)
    device.set_fault(FaultMode.COUNTER_ZERO)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert value(hass, mock_config_entry, "1.8.0") == stored
    device.clear_faults()
    await advance(hass, 10)
    assert value(hass, mock_config_entry, "1.8.0") == pytest.approx(
        truth(device, "1.8.0"), abs=2e-3
    )


async def test_restored_value_in_another_unit_is_ignored(
    hass: HomeAssistant,
    device: Simulator,
    mock_config_entry: MockConfigEntry,
    time_travel: Any,
) -> None:
    """Only a value in the sensor's own unit is a good value to start from."""
    restore(hass, 5.0, unit="MWh")
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert value(hass, mock_config_entry, "1.8.0") == pytest.approx(
        truth(device, "1.8.0"), abs=2e-3
    )


async def test_meter_replacement_is_accepted_after_it_held(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A new meter is accepted once its readings held 5 updates and 10 minutes.

    It was fitted a day ago (so both totals counted something); the reader
    only now reads it.
    """
    entry = init_integration
    ids = [entity_id(hass, entry, code) for code in TOTALS]
    seen = record(hass, ids)
    old = value(hass, entry, "1.8.0")
    device.configure(meter_replaced_at=device.now() - 86400)
    elapsed = 0
    while elapsed < REPLACEMENT_SECONDS - 10:
        await advance(hass, 10)
        elapsed += 10
        assert value(hass, entry, "1.8.0") == old
    for _ in range(3):
        await advance(hass, 10)
    new = value(hass, entry, "1.8.0")
    assert new < old
    assert new == pytest.approx(truth(device, "1.8.0"), abs=2e-3)
    said = warnings(caplog)
    ignoring = [line.split(":")[0] for line in said if "ignoring the reading" in line]
    accepting = [line.split(":")[0] for line in said if "accepting the new" in line]
    assert sorted(ignoring) == sorted(accepting)  # each total once, tariffs too
    assert set(ids) <= set(ignoring)
    # One step down (a reset the Energy dashboard understands), then growing.
    values = [old, *numbers(seen[ids[0]])]
    drops = [i for i, (a, b) in enumerate(pairwise(values), 1) if b < a]
    assert len(drops) == 1
    after = values[drops[0] :]
    assert after == sorted(after)


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(profile="gas")])
async def test_gas_total_is_guarded(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The m³ total of a gas meter has the same guard."""
    before = value(hass, init_integration, "7-0:3.0.0")
    device.set_fault(FaultMode.COUNTER_ZERO)
    await advance(hass, 10)
    assert value(hass, init_integration, "7-0:3.0.0") == before
    (warning,) = warnings(caplog)
    assert "ignoring the reading (zero)" in warning


async def test_unreadable_total_is_unknown(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A total that cannot be read is unknown (not a glitch), then back."""
    monkeypatch.setattr(sim_latest, "NAN_REGISTERS", ("1.8.0",))
    device.set_fault(FaultMode.NAN)
    await advance(hass, 10)
    assert state(hass, init_integration, "1.8.0").state == STATE_UNKNOWN
    device.clear_faults()
    await advance(hass, 10)
    assert value(hass, init_integration, "1.8.0") == pytest.approx(
        truth(device, "1.8.0"), abs=2e-3
    )
    assert warnings(caplog) == []


def power(watts: float, timestamp: int) -> dict[str, Any]:
    """Return a meter payload with ``watts`` on 16.7.0."""
    return {
        "timestamp": timestamp,
        "1.8.0": {"value": 100.0, "unit": "kWh", "name": "Total Import"},
        "16.7.0": {"value": watts, "unit": "W", "name": "Active Power"},
    }


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(payloads={LATEST: power(500, 1)})]
)
async def test_impossible_power_is_held_back(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1e15 W is a misread: the last value stays, one warning, then real values."""
    entry = init_integration
    assert state(hass, entry, "16.7.0").state == "500"
    for timestamp, watts in ((2, 1e15), (3, -1e15), (4, 1e15)):
        device.configure(payloads={LATEST: power(watts, timestamp)})
        await advance(hass, 10)
        assert state(hass, entry, "16.7.0").state == "500"
    (warning,) = ours(caplog)
    assert "ignoring 1000000000000000.0" in warning
    assert "keeping 500" in warning
    device.configure(payloads={LATEST: power(-2300, 5)})
    await advance(hass, 10)
    assert state(hass, entry, "16.7.0").state == "-2300"


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(profile="gas", firmware="1.3.0")]
)
async def test_meter_exchanged_while_ha_was_down(
    hass: HomeAssistant,
    device: Simulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    time_travel: Any,
) -> None:
    """The restored cycle start tells a new meter from a glitch after a restart."""
    gas = "sensor.wattwaechter_gas_consumption"
    stored = truth(device, "1.8.0")
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(gas, str(stored), {"last_reset": "2025-01-01T00:00:00+00:00"}),
                {"native_value": stored, "native_unit_of_measurement": "m³"},
            )
        ],
    )
    device.exchange_meter(start_value=3.0)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    shown = hass.states.get(gas)
    assert shown is not None
    assert float(shown.state) == pytest.approx(3.0, abs=2e-3)
    assert shown.attributes["last_reset"] != "2025-01-01T00:00:00+00:00"
    assert warnings(caplog) == []
