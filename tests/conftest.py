"""Fixtures shared by every test: the device simulator on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from simulator import Simulator, SimulatorConfig


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Return the simulator's configuration; override it in a test module."""
    return SimulatorConfig()


@pytest.fixture
async def simulator(
    socket_enabled: None, simulator_config: SimulatorConfig
) -> AsyncIterator[Simulator]:
    """Run a simulated WattWächter on 127.0.0.1 for one test."""
    sim = Simulator(simulator_config)
    await sim.start(host="127.0.0.1", port=0)
    try:
        yield sim
    finally:
        await sim.stop()
