"""After a restart, ask the slow coordinators once when the meter answers again.

A restart (the button, a firmware update, a power cut) may change what they
show (uptime, firmware, LED); the meter, polled every few seconds, tells when.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .api.errors import WattwaechterRetryLaterError

RESTART_GRACE = 30.0
"""Seconds after which a restart that no meter update saw counts as done."""


class RestartWatcher:
    """Re-asks the slow coordinators once after the device was away."""

    def __init__(
        self,
        hass: HomeAssistant,
        meter: DataUpdateCoordinator[Any],
        slow: Callable[[bool], Iterable[DataUpdateCoordinator[Any]]],
        on_back: Callable[[], None],
    ) -> None:
        """Watch ``meter``; after a restart ask ``slow(away)``, call ``on_back``."""
        self._hass = hass
        self._meter = meter
        self._slow = slow
        self._on_back = on_back
        self._pending = self._away = False
        self._until = 0.0

    @callback
    def async_listen(self) -> CALLBACK_TYPE:
        """Start following the meter; return the function that stops it."""
        return self._meter.async_add_listener(self._async_on_meter)

    @callback
    def expect(self, grace: float = RESTART_GRACE) -> None:
        """Ask again after a restart that is coming (or for slow data missing)."""
        self._pending, self._away = True, False
        self._until = self._hass.loop.time() + grace

    @callback
    def _async_on_meter(self) -> None:
        if not self._meter.last_update_success:
            cause = getattr(self._meter.last_exception, "__cause__", None)
            if isinstance(cause, WattwaechterRetryLaterError):
                return  # refused: the device is up, only busy
            if not self._pending:
                self.expect()
            self._away = True
            return
        waiting = not self._away and self._hass.loop.time() < self._until
        if not self._pending or waiting:
            return
        away, self._pending, self._away = self._away, False, False
        if away:
            self._on_back()
        for coordinator in self._slow(away):
            self._hass.async_create_task(coordinator.async_request_refresh())
