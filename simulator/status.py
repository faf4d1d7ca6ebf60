"""Bodies of ``/system/led``, ``/system/info`` and the firmware's version rules.

Split from ``device.py`` to keep that file about state and life cycle; the
``Device`` methods ``led()`` and ``system_info()`` call these (tests patch
those methods, so they stay).
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .device import Device

# status: (priority, colour, mode, (r, g, b)); older ESP docs, with the
# vendor library's "OK = green dimmed" example and METER_ATTENTION (client 1.2).
LED_TABLE: dict[str, tuple[int, str, str, tuple[int, int, int]]] = {
    "OK": (1, "green", "dimmed", (0, 255, 0)),
    "STARTUP": (2, "yellow", "solid", (255, 255, 0)),
    "INFO": (3, "yellow", "dimmed", (255, 255, 0)),
    "METER_ATTENTION": (4, "yellow", "pulse", (255, 255, 0)),
    "BLE_ACTIVE": (4, "blue", "pulse", (0, 0, 255)),
    "BLE_CONNECTED": (5, "magenta", "pulse", (255, 0, 255)),
    "OTA_ACTIVE": (6, "magenta", "solid", (255, 0, 255)),
    "ERROR": (7, "red", "pulse", (255, 0, 0)),
    "RESET_PENDING": (8, "red", "solid", (255, 0, 0)),
}
NEW_IN_1_3 = frozenset({"METER_ATTENTION"})
"""Statuses older firmware does not know (left out of its dict)."""


def version_tuple(version: str) -> tuple[int, ...]:
    """Return ``"1.3.0"`` as ``(1, 3, 0)``; non-numeric parts count as 0."""
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def at_least(version: str, wanted: tuple[int, ...]) -> bool:
    """Return True when firmware ``version`` is ``wanted`` or newer."""
    return version_tuple(version) >= wanted


def led_body(device: Device) -> dict[str, Any]:
    """Return the ``/system/led`` body.

    ``active_statuses`` is a list of names (highest priority first) from
    firmware 1.3 on, a dict of booleans before.
    """
    from .device import Phase  # noqa: PLC0415  # import cycle

    new = at_least(device.state.firmware, (1, 3))
    active = {name: False for name in LED_TABLE if new or name not in NEW_IN_1_3}
    active["OK"] = True
    active["STARTUP"] = device.in_first_reading_window()
    active["OTA_ACTIVE"] = device.phase is Phase.OTA_DOWNLOADING
    if "METER_ATTENTION" in active:
        active["METER_ATTENTION"] = device.config.meter_attention
    on = sorted((n for n in active if active[n]), key=lambda n: -LED_TABLE[n][0])
    status = on[0]
    priority, color, mode, (red, green, blue) = LED_TABLE[status]
    enabled = bool(device.state.settings.get("ledEnable", True))
    if not enabled:
        color, mode, red, green, blue = "off", "off", 0, 0, 0
    statuses: list[str] | dict[str, bool] = (
        on if new else {name.lower(): value for name, value in active.items()}
    )
    return {
        "status": status,
        "priority": priority,
        "color": color,
        "mode": mode,
        "rgb": {"r": red, "g": green, "b": blue},
        "enabled": enabled,
        "active_statuses": statuses,
    }


def uptime_text(uptime: float) -> str:
    """Return an uptime as the firmware prints it, e.g. ``2d 5h 30m``."""
    minutes = math.floor(uptime / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return f"{days}d {hours}h {minutes}m"


def system_info_body(device: Device, ip_address: str) -> dict[str, Any]:
    """Return the ``/system/info`` body (older fields only with ``legacy_firmware``)."""
    config = device.config
    legacy = config.legacy_firmware
    minute = math.floor(device.now() / 60)
    rng = random.Random(f"info:{config.seed}:{minute}")

    def entry(name: str, value: str, unit: str = "") -> dict[str, str]:
        return {"name": name, "value": value, "unit": unit}

    wifi = [
        entry("ssid", device.state.settings["wifi"]["primary"]["ssid"]),
        entry("signal_strength", str(-61 + rng.randint(-3, 3)), "dBm"),
        entry("ip_address", ip_address),
        entry("mac_address", config.mac),
        entry("mdns_name", f"wattwaechter-{config.identity.lower()}.local"),
    ]
    esp = [
        entry("esp_id", config.identity),
        entry("product_name", config.effective_product_name),
        entry("model_id", config.effective_model_id),
        entry("os_version", device.state.firmware),
    ]
    if legacy:
        wifi = [row for row in wifi if row["name"] != "mdns_name"]
        esp = [row for row in esp if row["name"] not in ("product_name", "model_id")]
    return {
        "uptime": [entry("uptime", uptime_text(device.uptime()))],
        "wifi": wifi,
        "ap": [],
        "esp": esp,
        "heap": [entry("free_heap", str(118_000 + rng.randint(0, 4000)), "bytes")],
    }
