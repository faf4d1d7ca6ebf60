"""Fixtures of the Home Assistant tests: the integration against the simulator."""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime
import logging
from typing import Any
from unittest.mock import PropertyMock, patch

from aiohttp.resolver import AsyncResolver
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_HOST,
    CONF_MAC,
    CONF_MODEL,
    CONF_TOKEN,
)
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from custom_components.wattwaechter.const import (
    CONF_FW_VERSION,
    CONF_WRITE_TOKEN,
    DOMAIN,
)
from simulator import Simulator, SimulatorConfig

from .timetravel import TIME_TRAVEL_KEY, VirtualTime

logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)

DEFAULTS = SimulatorConfig()
READ, WRITE = DEFAULTS.read_token, DEFAULTS.write_token


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Load custom_components/wattwaechter instead of core's integration.

    A test that asks for ``recorder_mock`` gets it before ``hass`` starts.
    """
    if "recorder_mock" in request.fixturenames:
        request.getfixturevalue("recorder_mock")
    request.getfixturevalue("enable_custom_integrations")


@pytest.fixture(autouse=True)
def fresh_resolver() -> Generator[None]:
    """Give each test's shared HTTP session a DNS resolver of its own.

    The test plugin shares one resolver across the session; newer aiodns
    versions cannot resolve again once a test's session closed it.
    """

    def make_resolver(hass: HomeAssistant) -> AsyncResolver:
        resolver = AsyncResolver()
        resolver.real_close = resolver.close  # type: ignore[attr-defined]  # HA's
        return resolver

    with patch(
        "homeassistant.helpers.aiohttp_client._async_make_resolver", make_resolver
    ):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots as JSON files: the same on every HA and syrupy version."""
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.fixture
def start_time() -> float | None:
    """Return where virtual time starts (epoch seconds); None is now.

    A fixed day time by default: what a test sees must not depend on when it
    runs (right after the device's midnight, today has no hour yet).
    """
    return datetime.fromisoformat("2026-11-18T10:07:00+00:00").timestamp()


@pytest.fixture
def time_travel(
    hass: HomeAssistant, start_time: float | None
) -> Generator[VirtualTime]:
    """Virtual time for Home Assistant's timers, its date and the simulator."""
    virtual = VirtualTime(hass.loop, start_time)
    hass.data[TIME_TRAVEL_KEY] = virtual
    yield virtual
    virtual.restore()


@pytest.fixture
def sim_clock(time_travel: VirtualTime) -> Callable[[], float]:
    """The simulator reads the virtual clock."""
    return time_travel.clock


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create every entity enabled, also the ones disabled by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
async def device(hass: HomeAssistant, simulator: Simulator) -> Simulator:
    """The simulator, started after (and so stopped before) Home Assistant."""
    return simulator


@pytest.fixture
def tokens() -> dict[str, str | None]:
    """Return the tokens the entry stores (none: the device's auth is off)."""
    return {CONF_TOKEN: None, CONF_WRITE_TOKEN: None}


@pytest.fixture
def mock_config_entry(
    device: Simulator, tokens: dict[str, str | None]
) -> MockConfigEntry:
    """Return an entry as the config flow writes it for the simulated device."""
    config = device.config
    return MockConfigEntry(
        domain=DOMAIN,
        title=config.device_name,
        unique_id=config.device_id,
        version=1,
        minor_version=3,
        data={
            CONF_HOST: f"127.0.0.1:{device.port}",
            CONF_DEVICE_ID: config.device_id,
            CONF_MAC: config.mac,
            CONF_MODEL: config.effective_model_id,
            CONF_FW_VERSION: config.firmware,
            **tokens,
        },
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, time_travel: VirtualTime
) -> ConfigEntry:
    """Set the entry up and let its first slow reads finish."""
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry


def options(**changes: Any) -> dict[str, Any]:
    """Return entry options."""
    return changes
