"""Coordinators of one device, one per kind of data, and what a loaded entry keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging
from typing import Any, cast

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry
from homeassistant.const import CONF_DEVICE_ID, CONF_MODEL
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api.budget import Priority
from .api.client import WattwaechterClient
from .api.errors import (
    WattwaechterAuthError,
    WattwaechterConnectionError,
    WattwaechterError,
    WattwaechterNoDataError,
    WattwaechterNotSupportedError,
    WattwaechterRetryLaterError,
)
from .api.models import LedStatus, MeterReading, OtaInfo, Settings, SystemInfo
from .const import CONF_FW_VERSION, DOMAIN, MODEL_NAMES, STALE_UPDATES, TXT_MODEL_IDS
from .errors import translated
from .guard import CounterGuard, totals_leap
from .importer import HistoryImporter
from .issues import RATE_LIMITED, REPAIR_AFTER, STALE, WRONG_DEVICE, async_set_issue

_LOGGER = logging.getLogger(__name__)

RESTART_GRACE = 30.0
"""Seconds after which a restart that no meter update saw counts as done."""


def device_id(entry: ConfigEntry) -> str:
    """Return the device ID (bare MAC) that names the device and its entities."""
    return str(entry.data.get(CONF_DEVICE_ID) or entry.unique_id)


def device_model(entry: ConfigEntry, info: SystemInfo | None) -> tuple[str, str | None]:
    """Return the model name and model ID, preferring what the device reports."""
    stored = str(entry.data.get(CONF_MODEL) or "")
    model_id = (info.model_id if info else None) or TXT_MODEL_IDS.get(stored, stored)
    model = (info.product_name if info else None) or MODEL_NAMES.get(
        model_id or "", "WattWächter"
    )
    return model, model_id


class WattwaechterCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """Fetches one kind of data; maps client errors through the one table."""

    config_entry: WattwaechterConfigEntry
    supported = True

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattwaechterConfigEntry,
        client: WattwaechterClient,
        interval: timedelta,
    ) -> None:
        """Poll ``client`` every ``interval``."""
        self.feature = type(self).__name__.removesuffix("Coordinator").lower()
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {self.feature} {client.host}",
            update_interval=interval,
        )
        self.client = client

    async def _async_update_data(self) -> DataT:
        """Fetch; a 401 asks for a token (polling goes on), a 404 ends a feature."""
        try:
            return await self._fetch()
        except WattwaechterError as err:
            if isinstance(err, WattwaechterAuthError):
                self.config_entry.async_start_reauth(self.hass)
            optional = self in self.config_entry.runtime_data.optional
            if not (optional and isinstance(err, WattwaechterNotSupportedError)):
                raise translated(UpdateFailed, err, self.client.host) from err
        if self.supported:
            _LOGGER.info(
                "The firmware of the WattWächter at %s has no %s; "
                "that feature stays off until the firmware changes",
                self.client.host,
                self.feature,
            )
        self.supported = False
        self.update_interval = None
        return cast(DataT, None)

    async def _fetch(self) -> DataT:
        raise NotImplementedError

    @property
    def refused_token(self) -> bool:
        """Return True while the device refuses the stored token (401)."""
        cause = getattr(self.last_exception, "__cause__", None)
        return not self.last_update_success and isinstance(cause, WattwaechterAuthError)


class MeterCoordinator(WattwaechterCoordinator[MeterReading]):
    """Polls ``/history/latest``; tells whether the reading is fresh.

    Stale: a 204, the same timestamp for ``STALE_UPDATES`` updates (reading head
    fallen off, info mode off), or the LED asking for the meter's attention.
    """

    last_fresh: datetime | None = None
    stale = False
    """True while the device answers but delivers no fresh reading (kept, not
    derived: every meter entity asks at every update)."""
    verified = False
    """Whether the device was checked to be ours since it last failed."""
    _unchanged = 0
    _attention = False
    _at = 0.0  # loop time of the last reading
    _busy_since: datetime | None = None
    _stale_since: datetime | None = None

    @callback
    def async_set_interval(self, seconds: float) -> None:
        """Poll every ``seconds`` from now on, without a reload or a request."""
        self.update_interval = timedelta(seconds=seconds)
        if self.data is not None:
            self.async_set_updated_data(self.data)  # restarts the timer

    @callback
    def async_led_updated(self) -> None:
        """Show at once when the LED starts or stops asking for the meter."""
        led = self.config_entry.runtime_data.led.data
        if bool(led and led.meter_attention) != self._attention:
            self._attention = not self._attention
            self._note_stale()
            self.async_update_listeners()

    def _note_stale(self) -> None:
        self.stale = self._attention or self._unchanged >= STALE_UPDATES

    async def _async_update_data(self) -> MeterReading:
        """Fetch; keep the repairs about refusals and stale readings true."""
        try:
            reading = await super()._async_update_data()
        except UpdateFailed as err:
            if isinstance(err.__cause__, WattwaechterConnectionError):
                self.verified = False  # away: check who answers when it is back
            busy = isinstance(err.__cause__, WattwaechterRetryLaterError)
            self._busy_since = self._repair(RATE_LIMITED, self._busy_since, busy)
            raise
        self._busy_since = self._repair(RATE_LIMITED, None, False)
        self._note_stale()
        self._stale_since = self._repair(STALE, self._stale_since, self.stale)
        for flow in self.config_entry.async_get_active_flows(
            self.hass, {SOURCE_REAUTH}
        ):
            # Read without a new token: the device no longer asks for one.
            self.hass.config_entries.flow.async_abort(flow["flow_id"])
        return reading

    def _repair(
        self, kind: str, since: datetime | None, holds: bool
    ) -> datetime | None:
        """Raise the repair once its cause held long enough; return since when."""
        now = dt_util.utcnow()
        since = (since or now) if holds else None
        after = REPAIR_AFTER[kind]
        active = since is not None and now - since >= after
        minutes = f"{after.total_seconds() / 60:.0f}"
        async_set_issue(self.hass, self.config_entry, kind, active, minutes=minutes)
        return since

    async def _fetch(self) -> MeterReading:
        """Read the meter; first check who answers, when away or totals leap."""
        system = self.config_entry.runtime_data.system
        if not self.verified:
            await system.async_check(Priority.METER)
            self.verified = True
        try:
            reading = await self.client.latest(Priority.METER)
        except WattwaechterNoDataError:
            self._unchanged = STALE_UPDATES
            return self.data or MeterReading(timestamp=None, values={})
        now = self.hass.loop.time()
        if self.data is not None and totals_leap(self.data, reading, now - self._at):
            await system.async_check(Priority.METER)
        self._at = now
        last = self.data.timestamp if self.data else None
        if reading.timestamp is not None and reading.timestamp == last:
            self._unchanged += 1
        else:
            self._unchanged = 0
            self.last_fresh = dt_util.utcnow()
        return reading


class SystemCoordinator(WattwaechterCoordinator[SystemInfo]):
    """Polls ``/system/info``: who answers at the address, which firmware runs."""

    async def async_check(self, priority: Priority) -> None:
        """Read who answers now and share it; raise UpdateFailed for another device."""
        self.async_set_updated_data(await self._fetch(priority))

    async def _fetch(self, priority: Priority = Priority.SYSTEM) -> SystemInfo:
        """Read the system info; fail when another device answers at the address."""
        info = await self.client.system_info(priority)
        entry = self.config_entry
        wrong = not info.is_device(device_id(entry))
        other = info.esp_id or info.mac_address or "?"
        async_set_issue(self.hass, entry, WRONG_DEVICE, wrong, other=other)
        if wrong:
            entry.runtime_data.meter.verified = False
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="wrong_device",
                translation_placeholders={"host": self.client.host, "other": other},
            )
        if info.firmware and info.firmware != entry.data.get(CONF_FW_VERSION):
            self.hass.config_entries.async_update_entry(
                entry, data={**entry.data, CONF_FW_VERSION: info.firmware}
            )
            if self.data is not None:  # a new firmware may bring new features
                entry.async_create_background_task(
                    self.hass, self._async_recheck_features(), f"{self.name} features"
                )
        return info

    async def _async_recheck_features(self) -> None:
        """Reload when a feature the old firmware lacked answers now."""
        runtime = self.config_entry.runtime_data
        runtime.history.supported = True
        for coordinator in runtime.optional:
            if not coordinator.supported:
                coordinator.supported = True
                await coordinator.async_refresh()
                if coordinator.supported:
                    self.hass.config_entries.async_schedule_reload(
                        self.config_entry.entry_id
                    )
                    return


class SettingsCoordinator(WattwaechterCoordinator[Settings | None]):
    """Polls ``/settings``: the LED switch, auth on or off, the time zone."""

    async def _fetch(self) -> Settings:
        return await self.client.settings(Priority.SYSTEM)


class LedCoordinator(WattwaechterCoordinator[LedStatus | None]):
    """Polls ``/system/led``: what the status LED signals."""

    async def _fetch(self) -> LedStatus:
        return await self.client.led(Priority.SYSTEM)


class OtaCoordinator(WattwaechterCoordinator[OtaInfo | None]):
    """Asks ``/ota/check`` every 6 hours and when the user asks HA to check."""

    async def _fetch(self) -> OtaInfo:
        return await self.client.ota_check(Priority.SYSTEM)


class RestartWatcher:
    """Asks the slow coordinators once when the meter answers after a restart.

    A restart (button, firmware update, power cut) may change uptime, firmware, LED.
    """

    _pending = False
    _away = False
    _until = 0.0

    def __init__(self, meter: MeterCoordinator) -> None:
        """Follow ``meter``."""
        self._meter = meter

    @callback
    def expect(self, grace: float = RESTART_GRACE) -> None:
        """Ask again after a restart that is coming (or for slow data missing)."""
        self._pending, self._away = True, False
        self._until = self._meter.hass.loop.time() + grace

    @callback
    def async_on_meter(self) -> None:
        """Note the device going away; once it is back, ask the slow coordinators."""
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
        runtime = meter.config_entry.runtime_data
        if away:
            runtime.history.reader.wake()
        # Back after being away, the meter itself asked the system info.
        slow = runtime.optional if away else (runtime.system, *runtime.optional)
        for coordinator in slow:
            if coordinator.supported:
                meter.hass.async_create_task(coordinator.async_request_refresh())


@dataclass
class WattwaechterRuntimeData:
    """What a loaded entry keeps."""

    client: WattwaechterClient
    meter: MeterCoordinator
    system: SystemCoordinator
    settings: SettingsCoordinator
    led: LedCoordinator
    ota: OtaCoordinator
    history: HistoryImporter
    restart: RestartWatcher
    guards: dict[str, CounterGuard] = field(default_factory=dict)

    @property
    def optional(self) -> tuple[WattwaechterCoordinator[Any], ...]:
        """Return the coordinators of the features a firmware may lack."""
        return (self.settings, self.led, self.ota)

    @property
    def can_write(self) -> bool:
        """Return True when actions can succeed: a write token, or auth off."""
        settings = self.settings.data
        return self.client.can_write or (
            settings is not None and settings.api_auth_required is False
        )


type WattwaechterConfigEntry = ConfigEntry[WattwaechterRuntimeData]
