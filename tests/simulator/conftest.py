"""Fixtures for the simulator tests: a controllable clock and HTTP helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from simulator import Simulator, SimulatorConfig

BERLIN = ZoneInfo("Europe/Berlin")
API = "/api/v1"
READ = "READTOKEN1234567"
WRITE = "WRITETOKEN123456"


class Clock:
    """A settable simulator clock (epoch seconds)."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def set_local(self, text: str) -> None:
        """Set the clock to a Europe/Berlin wall time, e.g. ``2026-03-10T12:00``."""
        self.now = local_epoch(text)


def local_epoch(text: str) -> float:
    """Return the epoch of a Europe/Berlin wall time."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp()


@pytest.fixture
def clock() -> Clock:
    """A clock standing at 2026-03-10 12:00 Europe/Berlin."""
    return Clock(local_epoch("2026-03-10T12:00:00"))


SimFactory = Callable[..., Awaitable[Simulator]]


@pytest.fixture
async def make_sim(socket_enabled: None, clock: Clock) -> AsyncIterator[SimFactory]:
    """Start simulators on 127.0.0.1 driven by ``clock``; stop them after."""
    started: list[Simulator] = []

    async def factory(**changes: Any) -> Simulator:
        changes.setdefault("clock", clock)
        sim = Simulator(SimulatorConfig(**changes))
        await sim.start(host="127.0.0.1", port=0)
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        await sim.stop()


@pytest.fixture
async def sim(make_sim: SimFactory) -> Simulator:
    """A default simulator driven by ``clock``."""
    return await make_sim()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client session without connection reuse surprises."""
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


async def get_json(
    session: aiohttp.ClientSession,
    sim: Simulator,
    path: str,
    *,
    status: int = 200,
    token: str | None = None,
) -> Any:
    """GET ``/api/v1{path}``, check the status and return the JSON body."""
    headers = bearer(token) if token else {}
    async with session.get(f"{sim.url}{API}{path}", headers=headers) as resp:
        assert resp.status == status, await resp.text()
        if resp.status == 204:
            return None
        return await resp.json()


async def post_json(
    session: aiohttp.ClientSession,
    sim: Simulator,
    path: str,
    body: Any = None,
    *,
    status: int = 200,
    token: str | None = None,
) -> Any:
    """POST to ``/api/v1{path}``, check the status and return the JSON body."""
    headers = bearer(token) if token else {}
    async with session.post(
        f"{sim.url}{API}{path}", json=body, headers=headers
    ) as resp:
        assert resp.status == status, await resp.text()
        return await resp.json()
