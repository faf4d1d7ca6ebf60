"""Hour arithmetic of the history import and the repair, on hand-made data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from custom_components.wattwaechter.api.history_items import HighResItem, LowResItem
from custom_components.wattwaechter.history import (
    EXPORT,
    HOUR,
    IMPORT,
    Change,
    Hour,
    SlotHours,
    SumCursor,
    daily_hours,
    midnight,
    rebuild,
)

H = 1_793_000_000 - 1_793_000_000 % HOUR  # a full hour


def slot(offset: int, total: float | None, power: float | None = 0.4) -> HighResItem:
    """Return a 15-minute item ``offset`` slots after ``H`` (import only)."""
    return HighResItem(H + offset * 900, total, None, power, None)


# --- SlotHours ---------------------------------------------------------------


def test_hours_from_readings_and_the_last_slots_power() -> None:
    """Readings at slot starts; the end of the last slot from its power."""
    hours = SlotHours(IMPORT)
    hours.add([slot(n, 100 + n * 0.1) for n in range(6)])
    assert hours.pop_closed(H + 3599) == []  # no hour is over yet
    assert hours.latest == H + 6 * 900  # 100.5 + 0.4 kW for 15 min
    assert hours.pop_closed(H + 6 * 900) == [Hour(H, 100_000, 100_400)]
    # The second hour is open; its two slots wait for the next day's items.
    hours.add([slot(n, 100 + n * 0.1) for n in range(6, 8)])
    assert hours.pop_closed(H + 8 * 900) == [Hour(H + HOUR, 100_400, 100_800)]


def test_gaps_and_unreadable_items() -> None:
    """A slot without successor ends at its power; unreadable items count not."""
    hours = SlotHours(IMPORT)
    hours.add(
        [
            slot(0, 100.0),
            slot(1, 100.1, power=None),  # no power, but the next reading follows
            slot(2, 100.2, power=-1.0),  # a negative power gives no end
            slot(3, None),  # no reading at all
            slot(5, 100.9),
            slot(9, 101.5, power=None),  # alone and without power
        ]
    )
    assert hours.pop_closed(H + 3 * HOUR) == [
        Hour(H, 100_000, 100_200),
        Hour(H + HOUR, 100_900, 101_000),
        Hour(H + 2 * HOUR, 101_500, 101_500),
    ]


def test_an_hour_without_a_slot_of_its_own_gets_no_row() -> None:
    """An estimated end at a full hour alone makes no row for that hour."""
    hours = SlotHours(IMPORT)
    hours.add([slot(3, 100.0)])  # ends exactly at H + 3600
    hours.add([slot(8, 101.0)])
    assert [hour.start for hour in hours.pop_closed(H + 4 * HOUR)] == [H, H + 7200]


def test_a_reading_at_the_full_hour_ends_one_hour_and_starts_the_next() -> None:
    """Days come one by one: the boundary reading serves both hours."""
    hours = SlotHours(IMPORT)
    hours.add([slot(n, 100 + n * 0.25, power=1.0) for n in range(4)])
    assert hours.pop_closed(H + HOUR) == [Hour(H, 100_000, 101_000)]
    hours.add([slot(n, 100 + n * 0.25, power=1.0) for n in range(4, 8)])
    assert hours.pop_closed(H + 2 * HOUR) == [Hour(H + HOUR, 101_000, 102_000)]


def test_the_next_days_first_reading_replaces_an_estimated_end() -> None:
    """The end of a day's last slot is estimated from its power; the next day's
    first reading at the same moment replaces it."""
    hours = SlotHours(IMPORT)
    hours.add([slot(n, 100 + n * 0.25, power=0.8) for n in range(4)])
    assert hours.pop_closed(H + HOUR) == [Hour(H, 100_000, 100_950)]
    hours.add([slot(n, 100 + n * 0.25, power=1.0) for n in range(4, 8)])
    assert hours.pop_closed(H + 2 * HOUR) == [Hour(H + HOUR, 101_000, 102_000)]


def test_export_readings() -> None:
    """The export direction reads the export columns."""
    hours = SlotHours(EXPORT)
    hours.add([HighResItem(H, 1.0, 2.0, 0.0, 0.8)])
    assert hours.latest == H + 900
    assert hours.pop_closed(H + HOUR) == [Hour(H, 2000, 2200)]


# --- daily_hours -------------------------------------------------------------


def test_daily_hours_at_local_midnight() -> None:
    """A day becomes one hour at its local midnight holding the whole day."""
    berlin = ZoneInfo("Europe/Berlin")
    items = [
        LowResItem(date(2026, 10, 2), 0, 10.0, 5.0, 1.5, 0.5),
        LowResItem(None, H + 120, 11.5, 5.5, 2.0, 0.0),  # no date: its time
        LowResItem(date(2026, 10, 4), 0, None, 5.0, 1.0, 1.0),  # no import total
        LowResItem(date(2026, 10, 5), 0, 12.0, 5.0, -1.0, None),  # neither
    ]
    first = midnight(date(2026, 10, 2), berlin)
    assert first == datetime(2026, 10, 1, 22, tzinfo=UTC).timestamp()
    assert daily_hours(items, IMPORT, berlin) == [
        Hour(first, 10_000, 11_500),
        Hour(H, 11_500, 13_500),
    ]
    assert daily_hours(items, EXPORT, berlin) == [
        Hour(first, 5_000, 5_500),
        Hour(first + 2 * 86_400, 5_000, 6_000),
        Hour(H, 5_500, 5_500),
    ]


def test_daily_hours_of_a_half_hour_time_zone() -> None:
    """Midnight at half past an hour: the day's row is that hour."""
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+5:30
    items = [LowResItem(date(2026, 10, 2), 0, 10.0, None, 2.0, None)]
    start = datetime(2026, 10, 1, 18, tzinfo=UTC).timestamp()
    assert daily_hours(items, IMPORT, kolkata) == [Hour(int(start), 10_000, 12_000)]


# --- SumCursor ---------------------------------------------------------------


def test_sums_continue_and_keep_existing_rows() -> None:
    """New rows continue from the row before; existing rows are skipped."""
    cursor = SumCursor({H: (100_000, 50)})
    assert cursor.row(Hour(H, 99_000, 100_000)) is None
    assert cursor.row(Hour(H + HOUR, 100_000, 100_300)) == (100_300, 350)
    # A gap: the energy in between counts in the next row with data.
    assert cursor.row(Hour(H + 3 * HOUR, 100_500, 100_600)) == (100_600, 650)
    # A new meter (the reading drops): only the hour's own energy counts.
    assert cursor.row(Hour(H + 4 * HOUR, 10, 30)) == (30, 670)


def test_rows_before_existing_ones_line_up_with_them() -> None:
    """Before every existing row the sums are chosen to meet the first one."""
    cursor = SumCursor({H + 7200: (100_600, 1_000)})
    assert cursor.row(Hour(H, 100_000, 100_200)) == (100_200, 600)
    assert cursor.row(Hour(H + HOUR, 100_200, 100_400)) == (100_400, 800)
    assert cursor.row(Hour(H + 7200, 100_400, 100_600)) is None
    assert cursor.row(Hour(H + 3 * HOUR, 100_600, 100_650)) == (100_650, 1_050)


def test_first_row_ever_holds_its_own_energy() -> None:
    """Without any row the sum starts at the first hour's energy, never below 0."""
    cursor = SumCursor({})
    assert cursor.row(Hour(H, 100_000, 100_250)) == (100_250, 250)
    assert cursor.row(Hour(H + HOUR, 100_250, 100_200)) == (100_200, 250)


# --- rebuild -----------------------------------------------------------------

DEVICE = {
    H + n * HOUR: Hour(H + n * HOUR, first, last)
    for n, (first, last) in enumerate(
        [(1000, 1100), (1100, 1250), (1250, 1300), (1300, 1400), (1400, 1500)]
    )
}


def test_rebuild_a_hole_and_a_spike() -> None:
    """A missing hour, the hour holding its energy, a 0 reading and the whole
    reading counted after it: each gets the device's energy; the rows after
    the range move by the shift and keep their own energy."""
    existing = {
        H - HOUR: (1000, 500),
        H: (1100, 600),  # right
        H + 2 * HOUR: (1300, 800),  # holds the hole's 150 Wh
        H + 3 * HOUR: (0, 800),  # a 0 reading: counted as a new meter
        H + 4 * HOUR: (1500, 2300),  # the whole reading counted again
        H + 5 * HOUR: (1600, 2400),  # after the range
    }
    changes, shift = rebuild(H, H + 5 * HOUR, DEVICE, existing, existing[H - HOUR])
    assert changes == [
        Change(H + HOUR, None, (1250, 750), None, 150),
        Change(H + 2 * HOUR, (1300, 800), (1300, 800), 200, 50),
        Change(H + 3 * HOUR, (0, 800), (1400, 900), 0, 100),
        Change(H + 4 * HOUR, (1500, 2300), (1500, 1000), 1500, 100),
    ]
    assert all(change.visible for change in changes)
    assert shift == -1300
    assert existing[H + 5 * HOUR][1] + shift - 1000 == 100  # its own energy


def test_rebuild_writes_rows_whose_sum_moves() -> None:
    """After a spike, a right hour is written with its new sum, unseen."""
    existing = {
        H: (1100, 600),
        H + HOUR: (1250, 9_999),  # a jump
        H + 2 * HOUR: (1300, 10_049),  # right energy, sum after the jump
    }
    changes, shift = rebuild(H, H + 3 * HOUR, DEVICE, existing, (1000, 500))
    assert changes == [
        Change(H + HOUR, (1250, 9_999), (1250, 750), 9_399, 150),
        Change(H + 2 * HOUR, (1300, 10_049), (1300, 800), 50, 50),
    ]
    assert [change.visible for change in changes] == [True, False]
    assert shift == 800 - 10_049


def test_rebuild_an_hour_the_device_lacks() -> None:
    """An hour without device data keeps its row with no energy; the next hour
    with data holds it. Without a row before the range the sums start at 0."""
    device = {start: hour for start, hour in DEVICE.items() if start != H + 2 * HOUR}
    existing = {H + 2 * HOUR: (1300, 300), H + 3 * HOUR: (1400, 400)}
    changes, shift = rebuild(H, H + 4 * HOUR, device, existing, None)
    assert changes == [
        Change(H, None, (1100, 100), None, 100),
        Change(H + HOUR, None, (1250, 250), None, 150),
        Change(H + 2 * HOUR, (1300, 300), (1250, 250), None, 0),
        Change(H + 3 * HOUR, (1400, 400), (1400, 400), 100, 150),
    ]
    assert shift == 0


def test_rebuild_nothing_to_do() -> None:
    """Rows that are right give no change and no shift."""
    existing = {H - HOUR: (1000, 0)} | {
        start: (hour.last, hour.last - 1000) for start, hour in DEVICE.items()
    }
    assert rebuild(H, H + 5 * HOUR, DEVICE, existing, (1000, 0)) == ([], 0)
