"""Another device at the entry's address: nothing of it reaches our entities.

DHCP may hand the address to another WattWächter while ours is away, or two
devices may swap addresses while both run. Either way the entry's entities go
unavailable, a repair names the device that answers, no value of the other
meter is ever shown, and everything comes back when ours answers again.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
import pytest

from simulator import FaultMode, Simulator

from .entities import assert_no_traceback, entity_id, issue, paths, record, value
from .timetravel import advance

METER = ("1.8.0", "2.8.0", "16.7.0", "32.7.0")
OTHER = "0C8B95A1B2C3"


def shown(states: dict[str, list[State]]) -> dict[str, list[float]]:
    """Return every number each entity showed."""
    return {
        entity: [float(s.state) for s in seen if s.state != STATE_UNAVAILABLE]
        for entity, seen in states.items()
    }


async def other_device_then_ours(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> dict[str, list[State]]:
    """Let the other device answer for a while; return what the entities showed."""
    seen = record(hass, [entity_id(hass, entry, code) for code in METER])
    for _ in range(3):
        await advance(hass, 10)
        for code in METER:
            assert hass.states.get(entity_id(hass, entry, code)).state == (  # type: ignore[union-attr]
                STATE_UNAVAILABLE
            )
    repair = issue(hass, "wrong_device", entry)
    assert repair is not None
    assert repair.translation_placeholders is not None
    assert repair.translation_placeholders["other"] == OTHER
    assert repair.translation_placeholders["host"] == entry.data["host"]
    imported_before = value_or_none(seen, entity_id(hass, entry, "1.8.0"))

    device.configure(other_device=False)
    await advance(hass, 10)
    assert issue(hass, "wrong_device", entry) is None
    assert value(hass, entry, "1.8.0") >= (imported_before or 0)
    assert value(hass, entry, "1.8.0") > 10_000  # ours, not the other's 4 321 kWh
    return seen


def value_or_none(seen: dict[str, list[State]], entity: str) -> float | None:
    """Return the last number ``entity`` showed before the other device."""
    numbers = shown(seen)[entity]
    return numbers[-1] if numbers else None


async def test_other_device_after_an_outage(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Ours is away; when the address answers again, it is another device."""
    entry = init_integration
    before = value(hass, entry, "1.8.0")
    device.set_fault(FaultMode.OFFLINE)
    await advance(hass, 10)
    device.clear_faults()
    device.configure(other_device=True)
    device.clear_log()
    seen = await other_device_then_ours(hass, entry, device)
    imported = shown(seen)[entity_id(hass, entry, "1.8.0")]
    assert imported
    assert min(imported) >= before
    # Each update asks who answers before it reads the meter: the other
    # device's meter is never read.
    asked = paths(device)
    assert asked[:3] == ["/system/info"] * 3
    assert asked.index("/history/latest") == asked.index("/system/info", 3) + 1
    assert_no_traceback(caplog)


async def test_other_device_without_an_outage(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The address answers without a gap, but the totals leap: checked at once."""
    entry = init_integration
    await advance(hass, 10)
    before = {code: value(hass, entry, code) for code in ("1.8.0", "2.8.0")}
    device.configure(other_device=True)
    seen = await other_device_then_ours(hass, entry, device)
    for code in ("1.8.0", "2.8.0"):
        numbers = shown(seen)[entity_id(hass, entry, code)]
        assert min(numbers) >= before[code], code
    assert_no_traceback(caplog)
