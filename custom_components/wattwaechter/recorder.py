"""Recorder I/O of the history import and the statistics repair.

Rows are read once the recorder wrote what was queued before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import cast

from homeassistant.components.recorder import statistics
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util.unit_conversion import EnergyConverter

from .compat import metadata_unit_class
from .const import DOMAIN
from .history import HOUR, Row, wh


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def metadata(statistic_id: str, name: str | None) -> StatisticMetaData:
    """Return the metadata of a kWh statistic with a sum (external: with a colon)."""
    return cast(
        StatisticMetaData,
        {
            "has_sum": True,
            "mean_type": StatisticMeanType.NONE,
            "name": name,
            "source": DOMAIN if ":" in statistic_id else "recorder",
            "statistic_id": statistic_id,
            "unit_of_measurement": UnitOfEnergy.KILO_WATT_HOUR,
            **metadata_unit_class(EnergyConverter.UNIT_CLASS),
        },
    )


def write(
    hass: HomeAssistant, meta: StatisticMetaData, rows: Iterable[tuple[int, Row]]
) -> None:
    """Queue hourly rows (start, (state Wh, sum Wh)) for the recorder."""
    data = [
        StatisticData(start=_utc(start), state=state / 1000, sum=total / 1000)
        for start, (state, total) in rows
    ]
    if data and meta["source"] == DOMAIN:
        statistics.async_add_external_statistics(hass, meta, data)
    elif data:
        statistics.async_import_statistics(hass, meta, data)


def shift_sums(hass: HomeAssistant, statistic_id: str, start: int, shift: int) -> None:
    """Move the sums of the rows from ``start`` on by ``shift`` Wh."""
    if shift:
        get_instance(hass).async_adjust_statistics(
            statistic_id, _utc(start), shift / 1000, UnitOfEnergy.KILO_WATT_HOUR
        )


async def read_rows(
    hass: HomeAssistant, statistic_ids: set[str], since: int, until: int | None = None
) -> dict[str, dict[int, Row]]:
    """Return the hourly rows in [since, until): start -> (state Wh, sum Wh)."""
    instance = get_instance(hass)
    await instance.async_block_till_done()
    found = await instance.async_add_executor_job(
        statistics.statistics_during_period,
        hass,
        _utc(since),
        None if until is None else _utc(until - HOUR + 1),
        statistic_ids,
        "hour",
        None,
        {"state", "sum"},
    )
    return {
        statistic_id: {
            int(row["start"]): (wh(row.get("state") or 0.0), wh(row.get("sum") or 0.0))
            for row in found.get(statistic_id, [])
            if until is None or int(row["start"]) < until
        }
        for statistic_id in statistic_ids
    }


async def last_rows(
    hass: HomeAssistant, statistic_ids: set[str], before: int
) -> dict[str, tuple[int, Row]]:
    """Return each statistic's last row (start, row) before ``before``, if any.

    It is usually the hour before; when Home Assistant was down or the import
    did not run, the search widens up to two years back.
    """
    found: dict[str, tuple[int, Row]] = {}
    for days in (1, 31, 731):
        if missing := statistic_ids - found.keys():
            rows = await read_rows(hass, missing, before - days * 86_400, before)
            found |= {i: max(known.items()) for i, known in rows.items() if known}
    return found
