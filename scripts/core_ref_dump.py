"""Turn what HA core's wattwaechter set up into plain, stable JSON.

Used by core_entities.py inside the Python 3.14 root. Only registry and state
fields that do not change between runs are kept (no ids, no timestamps of the
run), so a regenerated file differs only when core or the payloads differ.
"""

from __future__ import annotations

from collections.abc import Mapping
import dataclasses
from datetime import date, datetime
import enum
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_platform,
    entity_registry as er,
)


def plain(value: Any) -> Any:
    """Return value as JSON types: enums by value, sets sorted, dates ISO."""
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((plain(item) for item in value), key=repr)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def config_entry(entry: ConfigEntry) -> dict[str, Any]:
    """Describe the config entry as the config flow left it."""
    return plain(
        {
            "title": entry.title,
            "data": dict(entry.data),
            "options": dict(entry.options),
            "unique_id": entry.unique_id,
            "version": entry.version,
            "minor_version": entry.minor_version,
            "source": entry.source,
            "state": entry.state,
            "reason": entry.reason,
        }
    )


def devices(hass: HomeAssistant, entry: ConfigEntry) -> list[dict[str, Any]]:
    """Describe the device registry entries of the config entry."""
    registry = dr.async_get(hass)
    found = [
        {
            "name": device.name,
            "name_by_user": device.name_by_user,
            "manufacturer": device.manufacturer,
            "model": device.model,
            "model_id": device.model_id,
            "sw_version": device.sw_version,
            "hw_version": device.hw_version,
            "serial_number": device.serial_number,
            "configuration_url": device.configuration_url,
            "identifiers": device.identifiers,
            "connections": device.connections,
            "entry_type": device.entry_type,
            "via_device": device.via_device_id is not None,
        }
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
    ]
    return sorted(plain(found), key=lambda device: repr(device["identifiers"]))


def _live_entities(hass: HomeAssistant) -> dict[str, Any]:
    """Map entity_id to the entity object of the integration's platforms."""
    return {
        entity_id: entity
        for platform in entity_platform.async_get_platforms(hass, "wattwaechter")
        for entity_id, entity in platform.entities.items()
    }


async def entities(
    hass: HomeAssistant, entry: ConfigEntry, enabled_default: Mapping[str, bool]
) -> dict[str, dict[str, Any]]:
    """Describe every entity of the entry, keyed by unique ID.

    enabled_default holds, per unique ID, whether the entity was enabled when
    core first created it (before this script enabled all of them); entities
    created later (by a later poll) are still as core created them.
    """
    registry = er.async_get(hass)
    live = _live_entities(hass)
    result: dict[str, dict[str, Any]] = {}
    for reg in er.async_entries_for_config_entry(registry, entry.entry_id):
        state = hass.states.get(reg.entity_id)
        capabilities = dict(reg.capabilities or {})
        options = {domain: dict(opts) for domain, opts in reg.options.items()}
        record: dict[str, Any] = {
            "entity_id": reg.entity_id,
            "domain": reg.domain,
            "translation_key": reg.translation_key,
            "has_entity_name": reg.has_entity_name,
            "original_name": reg.original_name,
            "friendly_name": state.attributes.get("friendly_name") if state else None,
            "unit_of_measurement": reg.unit_of_measurement,
            "device_class": reg.original_device_class,
            "state_class": capabilities.get("state_class"),
            "suggested_display_precision": options.get("sensor", {}).get(
                "suggested_display_precision"
            ),
            "options": options,
            "capabilities": capabilities or None,
            "entity_category": reg.entity_category,
            "enabled_by_default": enabled_default.get(
                reg.unique_id, reg.disabled_by is None
            ),
            "disabled_by": reg.disabled_by,
            "original_icon": reg.original_icon,
            "supported_features": reg.supported_features,
            "state": state.state if state else None,
            "attributes": dict(state.attributes) if state else None,
        }
        entity = live.get(reg.entity_id)
        if reg.domain == "update" and entity is not None:
            record["release_notes"] = await entity.async_release_notes()
        result[reg.unique_id] = plain(record)
    return result
