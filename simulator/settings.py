"""The ``/settings`` object: defaults, partial deep merge and validation."""

from __future__ import annotations

import copy
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .config import SimulatorConfig

SECRET_KEY = "password"
"""Write-only key (Wi-Fi, access point, MQTT): stored, never returned."""

READ_ONLY_KEYS = frozenset({"rebootCounter", "rebootsTotal", "rebootsAll"})
"""Top-level keys a POST cannot change (they are ignored)."""


class SettingsError(Exception):
    """A POST /settings body the device rejects with 400."""


def default_settings(config: SimulatorConfig) -> dict[str, Any]:
    """Return the full documented settings object for a fresh device."""

    def wifi(enable: bool, ssid: str) -> dict[str, Any]:
        return {
            "enable": enable,
            "ssid": ssid,
            "static_ip": False,
            "ip": "",
            "subnet": "",
            "gateway": "",
            "dns": "",
        }

    return {
        "wifi": {"primary": wifi(True, "SimNetwork"), "secondary": wifi(False, "")},
        "accessPoint": {
            "enable": True,
            "password_enable": False,
            "ssid": f"WattWaechter-{config.device_id[-4:]}",
        },
        "mqtt": {
            "enable": False,
            "host": "",
            "port": 8883,
            "use_tls": True,
            "user": "",
            "sendInterval": 60,
            "client_id": "",
            "topic_prefix": "wattwaechter",
        },
        "language": {
            "active": "de",
            "installed": [
                {"code": "de", "name": "Deutsch"},
                {"code": "en", "name": "English"},
            ],
        },
        "timezone": config.timezone,
        "ntp_server": "pool.ntp.org",
        "rebootCounter": 0,
        "rebootsTotal": 0,
        "rebootsAll": 0,
        "ledEnable": True,
        "api_auth_required": config.auth_required,
        "device_name": config.device_name,
        "awsIotEnabled": False,
    }


def default_modbus() -> dict[str, Any]:
    """Return the Modbus TCP settings of a fresh device (disabled, port 502)."""
    return {"enable": False, "port": 502}


def _same_type(old: Any, new: Any) -> bool:
    """Return True when ``new`` may replace ``old`` (bool and int kept apart)."""
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool)
    if isinstance(old, int):
        return isinstance(new, int)
    if isinstance(old, float):
        return isinstance(new, int | float)
    return type(old) is type(new)


def _merge(
    target: dict[str, Any],
    changes: dict[str, Any],
    secrets: dict[str, str],
    prefix: str,
) -> dict[str, Any]:
    """Merge ``changes`` into ``target`` in place; return what was applied."""
    applied: dict[str, Any] = {}
    for key, value in changes.items():
        name = f"{prefix}{key}"
        if key == SECRET_KEY and prefix:
            if not isinstance(value, str):
                raise SettingsError(f"Invalid value for {name}")
            secrets[name] = value
            continue
        if key not in target or (not prefix and key in READ_ONLY_KEYS):
            continue  # unknown or read-only keys are ignored, like the firmware
        old = target[key]
        if isinstance(old, dict):
            if not isinstance(value, dict):
                raise SettingsError(f"Invalid value for {name}")
            sub = _merge(old, value, secrets, f"{name}.")
            if sub:
                applied[key] = sub
            continue
        if isinstance(old, list):
            continue  # lists (installed languages) are read-only
        if not _same_type(old, value):
            raise SettingsError(f"Invalid value for {name}")
        target[key] = value
        applied[key] = value
    return applied


def _check(settings: dict[str, Any], modbus: dict[str, Any]) -> None:
    """Raise SettingsError when the merged settings are not valid."""
    try:
        ZoneInfo(settings["timezone"])
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise SettingsError("Invalid value for timezone") from err
    codes = {entry["code"] for entry in settings["language"]["installed"]}
    if settings["language"]["active"] not in codes:
        raise SettingsError("Invalid value for language.active")
    for name, port in (
        ("mqtt.port", settings["mqtt"]["port"]),
        ("modbus.port", modbus["port"]),
    ):
        if not 1 <= port <= 65535:
            raise SettingsError(f"Invalid value for {name}")
    if not settings["device_name"].strip():
        raise SettingsError("Invalid value for device_name")


def merge_settings(
    settings: dict[str, Any],
    modbus: dict[str, Any],
    secrets: dict[str, str],
    changes: Any,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Validate and merge a partial POST body.

    Returns ``(new_settings, new_modbus, applied)``; nothing is changed in
    place, so a rejected body leaves the device as it was. Passwords go to
    ``secrets`` and are never echoed in ``applied``.
    """
    if not isinstance(changes, dict) or not changes:
        raise SettingsError("Invalid JSON body")
    new_settings = copy.deepcopy(settings)
    new_modbus = copy.deepcopy(modbus)
    new_secrets = dict(secrets)
    body = dict(changes)
    modbus_changes = body.pop("modbus", None)
    applied = _merge(new_settings, body, new_secrets, "")
    if modbus_changes is not None:
        if not isinstance(modbus_changes, dict):
            raise SettingsError("Invalid value for modbus")
        sub = _merge(new_modbus, modbus_changes, new_secrets, "modbus.")
        if sub:
            applied["modbus"] = sub
    _check(new_settings, new_modbus)
    secrets.clear()
    secrets.update(new_secrets)
    return new_settings, new_modbus, applied
