"""The device's history (``highRes``, ``lowRes``), parsed leniently."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from .models import JsonObject, as_float, as_int, as_list, as_object, as_str


@dataclass(frozen=True, slots=True)
class HighResItem:
    """One 15-minute slot of ``/history/highRes``: readings at its start (kWh)."""

    timestamp: int
    import_total_kwh: float | None
    export_total_kwh: float | None
    import_kw: float | None
    export_kw: float | None


def high_res_items(data: Any) -> tuple[HighResItem, ...]:
    """Parse the slots of one local day; items without a timestamp are skipped."""
    return tuple(
        HighResItem(
            timestamp=timestamp,
            import_total_kwh=as_float(item.get("import_total_kWh")),
            export_total_kwh=as_float(item.get("export_total_kWh")),
            import_kw=as_float(item.get("import_kW")),
            export_kw=as_float(item.get("export_kW")),
        )
        for item, timestamp in _timed_items(data)
    )


@dataclass(frozen=True, slots=True)
class LowResItem:
    """One day of ``/history/lowRes``: the reading at its start and its energy."""

    day: date | None
    timestamp: int
    import_total_kwh: float | None
    export_total_kwh: float | None
    import_kwh: float | None
    export_kwh: float | None


def low_res_items(data: Any) -> tuple[LowResItem, ...]:
    """Parse the days; items without a timestamp are skipped."""
    return tuple(
        LowResItem(
            day=_parse_date(item.get("date")),
            timestamp=timestamp,
            import_total_kwh=as_float(item.get("import_total_kWh")),
            export_total_kwh=as_float(item.get("export_total_kWh")),
            import_kwh=as_float(item.get("import_kWh")),
            export_kwh=as_float(item.get("export_kWh")),
        )
        for item, timestamp in _timed_items(data)
    )


def _timed_items(data: Any) -> Iterator[tuple[JsonObject, int]]:
    for item in map(as_object, as_list(as_object(data).get("items"))):
        if (timestamp := as_int(item.get("timestamp"))) is not None:
            yield item, timestamp


def _parse_date(value: Any) -> date | None:
    """Parse YYYY-MM-DD (or the date part of an ISO timestamp)."""
    text = as_str(value)
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None
