"""Meter link health: a device that answers without fresh meter readings.

The reading head fell off (the same reading again and again), the device
answers 204 while it runs, or its LED asks for the meter's attention: the
"Meter reading" problem sensor turns on, the meter entities go unavailable
(the controls stay), a repair follows after 15 minutes, and the first fresh
reading clears it all, with totals as the meter shows them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from custom_components.wattwaechter.const import STALE_ISSUE_AFTER
from simulator import FaultMode, Simulator, SimulatorConfig

from .entities import INTERVAL, entity_id, issue, ours, paths, record, state, value
from .timetravel import advance

METER = ("1.8.0", "2.8.0", "16.7.0", "32.7.0")
STEP = timedelta(seconds=INTERVAL)
# The last-reading sensor is disabled by default (it changes at every update).
pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")


def problem(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """Return the state of the meter reading problem sensor."""
    return state(hass, entry, "meter_reading", "binary_sensor").state


def truth(device: Simulator) -> tuple[float, float]:
    """Return import and export the meter displays now (kWh)."""
    registers = device.device.counter().reading(device.now())
    return registers.imp / 1000, registers.exp / 1000


async def test_head_off_and_back(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Frozen readings: problem on within three updates, repair after 15 min."""
    entry = init_integration
    caplog.set_level(logging.INFO)
    meter_ids = [entity_id(hass, entry, code) for code in ("1.8.0", "2.8.0")]
    seen = record(hass, meter_ids)
    assert problem(hass, entry) == STATE_OFF
    last = state(hass, entry, "last_reading").state
    device.set_fault(FaultMode.FROZEN_READING)
    device.clear_log()
    updates = 0
    while problem(hass, entry) != STATE_ON:
        await advance(hass, INTERVAL)
        updates += 1
        assert updates <= 3
    for code in METER:
        assert state(hass, entry, code).state == STATE_UNAVAILABLE
    assert state(hass, entry, "led", "switch").state == STATE_ON
    assert state(hass, entry, "reboot", "button").state != STATE_UNAVAILABLE
    assert state(hass, entry, "led_status").state == "ok"
    frozen_at = state(hass, entry, "last_reading").state
    assert datetime.fromisoformat(frozen_at) >= datetime.fromisoformat(last)
    assert issue(hass, "meter_stale", entry) is None

    # The repair comes with the first update 15 minutes after the problem.
    problem_since = dt_util.utcnow()
    while (repair := issue(hass, "meter_stale", entry)) is None:
        assert dt_util.utcnow() - problem_since < STALE_ISSUE_AFTER + 2 * STEP
        await advance(hass, INTERVAL)
        updates += 1
    assert dt_util.utcnow() - problem_since >= STALE_ISSUE_AFTER - STEP
    assert repair.translation_placeholders is not None
    assert repair.translation_placeholders["minutes"] == "15"
    assert state(hass, entry, "last_reading").state == frozen_at
    # Nothing more was asked than usual: the meter, and the system every 5 min.
    # (one poll more or less if a step takes real time on a busy machine)
    asked = paths(device)
    assert set(asked) <= {"/history/latest", "/system/info"}
    assert abs(asked.count("/history/latest") - updates) <= 1
    assert asked.count("/system/info") <= 4

    device.clear_faults()
    await advance(hass, INTERVAL)
    assert problem(hass, entry) == STATE_OFF
    assert issue(hass, "meter_stale", entry) is None
    imported, exported = truth(device)
    assert value(hass, entry, "1.8.0") == pytest.approx(imported, abs=2e-3)
    assert value(hass, entry, "2.8.0") == pytest.approx(exported, abs=2e-3)
    assert state(hass, entry, "last_reading").state != frozen_at
    for entity in meter_ids:
        numbers = [float(s.state) for s in seen[entity] if s.state != STATE_UNAVAILABLE]
        assert numbers == sorted(numbers)
    assert ours(caplog, logging.WARNING) == []


async def test_device_answers_without_data(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """204 while the device runs: the problem sensor turns on at once."""
    entry = init_integration
    device.set_fault(FaultMode.NO_DATA, paths=["/history/latest"])
    await advance(hass, INTERVAL)
    assert problem(hass, entry) == STATE_ON
    assert state(hass, entry, "1.8.0").state == STATE_UNAVAILABLE
    assert state(hass, entry, "led", "switch").state == STATE_ON
    device.clear_faults()
    await advance(hass, INTERVAL)
    assert problem(hass, entry) == STATE_OFF
    assert value(hass, entry, "1.8.0") > 0


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(firmware="1.3.0")])
async def test_led_asks_for_the_meter(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """LED METER_ATTENTION (PIN or info mode missing) turns the problem on."""
    entry = init_integration
    device.configure(meter_attention=True)
    await advance(hass, 3600)  # the LED status is read hourly
    assert state(hass, entry, "led_status").state == "meter_attention"
    assert problem(hass, entry) == STATE_ON
    assert state(hass, entry, "1.8.0").state == STATE_UNAVAILABLE
    device.configure(meter_attention=False)
    await advance(hass, 3600)
    assert state(hass, entry, "led_status").state == "ok"
    assert problem(hass, entry) == STATE_OFF
    assert value(hass, entry, "1.8.0") > 0


async def test_problem_sensor_and_last_reading(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    """Both are diagnostics; the last reading is a timestamp of a fresh reading."""
    entry = init_integration
    sensor = state(hass, entry, "meter_reading", "binary_sensor")
    assert sensor.attributes["device_class"] == "problem"
    assert sensor.name == "WattWaechter Meter reading"
    last = state(hass, entry, "last_reading")
    assert last.attributes["device_class"] == "timestamp"
    before = datetime.fromisoformat(last.state)
    await advance(hass, INTERVAL)
    assert datetime.fromisoformat(state(hass, entry, "last_reading").state) > before


@pytest.mark.parametrize(
    "start_time", [datetime.fromisoformat("2026-01-15T15:00:00+00:00").timestamp()]
)
async def test_totals_after_a_long_outage_of_the_head(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A winter evening without readings: the meter counted several kWh.

    The first fresh reading is the meter's, not a leap held back as a glitch:
    the repeated frozen readings are no good values to measure a rise from.
    """
    entry = init_integration
    device.set_fault(FaultMode.FROZEN_READING)
    before = truth(device)[0]
    for _ in range(36):  # six hours, one meter update every 10 minutes
        await advance(hass, 600)
    assert truth(device)[0] - before > 2  # more than 100 kW could add in a minute
    device.clear_faults()
    await advance(hass, INTERVAL)
    assert value(hass, entry, "1.8.0") == pytest.approx(truth(device)[0], abs=2e-3)
    assert ours(caplog) == []
