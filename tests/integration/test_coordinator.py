"""How the coordinators report a failing device."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import UpdateFailed
import pytest

from simulator import FaultMode, Simulator

from .helpers import advance, state


@pytest.mark.parametrize(
    ("fault", "key"),
    [
        (FaultMode.NO_DATA, "no_meter_data"),
        (FaultMode.MALFORMED_JSON, "bad_response"),
        (FaultMode.RATE_LIMIT_429, "device_busy"),
        (FaultMode.RESET, "cannot_connect"),
    ],
)
async def test_meter_failure_is_translated(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    fault: FaultMode,
    key: str,
) -> None:
    """Each kind of failure has its own translated reason."""
    device.set_fault(fault, paths=["/history/latest"])
    await advance(hass, 10)
    assert state(hass, entry, "1.8.0").state == STATE_UNAVAILABLE
    error = entry.runtime_data.meter.last_exception
    assert isinstance(error, UpdateFailed)
    assert error.translation_key == key
    assert error.translation_placeholders["host"] == f"127.0.0.1:{device.port}"
