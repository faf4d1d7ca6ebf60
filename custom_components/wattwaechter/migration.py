"""Entries of HA core's and the vendor's integration (v0.2.0) load here unchanged.

All share the domain and VERSION 1; core 2026.11 writes MINOR_VERSION 3, keyed by
the bare MAC. These steps do what core's do, so switching back keeps working.
"""

from __future__ import annotations

import logging

from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN
from homeassistant.const import CONF_DEVICE_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .const import DOMAIN
from .coordinator import WattwaechterConfigEntry, device_id

_LOGGER = logging.getLogger(__name__)

# Gas power had no sensor of its own before MINOR_VERSION 3; it was a generic
# (disabled) register sensor, which the migration enables.
OBIS_GAS_POWER = "7-0:16.7.0"

# Unique-ID suffixes of the vendor's integration (v0.2.0) that name an entity
# we also provide under core's suffix.
VENDOR_RENAMES = {"_wifi_ssid": "_ssid", "_firmware_update": ""}


async def async_migrate_entry(
    hass: HomeAssistant, entry: WattwaechterConfigEntry
) -> bool:
    """Bring an entry of any of the three integrations to VERSION 1.3."""
    if entry.version > 1:
        return False  # written by a newer version of this integration
    if entry.minor_version < 2:
        await _async_migrate_ids(hass, entry)
    if entry.minor_version < 3:
        _enable_gas_power(hass, entry)
    hass.config_entries.async_update_entry(entry, minor_version=3)
    return True


async def _async_migrate_ids(
    hass: HomeAssistant, entry: WattwaechterConfigEntry
) -> None:
    """Turn a WWGW-<MAC> device ID and the vendor's unique IDs into core's.

    A unique ID that is taken already stays as it is.
    """
    old_id = device_id(entry)
    new_id = old_id.rpartition("-")[2]
    if new_id != old_id and any(
        other.unique_id == new_id and other.entry_id != entry.entry_id
        for other in hass.config_entries.async_entries(DOMAIN)
    ):
        _LOGGER.warning(
            "WattWächter %s is set up twice; this entry keeps the ID %s", new_id, old_id
        )
        new_id = old_id
    registry = er.async_get(hass)

    @callback
    def migrate(entity_entry: er.RegistryEntry) -> dict[str, str] | None:
        unique_id = entity_entry.unique_id
        if unique_id == old_id or unique_id.startswith(f"{old_id}_"):
            suffix = unique_id[len(old_id) :]
            new = new_id + VENDOR_RENAMES.get(suffix, suffix)
            taken = registry.async_get_entity_id(entity_entry.domain, DOMAIN, new)
            if new != unique_id and not taken:
                return {"new_unique_id": new}
        return None

    await er.async_migrate_entries(hass, entry.entry_id, migrate)
    if new_id == old_id:
        return
    device_registry = dr.async_get(hass)
    if device := device_registry.async_get_device(identifiers={(DOMAIN, old_id)}):
        device_registry.async_update_device(
            device.id, new_identifiers={(DOMAIN, new_id)}
        )
    hass.config_entries.async_update_entry(
        entry,
        data={**entry.data, CONF_DEVICE_ID: new_id},
        unique_id=new_id if entry.unique_id == old_id else entry.unique_id,
    )


def _enable_gas_power(hass: HomeAssistant, entry: WattwaechterConfigEntry) -> None:
    """Enable the gas power sensor the old generic sensor left disabled."""
    registry = er.async_get(hass)
    unique_id = f"{device_id(entry)}_{OBIS_GAS_POWER}"
    entity_id = registry.async_get_entity_id(SENSOR_DOMAIN, DOMAIN, unique_id)
    if (
        entity_id
        and not entry.pref_disable_new_entities
        and registry.entities[entity_id].disabled_by
        is er.RegistryEntryDisabler.INTEGRATION
    ):
        registry.async_update_entity(entity_id, disabled_by=None)
