"""Faults for resilience tests: old firmware, another device, a co-tenant, one-off
errors, a reading head that fell off and replayed device payloads."""

from __future__ import annotations

import aiohttp
import pytest

from simulator import FaultMode, Simulator, SimulatorConfig

from .conftest import API, Clock, SimFactory, get_json, post_json

OPTIONAL = [
    "/system/led",
    "/ota/check",
    "/history/highRes?date=2026-03-09",
    "/history/lowRes?start=2026-03-09&days=1",
    "/mqtt/status",
    "/modbus/status",
    "/system/timezones",
]


async def _status(session: aiohttp.ClientSession, sim: Simulator, path: str) -> int:
    async with session.get(f"{sim.url}{API}{path}") as resp:
        return resp.status


def _esp(info: dict[str, list[dict[str, str]]], section: str) -> dict[str, str]:
    return {row["name"]: row["value"] for row in info[section]}


async def test_missing_endpoints_answer_404(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim()
    assert {await _status(session, sim, p) for p in OPTIONAL} == {200}
    sim.configure(missing_endpoints=tuple(p.split("?")[0] for p in OPTIONAL))
    assert {await _status(session, sim, p) for p in OPTIONAL} == {404}
    assert await _status(session, sim, "/history/latest") == 200
    assert await _status(session, sim, "/system/info") == 200
    with pytest.raises(ValueError, match="every firmware has"):
        SimulatorConfig(missing_endpoints=("/history/latest",))


async def test_legacy_firmware_leaves_out_newer_fields(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(legacy_firmware=True, auth_required=True)
    info = await get_json(session, sim, "/system/info", token="READTOKEN1234567")
    assert set(_esp(info, "esp")) == {"esp_id", "os_version"}
    assert "mdns_name" not in _esp(info, "wifi")
    settings = await get_json(session, sim, "/settings", token="READTOKEN1234567")
    for key in ("ledEnable", "api_auth_required", "timezone", "language"):
        assert key not in settings
    assert settings["device_name"] == "WattWaechter"
    answer = await post_json(
        session, sim, "/settings", {"ledEnable": False}, token="WRITETOKEN123456"
    )
    assert answer == {"success": True, "applied": {}}
    assert sim.state.settings["ledEnable"] is True
    sim.configure(legacy_firmware=False)
    info = await get_json(session, sim, "/system/info", token="READTOKEN1234567")
    assert {"model_id", "product_name"} <= set(_esp(info, "esp"))


async def test_another_device_answers_and_goes_back(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim()
    first = await get_json(session, sim, "/history/latest")
    info = _esp(await get_json(session, sim, "/system/info"), "esp")
    assert info["esp_id"] == "AABBCCDDEEFF"
    day = await get_json(session, sim, "/history/highRes?date=2026-03-09")
    sim.configure(other_device=True)
    other = await get_json(session, sim, "/history/latest")
    info = await get_json(session, sim, "/system/info")
    assert _esp(info, "esp")["esp_id"] == "0C8B95A1B2C3"
    assert _esp(info, "wifi")["mac_address"] == "0C:8B:95:A1:B2:C3"
    assert other["1.8.0"]["value"] < first["1.8.0"]["value"] - 1000
    other_day = await get_json(session, sim, "/history/highRes?date=2026-03-09")
    assert other_day["items"][0] != day["items"][0]
    sim.configure(other_device=False)
    assert (await get_json(session, sim, "/history/latest"))["1.8.0"] == first["1.8.0"]


async def test_cotenant_uses_most_of_the_rate_limit(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    sim = await make_sim(cotenant_rate=20)
    statuses = []
    for _ in range(8):
        statuses.append(await _status(session, sim, "/system/alive"))
        clock.advance(0.5)
    assert statuses == [200] * 5 + [429] * 3
    clock.advance(10)
    assert await _status(session, sim, "/system/alive") == 200
    # The co-tenant's requests are never logged; the state shows them.
    assert all(entry.path == f"{API}/system/alive" for entry in sim.request_log)
    assert len(sim.request_log) == 9
    assert sim.summary()["rate_limit"]["cotenant"] == 20
    with pytest.raises(ValueError, match="cotenant_rate"):
        SimulatorConfig(cotenant_rate=25)


async def test_counted_fault_hits_only_the_next_requests(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    high = "/history/highRes?date=2026-03-09"
    sim.set_fault(FaultMode.BUSY_503, paths=["/history/highRes"], count=3)
    assert await _status(session, sim, "/history/latest") == 200
    statuses = []
    for _ in range(4):
        statuses.append(await _status(session, sim, high))
    assert statuses == [503, 503, 503, 200]
    assert FaultMode.BUSY_503 not in sim.faults
    # A one-off reset in the middle: aiohttp retries the GET once and wins.
    sim.set_fault(FaultMode.RESET, paths=["/history/highRes"], count=1)
    assert await _status(session, sim, high) == 200
    assert [e.status for e in sim.request_log[-2:]] == [0, 200]


async def test_counted_fault_by_control_endpoint(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    body = {"mode": "http_500", "paths": ["/history/latest"], "count": 1}
    async with session.post(f"{sim.url}/_sim/fault", json=body) as resp:
        assert resp.status == 200
    assert sim.summary()["fault_counts"] == {"http_500": 1}
    assert await _status(session, sim, "/history/latest") == 500
    assert await _status(session, sim, "/history/latest") == 200
    for bad in (0, -1, True, "2"):
        async with session.post(
            f"{sim.url}/_sim/fault", json={**body, "count": bad}
        ) as resp:
            assert resp.status == 400


async def test_frozen_reading_repeats_the_last_reading(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    clock.advance(60)
    sim.set_fault(FaultMode.FROZEN_READING)
    frozen = await get_json(session, sim, "/history/latest")
    clock.advance(3 * 3600)
    assert await get_json(session, sim, "/history/latest") == frozen
    assert frozen["timestamp"] == int(clock.now) - 3 * 3600
    sim.clear_fault(FaultMode.FROZEN_READING)
    fresh = await get_json(session, sim, "/history/latest")
    assert fresh["timestamp"] == int(clock.now)
    totals = ("1.8.0", "2.8.0")
    assert [fresh[c]["value"] for c in totals] != [frozen[c]["value"] for c in totals]


async def test_no_data_while_the_device_runs(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    clock.advance(3600)
    sim.set_fault(FaultMode.NO_DATA, paths=["/history/latest"])
    await get_json(session, sim, "/history/latest", status=204)
    assert (await get_json(session, sim, "/system/alive"))["alive"] is True


async def test_payload_replay(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    real = {
        "timestamp": 1764246000,
        "datetime": "2025-11-27T13:20:00",
        "1.8.0": {"value": 1.5, "unit": "kWh", "name": "Bezug"},
    }
    sim = await make_sim(payloads={"/history/latest": real, "system/led": None})
    assert await get_json(session, sim, "/history/latest") == real
    await get_json(session, sim, "/system/led", status=204)
    assert sim.request_log[-1].status == 204
    async with session.post(
        f"{sim.url}/_sim/config", json={"payloads": {"/system/alive": {"alive": 1}}}
    ) as resp:
        assert resp.status == 200
    assert await get_json(session, sim, "/system/alive") == {"alive": 1}
    assert (await get_json(session, sim, "/history/latest"))["timestamp"] != 1764246000
    async with session.post(f"{sim.url}/_sim/config", json={"payloads": []}) as resp:
        assert resp.status == 400


async def test_list_fields_through_the_control_endpoint(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    body = {"history_gaps": ["2026-03-05"], "missing_endpoints": ["system/led"]}
    async with session.post(f"{sim.url}/_sim/config", json=body) as resp:
        assert resp.status == 200
        config = (await resp.json())["config"]
    assert config["history_gaps"] == ["2026-03-05"]
    assert config["missing_endpoints"] == ["/api/v1/system/led"]
    assert sim.config.missing_endpoints == ("/api/v1/system/led",)
    assert await _status(session, sim, "/system/led") == 404
    for bad in (
        {"history_gaps": "2026-03-05"},
        {"history_gaps": ["5.3.2026"]},
        {"missing_endpoints": ["/history/latest"]},
        {"cotenant_rate": 1.5},
    ):
        async with session.post(f"{sim.url}/_sim/config", json=bad) as resp:
            assert resp.status == 400, bad
