"""How the coordinators report a failing device."""

from __future__ import annotations

import logging

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


def test_expected_failures_are_logged_without_traceback() -> None:
    """The coordinator's own UpdateFailed never brings a traceback along.

    Newer cores log one at DEBUG after the ERROR line; it is dropped. An
    unexpected error keeps its traceback.
    """
    logger = logging.getLogger("custom_components.wattwaechter.coordinator")

    def record(level: int, error: Exception) -> logging.LogRecord:
        exc_info = (type(error), error, error.__traceback__)
        return logger.makeRecord(
            logger.name, level, __file__, 1, "Full error:", (), exc_info
        )

    debug = record(logging.DEBUG, UpdateFailed("away"))
    assert not logger.filter(debug)
    error = record(logging.ERROR, UpdateFailed("away"))
    assert logger.filter(error)
    assert error.exc_info is None
    bug = record(logging.ERROR, ValueError("bug"))
    assert logger.filter(bug)
    assert bug.exc_info is not None
