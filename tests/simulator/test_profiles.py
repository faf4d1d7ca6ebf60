"""Households: which registers each profile sends, and history agreeing with them."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiohttp
import pytest

from simulator import Simulator, SimulatorConfig

from .conftest import BERLIN, Clock, SimFactory, get_json, local_epoch

ELECTRICITY = ["default", "no_feed_in", "single_phase", "import_only", "clock_off"]


async def _latest(session: aiohttp.ClientSession, sim: Simulator) -> dict[str, dict]:
    body: dict[str, dict] = await get_json(session, sim, "/history/latest")
    return body


def _wh(value: float) -> int:
    return round(value * 1000)


async def test_no_feed_in_export_stays_exactly_zero(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    clock.set_local("2026-06-21T08:00:00")
    sim = await make_sim(profile="no_feed_in")
    seen = []
    for _ in range(8):  # across a sunny midsummer day
        latest = await _latest(session, sim)
        assert latest["2.8.0"]["value"] == 0.0
        assert latest["16.7.0"]["value"] > 0
        seen.append(latest["1.8.0"]["value"])
        clock.advance(3600)
    assert seen == sorted(seen)
    assert seen[-1] > seen[0]
    day = await get_json(session, sim, "/history/highRes?date=2026-06-21")
    assert day["export_total_kWh"] == 0.0
    assert {item["export_total_kWh"] for item in day["items"]} == {0.0}


async def test_single_phase_has_only_l1(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(profile="single_phase")
    latest = await _latest(session, sim)
    for code in ("36.7.0", "32.7.0", "31.7.0", "16.7.0", "1.8.0", "2.8.0"):
        assert code in latest
    for code in ("56.7.0", "76.7.0", "52.7.0", "72.7.0", "51.7.0", "71.7.0"):
        assert code not in latest
    assert latest["36.7.0"]["value"] == latest["16.7.0"]["value"]


async def test_import_only_sends_only_the_import_total(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(profile="import_only")
    latest = await _latest(session, sim)
    assert set(latest) == {"timestamp", "datetime", "1.8.0"}
    modbus = await get_json(session, sim, "/modbus/status")
    assert [r["register"] for r in modbus["registers"]]  # map stays complete


async def test_clock_off_shifts_only_the_reading_time(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    sim = await make_sim(profile="clock_off")
    latest = await _latest(session, sim)
    assert latest["timestamp"] == int(clock.now) - 3 * 3600
    assert latest["datetime"] == "2026-03-10T09:00:00"
    assert _wh(latest["1.8.0"]["value"]) == sim.meter.reading(clock.now)[0]
    sim.configure(clock_offset=7200.0)
    assert (await _latest(session, sim))["datetime"] == "2026-03-10T14:00:00"


async def test_tariff_registers_switch_at_the_set_local_times(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    clock.set_local("2026-03-10T05:00:00")
    sim = await make_sim(profile="tariff")
    previous = None
    grew = {"1.8.1": set(), "1.8.2": set()}
    for _ in range(4 * 24):
        latest = await _latest(session, sim)
        t0, t1, t2 = (_wh(latest[c]["value"]) for c in ("1.8.0", "1.8.1", "1.8.2"))
        assert t0 == t1 + t2
        if previous is not None:
            hour = datetime.fromtimestamp(clock.now - 1, BERLIN).hour
            for code, now, before in (
                ("1.8.1", t1, previous[0]),
                ("1.8.2", t2, previous[1]),
            ):
                assert now >= before
                if now > before:
                    grew[code].add(hour)
        previous = (t1, t2)
        clock.advance(900)
    assert grew["1.8.1"] <= set(range(6, 22))
    assert grew["1.8.2"] <= {*range(6), 22, 23}
    assert grew["1.8.1"]
    assert grew["1.8.2"]
    summary = sim.summary()["counters"]
    assert summary["tariff1_kWh"] + summary["tariff2_kWh"] == pytest.approx(
        summary["import_kWh"]
    )


async def test_tariff_schedule_is_configurable(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    clock.set_local("2026-03-10T03:00:00")
    sim = await make_sim(profile="tariff", tariff_schedule=("02:00", "04:00"))
    before = await _latest(session, sim)
    clock.advance(1800)
    after = await _latest(session, sim)
    assert after["1.8.2"]["value"] == before["1.8.2"]["value"]
    assert after["1.8.1"]["value"] > before["1.8.1"]["value"]


@pytest.mark.parametrize(
    "bad", [("06:00", "06:00"), ("6h", "22:00"), ("06:10", "22:00")]
)
def test_bad_tariff_schedules_are_refused(bad: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="tariff"):
        SimulatorConfig(profile="tariff", tariff_schedule=bad)


@pytest.mark.parametrize("profile", [*ELECTRICITY, "tariff", "gas", "water"])
async def test_history_agrees_with_the_live_counters(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock, profile: str
) -> None:
    """At each slot start the live total equals that slot's history reading."""
    clock.set_local("2026-03-09T00:00:00")
    sim = await make_sim(profile=profile)
    total = {"gas": "7-0:3.0.0", "water": "8-0:1.0.0"}.get(profile, "1.8.0")
    reading = "import_total_m3" if profile in ("gas", "water") else "import_total_kWh"
    live = {}
    for _ in range(24):
        live[int(clock.now)] = (await _latest(session, sim))[total]["value"]
        clock.advance(3600)
    clock.set_local("2026-03-10T12:00:00")
    day = await get_json(session, sim, "/history/highRes?date=2026-03-09")
    history = {item["timestamp"]: item[reading] for item in day["items"]}
    assert {t: history[t] for t in live} == live
    low = await get_json(session, sim, "/history/lowRes?start=2026-03-09&days=2")
    first, second = low["items"]
    assert first[reading] == live[int(local_epoch("2026-03-09T00:00:00"))]
    consumption = "import_m3" if reading.endswith("m3") else "import_kWh"
    assert second[reading] == pytest.approx(first[reading] + first[consumption])


def test_profiles_pick_the_medium() -> None:
    assert SimulatorConfig(profile="water").medium == "water"
    gas = SimulatorConfig(profile="gas")
    assert gas.replace(profile="tariff").medium == "electricity"
    assert gas.replace(profile="water").medium == "water"
    assert SimulatorConfig(medium="gas").profile == "default"
    with pytest.raises(ValueError, match="needs medium"):
        SimulatorConfig(profile="gas", medium="water")
    with pytest.raises(ValueError, match="electricity profile"):
        SimulatorConfig(profile="tariff", medium="gas")
    with pytest.raises(ValueError, match="profile must be"):
        SimulatorConfig(profile="solar_farm")


async def test_profile_switch_at_run_time(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    sim.configure(profile="water")
    assert "8-0:1.0.0" in await _latest(session, sim)
    sim.configure(profile="import_only")
    assert set(await _latest(session, sim)) == {"timestamp", "datetime", "1.8.0"}
    clock.advance(timedelta(hours=1).total_seconds())
    async with session.post(f"{sim.url}/_sim/config", json={"profile": "gas"}) as r:
        assert r.status == 200
    assert "7-0:3.0.0" in await _latest(session, sim)
