"""Diagnostics: what the integration knows about the device, secrets removed.

Addresses are secrets too: the device ID and the mDNS name contain the MAC. The
meter's identifier registers (its serial) are redacted by their OBIS code.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import CONF_DEVICE_ID, CONF_HOST, CONF_MAC, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .const import CONF_WRITE_TOKEN
from .coordinator import WattwaechterConfigEntry
from .obis import is_identifier

SECRETS = {CONF_TOKEN, CONF_WRITE_TOKEN, "password", "user", "client_id", "ssid"}
NETWORK = {CONF_HOST, "ip_address", "ip", "gateway", "dns", "subnet", "mdns_name"}
DEVICE_IDS = {CONF_DEVICE_ID, CONF_MAC, "mac_address", "esp_id", "unique_id"}
TO_REDACT = SECRETS | NETWORK | DEVICE_IDS


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: WattwaechterConfigEntry
) -> dict[str, Any]:
    """Return the diagnostics of an entry (one device)."""
    runtime = entry.runtime_data
    meter = runtime.meter
    reading = meter.data
    data = {
        "entry": {
            "title": entry.title,
            "version": f"{entry.version}.{entry.minor_version}",
            "unique_id": entry.unique_id,
            "data": dict(entry.data),
            "options": dict(entry.options),
        },
        "coordinators": {
            coordinator.feature: {
                "last_update_success": coordinator.last_update_success,
                "last_error": getattr(
                    coordinator.last_exception, "translation_key", None
                ),
                "supported": coordinator.supported,
            }
            for coordinator in (meter, *runtime.optional, runtime.system)
        },
        "meter": reading
        and {
            "timestamp": reading.timestamp,
            "meter_since": reading.meter_since,
            "stale": meter.stale,
            "last_fresh": meter.last_fresh and meter.last_fresh.isoformat(),
            "registers": {
                code: {
                    "value": REDACTED if is_identifier(code) else register.value,
                    "unit": register.unit,
                    "name": register.name,
                }
                for code, register in sorted(reading.values.items())
            },
        },
        "guards": {code: guard.value for code, guard in sorted(runtime.guards.items())},
        "system": runtime.system.data and runtime.system.data.sections,
        "settings": runtime.settings.data and dict(runtime.settings.data.raw),
        "led": runtime.led.data
        and {**asdict(runtime.led.data), "active": sorted(runtime.led.data.active)},
        "ota": runtime.ota.data and asdict(runtime.ota.data),
        "budget": {
            "in_window": runtime.client.budget.in_window(),
            **asdict(runtime.client.budget.stats),
        },
        "history": {
            "supported": runtime.history.supported,
            "requests": runtime.history.reader.requests,
        },
    }
    return async_redact_data(data, TO_REDACT)


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: WattwaechterConfigEntry, device: DeviceEntry
) -> dict[str, Any]:
    """Return the entry's diagnostics with the device's registry entry."""
    data = await async_get_config_entry_diagnostics(hass, entry)
    data["device"] = {
        key: getattr(device, key)
        for key in ("name", "manufacturer", "model", "model_id", "sw_version")
    }
    return data
