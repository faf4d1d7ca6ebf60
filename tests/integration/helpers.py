"""Helpers for the Home Assistant tests."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.wattwaechter.const import DOMAIN


def entity_id(
    hass: HomeAssistant, entry: ConfigEntry, key: str, domain: str = "sensor"
) -> str:
    """Return the entity ID of ``<device_id>_<key>``."""
    registry = er.async_get(hass)
    found = registry.async_get_entity_id(domain, DOMAIN, f"{entry.unique_id}_{key}")
    assert found is not None, f"no {domain} entity for {key}"
    return found


def state(
    hass: HomeAssistant, entry: ConfigEntry, key: str, domain: str = "sensor"
) -> State:
    """Return the state of ``<device_id>_<key>``."""
    found = hass.states.get(entity_id(hass, entry, key, domain))
    assert found is not None
    return found


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Move the clock (HA's and the simulator's) and run what became due."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
