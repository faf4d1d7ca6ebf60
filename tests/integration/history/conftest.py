"""Fixtures of the history tests: the backfill on, HA's date on the simulator's."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator
from contextlib import ExitStack
from datetime import UTC, datetime
from functools import partial
from unittest.mock import patch

from homeassistant.core import HomeAssistant
import pytest

from custom_components.wattwaechter.api import RequestBudget
from simulator import Simulator, SimulatorConfig

from ..timetravel import VirtualTime
from .helpers import NOW, settle


@pytest.fixture
def automatic_backfill() -> bool:
    """The backfill runs by itself in these tests."""
    return True


@pytest.fixture
def sim_start() -> float:
    """Where the simulated clock starts."""
    return NOW


@pytest.fixture
def request_spacing() -> float:
    """Seconds between backfill requests (no pause in most tests)."""
    return 0.0


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """A device without a rate limit, since the backfill does not pause here."""
    return SimulatorConfig(rate_limit=100_000)


@pytest.fixture
def sim_clock(time_travel: VirtualTime, sim_start: float) -> Callable[[], float]:
    """The simulator's clock: virtual time shifted to ``sim_start``."""
    shift = sim_start - time_travel.clock()
    return lambda: time_travel.clock() + shift


@pytest.fixture
def budget_limit() -> int | None:
    """Requests per 10 s of the device's budget; None keeps the real one."""
    return 100_000


@pytest.fixture(autouse=True)
def ha_clock(
    sim_clock: Callable[[], float], request_spacing: float, budget_limit: int | None
) -> Generator[None]:
    """Home Assistant's date follows the simulator's clock.

    Most tests also lift the backfill's pace (request spacing and budget) so a
    30-day import takes no real time; the pacing test keeps both.
    """
    with ExitStack() as stack:
        stack.enter_context(
            patch(
                "homeassistant.util.dt.utcnow",
                lambda: datetime.fromtimestamp(sim_clock(), UTC),
            )
        )
        stack.enter_context(
            patch(
                "custom_components.wattwaechter.statistics.REQUEST_SPACING",
                request_spacing,
            )
        )
        if budget_limit is not None:
            stack.enter_context(
                patch(
                    "custom_components.wattwaechter.budgets.RequestBudget",
                    partial(RequestBudget, limit=budget_limit),
                )
            )
        yield


@pytest.fixture(autouse=True)
async def finish_backfill(
    hass: HomeAssistant, device: Simulator, ha_clock: None
) -> AsyncGenerator[None]:
    """Let a backfill end before the simulator and Home Assistant stop.

    A statistics query still running on the recorder's executor while the test
    recorder shuts its in-memory database down can crash SQLite. Requesting
    ``device`` and ``ha_clock`` makes this run before the simulator stops and
    while the test's clock and request spacing still apply.
    """
    yield
    await settle(hass)
