"""Handlers of the device REST API under ``/api/v1`` (one per endpoint)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum
import json
from typing import Any

from aiohttp import web

from .device import Device
from .faults import FaultMode
from .history import HistoryError, high_res, low_res, parse_day, parse_days
from .latest import build_latest, electricity_registers
from .responses import error, json_response, no_content
from .settings import SettingsError, merge_settings

API_PREFIX = "/api/v1"


class Level(IntEnum):
    """Token level an endpoint needs when ``api_auth_required`` is on."""

    NONE = 0
    READ = 1
    WRITE = 2


@dataclass(frozen=True)
class Context:
    """What a handler needs to answer one request."""

    device: Device
    request: web.Request
    payload_faults: frozenset[FaultMode]
    ip_address: str


Handler = Callable[[Context], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Endpoint:
    """One API endpoint: method, path below ``/api/v1``, level and handler."""

    method: str
    path: str
    level: Level
    handler: Handler
    history: bool = False


class BadRequest(Exception):
    """The request body is not the JSON object the endpoint expects."""


async def read_json(request: web.Request) -> Any:
    """Return the parsed JSON body or raise BadRequest."""
    raw = await request.read()
    try:
        return json.loads(raw) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadRequest from err


# --- /system ---------------------------------------------------------------


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
    """``POST /system/selftest``."""
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
    ("Europe/Berlin", 3600, 3600),
    ("Europe/Vienna", 3600, 3600),
    ("Europe/Zurich", 3600, 3600),
    ("Europe/Amsterdam", 3600, 3600),
    ("Europe/Paris", 3600, 3600),
    ("Europe/London", 0, 3600),
    ("Europe/Helsinki", 7200, 3600),
    ("UTC", 0, 0),
    ("America/New_York", -18000, 3600),
    ("Asia/Tokyo", 32400, 0),
)


async def timezones(ctx: Context) -> web.StreamResponse:
    """``GET /system/timezones``: a bare JSON array."""
    return json_response(
        [
            {"name": name, "gmtOffset": gmt, "daylightOffset": dst}
            for name, gmt, dst in TIMEZONES
        ]
    )


# --- /history ----------------------------------------------------------------


async def latest(ctx: Context) -> web.StreamResponse:
    """``GET /history/latest``: 204 until the first reading after boot."""
    device = ctx.device
    if device.in_first_reading_window() or FaultMode.NO_DATA in ctx.payload_faults:
        return no_content()
    body = build_latest(
        device.model,
        device.now(),
        device.timezone(),
        device.state.boot_time,
        ctx.payload_faults,
        device.config.meter_replaced_at,
    )
    return json_response(body)


async def history_high_res(ctx: Context) -> web.StreamResponse:
    """``GET /history/highRes?date=YYYY-MM-DD``."""
    device = ctx.device
    try:
        day = parse_day(ctx.request.query.get("date"))
        body = high_res(
            device.model,
            device.timezone(),
            day,
            device.now(),
            device.config.history_days,
        )
    except HistoryError as err:
        return error(400, err.message)
    return json_response(body)


async def history_low_res(ctx: Context) -> web.StreamResponse:
    """``GET /history/lowRes?start=YYYY-MM-DD&days=N``."""
    device = ctx.device
    query = ctx.request.query
    try:
        start = parse_day(query.get("start"))
        body = low_res(
            device.model,
            device.timezone(),
            start,
            parse_days(query.get("days", "1")),
            device.now(),
            device.config.history_days,
        )
    except HistoryError as err:
        return error(400, err.message)
    return json_response(body)


# --- /settings and /auth -----------------------------------------------------


async def get_settings(ctx: Context) -> web.StreamResponse:
    """``GET /settings`` (passwords are never returned)."""
    return json_response(ctx.device.state.settings)


async def post_settings(ctx: Context) -> web.StreamResponse:
    """``POST /settings``: partial deep merge."""
    state = ctx.device.state
    try:
        changes = await read_json(ctx.request)
        settings, modbus, applied = merge_settings(
            state.settings, state.modbus, state.secrets, changes
        )
    except BadRequest:
        return json_response({"success": False, "error": "Invalid JSON"}, status=400)
    except SettingsError as err:
        return json_response({"success": False, "error": str(err)}, status=400)
    state.settings = settings
    state.modbus = modbus
    return json_response({"success": True, "applied": applied})


async def tokens_generate(ctx: Context) -> web.StreamResponse:
    """``POST /auth/tokens/generate``."""
    pending = ctx.device.generate_tokens()
    return json_response(
        {
            "success": True,
            "pending": {
                "token_read": pending.token_read,
                "token_write": pending.token_write,
            },
            "expires_in": 60,
        }
    )


async def tokens_confirm(ctx: Context) -> web.StreamResponse:
    """``POST /auth/tokens/confirm`` with ``{"new_write_token": ...}``."""
    try:
        body = await read_json(ctx.request)
    except BadRequest:
        return json_response({"success": False, "error": "Invalid JSON"}, status=400)
    new_write = body.get("new_write_token") if isinstance(body, dict) else None
    problem = ctx.device.confirm_tokens(new_write)
    if problem is not None:
        return json_response({"success": False, "error": problem}, status=400)
    return json_response({"success": True, "message": "Tokens activated successfully."})


async def setup_token(ctx: Context) -> web.StreamResponse:
    """``GET /setup/token``: only before the initial setup, so always 403 here."""
    return error(403, "Setup already completed")


# --- /ota ----------------------------------------------------------------------


async def ota_check(ctx: Context) -> web.StreamResponse:
    """``GET /ota/check``."""
    return json_response(ctx.device.ota_check())


async def ota_start(ctx: Context) -> web.StreamResponse:
    """``POST /ota/start``."""
    return json_response(ctx.device.start_ota())


# --- /mqtt, /modbus, /cloud, /logs --------------------------------------------

CA_BUNDLE_SIZE = 5750
MAX_CA_SIZE = 4096


async def mqtt_status(ctx: Context) -> web.StreamResponse:
    """``GET /mqtt/status``."""
    device = ctx.device
    mqtt = device.state.settings["mqtt"]
    enabled = bool(mqtt["enable"])
    state, last_error, message = "OFF", 0, ""
    if enabled and mqtt["host"]:
        state = "CONNECTED"
    elif enabled:
        state, last_error, message = "FAILED", -2, "No broker host configured"
    return json_response(
        {
            "enabled": enabled,
            "state": state,
            "host": mqtt["host"],
            "port": mqtt["port"],
            "client_id": mqtt["client_id"]
            or f"wattwaechter-{device.config.device_id.lower()}",
            "use_tls": mqtt["use_tls"],
            "last_error": last_error,
            "last_error_message": message,
            "reconnect_attempts": 0,
        }
    )


# (register, SunSpec name, OBIS, unit) of the documented Modbus map.
MODBUS_REGISTERS = (
    (40073, "AphA", "31.7.0", "A"),
    (40074, "AphB", "51.7.0", "A"),
    (40075, "AphC", "71.7.0", "A"),
    (40078, "PhVphA", "32.7.0", "V"),
    (40079, "PhVphB", "52.7.0", "V"),
    (40080, "PhVphC", "72.7.0", "V"),
    (40086, "Hz", "14.7.0", "Hz"),
    (40088, "W", "16.7.0", "W"),
    (40089, "WphA", "36.7.0", "W"),
    (40090, "WphB", "56.7.0", "W"),
    (40091, "WphC", "76.7.0", "W"),
    (40108, "TotWhExp", "2.8.0", "Wh"),
    (40116, "TotWhImp", "1.8.0", "Wh"),
)


async def modbus_status(ctx: Context) -> web.StreamResponse:
    """``GET /modbus/status``."""
    device = ctx.device
    modbus = device.state.modbus
    enabled = bool(modbus["enable"])
    registers: list[dict[str, Any]] = []
    if device.config.medium == "electricity":
        live = electricity_registers(device.model, device.now())
        for register, name, obis, unit in MODBUS_REGISTERS:
            value = float(live[obis]["value"])
            if unit == "Wh":
                value = round(value * 1000, 1)
            registers.append(
                {
                    "register": register,
                    "name": name,
                    "obis": obis,
                    "value": value if enabled else None,
                    "unit": unit,
                    "valid": enabled,
                }
            )
    return json_response(
        {
            "enabled": enabled,
            "running": enabled,
            "port": modbus["port"],
            "active_connections": 0,
            "registers": registers,
        }
    )


async def mqtt_ca_get(ctx: Context) -> web.StreamResponse:
    """``GET /mqtt/ca``."""
    custom = ctx.device.state.custom_ca
    return json_response(
        {
            "has_custom_cert": custom is not None,
            "bundle_size": CA_BUNDLE_SIZE + len(custom or ""),
            "custom_size": len(custom or ""),
        }
    )


async def mqtt_ca_post(ctx: Context) -> web.StreamResponse:
    """``POST /mqtt/ca`` with ``{"certificate": "<PEM>"}``."""
    try:
        body = await read_json(ctx.request)
    except BadRequest:
        return error(400, "Invalid JSON")
    pem = body.get("certificate") if isinstance(body, dict) else None
    if not isinstance(pem, str) or "BEGIN CERTIFICATE" not in pem:
        return error(400, "Invalid certificate")
    if len(pem) > MAX_CA_SIZE:
        return error(413, "Certificate too large")
    ctx.device.state.custom_ca = pem
    return json_response(
        {
            "success": True,
            "message": "Certificate added",
            "bundle_size": CA_BUNDLE_SIZE + len(pem),
        }
    )


async def mqtt_ca_delete(ctx: Context) -> web.StreamResponse:
    """``DELETE /mqtt/ca``."""
    if ctx.device.state.custom_ca is None:
        return error(404, "No custom certificate")
    ctx.device.state.custom_ca = None
    return json_response(
        {
            "success": True,
            "message": "Custom certificate deleted",
            "bundle_size": CA_BUNDLE_SIZE,
        }
    )


async def cloud_pair(ctx: Context) -> web.StreamResponse:
    """``POST /cloud/pair`` with ``{"pairing_token": "WW-XXXXXXXX"}``."""
    try:
        body = await read_json(ctx.request)
    except BadRequest:
        return error(400, "Invalid JSON")
    token = body.get("pairing_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        return error(400, "Missing pairing_token")
    ctx.device.state.cloud_pairing_token = token
    return json_response({"success": True, "message": "Pairing wird durchgeführt..."})


async def cloud_unpair(ctx: Context) -> web.StreamResponse:
    """``DELETE /cloud/pair``."""
    ctx.device.state.cloud_pairing_token = None
    return json_response({"success": True, "message": "Pairing token removed."})


async def logs_rawdump(ctx: Context) -> web.StreamResponse:
    """``GET /logs/rawdump``: the SML ring buffer (empty right after boot)."""
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


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/system/alive", Level.NONE, alive),
    Endpoint("GET", "/system/info", Level.READ, system_info),
    Endpoint("GET", "/system/led", Level.READ, system_led),
    Endpoint("POST", "/system/reboot", Level.WRITE, reboot),
    Endpoint("POST", "/system/selftest", Level.WRITE, selftest),
    Endpoint("GET", "/system/wifi_scan", Level.NONE, wifi_scan),
    Endpoint("GET", "/system/timezones", Level.READ, timezones),
    Endpoint("GET", "/history/latest", Level.READ, latest),
    Endpoint("GET", "/history/highRes", Level.READ, history_high_res, history=True),
    Endpoint("GET", "/history/lowRes", Level.READ, history_low_res, history=True),
    Endpoint("GET", "/settings", Level.READ, get_settings),
    Endpoint("POST", "/settings", Level.WRITE, post_settings),
    Endpoint("POST", "/auth/tokens/generate", Level.WRITE, tokens_generate),
    Endpoint("POST", "/auth/tokens/confirm", Level.WRITE, tokens_confirm),
    Endpoint("GET", "/setup/token", Level.NONE, setup_token),
    Endpoint("GET", "/ota/check", Level.READ, ota_check),
    Endpoint("POST", "/ota/start", Level.WRITE, ota_start),
    Endpoint("GET", "/mqtt/status", Level.READ, mqtt_status),
    Endpoint("GET", "/mqtt/ca", Level.READ, mqtt_ca_get),
    Endpoint("POST", "/mqtt/ca", Level.WRITE, mqtt_ca_post),
    Endpoint("DELETE", "/mqtt/ca", Level.WRITE, mqtt_ca_delete),
    Endpoint("GET", "/modbus/status", Level.READ, modbus_status),
    Endpoint("POST", "/cloud/pair", Level.WRITE, cloud_pair),
    Endpoint("DELETE", "/cloud/pair", Level.WRITE, cloud_unpair),
    Endpoint("GET", "/logs/rawdump", Level.READ, logs_rawdump),
    Endpoint("GET", "/logs/persistent", Level.READ, logs_persistent),
    Endpoint("GET", "/logs/ram", Level.READ, logs_ram),
)

_BY_PATH: dict[str, dict[str, Endpoint]] = {}
for _endpoint in ENDPOINTS:
    _BY_PATH.setdefault(API_PREFIX + _endpoint.path, {})[_endpoint.method] = _endpoint


def lookup(method: str, path: str) -> tuple[Endpoint | None, bool]:
    """Return (endpoint, path_known) for a request."""
    methods = _BY_PATH.get(path)
    if methods is None:
        return None, False
    if method == "HEAD":
        method = "GET"
    return methods.get(method), True
