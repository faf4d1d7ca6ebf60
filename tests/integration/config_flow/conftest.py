"""Fixtures of the config flow tests: entry setup is counted, not run."""

from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import AsyncMock, patch

import pytest


@pytest.fixture(autouse=True)
def mock_setup_entry() -> Iterator[AsyncMock]:
    """Keep entry setup out of the flow tests; count how often it ran."""
    with (
        patch(
            "custom_components.wattwaechter.async_setup_entry", return_value=True
        ) as setup,
        patch("custom_components.wattwaechter.async_unload_entry", return_value=True),
    ):
        yield setup
