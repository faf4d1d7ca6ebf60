"""Helpers for the Home Assistant tests."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er

from custom_components.wattwaechter.api.budget import DEFAULT_MARGIN, DEFAULT_WINDOW
from custom_components.wattwaechter.const import DOMAIN

from .timetravel import TIME_TRAVEL_KEY, VirtualTime, run_due


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


async def advance(hass: HomeAssistant, *args: Any) -> None:
    """Move the virtual clock (HA's and the simulator's) and run what became due.

    Called as ``advance(hass, seconds)``; ``advance(hass, freezer, seconds)``
    is accepted too.
    """
    seconds: float = args[-1]
    time_travel: VirtualTime = hass.data[TIME_TRAVEL_KEY]
    time_travel.tick(seconds)
    await run_due(hass)


async def outlast_setup_requests(hass: HomeAssistant) -> None:
    """Let the flow's and the setup's requests leave the request budget's window.

    By the time a user acts on a device just added, they have; a test that
    acts at once would find most of the budget spent.
    """
    await advance(hass, DEFAULT_WINDOW + DEFAULT_MARGIN)
