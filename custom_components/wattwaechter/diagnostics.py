"""Diagnostics: what the integration knows about the device, secrets removed.

Redacted: both tokens, every MAC address (also the device ID and the unique
ID, which are the bare MAC, and the mDNS name, which contains it), Wi-Fi and
access-point SSIDs, MQTT credentials and client ID, and the values of the
meter's identifier registers (serial number, meter address, firmware ID).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from enum import Enum
from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import CONF_DEVICE_ID, CONF_MAC, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .api import MeterReading, SystemInfo
from .const import CONF_WRITE_TOKEN
from .coordinator import WattwaechterConfigEntry, WattwaechterCoordinator
from .obis import IDENTIFIER_OBIS, split_code

TO_REDACT = {
    CONF_TOKEN,
    CONF_WRITE_TOKEN,
    "read_token",
    CONF_DEVICE_ID,
    CONF_MAC,
    "unique_id",
    "mac_address",
    "esp_id",
    "mdns_name",
    "ssid",
    "password",
    "user",
    "client_id",
    "topic_prefix",
    "identifiers",
    "connections",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: WattwaechterConfigEntry
) -> dict[str, Any]:
    """Return the diagnostics of an entry (one device)."""
    return async_redact_data(_diagnostics(entry), TO_REDACT)


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: WattwaechterConfigEntry, device: DeviceEntry
) -> dict[str, Any]:
    """Return the diagnostics of the entry's device, with its registry entry."""
    data = _diagnostics(entry)
    data["device"] = {
        "name": device.name,
        "manufacturer": device.manufacturer,
        "model": device.model,
        "model_id": device.model_id,
        "sw_version": device.sw_version,
        "identifiers": sorted(list(item) for item in device.identifiers),
        "connections": sorted(list(item) for item in device.connections),
    }
    return async_redact_data(data, TO_REDACT)


def _diagnostics(entry: WattwaechterConfigEntry) -> dict[str, Any]:
    """Collect everything, not yet redacted."""
    runtime = entry.runtime_data
    controls = runtime.controls.data
    gate = runtime.client.gate
    return {
        "entry": {
            "title": entry.title,
            "version": entry.version,
            "minor_version": entry.minor_version,
            "unique_id": entry.unique_id,
            "data": dict(entry.data),
            "options": dict(entry.options),
        },
        "coordinators": {
            kind: _coordinator(coordinator)
            for kind, coordinator in (
                ("meter", runtime.meter),
                ("system", runtime.system),
                ("controls", runtime.controls),
                ("ota", runtime.ota),
            )
        },
        "meter": _meter(runtime.meter.data),
        "energy_guard": {
            code: {
                "last_good": guard.value,
                "max_rate_per_hour": guard.max_rate_per_hour,
                "candidate": guard.candidate,
            }
            for code, guard in sorted(runtime.guards.items())
        },
        "system": _system(runtime.system.data),
        "settings": dict(controls.settings.raw) if controls else None,
        "led": _plain(controls.led) if controls else None,
        "ota": _plain(runtime.ota.data),
        "budget": _budget(gate),
    }


def _coordinator(coordinator: WattwaechterCoordinator[Any]) -> dict[str, Any]:
    """Return how a coordinator is doing."""
    error = coordinator.last_exception
    interval = coordinator.update_interval
    return {
        "last_update_success": coordinator.last_update_success,
        "last_error": None
        if error is None
        else getattr(error, "translation_key", None) or type(error).__name__,
        "update_interval": interval.total_seconds() if interval else None,
    }


def _meter(reading: MeterReading | None) -> dict[str, Any] | None:
    """Return the last reading; identifier registers without their value."""
    if reading is None:
        return None
    registers: dict[str, Any] = {}
    for code, register in sorted(reading.values.items()):
        identifier = ".".join(split_code(code)[1]) in IDENTIFIER_OBIS
        registers[code] = {
            "value": REDACTED if identifier else register.value,
            "unit": register.unit,
            "name": register.name,
        }
    return {
        "timestamp": reading.timestamp,
        "registers": registers,
        "gas_water": dict(reading.gas_water) if reading.gas_water else None,
    }


def _system(info: SystemInfo | None) -> dict[str, Any] | None:
    """Return the system info sections."""
    if info is None:
        return None
    return {section: dict(rows) for section, rows in info.sections.items()}


def _budget(gate: object) -> dict[str, Any] | None:
    """Return the request budget's statistics, when the client has a budget."""
    if gate is None:
        return None
    budget: dict[str, Any] = {"type": type(gate).__name__}
    for name in ("limit", "window", "paused_for"):
        if isinstance(value := getattr(gate, name, None), int | float):
            budget[name] = value
    if callable(in_window := getattr(gate, "in_window", None)):
        budget["in_window"] = in_window()
    if (stats := getattr(gate, "stats", None)) is not None:
        budget["stats"] = _plain(stats)
    return budget


def _plain(value: Any) -> Any:
    """Return dataclasses, enums and mappings as plain JSON values."""
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, Mapping):
        return {_key(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Enum):
        return _key(value)
    return value


def _key(key: Any) -> Any:
    """Return an enum member by its lower-case name, anything else as it is."""
    return key.name.lower() if isinstance(key, Enum) else key
