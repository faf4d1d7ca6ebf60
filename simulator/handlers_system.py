"""Handlers of ``/system``, ``/ota`` and ``/logs``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .responses import error, json_response, no_content

if TYPE_CHECKING:
    from .api import Context


async def alive(ctx: Context) -> web.StreamResponse:
    """``GET /system/alive``."""
    return json_response({"alive": True, "version": ctx.device.state.firmware})


async def system_info(ctx: Context) -> web.StreamResponse:
    """``GET /system/info``."""
    return json_response(ctx.device.system_info(ctx.ip_address))


async def system_led(ctx: Context) -> web.StreamResponse:
    """``GET /system/led``."""
    return json_response(ctx.device.led())


async def reboot(ctx: Context) -> web.StreamResponse:
    """``POST /system/reboot``: answer, then go offline."""
    ctx.device.reboot()
    return json_response({"rebooting": True})


async def selftest(ctx: Context) -> web.StreamResponse:
    """``POST /system/selftest`` (gas/water devices have no IR transceiver)."""
    if ctx.device.config.medium != "electricity":
        return error(404, "Not found")
    return json_response(
        {"success": True, "result": "SUCCESS", "message": "IR-Transceiver OK"}
    )


WIFI_NETWORKS = (("SimNetwork", -61), ("Nachbar-WLAN", -74), ("FRITZ!Box 7590 XY", -80))
WIFI_SCAN_SECONDS = 1.0


async def wifi_scan(ctx: Context) -> web.StreamResponse:
    """``GET /system/wifi_scan[?refresh=true]``."""
    device = ctx.device
    now = device.now()
    if ctx.request.query.get("refresh", "").lower() == "true":
        device.state.wifi_scan_until = now + WIFI_SCAN_SECONDS
    until = device.state.wifi_scan_until
    if until is not None and now < until:
        return json_response({"networks": [], "count": 0, "scanning": True})
    networks = [{"ssid": ssid, "rssi": rssi} for ssid, rssi in WIFI_NETWORKS]
    return json_response({"networks": networks, "count": len(networks)})


TIMEZONES = (
    ("Europe/Berlin", 60),
    ("Europe/Vienna", 60),
    ("Europe/Zurich", 60),
    ("Europe/Amsterdam", 60),
    ("Europe/Paris", 60),
    ("Europe/London", 0),
    ("Europe/Helsinki", 120),
    ("UTC", 0),
    ("America/New_York", -300),
    ("Asia/Tokyo", 540),
)
"""(name, standard UTC offset in minutes) of the zones the firmware offers."""


async def timezones(ctx: Context) -> web.StreamResponse:
    """``GET /system/timezones``: a bare JSON array of name and UTC offset."""
    return json_response(
        [{"name": name, "utcOffsetMin": offset} for name, offset in TIMEZONES]
    )


# --- /history ----------------------------------------------------------------


async def ota_check(ctx: Context) -> web.StreamResponse:
    """``GET /ota/check``."""
    return json_response(ctx.device.ota_check())


async def ota_start(ctx: Context) -> web.StreamResponse:
    """``POST /ota/start``."""
    return json_response(ctx.device.start_ota())


# --- /mqtt, /modbus, /cloud, /logs --------------------------------------------


async def logs_rawdump(ctx: Context) -> web.StreamResponse:
    """``GET /logs/rawdump``: the SML ring buffer (empty right after boot)."""
    if ctx.device.config.medium != "electricity":
        return error(404, "Not found")
    if ctx.device.uptime() < 1:
        return no_content()
    frame = (
        bytes.fromhex("1b1b1b1b01010101")
        + b"\x76\x05"
        + bytes(30)
        + bytes.fromhex("1b1b1b1b1a000000")
    )
    return web.Response(body=frame, content_type="application/octet-stream")


async def logs_persistent(ctx: Context) -> web.StreamResponse:
    """``GET /logs/persistent``: no persistent log file on the simulator."""
    return error(404, "No persistent log")


async def logs_ram(ctx: Context) -> web.StreamResponse:
    """``GET /logs/ram``: a short text snapshot."""
    device = ctx.device
    lines = [
        "time;level;message",
        f"{int(device.state.boot_time)};INFO;Boot (firmware {device.state.firmware})",
        f"{int(device.now())};INFO;Phase {device.phase}",
    ]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")
