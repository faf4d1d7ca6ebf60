"""Base entity: device info, unique IDs and availability shared by all platforms."""

from __future__ import annotations

from typing import Any

from homeassistant.const import CONF_DEVICE_ID, CONF_HOST, CONF_MAC, CONF_MODEL
from homeassistant.helpers.device_registry import CONNECTION_NETWORK_MAC, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import CONF_FW_VERSION, DOMAIN, MANUFACTURER, MODEL_NAMES, TXT_MODEL_IDS
from .coordinator import WattwaechterConfigEntry, WattwaechterCoordinator


def device_info(entry: WattwaechterConfigEntry) -> DeviceInfo:
    """Describe the device from the entry and the latest system info."""
    system = entry.runtime_data.system.data
    model_id = (system.model_id if system else None) or TXT_MODEL_IDS.get(
        entry.data.get(CONF_MODEL) or "", entry.data.get(CONF_MODEL)
    )
    mac = (system.mac_address if system else None) or entry.data.get(CONF_MAC)
    mdns_name = system.mdns_name if system else None
    info = DeviceInfo(
        identifiers={(DOMAIN, device_id(entry))},
        manufacturer=MANUFACTURER,
        model=(system.product_name if system else None)
        or MODEL_NAMES.get(model_id or "", "WattWächter"),
        model_id=model_id,
        sw_version=(system.firmware if system else None)
        or entry.data.get(CONF_FW_VERSION),
        configuration_url=f"http://{mdns_name or entry.data[CONF_HOST]}",
    )
    if mac:
        info["connections"] = {(CONNECTION_NETWORK_MAC, mac)}
    return info


def device_id(entry: WattwaechterConfigEntry) -> str:
    """Return the device ID (bare MAC) that prefixes every unique ID."""
    return str(entry.data.get(CONF_DEVICE_ID) or entry.unique_id)


class WattwaechterEntity[CoordinatorT: WattwaechterCoordinator[Any]](
    CoordinatorEntity[CoordinatorT]
):
    """An entity of one WattWächter device, fed by one of its coordinators."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: CoordinatorT, key: str) -> None:
        """Set the unique ID ``<device_id>_<key>`` and the device info."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self._attr_unique_id = f"{device_id(entry)}_{key}"
        self._attr_device_info = device_info(entry)
