"""The options flow: the meter interval (applied without a reload) and daily history."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry, ConfigEntryState, ConfigFlowResult
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import (
    CONF_DAILY_HISTORY,
    CONF_SCAN_INTERVAL,
    DOMAIN,
)
from simulator import Simulator

from .config_flow.helpers import suggested
from .timetravel import VirtualTime, advance

LATEST = "/api/v1/history/latest"


async def submit(
    hass: HomeAssistant, entry: ConfigEntry, user_input: dict[str, object]
) -> ConfigFlowResult:
    """Open the options and submit them."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    return await hass.config_entries.options.async_configure(
        result["flow_id"], user_input
    )


def poll_times(device: Simulator) -> list[float]:
    """Return when the meter was read (simulator clock)."""
    return [r.time for r in device.request_log if r.path == LATEST]


async def test_interval_applies_at_once(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    time_travel: VirtualTime,
) -> None:
    """The meter is read at the new interval from the next poll on, no reload."""
    entry = init_integration
    runtime = entry.runtime_data
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert suggested(result, CONF_SCAN_INTERVAL) == 10
    assert suggested(result, CONF_DAILY_HISTORY) is False

    device.clear_log()
    changed_at = time_travel.clock()
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 30}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_SCAN_INTERVAL: 30, CONF_DAILY_HISTORY: False}
    for _ in range(95):
        await advance(hass, 1)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is runtime  # not reloaded
    polls = poll_times(device)
    assert len(polls) == 3
    # One-second steps: a poll due at t fires at the first step past t.
    gaps = [b - a for a, b in zip([changed_at, *polls], polls, strict=False)]
    assert all(29 <= gap <= 31 for gap in gaps), gaps

    # The form shows the stored value the next time.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert suggested(result, CONF_SCAN_INTERVAL) == 30


async def test_stored_interval_is_used_at_setup(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    device: Simulator,
    time_travel: VirtualTime,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_SCAN_INTERVAL: 60}
    )
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    device.clear_log()
    for _ in range(12):
        await advance(hass, 10)
    assert len(poll_times(device)) == 2


def unloaded_entry(hass: HomeAssistant) -> MockConfigEntry:
    """Add an entry that is not set up (its device is nowhere)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="AABBCCDDEEFF",
        data={CONF_HOST: "127.0.0.5", "device_id": "AABBCCDDEEFF"},
        version=1,
        minor_version=3,
    )
    entry.add_to_hass(hass)
    return entry


async def test_options_of_an_entry_that_is_not_loaded(hass: HomeAssistant) -> None:
    """The options of an unloaded entry are stored and used at the next setup."""
    entry = unloaded_entry(hass)
    result = await submit(hass, entry, {CONF_SCAN_INTERVAL: 300})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_SCAN_INTERVAL: 300, CONF_DAILY_HISTORY: False}
    assert entry.state is ConfigEntryState.NOT_LOADED


@pytest.mark.parametrize("seconds", [4, 301])
@pytest.mark.parametrize("language", ["en", "de"])
async def test_interval_out_of_range_names_the_range(
    hass: HomeAssistant, seconds: int, language: str
) -> None:
    entry = unloaded_entry(hass)
    result = await submit(hass, entry, {CONF_SCAN_INTERVAL: seconds})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SCAN_INTERVAL: "interval_out_of_range"}
    assert suggested(result, CONF_SCAN_INTERVAL) == seconds
    assert entry.options == {}

    texts = await async_get_translations(hass, language, "options", {DOMAIN})
    text = texts[f"component.{DOMAIN}.options.error.interval_out_of_range"]
    shown = text.format(**result["description_placeholders"])
    assert "5" in shown
    assert "300" in shown

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_SCAN_INTERVAL] == 5


async def test_daily_history_is_stored(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    entry = init_integration
    await submit(hass, entry, {CONF_SCAN_INTERVAL: 10, CONF_DAILY_HISTORY: True})
    assert entry.options == {CONF_SCAN_INTERVAL: 10, CONF_DAILY_HISTORY: True}
    assert entry.runtime_data.history.daily is True

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert suggested(result, CONF_DAILY_HISTORY) is True
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 10, CONF_DAILY_HISTORY: False}
    )
    assert entry.options[CONF_DAILY_HISTORY] is False
    assert entry.runtime_data.history.daily is False
