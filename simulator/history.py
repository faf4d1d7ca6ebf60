"""``/history/highRes`` and ``/history/lowRes``, consistent with the counters.

Both are computed from the same slot energies as the live counters
(see ``meter.py``), in the device's local time zone (``settings.timezone``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
import math
import random
import re
from typing import Any
from zoneinfo import ZoneInfo

from .meter import SLOT_SECONDS, MeterModel, to_kilo

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


def _check_retention(day: date, today: date, keep_days: int) -> None:
    """Raise HistoryError unless ``day`` lies in the last ``keep_days`` days."""
    if day > today:
        raise HistoryError("Date is in the future")
    if keep_days <= 0 or (today - day).days >= keep_days:
        raise HistoryError("No data for requested date")


def high_res(
    model: MeterModel, tz: ZoneInfo, day: date, now: float, history_days: int
) -> dict[str, Any]:
    """Return the completed 15-minute slots of local ``day``."""
    today = local_today(now, tz)
    _check_retention(day, today, min(HIGH_RES_RETENTION_DAYS, history_days))
    first = _first_slot(local_midnight(day, tz))
    end = _first_slot(local_midnight(day + timedelta(days=1), tz))
    end = min(end, math.floor(now / SLOT_SECONDS))  # completed slots only
    if end <= first:
        raise HistoryError("No data for requested date")
    volume = model.medium != "electricity"
    items: list[dict[str, Any]] = []
    imp_start, exp_start = model.reading_at_slot(first)
    reading_imp, reading_exp = imp_start, exp_start
    for slot in range(first, end):
        start = slot * SLOT_SECONDS
        imp, exp = model.slot_energy(slot)
        wall = datetime.fromtimestamp(start, tz).strftime("%Y-%m-%dT%H:%M")
        if volume:
            jitter = random.Random(f"flow:{model.seed}:{slot}").random()
            items.append(
                {
                    "date": wall,
                    "timestamp": start,
                    "import_total_m3": to_kilo(reading_imp),
                    "import_m3h": round(imp * 4 / 1000, 3),
                    "flow_m3h": round(imp * 4 * (0.8 + 0.4 * jitter) / 1000, 3),
                }
            )
        else:
            items.append(
                {
                    "date": wall,
                    "timestamp": start,
                    "import_total_kWh": to_kilo(reading_imp),
                    "export_total_kWh": to_kilo(reading_exp),
                    "import_kW": round(imp * 4 / 1000, 3),
                    "export_kW": round(exp * 4 / 1000, 3),
                    "power_W": (imp - exp) * 4,
                }
            )
        reading_imp += imp
        reading_exp += exp
    body: dict[str, Any] = {"start": day.isoformat(), "days": 1, "items": items}
    if volume:
        body["consumption_m3"] = to_kilo(reading_imp - imp_start)
    else:
        body["import_total_kWh"] = to_kilo(reading_imp - imp_start)
        body["export_total_kWh"] = to_kilo(reading_exp - exp_start)
    return body


def low_res(
    model: MeterModel,
    tz: ZoneInfo,
    start: date,
    days: int,
    now: float,
    history_days: int,
) -> dict[str, Any]:
    """Return one item per local day from ``start`` (up to today)."""
    if not 1 <= days <= MAX_LOW_RES_DAYS:
        raise HistoryError("Invalid days")
    today = local_today(now, tz)
    _check_retention(start, today, min(LOW_RES_RETENTION_DAYS, history_days))
    completed = math.floor(now / SLOT_SECONDS)
    volume = model.medium != "electricity"
    items: list[dict[str, Any]] = []
    sum_imp = sum_exp = 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        if day > today:
            break
        midnight = local_midnight(day, tz)
        first = _first_slot(midnight)
        end = min(_first_slot(local_midnight(day + timedelta(days=1), tz)), completed)
        imp0, exp0 = model.reading_at_slot(first)
        imp1, exp1 = model.reading_at_slot(max(end, first))
        sum_imp += imp1 - imp0
        sum_exp += exp1 - exp0
        item: dict[str, Any] = {"date": day.isoformat(), "timestamp": midnight}
        if volume:
            item["import_total_m3"] = to_kilo(imp0)
            item["import_m3"] = to_kilo(imp1 - imp0)
        else:
            item["import_total_kWh"] = to_kilo(imp0)
            item["export_total_kWh"] = to_kilo(exp0)
            item["import_kWh"] = to_kilo(imp1 - imp0)
            item["export_kWh"] = to_kilo(exp1 - exp0)
        items.append(item)
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
