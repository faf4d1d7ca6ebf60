"""Building hourly rows from history items, without a device or a database."""

from __future__ import annotations

from datetime import UTC, date

from homeassistant.components.recorder.models import StatisticMeanType

from custom_components.wattwaechter.api import HighResItem, LowResItem
from custom_components.wattwaechter.statistics import (
    EXPORT,
    IMPORT,
    HourlyReadings,
    HourReading,
    SumCursor,
    daily_readings,
    statistic_metadata,
)

H = 1_793_000_000 - 1_793_000_000 % 3600  # a full hour


def slot(offset: int, total: float | None, power: float | None = 0.4) -> HighResItem:
    """Return a 15-minute item ``offset`` slots after ``H`` (import only)."""
    return HighResItem(
        timestamp=H + offset * 900,
        import_total_kwh=total,
        export_total_kwh=None,
        import_kw=power,
        export_kw=None,
        power_w=None,
    )


def test_metadata_with_and_without_unit_class() -> None:
    """unit_class only where HA knows it; has_mean only where it does not."""
    new = statistic_metadata("wattwaechter:x_energy_import", "X", unit_class=True)
    old = statistic_metadata("wattwaechter:x_energy_import", "X", unit_class=False)
    for meta in (new, old):
        assert meta["has_sum"] is True
        assert meta["mean_type"] is StatisticMeanType.NONE
        assert meta["unit_of_measurement"] == "kWh"
        assert meta["source"] == "wattwaechter"
    assert new.get("unit_class") == "energy"
    assert "has_mean" not in new
    assert "unit_class" not in old
    assert old.get("has_mean") is False


def test_hours_from_readings_and_the_last_slots_power() -> None:
    """Readings at slot starts; the end of the last slot from its power."""
    builder = HourlyReadings(IMPORT)
    builder.add([slot(n, 100 + n * 0.1) for n in range(6)])
    # Nothing is over before the first full hour has its four slots.
    assert builder.pop_closed(H + 3599) == []
    assert builder.latest == H + 6 * 900
    assert builder.pop_closed(H + 6 * 900) == [HourReading(H, 100_000, 100_400)]
    # The second hour is open; its first two slots are kept for later.
    builder.add([slot(n, 100 + n * 0.1) for n in range(6, 8)])
    assert builder.pop_closed(H + 8 * 900) == [HourReading(H + 3600, 100_400, 100_800)]


def test_gaps_and_unreadable_items() -> None:
    """A missing slot ends at its predecessor's power; unreadable items are skipped."""
    builder = HourlyReadings(IMPORT)
    builder.add(
        [
            slot(0, 100.0),
            slot(1, 100.1, power=None),  # no power, but the next reading follows
            slot(2, 100.2, power=-1.0),  # a negative power gives no estimate
            slot(3, None),  # no reading at all
            slot(5, 100.9),
            slot(9, 101.5, power=None),  # a lone slot without power
        ]
    )
    hours = builder.pop_closed(H + 3 * 3600)
    # Hour 1 has a slot (:15) and ends with the estimate after it (:30).
    assert hours == [
        HourReading(H, 100_000, 100_200),
        HourReading(H + 3600, 100_900, 101_000),
        HourReading(H + 7200, 101_500, 101_500),
    ]


def test_an_hour_without_a_slot_of_its_own_gets_no_row() -> None:
    """An estimate at a full hour alone does not make a row for that hour."""
    builder = HourlyReadings(IMPORT)
    builder.add([slot(3, 100.0)])  # ends exactly at H + 3600
    builder.add([slot(8, 101.0)])
    assert [h.start for h in builder.pop_closed(H + 4 * 3600)] == [H, H + 7200]


def test_export_readings() -> None:
    """The export direction reads the export columns."""
    item = HighResItem(H, 1.0, 2.0, 0.0, 0.8, None)
    builder = HourlyReadings(EXPORT)
    builder.add([item])
    assert builder.latest == H + 900
    assert builder.pop_closed(H + 3600) == [HourReading(H, 2000, 2200)]


def test_daily_readings() -> None:
    """A day becomes one reading at its local midnight's hour."""
    tz = UTC
    items = [
        LowResItem(date(2026, 10, 2), 0, 10.0, 5.0, 1.5, 0.5),
        LowResItem(None, H + 120, 11.5, 5.5, 2.0, 0.0),
        LowResItem(date(2026, 10, 4), 0, None, 5.0, 1.0, 1.0),
        LowResItem(date(2026, 10, 5), 0, 12.0, 5.0, -1.0, None),
    ]
    midnight = 1_790_899_200  # 2026-10-02T00:00Z
    assert daily_readings(items, IMPORT, tz) == [
        HourReading(midnight, 10_000, 11_500),
        HourReading(H, 11_500, 13_500),
    ]
    assert daily_readings(items, EXPORT, tz) == [
        HourReading(midnight, 5_000, 5_500),
        HourReading(midnight + 2 * 86_400, 5_000, 6_000),
        HourReading(H, 5_500, 5_500),
    ]


def test_sums_continue_and_keep_existing_rows() -> None:
    """New rows continue from the row before; existing rows are skipped."""
    cursor = SumCursor({H: (100_000, 50)})
    assert cursor.row(HourReading(H, 99_000, 100_000)) is None
    assert cursor.row(HourReading(H + 3600, 100_000, 100_300)) == (100_300, 350)
    # A gap: the energy in between counts in the next row with data.
    assert cursor.row(HourReading(H + 3 * 3600, 100_500, 100_600)) == (100_600, 650)
    # A new meter (reading drops): only the hour's own energy counts.
    assert cursor.row(HourReading(H + 4 * 3600, 10, 30)) == (30, 670)


def test_rows_before_existing_ones_line_up_with_them() -> None:
    """Before all existing rows the sums are chosen to meet the first one."""
    cursor = SumCursor({H + 7200: (100_600, 1_000)})
    assert cursor.row(HourReading(H, 100_000, 100_200)) == (100_200, 600)
    assert cursor.row(HourReading(H + 3600, 100_200, 100_400)) == (100_400, 800)
    assert cursor.row(HourReading(H + 7200, 100_400, 100_600)) is None


def test_first_row_ever_holds_its_own_energy() -> None:
    """Without any row the sum starts at the first hour's energy."""
    cursor = SumCursor({})
    assert cursor.row(HourReading(H, 100_000, 100_250)) == (100_250, 250)
    assert cursor.row(HourReading(H + 3600, 100_250, 100_200)) == (100_200, 250)
