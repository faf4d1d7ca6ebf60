"""Fixtures shared by every test: the device simulator on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest

from simulator import Simulator, SimulatorConfig


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Return the simulator's configuration; override it in a test module."""
    return SimulatorConfig()


@pytest.fixture
def sim_clock() -> Callable[[], float] | None:
    """Return the simulator's clock; None is the real time.time()."""
    return None


@pytest.fixture
async def simulator(
    socket_enabled: None,
    simulator_config: SimulatorConfig,
    sim_clock: Callable[[], float] | None,
) -> AsyncIterator[Simulator]:
    """Run a simulated WattWächter on 127.0.0.1 for one test."""
    if sim_clock is not None:
        simulator_config = replace(simulator_config, clock=sim_clock)
    sim = Simulator(simulator_config)
    await sim.start(host="127.0.0.1", port=0)
    try:
        yield sim
    finally:
        await sim.stop()
