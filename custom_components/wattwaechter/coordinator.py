"""Coordinators of one device.

* meter: ``/history/latest`` (fast, one request per update);
* system: ``/system/info`` (slow, diagnostics and the installed firmware);
* controls: ``/settings`` and ``/system/led`` (slow, the LED switch and status);
* OTA: ``/ota/check`` (every 6 hours and on demand, the update entity).

While the device restarts (reboot button, firmware update) the first three
pause: they send nothing, their entities are unavailable, and the log gets one
line when the restart starts and one when the device is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
import contextvars
from dataclasses import dataclass, field, replace
from datetime import timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import (
    CAUSE_RESTART,
    LedStatus,
    MeterReading,
    OtaInfo,
    Priority,
    Settings,
    SystemInfo,
    WattwaechterAuthError,
    WattwaechterBadResponseError,
    WattwaechterBudgetError,
    WattwaechterBudgetPausedError,
    WattwaechterClient,
    WattwaechterError,
    WattwaechterNoDataError,
    WattwaechterRetryLaterError,
    request_cause,
)
from .const import CONTROLS_INTERVAL, DOMAIN, OTA_INTERVAL, SYSTEM_INTERVAL
from .guard import CounterGuard
from .issues import (
    RATE_LIMITED_AFTER,
    async_create_rate_limited_issue,
    async_delete_rate_limited_issue,
)

if TYPE_CHECKING:
    from .statistics import HistoryImporter

_LOGGER = logging.getLogger(__name__)


class RetryLaterUpdateFailed(UpdateFailed):
    """The device, or our request budget for it, asked us to wait.

    Back-pressure from a device that other clients share, not a fault: the
    coordinator tries again at its next interval.
    """


class _OneLinePerFailure(logging.Filter):
    """Keep an expected update failure to the coordinator's one line.

    ``DataUpdateCoordinator`` logs the first failed update of a series as one
    ERROR line ("Error fetching ... data: <translated reason>"); newer cores add
    a DEBUG record with the traceback of our own ``UpdateFailed``. That traceback
    tells nothing the translated reason does not (it names the cause), and a
    device that is away is not a bug, so the record is dropped. Unexpected
    exceptions keep their tracebacks.

    A 429/503 or a paused budget (``RetryLaterUpdateFailed``) is not an error of
    ours or of the device either: its one line is a WARNING.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop, strip or demote the record of an expected failure."""
        if record.exc_info and isinstance(
            record.exc_info[1], UpdateFailed | ConfigEntryAuthFailed
        ):
            if record.levelno <= logging.DEBUG:
                return False
            record.exc_info = None
            record.exc_text = None
        if (
            record.levelno == logging.ERROR
            and isinstance(record.args, tuple)
            and record.args
            and isinstance(record.args[-1], RetryLaterUpdateFailed)
        ):
            record.levelno = logging.WARNING
            record.levelname = logging.getLevelName(logging.WARNING)
        return True


_LOGGER.addFilter(_OneLinePerFailure())


@dataclass
class WattwaechterRuntimeData:
    """What a loaded entry keeps: the client, its coordinators, the importer."""

    client: WattwaechterClient
    meter: MeterCoordinator
    system: SystemCoordinator
    controls: ControlsCoordinator
    ota: OtaCoordinator
    history: HistoryImporter
    token_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while the device's tokens are replaced (rotation, enabling auth)."""
    guards: dict[str, CounterGuard] = field(default_factory=dict)
    """The glitch guard of each meter total with an entity (for diagnostics)."""

    @property
    def can_write(self) -> bool:
        """Return True when actions can succeed: a write token, or auth off."""
        settings = self.controls.data.settings if self.controls.data else None
        return self.client.can_write or (
            settings is not None and settings.api_auth_required is False
        )

    @callback
    def pause_polling(self, seconds: float, reason: str) -> None:
        """Stop polling while the device restarts; log it once."""
        _LOGGER.info(
            "WattWächter at %s %s; polling pauses for up to %.0f s",
            self.client.host,
            reason,
            seconds,
        )
        for coordinator in (self.meter, self.system, self.controls):
            coordinator.pause(seconds)

    @callback
    def resume_polling(self) -> None:
        """Allow polling again before the pause would have ended."""
        for coordinator in (self.meter, self.system, self.controls):
            coordinator.resume()


type WattwaechterConfigEntry = ConfigEntry[WattwaechterRuntimeData]


def retry_later_key(err: WattwaechterRetryLaterError, device_key: str) -> str:
    """Return the translation key of a "come back later" error.

    Our own budget (paused after a 429/503, or used up) has its own messages;
    a 429/503 straight from the device gets ``device_key``.
    """
    if isinstance(err, WattwaechterBudgetPausedError):
        return "budget_paused"
    if isinstance(err, WattwaechterBudgetError):
        return "budget_exhausted"
    return device_key


def update_failed(err: WattwaechterError, host: str) -> UpdateFailed:
    """Translate a client error into the coordinator's UpdateFailed."""
    placeholders = {"host": host, "error": str(err)}
    if isinstance(err, WattwaechterRetryLaterError):
        placeholders["retry_after"] = f"{err.retry_after:.0f}"
        return RetryLaterUpdateFailed(
            translation_domain=DOMAIN,
            translation_key=retry_later_key(err, "device_busy"),
            translation_placeholders=placeholders,
        )
    if isinstance(err, WattwaechterNoDataError):
        key = "no_meter_data"
    elif isinstance(err, WattwaechterBadResponseError):
        key = "bad_response"
    else:
        key = "cannot_connect"
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


class WattwaechterCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """Polls one kind of data of one device; can pause while it restarts."""

    config_entry: WattwaechterConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattwaechterConfigEntry,
        client: WattwaechterClient,
        kind: str,
        update_interval: timedelta,
    ) -> None:
        """Set up the coordinator for one device."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {kind} {client.host}",
            update_interval=update_interval,
        )
        self.client = client
        # Coordinators to ask again when this one sees the device restart.
        self.followers: Sequence[WattwaechterCoordinator[Any]] = ()
        self._paused_until: float | None = None
        self._restarting = False
        self._in_flight: asyncio.Future[DataT] | None = None

    @callback
    def _async_refresh_followers(self, why: str, *, resume: bool = False) -> None:
        """Ask the followers again, as restart traffic (not as polling).

        With ``resume``, only the followers paused for the restart are asked,
        and they are let go first.
        """
        with request_cause(CAUSE_RESTART):
            for follower in self.followers:
                if resume:
                    if not follower.restarting:
                        continue
                    follower.resume()
                self.config_entry.async_create_task(
                    self.hass,
                    follower.async_request_refresh(),
                    f"{follower.name} {why}",
                )

    @property
    def paused(self) -> bool:
        """Return True while requests are held back for a restart."""
        return (
            self._paused_until is not None
            and self.hass.loop.time() < self._paused_until
        )

    @property
    def restarting(self) -> bool:
        """Return True from a pause until the first successful update after it."""
        return self._restarting

    @callback
    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds``; the entities show unavailable meanwhile."""
        self._paused_until = self.hass.loop.time() + seconds
        self._restarting = True
        if self.last_update_success:
            # Marked here, so the refreshes during the restart log nothing.
            self.last_update_success = False
            self.async_update_listeners()

    @callback
    def _schedule_refresh(self) -> None:
        """Schedule the next poll in a clean context.

        The timer keeps the context it was set in. Set inside a user action
        (a refresh the action awaited) it would make every later poll count,
        and be served, as that action (see ``request_cause``).
        """
        contextvars.Context().run(super()._schedule_refresh)

    @callback
    def resume(self) -> None:
        """End the pause; the next refresh asks the device again."""
        self._paused_until = None

    async def _async_update_data(self) -> DataT:
        """Fetch the data unless paused; map client errors."""
        if self.paused:
            raise self._restarting_failure()
        while (pending := self._in_flight) is not None:
            # A refresh of the same data is on its way (the timer and a restart
            # recovery at once): share its answer instead of asking twice.
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not pending.cancelled() or (task and task.cancelling()):
                    raise
                # Only the one that asked was cancelled: ask ourselves.
        answer: asyncio.Future[DataT] = self.hass.loop.create_future()
        self._in_flight = answer
        try:
            data = await self._async_update_once()
        except BaseException as err:
            if isinstance(err, asyncio.CancelledError):
                answer.cancel()
            else:
                answer.set_exception(err)
                answer.exception()  # nobody else may be waiting: no warning
            raise
        finally:
            self._in_flight = None
        answer.set_result(data)
        return data

    def _restarting_failure(self) -> UpdateFailed:
        """Return the quiet failure of an update while the device restarts."""
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="restarting",
            translation_placeholders={"host": self.client.host},
        )

    async def _async_update_once(self) -> DataT:
        """Fetch the data once; map client errors."""
        try:
            data = await self._async_fetch_settled()
        except WattwaechterAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="invalid_auth",
                translation_placeholders={"host": self.client.host},
            ) from err
        except WattwaechterError as err:
            if self.paused:
                # Sent before the restart began; the device went away meanwhile.
                raise self._restarting_failure() from err
            self._async_failed(err)
            raise update_failed(err, self.client.host) from err
        if self.paused:
            # Answered, but sent before the restart began: no sign the device
            # is back, and the restart has yet to happen.
            raise self._restarting_failure()
        self._async_succeeded()
        if self._restarting:
            # Back after a restart: the pause already told the log, so skip the
            # coordinator's own "recovered" line.
            self._restarting = False
            self._paused_until = None
            self.last_update_success = True
            self._async_back_after_restart()
        return data

    async def _async_fetch_settled(self) -> DataT:
        """Fetch; a refusal while the tokens are being replaced is asked again.

        The device may already know the new tokens while this request still
        carried an old one: that 401 is no reason for a reauth. Once the new
        tokens are in the client, the request is sent once more.
        """
        try:
            return await self._async_fetch()
        except WattwaechterAuthError:
            lock = self.config_entry.runtime_data.token_lock
            if not lock.locked():
                raise
            async with lock:
                pass
            return await self._async_fetch()

    async def _async_fetch(self) -> DataT:
        """Ask the device for this coordinator's data."""
        raise NotImplementedError

    @callback
    def _async_failed(self, err: WattwaechterError) -> None:
        """Run when an update failed (not for a pause or an auth failure)."""

    @callback
    def _async_succeeded(self) -> None:
        """Run when an update succeeded."""

    @callback
    def _async_back_after_restart(self) -> None:
        """Run when the first request after a restart succeeded."""


class MeterCoordinator(WattwaechterCoordinator[MeterReading]):
    """Polls ``/history/latest``: every OBIS register in one request.

    It leads the recovery after a restart: once the meter answers, the paused
    slower coordinators are asked at once, so every entity is back within one
    meter update.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattwaechterConfigEntry,
        client: WattwaechterClient,
        update_interval: timedelta,
    ) -> None:
        """Set up the coordinator for one device."""
        super().__init__(hass, entry, client, "meter", update_interval)
        self._refused_since: float | None = None
        self._rate_limited_issue = False

    @callback
    def _async_failed(self, err: WattwaechterError) -> None:
        """Raise the rate-limit issue when the device keeps asking us to wait."""
        if not isinstance(err, WattwaechterRetryLaterError):
            self._refused_since = None
            return
        now = self.hass.loop.time()
        if self._refused_since is None:
            self._refused_since = now
        elif (
            not self._rate_limited_issue
            and now - self._refused_since >= RATE_LIMITED_AFTER.total_seconds()
        ):
            self._rate_limited_issue = True
            async_create_rate_limited_issue(self.hass, self.config_entry)

    @callback
    def _async_succeeded(self) -> None:
        """Drop the rate-limit issue: the device answers normally (again)."""
        self._refused_since = None
        if self._rate_limited_issue:
            self._rate_limited_issue = False
            async_delete_rate_limited_issue(self.hass, self.config_entry)

    @callback
    def async_set_interval(self, interval: timedelta) -> None:
        """Poll at a new interval, counted from now (the options changed)."""
        self.update_interval = interval
        if self._listeners:
            self._schedule_refresh()

    async def _async_fetch(self) -> MeterReading:
        """Fetch the latest reading."""
        try:
            return await self.client.latest()
        except WattwaechterNoDataError:
            # Right after a (re)boot the device has no reading yet. At the very
            # first update an empty reading lets setup finish; the registers'
            # sensors are added as soon as they appear.
            if self.data is None or not self.data.values:
                return MeterReading(timestamp=None, values={})
            raise

    @callback
    def _async_back_after_restart(self) -> None:
        """Log the return once and wake the paused slower coordinators."""
        _LOGGER.info("WattWächter at %s is back", self.client.host)
        self._async_refresh_followers("after restart", resume=True)


class SystemCoordinator(WattwaechterCoordinator[SystemInfo]):
    """Polls ``/system/info`` every few minutes for the diagnostic sensors.

    It also notices a restart or a firmware change that did not come from
    Home Assistant (the web UI, a power cut) and then asks its followers (the
    settings and LED status) again: they may have changed with it.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattwaechterConfigEntry,
        client: WattwaechterClient,
    ) -> None:
        """Set up the coordinator for one device."""
        super().__init__(hass, entry, client, "system", SYSTEM_INTERVAL)

    async def _async_fetch(self) -> SystemInfo:
        """Fetch the system info."""
        info = await self.client.system_info()
        if (
            self.data is not None
            and not self.restarting
            and _restarted(self.data, info)
        ):
            self._async_refresh_followers("after a restart elsewhere")
        return info


def _restarted(before: SystemInfo, now: SystemInfo) -> bool:
    """Return True when the firmware changed or the uptime went back."""
    if before.firmware and now.firmware and before.firmware != now.firmware:
        return True
    up_before, up_now = before.uptime_seconds, now.uptime_seconds
    return up_before is not None and up_now is not None and up_now < up_before


@dataclass(frozen=True, slots=True)
class DeviceControls:
    """What the control entities show: the settings and the LED status."""

    settings: Settings
    led: LedStatus


class ControlsCoordinator(WattwaechterCoordinator[DeviceControls]):
    """Polls ``/settings`` and ``/system/led`` every few minutes."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattwaechterConfigEntry,
        client: WattwaechterClient,
    ) -> None:
        """Set up the coordinator for one device."""
        super().__init__(hass, entry, client, "controls", CONTROLS_INTERVAL)

    async def _async_fetch(self) -> DeviceControls:
        """Fetch the settings and the LED status (two requests)."""
        settings = await self.client.settings()
        led = await self.client.led()
        return DeviceControls(settings=settings, led=led)

    async def async_refresh_settings(self) -> Settings:
        """Read the settings back after a change (one request; errors raise).

        Part of the user's action, so it goes with the action's priority.
        """
        settings = await self.client.settings(Priority.ACTION)
        self.async_set_updated_data(replace(self.data, settings=settings))
        return settings

    @callback
    def async_set_settings(self, **changes: Any) -> None:
        """Take settings the device reported as applied, without reading them."""
        settings = replace(self.data.settings, **changes)
        self.async_set_updated_data(replace(self.data, settings=settings))


class OtaCoordinator(WattwaechterCoordinator[OtaInfo | None]):
    """Asks ``/ota/check`` every 6 hours, and when the user asks HA to check.

    Its data stays None while the update server was never reached.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattwaechterConfigEntry,
        client: WattwaechterClient,
    ) -> None:
        """Set up the coordinator for one device."""
        super().__init__(hass, entry, client, "ota", OTA_INTERVAL)

    async def _async_fetch(self) -> OtaInfo | None:
        """Fetch what the vendor's update server offers."""
        return await self.client.ota_check()
