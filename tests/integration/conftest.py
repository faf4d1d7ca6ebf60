"""Fixtures of the Home Assistant tests: custom integration on, setup via the flow."""

from __future__ import annotations

from collections.abc import Callable, Generator
import logging
from typing import Any
from unittest.mock import PropertyMock, patch

from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.const import CONF_HOST, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.wattwaechter.const import CONF_WRITE_TOKEN, DOMAIN
from simulator import Simulator, SimulatorConfig

from .helpers import outlast_setup_requests
from .timetravel import TIME_TRAVEL_KEY, VirtualTime

# pytest-homeassistant-custom-component logs every SQL statement of the test
# recorder at INFO; that drowns the output of a failing test.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


DEFAULTS = SimulatorConfig()
"""The simulator's default settings (its tokens, say)."""


@pytest.fixture
def recorder_config() -> dict[str, Any]:
    """Record no entity states: the tests read statistics, not state history.

    Recording every sensor update costs CPU in each test and makes the
    timing-sensitive ones (budget, cadence) slower on a busy machine.
    """
    return {
        "exclude": {
            "domains": ["binary_sensor", "button", "sensor", "switch", "update"]
        }
    }


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Load custom_components/wattwaechter instead of core's integration.

    The integration depends on the recorder (history backfill), so every test
    gets the test recorder; ``recorder_mock`` comes first, before ``hass``.
    """


@pytest.fixture
def automatic_backfill() -> bool:
    """Whether the history backfill starts by itself at setup and hourly.

    Off by default, so the other tests see only their own requests; the
    statistics tests turn it on.
    """
    return False


@pytest.fixture(autouse=True)
def control_automatic_backfill(automatic_backfill: bool) -> Generator[None]:
    """Keep the backfill from starting by itself unless a test wants it."""
    if automatic_backfill:
        yield
        return
    with patch("custom_components.wattwaechter.statistics.HistoryImporter.async_start"):
        yield


@pytest.fixture
def time_travel(hass: HomeAssistant) -> Generator[VirtualTime]:
    """Virtual time for Home Assistant's timers and the simulator."""
    virtual = VirtualTime(hass.loop)
    hass.data[TIME_TRAVEL_KEY] = virtual
    yield virtual
    virtual.restore()


@pytest.fixture
def freezer(time_travel: VirtualTime) -> VirtualTime:
    """Replace freezegun: ``freezer.tick()`` moves the virtual clock instead."""
    return time_travel


@pytest.fixture
def sim_clock(time_travel: VirtualTime) -> Callable[[], float]:
    """The simulator reads the virtual clock."""
    return time_travel.clock


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create every entity enabled, including the disabled-by-default ones."""
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


async def setup_via_flow(
    hass: HomeAssistant,
    sim: Simulator,
    token: str | None = None,
    write_token: str | None = None,
) -> ConfigEntry:
    """Add the simulated device through the real user flow, as a user would.

    ``token`` and ``write_token`` go into the auth step, if the device asks.
    """
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: f"127.0.0.1:{sim.port}"}
    )
    if result["type"] is FlowResultType.FORM and result["step_id"] == "auth":
        assert token or write_token, "the device asked for a token"
        tokens = {CONF_TOKEN: token, CONF_WRITE_TOKEN: write_token}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {key: value for key, value in tokens.items() if value}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    return entry


@pytest.fixture(params=["auth_off", "auth_on"])
def auth(request: pytest.FixtureRequest) -> str:
    """Run a test with device auth off, and on with READ + WRITE tokens."""
    param: str = request.param
    return param


@pytest.fixture
async def controlled(hass: HomeAssistant, device: Simulator, auth: str) -> ConfigEntry:
    """A loaded entry that may act (auth off, or on with both tokens), log cleared."""
    if auth == "auth_on":
        device.configure(auth_required=True)
        entry = await setup_via_flow(
            hass, device, token=DEFAULTS.read_token, write_token=DEFAULTS.write_token
        )
    else:
        entry = await setup_via_flow(hass, device)
    await outlast_setup_requests(hass)
    device.clear_log()
    return entry


@pytest.fixture
async def entry(hass: HomeAssistant, device: Simulator) -> ConfigEntry:
    """A loaded entry for the simulated device (auth off), a window after setup."""
    entry = await setup_via_flow(hass, device)
    await outlast_setup_requests(hass)
    return entry
