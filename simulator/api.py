"""The device REST API under ``/api/v1``: endpoint table and request context.

The handlers live in ``handlers_system.py`` (system, OTA, logs),
``handlers_meter.py`` (history, Modbus) and ``handlers_config.py``
(settings, tokens, MQTT, cloud).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum

from aiohttp import web

from .device import Device
from .faults import FaultMode
from .handlers_config import (
    cloud_pair,
    cloud_unpair,
    get_settings,
    mqtt_ca_delete,
    mqtt_ca_get,
    mqtt_ca_post,
    mqtt_status,
    post_settings,
    setup_token,
    tokens_confirm,
    tokens_generate,
)
from .handlers_meter import history_high_res, history_low_res, latest, modbus_status
from .handlers_system import (
    alive,
    logs_persistent,
    logs_ram,
    logs_rawdump,
    ota_check,
    ota_start,
    reboot,
    selftest,
    system_info,
    system_led,
    timezones,
    wifi_scan,
)

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
