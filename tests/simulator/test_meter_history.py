"""Live counters and history agree to the Wh; DST, retention, media."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import aiohttp
import pytest

from simulator import Simulator
from simulator.meter import MeterModel

from .conftest import Clock, SimFactory, get_json, local_epoch, post_json


async def _counters(
    session: aiohttp.ClientSession, sim: Simulator
) -> tuple[float, float]:
    latest = await get_json(session, sim, "/history/latest")
    return latest["1.8.0"]["value"], latest["2.8.0"]["value"]


def _wh(kwh: float) -> int:
    """Return a kWh (or m³) value in Wh (or litres)."""
    return round(kwh * 1000)


def _slot_wh(kw: float) -> int:
    """Return the energy of a 15-minute slot at average power ``kw`` in Wh."""
    return round(kw * 250)


def test_model_is_deterministic_and_seeded() -> None:
    at = local_epoch("2026-05-01T13:07:00")
    assert MeterModel("electricity", 1).reading(at) == MeterModel(
        "electricity", 1
    ).reading(at)
    assert MeterModel("electricity", 1).reading(at) != MeterModel(
        "electricity", 2
    ).reading(at)


def test_model_reading_is_monotonic_and_exact_at_slot_edges() -> None:
    model = MeterModel()
    slot = int(local_epoch("2026-06-21T12:00:00")) // 900
    start = model.reading_at_slot(slot)
    energy = model.slot_energy(slot)
    assert model.reading(slot * 900) == start
    assert model.reading(slot * 900 + 900) == (
        start[0] + energy[0],
        start[1] + energy[1],
    )
    previous = model.reading(slot * 900)
    for second in range(0, 901, 30):
        now = model.reading(slot * 900 + second)
        assert now[0] >= previous[0]
        assert now[1] >= previous[1]
        previous = now
    # Midsummer noon feeds in, a winter night draws from the grid.
    assert model.net_power(slot * 900) < 0
    assert model.net_power(local_epoch("2026-01-10T02:00:00")) > 0


async def test_counters_increase_with_the_clock(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    imp0, exp0 = await _counters(session, sim)
    assert imp0 > 12_000
    assert exp0 > 3_000
    clock.advance(6 * 3600)
    imp1, exp1 = await _counters(session, sim)
    assert imp1 > imp0
    assert exp1 >= exp0


async def test_counters_equal_high_res_readings(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    clock.set_local("2026-03-10T00:00:00")
    at_midnight = await _counters(session, sim)
    clock.set_local("2026-03-10T13:45:00")
    at_slot = await _counters(session, sim)
    clock.set_local("2026-03-11T08:00:00")
    day = await get_json(session, sim, "/history/highRes?date=2026-03-10")
    items = {item["date"]: item for item in day["items"]}
    first = items["2026-03-10T00:00"]
    assert (first["import_total_kWh"], first["export_total_kWh"]) == at_midnight
    slot = items["2026-03-10T13:45"]
    assert (slot["import_total_kWh"], slot["export_total_kWh"]) == at_slot


async def test_high_res_slots_sum_to_the_reading_differences(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    clock.set_local("2026-03-11T00:20:00")
    day = await get_json(session, sim, "/history/highRes?date=2026-03-10")
    assert day["start"] == "2026-03-10"
    assert day["days"] == 1
    items = day["items"]
    assert len(items) == 96
    assert items[0]["date"] == "2026-03-10T00:00"
    assert items[0]["timestamp"] == local_epoch("2026-03-10T00:00:00")
    assert items[-1]["date"] == "2026-03-10T23:45"
    for item, following in pairwise(items):
        assert following["timestamp"] - item["timestamp"] == 900
        assert _wh(item["import_total_kWh"]) + _slot_wh(item["import_kW"]) == _wh(
            following["import_total_kWh"]
        )
        assert _wh(item["export_total_kWh"]) + _slot_wh(item["export_kW"]) == _wh(
            following["export_total_kWh"]
        )
        assert item["power_W"] == round((item["import_kW"] - item["export_kW"]) * 1000)
    next_day = await get_json(session, sim, "/history/highRes?date=2026-03-11")
    end = next_day["items"][0]
    assert _wh(end["import_total_kWh"]) - _wh(items[0]["import_total_kWh"]) == _wh(
        day["import_total_kWh"]
    )
    assert _wh(end["export_total_kWh"]) - _wh(items[0]["export_total_kWh"]) == _wh(
        day["export_total_kWh"]
    )
    assert sum(_slot_wh(i["import_kW"]) for i in items) == _wh(day["import_total_kWh"])
    # Only the completed slots of today: at 00:20 the 00:15 slot still runs.
    assert [i["date"] for i in next_day["items"]] == ["2026-03-11T00:00"]


@pytest.mark.parametrize(
    ("day", "count", "repeated"),
    [("2026-03-29", 92, None), ("2026-10-25", 100, "2026-10-25T02:00")],
)
async def test_dst_days(
    sim: Simulator,
    session: aiohttp.ClientSession,
    clock: Clock,
    day: str,
    count: int,
    repeated: str | None,
) -> None:
    clock.set_local(f"{date.fromisoformat(day) + timedelta(days=2)}T12:00:00")
    body = await get_json(session, sim, f"/history/highRes?date={day}")
    items = body["items"]
    assert len(items) == count
    stamps = [item["timestamp"] for item in items]
    assert stamps == list(range(stamps[0], stamps[0] + 900 * count, 900))
    dates = [item["date"] for item in items]
    if repeated is None:
        assert f"{day}T02:00" not in dates  # the hour that does not exist
        assert f"{day}T03:00" in dates
    else:
        assert dates.count(repeated) == 2
    low = await get_json(session, sim, f"/history/lowRes?start={day}&days=1")
    assert _wh(low["items"][0]["import_kWh"]) == _wh(body["import_total_kWh"])


async def test_low_res_matches_high_res(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    clock.set_local("2026-03-10T12:00:00")
    low = await get_json(session, sim, "/history/lowRes?start=2026-03-01&days=10")
    assert set(low) == {"start", "items", "import_total_kWh", "export_total_kWh"}
    assert low["start"] == "2026-03-01"
    assert [i["date"] for i in low["items"]] == [
        f"2026-03-{d:02d}" for d in range(1, 11)
    ]
    for item in low["items"][:-1]:
        high = await get_json(session, sim, f"/history/highRes?date={item['date']}")
        assert item["timestamp"] == high["items"][0]["timestamp"]
        assert item["import_total_kWh"] == high["items"][0]["import_total_kWh"]
        assert item["export_total_kWh"] == high["items"][0]["export_total_kWh"]
        assert _wh(item["import_kWh"]) == _wh(high["import_total_kWh"])
        assert _wh(item["export_kWh"]) == _wh(high["export_total_kWh"])
    for item, following in zip(low["items"], low["items"][1:], strict=False):
        assert _wh(item["import_total_kWh"]) + _wh(item["import_kWh"]) == _wh(
            following["import_total_kWh"]
        )
    assert _wh(low["import_total_kWh"]) == sum(
        _wh(i["import_kWh"]) for i in low["items"]
    )
    # Today counts the completed slots so far.
    today = low["items"][-1]
    high_today = await get_json(session, sim, "/history/highRes?date=2026-03-10")
    assert len(high_today["items"]) == 48
    assert _wh(today["import_kWh"]) == _wh(high_today["import_total_kWh"])


async def test_low_res_stops_at_today(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    low = await get_json(session, sim, "/history/lowRes?start=2026-03-05&days=31")
    assert low["items"][-1]["date"] == "2026-03-10"
    assert len(low["items"]) == 6


@pytest.mark.parametrize(
    "query",
    [
        "/history/highRes",
        "/history/highRes?date=invalid",
        "/history/highRes?date=2026-02-30",
        "/history/highRes?date=2026-3-1",
        "/history/highRes?date=2026-03-11",  # tomorrow
        "/history/highRes?date=2026-02-08",  # 31 days ago: beyond 30 days
        "/history/lowRes?start=2026-03-01&days=0",
        "/history/lowRes?start=2026-03-01&days=32",
        "/history/lowRes?start=2026-03-01&days=x",
        "/history/lowRes?start=2026-03-11&days=1",  # tomorrow
        "/history/lowRes?start=2024-03-10&days=1",  # beyond two years
        "/history/lowRes?start=bad&days=1",
    ],
)
async def test_history_400(
    sim: Simulator, session: aiohttp.ClientSession, query: str
) -> None:
    body = await get_json(session, sim, query, status=400)
    assert "error" in body


async def test_retention_edges(sim: Simulator, session: aiohttp.ClientSession) -> None:
    await get_json(session, sim, "/history/highRes?date=2026-02-09")  # 29 days ago
    await get_json(session, sim, "/history/lowRes?start=2024-03-12&days=1")


async def test_history_days_limits_history(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(history_days=3)
    await get_json(session, sim, "/history/highRes?date=2026-03-08")
    await get_json(session, sim, "/history/highRes?date=2026-03-07", status=400)
    await get_json(session, sim, "/history/lowRes?start=2026-03-07&days=3", status=400)
    low = await get_json(session, sim, "/history/lowRes?start=2026-03-08&days=5")
    assert len(low["items"]) == 3


async def test_today_before_the_first_slot_completes_is_400(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    clock.set_local("2026-03-10T00:10:00")
    await get_json(session, sim, "/history/highRes?date=2026-03-10", status=400)


async def test_history_follows_the_settings_timezone(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    berlin = await get_json(session, sim, "/history/highRes?date=2026-03-05")
    sim.configure(timezone="America/New_York")
    new_york = await get_json(session, sim, "/history/highRes?date=2026-03-05")
    assert (
        new_york["items"][0]["timestamp"] - berlin["items"][0]["timestamp"] == 6 * 3600
    )
    assert new_york["items"][0]["date"] == "2026-03-05T00:00"
    await post_json(session, sim, "/settings", {"timezone": "Europe/Berlin"})
    again = await get_json(session, sim, "/history/highRes?date=2026-03-05")
    assert again == berlin


async def test_gas_medium(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    sim = await make_sim(medium="gas")
    latest = await get_json(session, sim, "/history/latest")
    assert set(latest) == {"timestamp", "datetime", "gw", "7-0:3.0.0", "7-0:43.0.0"}
    assert latest["7-0:3.0.0"]["unit"] == "m³"
    assert latest["7-0:43.0.0"]["unit"] == "m³/h"
    assert isinstance(latest["7-0:3.0.0"]["value"], float)
    gw = latest["gw"]
    assert gw["ok"] is True
    assert gw["medium"] == "gas"
    assert {"revolutions", "coils", "activeCoils", "energyFactor"} <= set(gw)
    info = await get_json(session, sim, "/system/info")
    esp = {entry["name"]: entry["value"] for entry in info["esp"]}
    assert esp["model_id"] == "ww_gw_mf"
    assert esp["product_name"] == "WattWächter Gas"

    clock.set_local("2026-03-11T00:00:00")
    volume_at_midnight = (await get_json(session, sim, "/history/latest"))["7-0:3.0.0"][
        "value"
    ]
    high = await get_json(session, sim, "/history/highRes?date=2026-03-10")
    assert set(high) == {"start", "days", "items", "consumption_m3"}
    item = high["items"][0]
    assert set(item) == {
        "date",
        "timestamp",
        "import_total_m3",
        "import_m3h",
        "flow_m3h",
    }
    items = high["items"]
    for slot, following in pairwise(items):
        assert _wh(slot["import_total_m3"]) + _slot_wh(slot["import_m3h"]) == _wh(
            following["import_total_m3"]
        )
    last = items[-1]
    assert _wh(last["import_total_m3"]) + _slot_wh(last["import_m3h"]) == _wh(
        volume_at_midnight
    )
    low = await get_json(session, sim, "/history/lowRes?start=2026-03-09&days=2")
    assert set(low) == {"start", "days", "items", "consumption_m3"}
    assert set(low["items"][0]) == {"date", "timestamp", "import_total_m3", "import_m3"}
    assert _wh(low["items"][1]["import_m3"]) == _wh(high["consumption_m3"])


async def test_water_medium(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(medium="water")
    latest = await get_json(session, sim, "/history/latest")
    assert {"8-0:1.0.0", "8-0:2.0.0", "gw"} <= set(latest)
    assert latest["gw"]["medium"] == "water"
    modbus = await get_json(session, sim, "/modbus/status")
    assert modbus["registers"] == []


@pytest.mark.parametrize(
    ("medium", "total"), [("electricity", "1.8.0"), ("gas", "7-0:3.0.0")]
)
async def test_meter_replacement_restarts_the_live_totals(
    make_sim: SimFactory,
    session: aiohttp.ClientSession,
    clock: Clock,
    medium: str,
    total: str,
) -> None:
    """From ``meter_replaced_at`` on, the totals count from 0; before, unchanged."""
    sim = await make_sim(medium=medium)
    before = (await get_json(session, sim, "/history/latest"))[total]["value"]
    sim.configure(meter_replaced_at=clock.now + 3600)
    assert (await get_json(session, sim, "/history/latest"))[total]["value"] == before

    clock.advance(3600)
    assert (await get_json(session, sim, "/history/latest"))[total]["value"] == 0.0
    clock.advance(8 * 3600)  # into the evening: no solar export covers the load
    imp, _ = sim.meter.reading(clock.now)
    old, _ = sim.meter.reading(clock.now - 8 * 3600)
    after = (await get_json(session, sim, "/history/latest"))[total]["value"]
    assert _wh(after) == imp - old > 0
