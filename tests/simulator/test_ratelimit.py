"""The device-wide rate limit (429) and the heap guard (503)."""

from __future__ import annotations

import asyncio

import aiohttp

from simulator import Simulator

from .conftest import API, Clock, SimFactory


async def _status(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as resp:
        await resp.read()
        return resp.status


async def test_26th_request_in_window_is_429(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    url = f"{sim.url}{API}/system/alive"
    for i in range(25):
        clock.advance(0.1)
        assert await _status(session, url) == 200, i
    clock.advance(0.1)
    async with session.get(url) as resp:
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "10"
        assert resp.headers["Content-Type"] == "application/json"
        assert await resp.read() == b'{"error":"Too many requests"}'
    assert sim.request_log[-1].status == 429


async def test_window_slides_with_the_clock(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    url = f"{sim.url}{API}/system/alive"
    start = clock.now
    for _ in range(25):
        assert await _status(session, url) == 200
        clock.advance(0.2)  # 25 requests over 5 s
    assert await _status(session, url) == 429
    # Rejected requests do not count: hammering does not extend the ban.
    for _ in range(5):
        assert await _status(session, url) == 429
    clock.now = start + 10.1  # the first request left the window
    assert await _status(session, url) == 200
    assert await _status(session, url) == 429
    clock.now = start + 15.1  # everything but the last one left
    for _ in range(24):
        assert await _status(session, url) == 200
    assert await _status(session, url) == 429


async def test_rate_limit_covers_401_and_404_but_not_control(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(auth_required=True, rate_limit=3)
    assert await _status(session, f"{sim.url}{API}/system/info") == 401
    assert await _status(session, f"{sim.url}{API}/unknown") == 404
    for _ in range(10):
        assert await _status(session, f"{sim.url}/_sim/state") == 200
    assert await _status(session, f"{sim.url}{API}/system/alive") == 200
    assert await _status(session, f"{sim.url}{API}/system/alive") == 429


async def test_heap_guard_on_concurrent_history(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(history_delay=0.3)
    url = f"{sim.url}{API}/history/highRes?date=2026-03-09"

    async def fetch() -> tuple[int, str | None]:
        async with session.get(url) as resp:
            await resp.read()
            return resp.status, resp.headers.get("Retry-After")

    results = await asyncio.gather(*(fetch() for _ in range(4)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 200, 503, 503]
    assert {after for status, after in results if status == 503} == {"5"}
    busy = next(e for e in sim.request_log if e.status == 503)
    assert busy.path == "/api/v1/history/highRes"
    # Once the first ones finished, history works again.
    status, _ = await fetch()
    assert status == 200
    # Non-history requests are never stopped by the heap guard.
    assert await _status(session, f"{sim.url}{API}/system/alive") == 200


async def test_503_body(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    sim = await make_sim(history_delay=0.3, max_history_in_flight=0)
    async with session.get(f"{sim.url}{API}/history/lowRes?start=2026-03-01") as resp:
        assert resp.status == 503
        assert resp.headers["Content-Type"] == "application/json"
        assert await resp.read() == b'{"error":"Service temporary unavailable"}'
