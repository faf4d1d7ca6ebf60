"""The device's memory as external statistics, kept up to date.

``<device id>_energy_import`` and ``_energy_export`` get, every hour, the hours
since the newest row (30 days at first; older days as one row at local midnight
when the user opted in). Existing rows never change.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta, tzinfo
import logging
from typing import Final

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
from .history import HOUR, KINDS, Hour, SlotHours, SumCursor, daily_hours, midnight
from .reader import HistoryReader, NotOurDeviceError
from .recorder import last_rows, metadata, read_rows, write

_LOGGER = logging.getLogger(__name__)

MAX_LOW_RES_DAYS: Final = 31
ONE_DAY: Final = timedelta(days=1)


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
        self.timezone = timezone  # the device's: its history is in its local days
        self.reader = reader
        self.supported = True  # False for gas and water meters, firmware without it
        self.statistic_ids = {
            kind: f"{DOMAIN}:{slugify(device_id)}_{kind}" for kind in KINDS
        }
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._pending: set[date] = set()  # days without data: asked at each run

    @property
    def daily(self) -> bool:
        """Return whether the user opted in to daily values for older days."""
        return bool(self._entry.options.get(CONF_DAILY_HISTORY, False))

    @property
    def oldest(self) -> date:
        """Return the oldest day the import reads."""
        keep = LOW_RES_DAYS if self.daily else HIGH_RES_DAYS
        return self.today() - timedelta(days=keep - 1)

    def today(self) -> date:
        """Return the device's local date."""
        return dt_util.utcnow().astimezone(self.timezone()).date()

    def daily_only(self, day: date) -> bool:
        """Return True for a day older than the device's 15-minute memory."""
        return (self.today() - day).days >= HIGH_RES_DAYS

    def span(self, first: date, last: date) -> tuple[int, int]:
        """Return the hours [start, end) of the local days that are over."""
        tz, now = self.timezone(), int(dt_util.utcnow().timestamp())
        end = min(midnight(last + ONE_DAY, tz), now - now % HOUR)
        return midnight(first, tz), end

    @callback
    def async_start(self) -> None:
        """Import a minute after Home Assistant started, then every hour."""
        if "recorder" not in self._hass.config.components:
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
        start, end = self.span(self.oldest, self.today())
        ids = set(self.statistic_ids.values())
        if len(newest := await last_rows(self._hass, ids, end)) == len(ids):
            start = max(start, min(s for s, _row in newest.values()) + HOUR)
        earlier = [day for day in sorted(self._pending) if midnight(day, tz) < start]
        rows = [await self.async_import_days(day, day) for day in earlier]
        return sum(rows) + await self._async_import(start, end)

    async def async_import_days(self, first: date, last: date) -> int:
        """Import the local days ``first`` to ``last``; hours with a row stay."""
        return await self._async_import(*self.span(first, last))

    async def async_read_hours(
        self, first: date, last: date, end: int, done: Callable[[date], bool]
    ) -> AsyncIterator[tuple[date, date, dict[str, list[Hour]], bool]]:
        """Read the days ``first`` to ``last`` that are not ``done``, in parts.

        Yields a part's first day, the day after it, its hours before ``end``
        and whether the device kept failing; daily values come 31 days a part.
        """
        tz, today = self.timezone(), self.today()
        slots = {kind: SlotHours(kind) for kind in KINDS}
        asked, day = False, first
        while day <= last:
            if done(day):
                day += ONE_DAY
                continue
            if not asked and not await self.reader.ours():
                raise NotOurDeviceError
            asked = True
            if self.daily_only(day):
                following = ONE_DAY + min(
                    last,
                    today - timedelta(days=HIGH_RES_DAYS),
                    day + timedelta(days=MAX_LOW_RES_DAYS - 1),
                )
                items = await self.reader.low_res(day, following - ONE_DAY)
                hours = {kind: daily_hours(items, kind, tz) for kind in KINDS}
                failed = False
            else:
                following = day + ONE_DAY
                slot_items = await self.reader.high_res(day)
                boundary = min(midnight(following, tz), end)
                hours = {}
                for kind, builder in slots.items():
                    builder.add(slot_items or ())
                    # Of today only the hours whose last slot the device has.
                    latest = builder.latest if day >= today else None
                    hours[kind] = builder.pop_closed(min(boundary, latest or boundary))
                failed = slot_items is None
            yield day, following, hours, failed
            day = following

    async def _async_import(self, start: int, end: int) -> int:
        """Import the hours in [start, end) that are over and have no row."""
        async with self._lock:
            tz, oldest = self.timezone(), self.oldest
            self._pending = {day for day in self._pending if day >= oldest}
            if start >= end:
                return 0
            ids = self.statistic_ids
            existing = await read_rows(self._hass, set(ids.values()), start - 86_400)

            def done(day: date) -> bool:
                # Both statistics have a row for every hour of the day in the
                # range, or only for its midnight when it is known as a total
                # (a midnight before the range: nothing of the day to write).
                first = midnight(day, tz)
                last = min(midnight(day + ONE_DAY, tz), end)
                if self.daily_only(day):
                    last = first + 1
                first = max(first, start)
                hours = range(first - first % HOUR, last, HOUR)
                return all(hour in existing[i] for i in ids.values() for hour in hours)

            cursors = {kind: SumCursor(existing[ids[kind]]) for kind in KINDS}
            meta = {kind: metadata(ids[kind], await self._name(kind)) for kind in KINDS}
            first = max(datetime.fromtimestamp(start, tz).date(), oldest)
            last = min(self.today(), datetime.fromtimestamp(end - 1, tz).date())
            rows, seen_data = 0, False
            async for day, following, hours, failed in self.async_read_hours(
                first, last, end, done
            ):
                if any(hours.values()):
                    seen_data = True
                    self._pending.discard(day)
                elif failed or (seen_data and following == day + ONE_DAY):
                    self._pending.add(day)  # a gap: ask again at the next run
                for kind, cursor in cursors.items():
                    new = [
                        (hour.start, row)
                        for hour in hours[kind]
                        if start <= hour.start
                        and hour.start + HOUR <= end
                        and (row := cursor.row(hour)) is not None
                    ]
                    write(self._hass, meta[kind], new)
                    rows += len(new)
            return rows

    async def _name(self, kind: str) -> str:
        """Return the statistic's name, after the entry, in the user's language."""
        translations = await async_get_translations(
            self._hass, self._hass.config.language, "entity", {DOMAIN}
        )
        key = f"component.{DOMAIN}.entity.sensor.statistic_{kind}.name"
        return translations[key].replace("{device}", self._entry.title)
