"""The ``wattwaechter.import_history`` action: validation and imports."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import CONF_DAILY_HISTORY, DOMAIN
from simulator import FaultMode, Simulator, SimulatorConfig

from ..conftest import setup_via_flow
from ..helpers import advance
from .helpers import (
    EXPORT_ID,
    HIGH_RES,
    IMPORT_ID,
    LOW_RES,
    assert_rows_match_device,
    berlin_today,
    history_requests,
    hour_energy,
    midnight,
    reading,
    rows,
    settle,
    wait_for_request,
    wh,
)


def device_id(hass: HomeAssistant) -> str:
    """Return the registry ID of the simulated device (on every HA version)."""
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    found = [
        device.id
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), entry.entry_id
        )
        if (DOMAIN, "AABBCCDDEEFF") in device.identifiers
    ]
    assert len(found) == 1
    return found[0]


async def import_history(
    hass: HomeAssistant, device: str, start: date | str, end: date | None = None
) -> None:
    """Call the action and wait for it."""
    data: dict[str, Any] = {"device_id": device, "start": str(start)}
    if end is not None:
        data["end"] = str(end)
    await hass.services.async_call(DOMAIN, "import_history", data, blocking=True)


async def test_older_days_come_from_daily_values(
    hass: HomeAssistant, device: Simulator
) -> None:
    """With the option, days beyond 30 days become one row each at midnight."""
    entry = await setup_via_flow(hass, device)
    await settle(hass)
    kept = {sid: await rows(hass, sid) for sid in (IMPORT_ID, EXPORT_ID)}
    hass.config_entries.async_update_entry(entry, options={CONF_DAILY_HISTORY: True})
    today = berlin_today(device)
    device.clear_log()

    await import_history(
        hass, device_id(hass), today - timedelta(days=40), today - timedelta(days=20)
    )
    await settle(hass)

    # One request for eleven days; the 15-minute days already have rows.
    assert [(r.path, r.query) for r in history_requests(device)] == [
        (LOW_RES, f"start={today - timedelta(days=40)}&days=11")
    ]
    days = [today - timedelta(days=n) for n in range(40, 29, -1)]
    for statistic_id, index in ((IMPORT_ID, 0), (EXPORT_ID, 1)):
        found = await rows(hass, statistic_id)
        assert found[len(days) :] == kept[statistic_id]
        daily = found[: len(days)]
        assert [int(r["start"]) for r in daily] == [midnight(day) for day in days]
        for row, day in zip(daily, days, strict=True):
            end = midnight(day + timedelta(days=1))
            assert wh(row["state"]) == reading(device, end, index)
        for before, after, day in zip(daily, daily[1:], days[1:], strict=False):
            energy = reading(device, midnight(day + timedelta(days=1)), index)
            energy -= reading(device, midnight(day), index)
            assert wh(after["sum"]) - wh(before["sum"]) == energy
        # The last daily row lines up with the first 15-minute row.
        first = kept[statistic_id][0]
        assert wh(first["sum"]) - wh(daily[-1]["sum"]) == hour_energy(
            device, int(first["start"]), index
        )

    # Again: every day has its rows, nothing is read, nothing changes.
    before = await rows(hass, IMPORT_ID)
    device.clear_log()
    await import_history(
        hass, device_id(hass), today - timedelta(days=40), today - timedelta(days=20)
    )
    await settle(hass)
    assert history_requests(device) == []
    assert await rows(hass, IMPORT_ID) == before


@pytest.mark.parametrize("automatic_backfill", [False])
async def test_action_imports_15_minute_days(
    hass: HomeAssistant, device: Simulator
) -> None:
    """The action reads the chosen days; the end date defaults to today."""
    await setup_via_flow(hass, device)
    today = berlin_today(device)
    await import_history(hass, device_id(hass), today - timedelta(days=2))
    await settle(hass)
    assert [r.query for r in history_requests(device)] == [
        f"date={today - timedelta(days=n)}" for n in (2, 1, 0)
    ]
    found = await rows(hass, IMPORT_ID)
    assert int(found[0]["start"]) == midnight(today - timedelta(days=2))
    assert_rows_match_device(device, found, 0)


@pytest.mark.parametrize(
    ("start", "end", "key"),
    [
        (1, None, "start_in_future"),
        (5, 6, "invalid_range"),
        (730, None, "history_too_old"),
        (30, None, "daily_history_disabled"),
    ],
)
async def test_invalid_ranges(
    hass: HomeAssistant,
    device: Simulator,
    start: int,
    end: int | None,
    key: str,
) -> None:
    """Dates outside what the device keeps are refused with a translated error."""
    await setup_via_flow(hass, device)
    today = berlin_today(device)
    with pytest.raises(ServiceValidationError) as err:
        await import_history(
            hass,
            device_id(hass),
            today + timedelta(days=1) if start == 1 else today - timedelta(days=start),
            None if end is None else today - timedelta(days=end),
        )
    assert err.value.translation_key == key
    assert err.value.translation_domain == DOMAIN


async def test_two_years_need_the_option_and_end_today(
    hass: HomeAssistant, device: Simulator
) -> None:
    """With the option, 729 days back are allowed; a future end means today."""
    entry = await setup_via_flow(hass, device)
    await settle(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_DAILY_HISTORY: True})
    today = berlin_today(device)
    device.clear_log()
    await import_history(
        hass, device_id(hass), today - timedelta(days=729), today + timedelta(days=3)
    )
    await settle(hass)
    requests = history_requests(device)
    # 700 days of daily values in 31-day requests; the rest already has rows.
    assert {r.path for r in requests} == {LOW_RES}
    assert len(requests) == 23
    found = await rows(hass, IMPORT_ID)
    assert int(found[0]["start"]) == midnight(today - timedelta(days=729))
    assert len({wh(r["state"]) - wh(r["sum"]) for r in found}) == 1


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(rate_limit=100_000, history_days=45)]
)
async def test_daily_memory_starting_inside_a_request(
    hass: HomeAssistant, device: Simulator
) -> None:
    """The device refuses a range that starts before its memory; bisection finds it."""
    entry = await setup_via_flow(hass, device)
    await settle(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_DAILY_HISTORY: True})
    today = berlin_today(device)
    device.clear_log()
    await import_history(hass, device_id(hass), today - timedelta(days=60))
    await settle(hass)
    requests = history_requests(device)
    assert requests[0].status == 400
    assert requests[-1].query == f"start={today - timedelta(days=44)}&days=15"
    assert len(requests) <= 8
    found = await rows(hass, IMPORT_ID)
    assert int(found[0]["start"]) == midnight(today - timedelta(days=44))
    assert len({wh(r["state"]) - wh(r["sum"]) for r in found}) == 1


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(rate_limit=100_000, history_days=20)]
)
async def test_no_daily_memory_in_the_range(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A range the device has no daily values for imports nothing."""
    entry = await setup_via_flow(hass, device)
    await settle(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_DAILY_HISTORY: True})
    today = berlin_today(device)
    before = await rows(hass, IMPORT_ID)
    device.clear_log()
    await import_history(
        hass, device_id(hass), today - timedelta(days=40), today - timedelta(days=31)
    )
    await settle(hass)
    assert [r.status for r in history_requests(device)] == [400, 400]
    assert await rows(hass, IMPORT_ID) == before


async def test_unknown_device(hass: HomeAssistant, device: Simulator) -> None:
    """A device ID that is not a WattWächter is refused."""
    await setup_via_flow(hass, device)
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    foreign = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", "x")}
    )
    for device_id_ in ("not-a-device", foreign.id):
        with pytest.raises(ServiceValidationError) as err:
            await import_history(hass, device_id_, "2026-10-20")
        assert err.value.translation_key == "unknown_device"


async def test_device_not_loaded(hass: HomeAssistant, device: Simulator) -> None:
    """The device's entry must be loaded."""
    entry = await setup_via_flow(hass, device)
    await settle(hass)
    target = device_id(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await import_history(hass, target, "2026-10-20")
    assert err.value.translation_key == "device_not_loaded"


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(rate_limit=100_000, medium="gas")]
)
async def test_gas_device_is_refused(hass: HomeAssistant, device: Simulator) -> None:
    """A gas/water device has no energy history to import."""
    await setup_via_flow(hass, device)
    with pytest.raises(ServiceValidationError) as err:
        await import_history(hass, device_id(hass), "2026-10-20")
    assert err.value.translation_key == "history_not_supported"


@pytest.mark.parametrize("automatic_backfill", [False])
@pytest.mark.parametrize(
    ("fault", "reason"), [(FaultMode.HTTP_500, "HTTP 500"), (FaultMode.RESET, "GET")]
)
async def test_device_failure_is_reported(
    hass: HomeAssistant, device: Simulator, fault: FaultMode, reason: str
) -> None:
    """A device that fails mid-import makes the action fail with its reason."""
    await setup_via_flow(hass, device)
    device.set_fault(fault, paths=[HIGH_RES])
    with pytest.raises(HomeAssistantError) as err:
        await import_history(hass, device_id(hass), "2026-10-20")
    assert err.value.translation_key == "history_import_failed"
    assert reason in err.value.translation_placeholders["error"]


@pytest.mark.parametrize("automatic_backfill", [False])
async def test_unload_cancels_the_action(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Unloading the entry stops a running import; the action says so."""
    entry: ConfigEntry = await setup_via_flow(hass, device)
    device.configure(history_delay=0.2)
    call = asyncio.ensure_future(import_history(hass, device_id(hass), "2026-10-10"))
    await wait_for_request(device, HIGH_RES)
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(HomeAssistantError) as err:
        await call
    assert err.value.translation_key == "history_import_cancelled"
    assert len(history_requests(device)) < 18


async def test_action_on_a_partly_imported_day(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Hours of a day that have rows stay; the newer ones are added."""
    await setup_via_flow(hass, device)
    await settle(hass)
    before = await rows(hass, IMPORT_ID)
    device.clear_log()
    await advance(hass, 3300)  # the next hour is over, the hourly run not yet due
    await import_history(hass, device_id(hass), berlin_today(device))
    await settle(hass)
    after = await rows(hass, IMPORT_ID)
    assert len(history_requests(device)) == 1
    assert after[: len(before)] == before
    assert len(after) == len(before) + 1
    assert_rows_match_device(device, after, 0)


@pytest.mark.parametrize("automatic_backfill", [False])
async def test_cancelled_call_leaves_the_import_running(
    hass: HomeAssistant, device: Simulator
) -> None:
    """A caller that gives up does not stop the import it started."""
    await setup_via_flow(hass, device)
    today = berlin_today(device)
    call = asyncio.ensure_future(
        import_history(hass, device_id(hass), today - timedelta(days=3))
    )
    await wait_for_request(device, HIGH_RES)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    await settle(hass)
    assert len(history_requests(device)) == 4
    assert_rows_match_device(device, await rows(hass, IMPORT_ID), 0)


@pytest.mark.parametrize("automatic_backfill", [False])
async def test_old_days_without_the_option_are_skipped(
    hass: HomeAssistant, device: Simulator
) -> None:
    """Should the option go off after the action checked it, old days are skipped."""
    entry = await setup_via_flow(hass, device)
    today = berlin_today(device)
    result = await entry.runtime_data.history.async_import_days(
        today - timedelta(days=40), today - timedelta(days=28)
    )
    await settle(hass)
    assert [r.query for r in history_requests(device)] == [
        f"date={today - timedelta(days=n)}" for n in (29, 28)
    ]
    assert result.rows == {"energy_import": 48, "energy_export": 48}
    assert result.requests == 2
