"""Firmware 1.3 behaviour: meterSince, METER_ATTENTION, 204 history days, OTA start."""

from __future__ import annotations

from datetime import date, timedelta

import aiohttp
import pytest

from simulator import Simulator

from .conftest import Clock, SimFactory, get_json, local_epoch, post_json

GAS_VOLUME = "7-0:3.0.0"
WATER_VOLUME = "8-0:1.0.0"
EPOCH0 = 1_735_689_600  # 2025-01-01T00:00Z, the default first reading


async def _gw(session: aiohttp.ClientSession, sim: Simulator) -> dict[str, object]:
    latest = await get_json(session, sim, "/history/latest")
    gw: dict[str, object] = latest["gw"]
    return gw


async def _volume(session: aiohttp.ClientSession, sim: Simulator, key: str) -> float:
    value: float = (await get_json(session, sim, "/history/latest"))[key]["value"]
    return value


async def test_meter_since_only_from_firmware_1_3(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(profile="gas")
    assert "meterSince" not in await _gw(session, sim)
    sim.configure(firmware="1.3.0")
    gw = await _gw(session, sim)
    assert gw["meterSince"] == EPOCH0
    assert isinstance(gw["meterSince"], int)
    sim.configure(meter_since=1_700_000_000)
    assert (await _gw(session, sim))["meterSince"] == 1_700_000_000


@pytest.mark.parametrize(
    ("profile", "key"), [("gas", GAS_VOLUME), ("water", WATER_VOLUME)]
)
async def test_exchange_sets_meter_since_and_restarts_the_volume(
    make_sim: SimFactory,
    session: aiohttp.ClientSession,
    clock: Clock,
    profile: str,
    key: str,
) -> None:
    sim = await make_sim(profile=profile, firmware="1.3.1")
    old = await _volume(session, sim, key)
    exchanged_at = clock.now
    sim.exchange_meter(start_value=12.5)
    assert await _volume(session, sim, key) == 12.5
    assert (await _gw(session, sim))["meterSince"] == int(exchanged_at)
    clock.advance(6 * 3600)
    litres = sim.meter.reading(clock.now)[0] - sim.meter.reading(exchanged_at)[0]
    assert round(await _volume(session, sim, key) * 1000) == 12_500 + litres
    assert old > 12.5
    # A correction keeps meterSince; the reading jumps to the new value.
    sim.correct_meter(100.0)
    assert await _volume(session, sim, key) == 100.0
    assert (await _gw(session, sim))["meterSince"] == int(exchanged_at)


async def test_exchange_in_the_past_shows_in_the_history(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    clock.set_local("2026-03-10T18:00:00")
    sim = await make_sim(profile="gas", firmware="1.3.1")
    sim.exchange_meter(start_value=0.0, at=local_epoch("2026-03-10T06:00:00"))
    day = await get_json(session, sim, "/history/highRes?date=2026-03-10")
    items = {item["date"]: item for item in day["items"]}
    assert items["2026-03-10T05:45"]["import_total_m3"] > 1000
    assert items["2026-03-10T06:00"]["import_total_m3"] == 0.0
    after = [i["import_total_m3"] for i in day["items"] if i["date"] >= "2026-03-10T06"]
    assert after == sorted(after)
    # Consumption is physical: the exchange does not make it negative.
    assert day["consumption_m3"] > 0
    latest = await get_json(session, sim, "/history/latest")
    last = day["items"][-1]
    assert latest[GAS_VOLUME]["value"] >= last["import_total_m3"]


async def test_exchange_by_control_endpoint(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    sim = await make_sim(profile="water", firmware="1.3.0")
    async with session.post(
        f"{sim.url}/_sim/meter/exchange", json={"start_value": 3}
    ) as resp:
        assert resp.status == 200
        assert (await resp.json())["state"]["meter_since"] == int(clock.now)
    assert await _volume(session, sim, WATER_VOLUME) == 3.0
    async with session.post(f"{sim.url}/_sim/meter/correct", json={"value": 4.25}):
        pass
    assert await _volume(session, sim, WATER_VOLUME) == 4.25
    async with session.post(f"{sim.url}/_sim/meter/correct", json={}) as resp:
        assert resp.status == 400
    async with session.post(
        f"{sim.url}/_sim/meter/exchange", json={"start_value": "x"}
    ) as resp:
        assert resp.status == 400


async def test_electricity_exchange_restarts_import_and_export(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    sim.exchange_meter(start_value=1.0, start_export=2.0)
    latest = await get_json(session, sim, "/history/latest")
    assert (latest["1.8.0"]["value"], latest["2.8.0"]["value"]) == (1.0, 2.0)
    assert "gw" not in latest


async def test_meter_attention_led(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(firmware="1.3.0")
    led = await get_json(session, sim, "/system/led")
    assert led["status"] == "OK"
    assert led["active_statuses"] == ["OK"]
    sim.configure(meter_attention=True)
    led = await get_json(session, sim, "/system/led")
    assert led == {
        "status": "METER_ATTENTION",
        "priority": 4,
        "color": "yellow",
        "mode": "pulse",
        "rgb": {"r": 255, "g": 255, "b": 0},
        "enabled": True,
        "active_statuses": ["METER_ATTENTION", "OK"],
    }
    # Older firmware knows no METER_ATTENTION and sends a dict of booleans.
    sim.configure(firmware="1.2.3")
    led = await get_json(session, sim, "/system/led")
    assert led["status"] == "OK"
    assert led["active_statuses"]["ok"] is True
    assert "meter_attention" not in led["active_statuses"]


async def test_history_day_without_data_is_204_from_1_3(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    clock.set_local("2026-03-10T12:00:00")
    sim = await make_sim(firmware="1.3.0", history_gaps=("2026-03-05",))
    gap = "/history/highRes?date=2026-03-05"
    await get_json(session, sim, gap, status=204)
    await get_json(session, sim, "/history/highRes?date=2026-03-04")
    await get_json(session, sim, "/history/highRes?date=2026-03-11", status=204)
    await get_json(session, sim, "/history/highRes?date=2026-01-01", status=204)
    await get_json(session, sim, "/history/highRes?date=2026-3-01", status=400)
    await get_json(session, sim, "/history/lowRes?start=2026-03-01&days=0", status=400)
    low = await get_json(session, sim, "/history/lowRes?start=2026-03-03&days=4")
    assert [item["date"] for item in low["items"]] == [
        "2026-03-03",
        "2026-03-04",
        "2026-03-06",
    ]
    only_gap = "/history/lowRes?start=2026-03-05&days=1"
    await get_json(session, sim, only_gap, status=204)
    # Older firmware answers 400 for the same day.
    sim.configure(firmware="1.2.3")
    assert (await get_json(session, sim, gap, status=400)) == {
        "error": "No data for requested date"
    }
    await get_json(session, sim, only_gap, status=400)


async def test_thirty_day_import_meets_one_204_day(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    sim = await make_sim(firmware="1.3.0", history_gaps=("2026-02-20",))
    statuses = {}
    today = date(2026, 3, 10)
    for back in range(30):
        day = (today - timedelta(days=back)).isoformat()
        async with session.get(
            f"{sim.url}/api/v1/history/highRes", params={"date": day}
        ) as resp:
            statuses[day] = resp.status
        clock.advance(1)  # stay inside the rate limit
    assert [d for d, s in statuses.items() if s == 204] == ["2026-02-20"]
    assert set(statuses.values()) == {200, 204}


async def test_ota_start_answers_of_firmware_1_3(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(firmware="1.3.0", ota_version="1.3.1")
    assert await post_json(session, sim, "/ota/start") == {
        "ok": True,
        "msg": "OTA started",
        "update_available": True,
        "version": "1.3.1",
        "rebooting": True,
    }


async def test_gas_devices_have_no_selftest_or_rawdump(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    sim = await make_sim(profile="gas")
    clock.advance(5)
    await post_json(session, sim, "/system/selftest", status=404)
    async with session.get(f"{sim.url}/api/v1/logs/rawdump") as resp:
        assert resp.status == 404
