"""Fixtures of the benchmark: those of the Home Assistant tests, and a recorder."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.integration.conftest import (  # noqa: F401 (fixtures used by name)
    auto_enable_custom_integrations,
    entity_registry_enabled_by_default,
    start_time,
    time_travel,
)


@pytest.fixture(autouse=True)
def enable_event_loop_debug(event_loop: asyncio.AbstractEventLoop) -> None:
    """Run the loop as Home Assistant does: debug mode costs CPU at every call."""
    event_loop.set_debug(False)


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: Any) -> None:
    """Prepare the recorder before Home Assistant starts (the hour uses one)."""


@pytest.fixture
def recorder_config() -> dict[str, Any]:
    """Keep statistics only, as the history import needs."""
    return {"exclude": {"entity_globs": ["*.*"]}}
