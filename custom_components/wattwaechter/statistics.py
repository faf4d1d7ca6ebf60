"""History backfill: the device's own memory as external long-term statistics.

The WattWächter keeps 15-minute readings for 30 days and daily values for two
years. This module turns them into hourly rows of two external statistics per
device, ``wattwaechter:<device id>_energy_import`` and ``..._energy_export``
(kWh), which the Energy dashboard can use. A time when Home Assistant was
down, restarting or not yet installed then has no hole.

Rows. The row of the UTC hour H holds ``state``, the meter reading at the end
of H, and ``sum``, the energy counted since the first imported hour. ``sum``
grows by the difference between the readings at the ends of consecutive rows,
so it follows the meter register to the Wh. Energy of slots the device did not
record is counted in the next hour that has data, as Home Assistant's own
statistics of a ``total_increasing`` sensor would do. A reading that drops (a
new meter) adds only that hour's own energy.

Where the readings come from:

* 15-minute items (the last 30 days): ``import_total_kWh`` is the reading at
  the start of the slot. The reading at the end of a slot with no successor
  (the last one so far, or one before a gap) is its start reading plus
  ``import_kW`` x 0.25 h. An hour is imported once it is over and the device
  has its last slot, so a row never has to change later.
* Daily items (days older than 30 days, only when the user opts in): one row
  per day, at the hour of the day's local midnight, holding the whole day's
  energy. Spreading a day over 24 rows would invent a load profile; one row
  keeps daily, weekly and monthly totals exact and shows in the hourly view
  that only a daily value is known.

Existing rows are never changed: only hours without a row are imported. A new
row continues from the nearest earlier row or, before all existing rows, lines
up with the first later one. Requests go through the client at
``Priority.BACKFILL``, one at a time and at least ``REQUEST_SPACING`` apart, so
live polling keeps its cadence and the device keeps headroom for other clients.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import partial
import logging
import time
from typing import Any, Final, cast

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    get_last_statistics,
    statistics_during_period,
)
from homeassistant.const import CONF_MODEL, UnitOfEnergy
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util, slugify
from homeassistant.util.unit_conversion import EnergyConverter

from .api import (
    CAUSE_BACKFILL,
    HighResItem,
    LowResItem,
    Priority,
    WattwaechterBadResponseError,
    WattwaechterClient,
    WattwaechterError,
    WattwaechterRetryLaterError,
    request_cause,
)
from .const import (
    BACKFILL_INTERVAL,
    CONF_DAILY_HISTORY,
    DOMAIN,
    HIGH_RES_DAYS,
    LOW_RES_DAYS,
    TXT_MODEL_IDS,
)
from .coordinator import WattwaechterConfigEntry
from .entity import device_id

_LOGGER = logging.getLogger(__name__)

IMPORT: Final = "energy_import"
EXPORT: Final = "energy_export"
KINDS: Final = (IMPORT, EXPORT)

SLOT_SECONDS: Final = 900
HOUR_SECONDS: Final = 3600
MAX_LOW_RES_DAYS: Final = 31
"""Most days one ``/history/lowRes`` request may ask for."""
MAX_ATTEMPTS: Final = 3
"""Tries per request when the device (or the budget) asks to wait."""
REQUEST_SPACING = 2.0
"""Least seconds between two backfill requests: at most 5 per 10 s."""

DEFAULT_NAMES: Final = {
    IMPORT: "{device} energy import (device history)",
    EXPORT: "{device} energy export (device history)",
}
"""Statistic names when the translations cannot be loaded."""

# ``unit_class`` is in the metadata from HA 2025.11 on; before, the metadata is
# splatted into the database model, which has no such column.
UNIT_CLASS_SUPPORTED: Final = "unit_class" in StatisticMetaData.__annotations__


def statistic_metadata(
    statistic_id: str, name: str, *, unit_class: bool = UNIT_CLASS_SUPPORTED
) -> StatisticMetaData:
    """Return the metadata of an external kWh statistic with a sum and no mean."""
    metadata: dict[str, Any] = {
        "has_sum": True,
        "mean_type": StatisticMeanType.NONE,
        "name": name,
        "source": DOMAIN,
        "statistic_id": statistic_id,
        "unit_of_measurement": UnitOfEnergy.KILO_WATT_HOUR,
    }
    if unit_class:
        metadata["unit_class"] = EnergyConverter.UNIT_CLASS
    else:
        # The versions without unit_class still list the deprecated has_mean.
        metadata["has_mean"] = False
    return cast(StatisticMetaData, metadata)


def _wh(kwh: float) -> int:
    """Return kWh as whole Wh."""
    return round(kwh * 1000)


def _total(item: HighResItem | LowResItem, kind: str) -> float | None:
    """Return the meter reading (kWh) of one direction."""
    return item.import_total_kwh if kind == IMPORT else item.export_total_kwh


def _midnight(day: date, tz: tzinfo) -> int:
    """Return the epoch of local midnight starting ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())


@dataclass(frozen=True, slots=True)
class HourReading:
    """Meter readings (Wh) of one UTC hour: its first data point and its end."""

    start: int
    first: int
    last: int


class HourlyReadings:
    """Collects the readings of 15-minute items and cuts them into hours."""

    def __init__(self, kind: str) -> None:
        """Collect the readings of ``IMPORT`` or ``EXPORT``."""
        self._kind = kind
        # epoch -> (reading Wh, whether a slot starts there)
        self._points: dict[int, tuple[int, bool]] = {}

    def add(self, items: Iterable[HighResItem]) -> None:
        """Add the slots of one day."""
        ordered = sorted(items, key=lambda item: item.timestamp)
        for index, item in enumerate(ordered):
            total = _total(item, self._kind)
            if total is None:
                continue
            reading = _wh(total)
            # A reading at a slot start beats the estimate from the slot before.
            self._points[item.timestamp] = (reading, True)
            following = ordered[index + 1] if index + 1 < len(ordered) else None
            if (
                following is not None
                and following.timestamp == item.timestamp + SLOT_SECONDS
                and _total(following, self._kind) is not None
            ):
                continue
            power = item.import_kw if self._kind == IMPORT else item.export_kw
            if power is not None and power >= 0:
                end = item.timestamp + SLOT_SECONDS
                self._points.setdefault(end, (reading + round(power * 250), False))

    @property
    def latest(self) -> int | None:
        """Return the time of the newest reading, if any."""
        return max(self._points, default=None)

    def pop_closed(self, boundary: int) -> list[HourReading]:
        """Return the hours over by ``boundary`` that have a slot; forget them.

        A reading at the full hour ends one hour and starts the next, so it is
        kept for the hour after ``boundary``.
        """
        cut = boundary - boundary % HOUR_SECONDS
        times = sorted(self._points)
        hours: list[HourReading] = []
        index = 0
        while index < len(times) and times[index] < cut:
            start = times[index] - times[index] % HOUR_SECONDS
            end = start + HOUR_SECONDS
            last = index
            while last + 1 < len(times) and times[last + 1] <= end:
                last += 1
            if any(self._points[t][1] for t in times[index : last + 1] if t < end):
                first = self._points[times[index]][0]
                hours.append(HourReading(start, first, self._points[times[last]][0]))
            index = last if times[last] == end else last + 1
        for moment in times:
            if moment < cut:
                del self._points[moment]
        return hours


def daily_readings(
    items: Iterable[LowResItem], kind: str, tz: tzinfo
) -> list[HourReading]:
    """Return one reading per day, at the UTC hour of its local midnight."""
    readings: list[HourReading] = []
    for item in items:
        total = _total(item, kind)
        energy = item.import_kwh if kind == IMPORT else item.export_kwh
        if total is None or energy is None or energy < 0:
            continue
        start = _midnight(item.day, tz) if item.day else item.timestamp
        first = _wh(total)
        readings.append(
            HourReading(start - start % HOUR_SECONDS, first, first + _wh(energy))
        )
    return sorted(readings, key=lambda reading: reading.start)


class SumCursor:
    """Continues the ``sum`` of one statistic over new hours, around existing rows.

    Hours must be passed in time order.
    """

    def __init__(self, existing: Mapping[int, tuple[int, int]]) -> None:
        """Start with the existing rows: hour start -> (state Wh, sum Wh)."""
        self._existing = existing
        self._starts = sorted(existing)
        self._index = 0
        self._previous: tuple[int, int] | None = None

    def row(self, hour: HourReading) -> tuple[int, int] | None:
        """Return (state, sum) in Wh of a new row, or None if the hour has one."""
        starts = self._starts
        while self._index < len(starts) and starts[self._index] < hour.start:
            self._previous = self._existing[starts[self._index]]
            self._index += 1
        if hour.start in self._existing:
            return None
        if self._previous is not None:
            state, total = self._previous
            # A reading below the previous one is a new meter: count this
            # hour's own energy only.
            base = hour.first if hour.first < state else state
            new_sum = total + max(0, hour.last - base)
        elif self._index < len(self._starts):
            # Before every existing row: line up with the first later one.
            state, total = self._existing[self._starts[self._index]]
            new_sum = hour.last - (state - total)
        else:
            new_sum = max(0, hour.last - hour.first)
        self._previous = (hour.last, new_sum)
        return self._previous


class HistoryImportError(HomeAssistantError):
    """Reading the device's history failed; the rows imported so far stay."""


@dataclass
class ImportResult:
    """What one import run did."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    requests: int = 0
    seconds: float = 0.0


class HistoryImporter:
    """Imports one device's history into its two external statistics."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattwaechterConfigEntry,
        client: WattwaechterClient,
    ) -> None:
        """Prepare the importer; nothing runs before ``async_start``."""
        self._hass = hass
        self._entry = entry
        self._client = client
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._next_request = 0.0
        self._failing = False
        self.requests = 0
        """Requests sent by the importer since setup."""
        object_id = slugify(device_id(entry))
        self.statistic_ids: dict[str, str] = {
            kind: f"{DOMAIN}:{object_id}_{kind}" for kind in KINDS
        }

    @property
    def supported(self) -> bool:
        """Return whether the device reads electricity (gas/water has no kWh)."""
        system = self._entry.runtime_data.system.data
        stored = self._entry.data.get(CONF_MODEL)
        model = (system.model_id if system else None) or TXT_MODEL_IDS.get(
            stored or "", stored
        )
        return not (model or "").startswith("ww_gw")

    @property
    def daily_history(self) -> bool:
        """Return whether the user opted in to daily values for older days."""
        return bool(self._entry.options.get(CONF_DAILY_HISTORY, False))

    @property
    def timezone(self) -> tzinfo:
        """Return the device's time zone: its history is in its local days.

        The controls coordinator reads the device's settings anyway; without a
        valid zone there, Home Assistant's is the best guess.
        """
        name = self._entry.runtime_data.controls.data.settings.timezone
        zone = dt_util.get_time_zone(name) if name else None
        return zone or dt_util.get_default_time_zone()

    def today(self) -> date:
        """Return the device's local date."""
        return dt_util.utcnow().astimezone(self.timezone).date()

    @callback
    def async_start(self) -> None:
        """Fill the gap since the last imported hour, then update every hour.

        At Home Assistant's start this waits until it has started, so the
        import does not slow the start down.
        """
        self._entry.async_on_unload(async_at_started(self._hass, self._async_begin))

    @callback
    def _async_begin(self, _hass: HomeAssistant) -> None:
        """Run the first backfill now and the next ones hourly."""
        self._entry.async_on_unload(
            async_track_time_interval(
                self._hass,
                self._async_on_interval,
                BACKFILL_INTERVAL,
                name=f"{DOMAIN} history backfill",
            )
        )
        self.async_schedule_backfill()

    @callback
    def _async_on_interval(self, _now: datetime) -> None:
        """Bring the statistics up to date."""
        self.async_schedule_backfill()

    @callback
    def async_schedule_backfill(self) -> None:
        """Start a backfill in the background unless one is running."""
        if self._task is not None and not self._task.done():
            return
        self._task = self._entry.async_create_background_task(
            self._hass,
            self._async_backfill_logged(),
            f"{DOMAIN} history backfill {self._client.host}",
        )

    async def _async_backfill_logged(self) -> None:
        """Run a backfill; log a failure once and the recovery once."""
        try:
            await self.async_backfill()
        except HistoryImportError as err:
            if not self._failing:
                _LOGGER.warning("%s; trying again in an hour", err)
            self._failing = True
        else:
            if self._failing:
                _LOGGER.info("History import from %s works again", self._client.host)
            self._failing = False

    async def async_backfill(self) -> ImportResult:
        """Import every hour since the last imported one (30 days at first)."""
        if not self.supported:
            return ImportResult()
        async with self._lock:
            if not await get_instance(self._hass).async_db_ready:
                return ImportResult()
            tz = self.timezone
            now = dt_util.utcnow()
            today = now.astimezone(tz).date()
            keep = LOW_RES_DAYS if self.daily_history else HIGH_RES_DAYS
            oldest = _midnight(today - timedelta(days=keep - 1), tz)
            last = await self._async_last_hour()
            start = oldest if last is None else max(oldest, last + HOUR_SECONDS)
            return await self._async_import(start, int(now.timestamp()), tz, today)

    async def async_import_days(self, first: date, last: date) -> ImportResult:
        """Import the local days ``first`` to ``last``; hours with a row are kept.

        Runs as a background task of the entry, so unloading cancels it.
        """
        task = self._entry.async_create_background_task(
            self._hass,
            self._async_import_days(first, last),
            f"{DOMAIN} history import {self._client.host}",
        )
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
            raise HistoryImportError(
                translation_domain=DOMAIN,
                translation_key="history_import_cancelled",
                translation_placeholders={"host": self._client.host},
            ) from None

    async def _async_import_days(self, first: date, last: date) -> ImportResult:
        """Import whole local days (see ``async_import_days``)."""
        async with self._lock:
            tz = self.timezone
            now = dt_util.utcnow()
            today = now.astimezone(tz).date()
            end = min(
                _midnight(min(last, today) + timedelta(days=1), tz),
                int(now.timestamp()),
            )
            return await self._async_import(_midnight(first, tz), end, tz, today)

    async def _async_import(
        self, start: int, end: int, tz: tzinfo, today: date
    ) -> ImportResult:
        """Import the hours in [start, end) that are over and have no row."""
        if start >= end:
            return ImportResult()
        began = time.monotonic()
        requests = self.requests
        existing = await self._async_existing_rows(start - 86_400)
        run = _Run(
            start=start,
            end=end,
            tz=tz,
            today=today,
            daily=self.daily_history,
            existing=existing,
            cursors={kind: SumCursor(existing[kind]) for kind in KINDS},
            builders={kind: HourlyReadings(kind) for kind in KINDS},
            metadata=await self._async_metadata(),
        )
        day = datetime.fromtimestamp(start, tz).date()
        last_day = min(today, datetime.fromtimestamp(end - 1, tz).date())
        while day <= last_day:
            day, readings = await self._async_readings(run, day, last_day)
            self._async_add_rows(run, readings)
        run.result.requests = self.requests - requests
        run.result.seconds = time.monotonic() - began
        _LOGGER.debug(
            "Imported %s hours of history from %s in %.1f s with %s requests",
            run.result.rows[IMPORT],
            self._client.host,
            run.result.seconds,
            run.result.requests,
        )
        return run.result

    async def _async_readings(
        self, run: _Run, day: date, last_day: date
    ) -> tuple[date, dict[str, list[HourReading]]]:
        """Read the device's history from ``day`` on; return the next day to read.

        One request: a day of 15-minute items, or up to 31 days of daily values
        (with bisection when the device's memory starts inside them).
        """
        age = (run.today - day).days
        if age < HIGH_RES_DAYS:
            following = day + timedelta(days=1)
            if run.covered(day, following):
                return following, {}
            high_res = await self._async_fetch(
                partial(self._client.history_high_res, day, Priority.BACKFILL)
            )
            readings: dict[str, list[HourReading]] = {}
            for kind, builder in run.builders.items():
                if high_res is not None:
                    builder.add(high_res.items)
                boundary = min(_midnight(following, run.tz), run.end)
                if day >= run.today:
                    # Today: only hours whose last slot the device already has.
                    boundary = min(boundary, builder.latest or boundary)
                readings[kind] = builder.pop_closed(boundary)
            return following, readings
        if run.daily and age < LOW_RES_DAYS:
            chunk_end = min(
                last_day,
                run.today - timedelta(days=HIGH_RES_DAYS),
                day + timedelta(days=MAX_LOW_RES_DAYS - 1),
            )
            following = chunk_end + timedelta(days=1)
            if run.days_covered(day, following):
                return following, {}
            items = await self._async_low_res(day, chunk_end)
            return following, {
                kind: daily_readings(items, kind, run.tz) for kind in KINDS
            }
        # Older than the device keeps, or daily values are not wanted.
        keep = LOW_RES_DAYS if run.daily else HIGH_RES_DAYS
        return max(day + timedelta(days=1), run.today - timedelta(days=keep - 1)), {}

    @callback
    def _async_add_rows(
        self, run: _Run, readings: Mapping[str, list[HourReading]]
    ) -> None:
        """Queue the rows of the hours that are in the run and have none yet."""
        for kind, hours in readings.items():
            rows: list[StatisticData] = []
            for hour in hours:
                if hour.start < run.start or hour.start + HOUR_SECONDS > run.end:
                    continue
                if (row := run.cursors[kind].row(hour)) is None:
                    continue
                rows.append(
                    StatisticData(
                        start=datetime.fromtimestamp(hour.start, UTC),
                        state=row[0] / 1000,
                        sum=row[1] / 1000,
                    )
                )
            if rows:
                async_add_external_statistics(self._hass, run.metadata[kind], rows)
                run.result.rows[kind] += len(rows)

    async def _async_low_res(self, first: date, last: date) -> list[LowResItem]:
        """Return the daily items of ``first`` to ``last`` that the device has.

        The device refuses a range that starts before its memory does; then
        the first day it has is found by bisection.
        """
        days = (last - first).days + 1
        low_res = await self._async_fetch(
            partial(self._client.history_low_res, first, days, Priority.BACKFILL)
        )
        if low_res is not None:
            return list(low_res.items)
        if days == 1 or not await self._async_has_day(last):
            return []
        low, high = first + timedelta(days=1), last  # `high` has data
        while low < high:
            middle = low + timedelta(days=(high - low).days // 2)
            if await self._async_has_day(middle):
                high = middle
            else:
                low = middle + timedelta(days=1)
        low_res = await self._async_fetch(
            partial(
                self._client.history_low_res,
                low,
                (last - low).days + 1,
                Priority.BACKFILL,
            )
        )
        return [] if low_res is None else list(low_res.items)

    async def _async_has_day(self, day: date) -> bool:
        """Return whether the device has a daily value for ``day``."""
        low_res = await self._async_fetch(
            partial(self._client.history_low_res, day, 1, Priority.BACKFILL)
        )
        return low_res is not None

    async def _async_fetch[T](self, request: Callable[[], Awaitable[T]]) -> T | None:
        """Send one request at the backfill's pace; None when the device has no data.

        The device answers 400 for a day it has no data for. A 429/503 (or a
        budget without a slot) is retried after the delay asked for; any other
        failure ends the run with a HistoryImportError.
        """
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            attempt += 1
            if (delay := self._next_request - loop.time()) > 0:
                await asyncio.sleep(delay)
            self.requests += 1
            wait = REQUEST_SPACING
            try:
                with request_cause(CAUSE_BACKFILL):
                    return await request()
            except WattwaechterBadResponseError as err:
                if err.status == 400:
                    return None
                raise self._error(err) from err
            except WattwaechterRetryLaterError as err:
                if attempt >= MAX_ATTEMPTS:
                    raise self._error(err) from err
                wait = max(wait, err.retry_after)
            except WattwaechterError as err:
                raise self._error(err) from err
            finally:
                self._next_request = loop.time() + wait

    def _error(self, err: WattwaechterError) -> HistoryImportError:
        """Return the translated error that ends an import run."""
        return HistoryImportError(
            translation_domain=DOMAIN,
            translation_key="history_import_failed",
            translation_placeholders={"host": self._client.host, "error": str(err)},
        )

    async def _async_last_hour(self) -> int | None:
        """Return the start of the older of the two last rows; None if one has none."""
        instance = get_instance(self._hass)
        await instance.async_block_till_done()  # imports queued before are written
        starts: list[int] = []
        for statistic_id in self.statistic_ids.values():
            last = await instance.async_add_executor_job(
                get_last_statistics, self._hass, 1, statistic_id, False, {"sum"}
            )
            if not (rows := last.get(statistic_id)):
                return None
            starts.append(int(rows[0]["start"]))
        return min(starts)

    async def _async_existing_rows(
        self, since: int
    ) -> dict[str, dict[int, tuple[int, int]]]:
        """Return the rows from ``since`` on: hour start -> (state Wh, sum Wh)."""
        instance = get_instance(self._hass)
        await instance.async_block_till_done()
        stats = await instance.async_add_executor_job(
            statistics_during_period,
            self._hass,
            datetime.fromtimestamp(since, UTC),
            None,
            set(self.statistic_ids.values()),
            "hour",
            None,
            {"state", "sum"},
        )
        return {
            kind: {
                int(row["start"]): (
                    _wh(row.get("state") or 0.0),
                    _wh(row.get("sum") or 0.0),
                )
                for row in stats.get(statistic_id, [])
            }
            for kind, statistic_id in self.statistic_ids.items()
        }

    async def _async_metadata(self) -> dict[str, StatisticMetaData]:
        """Return the metadata, named after the entry in the user's language."""
        translations = await async_get_translations(
            self._hass, self._hass.config.language, "entity", {DOMAIN}
        )
        metadata: dict[str, StatisticMetaData] = {}
        for kind, statistic_id in self.statistic_ids.items():
            key = f"component.{DOMAIN}.entity.sensor.statistic_{kind}.name"
            template = translations.get(key) or DEFAULT_NAMES[kind]
            name = template.replace("{device}", self._entry.title)
            metadata[kind] = statistic_metadata(statistic_id, name)
        return metadata


@dataclass(kw_only=True)
class _Run:
    """The state of one import run."""

    start: int
    end: int
    tz: tzinfo
    today: date
    daily: bool
    existing: Mapping[str, Mapping[int, tuple[int, int]]]
    cursors: Mapping[str, SumCursor]
    builders: Mapping[str, HourlyReadings]
    metadata: Mapping[str, StatisticMetaData]
    result: ImportResult = field(default_factory=ImportResult)

    def days_covered(self, first: date, following: date) -> bool:
        """Return whether each day from ``first`` to ``following`` has its row.

        A day of daily values has one row, at the hour of its local midnight.
        """
        day = first
        while day < following:
            hour = _midnight(day, self.tz)
            hour -= hour % HOUR_SECONDS
            if (
                self.start <= hour
                and hour + HOUR_SECONDS <= self.end
                and any(hour not in rows for rows in self.existing.values())
            ):
                return False
            day += timedelta(days=1)
        return True

    def covered(self, first: date, following: date) -> bool:
        """Return whether the run's hours from ``first`` to ``following`` have rows."""
        low = max(self.start, _midnight(first, self.tz))
        high = min(self.end, _midnight(following, self.tz))
        hour = low + (-low) % HOUR_SECONDS
        while hour + HOUR_SECONDS <= high:
            if any(hour not in rows for rows in self.existing.values()):
                return False
            hour += HOUR_SECONDS
        return True
