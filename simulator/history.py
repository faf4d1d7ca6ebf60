"""``/history/highRes`` and ``/history/lowRes``, consistent with the counters.

Both are computed from the same slot energies as the live counters
(see ``meter.py``), in the device's local time zone (``settings.timezone``);
readings come from the same ``Counter`` as ``/history/latest``, so a meter
exchange shows in both. Consumption is always the physical one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
import math
import random
import re
from typing import Any
from zoneinfo import ZoneInfo

from .counter import Counter
from .meter import SLOT_SECONDS, to_kilo

HIGH_RES_RETENTION_DAYS = 30
"""15-minute data is kept for 30 days (today included)."""
LOW_RES_RETENTION_DAYS = 730
"""Daily data is kept for two years."""
MAX_LOW_RES_DAYS = 31
"""Most days one lowRes request may ask for."""

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class HistoryError(Exception):
    """A history request the device answers with 400."""

    def __init__(self, message: str) -> None:
        """Store the message sent as ``{"error": message}``."""
        super().__init__(message)
        self.message = message


def parse_day(text: str | None) -> date:
    """Parse a ``YYYY-MM-DD`` query value or raise HistoryError."""
    if text is None or not _DATE_RE.match(text):
        raise HistoryError("Invalid date")
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise HistoryError("Invalid date") from err


def parse_days(text: str) -> int:
    """Parse the ``days`` query value (a positive integer) or raise HistoryError."""
    if not text.isdigit():
        raise HistoryError("Invalid days")
    return int(text)


def local_today(now: float, tz: ZoneInfo) -> date:
    """Return the local calendar date at ``now``."""
    return datetime.fromtimestamp(now, tz).date()


def local_midnight(day: date, tz: ZoneInfo) -> int:
    """Return the epoch of local midnight starting ``day``."""
    return math.floor(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())


def _first_slot(epoch: int) -> int:
    """Return the first slot starting at or after ``epoch``."""
    return -(-epoch // SLOT_SECONDS)


class NoData(HistoryError):
    """No data for the asked day(s): 400 on older firmware, 204 from 1.3 on."""


@dataclass(frozen=True)
class Memory:
    """Which local days the device has history for."""

    now: float
    """Simulator time."""
    tz: ZoneInfo
    """Local time zone of the device."""
    history_days: int
    """How long the device has existed (days)."""
    gaps: frozenset[str] = frozenset()
    """ISO dates without any data."""

    @property
    def today(self) -> date:
        """Return the local date at ``now``."""
        return local_today(self.now, self.tz)

    def check(self, day: date, keep_days: int) -> None:
        """Raise NoData unless ``day`` is in the last ``keep_days`` days, no gap."""
        today = self.today
        if day > today:
            raise NoData("Date is in the future")
        keep = min(keep_days, self.history_days)
        if keep <= 0 or (today - day).days >= keep or day.isoformat() in self.gaps:
            raise NoData("No data for requested date")


def high_res(counter: Counter, memory: Memory, day: date) -> dict[str, Any]:
    """Return the completed 15-minute slots of local ``day``."""
    memory.check(day, HIGH_RES_RETENTION_DAYS)
    tz, model = memory.tz, counter.model
    first = _first_slot(local_midnight(day, tz))
    end = _first_slot(local_midnight(day + timedelta(days=1), tz))
    end = min(end, math.floor(memory.now / SLOT_SECONDS))  # completed slots only
    if end <= first:
        raise NoData("No data for requested date")
    volume = model.medium != "electricity"
    items: list[dict[str, Any]] = []
    sum_imp = sum_exp = 0
    for slot in range(first, end):
        start = slot * SLOT_SECONDS
        imp, exp = model.slot_energy(slot)
        reading = counter.reading_at_slot(slot)
        wall = datetime.fromtimestamp(start, tz).strftime("%Y-%m-%dT%H:%M")
        if volume:
            jitter = random.Random(f"flow:{model.seed}:{slot}").random()
            items.append(
                {
                    "date": wall,
                    "timestamp": start,
                    "import_total_m3": to_kilo(reading.imp),
                    "import_m3h": round(imp * 4 / 1000, 3),
                    "flow_m3h": round(imp * 4 * (0.8 + 0.4 * jitter) / 1000, 3),
                }
            )
        else:
            items.append(
                {
                    "date": wall,
                    "timestamp": start,
                    "import_total_kWh": to_kilo(reading.imp),
                    "export_total_kWh": to_kilo(reading.exp),
                    "import_kW": round(imp * 4 / 1000, 3),
                    "export_kW": round(exp * 4 / 1000, 3),
                    "power_W": (imp - exp) * 4,
                }
            )
        sum_imp += imp
        sum_exp += exp
    body: dict[str, Any] = {"start": day.isoformat(), "days": 1, "items": items}
    if volume:
        body["consumption_m3"] = to_kilo(sum_imp)
    else:
        body["import_total_kWh"] = to_kilo(sum_imp)
        body["export_total_kWh"] = to_kilo(sum_exp)
    return body


def low_res(
    counter: Counter, memory: Memory, start: date, days: int, *, skip_empty: bool
) -> dict[str, Any]:
    """Return one item per local day with data from ``start`` (up to today).

    Older firmware refuses a range whose first day has no data; with
    ``skip_empty`` (firmware 1.3) days without data are left out, and a
    range without any raises NoData.
    """
    if not 1 <= days <= MAX_LOW_RES_DAYS:
        raise HistoryError("Invalid days")
    if not skip_empty:
        memory.check(start, LOW_RES_RETENTION_DAYS)
    tz, model = memory.tz, counter.model
    completed = math.floor(memory.now / SLOT_SECONDS)
    volume = model.medium != "electricity"
    items: list[dict[str, Any]] = []
    sum_imp = sum_exp = 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        try:
            memory.check(day, LOW_RES_RETENTION_DAYS)
        except NoData:
            continue
        midnight = local_midnight(day, tz)
        first = _first_slot(midnight)
        end = min(_first_slot(local_midnight(day + timedelta(days=1), tz)), completed)
        reading = counter.reading_at_slot(first)
        imp0, exp0 = model.reading_at_slot(first)
        imp1, exp1 = model.reading_at_slot(max(end, first))
        sum_imp += imp1 - imp0
        sum_exp += exp1 - exp0
        item: dict[str, Any] = {"date": day.isoformat(), "timestamp": midnight}
        if volume:
            item["import_total_m3"] = to_kilo(reading.imp)
            item["import_m3"] = to_kilo(imp1 - imp0)
        else:
            item["import_total_kWh"] = to_kilo(reading.imp)
            item["export_total_kWh"] = to_kilo(reading.exp)
            item["import_kWh"] = to_kilo(imp1 - imp0)
            item["export_kWh"] = to_kilo(exp1 - exp0)
        items.append(item)
    if not items:
        raise NoData("No data for requested range")
    body: dict[str, Any] = {"start": start.isoformat()}
    if volume:
        # The vendor's gas/water example carries "days"; electricity omits it.
        body["days"] = days
        body["items"] = items
        body["consumption_m3"] = to_kilo(sum_imp)
    else:
        body["items"] = items
        body["import_total_kWh"] = to_kilo(sum_imp)
        body["export_total_kWh"] = to_kilo(sum_exp)
    return body
