"""The device's memory as external long-term statistics, kept up to date.

Two statistics per device, ``wattwaechter:<device id>_energy_import`` and
``_energy_export`` (kWh), get one row per hour: the gap since the newest row
(30 days at first), then every hour the hours that are over. Existing rows
are never changed. Days older than 30 days come from daily values when the
user opted in: one row at the local midnight holding the whole day.

Requests go one at a time at background priority, and only while the meter
coordinator vouches for the device. A failure does not end a run: the day is
asked again after a growing pause, or as soon as the device is back; a day
without data is asked again at the next run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
import logging
from typing import Final

from homeassistant.components.recorder.models import StatisticMetaData
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util, slugify

from .api.errors import WattwaechterError, WattwaechterNotSupportedError
from .const import (
    CONF_DAILY_HISTORY,
    DOMAIN,
    HIGH_RES_DAYS,
    HISTORY_FIRST_DELAY,
    HISTORY_INTERVAL,
    LOW_RES_DAYS,
)
from .history import (
    HOUR,
    KINDS,
    Hour,
    Row,
    SlotHours,
    SumCursor,
    daily_hours,
    midnight,
)
from .reader import HistoryReader, NotOurDeviceError
from .recorder import last_start, metadata, read_rows, recorder_running, write

_LOGGER = logging.getLogger(__name__)

MAX_LOW_RES_DAYS: Final = 31


class HistoryImporter:
    """Imports one device's history into its two external statistics."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        reader: HistoryReader,
        device_id: str,
        timezone: Callable[[], tzinfo],
    ) -> None:
        """Prepare; nothing runs before ``async_start``."""
        self._hass = hass
        self._entry = entry
        self.timezone = timezone
        """Return the device's time zone: its history is in its local days."""
        self.reader = reader
        self.supported = True
        """False for gas and water meters and for firmware without history."""
        self.statistic_ids = {
            kind: f"{DOMAIN}:{slugify(device_id)}_{kind}" for kind in KINDS
        }
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._pending: set[date] = set()

    @property
    def daily(self) -> bool:
        """Return whether the user opted in to daily values for older days."""
        return bool(self._entry.options.get(CONF_DAILY_HISTORY, False))

    def today(self) -> date:
        """Return the device's local date."""
        return dt_util.utcnow().astimezone(self.timezone()).date()

    @callback
    def async_start(self) -> None:
        """Import a minute after Home Assistant started, then every hour."""
        if not recorder_running(self._hass):
            _LOGGER.info("Without the recorder, the device's history is not imported")
            return

        @callback
        def started(_hass: HomeAssistant) -> None:
            self._entry.async_on_unload(
                async_call_later(self._hass, HISTORY_FIRST_DELAY, self.async_schedule)
            )
            self._entry.async_on_unload(
                async_track_time_interval(
                    self._hass, self.async_schedule, HISTORY_INTERVAL
                )
            )

        self._entry.async_on_unload(async_at_started(self._hass, started))

    @property
    def running(self) -> bool:
        """Return True while an import runs in the background."""
        return self._task is not None and not self._task.done()

    @callback
    def async_schedule(self, _now: datetime | None = None) -> None:
        """Start an import in the background unless one runs."""
        if self.supported and not self.running:
            self._task = self._entry.async_create_background_task(
                self._hass, self._async_run(), f"{DOMAIN} history import"
            )

    async def _async_run(self) -> None:
        try:
            await self.async_backfill()
        except NotOurDeviceError:
            _LOGGER.debug("Another device answers: no history imported this hour")
        except WattwaechterNotSupportedError:
            _LOGGER.info("This firmware keeps no history: the import is off")
            self.supported = False
        except WattwaechterError as err:
            _LOGGER.warning("History import stopped (%s); trying again in an hour", err)

    async def async_backfill(self) -> int:
        """Import the hours since the newest row, and the days that had no data."""
        tz = self.timezone()
        keep = LOW_RES_DAYS if self.daily else HIGH_RES_DAYS
        start = midnight(self.today() - timedelta(days=keep - 1), tz)
        newest = [await last_start(self._hass, i) for i in self.statistic_ids.values()]
        if all(newest):
            start = max(start, min(s for s in newest if s) + HOUR)
        rows = 0
        for day in sorted(self._pending):
            if midnight(day, tz) < start:
                rows += await self.async_import_days(day, day)
        return rows + await self._async_import(start, int(dt_util.utcnow().timestamp()))

    async def async_import_days(self, first: date, last: date) -> int:
        """Import the local days ``first`` to ``last``; hours with a row stay."""
        tz = self.timezone()
        now = int(dt_util.utcnow().timestamp())
        end = min(midnight(last + timedelta(days=1), tz), now)
        return await self._async_import(midnight(first, tz), end)

    async def _async_import(self, start: int, end: int) -> int:
        """Import the hours in [start, end) that are over and have no row.

        Days whose hours all have rows are not read again.
        """
        async with self._lock:
            tz, today = self.timezone(), self.today()
            now = int(dt_util.utcnow().timestamp())
            end = min(end, now - now % HOUR)
            ids = self.statistic_ids
            existing = await read_rows(self._hass, set(ids.values()), start - 86_400)
            done = _Done([existing[ids[kind]] for kind in KINDS], tz, start, end)
            cursors = {kind: SumCursor(existing[ids[kind]]) for kind in KINDS}
            slots = {kind: SlotHours(kind) for kind in KINDS}
            keep = LOW_RES_DAYS if self.daily else HIGH_RES_DAYS
            oldest = today - timedelta(days=keep - 1)
            self._pending = {day for day in self._pending if day >= oldest}
            day = max(datetime.fromtimestamp(start, tz).date(), oldest)
            last_day = min(today, datetime.fromtimestamp(end - 1, tz).date())
            rows, seen_data = 0, False
            meta: dict[str, StatisticMetaData] = {}
            while start < end and day <= last_day:
                if done.day(day, daily=(today - day).days >= HIGH_RES_DAYS):
                    day += timedelta(days=1)
                    continue
                if not meta:
                    if not await self.reader.ours():
                        raise NotOurDeviceError
                    meta = {
                        kind: metadata(ids[kind], await self._async_name(kind))
                        for kind in KINDS
                    }
                hours, following = await self._async_hours(day, last_day, end, slots)
                if any(hours.values()):
                    seen_data = True
                    self._pending.discard(day)
                elif seen_data and following == day + timedelta(days=1):
                    self._pending.add(day)  # a gap: ask again at the next run
                for kind in KINDS:
                    new = [
                        (hour.start, row)
                        for hour in hours[kind]
                        if start <= hour.start
                        and hour.start + HOUR <= end
                        and (row := cursors[kind].row(hour)) is not None
                    ]
                    write(self._hass, meta[kind], new)
                    rows += len(new)
                day = following
            return rows

    async def _async_hours(
        self, day: date, last_day: date, end: int, slots: dict[str, SlotHours]
    ) -> tuple[dict[str, list[Hour]], date]:
        """Read the device from ``day`` on; return its hours and the next day."""
        tz, today = self.timezone(), self.today()
        if (today - day).days >= HIGH_RES_DAYS:
            newest_daily = today - timedelta(days=HIGH_RES_DAYS)
            chunk_end = min(
                last_day, newest_daily, day + timedelta(days=MAX_LOW_RES_DAYS - 1)
            )
            items = await self.reader.low_res(day, chunk_end)
            hours = {kind: daily_hours(items, kind, tz) for kind in KINDS}
            return hours, chunk_end + timedelta(days=1)
        following = day + timedelta(days=1)
        slot_items = await self.reader.high_res(day)
        if slot_items is None:
            self._pending.add(day)  # the device kept failing: ask at the next run
        hours = {}
        for kind, builder in slots.items():
            builder.add(slot_items or ())
            boundary = min(midnight(following, tz), end)
            if day >= today:  # only the hours whose last slot the device has
                boundary = min(boundary, builder.latest or boundary)
            hours[kind] = builder.pop_closed(boundary)
        return hours, following

    async def _async_name(self, kind: str) -> str:
        """Return the statistic's name, after the entry, in the user's language."""
        translations = await async_get_translations(
            self._hass, self._hass.config.language, "entity", {DOMAIN}
        )
        key = f"component.{DOMAIN}.entity.sensor.statistic_{kind}.name"
        template = translations.get(key) or "{device} " + kind.replace("_", " ")
        return template.replace("{device}", self._entry.title)


class _Done:
    """Tells which days of a run already have their rows (both statistics)."""

    def __init__(
        self, existing: list[dict[int, Row]], tz: tzinfo, start: int, end: int
    ) -> None:
        """Look at the rows ``existing`` of the hours [start, end)."""
        self._existing = existing
        self._tz = tz
        self._start = start
        self._end = end

    def day(self, day: date, *, daily: bool) -> bool:
        """Return True if the day needs no reading.

        A day known only as a daily value counts when its midnight row exists;
        a 15-minute day when every hour of it in the range has a row.
        """
        first = max(midnight(day, self._tz), self._start)
        if daily:
            hours: range | tuple[int] = (first - first % HOUR,)
        else:
            last = min(midnight(day + timedelta(days=1), self._tz), self._end)
            hours = range(first - first % HOUR, last, HOUR)
        return all(hour in rows for rows in self._existing for hour in hours)
