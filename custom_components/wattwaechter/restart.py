"""After a restart, ask the slow data again once the meter answers.

A restart (the button, a firmware update, a power cut) may change the slow data
(uptime, firmware, LED); the meter, polled every few seconds, tells when.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .api.errors import WattwaechterRetryLaterError

RESTART_GRACE = 30.0
"""Seconds after which a restart that no meter update saw counts as done."""


class RestartWatcher:
    """Calls ``on_back(away)`` once when the meter answers after a restart."""

    _pending = False
    _away = False
    _until = 0.0

    def __init__(
        self, meter: DataUpdateCoordinator[Any], on_back: Callable[[bool], None]
    ) -> None:
        """Follow ``meter``; ``away`` tells whether it saw the device gone."""
        self._meter = meter
        self._on_back = on_back

    @callback
    def expect(self, grace: float = RESTART_GRACE) -> None:
        """Ask again after a restart that is coming (or for slow data missing)."""
        self._pending, self._away = True, False
        self._until = self._meter.hass.loop.time() + grace

    @callback
    def async_on_meter(self) -> None:
        """Note the device going away; once it is back, call ``on_back``."""
        meter = self._meter
        if not meter.last_update_success:
            cause = getattr(meter.last_exception, "__cause__", None)
            if not isinstance(cause, WattwaechterRetryLaterError):  # not just busy
                self._pending = self._away = True
            return
        if not self._pending or (
            not self._away and meter.hass.loop.time() < self._until
        ):
            return
        away, self._pending, self._away = self._away, False, False
        self._on_back(away)
