"""Long-term statistics through the page's websocket: read, wait for, plant.

Why: the Energy dashboard draws hourly statistics; the tour checks what it
shows against the device's own history, which the integration imports as an
external statistic, and plants the spike and hole a repair has to mend.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import time
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Page

from .runner import StepFailed, call_ws, hass_eval

HOUR = 3600


async def device_history_id(page: Page) -> str | None:
    """Return the device-history (consumption) statistic's ID, once it exists."""
    ids = await call_ws(
        page, {"type": "recorder/list_statistic_ids", "statistic_type": "sum"}
    )
    for item in ids:
        sid = item["statistic_id"]
        if sid.startswith("wattwaechter:") and sid.endswith("_energy_import"):
            return str(sid)
    return None


async def hourly(page: Page, statistic_id: str, start: int, end: int) -> dict[int, Any]:
    """Return the hourly rows in [start, end): start (epoch s) -> (state, sum)."""
    found = await call_ws(
        page,
        {
            "type": "recorder/statistics_during_period",
            "start_time": datetime.fromtimestamp(start, UTC).isoformat(),
            "end_time": datetime.fromtimestamp(end, UTC).isoformat(),
            "statistic_ids": [statistic_id],
            "period": "hour",
            "types": ["state", "sum"],
        },
    )
    return {
        int(row["start"] / 1000): (row.get("state"), row.get("sum"))
        for row in found.get(statistic_id, [])
        if start <= row["start"] / 1000 < end
    }


async def local_days(page: Page, back: int) -> tuple[date, int, int]:
    """Return the local day ``back`` days ago, its start and its end (epoch s)."""
    tz = ZoneInfo(await hass_eval(page, "return hass.config.time_zone;"))
    day = datetime.now(tz).date() - timedelta(days=back)
    start, end = (
        datetime(d.year, d.month, d.day, tzinfo=tz) for d in (day, day + timedelta(1))
    )
    return day, int(start.timestamp()), int(end.timestamp())


async def wait_import(page: Page, within: float) -> str:
    """Wait until the device's 30 days are imported; return the statistic's ID."""
    deadline = time.monotonic() + within
    _, first, _ = await local_days(page, 29)
    rows: dict[int, Any] = {}
    while time.monotonic() < deadline:
        if statistic_id := await device_history_id(page):
            now = int(time.time())
            rows = await hourly(page, statistic_id, first - HOUR, now)
            if rows and min(rows) <= first and max(rows) >= now - now % HOUR - 2 * HOUR:
                return statistic_id
        await page.wait_for_timeout(1000)
    newest = datetime.fromtimestamp(max(rows), UTC) if rows else None
    raise StepFailed(
        f"the device history was not imported within {within:.0f} s"
        f" ({len(rows)} hours, newest {newest})"
    )


async def plant(
    page: Page, statistic_id: str, rows: dict[int, tuple[float, float]]
) -> None:
    """Import hourly rows (start -> (state, sum) kWh) into a sensor's statistic."""
    version = await hass_eval(page, "return hass.config.version;")
    metadata: dict[str, Any] = {
        "has_sum": True,
        "name": None,
        "source": "recorder",
        "statistic_id": statistic_id,
        "unit_of_measurement": "kWh",
    }
    if tuple(int(p) for p in version.split(".")[:2]) >= (2025, 11):
        metadata |= {"mean_type": 0, "unit_class": "energy"}
    else:
        metadata["has_mean"] = False
    stats = [
        {
            "start": datetime.fromtimestamp(start, UTC).isoformat(),
            "state": value,
            "sum": total,
        }
        for start, (value, total) in sorted(rows.items())
    ]
    await call_ws(
        page,
        {"type": "recorder/import_statistics", "metadata": metadata, "stats": stats},
    )
