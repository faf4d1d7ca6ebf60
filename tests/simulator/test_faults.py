"""Every fault mode, path filters and clean ending of hanging requests."""

from __future__ import annotations

import asyncio
import json
import math
import time

import aiohttp
import pytest

from simulator import FaultMode, Simulator

from .conftest import API, SimFactory, get_json

LATEST = f"{API}/history/latest"


async def _raw(
    session: aiohttp.ClientSession, sim: Simulator, path: str = LATEST
) -> tuple[int, bytes, aiohttp.ClientResponse]:
    async with session.get(f"{sim.url}{path}") as resp:
        return resp.status, await resp.read(), resp


def test_fault_modes_are_the_documented_strings() -> None:
    assert {str(mode) for mode in FaultMode} == {
        "timeout",
        "reset",
        "malformed_json",
        "http_500",
        "no_data",
        "busy_503",
        "rate_limit_429",
        "string_values",
        "nan",
        "counter_zero",
        "counter_backwards",
        "huge_payload",
        "new_obis",
        "missing_fields",
        "offline",
        "apply_then_drop",
        "frozen_reading",
    }


async def test_offline_and_reset_drop_the_connection(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    for mode in (FaultMode.OFFLINE, FaultMode.RESET):
        sim.set_fault(mode)
        with pytest.raises(aiohttp.ClientError):
            await _raw(session, sim)
        with pytest.raises(aiohttp.ClientError):
            await _raw(session, sim, f"{API}/system/alive")
        sim.clear_fault(mode)
    # aiohttp retries an idempotent request once on a dropped connection.
    statuses = [e.status for e in sim.request_log]
    assert set(statuses) == {0}
    assert len(statuses) >= 4
    status, _, _ = await _raw(session, sim)
    assert status == 200
    # The control endpoint works while the device is "offline".
    sim.set_fault(FaultMode.OFFLINE)
    async with session.get(f"{sim.url}/_sim/state") as resp:
        assert resp.status == 200


async def test_timeout_hangs_then_drops(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(timeout_seconds=0.3)
    sim.set_fault(FaultMode.TIMEOUT)
    started = time.monotonic()
    with pytest.raises(aiohttp.ClientError):
        await _raw(session, sim)
    assert time.monotonic() - started >= 0.25
    assert sim.request_log[-1].status == -1


async def test_timeout_ends_when_cleared(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(timeout_seconds=60)
    sim.set_fault(FaultMode.TIMEOUT, paths=["/history/latest"])
    request = asyncio.ensure_future(_raw(session, sim))
    await asyncio.sleep(0.1)
    assert not request.done()
    # Other paths are not affected by a path-filtered fault.
    status, _, _ = await _raw(session, sim, f"{API}/system/alive")
    assert status == 200
    started = time.monotonic()
    sim.clear_fault(FaultMode.TIMEOUT)
    # The hanging request is dropped at once; aiohttp's automatic retry of
    # the GET then succeeds because the fault is gone.
    status, _, _ = await asyncio.wait_for(request, 2)
    assert status == 200
    assert time.monotonic() - started < 2
    assert [e.status for e in sim.request_log if e.path == LATEST] == [-1, 200]


async def test_timeout_ends_when_the_simulator_stops(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(timeout_seconds=60)
    sim.set_fault(FaultMode.TIMEOUT)
    request = asyncio.ensure_future(_raw(session, sim))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await sim.stop()
    with pytest.raises(aiohttp.ClientError):
        await request
    assert time.monotonic() - started < 3


async def test_status_faults(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.set_fault(FaultMode.HTTP_500)
    status, _, _ = await _raw(session, sim)
    assert status == 500
    sim.clear_faults()

    sim.set_fault(FaultMode.BUSY_503)
    for _ in range(30):
        status, body, resp = await _raw(session, sim)
        assert status == 503
        assert resp.headers["Retry-After"] == "5"
        assert json.loads(body) == {"error": "Service temporary unavailable"}
    sim.clear_faults()

    sim.set_fault(FaultMode.RATE_LIMIT_429)
    status, body, resp = await _raw(session, sim, f"{API}/system/alive")
    assert status == 429
    assert resp.headers["Retry-After"] == "10"
    assert body == b'{"error":"Too many requests"}'
    sim.clear_faults()

    sim.set_fault(FaultMode.MALFORMED_JSON)
    status, body, resp = await _raw(session, sim)
    assert status == 200
    assert resp.content_type == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    sim.clear_faults()
    # None of the fault answers used up the rate-limit window.
    assert sim.device.rate_window.count(sim.now(), 10) == 0


async def test_faults_come_before_auth(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(auth_required=True)
    await get_json(session, sim, "/history/latest", status=401)
    sim.set_fault(FaultMode.HTTP_500)
    await get_json(session, sim, "/history/latest", status=500)


async def test_no_data(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.set_fault(FaultMode.NO_DATA)
    status, body, _ = await _raw(session, sim)
    assert (status, body) == (204, b"")
    await get_json(session, sim, "/system/info")


async def test_path_filter(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.set_fault(FaultMode.HTTP_500, paths=["/api/v1/history/latest"])
    assert (await _raw(session, sim))[0] == 500
    assert (await _raw(session, sim, f"{API}/system/alive"))[0] == 200
    sim.set_fault(FaultMode.HTTP_500, paths="system/alive")
    assert (await _raw(session, sim))[0] == 200
    assert (await _raw(session, sim, f"{API}/system/alive"))[0] == 500


async def test_string_values(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.set_fault(FaultMode.STRING_VALUES)
    latest = await get_json(session, sim, "/history/latest")
    for key, register in latest.items():
        if key in ("timestamp", "datetime"):
            continue
        assert isinstance(register["value"], str), key
    float(latest["1.8.0"]["value"])
    float(latest["16.7.0"]["value"])


async def test_nan(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.set_fault(FaultMode.NAN)
    _, body, _ = await _raw(session, sim)
    assert b'"16.7.0":{"value":NaN' in body
    latest = json.loads(body)
    for key in ("16.7.0", "36.7.0", "32.7.0", "31.7.0", "71.7.0"):
        assert math.isnan(latest[key]["value"]), key
    assert latest["1.8.0"]["value"] > 0


async def test_counter_faults(sim: Simulator, session: aiohttp.ClientSession) -> None:
    good = await get_json(session, sim, "/history/latest")
    sim.set_fault(FaultMode.COUNTER_ZERO)
    zero = await get_json(session, sim, "/history/latest")
    assert zero["1.8.0"]["value"] == 0
    assert zero["2.8.0"]["value"] == 0
    sim.clear_faults()
    sim.set_fault(FaultMode.COUNTER_BACKWARDS)
    back = await get_json(session, sim, "/history/latest")
    assert back["1.8.0"]["value"] == pytest.approx(good["1.8.0"]["value"] - 5)
    assert back["2.8.0"]["value"] == pytest.approx(good["2.8.0"]["value"] - 5)


async def test_huge_payload(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.set_fault(FaultMode.HUGE_PAYLOAD)
    _, body, _ = await _raw(session, sim)
    assert len(body) > 1_500_000
    latest = json.loads(body)
    assert len(latest) > 10_000
    assert latest["1.8.0"]["unit"] == "kWh"


async def test_new_obis(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.set_fault(FaultMode.NEW_OBIS)
    latest = await get_json(session, sim, "/history/latest")
    assert latest["1.8.3"]["unit"] == "kWh"
    assert latest["1.8.3"]["name"] == "Bezug Tarif 3"
    assert latest["3.7.0"]["unit"] == "var"


async def test_missing_fields(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.set_fault(FaultMode.MISSING_FIELDS)
    latest = await get_json(session, sim, "/history/latest")
    assert "52.7.0" not in latest
    assert "2.8.1" not in latest
    assert "value" not in latest["14.7.0"]
    assert latest["14.7.0"]["unit"] == "Hz"
    assert "1.8.0" in latest


async def test_payload_faults_on_gas(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(medium="gas")
    good = await get_json(session, sim, "/history/latest")
    sim.set_fault(FaultMode.COUNTER_BACKWARDS)
    sim.set_fault(FaultMode.STRING_VALUES)
    bad = await get_json(session, sim, "/history/latest")
    assert float(bad["7-0:3.0.0"]["value"]) == pytest.approx(
        good["7-0:3.0.0"]["value"] - 5
    )
    sim.clear_faults()
    sim.set_fault(FaultMode.MISSING_FIELDS)
    missing = await get_json(session, sim, "/history/latest")
    assert "gw" not in missing
    assert "value" not in missing["7-0:43.0.0"]


async def test_apply_then_drop_applies_the_change_but_loses_the_answer(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    """The token confirm takes effect; the client only sees a dropped connection."""
    confirm = f"{API}/auth/tokens/confirm"
    sim.set_fault(FaultMode.APPLY_THEN_DROP, paths=[confirm])
    async with session.post(f"{sim.url}{API}/auth/tokens/generate") as resp:
        pending = (await resp.json())["pending"]
    with pytest.raises(aiohttp.ClientError):
        async with session.post(
            f"{sim.url}{confirm}", json={"new_write_token": pending["token_write"]}
        ) as resp:
            await resp.read()
    assert sim.state.write_token == pending["token_write"]
    assert sim.state.read_token == pending["token_read"]
    assert sim.state.pending_tokens is None
    # A POST is not retried: one entry, logged as dropped.
    assert [(e.path, e.status) for e in sim.request_log][-1:] == [(confirm, 0)]
    # Other paths answer as usual.
    status, _, _ = await _raw(session, sim)
    assert status == 200
