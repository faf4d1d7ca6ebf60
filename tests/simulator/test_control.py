"""The ``/_sim/`` control endpoint, the request log and the Python API."""

from __future__ import annotations

import dataclasses
import time

import aiohttp
from freezegun.api import FrozenDateTimeFactory
import pytest

from simulator import FaultMode, RequestLogEntry, Simulator, SimulatorConfig

from .conftest import API, READ, Clock, SimFactory, get_json, post_json


async def _control(
    session: aiohttp.ClientSession,
    sim: Simulator,
    path: str,
    body: object = None,
    status: int = 200,
) -> object:
    method = (
        session.get if body is None and not path.endswith("clear") else session.post
    )
    async with method(f"{sim.url}/_sim/{path}", json=body) as resp:
        assert resp.status == status, await resp.text()
        return await resp.json()


async def test_request_log_entries(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    sim = await make_sim(auth_required=True)
    await get_json(session, sim, "/history/highRes?date=2026-03-09", token=READ)
    clock.advance(1)
    await get_json(session, sim, "/system/info", status=401)
    await get_json(session, sim, "/system/info", status=401, token="BAD")
    await _control(session, sim, "state")
    log = sim.request_log
    assert log[0] == RequestLogEntry(
        time=clock.now - 1,
        method="GET",
        path="/api/v1/history/highRes",
        query="date=2026-03-09",
        status=200,
        token_level="read",
    )
    assert [(e.status, e.token_level) for e in log[1:]] == [
        (401, "none"),
        (401, "invalid"),
    ]
    assert len(log) == 3  # the control request is not logged
    with pytest.raises(dataclasses.FrozenInstanceError):
        log[0].status = 1  # type: ignore[misc]
    log.clear()  # a copy: the simulator's log is untouched
    assert len(sim.request_log) == 3
    sim.clear_log()
    assert sim.request_log == []


async def test_control_state(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    clock.advance(300)
    state = await _control(session, sim, "state")
    assert isinstance(state, dict)
    assert state["firmware"] == "1.2.3"
    assert state["phase"] == "online"
    assert state["uptime_s"] == 300
    assert state["faults"] == {}
    assert state["counters"]["import_kWh"] > 0
    assert state["settings"]["ledEnable"] is True
    assert state["auth"]["required"] is False
    assert state["auth"]["read_token"] == READ
    assert state["url"] == sim.url


async def test_control_faults(sim: Simulator, session: aiohttp.ClientSession) -> None:
    answer = await _control(
        session,
        sim,
        "fault",
        {"mode": "http_500", "active": True, "paths": ["/api/v1/history/latest"]},
    )
    assert answer == {"ok": True, "faults": {"http_500": ["/api/v1/history/latest"]}}
    await get_json(session, sim, "/history/latest", status=500)
    await get_json(session, sim, "/system/alive")
    await _control(session, sim, "fault", {"mode": "offline"})
    assert FaultMode.OFFLINE in sim.faults
    await _control(session, sim, "fault", {"mode": "offline", "active": False})
    assert FaultMode.OFFLINE not in sim.faults
    await _control(session, sim, "faults/clear", {})
    await get_json(session, sim, "/history/latest")
    await _control(session, sim, "fault", {"mode": "bogus"}, status=400)
    await _control(session, sim, "fault", {"active": True}, status=400)
    await _control(session, sim, "fault", {"mode": "nan", "paths": "x"}, status=400)


async def test_control_log(sim: Simulator, session: aiohttp.ClientSession) -> None:
    await get_json(session, sim, "/system/alive")
    log = await _control(session, sim, "log")
    assert log == [
        {
            "time": sim.request_log[0].time,
            "method": "GET",
            "path": "/api/v1/system/alive",
            "query": "",
            "status": 200,
            "token_level": "none",
        }
    ]
    await _control(session, sim, "log/clear", {})
    assert await _control(session, sim, "log") == []


async def test_control_config(sim: Simulator, session: aiohttp.ClientSession) -> None:
    answer = await _control(
        session, sim, "config", {"auth_required": True, "reboot_seconds": 3}
    )
    assert isinstance(answer, dict)
    assert answer["config"]["auth_required"] is True
    assert answer["config"]["reboot_seconds"] == 3.0
    await get_json(session, sim, "/system/info", status=401)
    await _control(session, sim, "config", {"ota_fail": "yes"}, status=400)
    await _control(session, sim, "config", {"clock": 1}, status=400)
    await _control(session, sim, "config", {"nope": 1}, status=400)
    config = await _control(session, sim, "config")
    assert isinstance(config, dict)
    assert config["reboot_seconds"] == 3.0
    async with session.get(f"{sim.url}/_sim/unknown") as resp:
        assert resp.status == 404
    assert sim.request_log == [sim.request_log[0]]


async def test_control_is_never_rate_limited(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(rate_limit=1)
    await get_json(session, sim, "/system/alive")
    await get_json(session, sim, "/system/alive", status=429)
    for _ in range(30):
        await _control(session, sim, "state")


async def test_python_api(make_sim: SimFactory, clock: Clock) -> None:
    sim = await make_sim()
    assert sim.host == "127.0.0.1"
    assert sim.port > 0
    assert sim.url == f"http://127.0.0.1:{sim.port}"
    assert sim.config.device_id == "AABBCCDDEEFF"
    sim.configure(firmware="2.0.0", device_name="Keller")
    assert sim.state.firmware == "2.0.0"
    assert sim.state.settings["device_name"] == "Keller"
    with pytest.raises(TypeError):
        sim.configure(nope=True)
    with pytest.raises(ValueError, match="device_id"):
        SimulatorConfig(device_id="aa:bb")
    with pytest.raises(ValueError, match="medium"):
        SimulatorConfig(medium="steam")
    with pytest.raises(ValueError, match="latency"):
        SimulatorConfig(latency=-1)
    sim.set_fault("nan")
    sim.set_fault(FaultMode.NO_DATA, paths=["/history/latest"])
    assert sim.faults.as_json() == {"nan": None, "no_data": ["/api/v1/history/latest"]}
    sim.clear_fault("nan")
    sim.clear_faults()
    assert sim.faults.as_json() == {}
    assert sim.now() == clock.now


async def test_context_manager_and_default_clock(socket_enabled: None) -> None:
    async with Simulator() as sim, aiohttp.ClientSession() as session:
        async with session.get(f"{sim.url}{API}/history/latest") as resp:
            latest = await resp.json()
        assert abs(latest["timestamp"] - time.time()) < 5
    assert not sim.running


async def test_default_clock_follows_freezegun(
    socket_enabled: None, freezer: FrozenDateTimeFactory
) -> None:
    """``time.time`` is looked up at each use, so freezegun moves the device."""
    freezer.move_to("2026-03-10T11:00:00+00:00")
    sim = Simulator()
    await sim.start()
    try:
        async with aiohttp.ClientSession() as session:
            latest = await get_json(session, sim, "/history/latest")
            assert latest["datetime"] == "2026-03-10T12:00:00"
            freezer.tick(3600)
            latest = await get_json(session, sim, "/history/latest")
            assert latest["datetime"] == "2026-03-10T13:00:00"
            info = await get_json(session, sim, "/system/info")
            assert info["uptime"][0]["value"] == "0d 1h 0m"
            await post_json(session, sim, "/system/reboot")
            freezer.tick(11)
            await get_json(session, sim, "/system/alive")
    finally:
        await sim.stop()
