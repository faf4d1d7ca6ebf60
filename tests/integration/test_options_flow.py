"""The options flow: the meter interval, applied without a restart."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import (
    CONF_DAILY_HISTORY,
    CONF_SCAN_INTERVAL,
    DOMAIN,
)
from simulator import Simulator

from .conftest import setup_via_flow
from .helpers import advance
from .traffic import LATEST


def suggested(result: dict[str, object], key: str) -> object:
    """Return the value the form suggests for ``key``."""
    schema = result["data_schema"].schema  # type: ignore[attr-defined]
    for marker in schema:
        if marker == key:
            return (marker.description or {}).get("suggested_value")
    raise KeyError(key)


async def test_interval_applies_at_once(hass: HomeAssistant, device: Simulator) -> None:
    """A new interval is stored and the meter is polled at it, without a reload."""
    entry = await setup_via_flow(hass, device)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert suggested(result, CONF_SCAN_INTERVAL) == 10

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 30}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_SCAN_INTERVAL: 30, CONF_DAILY_HISTORY: False}
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.meter.update_interval == timedelta(seconds=30)

    device.clear_log()
    for _ in range(30):
        await advance(hass, 10)
    polls = [r for r in device.request_log if r.path == LATEST]
    assert len(polls) == 10

    # The form shows the stored value the next time.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert suggested(result, CONF_SCAN_INTERVAL) == 30


async def test_stored_interval_is_used_at_setup(
    hass: HomeAssistant, device: Simulator
) -> None:
    """An entry loads with the interval from its options."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="AABBCCDDEEFF",
        data={
            CONF_HOST: f"127.0.0.1:{device.port}",
            CONF_TOKEN: None,
            "device_id": "AABBCCDDEEFF",
        },
        options={CONF_SCAN_INTERVAL: 60},
        version=1,
        minor_version=3,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.meter.update_interval == timedelta(seconds=60)


async def test_options_of_an_entry_that_is_not_loaded(hass: HomeAssistant) -> None:
    """The options of an unloaded entry are stored and used at the next setup."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="AABBCCDDEEFF",
        data={CONF_HOST: "192.0.2.1", CONF_TOKEN: None, "device_id": "AABBCCDDEEFF"},
        version=1,
        minor_version=3,
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 300}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_SCAN_INTERVAL: 300, CONF_DAILY_HISTORY: False}
    assert entry.state is ConfigEntryState.NOT_LOADED


@pytest.mark.parametrize("seconds", [4, 301])
async def test_interval_out_of_range(hass: HomeAssistant, seconds: int) -> None:
    """The form refuses intervals outside 5-300 s."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="AABBCCDDEEFF",
        data={CONF_HOST: "192.0.2.1", CONF_TOKEN: None, "device_id": "AABBCCDDEEFF"},
        version=1,
        minor_version=3,
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_SCAN_INTERVAL: seconds}
        )
    assert entry.options == {}
